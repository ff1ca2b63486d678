/* SPDX-License-Identifier: MIT */
#ifndef ISIM_SECBUF_H
#define ISIM_SECBUF_H

#include <stddef.h>
#include <sys/types.h>

#include "isim/error.h"

/* Where a secret buffer's memory comes from. The default (alloc NULL) is
 * libsodium's sodium_malloc/sodium_free: guard pages, mlock, and a canary.
 * The buffer wipes memory itself before handing it back to put, so any
 * allocator sees only zeroes returned. */
struct isim_secbuf_alloc {
	void *(*get)(size_t size, void *ctx);
	void (*put)(void *p, size_t size, void *ctx);
	void *ctx;
};

/* A growing buffer for secrets (keys, their base64 text, passwords). On
 * growth a new block is allocated, the content copied, and the old block
 * wiped and released; isim_secbuf_free wipes too. The content is always
 * followed by a NUL once anything is allocated. A zeroed struct is an
 * empty buffer using sodium_malloc. */
struct isim_secbuf {
	unsigned char *p;
	size_t len, cap;
	const struct isim_secbuf_alloc *alloc;
};

/* Room for extra more bytes and the NUL. 0, or -1 with ISIM_ERR_INTERNAL. */
int isim_secbuf_reserve(struct isim_secbuf *b, size_t extra, struct isim_error *err) ISIM_MUST_CHECK;
int isim_secbuf_append(struct isim_secbuf *b, const void *data, size_t n, struct isim_error *err) ISIM_MUST_CHECK;
/* Wipe and release; the buffer is empty again (its allocator kept). */
void isim_secbuf_free(struct isim_secbuf *b);

/* Read a secret file (a key; what names it in messages: "secret key")
 * whole into b, at most max bytes; "-" is
 * stdin, read as a stream. A path is opened following symlinks, since a
 * key linked from /etc or a secrets mount is the usual setup, and without
 * blocking (O_NONBLOCK), so that a FIFO without a writer cannot hang the
 * tool; what was opened is then checked with fstat, so the checks apply
 * to the file itself and not to the link or a name swapped meanwhile:
 * anything but a regular file (FIFO, device, socket, directory) is
 * refused with ISIM_ERR_NOINPUT. *mode is the opened file's st_mode (0
 * for stdin), for isim_secret_file_check_mode. */
int isim_secret_file_read(const char *path, const char *what, size_t max, struct isim_secbuf *b, mode_t *mode,
			  struct isim_error *err) ISIM_MUST_CHECK;

/* A secret file must not be accessible by group or others (0600-style);
 * ISIM_ERR_PERM naming path otherwise. mode 0 (stdin) passes. Kept apart
 * from the read so that a caller can first say what the file is, e.g. a
 * public key given in place of a secret one. */
int isim_secret_file_check_mode(const char *path, mode_t mode, struct isim_error *err) ISIM_MUST_CHECK;

#endif
