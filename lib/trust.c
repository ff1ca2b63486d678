/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "isim/file.h"
#include "isim/trust.h"

#define REVOKED_MAX (1u << 20)

void isim_trust_free(struct isim_trust *t)
{
	if (!t)
		return;
	free(t->keys);
	free(t->revoked);
	free(t);
}

static int open_error(struct isim_error *err, const char *path, int e, const char *what)
{
	isim_error_at(err, path, 0, 0);
	return isim_error_errno(err, e == EACCES ? ISIM_ERR_PERM : ISIM_ERR_NOINPUT, e, "cannot open %s", what);
}

/* Anyone who may write the directory or a key in it may add a signer. */
static int writable_by_others(const struct stat *st, const char *path, const char *what, struct isim_error *err)
{
	if (!(st->st_mode & S_IWOTH))
		return 0;
	isim_error_at(err, path, 0, 0);
	return isim_error_set(err, ISIM_ERR_PERM, "%s is writable by others (mode %04o); refusing it", what,
			      (unsigned)(st->st_mode & 07777));
}

static int add_key(struct isim_trust *t, const struct isim_ms_pubkey *pk, const char *path, struct isim_error *err)
{
	const struct isim_trust_key *old = isim_trust_find(t, pk->keyid);
	struct isim_trust_key *nk;
	char hex[ISIM_MS_KEYID_HEX];

	if (old && memcmp(old->pk.pk, pk->pk, sizeof(pk->pk)) == 0)
		return 0;
	if (old) {
		isim_ms_keyid_hex(pk->keyid, hex);
		isim_error_at(err, path, 0, 0);
		return isim_error_set(err, ISIM_ERR_CONFIG, "key id %s is also that of %s, a different key", hex,
				      old->path);
	}
	nk = realloc(t->keys, (t->nkeys + 1) * sizeof(*t->keys));
	if (!nk)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	t->keys = nk;
	nk = &t->keys[t->nkeys++];
	nk->pk = *pk;
	snprintf(nk->path, sizeof(nk->path), "%s", path);
	return 0;
}

static int load_key(struct isim_trust *t, const char *path, struct isim_error *err)
{
	struct isim_ms_pubkey pk;
	struct stat st;

	if (stat(path, &st) < 0)
		return open_error(err, path, errno, "trusted key");
	if (!S_ISREG(st.st_mode))
		return 0;
	if (writable_by_others(&st, path, "trusted key", err) < 0)
		return -1;
	if (isim_ms_pubkey_load(path, &pk, err) < 0) {
		if (err && err->kind == ISIM_ERR_DATA)
			err->kind = ISIM_ERR_CONFIG;
		return -1;
	}
	return add_key(t, &pk, path, err);
}

static int add_revoked(struct isim_trust *t, const uint8_t keyid[ISIM_MS_KEYID_BYTES], struct isim_error *err)
{
	uint8_t(*nr)[ISIM_MS_KEYID_BYTES];

	if (isim_trust_is_revoked(t, keyid))
		return 0;
	nr = realloc(t->revoked, (t->nrevoked + 1) * sizeof(*t->revoked));
	if (!nr)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	t->revoked = nr;
	memcpy(t->revoked[t->nrevoked++], keyid, ISIM_MS_KEYID_BYTES);
	return 0;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* A key id as people copy it: minisign 0.11 prints the number without
 * leading zeros ("%" PRIX64), so 1 to 16 hex digits are read as one. */
static bool keyid_of_text(const char *s, uint8_t keyid[ISIM_MS_KEYID_BYTES])
{
	char full[ISIM_MS_KEYID_HEX];
	size_t n = strlen(s);

	if (n == 0 || n > 16)
		return false;
	memset(full, '0', 16 - n);
	memcpy(full + 16 - n, s, n + 1);
	return isim_ms_keyid_parse(full, keyid);
}

/* One line of the revocation list, without its LF. */
static int revoked_line(struct isim_trust *t, const char *path, int no, char *s, struct isim_error *err)
{
	uint8_t keyid[ISIM_MS_KEYID_BYTES];
	char *p = s, *end;
	char c;

	while (blank(*p))
		p++;
	if (!*p || *p == '#')
		return 0;
	end = p;
	while (*end && !blank(*end) && *end != '#')
		end++;
	c = *end;
	*end = '\0';
	if (!keyid_of_text(p, keyid)) {
		isim_error_at(err, path, no, (int)(p - s) + 1);
		return isim_error_set(err, ISIM_ERR_CONFIG,
				      "expected a key id of up to 16 hex digits, as minisign prints it; got '%.40s'",
				      p);
	}
	*end = c;
	while (blank(*end))
		end++;
	if (*end && *end != '#') {
		isim_error_at(err, path, no, (int)(end - s) + 1);
		return isim_error_set(err, ISIM_ERR_CONFIG,
				      "expected a '#' comment or the end of the line after the key id");
	}
	return add_revoked(t, keyid, err);
}

static int load_revoked(struct isim_trust *t, const char *path, struct isim_error *err)
{
	char *text = NULL, *line, *nl;
	size_t len;
	struct stat st;
	int no = 0, ret = -1;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return open_error(err, path, errno, "revocation list");
	}
	if (writable_by_others(&st, path, "revocation list", err) < 0)
		return -1;
	if (isim_file_read(path, REVOKED_MAX, &text, &len, err) < 0)
		return -1;
	if (memchr(text, '\0', len)) {
		isim_error_at(err, path, 0, 0);
		isim_error_set(err, ISIM_ERR_CONFIG, "holds a NUL byte; expected text");
		goto out;
	}
	for (line = text; *line; line = nl ? nl + 1 : line + strlen(line)) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (revoked_line(t, path, ++no, line, err) < 0)
			goto out;
		if (!nl)
			break;
	}
	ret = 0;
out:
	free(text);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the *.pub files in d, sorted, so keys load in one order. */
static int pub_names(DIR *d, char ***names, size_t *n, struct isim_error *err)
{
	struct dirent *de;
	char **v = NULL, **nv;
	size_t cnt = 0, len;

	while ((de = readdir(d))) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 5 || strcmp(de->d_name + len - 4, ".pub") != 0)
			continue;
		nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (!nv || !(nv[cnt] = strdup(de->d_name))) {
			v = nv ? nv : v;
			while (cnt)
				free(v[--cnt]);
			free(v);
			return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		}
		v = nv;
		cnt++;
	}
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_str);
	*names = v;
	*n = cnt;
	return 0;
}

int isim_trust_load(const char *dir, struct isim_trust **out, struct isim_error *err)
{
	struct isim_trust *t = NULL;
	char path[4096], **names = NULL;
	size_t i, n = 0;
	struct stat st;
	DIR *d = NULL;
	int ret = -1;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	if (isim_pathf(t->dir, sizeof(t->dir), err, "%s", dir) < 0) {
		isim_error_at(err, dir, 0, 0);
		goto out;
	}
	d = opendir(dir);
	if (!d) {
		open_error(err, dir, errno, "trusted signers directory");
		goto out;
	}
	if (fstat(dirfd(d), &st) < 0) {
		open_error(err, dir, errno, "trusted signers directory");
		goto out;
	}
	if (writable_by_others(&st, dir, "trusted signers directory", err) < 0 || pub_names(d, &names, &n, err) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= (int)sizeof(path)) {
			isim_error_at(err, dir, 0, 0);
			isim_error_set(err, ISIM_ERR_CONFIG, "path too long");
			goto out;
		}
		if (load_key(t, path, err) < 0)
			goto out;
	}
	if (isim_pathf(path, sizeof(path), err, "%s/%s", dir, ISIM_TRUST_REVOKED) < 0) {
		isim_error_at(err, dir, 0, 0);
		goto out;
	}
	if (load_revoked(t, path, err) < 0)
		goto out;
	*out = t;
	t = NULL;
	ret = 0;
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (d)
		closedir(d);
	isim_trust_free(t);
	return ret;
}

int isim_trust_from_pubkey(const char *path, struct isim_trust **out, struct isim_error *err)
{
	struct isim_ms_pubkey pk;
	struct isim_trust *t;

	*out = NULL;
	if (isim_ms_pubkey_load(path, &pk, err) < 0)
		return -1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	if (add_key(t, &pk, path, err) < 0) {
		isim_trust_free(t);
		return -1;
	}
	*out = t;
	return 0;
}

bool isim_trust_is_revoked(const struct isim_trust *t, const uint8_t keyid[static ISIM_MS_KEYID_BYTES])
{
	size_t i;

	for (i = 0; i < t->nrevoked; i++)
		if (memcmp(t->revoked[i], keyid, ISIM_MS_KEYID_BYTES) == 0)
			return true;
	return false;
}

const struct isim_trust_key *isim_trust_find(const struct isim_trust *t,
					     const uint8_t keyid[static ISIM_MS_KEYID_BYTES])
{
	size_t i;

	for (i = 0; i < t->nkeys; i++)
		if (memcmp(t->keys[i].pk.keyid, keyid, ISIM_MS_KEYID_BYTES) == 0)
			return &t->keys[i];
	return NULL;
}

int isim_trust_signer(const struct isim_trust *t, const uint8_t keyid[static ISIM_MS_KEYID_BYTES],
		      const struct isim_trust_key **key, struct isim_error *err)
{
	char hex[ISIM_MS_KEYID_HEX], want[ISIM_MS_KEYID_HEX];

	*key = NULL;
	isim_ms_keyid_hex(keyid, hex);
	if (isim_trust_is_revoked(t, keyid))
		return isim_error_set(err, ISIM_ERR_REFUSED, "key %s is revoked", hex);
	*key = isim_trust_find(t, keyid);
	if (*key)
		return 0;
	if (!t->dir[0] && t->nkeys == 1) {
		isim_ms_keyid_hex(t->keys[0].pk.keyid, want);
		return isim_error_set(err, ISIM_ERR_REFUSED, "signed by key %s, but the public key is %s", hex, want);
	}
	return isim_error_set(err, ISIM_ERR_REFUSED,
			      "signed by key %s, which is not a trusted signer (%zu key%s in %s)", hex, t->nkeys,
			      t->nkeys == 1 ? "" : "s", t->dir);
}

int isim_trust_lookup(void *ctx, const uint8_t keyid[static ISIM_MS_KEYID_BYTES], uint8_t pk[static 32],
		      struct isim_error *err)
{
	const struct isim_trust_key *key;

	if (isim_trust_signer(ctx, keyid, &key, err) < 0)
		return -1;
	memcpy(pk, key->pk.pk, ISIM_MS_PK_BYTES);
	return 0;
}

/* The verdict on a signature by a trusted key, check being the answer
 * of isim_ms_verify_file or _data with why: a refusal is a verdict, any
 * other error is the caller's. */
static int verdict_of(const struct isim_trust_key *key, int check, const struct isim_error *why, struct isim_verdict *v,
		      struct isim_error *err)
{
	snprintf(v->signer, sizeof(v->signer), "%s", key->path);
	if (check == 0) {
		isim_verdict_accept(v);
		return 0;
	}
	if (why->kind == ISIM_ERR_REFUSED)
		return isim_verdict_refuse_error(v, why);
	if (err)
		*err = *why;
	return -1;
}

/* The trusted key for sig; NULL with v refused when there is none. */
static const struct isim_trust_key *signer_of(const struct isim_trust *t, const struct isim_ms_sig *sig,
					      struct isim_verdict *v)
{
	const struct isim_trust_key *key = NULL;
	struct isim_error why;

	isim_verdict_init(v);
	isim_ms_keyid_hex(sig->keyid, v->key_id);
	isim_error_clear(&why);
	if (isim_trust_signer(t, sig->keyid, &key, &why) < 0) {
		isim_verdict_refuse_error(v, &why);
		return NULL;
	}
	return key;
}

int isim_trust_verify_file(const struct isim_trust *t, const struct isim_ms_sig *sig, const char *path,
			   struct isim_verdict *v, struct isim_error *err)
{
	const struct isim_trust_key *key = signer_of(t, sig, v);
	struct isim_error why;

	if (!key)
		return 0;
	isim_error_clear(&why);
	return verdict_of(key, isim_ms_verify_file(&key->pk, sig, path, &why), &why, v, err);
}

int isim_trust_verify_data(const struct isim_trust *t, const struct isim_ms_sig *sig, const void *data, size_t len,
			   struct isim_verdict *v, struct isim_error *err)
{
	const struct isim_trust_key *key = signer_of(t, sig, v);
	struct isim_error why;

	if (!key)
		return 0;
	isim_error_clear(&why);
	return verdict_of(key, isim_ms_verify_data(&key->pk, sig, data, len, &why), &why, v, err);
}

int isim_trust_open(const char *dir, const char *pub, struct isim_trust **out, struct isim_error *err)
{
	if (pub)
		return isim_trust_from_pubkey(pub, out, err);
	if (!dir) {
		*out = NULL;
		return isim_error_set(err, ISIM_ERR_USAGE, "no trusted signers directory and no public key given");
	}
	return isim_trust_load(dir, out, err);
}
