/* SPDX-License-Identifier: MIT */
#ifndef ISIM_COMPOSE_CMD_H
#define ISIM_COMPOSE_CMD_H

#include <stdio.h>

/* The whole isim-compose command, callable in-process by tests. */
int isim_compose_main(int argc, char *argv[]);
/* Its one command, with the tool's own argv, and its --help. */
int compose_main(int argc, char *argv[]);
void compose_usage(FILE *f);

#endif
