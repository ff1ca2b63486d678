/* SPDX-License-Identifier: MIT */
#ifndef ISIM_VERIFY_CMD_H
#define ISIM_VERIFY_CMD_H

/* The whole isim-verify command, callable in-process by tests. */
int isim_verify_main(int argc, char *argv[]);

/* Its subcommands, called with argv[0] the subcommand's name. */
int verify_file_main(int argc, char *argv[]);

#endif
