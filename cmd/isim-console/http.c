/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>
#include <sodium.h>
#include <unistd.h>

#include "common/cli.h"
#include "console.h"
#include "isim/http.h"
#include "isim/json.h"

/* What every response carries: no script but the page's own files, never
 * framed, never sniffed, never cached, no referrer. */
#define SECURITY_HEADERS                                                                              \
	"Content-Security-Policy: default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; " \
	"base-uri 'none'; form-action 'self'\r\n"                                                     \
	"X-Content-Type-Options: nosniff\r\n"                                                         \
	"X-Frame-Options: DENY\r\n"                                                                   \
	"Referrer-Policy: no-referrer\r\n"                                                            \
	"Cross-Origin-Opener-Policy: same-origin\r\n"                                                 \
	"Cross-Origin-Resource-Policy: same-origin\r\n"                                               \
	"Cache-Control: no-store\r\n"

const char *con_status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 429:
		return "Too Many Requests";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	default:
		return status >= 500 ? "Internal Server Error" : "Error";
	}
}

int con_write(struct con *c, const void *p, size_t n)
{
	if (c->fcgi)
		return FCGX_PutStr(p, (int)n, c->fcgi->out) == (int)n ? 0 : -1;
	return fwrite(p, 1, n, stdout) == n ? 0 : -1;
}

ssize_t con_read(struct con *c, void *p, size_t n)
{
	if (c->fcgi)
		return FCGX_GetStr(p, (int)n, c->fcgi->in);
	return read(STDIN_FILENO, p, n);
}

/* stdout's buffer under CGI (con_use_stdout_buffer): ours, so that it can
 * be wiped. */
static char stdout_buf[1 << 16];

void con_use_stdout_buffer(void)
{
	fflush(stdout);
	setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
}

void con_flush(struct con *c)
{
	if (c->fcgi)
		FCGX_FFlush(c->fcgi->out);
	else
		fflush(stdout);
}

void con_wipe_output(struct con *c)
{
	FCGX_Stream *out;

	con_flush(c);
	if (!c->fcgi) {
		sodium_memzero(stdout_buf, sizeof(stdout_buf));
		return;
	}
	/* Flushed, the stream's buffer is empty: from wrNext to stop is all
	 * of it past the record header, which is where the response was. */
	out = c->fcgi->out;
	if (out && out->wrNext && out->stop > out->wrNext)
		sodium_memzero(out->wrNext, (size_t)(out->stop - out->wrNext));
}

void con_respond_head(struct con *c, int status, const char *type, size_t len, const char *extra_headers)
{
	char h[2048];
	int n;

	if (c->responded)
		return;
	c->responded = true;
	n = snprintf(h, sizeof(h),
		     "Status: %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n" SECURITY_HEADERS "%s\r\n", status,
		     con_status_text(status), type, len, extra_headers ? extra_headers : "");
	if (n > 0 && (size_t)n < sizeof(h))
		con_write(c, h, (size_t)n);
	sodium_memzero(h, sizeof(h));
}

void con_respond(struct con *c, int status, const char *type, const char *extra_headers, const void *body, size_t len)
{
	if (c->responded)
		return;
	con_respond_head(c, status, type, len, extra_headers);
	if (len)
		con_write(c, body, len);
}

int con_json(struct con *c, int status, cJSON *doc, const char *extra_headers)
{
	char *text = doc ? cJSON_PrintUnformatted(doc) : NULL;

	cJSON_Delete(doc);
	if (!text)
		return con_error(c, 500, "internal", NULL, "Out of memory.");
	con_respond(c, status, "application/json", extra_headers, text, strlen(text));
	free(text);
	return 0;
}

int con_error(struct con *c, int status, const char *reason, const char *field, const char *fmt, ...)
{
	char msg[512];
	cJSON *o = cJSON_CreateObject();
	char *text;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (o) {
		cJSON_AddFalseToObject(o, "ok");
		cJSON_AddStringToObject(o, "reason", reason);
		cJSON_AddStringToObject(o, "message", msg);
		if (field)
			cJSON_AddStringToObject(o, "field", field);
	}
	text = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	if (text) {
		con_respond(c, status, "application/json", status == 429 ? "Retry-After: 60\r\n" : NULL, text,
			    strlen(text));
		free(text);
	} else {
		con_respond(c, 500, "application/json", NULL, "{\"ok\":false,\"reason\":\"internal\"}", 33);
	}
	return status >= 500 ? -1 : 0;
}

int con_fail(struct con *c, const struct isim_error *err)
{
	isim_print_error(CON_PROG, err);
	if (err->kind == ISIM_ERR_UNAVAILABLE)
		return con_error(c, 503, "unavailable", NULL, "A service the console needs is not available.");
	return con_error(c, 500, "internal", NULL, "The console failed; its error log says why.");
}

int con_body_object(struct con *c)
{
	struct isim_error err;
	const char *ct = c->req.content_type;
	size_t n;

	if (c->req.json)
		return 1;
	isim_error_clear(&err);
	n = strcspn(ct ? ct : "", ";");
	if (!ct || n != strlen("application/json") || strncasecmp(ct, "application/json", n)) {
		con_error(c, 415, "content_type", NULL, "The body must be application/json, not %.64s.",
			  ct ? ct : "nothing");
		return 0;
	}
	if (!c->req.body_len) {
		c->req.json = cJSON_CreateObject();
		return c->req.json ? 1 : (con_error(c, 500, "internal", NULL, "Out of memory."), 0);
	}
	if (isim_json_parse(c->req.body, c->req.body_len, "body", &c->req.json, &err) < 0) {
		con_error(c, 400, "malformed", NULL, "The body is not JSON: %s", err.msg);
		return 0;
	}
	if (!cJSON_IsObject(c->req.json)) {
		con_error(c, 400, "malformed", "", "The body must be a JSON object.");
		return 0;
	}
	return 1;
}

bool con_name_ok(const char *s, size_t min, size_t max, bool upper, const char *extra)
{
	size_t n = strlen(s), i;

	if (n < min || n > max)
		return false;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || (upper && ch >= 'A' && ch <= 'Z') ||
		      strchr(extra, ch)))
			return false;
	}
	return true;
}

int con_strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int con_members_only(struct con *c, const char *const *names)
{
	const cJSON *it;
	char ptr[160];

	cJSON_ArrayForEach (it, c->req.json) {
		size_t i;

		for (i = 0; names[i] && strcmp(names[i], it->string); i++)
			;
		if (!names[i]) {
			snprintf(ptr, sizeof(ptr), "/%.100s", it->string);
			con_error(c, 400, "unknown_member", ptr, "Unknown member '%.100s'.", it->string);
			return 0;
		}
	}
	return 1;
}

int con_member_string(struct con *c, const char *name, size_t max, bool required, const char **out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(c->req.json, name);
	char ptr[80];

	*out = NULL;
	snprintf(ptr, sizeof(ptr), "/%s", name);
	if (!it) {
		if (!required)
			return 1;
		con_error(c, 400, "missing", ptr, "'%s' is required.", name);
		return 0;
	}
	if (!cJSON_IsString(it)) {
		con_error(c, 400, "type", ptr, "'%s' must be a string.", name);
		return 0;
	}
	if (!*it->valuestring || strlen(it->valuestring) > max) {
		con_error(c, 400, "length", ptr, "'%s' must be 1 to %zu bytes.", name, max);
		return 0;
	}
	*out = it->valuestring;
	return 1;
}

const char *con_query(const struct con *c, const char *name, char *buf, size_t size)
{
	return isim_http_query(c->req.query, name, buf, size);
}
