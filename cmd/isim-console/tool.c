/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <sodium.h>

#include "common/cli.h"
#include "common/options.h"
#include "common/secret.h"
#include "console.h"
#include "isim/file.h"

/* The seed's thirteen endpoints under /api/meshnet, and the actions on a
 * peer and the logout the page needs. ":id" is a decimal row id. */
static const struct route {
	const char *method, *path;
	con_handler fn;
	bool auth;
} routes[] = {
	{ "POST", "/auth/register/options", con_register_options, false },
	{ "POST", "/auth/register/verify", con_register_verify, false },
	{ "POST", "/auth/login/options", con_login_options, false },
	{ "POST", "/auth/login/verify", con_login_verify, false },
	{ "POST", "/auth/logout", con_logout, true },
	{ "GET", "/me", con_me, true },
	{ "POST", "/identity", con_identity_create, true },
	{ "POST", "/identity/provision", con_identity_provision, true },
	{ "GET", "/mesh/peers", con_peers_list, true },
	{ "POST", "/mesh/peers", con_peers_create, true },
	{ "GET", "/mesh/peers/:id/config", con_peer_config, true },
	{ "POST", "/mesh/peers/:id/rotate", con_peer_rotate, true },
	{ "DELETE", "/mesh/peers/:id", con_peer_delete, true },
	{ "GET", "/appliances", con_appliances_list, true },
	{ "POST", "/appliances", con_appliances_create, true },
	{ "GET", "/appliances/:id/archive", con_appliance_archive, true },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: " CON_PROG " (run by a web server, CGI/1.1)\n"
		   "       " CON_PROG " --help | --version\n"
		   "\n"
		   "The meshnet console's API under /api/meshnet: passkey login (isim-passkey),\n"
		   "identity and its provisioning hooks, mesh peers (isim-sign, isim-wgadmit),\n"
		   "and appliances (isim-vm). Configured by the environment; scripts/console-up\n"
		   "serves it with lighttpd. See isim-console(8).\n");
}

/* A route's path matches: 1 (and *id for ":id"), 0 not. */
static int path_match(const char *pattern, const char *path, int64_t *id)
{
	while (*pattern && *path) {
		if (!strncmp(pattern, ":id", 3)) {
			char *end;
			long long v;

			if (*path < '1' || *path > '9')
				return 0;
			errno = 0;
			v = strtoll(path, &end, 10);
			if (errno || end - path > 15)
				return 0;
			*id = v;
			path = end;
			pattern += 3;
			continue;
		}
		if (*pattern++ != *path++)
			return 0;
	}
	return !*pattern && !*path;
}

static long env_long(const char *name, long dflt, long lo, long hi)
{
	const char *s = getenv(name);
	long v;

	if (!s || !*s)
		return dflt;
	if (!isim_parse_long(s, lo, hi, &v)) {
		fprintf(stderr, CON_PROG ": %s='%.32s' is not a number from %ld to %ld; using %ld\n", name, s, lo, hi,
			dflt);
		return dflt;
	}
	return v;
}

static const char *env_or(const char *name, const char *dflt)
{
	const char *s = getenv(name);

	return s && *s ? s : dflt;
}

static void config(struct con_cfg *g)
{
	g->state_dir = env_or("ISIM_STATE_DIR", "/var/lib/infrasim");
	g->rp_id = env_or("WEBAUTHN_RP_ID", NULL);
	g->origin = env_or("WEBAUTHN_RP_ORIGIN", NULL);
	g->base_domain = env_or("BASE_DOMAIN", "localhost");
	g->matrix_domain = env_or("MATRIX_DOMAIN", g->base_domain);
	g->gateway = env_or("WG_GATEWAY_ENDPOINT", NULL);
	g->wg_dev = env_or("CONSOLE_WG_DEV", NULL);
	g->mesh_cidr = env_or("CONSOLE_MESH_CIDR", "10.100.0.0/16");
	g->sign_key = env_or("CONSOLE_SIGN_KEY", NULL);
	g->provision_dir = env_or("CONSOLE_PROVISION_DIR", "/etc/infrasim/provision.d");
	g->templates_dir = env_or("CONSOLE_TEMPLATES_DIR", NULL);
	g->hook_timeout = env_long("CONSOLE_HOOK_TIMEOUT", 60, 1, 3600);
	g->rate_limit = env_long("CONSOLE_RATE_LIMIT", 30, 1, 1000000);
	g->body_max = env_long("CONSOLE_MAX_BODY", CON_BODY_MAX_DEFAULT, 1024, 16l << 20);
}

/* Section 4.1.2 of RFC 3875: exactly CONTENT_LENGTH bytes. 0, or -1
 * after a response. */
static int read_body(struct con *c)
{
	const char *cl = getenv("CONTENT_LENGTH");
	long n = 0;
	size_t off = 0;

	if (cl && *cl && !isim_parse_long(cl, 0, 1l << 40, &n))
		return con_error(c, 400, "bad_request", NULL, "CONTENT_LENGTH '%.32s' is not a length.", cl), -1;
	if (n > c->cfg.body_max)
		return con_error(c, 413, "too_large", NULL, "The request body is %ld bytes; at most %ld are taken.", n,
				 c->cfg.body_max),
		       -1;
	c->req.body = malloc((size_t)n + 1);
	if (!c->req.body)
		return con_error(c, 500, "internal", NULL, "Out of memory."), -1;
	while (off < (size_t)n) {
		ssize_t r = con_read(c, c->req.body + off, (size_t)n - off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return con_error(c, 400, "bad_request", NULL, "The request body ended after %zu of %ld bytes.",
					 off, n),
			       -1;
		off += (size_t)r;
	}
	c->req.body[off] = '\0';
	c->req.body_len = off;
	return 0;
}

/* Cross-site requests are refused (a CSRF defence beside SameSite=Strict):
 * a request that changes anything must carry the console's own Origin
 * (Fetch's rule: browsers send it on every POST and DELETE), and one that
 * carries another is refused whatever its method. */
static int check_origin(struct con *c)
{
	const char *site = getenv("HTTP_SEC_FETCH_SITE");
	bool reads = !strcmp(c->req.method, "GET") || !strcmp(c->req.method, "HEAD");

	if (c->req.origin && strcmp(c->req.origin, c->cfg.origin))
		return con_error(c, 403, "origin", NULL, "Requests from %.100s are refused; this console is %s.",
				 c->req.origin, c->cfg.origin),
		       -1;
	if (site && !strcmp(site, "cross-site"))
		return con_error(c, 403, "origin", NULL, "A cross-site request is refused."), -1;
	if (!reads && !c->req.origin)
		return con_error(c, 403, "origin", NULL, "A %s without an Origin header is refused.", c->req.method),
		       -1;
	return 0;
}

/* The Cookie header, out of the environment (serve). */
static char *cookie;

static int serve(struct con *c)
{
	const struct route *r = NULL;
	struct isim_error err;
	bool path_known = false;
	char allow[64] = "";
	size_t i;

	isim_error_clear(&err);
	config(&c->cfg);
	c->now = (int64_t)time(NULL);
	c->req.method = env_or("REQUEST_METHOD", "");
	c->req.path = env_or("PATH_INFO", "");
	c->req.query = env_or("QUERY_STRING", "");
	c->req.origin = env_or("HTTP_ORIGIN", NULL);
	c->req.remote = env_or("REMOTE_ADDR", "-");
	c->req.content_type = env_or("CONTENT_TYPE", NULL);
	/* The session's token is the user's alone: the tools and hooks the
	 * request runs inherit the environment, so it is taken out of it. */
	if (getenv("HTTP_COOKIE")) {
		cookie = strdup(getenv("HTTP_COOKIE"));
		if (!cookie)
			return con_error(c, 500, "internal", NULL, "Out of memory.");
		c->req.cookie = cookie;
		unsetenv("HTTP_COOKIE");
	}
	if (!c->cfg.rp_id || !c->cfg.origin) {
		fprintf(stderr, CON_PROG ": WEBAUTHN_RP_ID and WEBAUTHN_RP_ORIGIN must be set\n");
		return con_error(c, 500, "configuration", NULL, "The console is not configured.");
	}
	/* Mapped at /api (PATH_INFO /meshnet/...) or at /api/meshnet. */
	{
		const char *sn = env_or("SCRIPT_NAME", "");
		size_t sl = strlen(sn), pl = strlen(CON_API_PREFIX);

		if (!strncmp(c->req.path, CON_API_PREFIX "/", pl + 1))
			c->req.path += pl;
		else if (sl < pl || strcmp(sn + sl - pl, CON_API_PREFIX))
			return con_error(c, 404, "not_found", NULL, "No such endpoint.");
	}
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		int64_t id = 0;

		if (!path_match(routes[i].path, c->req.path, &id))
			continue;
		path_known = true;
		snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow), "%s%s", *allow ? ", " : "",
			 routes[i].method);
		if (!strcmp(routes[i].method, c->req.method)) {
			r = &routes[i];
			c->req.id = id;
			break;
		}
	}
	if (!r && !path_known)
		return con_error(c, 404, "not_found", NULL, "No such endpoint.");
	if (!r) {
		char h[96];

		snprintf(h, sizeof(h), "Allow: %s\r\n", allow);
		con_respond(c, 405, "application/json", h,
			    "{\"ok\":false,\"reason\":\"method\",\"message\":\"Method not allowed.\"}", 62);
		return 0;
	}
	if (check_origin(c) < 0 || read_body(c) < 0)
		return 0;
	if (con_state_open(c, &err) < 0 || con_session_load(c, &err) < 0)
		return con_fail(c, &err);
	if (r->auth && !c->s.valid)
		return con_error(c, 401, "session", NULL, "Sign in first.");
	return r->fn(c);
}

/* One request, then everything it held given back. */
static void serve_one(struct con *c)
{
	serve(c);
	if (!c->responded)
		con_error(c, 500, "internal", NULL, "No response was made.");
	con_wipe_output(c);
	con_state_close(c);
	cJSON_Delete(c->req.json);
	free(c->req.body);
	if (cookie)
		sodium_memzero(cookie, strlen(cookie));
	free(cookie);
	cookie = NULL;
}

extern char **environ;

/* Under FastCGI (lighttpd's mod_fastcgi starts the program with a
 * listening socket on its stdin): one process answers request after
 * request, sparing each the program's start. The request's parameters
 * are its environment, ahead of the process's own (the configuration
 * the server gave it). */
static int fastcgi(void)
{
	char **base = environ, **env = NULL;
	FCGX_Request req;
	size_t nb = 0;

	for (nb = 0; base[nb]; nb++)
		;
	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0) {
		fprintf(stderr, CON_PROG ": FastCGI cannot start\n");
		return ISIM_EXIT_SOFTWARE;
	}
	while (FCGX_Accept_r(&req) >= 0) {
		struct con c = { 0 };
		size_t nr, i;

		for (nr = 0; req.envp[nr]; nr++)
			;
		env = calloc(nr + nb + 1, sizeof(*env));
		if (env) {
			for (i = 0; i < nr; i++)
				env[i] = req.envp[i];
			for (i = 0; i < nb; i++)
				env[nr + i] = base[i];
			environ = env;
			c.fcgi = &req;
			serve_one(&c);
		}
		environ = base;
		free(env);
		/* The request's parameters are libfcgi's strings, freed by
		 * it unwiped: the cookie (the session's token) is wiped here. */
		for (i = 0; i < nr; i++) {
			if (!strncmp(req.envp[i], "HTTP_COOKIE=", 12))
				sodium_memzero(req.envp[i], strlen(req.envp[i]));
		}
		con_release_term();
		FCGX_Finish_r(&req);
	}
	return 0;
}

int isim_console_main(int argc, char *argv[])
{
	struct con c = { 0 };
	struct isim_error err;
	int rc = 0;

	if (argc > 1) {
		if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
			usage(stdout);
			return isim_close_stdout(CON_PROG);
		}
		if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
			return isim_print_version(CON_PROG);
		if (argv[1][0] == '-')
			return isim_usage_error(CON_PROG, "bad option '%.64s' (unknown, or missing its value)",
						argv[1]);
		return isim_usage_error(CON_PROG, "unexpected argument '%.64s' (a web server runs this)", argv[1]);
	}
	if (sodium_init() < 0) {
		fprintf(stderr, CON_PROG ": libsodium cannot start\n");
		return ISIM_EXIT_SOFTWARE;
	}
	/* Sessions' tokens and peers' private keys pass through: no core
	 * file, and no other process of the server's user reads them. */
	isim_error_clear(&err);
	if (isim_secret_protect(&err) < 0)
		return isim_fail(CON_PROG, &err);
	if (!FCGX_IsCGI())
		return fastcgi();
	if (!getenv("GATEWAY_INTERFACE")) {
		fprintf(stderr, CON_PROG ": not run by a web server (no GATEWAY_INTERFACE); see --help\n");
		return ISIM_EXIT_USAGE;
	}
	con_use_stdout_buffer();
	serve_one(&c);
	if (fflush(stdout) == EOF || ferror(stdout))
		rc = ISIM_EXIT_IOERR;
	return rc;
}
