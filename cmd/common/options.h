/* SPDX-License-Identifier: MIT */
#ifndef ISIM_CLI_OPTIONS_H
#define ISIM_CLI_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Options more than one tool takes, spelled and checked in one place:
 * the signing key and its password, and the folders. getopt_long codes
 * for those without a short letter; a command's own start at
 * ISIM_OPT_LOCAL. */
enum {
	ISIM_OPT_PASSWORD_FD = 0x1000,
	ISIM_OPT_FEATURES_DIR,
	ISIM_OPT_PROFILES_DIR,
	ISIM_OPT_SCHEMAS_DIR,
	ISIM_OPT_BASES_DIR,
	ISIM_OPT_CACHE_DIR,
	ISIM_OPT_LOCAL = 0x1100,
};

/* clang-format off */
/* -k, --sign-key KEY (--key is the same), --password-fd N. */
#define ISIM_LONGOPTS_KEY \
	{ "sign-key", required_argument, NULL, 'k' }, \
	{ "key", required_argument, NULL, 'k' }, \
	{ "password-fd", required_argument, NULL, ISIM_OPT_PASSWORD_FD }
/* --features-dir, --profiles-dir, --schemas-dir DIR. */
#define ISIM_LONGOPTS_CATALOG \
	{ "features-dir", required_argument, NULL, ISIM_OPT_FEATURES_DIR }, \
	{ "profiles-dir", required_argument, NULL, ISIM_OPT_PROFILES_DIR }, \
	{ "schemas-dir", required_argument, NULL, ISIM_OPT_SCHEMAS_DIR }
/* -d, --trust DIR, -p, --pub KEY.pub. */
#define ISIM_LONGOPTS_TRUST \
	{ "trust", required_argument, NULL, 'd' }, \
	{ "pub", required_argument, NULL, 'p' }
/* -h, --help and -V, --version, which isim_getopt answers (cli.h). */
#define ISIM_LONGOPT_HELP \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, 'V' }
/* clang-format on */

/* The key a command signs with. */
struct isim_key_opt {
	const char *path; /* -k, else $ISIM_SIGN_KEY after isim_key_finish */
	int password_fd;  /* --password-fd, else -1: the terminal */
	bool fd_given;
};

/* clang-format off */
#define ISIM_KEY_OPT_INIT { .path = NULL, .password_fd = -1, .fd_given = false }
/* clang-format on */

/* getopt's c and optarg, when c is 'k' or ISIM_OPT_PASSWORD_FD: 0, or
 * ISIM_EXIT_USAGE after saying what is wrong (given twice, not a
 * descriptor number). */
int isim_key_option(const char *prog, struct isim_key_opt *k, int c, const char *arg);
/* After the options: the key from ISIM_SIGN_KEY when -k was not given.
 * Without any key, with required, or with --password-fd, a usage error.
 * Returns 0 or ISIM_EXIT_USAGE. */
int isim_key_finish(const char *prog, struct isim_key_opt *k, bool required);

/* Whom a check trusts: the trusted signers folder, or one public key. */
struct isim_trust_opt {
	const char *dir; /* -d, --trust DIR */
	const char *pub; /* -p, --pub KEY.pub */
};

struct isim_trust;
struct isim_error;

/* For getopt's c 'd' or 'p': 0, or ISIM_EXIT_USAGE when given twice. */
int isim_trust_option(const char *prog, struct isim_trust_opt *o, int c, const char *arg);
/* After the options: 0, or ISIM_EXIT_USAGE when both were given. */
int isim_trust_finish(const char *prog, const struct isim_trust_opt *o);
/* The trusted signers: --pub's key alone, else the folder --trust names,
 * $ISIM_TRUST_DIR or the installed one (paths.h). 0, or -1 with err. */
int isim_trust_opt_open(const struct isim_trust_opt *o, struct isim_trust **out, struct isim_error *err);

/* Folders, as given; NULL where not (paths are resolved elsewhere). */
struct isim_dir_opts {
	const char *out;      /* -o, --out DIR */
	const char *features; /* --features-dir */
	const char *profiles; /* --profiles-dir */
	const char *schemas;  /* --schemas-dir */
	const char *bases;    /* --bases-dir */
	const char *cache;    /* --cache (--cache-dir) */
};

/* For getopt's c of a folder option ('o' or ISIM_OPT_*_DIR): 0, or
 * ISIM_EXIT_USAGE when given twice. */
int isim_dir_option(const char *prog, struct isim_dir_opts *d, int c, const char *arg);

/* A decimal number from lo to hi, the whole string: the value of
 * options such as --memory or --timeout. */
bool isim_parse_long(const char *s, long lo, long hi, long *out);

/* A --at TIME: RFC 3339 ("2026-01-01T00:00:00Z"; a fraction is dropped),
 * or @SECONDS since the epoch with up to three decimals ("@1767225600.25"),
 * into milliseconds since the epoch. */
bool isim_parse_at_ms(const char *s, int64_t *ms);

/* A command's options, read with getopt_long, and what every command does
 * with them the same way: -h (--help) prints its usage on stdout, -V
 * (--version) the tool's version, and an unknown option or a missing value
 * is the one-line usage error. Put 'h' and 'V' in shortopts and
 * ISIM_LONGOPT_HELP (options.h) in longopts. */
struct isim_getopt {
	const char *prog; /* as messages name it: "isim-sign sign" */
	const char *shortopts;
	const struct option *longopts;
	void (*usage)(FILE *f);
	void (*usage_as)(FILE *f, const char *prog); /* instead, for a usage naming prog */
	/* The shared options (options.h) the command takes, read here: -k and
	 * --password-fd into key, --trust and --pub into trust, -o and the
	 * folder options into dirs. NULL: the command takes none. */
	struct isim_key_opt *key;
	struct isim_trust_opt *trust;
	struct isim_dir_opts *dirs;
	int rc; /* the exit code, once isim_getopt returned ISIM_GETOPT_EXIT */
	bool begun;
};

/* isim_getopt's answer when the command is done: return g->rc. */
#define ISIM_GETOPT_EXIT (-2)

/* For a tool whose commands share options of their own: takes getopt's c
 * and its value, and returns 1 when it took it, 0 when c is not one of
 * them, or ISIM_EXIT_USAGE once it said what is wrong. */
typedef int (*isim_shared_option_fn)(const char *prog, void *opts, int c, const char *arg);
/* isim_getopt, with the options take takes kept from the command: the
 * next other option, -1 after the last, or ISIM_GETOPT_EXIT (g->rc). */
int isim_getopt_shared(struct isim_getopt *g, isim_shared_option_fn take, void *opts, int argc, char *argv[]);

/* The next option as getopt_long returns it (-1 after the last), or
 * ISIM_GETOPT_EXIT once help, the version or a usage error was printed.
 * Starts afresh at a new struct, so commands can run one after another. */
int isim_getopt(struct isim_getopt *g, int argc, char *argv[]);

#endif
