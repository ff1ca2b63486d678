/* SPDX-License-Identifier: MIT */
/* The trusted signers directory: its keys, its revocation list, and the
 * whole directory refused when any part of it is wrong. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "isim/file.h"
#include "isim/trust.h"
#include "testutil.h"

#define GOLDEN "EFCDAB8967452301"
#define MINISIGN "5B086C40D853AD75"

static char vectors[PATH_MAX];
static char dir[64];

static char *slurp(const char *name)
{
	char path[PATH_MAX + 64];
	struct isim_error err;
	char *text = NULL;
	size_t len;

	isim_error_clear(&err);
	snprintf(path, sizeof(path), "%s/minisign/%s", vectors, name);
	if (isim_file_read(path, ISIM_FILE_MAX, &text, &len, &err) < 0)
		fail_msg("%s: %s", path, err.msg);
	return text;
}

static void put(const char *name, const char *text, mode_t mode)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(isim_file_write_atomic(path, text, strlen(text), mode, NULL), 0);
}

static void put_vector(const char *name, const char *as)
{
	char *text = slurp(name);

	put(as, text, 0644);
	free(text);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/isim-trust-test.XXXXXX");
	assert_non_null(mkdtemp(dir));
	put_vector("golden.pub", "golden.pub");
	put_vector("minisign.pub", "ci.pub");
	put("README", "not a key, and not read\n", 0644);
	put(".hidden.pub", "not read either\n", 0644);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	isim_rmtree(dir);
	return 0;
}

static void id(const char *hex, uint8_t keyid[8])
{
	assert_true(isim_ms_keyid_parse(hex, keyid));
}

static void test_load(void **state)
{
	const struct isim_trust_key *key;
	struct isim_trust *t = NULL;
	struct isim_error err;
	char path[PATH_MAX + 64], msg[PATH_MAX + 200];
	uint8_t keyid[8], pk[32];

	(void)state;
	isim_error_clear(&err);
	assert_int_equal(isim_trust_load(dir, &t, &err), 0);
	assert_int_equal(t->nkeys, 2);
	assert_int_equal(t->nrevoked, 0);
	/* Sorted by file name. */
	snprintf(path, sizeof(path), "%s/ci.pub", dir);
	assert_string_equal(t->keys[0].path, path);
	id(GOLDEN, keyid);
	assert_int_equal(isim_trust_signer(t, keyid, &key, &err), 0);
	snprintf(path, sizeof(path), "%s/golden.pub", dir);
	assert_string_equal(key->path, path);
	assert_int_equal(isim_trust_lookup(t, keyid, pk, &err), 0);
	assert_memory_equal(pk, key->pk.pk, 32);
	id("0123456789ABCDEF", keyid);
	assert_int_equal(isim_trust_signer(t, keyid, &key, &err), -1);
	assert_null(key);
	snprintf(msg, sizeof(msg), "signed by key 0123456789ABCDEF, which is not a trusted signer (2 keys in %s)", dir);
	tu_expect_error(&err, ISIM_ERR_REFUSED, msg);
	isim_trust_free(t);
}

static void test_revoked(void **state)
{
	const struct isim_trust_key *key;
	struct isim_trust *t = NULL;
	struct isim_error err;
	uint8_t keyid[8], pk[32];

	(void)state;
	isim_error_clear(&err);
	put("revoked",
	    "# keys that must never be trusted again\n"
	    "\n"
	    "  " MINISIGN "   # laptop lost 2026-03-01\n"
	    "efcdab8967452301\n"
	    "EFCDAB8967452301\r\n"
	    "0000000000000001#no blank before the comment\n"
	    "7E6ABA5A7C1915D # minisign 0.11 leaves out leading zeros\n",
	    0644);
	assert_int_equal(isim_trust_load(dir, &t, &err), 0);
	assert_int_equal(t->nkeys, 2);
	assert_int_equal(t->nrevoked, 4);
	id(MINISIGN, keyid);
	assert_true(isim_trust_is_revoked(t, keyid));
	/* Still in the directory, but refused. */
	assert_non_null(isim_trust_find(t, keyid));
	assert_int_equal(isim_trust_signer(t, keyid, &key, &err), -1);
	tu_expect_error(&err, ISIM_ERR_REFUSED, "key " MINISIGN " is revoked");
	isim_error_clear(&err);
	id(GOLDEN, keyid);
	assert_int_equal(isim_trust_lookup(t, keyid, pk, &err), -1);
	tu_expect_error(&err, ISIM_ERR_REFUSED, "key " GOLDEN " is revoked");
	id("0000000000000001", keyid);
	assert_true(isim_trust_is_revoked(t, keyid));
	id("07E6ABA5A7C1915D", keyid);
	assert_true(isim_trust_is_revoked(t, keyid));
	isim_trust_free(t);
}

struct bad_dir {
	const char *name;
	const char *text; /* NULL: a copy of this vector file */
	const char *vector;
	mode_t mode;
	enum isim_err kind;
	const char *msg; /* after "DIR/" */
};

static const struct bad_dir bad_dirs[] = {
	{ "revoked", "EFCDAB89674523011\n", NULL, 0644, ISIM_ERR_CONFIG,
	  "revoked:1:1: expected a key id of up to 16 hex digits, as minisign prints it; got 'EFCDAB89674523011'" },
	{ "revoked", "EFCDAB896745230G\n", NULL, 0644, ISIM_ERR_CONFIG,
	  "revoked:1:1: expected a key id of up to 16 hex digits, as minisign prints it; got 'EFCDAB896745230G'" },
	{ "revoked", "# ok\n" GOLDEN " x\n", NULL, 0644, ISIM_ERR_CONFIG,
	  "revoked:2:18: expected a '#' comment or the end of the line after the key id" },
	{ "revoked", "RWQBI0VniavN71ZG+BqbI1Mk+pSI20UHtSO8SPvmYSipvSALdAeYVKNz\n", NULL, 0644, ISIM_ERR_CONFIG,
	  "revoked:1:1: expected a key id of up to 16 hex digits, as minisign prints it; got "
	  "'RWQBI0VniavN71ZG+BqbI1Mk+pSI20UHtSO8SPvm'" },
	{ "revoked", GOLDEN "\n", NULL, 0666, ISIM_ERR_PERM,
	  "revoked: revocation list is writable by others (mode 0666); refusing it" },
	{ "bad.pub", "untrusted comment: x\nRWQB\n", NULL, 0644, ISIM_ERR_CONFIG,
	  "bad.pub:2:1: a public key: expected 56 base64 characters (42 bytes), got 4" },
	{ "leaked.pub", NULL, "golden.key", 0644, ISIM_ERR_CONFIG,
	  "leaked.pub:2:1: this is a secret key, not a public key" },
	{ "other.pub", NULL, "golden.pub", 0646, ISIM_ERR_PERM,
	  "other.pub: trusted key is writable by others (mode 0646); refusing it" },
	/* The same key id as golden.pub, another key. */
	{ "twin.pub", "untrusted comment: twin\nRWQBI0VniavN79ZG+BqbI1Mk+pSI20UHtSO8SPvmYSipvSALdAeYVKNz\n", NULL, 0644,
	  ISIM_ERR_CONFIG, "twin.pub: key id " GOLDEN " is also that of DIR/golden.pub, a different key" },
};

static void test_bad_dir(void **state)
{
	struct isim_trust *t = NULL;
	struct isim_error err;
	char want[PATH_MAX * 2], path[PATH_MAX + 64];
	const char *p;
	size_t i;

	for (i = 0; i < sizeof(bad_dirs) / sizeof(bad_dirs[0]); i++) {
		const struct bad_dir *b = &bad_dirs[i];
		char *text = b->text ? strdup(b->text) : slurp(b->vector);

		teardown(state);
		setup(state);
		put(b->name, text, 0644);
		snprintf(path, sizeof(path), "%s/%s", dir, b->name);
		assert_int_equal(chmod(path, b->mode), 0);
		isim_error_clear(&err);
		assert_int_equal(isim_trust_load(dir, &t, &err), -1);
		assert_null(t);
		/* "DIR" in the message stands for the directory. */
		p = strstr(b->msg, "DIR/");
		if (p)
			snprintf(want, sizeof(want), "%s/%.*s%s%s", dir, (int)(p - b->msg), b->msg, dir, p + 3);
		else
			snprintf(want, sizeof(want), "%s/%s", dir, b->msg);
		tu_expect_error(&err, b->kind, want);
		free(text);
	}
	print_message("# %zu bad directories\n", i);
}

static void test_dir_itself(void **state)
{
	struct isim_trust *t = NULL;
	struct isim_error err;
	char msg[PATH_MAX + 200], missing[PATH_MAX];

	(void)state;
	isim_error_clear(&err);
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(isim_trust_load(dir, &t, &err), -1);
	snprintf(msg, sizeof(msg), "%s: trusted signers directory is writable by others (mode 0777); refusing it", dir);
	tu_expect_error(&err, ISIM_ERR_PERM, msg);
	assert_int_equal(chmod(dir, 0755), 0);

	snprintf(missing, sizeof(missing), "%s/none", dir);
	isim_error_clear(&err);
	assert_int_equal(isim_trust_load(missing, &t, &err), -1);
	snprintf(msg, sizeof(msg), "%s: cannot open trusted signers directory: No such file or directory", missing);
	tu_expect_error(&err, ISIM_ERR_NOINPUT, msg);

	/* An empty directory trusts nobody, and says so. */
	assert_int_equal(mkdir(missing, 0755), 0);
	assert_int_equal(isim_trust_load(missing, &t, &err), 0);
	assert_int_equal(t->nkeys, 0);
	isim_trust_free(t);
}

static void test_one_key(void **state)
{
	const struct isim_trust_key *key;
	struct isim_trust *t = NULL;
	struct isim_error err;
	char path[PATH_MAX + 64];
	uint8_t keyid[8];

	(void)state;
	isim_error_clear(&err);
	snprintf(path, sizeof(path), "%s/golden.pub", dir);
	assert_int_equal(isim_trust_from_pubkey(path, &t, &err), 0);
	id(GOLDEN, keyid);
	assert_int_equal(isim_trust_signer(t, keyid, &key, &err), 0);
	id(MINISIGN, keyid);
	assert_int_equal(isim_trust_signer(t, keyid, &key, &err), -1);
	tu_expect_error(&err, ISIM_ERR_REFUSED, "signed by key " MINISIGN ", but the public key is " GOLDEN);
	isim_trust_free(t);
	t = NULL;
	/* A malformed key given by the user is bad input, not configuration. */
	put("bad.pub", "untrusted comment: x\n", 0644);
	snprintf(path, sizeof(path), "%s/bad.pub", dir);
	isim_error_clear(&err);
	assert_int_equal(isim_trust_from_pubkey(path, &t, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_DATA);
}

/* Verdicts on a signature: ok by a trusted key; refused, with the reason,
 * when the content changed or the signer is revoked; and no verdict at all
 * (-1) when the content cannot be read. */
static void test_verdicts(void **state)
{
	struct isim_trust *t = NULL;
	struct isim_ms_sig sig;
	struct isim_verdict v;
	struct isim_error err;
	char path[PATH_MAX + 64], signer[PATH_MAX + 64];
	char *text = slurp("golden.txt");

	(void)state;
	isim_error_clear(&err);
	snprintf(path, sizeof(path), "%s/minisign/golden.txt.sig", vectors);
	assert_int_equal(isim_ms_sig_load(path, &sig, &err), 0);
	snprintf(signer, sizeof(signer), "%s/golden.pub", dir);
	assert_int_equal(isim_trust_load(dir, &t, &err), 0);

	snprintf(path, sizeof(path), "%s/minisign/golden.txt", vectors);
	assert_int_equal(isim_trust_verify_file(t, &sig, path, &v, &err), 0);
	assert_true(v.ok);
	assert_string_equal(v.reason, "");
	assert_string_equal(v.key_id, GOLDEN);
	assert_string_equal(v.signer, signer);
	assert_int_equal(isim_trust_verify_data(t, &sig, text, strlen(text), &v, &err), 0);
	assert_true(v.ok);

	/* One byte less: the signer is known, the signature does not hold. */
	assert_int_equal(isim_trust_verify_data(t, &sig, text, strlen(text) - 1, &v, &err), 0);
	assert_int_equal(err.kind, ISIM_ERR_NONE);
	assert_false(v.ok);
	assert_string_equal(v.key_id, GOLDEN);
	assert_string_equal(v.signer, signer);
	assert_string_equal(v.reason, "signature does not verify: the content was changed after signing, "
				      "or the signature was altered");

	/* Could not check: nothing to read is no verdict. */
	snprintf(path, sizeof(path), "%s/none.txt", dir);
	isim_error_clear(&err);
	assert_int_equal(isim_trust_verify_file(t, &sig, path, &v, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	assert_false(v.ok);
	isim_trust_free(t);

	/* A revoked signer is refused before anything is read. */
	put("revoked", GOLDEN "\n", 0644);
	assert_int_equal(isim_trust_load(dir, &t, &err), 0);
	isim_error_clear(&err);
	assert_int_equal(isim_trust_verify_file(t, &sig, path, &v, &err), 0);
	assert_int_equal(err.kind, ISIM_ERR_NONE);
	assert_false(v.ok);
	assert_string_equal(v.reason, "key " GOLDEN " is revoked");
	assert_string_equal(v.key_id, GOLDEN);
	assert_string_equal(v.signer, "");
	isim_trust_free(t);
	free(text);
}

/* The directory is the caller's to resolve: none given, none opened. */
static void test_open(void **state)
{
	struct isim_trust *t = NULL;
	struct isim_error err;
	char path[PATH_MAX + 64];

	(void)state;
	isim_error_clear(&err);
	assert_int_equal(isim_trust_open(NULL, NULL, &t, &err), -1);
	assert_null(t);
	assert_int_equal(err.kind, ISIM_ERR_USAGE);
	assert_int_equal(isim_trust_open(dir, NULL, &t, &err), 0);
	assert_int_equal(t->nkeys, 2);
	isim_trust_free(t);
	snprintf(path, sizeof(path), "%s/golden.pub", dir);
	assert_int_equal(isim_trust_open(NULL, path, &t, &err), 0);
	assert_int_equal(t->nkeys, 1);
	assert_string_equal(t->dir, "");
	isim_trust_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_itself, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verdicts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open, setup, teardown),
	};

	snprintf(vectors, sizeof(vectors), "%s", tu_vectors());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
