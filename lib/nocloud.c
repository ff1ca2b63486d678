/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sodium.h>

#include "isim/archive.h"
#include "isim/file.h"
#include "isim/nocloud.h"
#include "isim/utf8.h"

#define MAX_FILES 64
#define MAX_KEYS 32

struct nc_file {
	char *dest;
	unsigned char *data; /* sodium_malloc'd; NULL when empty or dropped */
	size_t len;
	bool secret;
};

/* Something the operator gave, copied into sodium_malloc'd memory with a
 * NUL after it; data is NULL when not given. */
struct nc_blob {
	char *data;
	size_t len;
};

/* What the operator's user-data is, as cloud-init tells (user_data.py,
 * convert_string): gzip and MIME are containers cloud-init opens itself. */
enum nc_kind {
	UD_TYPED,
	UD_GZIP,
	UD_MIME,
};

struct isim_nocloud {
	char *meta;
	char *comment;
	struct nc_blob user, given_meta, network;
	enum nc_kind user_kind;
	const char *user_type; /* its Content-Type when UD_TYPED */
	char *keys[MAX_KEYS];
	size_t nkeys;
	struct nc_file files[MAX_FILES];
	size_t nfiles;
};

static bool one_line(const char *s)
{
	return s && *s && !strpbrk(s, "\r\n'\"");
}

int isim_nocloud_new(const char *instance_id, const char *hostname, const char *comment, struct isim_nocloud **out,
		     struct isim_error *err)
{
	struct isim_nocloud *s;

	*out = NULL;
	if (!one_line(instance_id) || !one_line(hostname))
		return isim_error_set(err, ISIM_ERR_USAGE, "a NoCloud seed needs a one-line instance-id and hostname");
	if (comment && strpbrk(comment, "\r\n"))
		return isim_error_set(err, ISIM_ERR_USAGE, "a user-data comment is one line");
	if (sodium_init() < 0)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "libsodium cannot start");
	s = calloc(1, sizeof(*s));
	if (s) {
		size_t n = strlen(instance_id) + strlen(hostname) + 32;

		s->meta = malloc(n);
		if (s->meta)
			snprintf(s->meta, n, "instance-id: %s\nlocal-hostname: %s\n", instance_id, hostname);
		if (comment)
			s->comment = strdup(comment);
	}
	if (!s || !s->meta || (comment && !s->comment)) {
		isim_nocloud_free(s);
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	}
	*out = s;
	return 0;
}

static void drop(struct nc_file *f)
{
	if (f->data)
		sodium_free(f->data); /* wipes */
	f->data = NULL;
	f->len = 0;
}

/* A new entry with len bytes of locked memory for its contents. */
static struct nc_file *entry(struct isim_nocloud *s, const char *dest, size_t len, bool secret, struct isim_error *err)
{
	struct nc_file *f;

	if (!dest || dest[0] != '/' || strpbrk(dest, "'\r\n")) {
		isim_error_set(err, ISIM_ERR_USAGE, "'%s' is not a destination a seed can name", dest ? dest : "");
		return NULL;
	}
	if (s->nfiles == MAX_FILES) {
		isim_error_set(err, ISIM_ERR_USAGE, "a seed holds at most %d files", MAX_FILES);
		return NULL;
	}
	f = &s->files[s->nfiles];
	memset(f, 0, sizeof(*f));
	f->dest = strdup(dest);
	if (!f->dest || (len && !(f->data = sodium_malloc(len)))) {
		free(f->dest);
		f->dest = NULL;
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	f->len = len;
	f->secret = secret;
	s->nfiles++;
	return f;
}

int isim_nocloud_add(struct isim_nocloud *s, const char *dest, const void *data, size_t len, bool secret,
		     struct isim_error *err)
{
	struct nc_file *f = entry(s, dest, len, secret, err);

	if (!f)
		return -1;
	if (len)
		memcpy(f->data, data, len);
	return 0;
}

/* Read fd to its end into locked memory, growing by copying into a larger
 * locked buffer and freeing (so wiping) the smaller one. */
static int read_locked(int fd, const char *src, size_t max, unsigned char **out, size_t *len, struct isim_error *err)
{
	unsigned char *buf = NULL, *nbuf;
	size_t n = 0, cap = 0;

	for (;;) {
		ssize_t r;

		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 4096;

			if (ncap > max + 1)
				ncap = max + 1;
			if (ncap <= cap) {
				isim_error_at(err, src, 0, 0);
				isim_error_set(err, ISIM_ERR_DATA, "file is larger than %zu bytes", max);
				goto fail;
			}
			nbuf = sodium_malloc(ncap);
			if (!nbuf) {
				isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
				goto fail;
			}
			if (n)
				memcpy(nbuf, buf, n);
			if (buf)
				sodium_free(buf);
			buf = nbuf;
			cap = ncap;
		}
		r = isim_read(fd, src, NULL, buf + n, cap - n, err);
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			isim_error_at(err, src, 0, 0);
			isim_error_set(err, ISIM_ERR_DATA, "file is larger than %zu bytes", max);
			goto fail;
		}
	}
	*out = buf;
	*len = n;
	return 0;
fail:
	if (buf)
		sodium_free(buf);
	return -1;
}

int isim_nocloud_add_file(struct isim_nocloud *s, const char *dest, const char *src, size_t max, bool secret,
			  struct isim_error *err)
{
	struct nc_file *f;
	unsigned char *data = NULL;
	size_t len = 0;
	int fd = strcmp(src, "-") == 0 ? STDIN_FILENO : open(src, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0) {
		isim_error_at(err, src, 0, 0);
		return isim_error_errno(err, errno == EACCES ? ISIM_ERR_PERM : ISIM_ERR_NOINPUT, errno, "cannot open");
	}
	ret = read_locked(fd, src, max, &data, &len, err);
	if (fd != STDIN_FILENO)
		close(fd);
	if (ret < 0)
		return -1;
	f = entry(s, dest, 0, secret, err);
	if (!f) {
		sodium_free(data);
		return -1;
	}
	f->data = data;
	f->len = len;
	return 0;
}

/* ---- what the operator gives ---------------------------------------------- */

static int set_blob(struct nc_blob *b, const char *what, const void *data, size_t len, struct isim_error *err)
{
	if (b->data)
		return isim_error_set(err, ISIM_ERR_USAGE, "a seed takes one %s", what);
	if (!data && len)
		return isim_error_set(err, ISIM_ERR_USAGE, "%s: no data", what);
	b->data = len < SIZE_MAX ? sodium_malloc(len + 1) : NULL;
	if (!b->data)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	if (len)
		memcpy(b->data, data, len);
	b->data[len] = '\0';
	b->len = len;
	return 0;
}

/* The marks cloud-init knows at the start of user-data, longest first as it
 * tries them (cloudinit/handlers/__init__.py, INCLUSION_TYPES_MAP), so that
 * "#cloud-config-archive" is not taken for "#cloud-config". */
static const struct {
	const char *mark, *type;
} formats[] = {
	{ "#cloud-config-archive", "text/cloud-config-archive" },
	{ "#cloud-config-jsonp", "text/cloud-config-jsonp" },
	{ "## template: jinja", "text/jinja2" },
	{ "#cloud-boothook", "text/cloud-boothook" },
	{ "#cloud-config", "text/cloud-config" },
	{ "#include-once", "text/x-include-once-url" },
	{ "#part-handler", "text/part-handler" },
	{ "#include", "text/x-include-url" },
	{ "#!", "text/x-shellscript" },
};

static bool has_nocase(const char *p, size_t n, const char *word)
{
	size_t w = strlen(word), i;

	for (i = 0; i + w <= n; i++)
		if (strncasecmp(p + i, word, w) == 0)
			return true;
	return false;
}

/* What cloud-init would take the user-data for (cloudinit/user_data.py,
 * convert_string, and type_from_starts_with): gzip by its magic, MIME when
 * "mime-version:" is in the first 4096 bytes, else the mark it starts with
 * after white space, in any case. Text that is not UTF-8 or has no mark is
 * none of them, and cloud-init would ignore it. */
static int classify(const char *p, size_t n, enum nc_kind *kind, const char **type, struct isim_error *err)
{
	size_t i = 0, k;
	char why[128];
	long bad;

	*type = NULL;
	*kind = UD_GZIP;
	if (n >= 2 && (unsigned char)p[0] == 0x1f && (unsigned char)p[1] == 0x8b)
		return 0;
	bad = isim_utf8_check(p, n, why, sizeof(why));
	if (bad >= 0)
		return isim_error_set(err, ISIM_ERR_DATA,
				      "user-data: not a cloud-init user-data format (%s at offset %ld)", why, bad);
	*kind = UD_MIME;
	if (has_nocase(p, n < 4096 ? n : 4096, "mime-version:"))
		return 0;
	*kind = UD_TYPED;
	while (i < n && p[i] && strchr(" \t\n\v\f\r", p[i]))
		i++;
	for (k = 0; k < sizeof(formats) / sizeof(formats[0]); k++) {
		size_t m = strlen(formats[k].mark);

		if (n - i >= m && strncasecmp(p + i, formats[k].mark, m) == 0) {
			*type = formats[k].type;
			return 0;
		}
	}
	return isim_error_set(err, ISIM_ERR_DATA, "user-data: not a cloud-init user-data format");
}

int isim_nocloud_user_data(struct isim_nocloud *s, const void *data, size_t len, struct isim_error *err)
{
	enum nc_kind kind;
	const char *type;

	if (s->user.data)
		return isim_error_set(err, ISIM_ERR_USAGE, "a seed takes one user-data");
	if (!data && len)
		return isim_error_set(err, ISIM_ERR_USAGE, "user-data: no data");
	if (classify(data ? data : "", len, &kind, &type, err) < 0)
		return -1;
	if (set_blob(&s->user, "user-data", data, len, err) < 0)
		return -1;
	s->user_kind = kind;
	s->user_type = type;
	return 0;
}

int isim_nocloud_meta_data(struct isim_nocloud *s, const void *data, size_t len, struct isim_error *err)
{
	return set_blob(&s->given_meta, "meta-data", data, len, err);
}

int isim_nocloud_network_config(struct isim_nocloud *s, const void *data, size_t len, struct isim_error *err)
{
	return set_blob(&s->network, "network-config", data, len, err);
}

static const char key_type_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.@";
static const char base64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

/* "type base64 [comment]" (sshd(8), AUTHORIZED_KEYS FILE FORMAT) without
 * options, as UTF-8 that YAML 1.1 keeps on one line in a quoted scalar:
 * PyYAML, which cloud-init loads meta-data with, refuses C0 and C1 controls
 * and U+FFFE/U+FFFF, and breaks lines at NEL, LS and PS (YAML 1.1 5.1, 5.4). */
static int check_key(const char *key, struct isim_error *err)
{
	size_t n = strlen(key), i, k, t, b, w = isim_utf8_cut(key, strcspn(key, " "), 64);
	uint32_t cp;
	char why[128];
	long bad;

	if (strpbrk(key, "\r\n"))
		return isim_error_set(err, ISIM_ERR_DATA, "an ssh key is one line");
	bad = isim_utf8_check(key, n, why, sizeof(why));
	if (bad >= 0)
		return isim_error_set(err, ISIM_ERR_DATA, "ssh key: %s at offset %ld", why, bad);
	for (i = 0; i < n; i += k) {
		k = isim_utf8_next(key + i, n - i, &cp);
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 || cp == 0xfffe ||
		    cp == 0xffff)
			return isim_error_set(err, ISIM_ERR_DATA,
					      "ssh key: U+%04X at offset %zu is a control character or line break",
					      (unsigned)cp, i);
	}
	if (strncmp(key, "ssh-", 4) != 0 && strncmp(key, "ecdsa-", 6) != 0 && strncmp(key, "sk-", 3) != 0)
		return isim_error_set(err, ISIM_ERR_DATA,
				      "ssh key '%.*s': not a public key type (ssh-..., ecdsa-... or sk-...)", (int)w,
				      key);
	t = strspn(key, key_type_chars);
	b = key[t] == ' ' ? strspn(key + t + 1, base64_chars) : 0;
	if (!b || (key[t + 1 + b] != '\0' && key[t + 1 + b] != ' '))
		return isim_error_set(err, ISIM_ERR_DATA, "ssh key '%.*s': expected 'type base64 [comment]'", (int)w,
				      key);
	return 0;
}

int isim_nocloud_ssh_key(struct isim_nocloud *s, const char *key, struct isim_error *err)
{
	size_t i, cut;

	if (!key)
		return isim_error_set(err, ISIM_ERR_USAGE, "ssh key: none given");
	if (check_key(key, err) < 0)
		return -1;
	cut = isim_utf8_cut(key, strlen(key), 40);
	for (i = 0; i < s->nkeys; i++)
		if (strcmp(s->keys[i], key) == 0)
			return isim_error_set(err, ISIM_ERR_USAGE, "ssh key '%.*s%s' given twice", (int)cut, key,
					      key[cut] ? "..." : "");
	if (s->nkeys == MAX_KEYS)
		return isim_error_set(err, ISIM_ERR_USAGE, "a seed holds at most %d ssh keys", MAX_KEYS);
	s->keys[s->nkeys] = strdup(key);
	if (!s->keys[s->nkeys])
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	s->nkeys++;
	return 0;
}

/* ---- rendering ------------------------------------------------------------- */

/* Text made in two passes of the same code: the first (buf NULL) only
 * counts, so that the second writes into locked memory sized once, since
 * the text may carry secrets and a buffer that grows leaves copies behind.
 * bad is set when the passes disagree, which would be a bug. */
struct out {
	char *buf;
	size_t len, cap; /* cap excludes the NUL after the text */
	bool bad;
};

typedef void emit_fn(struct out *o, const void *ctx);

static void put(struct out *o, const void *p, size_t n)
{
	if (o->buf && !o->bad) {
		if (n > o->cap - o->len) {
			o->bad = true;
			return;
		}
		memcpy(o->buf + o->len, p, n);
	}
	o->len += n;
}

static void put_str(struct out *o, const char *str)
{
	put(o, str, strlen(str));
}

static void putf(struct out *o, const char *fmt, ...) ISIM_PRINTF(2, 3);
static void putf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->bad)
		return;
	va_start(ap, fmt);
	n = o->buf ? vsnprintf(o->buf + o->len, o->cap + 1 - o->len, fmt, ap) : vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (o->buf && (size_t)n > o->cap - o->len)) {
		o->bad = true;
		return;
	}
	o->len += (size_t)n;
}

/* Base64 of n bytes encoded straight into the buffer, leaving no copy. */
static void put_b64(struct out *o, const unsigned char *bin, size_t n)
{
	size_t b = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL) - 1;

	if (o->buf && !o->bad) {
		if (b > o->cap - o->len) {
			o->bad = true;
			return;
		}
		/* b + 1 bytes with the NUL, which the buffer has room for. */
		sodium_bin2base64(o->buf + o->len, b + 1, bin ? bin : (const unsigned char *)"", n,
				  sodium_base64_VARIANT_ORIGINAL);
	}
	o->len += b;
}

/* What fn makes, NUL-terminated in sodium_malloc'd memory; NULL when out
 * of memory. */
static char *assemble(emit_fn *fn, const void *ctx, size_t *len)
{
	struct out o = { 0 };

	fn(&o, ctx);
	if (o.bad || o.len == SIZE_MAX)
		return NULL;
	o.cap = o.len;
	o.len = 0;
	o.buf = sodium_malloc(o.cap + 1);
	if (!o.buf)
		return NULL;
	fn(&o, ctx);
	if (o.bad || o.len != o.cap) {
		sodium_free(o.buf);
		return NULL;
	}
	o.buf[o.len] = '\0';
	if (len)
		*len = o.len;
	return o.buf;
}

static void emit_blob(struct out *o, const void *ctx)
{
	const struct nc_blob *b = ctx;

	put(o, b->data, b->len);
}

/* meta-data with the keys as NoCloud's "public-keys" list (cloud-init's
 * DataSourceNoCloud reads it through normalize_pubkey_data), each a
 * single-quoted YAML scalar, where only ' needs escaping, as '' (YAML 1.2
 * 7.3.2). */
static void emit_meta(struct out *o, const void *ctx)
{
	const struct isim_nocloud *s = ctx;
	const char *k, *q;
	size_t i;

	put_str(o, s->meta);
	if (s->nkeys)
		put_str(o, "public-keys:\n");
	for (i = 0; i < s->nkeys; i++) {
		put_str(o, "  - '");
		for (k = s->keys[i]; (q = strchr(k, '\'')); k = q + 1) {
			put(o, k, (size_t)(q - k) + 1);
			put(o, "'", 1);
		}
		put_str(o, k);
		put_str(o, "'\n");
	}
}

static const char stanza[] = "  - path: '%s'\n    owner: root:root\n    permissions: '%s'\n    encoding: b64\n"
			     "    content: ";

/* The #cloud-config whose write_files puts each file in place. */
static void emit_files(struct out *o, const void *ctx)
{
	const struct isim_nocloud *s = ctx;
	size_t i;

	put_str(o, "#cloud-config\n");
	if (s->comment)
		putf(o, "# %s\n", s->comment);
	put_str(o, "write_files:\n");
	for (i = 0; i < s->nfiles; i++) {
		const struct nc_file *f = &s->files[i];

		putf(o, stanza, f->dest, f->secret ? "0600" : "0644");
		put_b64(o, f->data, f->len);
		put(o, "\n", 1);
	}
}

/* One part of a multipart/mixed message (RFC 2046 5.1). */
struct part {
	const char *type, *filename;
	const char *data;
	size_t len;
	bool base64, merge;
};

struct mime {
	char boundary[48];
	struct part parts[2];
};

/* Whether data may go as it is, 7bit (RFC 2045 2.7): ASCII without NUL or
 * CR, lines of at most 998 bytes. Anything else goes base64, since
 * Python's email package, which cloud-init parses user-data with, turns
 * the 8-bit text of a 7bit or 8bit part into raw-unicode-escape bytes. */
static bool seven_bit(const char *p, size_t n)
{
	size_t i, line = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\n') {
			line = 0;
			continue;
		}
		if ((c < 0x20 && c != '\t') || c > 0x7e || ++line > 998)
			return false;
	}
	return true;
}

/* cloud-init docs, "Merging user-data sections": the generated part's
 * write_files is appended to the operator's rather than replacing it. */
static const char merge_type[] = "list(append)+dict(recurse_array)+str()";

static void emit_mime(struct out *o, const void *ctx)
{
	const struct mime *m = ctx;
	size_t i, at, n;

	putf(o, "Content-Type: multipart/mixed; boundary=\"%s\"\nMIME-Version: 1.0\n\n", m->boundary);
	for (i = 0; i < sizeof(m->parts) / sizeof(m->parts[0]); i++) {
		const struct part *p = &m->parts[i];

		putf(o,
		     "--%s\nContent-Type: %s; charset=\"utf-8\"\nContent-Transfer-Encoding: %s\n"
		     "Content-Disposition: attachment; filename=\"%s\"\n",
		     m->boundary, p->type, p->base64 ? "base64" : "7bit", p->filename);
		if (p->merge)
			putf(o, "Merge-Type: %s\n", merge_type);
		put(o, "\n", 1);
		if (!p->base64)
			put(o, p->data, p->len);
		/* Lines of 76 characters (RFC 2045 6.8). */
		for (at = 0; p->base64 && at < p->len; at += n) {
			n = p->len - at < 57 ? p->len - at : 57;
			if (at)
				put(o, "\n", 1);
			put_b64(o, (const unsigned char *)p->data + at, n);
		}
		/* The line break before a delimiter belongs to it (RFC 2046
		 * 5.1.1), so the part's own last byte is kept. */
		put(o, "\n", 1);
	}
	putf(o, "--%s--\n", m->boundary);
}

static size_t occurrences(const char *text, size_t len, const char *word)
{
	size_t w = strlen(word), n = 0;
	const char *at = text, *end = text + len;

	while ((at = memmem(at, (size_t)(end - at), word, w))) {
		n++;
		at += w;
	}
	return n;
}

/* The operator's user-data and the generated #cloud-config as one
 * multipart/mixed message (cloud-init docs, "User-data formats: MIME
 * multi-part archive"), the operator's part first. */
static int multipart(const struct isim_nocloud *s, char **out, size_t *len, struct isim_error *err)
{
	struct mime m = { 0 };
	unsigned char rnd[16];
	size_t glen = 0;
	char *gen;
	int tries;

	if (s->user_kind != UD_TYPED)
		return isim_error_set(err, ISIM_ERR_USAGE,
				      "user-data that is %s cannot be combined with files: make them a part of it",
				      s->user_kind == UD_GZIP ? "gzip-compressed" : "already MIME multipart");
	gen = assemble(emit_files, s, &glen);
	if (!gen)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	m.parts[0] = (struct part){
		s->user_type, "user-data", s->user.data, s->user.len, !seven_bit(s->user.data, s->user.len), false
	};
	m.parts[1] = (struct part){ "text/cloud-config", "infrasim-files", gen, glen, !seven_bit(gen, glen), true };
	/* A random boundary, checked to be nowhere but in the header and the
	 * three delimiters (RFC 2046 5.1.1): a part cannot hold one it cannot
	 * know, so a second try is all but never needed. */
	for (tries = 0; tries < 4; tries++) {
		randombytes_buf(rnd, sizeof(rnd));
		memcpy(m.boundary, "isim-", 5);
		sodium_bin2hex(m.boundary + 5, sizeof(m.boundary) - 5, rnd, sizeof(rnd));
		*out = assemble(emit_mime, &m, len);
		if (!*out)
			break;
		if (occurrences(*out, *len, m.boundary) == 4)
			break;
		sodium_free(*out);
		*out = NULL;
	}
	sodium_free(gen);
	if (!*out && tries < 4)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	if (!*out)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "no MIME boundary found that the user-data lacks");
	return 0;
}

/* which as it would be written: 0 with *out NULL when the seed has none. */
static int render(const struct isim_nocloud *s, const char *which, char **out, size_t *len, struct isim_error *err)
{
	*out = NULL;
	*len = 0;
	if (strcmp(which, "meta-data") == 0) {
		if (s->given_meta.data && s->nkeys)
			return isim_error_set(
				err, ISIM_ERR_USAGE,
				"ssh keys cannot be merged into a given meta-data; put public-keys in it");
		*out = s->given_meta.data ? assemble(emit_blob, &s->given_meta, len) : assemble(emit_meta, s, len);
	} else if (strcmp(which, "network-config") == 0) {
		if (!s->network.data)
			return 0;
		*out = assemble(emit_blob, &s->network, len);
	} else if (strcmp(which, "user-data") == 0) {
		if (s->user.data && s->nfiles)
			return multipart(s, out, len, err);
		*out = s->user.data ? assemble(emit_blob, &s->user, len) : assemble(emit_files, s, len);
	} else {
		return isim_error_set(err, ISIM_ERR_USAGE, "a NoCloud seed has no '%s'", which);
	}
	if (!*out)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	return 0;
}

char *isim_nocloud_render(const struct isim_nocloud *s, const char *which, size_t *len)
{
	char *text = NULL;
	size_t n = 0;

	if (render(s, which, &text, &n, NULL) < 0)
		return NULL;
	if (len)
		*len = n;
	return text;
}

int isim_nocloud_write(struct isim_nocloud *s, const char *iso, struct isim_error *err)
{
	static const char *const names[] = { "meta-data", "user-data", "network-config" };
	struct isim_iso_file files[3];
	char *text[3] = { NULL, NULL, NULL };
	size_t len[3] = { 0, 0, 0 }, i, k, n = 0;
	int ret = -1;

	for (i = 0; i < 3; i++) {
		if (render(s, names[i], &text[i], &len[i], err) < 0)
			break;
		if (text[i])
			files[n++] = (struct isim_iso_file){ names[i], text[i], len[i] };
	}
	for (k = 0; k < s->nfiles; k++)
		drop(&s->files[k]);
	if (i == 3)
		ret = isim_iso_write(iso, "cidata", files, n, err);
	for (i = 0; i < 3; i++)
		sodium_free(text[i]); /* wipes */
	return ret;
}

size_t isim_nocloud_held(const struct isim_nocloud *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->nfiles; i++)
		n += s->files[i].data ? s->files[i].len : 0;
	return n;
}

void isim_nocloud_free(struct isim_nocloud *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nfiles; i++) {
		drop(&s->files[i]);
		free(s->files[i].dest);
	}
	for (i = 0; i < s->nkeys; i++)
		free(s->keys[i]);
	sodium_free(s->user.data);
	sodium_free(s->given_meta.data);
	sodium_free(s->network.data);
	free(s->meta);
	free(s->comment);
	free(s);
}
