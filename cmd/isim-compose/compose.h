/* SPDX-License-Identifier: MIT */
#ifndef ISIM_COMPOSE_CMD_H
#define ISIM_COMPOSE_CMD_H

/* The whole isim-compose command, callable in-process by tests. */
int isim_compose_main(int argc, char *argv[]);

#endif
