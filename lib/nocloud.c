/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "isim/archive.h"
#include "isim/file.h"
#include "isim/nocloud.h"

#define MAX_FILES 64

struct nc_file {
	char *dest;
	unsigned char *data; /* sodium_malloc'd; NULL when empty or dropped */
	size_t len;
	bool secret;
};

struct isim_nocloud {
	char *meta;
	char *comment;
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

static const char header[] = "#cloud-config\n";
static const char stanza[] = "  - path: '%s'\n    owner: root:root\n    permissions: '%s'\n    encoding: b64\n"
			     "    content: %s\n";

/* user-data in locked memory sized exactly once, since it carries the
 * contents: a buffer that grows would leave copies behind. */
static char *user_data(const struct isim_nocloud *s, size_t *len)
{
	size_t total = sizeof(header) - 1 + sizeof("write_files:\n") - 1, i, at;
	char *ud;
	int n;

	if (s->comment)
		total += strlen(s->comment) + 3;
	for (i = 0; i < s->nfiles; i++) {
		size_t b = sodium_base64_encoded_len(s->files[i].len, sodium_base64_VARIANT_ORIGINAL);

		n = snprintf(NULL, 0, stanza, s->files[i].dest, "0600", "");
		if (n < 0)
			return NULL;
		total += (size_t)n + b - 1;
	}
	ud = sodium_malloc(total + 1);
	if (!ud)
		return NULL;
	at = (size_t)snprintf(ud, total + 1, "%s", header);
	if (s->comment)
		at += (size_t)snprintf(ud + at, total + 1 - at, "# %s\n", s->comment);
	at += (size_t)snprintf(ud + at, total + 1 - at, "write_files:\n");
	for (i = 0; i < s->nfiles; i++) {
		const struct nc_file *f = &s->files[i];
		size_t b = sodium_base64_encoded_len(f->len, sodium_base64_VARIANT_ORIGINAL);
		char *p;

		n = snprintf(ud + at, total + 1 - at, stanza, f->dest, f->secret ? "0600" : "0644", "");
		/* The base64 goes where the empty content is, before its newline. */
		p = ud + at + (size_t)n - 1;
		sodium_bin2base64(p, b, f->data ? f->data : (const unsigned char *)"", f->len,
				  sodium_base64_VARIANT_ORIGINAL);
		p[b - 1] = '\n';
		at += (size_t)n + b - 1;
		ud[at] = '\0';
	}
	*len = at;
	return ud;
}

int isim_nocloud_write(struct isim_nocloud *s, const char *iso, struct isim_error *err)
{
	struct isim_iso_file files[2];
	size_t len = 0, i;
	char *ud = user_data(s, &len);
	int ret = -1;

	for (i = 0; i < s->nfiles; i++)
		drop(&s->files[i]);
	if (!ud)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	files[0] = (struct isim_iso_file){ "meta-data", s->meta, strlen(s->meta) };
	files[1] = (struct isim_iso_file){ "user-data", ud, len };
	ret = isim_iso_write(iso, "cidata", files, 2, err);
	sodium_free(ud);
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
	free(s->meta);
	free(s->comment);
	free(s);
}
