/* SPDX-License-Identifier: MIT */
/* minisign keys and signatures: golden files made with a fixed key and
 * checked by minisign itself, files made by minisign, forgeries that must
 * fail, and each kind of bad input with its exact message. */
#include <errno.h>
#include <fcntl.h>
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
#include "isim/minisign.h"
#include "testutil.h"

#define GOLDEN_KEYID "EFCDAB8967452301"
#define GOLDEN_TC "timestamp:1700000000\tfile:golden.txt\thashed"
#define GOLDEN_PW "correct horse battery staple"

static char vectors[PATH_MAX];

static const char *vec(const char *name)
{
	static char buf[4][PATH_MAX + 64];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/minisign/%s", vectors, name);
	return buf[i];
}

static char *slurp(const char *name, size_t *len)
{
	struct isim_error err;
	char *text = NULL;
	size_t n = 0;

	isim_error_clear(&err);
	if (isim_file_read(vec(name), ISIM_FILE_MAX, &text, &n, &err) < 0)
		fail_msg("%s: %s", vec(name), err.msg);
	if (len)
		*len = n;
	return text;
}

static void golden_seed(uint8_t seed[32], uint8_t keyid[8])
{
	static const uint8_t id[8] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };
	int i;

	for (i = 0; i < 32; i++)
		seed[i] = (uint8_t)(0x42 + 3 * i);
	memcpy(keyid, id, 8);
}

static struct isim_ms_seckey *golden_key(void)
{
	struct isim_ms_seckey *sk = NULL;
	struct isim_error err;
	uint8_t seed[32], keyid[8];

	isim_error_clear(&err);
	golden_seed(seed, keyid);
	assert_int_equal(isim_ms_seckey_from_seed(seed, keyid, &sk, &err), 0);
	return sk;
}

static void test_keyid(void **state)
{
	uint8_t id[8] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef }, back[8];
	char hex[ISIM_MS_KEYID_HEX];

	(void)state;
	isim_ms_keyid_hex(id, hex);
	/* minisign prints the little-endian u64: the bytes reversed. */
	assert_string_equal(hex, GOLDEN_KEYID);
	assert_true(isim_ms_keyid_parse("efcdab8967452301", back));
	assert_memory_equal(back, id, 8);
	assert_false(isim_ms_keyid_parse("EFCDAB896745230", back));
	assert_false(isim_ms_keyid_parse("EFCDAB89674523011", back));
	assert_false(isim_ms_keyid_parse("EFCDAB896745230G", back));
	assert_false(isim_ms_keyid_parse("", back));
}

/* The fixed key formats to the committed files, byte for byte, and those
 * files parse back to it. */
static void test_golden_keys(void **state)
{
	struct isim_ms_seckey *sk = golden_key(), *back = NULL;
	struct isim_ms_pubkey pk, pk2;
	struct isim_error err;
	char *want_sk, *want_pk, *text = NULL, buf[2048];
	size_t len, n;
	int r;

	(void)state;
	isim_error_clear(&err);
	want_sk = slurp("golden.key", &len);
	want_pk = slurp("golden.pub", NULL);
	assert_int_equal(isim_ms_seckey_format(sk, NULL, 0, 0, 0, &text, &n, &err), 0);
	assert_string_equal(text, want_sk);
	assert_int_equal(n, len);
	sodium_free(text);
	isim_ms_seckey_pubkey(sk, &pk);
	r = isim_ms_pubkey_format(&pk, buf, sizeof(buf));
	assert_int_equal(r, (int)strlen(want_pk));
	assert_string_equal(buf, want_pk);

	assert_int_equal(isim_ms_seckey_parse(want_sk, len, "golden.key", &back, &err), 0);
	assert_false(back->locked);
	assert_false(back->encrypted);
	assert_memory_equal(back->keyid, sk->keyid, 8);
	assert_memory_equal(back->sk, sk->sk, sizeof(sk->sk));
	assert_string_equal(back->comment, "minisign unencrypted secret key");
	assert_int_equal(isim_ms_pubkey_parse(want_pk, strlen(want_pk), "golden.pub", &pk2, &err), 0);
	assert_memory_equal(pk2.pk, pk.pk, sizeof(pk.pk));
	assert_memory_equal(pk2.keyid, pk.keyid, 8);
	assert_string_equal(pk2.comment, "minisign public key " GOLDEN_KEYID);
	/* The bare base64 line, as `minisign -P` takes it. */
	*strrchr(want_pk, '\n') = '\0';
	assert_int_equal(isim_ms_pubkey_parse_base64(strchr(want_pk, '\n') + 1, "-P", &pk2, &err), 0);
	assert_memory_equal(pk2.pk, pk.pk, sizeof(pk.pk));
	isim_ms_seckey_free(back);
	isim_ms_seckey_free(sk);
	free(want_sk);
	free(want_pk);
}

/* SOURCE_DATE_EPOCH=1700000000 and the fixed key give the committed
 * signature, which minisign accepted when it was made. */
static void test_golden_signature(void **state)
{
	struct isim_ms_seckey *sk = golden_key();
	struct isim_ms_sig sig, parsed;
	struct isim_ms_pubkey pk;
	struct isim_error err;
	char tc[ISIM_MS_TRUSTED_MAX + 1], *want, *text;
	size_t len, n;

	(void)state;
	isim_error_clear(&err);
	want = slurp("golden.txt.sig", &len);
	assert_int_equal(isim_ms_default_trusted_comment(1700000000, "some/dir/golden.txt", tc, sizeof(tc), &err), 0);
	assert_string_equal(tc, GOLDEN_TC);
	assert_int_equal(isim_ms_sign_file(sk, vec("golden.txt"), tc, NULL, &sig, &err), 0);
	text = isim_ms_sig_format(&sig, &n);
	assert_string_equal(text, want);
	assert_int_equal(n, len);

	assert_int_equal(isim_ms_sig_parse(want, len, "golden.txt.sig", &parsed, &err), 0);
	assert_memory_equal(&parsed, &sig, sizeof(sig));
	assert_string_equal(parsed.trusted, GOLDEN_TC);
	assert_string_equal(parsed.comment, "signature from minisign secret key");
	assert_int_equal(isim_ms_pubkey_load(vec("golden.pub"), &pk, &err), 0);
	assert_int_equal(isim_ms_verify_file(&pk, &parsed, vec("golden.txt"), &err), 0);
	/* The same text held in memory, as provenance statements are. */
	free(text);
	text = slurp("golden.txt", &n);
	assert_int_equal(isim_ms_verify_data(&pk, &parsed, text, n, &err), 0);
	assert_int_equal(isim_ms_sign_data(sk, text, n, tc, NULL, &sig, &err), 0);
	assert_memory_equal(&parsed, &sig, sizeof(sig));
	free(text);
	free(want);
	isim_ms_seckey_free(sk);
}

/* Files that minisign made: its unencrypted key (zero checksum), its
 * signature, and a signature of ours with its key that is byte for byte
 * the one minisign wrote. */
static void test_minisign_made(void **state)
{
	struct isim_ms_seckey *sk = NULL;
	struct isim_ms_pubkey pk, mine;
	struct isim_ms_sig sig, ours;
	struct isim_error err;
	char *want, *text, hex[ISIM_MS_KEYID_HEX];
	size_t len;

	(void)state;
	isim_error_clear(&err);
	assert_int_equal(isim_ms_pubkey_load(vec("minisign.pub"), &pk, &err), 0);
	assert_int_equal(isim_ms_sig_load(vec("minisign.txt.minisig"), &sig, &err), 0);
	assert_int_equal(isim_ms_verify_file(&pk, &sig, vec("minisign.txt"), &err), 0);
	isim_ms_keyid_hex(pk.keyid, hex);
	assert_string_equal(hex, "5B086C40D853AD75");
	assert_string_equal(pk.comment, "minisign public key 5B086C40D853AD75");

	text = slurp("minisign.key", &len);
	assert_int_equal(isim_ms_seckey_parse(text, len, "minisign.key", &sk, &err), 0);
	free(text);
	assert_false(sk->encrypted);
	isim_ms_seckey_pubkey(sk, &mine);
	assert_memory_equal(mine.pk, pk.pk, sizeof(pk.pk));
	assert_memory_equal(mine.keyid, pk.keyid, 8);
	assert_int_equal(isim_ms_sign_file(sk, vec("minisign.txt"), sig.trusted, NULL, &ours, &err), 0);
	text = isim_ms_sig_format(&ours, &len);
	want = slurp("minisign.txt.minisig", NULL);
	assert_string_equal(text, want);
	free(text);
	free(want);
	isim_ms_seckey_free(sk);
}

static void test_encrypted(void **state)
{
	struct isim_ms_seckey *gold = golden_key(), *sk = NULL, *back = NULL;
	struct isim_ms_pubkey pk, mine;
	struct isim_error err;
	char *text, *enc = NULL;
	size_t len, n;

	(void)state;
	isim_error_clear(&err);
	text = slurp("golden-enc.key", &len);
	assert_int_equal(isim_ms_seckey_parse(text, len, "golden-enc.key", &sk, &err), 0);
	assert_true(sk->encrypted);
	assert_true(sk->locked);
	assert_int_equal(sk->opslimit, 524288);
	assert_int_equal(sk->memlimit, 16 << 20);
	assert_int_equal(isim_ms_seckey_unlock(sk, "correct horse", 13, &err), -1);
	tu_expect_error(&err, ISIM_ERR_PERM, "wrong password for this secret key");
	assert_true(sk->locked);
	isim_error_clear(&err);
	assert_int_equal(isim_ms_seckey_unlock(sk, GOLDEN_PW, strlen(GOLDEN_PW), &err), 0);
	assert_false(sk->locked);
	assert_memory_equal(sk->sk, gold->sk, sizeof(gold->sk));
	assert_memory_equal(sk->keyid, gold->keyid, 8);
	free(text);

	/* A fresh encryption: new salt each time, and it opens again. */
	assert_int_equal(isim_ms_seckey_format(gold, "pw", 2, 524288, 16 << 20, &enc, &n, &err), 0);
	text = slurp("golden-enc.key", NULL);
	assert_string_not_equal(enc, text);
	assert_non_null(strstr(enc, "untrusted comment: minisign encrypted secret key\nRWRTY0Iy"));
	assert_int_equal(isim_ms_seckey_parse(enc, n, "new.key", &back, &err), 0);
	assert_int_equal(isim_ms_seckey_unlock(back, "pw", 2, &err), 0);
	assert_memory_equal(back->sk, gold->sk, sizeof(gold->sk));
	free(text);
	sodium_free(enc);
	isim_ms_seckey_free(back);
	isim_ms_seckey_free(sk);
	sk = NULL;

	/* minisign's own encrypted key, at its default scrypt cost. */
	text = slurp("minisign-enc.key", &len);
	assert_int_equal(isim_ms_seckey_parse(text, len, "minisign-enc.key", &sk, &err), 0);
	assert_int_equal(sk->memlimit, 1ULL << 30);
	assert_int_equal(isim_ms_seckey_unlock(sk, "pw", 2, &err), 0);
	assert_int_equal(isim_ms_pubkey_load(vec("minisign-enc.pub"), &pk, &err), 0);
	isim_ms_seckey_pubkey(sk, &mine);
	assert_memory_equal(mine.pk, pk.pk, sizeof(pk.pk));
	assert_memory_equal(mine.keyid, pk.keyid, 8);
	free(text);
	isim_ms_seckey_free(sk);
	isim_ms_seckey_free(gold);
}

/* A copy of the golden signature text with one substitution. */
static char *replaced(const char *text, const char *find, const char *repl)
{
	const char *at = strstr(text, find);
	char *out;

	assert_non_null(at);
	assert_true(asprintf(&out, "%.*s%s%s", (int)(at - text), text, repl, at + strlen(find)) > 0);
	return out;
}

struct forgery {
	const char *name;
	const char *find; /* in golden.txt.sig */
	const char *repl;
	int flip_file; /* flip one bit of golden.txt instead */
	enum isim_err kind;
	const char *msg;
};

#define CHANGED "signature does not verify: the content was changed after signing, or the signature was altered"
#define COMMENT_CHANGED "trusted comment does not verify: the trusted comment or the global signature was altered"

static const struct forgery forgeries[] = {
	{ "one bit of the file", NULL, NULL, 1, ISIM_ERR_REFUSED, CHANGED },
	/* 'u' -> 'v' flips the lowest bit of one signature byte. */
	{ "one bit of the signature", "CuaW0n", "CvaW0n", 0, ISIM_ERR_REFUSED, CHANGED },
	{ "one bit of the trusted comment", "1700000000", "1700000001", 0, ISIM_ERR_REFUSED, COMMENT_CHANGED },
	{ "one bit of the global signature", "2yEWz9", "3yEWz9", 0, ISIM_ERR_REFUSED, COMMENT_CHANGED },
	/* "RUQB" is 'E' 'D' 0x01; "RUQC" makes the key id's first byte 0x02. */
	{ "another key id", "RUQBI0Vn", "RUQCI0Vn", 0, ISIM_ERR_REFUSED,
	  "signed by key EFCDAB8967452302, but the public key is " GOLDEN_KEYID },
	{ "legacy algorithm tag 'Ed'", "RUQBI0Vn", "RWQBI0Vn", 0, ISIM_ERR_DATA,
	  "x.sig:2:1: signature algorithm 'Ed' (minisign's legacy, not prehashed) is not accepted; expected 'ED'" },
	{ "unknown algorithm tag", "RUQBI0Vn", "WFgBI0Vn", 0, ISIM_ERR_DATA,
	  "x.sig:2:1: unknown signature algorithm 'XX'; expected 'ED'" },
	{ "a trusted comment made two lines", "\tfile:", "\nfile:", 0, ISIM_ERR_DATA,
	  "x.sig:4:5: a global signature: ':' is not a base64 character" },
};

static void test_forgeries(void **state)
{
	struct isim_ms_pubkey pk;
	struct isim_ms_sig sig;
	struct isim_error err;
	char *gold = slurp("golden.txt.sig", NULL), *text, *data;
	size_t i, n;
	int r;

	(void)state;
	isim_error_clear(&err);
	assert_int_equal(isim_ms_pubkey_load(vec("golden.pub"), &pk, &err), 0);
	for (i = 0; i < sizeof(forgeries) / sizeof(forgeries[0]); i++) {
		const struct forgery *f = &forgeries[i];

		print_message("# forgery: %s\n", f->name);
		isim_error_clear(&err);
		data = slurp("golden.txt", &n);
		if (f->flip_file)
			data[n / 2] ^= 0x01;
		text = f->find ? replaced(gold, f->find, f->repl) : strdup(gold);
		r = isim_ms_sig_parse(text, strlen(text), "x.sig", &sig, &err);
		if (r == 0)
			r = isim_ms_verify_data(&pk, &sig, data, n, &err);
		assert_int_equal(r, -1);
		tu_expect_error(&err, f->kind, f->msg);
		free(text);
		free(data);
	}
	free(gold);
}

enum kind {
	PUB,
	SEC,
	SIG
};

struct bad {
	enum kind kind;
	const char *base; /* a file of the vectors, or NULL for "" */
	const char *find; /* replaced by repl; NULL: base as it is */
	const char *repl;
	size_t rlen; /* of repl, when it holds a NUL; 0: strlen */
	int fill;    /* > 0: repl is followed by this many 'a' */
	enum isim_err err;
	const char *msg;
};

static const struct bad bads[] = {
	/* public keys */
	{ PUB, NULL, NULL, NULL, 0, 0, ISIM_ERR_DATA, "x.pub: empty; expected an untrusted comment line" },
	{ PUB, "golden.pub", "untrusted comment: ", "comment: ", 0, 0, ISIM_ERR_DATA,
	  "x.pub:1:1: expected a line starting with 'untrusted comment: '" },
	{ PUB, "golden.pub", "public key EF", "public key", 0, ISIM_MS_COMMENT_MAX + 1 - 33, ISIM_ERR_DATA,
	  "x.pub:1:1023: untrusted comment is longer than 1003 bytes" },
	{ PUB, "golden.pub", "public key EF", "public key", 0, ISIM_MS_COMMENT_MAX - 33, 0, NULL },
	{ PUB, "golden.pub", "RWQBI0Vn", "", 0, 0, ISIM_ERR_DATA,
	  "x.pub:2:1: a public key: expected 56 base64 characters (42 bytes), got 48" },
	{ PUB, "golden.pub", "dAeYVKNz\n", "dAeY", 0, 0, ISIM_ERR_DATA,
	  "x.pub:2:1: a public key: expected 56 base64 characters (42 bytes), got 52" },
	{ PUB, "golden.pub", "BqbI", "Bq*I", 0, 0, ISIM_ERR_DATA,
	  "x.pub:2:20: a public key: '*' is not a base64 character" },
	{ PUB, "golden.pub", "BqbI", "Bq\rI", 0, 0, ISIM_ERR_DATA, "x.pub:2:20: carriage return inside the line" },
	{ PUB, "golden.pub", "BqbI", "Bq", 0, 0, ISIM_ERR_DATA,
	  "x.pub:2:1: a public key: expected 56 base64 characters (42 bytes), got 54" },
	/* A comment of two lines: its second is taken for the key. */
	{ PUB, "golden.pub", "01\nRWQB", "01\nmore comment\nRWQB", 0, 0, ISIM_ERR_DATA,
	  "x.pub:2:5: a public key: ' ' is not a base64 character" },
	{ PUB, "golden.pub", "RWQBI0Vn", "RUQBI0Vn", 0, 0, ISIM_ERR_DATA,
	  "x.pub:2:1: unknown key algorithm 'ED'; expected 'Ed'" },
	{ PUB, "golden.pub", "KNz\n", "KNz\nextra\n", 0, 0, ISIM_ERR_DATA, "x.pub:3:1: unexpected text after line 2" },
	{ PUB, "golden.pub", "KNz\n", "KNz\n\n", 0, 0, ISIM_ERR_DATA, "x.pub:3:1: unexpected text after line 2" },
	{ PUB, "golden.pub", "\nRWQB", "\n\nRWQB", 0, 0, ISIM_ERR_DATA,
	  "x.pub:2:1: a public key: expected 56 base64 characters (42 bytes), got 0" },
	{ PUB, "golden.pub", "KNz\n", "KNz", 0, 0, 0, NULL },	/* no final LF: accepted */
	{ PUB, "golden.pub", "01\n", "01\r\n", 0, 0, 0, NULL }, /* CR LF: accepted */
	{ PUB, "golden.pub", "01\nRWQB", "01\0RWQB", 7, 0, ISIM_ERR_DATA, "x.pub:1:56: NUL byte inside the line" },
	{ PUB, "golden.pub", "RWQBI0VniavN71ZG+BqbI1Mk+pSI20UHtSO8SPvmYSipvSALdAeYVKNz\n", "", 0, 0, ISIM_ERR_DATA,
	  "x.pub:2: ends after line 1; expected the public key's base64 line" },
	{ PUB, "golden.key", NULL, NULL, 0, 0, ISIM_ERR_DATA, "x.pub:2:1: this is a secret key, not a public key" },
	{ PUB, "minisign.key", NULL, NULL, 0, 0, ISIM_ERR_DATA, "x.pub:2:1: this is a secret key, not a public key" },
	{ PUB, "golden.txt.sig", NULL, NULL, 0, 0, ISIM_ERR_DATA,
	  "x.pub:2:1: this is a file signature, not a public key" },
	/* secret keys */
	{ SEC, "golden.pub", NULL, NULL, 0, 0, ISIM_ERR_DATA, "x.key:2:1: this is a public key, not a secret key" },
	{ SEC, "golden.key", "RWQAAEIy", "RUQAAEIy", 0, 0, ISIM_ERR_DATA,
	  "x.key:2:1: unknown key algorithm 'ED'; expected 'Ed'" },
	/* kdf "Xy": bytes 45 64 58 79 42 32 */
	{ SEC, "golden.key", "RWQAAEIy", "RWRYeUIy", 0, 0, ISIM_ERR_DATA,
	  "x.key:2:1: unknown key derivation function 'Xy'; expected 'Sc'" },
	{ SEC, "golden.key", "RWQAAEIy", "RWQAAEIz", 0, 0, ISIM_ERR_DATA,
	  "x.key:2:1: unknown key checksum algorithm 'B3'; expected 'B2'" },
	/* A changed checksum byte, then a changed key id byte. */
	{ SEC, "golden.key", "P2TJ", "P3TJ", 0, 0, ISIM_ERR_DATA,
	  "x.key: secret key is corrupt: its checksum does not match" },
	{ SEC, "golden.key", "AAAAAAAAASNF", "AAAAAAAAAAAA", 0, 0, ISIM_ERR_DATA,
	  "x.key: secret key is corrupt: its checksum does not match" },
	/* minisign leaves the checksum of an unencrypted key zero; a changed
	 * seed byte is still found. */
	{ SEC, "minisign.key", "21cr", "31cr", 0, 0, ISIM_ERR_DATA,
	  "x.key: secret key is corrupt: its public half does not match its seed" },
	/* memlimit bytes 46..53: 00 00 00 01 00 00 00 00 (16 MiB) -> 2^40 + 2^24 */
	{ SEC, "golden-enc.key", "EAAAAAZxH", "EAAQAAZxH", 0, 0, ISIM_ERR_DATA,
	  "x.key:2: scrypt limits in the key (opslimit 524288, memlimit 1099528404992) exceed the largest accepted "
	  "(4294967296, 4294967296)" },
	{ SEC, "golden.key", "RWQAAEIy", "RWQAAEI", 0, 0, ISIM_ERR_DATA,
	  "x.key:2:1: a secret key: expected 212 base64 characters (158 bytes), got 211" },
	{ SEC, "golden.key", "hVI=\n", "hVI=\nmore\n", 0, 0, ISIM_ERR_DATA, "x.key:3:1: unexpected text after line 2" },
	/* signatures */
	{ SIG, "golden.txt.sig", "\n2yEW", "", 0, 0, ISIM_ERR_DATA,
	  "x.sig:4: ends after line 3; expected the global signature's base64 line" },
	{ SIG, "golden.txt.sig", "trusted comment: timestamp", "timestamp", 0, 0, ISIM_ERR_DATA,
	  "x.sig:3:1: expected a line starting with 'trusted comment: '" },
	{ SIG, "golden.txt.sig", "hashed", "hashed", 0, ISIM_MS_TRUSTED_MAX - (int)sizeof(GOLDEN_TC) + 2, ISIM_ERR_DATA,
	  "x.sig:3:8191: trusted comment is longer than 8173 bytes" },
	{ SIG, "golden.txt.sig", "hashed", "hashed", 0, ISIM_MS_TRUSTED_MAX - (int)sizeof(GOLDEN_TC) + 1, 0, NULL },
	{ SIG, "golden.txt.sig", "ECw==\n", "ECw==\n\n", 0, 0, ISIM_ERR_DATA,
	  "x.sig:5:1: unexpected text after line 4" },
	{ SIG, "golden.txt.sig", "w8=\n", "w9=\n", 0, 0, ISIM_ERR_DATA,
	  "x.sig:2:100: a file signature: invalid base64 (bad padding, or unused bits not zero)" },
	{ SIG, "golden.txt.sig", "w8=\n", "w8\n", 0, 0, ISIM_ERR_DATA,
	  "x.sig:2:1: a file signature: expected 100 base64 characters (74 bytes), got 99" },
	{ SIG, "golden.txt.sig", "ECw==", "ECw=A", 0, 0, ISIM_ERR_DATA,
	  "x.sig:4:88: a global signature: invalid base64 (bad padding, or unused bits not zero)" },
	{ SIG, "golden.pub", NULL, NULL, 0, 0, ISIM_ERR_DATA, "x.sig:2:1: this is a public key, not a file signature" },
	{ SIG, "golden.key", NULL, NULL, 0, 0, ISIM_ERR_DATA, "x.sig:2:1: this is a secret key, not a file signature" },
};

static char *bad_text(const struct bad *b, size_t *len)
{
	char *base = b->base ? slurp(b->base, NULL) : strdup(""), *repl = NULL, *out;
	const char *at;
	size_t rl, n;

	if (!b->find) {
		*len = strlen(base);
		return base;
	}
	n = b->rlen ? b->rlen : strlen(b->repl);
	rl = n + (size_t)b->fill;
	repl = malloc(rl + 1);
	assert_non_null(repl);
	memset(repl, 'a', rl);
	memcpy(repl, b->repl, n);
	repl[rl] = '\0';
	at = strstr(base, b->find);
	if (!at)
		print_error("'%s' is not in %s\n", b->find, b->base);
	assert_non_null(at);
	*len = (size_t)(at - base) + rl + strlen(at + strlen(b->find));
	out = malloc(*len + 1);
	assert_non_null(out);
	memcpy(out, base, (size_t)(at - base));
	memcpy(out + (at - base), repl, rl);
	strcpy(out + (at - base) + rl, at + strlen(b->find));
	free(base);
	free(repl);
	return out;
}

static void test_bad_input(void **state)
{
	struct isim_ms_seckey *sk = NULL;
	struct isim_ms_pubkey pk;
	struct isim_ms_sig sig;
	struct isim_error err;
	size_t i, len;
	int r;

	(void)state;
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];
		char *text = bad_text(b, &len);

		isim_error_clear(&err);
		if (b->kind == PUB)
			r = isim_ms_pubkey_parse(text, len, "x.pub", &pk, &err);
		else if (b->kind == SEC)
			r = isim_ms_seckey_parse(text, len, "x.key", &sk, &err);
		else
			r = isim_ms_sig_parse(text, len, "x.sig", &sig, &err);
		if (r != (b->err ? -1 : 0))
			print_error("case %zu (%s -> %s): returned %d\n", i, b->find ? b->find : "",
				    b->repl ? b->repl : "", r);
		assert_int_equal(r, b->err ? -1 : 0);
		if (b->err)
			tu_expect_error(&err, b->err, b->msg);
		isim_ms_seckey_free(sk);
		sk = NULL;
		free(text);
	}
	print_message("# %zu bad-input cases\n", i);
}

/* Secret key files that others may read are refused before use. */
static void test_key_file_mode(void **state)
{
	static const mode_t modes[] = { 0644, 0640, 0604, 0660, 0602 };
	char dir[] = "/tmp/isim-ms-test.XXXXXX", path[PATH_MAX], msg[PATH_MAX + 200];
	struct isim_ms_seckey *sk = NULL;
	struct isim_error err;
	char *text;
	size_t i, len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/k.key", dir);
	text = slurp("golden.key", &len);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		assert_int_equal(isim_file_write_atomic(path, text, len, modes[i], NULL), 0);
		isim_error_clear(&err);
		assert_int_equal(isim_ms_seckey_load(path, &sk, &err), -1);
		snprintf(msg, sizeof(msg),
			 "%s: secret key file is accessible by group or others (mode %04o); refusing it until "
			 "'chmod 600' is run on it",
			 path, (unsigned)modes[i]);
		tu_expect_error(&err, ISIM_ERR_PERM, msg);
	}
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(isim_ms_seckey_load(path, &sk, &err), 0);
	isim_ms_seckey_free(sk);
	unlink(path);
	isim_error_clear(&err);
	assert_int_equal(isim_ms_seckey_load(path, &sk, &err), -1);
	snprintf(msg, sizeof(msg), "%s: cannot open secret key: No such file or directory", path);
	tu_expect_error(&err, ISIM_ERR_NOINPUT, msg);
	rmdir(dir);
	free(text);
}

/* Comments at minisign's limits, and one byte over. */
static void test_comment_limits(void **state)
{
	struct isim_ms_seckey *sk = golden_key();
	struct isim_ms_sig sig, back;
	struct isim_ms_pubkey pk;
	struct isim_error err;
	char *tc = malloc(ISIM_MS_TRUSTED_MAX + 2), uc[ISIM_MS_COMMENT_MAX + 2], *text;
	size_t len;

	(void)state;
	isim_error_clear(&err);
	isim_ms_seckey_pubkey(sk, &pk);
	memset(tc, 't', ISIM_MS_TRUSTED_MAX);
	tc[ISIM_MS_TRUSTED_MAX] = '\0';
	memset(uc, 'u', ISIM_MS_COMMENT_MAX);
	uc[ISIM_MS_COMMENT_MAX] = '\0';
	assert_int_equal(isim_ms_sign_data(sk, "x", 1, tc, uc, &sig, &err), 0);
	text = isim_ms_sig_format(&sig, &len);
	assert_int_equal(isim_ms_sig_parse(text, len, "long.sig", &back, &err), 0);
	assert_int_equal(isim_ms_verify_data(&pk, &back, "x", 1, &err), 0);
	assert_string_equal(back.trusted, tc);
	assert_string_equal(back.comment, uc);
	free(text);

	strcpy(tc + ISIM_MS_TRUSTED_MAX, "t");
	assert_int_equal(isim_ms_sign_data(sk, "x", 1, tc, NULL, &sig, &err), -1);
	tu_expect_error(&err, ISIM_ERR_USAGE, "the trusted comment must be one line of at most 8173 bytes");
	strcpy(uc + ISIM_MS_COMMENT_MAX, "u");
	isim_error_clear(&err);
	assert_int_equal(isim_ms_sign_data(sk, "x", 1, "ok", uc, &sig, &err), -1);
	tu_expect_error(&err, ISIM_ERR_USAGE, "the untrusted comment must be one line of at most 1003 bytes");
	isim_error_clear(&err);
	assert_int_equal(isim_ms_sign_data(sk, "x", 1, "two\nlines", NULL, &sig, &err), -1);
	tu_expect_error(&err, ISIM_ERR_USAGE, "the trusted comment must be one line of at most 8173 bytes");
	isim_error_clear(&err);
	assert_int_equal(isim_ms_default_trusted_comment(0, "dir/a\nb", tc, ISIM_MS_TRUSTED_MAX + 2, &err), -1);
	tu_expect_error(&err, ISIM_ERR_DATA,
			"dir/a?b: the file name holds a line break, which a trusted comment cannot; give the trusted "
			"comment yourself");
	free(tc);
	isim_ms_seckey_free(sk);
}

/* Staged files: never replace without being told, never leave a
 * temporary file behind. */
static void test_staged_file(void **state)
{
	char dir[] = "/tmp/isim-ms-test.XXXXXX", path[PATH_MAX], msg[PATH_MAX + 100];
	struct isim_staged_file sf;
	struct isim_error err;
	struct stat st;
	char *text = NULL;
	size_t len;

	(void)state;
	isim_error_clear(&err);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/k", dir);
	assert_int_equal(isim_file_stage(&sf, path, "one", 3, 0600, &err), 0);
	assert_int_equal(isim_file_commit(&sf, false, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(isim_file_stage(&sf, path, "two", 3, 0600, &err), 0);
	assert_int_equal(isim_file_commit(&sf, false, &err), -1);
	snprintf(msg, sizeof(msg), "%s: already exists; not replaced", path);
	tu_expect_error(&err, ISIM_ERR_CANTCREATE, msg);
	assert_int_equal(isim_file_read(path, 100, &text, &len, &err), 0);
	assert_string_equal(text, "one");
	free(text);
	assert_int_equal(isim_file_stage(&sf, path, "three", 5, 0644, &err), 0);
	assert_int_equal(isim_file_commit(&sf, true, &err), 0);
	assert_int_equal(isim_file_read(path, 100, &text, &len, &err), 0);
	assert_string_equal(text, "three");
	free(text);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0); /* fails if a temporary file is left */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyid),
		cmocka_unit_test(test_golden_keys),
		cmocka_unit_test(test_golden_signature),
		cmocka_unit_test(test_minisign_made),
		cmocka_unit_test(test_encrypted),
		cmocka_unit_test(test_forgeries),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_key_file_mode),
		cmocka_unit_test(test_comment_limits),
		cmocka_unit_test(test_staged_file),
	};

	snprintf(vectors, sizeof(vectors), "%s", tu_vectors());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
