/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "isim/file.h"
#include "isim/secbuf.h"

static void *get(const struct isim_secbuf *b, size_t size)
{
	if (b->alloc)
		return b->alloc->get(size, b->alloc->ctx);
	if (sodium_init() < 0)
		return NULL;
	return sodium_malloc(size);
}

/* Wipe, then release: sodium_free wipes again, a test allocator checks
 * that it was handed zeroes. */
static void put(const struct isim_secbuf *b, void *p, size_t size)
{
	if (!p)
		return;
	sodium_memzero(p, size);
	if (b->alloc)
		b->alloc->put(p, size, b->alloc->ctx);
	else
		sodium_free(p);
}

int isim_secbuf_reserve(struct isim_secbuf *b, size_t extra, struct isim_error *err)
{
	size_t need, ncap;
	unsigned char *n;

	if (extra > (size_t)PTRDIFF_MAX - 1 - b->len)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "secret too large");
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > (size_t)PTRDIFF_MAX / 2 ? need : ncap * 2;
	n = get(b, ncap);
	if (!n)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "cannot allocate locked memory for a secret");
	if (b->p)
		memcpy(n, b->p, b->len);
	n[b->len] = '\0';
	put(b, b->p, b->cap);
	b->p = n;
	b->cap = ncap;
	return 0;
}

int isim_secbuf_append(struct isim_secbuf *b, const void *data, size_t n, struct isim_error *err)
{
	if (isim_secbuf_reserve(b, n, err) < 0)
		return -1;
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

void isim_secbuf_free(struct isim_secbuf *b)
{
	put(b, b->p, b->cap);
	b->p = NULL;
	b->len = b->cap = 0;
}

int isim_secret_file_read(const char *path, const char *what, size_t max, struct isim_secbuf *b, mode_t *mode,
			  struct isim_error *err)
{
	int fd, ret = -1;
	struct stat st;
	ssize_t r;

	*mode = 0;
	isim_secbuf_free(b);
	if (strcmp(path, "-") == 0) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd < 0) {
			isim_error_at(err, path, 0, 0);
			return isim_error_errno(err, errno == EACCES ? ISIM_ERR_PERM : ISIM_ERR_NOINPUT, errno,
						"cannot open %s", what);
		}
		if (fstat(fd, &st) < 0) {
			isim_error_at(err, path, 0, 0);
			isim_error_errno(err, ISIM_ERR_IO, errno, "cannot stat %s", what);
			goto out;
		}
		if (!S_ISREG(st.st_mode)) {
			isim_error_at(err, path, 0, 0);
			isim_error_set(err, ISIM_ERR_NOINPUT, "is %s, not a %s file", isim_file_type_name(st.st_mode),
				       what);
			goto out;
		}
		*mode = st.st_mode;
	}
	if (isim_secbuf_reserve(b, 0, err) < 0) {
		isim_error_at(err, path, 0, 0);
		goto out;
	}
	for (;;) {
		if (b->len + 1 >= b->cap && isim_secbuf_reserve(b, b->cap, err) < 0) {
			isim_error_at(err, path, 0, 0);
			goto out;
		}
		r = isim_read(fd, path, what, b->p + b->len, b->cap - b->len - 1, err);
		if (r < 0)
			goto out;
		if (r == 0)
			break;
		b->len += (size_t)r;
		b->p[b->len] = '\0';
		if (b->len > max) {
			isim_error_at(err, path, 0, 0);
			isim_error_set(err, ISIM_ERR_DATA, "too large for a %s file (over %zu bytes)", what, max);
			goto out;
		}
	}
	ret = 0;
out:
	if (fd != STDIN_FILENO)
		close(fd);
	if (ret < 0)
		isim_secbuf_free(b);
	return ret;
}

int isim_secret_file_check_mode(const char *path, mode_t mode, struct isim_error *err)
{
	if (!(mode & 077))
		return 0;
	isim_error_at(err, path, 0, 0);
	return isim_error_set(err, ISIM_ERR_PERM,
			      "secret key file is accessible by group or others (mode %04o); "
			      "refusing it until 'chmod 600' is run on it",
			      (unsigned)(mode & 07777));
}
