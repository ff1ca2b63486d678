/* SPDX-License-Identifier: MIT */
#ifndef ISIM_NOCLOUD_H
#define ISIM_NOCLOUD_H

#include <stdbool.h>
#include <stddef.h>

#include "isim/error.h"

/* A cloud-init NoCloud seed (cloud-init docs, "Datasources: NoCloud"): an
 * ISO 9660 volume (Rock Ridge and Joliet) labelled "cidata" holding
 * meta-data, user-data and, when given, network-config.
 *
 * meta-data is generated (instance-id, local-hostname, and the ssh keys as
 * "public-keys") unless the operator gives one. user-data is a #cloud-config
 * whose write_files module puts each file at its destination,
 * base64-encoded so that any bytes pass; when the operator gives user-data
 * too, it is that, as given when the seed has no files, else a MIME
 * multipart/mixed message of the operator's part then the generated one.
 *
 * The files' contents (boot-time inputs, often secrets) are held in
 * sodium_malloc'd memory and wiped as soon as the seed is written, as is
 * every rendered user-data that carried them. The operator's user-data,
 * meta-data and network-config are copied into sodium_malloc'd memory too,
 * and wiped by isim_nocloud_free. */
struct isim_nocloud;

/* A seed for instance_id and hostname (one line each, without quotes);
 * comment, when not NULL, is one line put into the generated #cloud-config
 * as "# comment". */
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

/* The operator's own user-data (len bytes, copied), once per seed: any
 * format cloud-init reads (cloud-init docs, "User-data formats"), told
 * apart as cloud-init does: gzip by its magic bytes; MIME multipart when
 * "mime-version:" is in its first 4096 bytes; else the mark it starts with
 * after white space, in any case: "#cloud-config", "#!", "#include",
 * "#include-once", "#cloud-boothook", "#cloud-config-archive",
 * "#cloud-config-jsonp", "#part-handler" or "## template: jinja".
 * Anything else, or text that is not UTF-8, is ISIM_ERR_DATA ("user-data:
 * not a cloud-init user-data format"); a second call is ISIM_ERR_USAGE.
 *
 * Without files the seed's user-data is these bytes exactly (and the
 * comment is not used). With files it is a multipart/mixed message (RFC
 * 2046 5.1.3; cloud-init docs, "MIME multi-part archive") with a random
 * boundary found in neither part: first the operator's part, its
 * Content-Type the mark's (text/cloud-config, text/x-shellscript,
 * text/x-include-url, text/cloud-boothook, ...), then the generated
 * #cloud-config as text/cloud-config with the header "Merge-Type:
 * list(append)+dict(recurse_array)+str()", so that its write_files is
 * appended to the operator's instead of replacing it (cloud-init docs,
 * "Merging user-data sections"). A part that is ASCII text without CR and
 * with lines of at most 998 bytes goes as it is (7bit); any other goes
 * base64, since cloud-init's MIME parser mangles 8-bit text. gzip or MIME
 * user-data cannot be combined with files: isim_nocloud_write fails with
 * ISIM_ERR_USAGE. */
int isim_nocloud_user_data(struct isim_nocloud *s, const void *data, size_t len,
			   struct isim_error *err) ISIM_MUST_CHECK;
/* The seed's meta-data, replacing the generated one entirely (len bytes,
 * copied, not checked: cloud-init reads it as YAML), once per seed. The
 * instance-id and hostname given to isim_nocloud_new are then not used.
 * ssh keys are not merged into it: with any, isim_nocloud_write fails with
 * ISIM_ERR_USAGE, and public-keys belong in the given meta-data. */
int isim_nocloud_meta_data(struct isim_nocloud *s, const void *data, size_t len,
			   struct isim_error *err) ISIM_MUST_CHECK;
/* A "network-config" file on the seed, which NoCloud reads as network
 * configuration version 1 or 2 YAML (cloud-init docs, "Network
 * configuration"); len bytes, copied, not checked, once per seed. */
int isim_nocloud_network_config(struct isim_nocloud *s, const void *data, size_t len,
				struct isim_error *err) ISIM_MUST_CHECK;
/* An ssh public key line, "type base64 [comment]" as in authorized_keys
 * without options, its type starting "ssh-", "ecdsa-" or "sk-"; put into
 * the generated meta-data's "public-keys" list (which cloud-init's
 * DataSourceNoCloud gives to the default user) as a single-quoted YAML
 * scalar, in the order given. Refused with ISIM_ERR_DATA: a line break,
 * control characters (C0, DEL, C1), U+2028, U+2029, U+FFFE, U+FFFF,
 * invalid UTF-8, another type or form. At most 32 keys, each once
 * (ISIM_ERR_USAGE). */
int isim_nocloud_ssh_key(struct isim_nocloud *s, const char *key, struct isim_error *err) ISIM_MUST_CHECK;

/* Write the seed to iso, then wipe and drop every file's contents (also on
 * failure): a seed is written once. What is written is what
 * isim_nocloud_render gives; the rendered user-data is wiped after. */
int isim_nocloud_write(struct isim_nocloud *s, const char *iso, struct isim_error *err) ISIM_MUST_CHECK;
/* "user-data", "meta-data" or "network-config" as isim_nocloud_write would
 * write it now (after a write, the files' contents are empty), in
 * sodium_malloc'd memory followed by a NUL, for tests; *len (when len is
 * not NULL) gets its length. Free it with sodium_free. NULL when the seed
 * has no such file, when which is none of these, when the write would
 * fail for it (ISIM_ERR_USAGE above; only isim_nocloud_write says why),
 * or out of memory. A multipart user-data gets a new boundary each time. */
char *isim_nocloud_render(const struct isim_nocloud *s, const char *which, size_t *len);
/* How many bytes of file contents the seed still holds. */
size_t isim_nocloud_held(const struct isim_nocloud *s);
void isim_nocloud_free(struct isim_nocloud *s);

#endif
