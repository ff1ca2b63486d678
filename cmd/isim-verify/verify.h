/* SPDX-License-Identifier: MIT */
#ifndef ISIM_VERIFY_CMD_H
#define ISIM_VERIFY_CMD_H

#include <stdio.h>

/* The whole isim-verify command, callable in-process by tests. */
int isim_verify_main(int argc, char *argv[]);

/* Its subcommands, called with argv[0] the subcommand's name. */
int verify_file_main(int argc, char *argv[]);
int verify_descriptor_main(int argc, char *argv[]);
int verify_dsse_main(int argc, char *argv[]);
int verify_provenance_main(int argc, char *argv[]);
int verify_appliance_main(int argc, char *argv[]);

/* Their --help texts. */
void verify_file_usage(FILE *f);
void verify_descriptor_usage(FILE *f);
void verify_dsse_usage(FILE *f);
void verify_provenance_usage(FILE *f);
void verify_appliance_usage(FILE *f);

#endif
