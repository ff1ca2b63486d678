/* SPDX-License-Identifier: MIT */
#ifndef ISIM_SIGN_CMD_H
#define ISIM_SIGN_CMD_H

#include <stdio.h>

/* The whole isim-sign command, callable in-process by tests. */
int isim_sign_main(int argc, char *argv[]);

/* Its subcommands, called with argv[0] the subcommand's name ("sign" is
 * also called with the tool's own argv when no subcommand is named). */
int sign_keygen_main(int argc, char *argv[]);
int sign_files_main(int argc, char *argv[]);
int sign_descriptor_main(int argc, char *argv[]);
int sign_dsse_main(int argc, char *argv[]);

/* Their --help texts. */
void sign_keygen_usage(FILE *f);
void sign_files_usage(FILE *f);
void sign_descriptor_usage(FILE *f);
void sign_dsse_usage(FILE *f);

#endif
