/* SPDX-License-Identifier: MIT */
#ifndef ISIM_CONSOLE_H
#define ISIM_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "isim/buf.h"
#include "isim/error.h"
#include "isim/hash.h"

/* The whole CGI program, callable in-process by tests: a request from the
 * CGI/1.1 environment (RFC 3875) and stdin, a response on stdout. Run from
 * a terminal with --help or --version it says what it is. */
int isim_console_main(int argc, char *argv[]);

#define CON_PROG "isim-console.cgi"
#define CON_API_PREFIX "/meshnet"
#define CON_DB_NAME "console.db"
#define CON_COOKIE "isim_session"
#define CON_BODY_MAX_DEFAULT (64u << 10)
/* A download of a private key wants a user-verified login this recent. */
#define CON_STEP_UP_SECONDS 300
#define CON_TOKEN_BYTES 32

/* What the environment configures (isim-console(8), ENVIRONMENT). */
struct con_cfg {
	const char *state_dir;	   /* ISIM_STATE_DIR, default /var/lib/infrasim */
	const char *rp_id;	   /* WEBAUTHN_RP_ID */
	const char *origin;	   /* WEBAUTHN_RP_ORIGIN */
	const char *base_domain;   /* BASE_DOMAIN */
	const char *matrix_domain; /* MATRIX_DOMAIN */
	const char *gateway;	   /* WG_GATEWAY_ENDPOINT */
	const char *wg_dev;	   /* CONSOLE_WG_DEV */
	const char *mesh_cidr;	   /* CONSOLE_MESH_CIDR */
	const char *sign_key;	   /* CONSOLE_SIGN_KEY: the control plane's minisign key */
	const char *provision_dir; /* CONSOLE_PROVISION_DIR */
	const char *templates_dir; /* CONSOLE_TEMPLATES_DIR: isim-vm's templates */
	long hook_timeout;	   /* CONSOLE_HOOK_TIMEOUT, seconds */
	long rate_limit;	   /* CONSOLE_RATE_LIMIT: auth requests a minute per address */
	long body_max;		   /* CONSOLE_MAX_BODY, bytes */
};

/* The request, as the server handed it over. */
struct con_req {
	const char *method;
	const char *path; /* PATH_INFO after /meshnet */
	const char *query;
	const char *origin;
	const char *remote;
	const char *content_type;
	const char *cookie;
	char *body;
	size_t body_len;
	cJSON *json; /* the body, for a request that has one */
	int64_t id;  /* the :id of the route, or 0 */
};

/* The session the cookie names, when valid. */
struct con_session {
	bool valid;
	int64_t user_id;
	char user[128];
	char display[128];
	uint8_t token_sha256[ISIM_SHA256_BYTES];
	int64_t created_at, expires_at;
	bool user_verified; /* the login that opened it verified the user */
};

struct sqlite3;
struct FCGX_Request;

struct con {
	struct FCGX_Request *fcgi; /* the request under FastCGI, NULL as a CGI */
	struct con_cfg cfg;
	struct con_req req;
	struct con_session s;
	struct sqlite3 *db; /* console.db */
	struct sqlite3 *pk; /* passkey.db, opened when needed */
	int64_t now;
	bool responded;
	char sign_pub[48]; /* the control plane's Ed25519 key, base64 (mesh_ready) */
};

/* A route's handler: it responds (con_json, con_error...) and returns 0, or
 * returns -1 after a response of status 500 was sent. */
typedef int (*con_handler)(struct con *c);

/* ---- responses (http.c) ---- */

/* The response's and the request's bytes: stdout and stdin as a CGI
 * program, the request's streams under FastCGI. */
int con_write(struct con *c, const void *p, size_t n);
ssize_t con_read(struct con *c, void *p, size_t n);
void con_flush(struct con *c);
/* Under CGI, stdout buffered in memory of ours (before any output). */
void con_use_stdout_buffer(void);
/* After the response: flushed, and the buffer it went through wiped (it
 * may have held a private key or a session's token); libfcgi's and
 * stdio's buffers are otherwise freed, or kept, as they were. */
void con_wipe_output(struct con *c);

/* Status line and headers (security headers always), the body as is. */
void con_respond(struct con *c, int status, const char *type, const char *extra_headers, const void *body, size_t len);
/* Only the status line and headers, for a body the caller writes. */
void con_respond_head(struct con *c, int status, const char *type, size_t len, const char *extra_headers);
/* A JSON document (freed). */
int con_json(struct con *c, int status, cJSON *doc, const char *extra_headers);
/* {"ok": false, "reason", "message", "field"?}: field a JSON pointer into
 * the request body, or NULL. Returns 0, or -1 when status is 500. */
int con_error(struct con *c, int status, const char *reason, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* 500 with what failed said on stderr (the server's error log). */
int con_fail(struct con *c, const struct isim_error *err);
const char *con_status_text(int status);

/* ---- the request's body ---- */

/* The body as a JSON object: 1 and c->req.json, 0 after a 400 response. */
int con_body_object(struct con *c);
/* Members of the body: a string of 1..max bytes (NULL when absent and
 * optional); 0 after a 400 response naming the member. */
int con_member_string(struct con *c, const char *name, size_t max, bool required, const char **out);
/* Refuse members other than those named (NULL-terminated): 0 after a 400. */
int con_members_only(struct con *c, const char *const *names);
/* s is min to max bytes of a-z, 0-9, A-Z when upper, and the characters
 * of extra: the console's names (users, handles, peers, templates). */
bool con_name_ok(const char *s, size_t min, size_t max, bool upper, const char *extra);
/* qsort's comparison of two char *. */
int con_strcmp_ptr(const void *a, const void *b);
/* The value of name in the query string (URL-decoded into buf), or NULL. */
const char *con_query(const struct con *c, const char *name, char *buf, size_t size);

/* ---- state (state.c) ---- */

int con_state_open(struct con *c, struct isim_error *err);
void con_state_close(struct con *c);
/* The session the cookie names, in c->s (valid or not): 0, or -1 with err
 * when the state cannot be read. */
int con_session_load(struct con *c, struct isim_error *err);
/* End the session the cookie names (logout, step-up): 0 or -1 with err. */
int con_session_revoke(struct con *c, struct isim_error *err);
/* A statement on passkey.db (read only, but for con_session_revoke). */
struct sqlite3_stmt;
int con_pk_query(struct con *c, const char *sql, struct sqlite3_stmt **q, struct isim_error *err);
/* Count one request of the client's address this minute: true when within
 * the limit. */
bool con_rate_take(struct con *c, const char *what);
/* An audit log entry (kind "console") for a change: {action, user,
 * session (its SHA-256, hex), ok, detail...}; detail is taken (freed).
 * Failures are said on stderr, the change stands. */
void con_audit(struct con *c, const char *action, bool ok, cJSON *detail);
/* The hex SHA-256 of the session's token, for records. */
void con_session_hex(const struct con *c, char out[static 2 * ISIM_SHA256_BYTES + 1]);

/* ---- running the other tools ---- */

/* Before a response that work follows: lighttpd sends SIGTERM to a CGI as
 * soon as its response is complete, so the signal is held off from then on
 * (the worker gets the old mask back). */
void con_hold_term(void);
/* Work after the response: 1 in the request's process (go on and return),
 * 0 in a detached worker with the state opened anew (do the work, then
 * _exit), -1 when it cannot start (said). */
int con_detach(struct con *c);
/* The end of a request: SIGTERM as it was before con_hold_term. */
void con_release_term(void);

/* argv with stdin in (may be NULL); stdout into out. 0 when it exited 0,
 * else its exit status (>0), or -1 with err when it could not run. */
int con_tool(struct con *c, const char *const *argv, const struct isim_buf *in, struct isim_buf *out,
	     struct isim_error *err);

/* A column of seconds since the epoch as an RFC 3339 member (null). */
void con_add_time(cJSON *o, const char *name, struct sqlite3_stmt *q, int col);

/* ---- handlers ---- */

int con_register_options(struct con *c);
int con_register_verify(struct con *c);
int con_login_options(struct con *c);
int con_login_verify(struct con *c);
int con_logout(struct con *c);
int con_me(struct con *c);
int con_identity_create(struct con *c);
int con_identity_provision(struct con *c);
int con_peers_list(struct con *c);
int con_peers_create(struct con *c);
int con_peer_config(struct con *c);
int con_peer_rotate(struct con *c);
int con_peer_delete(struct con *c);
int con_appliances_list(struct con *c);
int con_appliances_create(struct con *c);
int con_appliance_archive(struct con *c);

/* identity.c, for GET /me: the user's identity and its provisioning, or
 * JSON null; NULL on no memory. */
cJSON *con_identity_json(struct con *c);

#endif
