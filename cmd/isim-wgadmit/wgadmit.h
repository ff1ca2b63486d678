/* SPDX-License-Identifier: MIT */
#ifndef ISIM_WGADMIT_H
#define ISIM_WGADMIT_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <sqlite3.h>

#include "isim/error.h"
#include "isim/prefix.h"
#include "isim/wg.h"

/* The whole isim-wgadmit command, callable in-process by tests. */
int isim_wgadmit_main(int argc, char *argv[]);

int wa_admit_main(int argc, char *argv[]);
int wa_show_main(int argc, char *argv[]);
int wa_sweep_main(int argc, char *argv[]);
int wa_remove_main(int argc, char *argv[]);
void wa_admit_usage(FILE *f);
void wa_show_usage(FILE *f);
void wa_sweep_usage(FILE *f);
void wa_remove_usage(FILE *f);

/* ---- what the commands share: the device, the state, the options ---- */

#define WA_STATE_DIR_DEFAULT "/var/lib/infrasim"
#define WA_DB_NAME "wgadmit.db"
#define WA_LOCK_NAME "wgadmit.lock"

enum {
	WA_OPT_DEV = 0x1100,
	WA_OPT_UAPI_DIR,
	WA_OPT_STATE_DIR,
	WA_OPT_LOCAL,
};

/* clang-format off */
#define WA_LONGOPTS \
	{ "dev", required_argument, NULL, WA_OPT_DEV }, \
	{ "uapi-dir", required_argument, NULL, WA_OPT_UAPI_DIR }, \
	{ "state-dir", required_argument, NULL, WA_OPT_STATE_DIR }
#define WA_USAGE_COMMON \
	"      --dev DEV          the WireGuard device (required)\n" \
	"      --uapi-dir DIR     where DEV.sock is (ISIM_WG_UAPI_DIR; default\n" \
	"                         " ISIM_WG_UAPI_DIR ", else the kernel's netlink)\n" \
	"      --state-dir DIR    where " WA_DB_NAME " is (ISIM_STATE_DIR; default\n" \
	"                         " WA_STATE_DIR_DEFAULT ")\n"
/* clang-format on */

struct wa_opts {
	const char *dev, *uapi_dir, *state_dir;
};

/* For getopt's c among WA_LONGOPTS: 1 taken, 0 not one of them, or
 * ISIM_EXIT_USAGE. */
int wa_option(const char *prog, void *opts, int c, const char *arg);
/* isim_getopt, with the options of WA_LONGOPTS taken into o: the next
 * other option, -1 after the last, or ISIM_GETOPT_EXIT (g->rc). */
struct isim_getopt;
int wa_getopt(struct isim_getopt *g, struct wa_opts *o, int argc, char *argv[]);
/* After the options: --dev given. 0 or ISIM_EXIT_USAGE. */
int wa_options_finish(const char *prog, const struct wa_opts *o);

enum wa_state {
	WA_NARROW = 1,
	WA_ADMITTED
};

/* A node as the state holds it: what it has on the device, and why. */
struct wa_node {
	char node_id[64];
	uint8_t key[ISIM_WG_KEY_LEN];
	enum wa_state state;
	struct isim_prefix *allowed; /* the grant on the device */
	size_t nallowed;
	char digest[65]; /* SHA-256 of the descriptor's RFC 8785 form */
	char key_id[17]; /* its signer's, "" while narrow */
	char *signer;	 /* the signer's .pub file, or NULL */
	int64_t issued_at, expires_at, admitted_at;
	bool gone; /* removed in this run */
};

/* The statements run once a node (state.c), kept prepared for the run. */
enum {
	WA_STMT_PUT,
	WA_STMT_PENDING,
	WA_STMT_DECIDE,
	WA_STMT_DESCRIPTOR,
	WA_NSTMTS
};

struct wa_ctx {
	const char *prog;
	char dev[ISIM_WG_IFNAMSIZ];
	struct isim_wg *wg;
	struct isim_wg_device *device; /* as read at open */
	sqlite3 *db;
	sqlite3_stmt *stmts[WA_NSTMTS]; /* prepared on first use (state.c) */
	struct wa_node *nodes;		/* this device's rows */
	size_t nnodes, capnodes;
	size_t *by_id, *by_key, hcap, hused; /* their index (state.c) */
	int lock_fd;			     /* the state's lock, held until wa_close; -1 none */
};

/* Open the device and the state (creating it when create), load the
 * device's rows, and reconcile them with the device: what an earlier run
 * killed between the two left behind is undone (the device says what is
 * configured, the state why). 0 or an exit code, said on stderr. */
int wa_open(struct wa_ctx *c, const char *prog, const struct wa_opts *o, bool create, bool reconcile);
void wa_close(struct wa_ctx *c);

struct wa_node *wa_node_by_id(const struct wa_ctx *c, const char *node_id);
struct wa_node *wa_node_by_key(const struct wa_ctx *c, const uint8_t key[static ISIM_WG_KEY_LEN]);
/* A new row at the end (NULL: out of memory); once its node_id and key
 * are set (or changed), wa_node_index makes it found (-1: out of memory). */
struct wa_node *wa_node_add(struct wa_ctx *c);
int wa_node_index(struct wa_ctx *c, const struct wa_node *n);
void wa_node_clear(struct wa_node *n);

/* Write n (insert or replace), delete a row, record a decision: inside a
 * transaction the caller opened. 0 or -1 with err. */
int wa_db_put(struct wa_ctx *c, const struct wa_node *n, const char *descriptor, struct isim_error *err);
int wa_db_delete(struct wa_ctx *c, const char *node_id, struct isim_error *err);
int wa_db_decide(struct wa_ctx *c, const char *node_id, const uint8_t *key, const char *decision, const char *reason,
		 const char *digest, struct isim_error *err);
int wa_db_pending(struct wa_ctx *c, const uint8_t key[static ISIM_WG_KEY_LEN], const char *node_id,
		  struct isim_error *err);
/* The descriptor (RFC 8785 text) that admitted node_id: *out, NULL when
 * there is no such row. */
int wa_db_descriptor(struct wa_ctx *c, const char *node_id, char **out, struct isim_error *err);
/* Verifying is most of the work of admit and sweep (an Ed25519 signature
 * over the RFC 8785 form): fn(arg, i, err) for every i below n, on two
 * threads, one taking the even i and one the odd, when n is 8 or more.
 * fn returns 0, or -1 with err, which ends its thread's share. 0, or -1
 * with the first failure's err. */
int wa_parallel(size_t n, int (*fn)(void *arg, size_t i, struct isim_error *err), void *arg, struct isim_error *err);
int wa_db_clear_pending(struct wa_ctx *c, struct isim_error *err);

/* Prefixes as JSON strings into an array. */
struct cJSON;
struct cJSON *wa_prefixes_json(const struct isim_prefix *p, size_t n);
/* RFC 3339 text of t, or NULL for 0. */
struct cJSON *wa_time_json(int64_t t);
/* --at's TIME: RFC 3339 or @SECONDS. */
int wa_parse_at(const char *s, time_t *out);
/* Apply changes to the device, saying what failed. 0 or an exit code. */
int wa_apply(struct wa_ctx *c, const struct isim_wg_peer *changes, size_t n);
/* The same in two halves (isim_wg_set_begin, _end): work between them
 * overlaps the device's, and another change may be queued behind. */
int wa_apply_begin(struct wa_ctx *c, const struct isim_wg_peer *changes, size_t n, int *ticket);
int wa_apply_end(struct wa_ctx *c, int ticket);
/* Put the word a script matches before a verifier's reason ("signature",
 * "untrusted", "revoked", "expired", "not yet valid", "unsigned", else
 * "refused"): "WORD: reason". */
void wa_reason_word(char *reason, size_t size);
/* Print one JSON line and flush: 0 or ISIM_EXIT_IOERR. */
int wa_print_line(const char *prog, struct cJSON *obj);

#endif
