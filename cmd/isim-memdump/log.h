/* SPDX-License-Identifier: MIT */
#ifndef ISIM_MEMDUMP_LOG_H
#define ISIM_MEMDUMP_LOG_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "common/options.h"
#include "isim/audit.h"

/* The whole isim-memdump command, callable in-process by tests. */
int isim_memdump_main(int argc, char *argv[]);

/* isim-memdump log COMMAND: the audit log (log.c, log_*.c). */
int memdump_log_main(int argc, char *argv[]);
void memdump_log_usage(FILE *f);
int log_list_main(int argc, char *argv[]);
int log_show_main(int argc, char *argv[]);
int log_verify_main(int argc, char *argv[]);
int log_export_main(int argc, char *argv[]);
int log_checkpoint_main(int argc, char *argv[]);
void log_list_usage(FILE *f);
void log_show_usage(FILE *f);
void log_verify_usage(FILE *f);
void log_export_usage(FILE *f);
void log_checkpoint_usage(FILE *f);

/* ---- what the log commands share ---- */

enum {
	LOG_OPT_STATE_DIR = ISIM_OPT_LOCAL,
	LOG_OPT_LOCAL,
};

/* clang-format off */
#define LOG_LONGOPTS \
	{ "state-dir", required_argument, NULL, LOG_OPT_STATE_DIR }
#define LOG_USAGE_STATE \
	"      --state-dir DIR    the log is DIR/" ISIM_AUDIT_DB " (default $ISIM_STATE_DIR,\n" \
	"                         else /var/lib/infrasim)\n"
#define LOG_USAGE_HELP \
	"  -h, --help             this text\n" \
	"  -V, --version          print the version\n"
/* clang-format on */

struct log_opts {
	const char *state_dir;
};

/* An isim_shared_option_fn (options.h) for LOG_LONGOPTS. */
int log_option(const char *prog, void *opts, int c, const char *arg);
/* The log's path into path (and its folder's checkpoint file into anchor,
 * when not NULL): 0 or an exit code said on stderr. */
int log_paths(const char *prog, const struct log_opts *o, char *path, size_t size, char *anchor, size_t asize);
/* Open the log (never creating it: a missing one is 66). */
int log_open(const char *prog, const char *path, struct isim_audit **a);
/* Print doc (formatted, or as one line) on stdout, close stdout, free
 * doc: 0 or an exit code. */
int log_print(const char *prog, cJSON *doc, bool line);
/* A SEQ argument or option value: 1 to 2^53. */
bool log_parse_seq(const char *s, int64_t *out);

#endif
