/* SPDX-License-Identifier: MIT */
#ifndef ISIM_NOCLOUD_H
#define ISIM_NOCLOUD_H

#include <stdbool.h>
#include <stddef.h>

#include "isim/error.h"

/* A cloud-init NoCloud seed (cloud-init docs, "Datasources: NoCloud"): an
 * ISO 9660 volume labelled "cidata" holding meta-data (instance-id,
 * local-hostname) and user-data, a #cloud-config whose write_files module
 * puts each file at its destination, base64-encoded so that any bytes
 * pass. The files' contents (boot-time inputs, often secrets) are held in
 * sodium_malloc'd memory and wiped as soon as the seed is written, as is
 * the user-data that carried them. */
struct isim_nocloud;

/* A seed for instance_id and hostname (one line each, without quotes);
 * comment, when not NULL, is one line put into user-data as "# comment". */
int isim_nocloud_new(const char *instance_id, const char *hostname, const char *comment, struct isim_nocloud **out,
		     struct isim_error *err) ISIM_MUST_CHECK;
/* A file cloud-init writes at dest (an absolute path without quote or
 * line break), owned by root, mode 0600 when secret and 0644 otherwise.
 * The data is copied; the caller wipes its own copy. */
int isim_nocloud_add(struct isim_nocloud *s, const char *dest, const void *data, size_t len, bool secret,
		     struct isim_error *err) ISIM_MUST_CHECK;
/* The same with the contents of the file src (at most max bytes), read
 * straight into locked memory. */
int isim_nocloud_add_file(struct isim_nocloud *s, const char *dest, const char *src, size_t max, bool secret,
			  struct isim_error *err) ISIM_MUST_CHECK;
/* Write the seed to iso, then wipe and drop every file's contents (also on
 * failure): a seed is written once. */
int isim_nocloud_write(struct isim_nocloud *s, const char *iso, struct isim_error *err) ISIM_MUST_CHECK;
/* How many bytes of file contents the seed still holds. */
size_t isim_nocloud_held(const struct isim_nocloud *s);
void isim_nocloud_free(struct isim_nocloud *s);

#endif
