/* SPDX-License-Identifier: MIT */
/* isim-console.cgi in-process, as a web server runs it (the request in the
 * environment and on stdin): the refusals a request meets before any
 * handler, each with its status, reason and headers, and what they leave
 * behind in the state folder (nothing, before the state is opened). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "isim-console/console.h"
#include "testutil.h"

static const char *const request_vars[] = {
	"GATEWAY_INTERFACE", "REQUEST_METHOD",	   "PATH_INFO",	     "SCRIPT_NAME",	 "QUERY_STRING",
	"HTTP_ORIGIN",	     "HTTP_COOKIE",	   "CONTENT_TYPE",   "CONTENT_LENGTH",	 "HTTP_SEC_FETCH_SITE",
	"WEBAUTHN_RP_ID",    "WEBAUTHN_RP_ORIGIN", "ISIM_STATE_DIR", "CONSOLE_MAX_BODY", "REMOTE_ADDR",
};

static void clear_request(void)
{
	size_t i;

	for (i = 0; i < sizeof(request_vars) / sizeof(request_vars[0]); i++)
		unsetenv(request_vars[i]);
}

static int setup(void **state)
{
	struct tu_where *w = tu_enter_tmpdir();

	clear_request();
	setenv("GATEWAY_INTERFACE", "CGI/1.1", 1);
	setenv("WEBAUTHN_RP_ID", "localhost", 1);
	setenv("WEBAUTHN_RP_ORIGIN", "http://localhost:8080", 1);
	setenv("ISIM_STATE_DIR", tu_path(w->dir, "state"), 1);
	setenv("SCRIPT_NAME", "/api", 1);
	setenv("REMOTE_ADDR", "127.0.0.1", 1);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	clear_request();
	tu_leave_tmpdir(*state);
	return 0;
}

/* One request: method, path (PATH_INFO), body (stdin; NULL none). */
static struct tu_run request(const char *method, const char *path, const char *body)
{
	char *argv[] = { "isim-console.cgi", NULL };
	char len[32];
	struct tu_run r;
	int in;

	setenv("REQUEST_METHOD", method, 1);
	setenv("PATH_INFO", path, 1);
	tu_write(".", "body", body ? body : "");
	snprintf(len, sizeof(len), "%zu", body ? strlen(body) : 0);
	if (body)
		setenv("CONTENT_LENGTH", len, 1);
	else
		unsetenv("CONTENT_LENGTH");
	in = tu_capture_stdin("body");
	r = tu_call(isim_console_main, 1, argv);
	tu_restore_stdin(in);
	return r;
}

static void assert_response(const struct tu_run *r, int status, const char *reason)
{
	char line[64], want[80];

	assert_int_equal(r->code, 0);
	snprintf(line, sizeof(line), "Status: %d ", status);
	assert_memory_equal(r->out, line, strlen(line));
	assert_non_null(strstr(r->out, "\r\nContent-Type: application/json\r\n"));
	assert_non_null(strstr(r->out, "Content-Security-Policy: default-src 'self';"));
	assert_non_null(strstr(r->out, "frame-ancestors 'none'"));
	assert_non_null(strstr(r->out, "X-Content-Type-Options: nosniff\r\n"));
	assert_null(strstr(r->out, "unsafe-inline"));
	snprintf(want, sizeof(want), "\"reason\":\"%s\"", reason);
	assert_non_null(strstr(r->out, want));
}

static bool state_exists(const struct tu_where *w)
{
	struct stat st;

	return stat(tu_path(w->dir, "state"), &st) == 0;
}

static void test_command_line(void **state)
{
	char *help[] = { "isim-console.cgi", "--help", NULL };
	char *bad[] = { "isim-console.cgi", "--bogus", NULL };
	char *none[] = { "isim-console.cgi", NULL };
	struct tu_run r;

	(void)state;
	r = tu_call(isim_console_main, 2, help);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "usage: isim-console.cgi"));
	tu_run_free(&r);
	r = tu_call(isim_console_main, 2, bad);
	assert_int_equal(r.code, 64);
	assert_int_equal(tu_lines(r.err), 1);
	assert_non_null(strstr(r.err, "isim-console.cgi: bad option '--bogus'"));
	tu_run_free(&r);
	unsetenv("GATEWAY_INTERFACE");
	r = tu_call(isim_console_main, 1, none);
	assert_int_equal(r.code, 64);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "not run by a web server"));
	tu_run_free(&r);
}

/* Refused before the state is opened: the state folder is not even made. */
static void test_refused_early(void **state)
{
	struct tu_where *w = *state;
	struct tu_run r;

	r = request("GET", "/meshnet/nope", NULL);
	assert_response(&r, 404, "not_found");
	tu_run_free(&r);

	r = request("DELETE", "/meshnet/me", "{}");
	assert_response(&r, 405, "method");
	assert_non_null(strstr(r.out, "\r\nAllow: GET\r\n"));
	tu_run_free(&r);

	setenv("HTTP_ORIGIN", "http://evil.example", 1);
	setenv("CONTENT_TYPE", "application/json", 1);
	r = request("POST", "/meshnet/identity", "{\"handle\":\"alice\"}");
	assert_response(&r, 403, "origin");
	tu_run_free(&r);
	r = request("GET", "/meshnet/me", NULL);
	assert_response(&r, 403, "origin");
	tu_run_free(&r);

	unsetenv("HTTP_ORIGIN");
	r = request("POST", "/meshnet/auth/login/options", "{}");
	assert_response(&r, 403, "origin");
	tu_run_free(&r);

	setenv("HTTP_ORIGIN", "http://localhost:8080", 1);
	setenv("HTTP_SEC_FETCH_SITE", "cross-site", 1);
	r = request("POST", "/meshnet/auth/login/options", "{}");
	assert_response(&r, 403, "origin");
	tu_run_free(&r);
	unsetenv("HTTP_SEC_FETCH_SITE");

	setenv("CONSOLE_MAX_BODY", "1024", 1);
	{
		char big[1100];

		memset(big, ' ', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		r = request("POST", "/meshnet/auth/login/options", big);
	}
	assert_response(&r, 413, "too_large");
	tu_run_free(&r);
	assert_false(state_exists(w));

	unsetenv("WEBAUTHN_RP_ID");
	r = request("GET", "/meshnet/me", NULL);
	assert_response(&r, 500, "configuration");
	assert_non_null(strstr(r.err, "WEBAUTHN_RP_ID and WEBAUTHN_RP_ORIGIN must be set"));
	tu_run_free(&r);
	assert_false(state_exists(w));
}

/* With the state opened: no session, a cookie that names none, a body that
 * is not a JSON object, the wrong type of body. */
static void test_refused_by_the_state(void **state)
{
	struct tu_where *w = *state;
	struct tu_run r;
	struct stat st;

	r = request("GET", "/meshnet/me", NULL);
	assert_response(&r, 401, "session");
	tu_run_free(&r);
	assert_int_equal(stat(tu_path(w->dir, "state/console.db"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	setenv("HTTP_COOKIE", "a=1; isim_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 1);
	r = request("GET", "/meshnet/mesh/peers", NULL);
	assert_response(&r, 401, "session");
	tu_run_free(&r);
	setenv("HTTP_COOKIE", "isim_session=not-a-token", 1);
	r = request("GET", "/meshnet/appliances", NULL);
	assert_response(&r, 401, "session");
	tu_run_free(&r);
	unsetenv("HTTP_COOKIE");

	setenv("HTTP_ORIGIN", "http://localhost:8080", 1);
	setenv("CONTENT_TYPE", "text/plain", 1);
	r = request("POST", "/meshnet/auth/login/options", "{}");
	assert_response(&r, 415, "content_type");
	tu_run_free(&r);
	setenv("CONTENT_TYPE", "application/json; charset=utf-8", 1);
	r = request("POST", "/meshnet/auth/login/options", "{\"username\":");
	assert_response(&r, 400, "malformed");
	tu_run_free(&r);
	r = request("POST", "/meshnet/auth/login/options", "[1]");
	assert_response(&r, 400, "malformed");
	tu_run_free(&r);
	r = request("POST", "/meshnet/auth/login/options", "{\"username\":5}");
	assert_response(&r, 400, "type");
	assert_non_null(strstr(r.out, "\"field\":\"/username\""));
	tu_run_free(&r);
	r = request("POST", "/meshnet/auth/login/options", "{\"usr\":\"alice\"}");
	assert_response(&r, 400, "unknown_member");
	assert_non_null(strstr(r.out, "\"field\":\"/usr\""));
	tu_run_free(&r);
	r = request("POST", "/meshnet/auth/register/options", "{\"username\":\"a b\"}");
	assert_response(&r, 400, "username");
	tu_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_command_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_early, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_by_the_state, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
