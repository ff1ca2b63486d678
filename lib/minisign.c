/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "isim/file.h"
#include "isim/minisign.h"
#include "isim/secbuf.h"

#define PREFIX_UNTRUSTED "untrusted comment: "
#define PREFIX_TRUSTED "trusted comment: "
#define DEFAULT_SIG_COMMENT "signature from minisign secret key"
#define DEFAULT_SK_COMMENT "minisign encrypted secret key"
#define DEFAULT_SK_PLAIN_COMMENT "minisign unencrypted secret key"

#define ALG_KEY "Ed"	   /* Ed25519 keys, and minisign's legacy signatures */
#define ALG_PREHASHED "ED" /* Ed25519 over BLAKE2b-512 of the file */
#define KDF_SCRYPT "Sc"
#define CHK_BLAKE2B "B2"
#define CHK_BYTES 32

/* The binary records, field by field, as minisign lays them out. */
#define PUBKEY_BYTES (2 + ISIM_MS_KEYID_BYTES + ISIM_MS_PK_BYTES)
#define SIG_BYTES (2 + ISIM_MS_KEYID_BYTES + ISIM_MS_SIG_BYTES)
#define SEALED_BYTES (ISIM_MS_KEYID_BYTES + ISIM_MS_SK_BYTES + CHK_BYTES)
#define SECKEY_BYTES (2 + 2 + 2 + ISIM_MS_SALT_BYTES + 8 + 8 + SEALED_BYTES)
#define OFF_KDF 2
#define OFF_CHK_ALG 4
#define OFF_SALT 6
#define OFF_OPS (OFF_SALT + ISIM_MS_SALT_BYTES)
#define OFF_MEM (OFF_OPS + 8)
#define OFF_SEALED (OFF_MEM + 8)

/* Base64 text lengths, without NUL. */
#define B64_LEN(n) (((n) + 2) / 3 * 4)
#define SECKEY_FILE_MAX 4096

_Static_assert(sizeof(((struct isim_ms_seckey *)0)->sealed) == SEALED_BYTES, "sealed size");
_Static_assert(B64_LEN(PUBKEY_BYTES) + 1 == ISIM_MS_PUBKEY_B64, "public key base64 size");

struct line {
	const char *p;
	size_t n;
	int no; /* 1-based */
};

static int ms_init(struct isim_error *err)
{
	if (sodium_init() < 0)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "libsodium cannot be initialised");
	return 0;
}

static uint64_t le64_load(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void le64_store(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

void isim_ms_keyid_hex(const uint8_t keyid[static ISIM_MS_KEYID_BYTES], char hex[static ISIM_MS_KEYID_HEX])
{
	snprintf(hex, ISIM_MS_KEYID_HEX, "%016" PRIX64, le64_load(keyid));
}

bool isim_ms_keyid_parse(const char *hex, uint8_t keyid[static ISIM_MS_KEYID_BYTES])
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 16; i++) {
		char c = hex[i];
		int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return false;
		v = v << 4 | (uint64_t)d;
	}
	if (hex[16])
		return false;
	le64_store(keyid, v);
	return true;
}

bool isim_ms_comment_ok(const char *comment, size_t max)
{
	size_t n = strlen(comment);

	return n <= max && !strpbrk(comment, "\r\n");
}

static int at(struct isim_error *err, const char *name, int line, int column)
{
	isim_error_at(err, name, line, column);
	return -1;
}

/* Split text into lines, at most max + 1 of them (one more than a record
 * has, for extra_lines to report). Each ends at LF, a CR just before it
 * dropped; the last may lack its LF. NUL bytes and other CRs are refused,
 * since minisign's reader would cut the line there and verify a different
 * comment. Returns the count, or -1. */
static int split_lines(const char *text, size_t len, const char *name, struct line *lines, int max,
		       struct isim_error *err)
{
	size_t i = 0;
	int n = 0;

	while (i < len && n <= max) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t k, m = end - i;

		if (nl && m > 0 && text[end - 1] == '\r')
			m--;
		for (k = 0; k < m; k++) {
			if (text[i + k] == '\0' || text[i + k] == '\r') {
				at(err, name, n + 1, (int)k + 1);
				return isim_error_set(err, ISIM_ERR_DATA, "%s inside the line",
						      text[i + k] ? "carriage return" : "NUL byte");
			}
		}
		lines[n].p = text + i;
		lines[n].n = m;
		lines[n].no = n + 1;
		n++;
		i = nl ? end + 1 : len;
	}
	return n;
}

static int extra_lines(int n, int max, const char *name, struct isim_error *err)
{
	if (n <= max)
		return 0;
	at(err, name, max + 1, 1);
	return isim_error_set(err, ISIM_ERR_DATA, "unexpected text after line %d", max);
}

static int comment_line(const struct line *l, const char *prefix, size_t max, char *out, const char *name,
			struct isim_error *err)
{
	size_t plen = strlen(prefix);

	if (l->n < plen || memcmp(l->p, prefix, plen) != 0) {
		at(err, name, l->no, 1);
		return isim_error_set(err, ISIM_ERR_DATA, "expected a line starting with '%s'", prefix);
	}
	if (l->n - plen > max) {
		at(err, name, l->no, (int)(plen + max + 1));
		return isim_error_set(err, ISIM_ERR_DATA, "%.*s is longer than %zu bytes", (int)(plen - 2), prefix,
				      max);
	}
	memcpy(out, l->p + plen, l->n - plen);
	out[l->n - plen] = '\0';
	return 0;
}

static bool is_b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
	       c == '=';
}

static const char *record_kind(size_t b64len)
{
	switch (b64len) {
	case B64_LEN(PUBKEY_BYTES):
		return "a public key";
	case B64_LEN(SECKEY_BYTES):
		return "a secret key";
	case B64_LEN(SIG_BYTES):
		return "a file signature";
	default:
		return NULL;
	}
}

/* Decode one base64 line of exactly bytes bytes, in its canonical form
 * (padding present, unused bits zero), so each record has one spelling. */
static int b64_line(const struct line *l, uint8_t *out, size_t bytes, const char *what, const char *name,
		    struct isim_error *err)
{
	size_t want = B64_LEN(bytes), k, got = 0;
	const char *end = NULL, *kind;
	char canon[B64_LEN(SECKEY_BYTES) + 1];

	for (k = 0; k < l->n; k++) {
		if (!is_b64_char(l->p[k])) {
			at(err, name, l->no, (int)k + 1);
			return isim_error_set(err, ISIM_ERR_DATA, "%s: '%c' is not a base64 character", what,
					      (unsigned char)l->p[k] < 0x20 ? '?' : l->p[k]);
		}
	}
	if (l->n != want) {
		kind = record_kind(l->n);
		at(err, name, l->no, 1);
		if (kind && strcmp(kind, what) != 0)
			return isim_error_set(err, ISIM_ERR_DATA, "this is %s, not %s", kind, what);
		return isim_error_set(err, ISIM_ERR_DATA, "%s: expected %zu base64 characters (%zu bytes), got %zu",
				      what, want, bytes, l->n);
	}
	if (sodium_base642bin(out, bytes, l->p, l->n, NULL, &got, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    got != bytes || end != l->p + l->n) {
		at(err, name, l->no, end ? (int)(end - l->p) + 1 : 1);
		return isim_error_set(err, ISIM_ERR_DATA, "%s: invalid base64 (bad padding, or unused bits not zero)",
				      what);
	}
	sodium_bin2base64(canon, sizeof(canon), out, bytes, sodium_base64_VARIANT_ORIGINAL);
	if (memcmp(canon, l->p, l->n) != 0) {
		at(err, name, l->no, 1);
		return isim_error_set(err, ISIM_ERR_DATA, "%s: base64 is not in canonical form", what);
	}
	return 0;
}

static int missing_line(const char *name, int n, const char *what, struct isim_error *err)
{
	at(err, name, n == 1 ? 0 : n, 0);
	if (n == 1)
		return isim_error_set(err, ISIM_ERR_DATA, "empty; expected %s", what);
	return isim_error_set(err, ISIM_ERR_DATA, "ends after line %d; expected %s", n - 1, what);
}

static int bad_tag(const uint8_t tag[2], const char *what, const char *want, const char *name, int line,
		   struct isim_error *err)
{
	char shown[8];

	at(err, name, line, 1);
	if (tag[0] >= 0x21 && tag[0] < 0x7f && tag[1] >= 0x21 && tag[1] < 0x7f)
		snprintf(shown, sizeof(shown), "'%c%c'", tag[0], tag[1]);
	else
		snprintf(shown, sizeof(shown), "%02x%02x", tag[0], tag[1]);
	return isim_error_set(err, ISIM_ERR_DATA, "unknown %s %s; expected '%s'", what, shown, want);
}

/* ---- public keys ---------------------------------------------------------- */

static int pubkey_record(const struct line *l, const char *name, struct isim_ms_pubkey *pk, struct isim_error *err)
{
	uint8_t bin[PUBKEY_BYTES];

	if (b64_line(l, bin, sizeof(bin), "a public key", name, err) < 0)
		return -1;
	if (memcmp(bin, ALG_KEY, 2) != 0)
		return bad_tag(bin, "key algorithm", ALG_KEY, name, l->no, err);
	memcpy(pk->keyid, bin + 2, ISIM_MS_KEYID_BYTES);
	memcpy(pk->pk, bin + 2 + ISIM_MS_KEYID_BYTES, ISIM_MS_PK_BYTES);
	return 0;
}

int isim_ms_pubkey_parse(const char *text, size_t len, const char *name, struct isim_ms_pubkey *pk,
			 struct isim_error *err)
{
	struct line lines[3];
	int n;

	memset(pk, 0, sizeof(*pk));
	if (ms_init(err) < 0)
		return -1;
	n = split_lines(text, len, name, lines, 2, err);
	if (n < 0)
		return -1;
	if (n < 1)
		return missing_line(name, 1, "an untrusted comment line", err);
	if (comment_line(&lines[0], PREFIX_UNTRUSTED, ISIM_MS_COMMENT_MAX, pk->comment, name, err) < 0)
		return -1;
	if (n < 2)
		return missing_line(name, 2, "the public key's base64 line", err);
	if (pubkey_record(&lines[1], name, pk, err) < 0)
		return -1;
	return extra_lines(n, 2, name, err);
}

int isim_ms_pubkey_parse_base64(const char *b64, const char *name, struct isim_ms_pubkey *pk, struct isim_error *err)
{
	struct line l = { b64, strlen(b64), 1 };

	memset(pk, 0, sizeof(*pk));
	if (ms_init(err) < 0)
		return -1;
	return pubkey_record(&l, name, pk, err);
}

int isim_ms_pubkey_load(const char *path, struct isim_ms_pubkey *pk, struct isim_error *err)
{
	int fd, ret;
	char buf[2048];
	size_t n = 0;
	ssize_t r;

	fd = isim_file_open_input(path, "public key", err);
	if (fd < 0)
		return -1;
	while (n < sizeof(buf)) {
		r = isim_read(fd, path, "public key", buf + n, sizeof(buf) - n, err);
		if (r < 0) {
			if (fd != STDIN_FILENO)
				close(fd);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (n == sizeof(buf)) {
		at(err, path, 0, 0);
		return isim_error_set(err, ISIM_ERR_DATA, "too large for a public key file");
	}
	ret = isim_ms_pubkey_parse(buf, n, path, pk, err);
	return ret;
}

void isim_ms_pubkey_base64(const struct isim_ms_pubkey *pk, char out[static ISIM_MS_PUBKEY_B64])
{
	uint8_t bin[PUBKEY_BYTES];

	memcpy(bin, ALG_KEY, 2);
	memcpy(bin + 2, pk->keyid, ISIM_MS_KEYID_BYTES);
	memcpy(bin + 2 + ISIM_MS_KEYID_BYTES, pk->pk, ISIM_MS_PK_BYTES);
	sodium_bin2base64(out, ISIM_MS_PUBKEY_B64, bin, sizeof(bin), sodium_base64_VARIANT_ORIGINAL);
}

int isim_ms_pubkey_format(const struct isim_ms_pubkey *pk, char *buf, size_t size)
{
	char b64[ISIM_MS_PUBKEY_B64];
	int n;

	if (!isim_ms_comment_ok(pk->comment, ISIM_MS_COMMENT_MAX))
		return -1;
	isim_ms_pubkey_base64(pk, b64);
	n = snprintf(buf, size, PREFIX_UNTRUSTED "%s\n%s\n", pk->comment, b64);
	return n < 0 || (size_t)n >= size ? -1 : n;
}

/* ---- secret keys ---------------------------------------------------------- */

static struct isim_ms_seckey *seckey_alloc(struct isim_error *err)
{
	struct isim_ms_seckey *sk = sodium_malloc(sizeof(*sk));

	if (!sk) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "cannot allocate locked memory for a secret key");
		return NULL;
	}
	memset(sk, 0, sizeof(*sk));
	return sk;
}

void isim_ms_seckey_free(struct isim_ms_seckey *sk)
{
	sodium_free(sk); /* wipes it */
}

int isim_ms_seckey_new(struct isim_ms_seckey **out, struct isim_error *err)
{
	uint8_t pk[ISIM_MS_PK_BYTES];
	struct isim_ms_seckey *sk;

	*out = NULL;
	if (ms_init(err) < 0 || !(sk = seckey_alloc(err)))
		return -1;
	randombytes_buf(sk->keyid, sizeof(sk->keyid));
	crypto_sign_keypair(pk, sk->sk);
	*out = sk;
	return 0;
}

int isim_ms_seckey_from_seed(const uint8_t seed[static crypto_sign_SEEDBYTES],
			     const uint8_t keyid[static ISIM_MS_KEYID_BYTES], struct isim_ms_seckey **out,
			     struct isim_error *err)
{
	uint8_t pk[ISIM_MS_PK_BYTES];
	struct isim_ms_seckey *sk;

	*out = NULL;
	if (ms_init(err) < 0 || !(sk = seckey_alloc(err)))
		return -1;
	memcpy(sk->keyid, keyid, ISIM_MS_KEYID_BYTES);
	crypto_sign_seed_keypair(pk, sk->sk, seed);
	*out = sk;
	return 0;
}

void isim_ms_seckey_pubkey(const struct isim_ms_seckey *sk, struct isim_ms_pubkey *pk)
{
	char hex[ISIM_MS_KEYID_HEX];

	memset(pk, 0, sizeof(*pk));
	memcpy(pk->keyid, sk->keyid, ISIM_MS_KEYID_BYTES);
	crypto_sign_ed25519_sk_to_pk(pk->pk, sk->sk);
	isim_ms_keyid_hex(pk->keyid, hex);
	snprintf(pk->comment, sizeof(pk->comment), "minisign public key %s", hex);
}

/* BLAKE2b-256("Ed" keyid sk), minisign's check of a decrypted key. */
static void seckey_checksum(const uint8_t keyid[ISIM_MS_KEYID_BYTES], const uint8_t sk[ISIM_MS_SK_BYTES],
			    uint8_t chk[CHK_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, CHK_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)ALG_KEY, 2);
	crypto_generichash_update(&st, keyid, ISIM_MS_KEYID_BYTES);
	crypto_generichash_update(&st, sk, ISIM_MS_SK_BYTES);
	crypto_generichash_final(&st, chk, CHK_BYTES);
	sodium_memzero(&st, sizeof(st));
}

/* The opened record in `plain` (keyid sk chk): check it, then keep it.
 * minisign writes a zero checksum for keys without a password and checks
 * none; a secret key whose public half is not derived from its seed is
 * refused either way, since it would make signatures that never verify. */
static int seckey_accept(struct isim_ms_seckey *sk, const uint8_t *plain, bool need_chk, const char *name,
			 struct isim_error *err)
{
	static const uint8_t zero[CHK_BYTES];
	uint8_t chk[CHK_BYTES], pk[ISIM_MS_PK_BYTES], sk2[ISIM_MS_SK_BYTES];
	const uint8_t *keyid = plain, *secret = plain + ISIM_MS_KEYID_BYTES,
		      *stored = plain + ISIM_MS_KEYID_BYTES + ISIM_MS_SK_BYTES;
	int ret = -1;

	if (need_chk || sodium_memcmp(stored, zero, CHK_BYTES) != 0) {
		seckey_checksum(keyid, secret, chk);
		if (crypto_verify_32(chk, stored) != 0) {
			at(err, name, 0, 0);
			if (need_chk)
				isim_error_set(err, ISIM_ERR_PERM, "wrong password for this secret key");
			else
				isim_error_set(err, ISIM_ERR_DATA,
					       "secret key is corrupt: its checksum does not match");
			goto out;
		}
	}
	crypto_sign_seed_keypair(pk, sk2, secret);
	if (sodium_memcmp(sk2, secret, ISIM_MS_SK_BYTES) != 0) {
		at(err, name, 0, 0);
		isim_error_set(err, ISIM_ERR_DATA, "secret key is corrupt: its public half does not match its seed");
		goto out;
	}
	memcpy(sk->keyid, keyid, ISIM_MS_KEYID_BYTES);
	memcpy(sk->sk, secret, ISIM_MS_SK_BYTES);
	sk->locked = false;
	ret = 0;
out:
	sodium_memzero(chk, sizeof(chk));
	sodium_memzero(sk2, sizeof(sk2));
	return ret;
}

static int seckey_record(struct isim_ms_seckey *sk, const uint8_t *bin, const char *name, int line,
			 struct isim_error *err)
{
	static const uint8_t none[2];

	if (memcmp(bin, ALG_KEY, 2) != 0)
		return bad_tag(bin, "key algorithm", ALG_KEY, name, line, err);
	if (memcmp(bin + OFF_CHK_ALG, CHK_BLAKE2B, 2) != 0)
		return bad_tag(bin + OFF_CHK_ALG, "key checksum algorithm", CHK_BLAKE2B, name, line, err);
	if (memcmp(bin + OFF_KDF, KDF_SCRYPT, 2) != 0 && memcmp(bin + OFF_KDF, none, 2) != 0)
		return bad_tag(bin + OFF_KDF, "key derivation function", KDF_SCRYPT, name, line, err);
	memcpy(sk->salt, bin + OFF_SALT, ISIM_MS_SALT_BYTES);
	sk->opslimit = le64_load(bin + OFF_OPS);
	sk->memlimit = le64_load(bin + OFF_MEM);
	memcpy(sk->sealed, bin + OFF_SEALED, SEALED_BYTES);
	if (memcmp(bin + OFF_KDF, none, 2) == 0)
		return seckey_accept(sk, sk->sealed, false, name, err);
	if (sk->memlimit > ISIM_MS_MEMLIMIT_MAX || sk->opslimit > ISIM_MS_OPSLIMIT_MAX) {
		at(err, name, line, 0);
		return isim_error_set(err, ISIM_ERR_DATA,
				      "scrypt limits in the key (opslimit %" PRIu64 ", memlimit %" PRIu64
				      ") exceed the largest accepted (%llu, %llu)",
				      sk->opslimit, sk->memlimit, ISIM_MS_OPSLIMIT_MAX, ISIM_MS_MEMLIMIT_MAX);
	}
	sk->encrypted = true;
	sk->locked = true;
	return 0;
}

int isim_ms_seckey_parse(const char *text, size_t len, const char *name, struct isim_ms_seckey **out,
			 struct isim_error *err)
{
	struct isim_ms_seckey *sk = NULL;
	uint8_t *bin = NULL;
	struct line lines[3];
	int n, ret = -1;

	*out = NULL;
	if (ms_init(err) < 0)
		return -1;
	n = split_lines(text, len, name, lines, 2, err);
	if (n < 0)
		return -1;
	if (!(sk = seckey_alloc(err)) || !(bin = sodium_malloc(SECKEY_BYTES))) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "cannot allocate locked memory for a secret key");
		goto out;
	}
	if (n < 1) {
		missing_line(name, 1, "an untrusted comment line", err);
		goto out;
	}
	if (comment_line(&lines[0], PREFIX_UNTRUSTED, ISIM_MS_COMMENT_MAX, sk->comment, name, err) < 0)
		goto out;
	if (n < 2) {
		missing_line(name, 2, "the secret key's base64 line", err);
		goto out;
	}
	if (b64_line(&lines[1], bin, SECKEY_BYTES, "a secret key", name, err) < 0 ||
	    seckey_record(sk, bin, name, 2, err) < 0 || extra_lines(n, 2, name, err) < 0)
		goto out;
	*out = sk;
	sk = NULL;
	ret = 0;
out:
	sodium_free(bin);
	sodium_free(sk);
	return ret;
}

int isim_ms_seckey_load(const char *path, struct isim_ms_seckey **out, struct isim_error *err)
{
	struct isim_secbuf buf = { 0 };
	mode_t mode;
	int ret = -1;

	*out = NULL;
	if (ms_init(err) < 0)
		return -1;
	if (isim_secret_file_read(path, "secret key", SECKEY_FILE_MAX, &buf, &mode, err) < 0 ||
	    isim_ms_seckey_parse((const char *)buf.p, buf.len, path, out, err) < 0)
		goto out;
	/* Checked once the file is known to be a secret key, so that a public
	 * key given by mistake is named as such. */
	if (isim_secret_file_check_mode(path, mode, err) < 0) {
		isim_ms_seckey_free(*out);
		*out = NULL;
		goto out;
	}
	ret = 0;
out:
	isim_secbuf_free(&buf);
	return ret;
}

static int scrypt_stream(uint8_t *stream, const char *pw, size_t pwlen, const uint8_t *salt, uint64_t ops, uint64_t mem)
{
	return crypto_pwhash_scryptsalsa208sha256(stream, SEALED_BYTES, pw, pwlen, salt, (unsigned long long)ops,
						  (size_t)mem);
}

int isim_ms_seckey_unlock(struct isim_ms_seckey *sk, const char *password, size_t len, struct isim_error *err)
{
	uint8_t *plain;
	size_t i;
	int ret = -1;

	if (!sk->locked)
		return 0;
	plain = sodium_malloc(SEALED_BYTES);
	if (!plain)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "cannot allocate locked memory for a secret key");
	if (scrypt_stream(plain, password, len, sk->salt, sk->opslimit, sk->memlimit) != 0) {
		isim_error_errno(err, ISIM_ERR_INTERNAL, errno ? errno : ENOMEM,
				 "cannot derive the key from the password (scrypt, memlimit %" PRIu64 " bytes)",
				 sk->memlimit);
		goto out;
	}
	for (i = 0; i < SEALED_BYTES; i++)
		plain[i] ^= sk->sealed[i];
	ret = seckey_accept(sk, plain, true, NULL, err);
out:
	sodium_free(plain);
	return ret;
}

/* Fill the binary record of sk in bin, encrypting when password is set. */
static int seckey_seal(const struct isim_ms_seckey *sk, const char *password, size_t pwlen, uint64_t ops, uint64_t mem,
		       uint8_t *bin, struct isim_error *err)
{
	uint8_t *sealed = bin + OFF_SEALED;
	uint8_t *stream = NULL;
	size_t i;

	memset(bin, 0, SECKEY_BYTES);
	memcpy(bin, ALG_KEY, 2);
	memcpy(bin + OFF_CHK_ALG, CHK_BLAKE2B, 2);
	memcpy(sealed, sk->keyid, ISIM_MS_KEYID_BYTES);
	memcpy(sealed + ISIM_MS_KEYID_BYTES, sk->sk, ISIM_MS_SK_BYTES);
	seckey_checksum(sk->keyid, sk->sk, sealed + ISIM_MS_KEYID_BYTES + ISIM_MS_SK_BYTES);
	if (!password)
		return 0;
	stream = sodium_malloc(SEALED_BYTES);
	if (!stream)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "cannot allocate locked memory for a secret key");
	memcpy(bin + OFF_KDF, KDF_SCRYPT, 2);
	randombytes_buf(bin + OFF_SALT, ISIM_MS_SALT_BYTES);
	if (!ops && !mem) {
		ops = ISIM_MS_OPSLIMIT;
		mem = ISIM_MS_MEMLIMIT;
	}
	/* As minisign: with too little memory, halve both limits and retry. */
	while (scrypt_stream(stream, password, pwlen, bin + OFF_SALT, ops, mem) != 0) {
		ops /= 2;
		mem /= 2;
		if (ops < crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_MIN ||
		    mem < crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_MIN) {
			sodium_free(stream);
			return isim_error_set(err, ISIM_ERR_INTERNAL,
					      "cannot derive a key from the password: out of memory");
		}
	}
	le64_store(bin + OFF_OPS, ops);
	le64_store(bin + OFF_MEM, mem);
	for (i = 0; i < SEALED_BYTES; i++)
		sealed[i] ^= stream[i];
	sodium_free(stream);
	return 0;
}

int isim_ms_seckey_format(const struct isim_ms_seckey *sk, const char *password, size_t pwlen, uint64_t opslimit,
			  uint64_t memlimit, char **out, size_t *outlen, struct isim_error *err)
{
	const char *comment = sk->comment[0] ? sk->comment : password ? DEFAULT_SK_COMMENT : DEFAULT_SK_PLAIN_COMMENT;
	size_t size = sizeof(PREFIX_UNTRUSTED) + ISIM_MS_COMMENT_MAX + B64_LEN(SECKEY_BYTES) + 4;
	uint8_t *bin = NULL;
	char *text = NULL;
	size_t n;
	int ret = -1;

	*out = NULL;
	*outlen = 0;
	if (ms_init(err) < 0)
		return -1;
	if (sk->locked)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "secret key is still locked");
	if (!isim_ms_comment_ok(comment, ISIM_MS_COMMENT_MAX))
		return isim_error_set(err, ISIM_ERR_USAGE, "the key's comment must be one line of at most %d bytes",
				      ISIM_MS_COMMENT_MAX);
	bin = sodium_malloc(SECKEY_BYTES);
	text = sodium_malloc(size);
	if (!bin || !text) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "cannot allocate locked memory for a secret key");
		goto out;
	}
	if (seckey_seal(sk, password, pwlen, opslimit, memlimit, bin, err) < 0)
		goto out;
	n = (size_t)snprintf(text, size, PREFIX_UNTRUSTED "%s\n", comment);
	sodium_bin2base64(text + n, size - n, bin, SECKEY_BYTES, sodium_base64_VARIANT_ORIGINAL);
	n += B64_LEN(SECKEY_BYTES);
	text[n++] = '\n';
	text[n] = '\0';
	*out = text;
	*outlen = n;
	text = NULL;
	ret = 0;
out:
	sodium_free(bin);
	sodium_free(text);
	return ret;
}

/* ---- signatures ----------------------------------------------------------- */

int isim_ms_sig_parse(const char *text, size_t len, const char *name, struct isim_ms_sig *sig, struct isim_error *err)
{
	uint8_t bin[SIG_BYTES];
	struct line lines[5];
	int n;

	memset(sig, 0, sizeof(*sig));
	if (ms_init(err) < 0)
		return -1;
	n = split_lines(text, len, name, lines, 4, err);
	if (n < 0)
		return -1;
	if (n < 1)
		return missing_line(name, 1, "an untrusted comment line", err);
	if (comment_line(&lines[0], PREFIX_UNTRUSTED, ISIM_MS_COMMENT_MAX, sig->comment, name, err) < 0)
		return -1;
	if (n < 2)
		return missing_line(name, 2, "the signature's base64 line", err);
	if (b64_line(&lines[1], bin, sizeof(bin), "a file signature", name, err) < 0)
		return -1;
	if (memcmp(bin, ALG_KEY, 2) == 0) {
		at(err, name, 2, 1);
		return isim_error_set(err, ISIM_ERR_DATA,
				      "signature algorithm 'Ed' (minisign's legacy, not prehashed) is not "
				      "accepted; expected 'ED'");
	}
	if (memcmp(bin, ALG_PREHASHED, 2) != 0)
		return bad_tag(bin, "signature algorithm", ALG_PREHASHED, name, 2, err);
	memcpy(sig->alg, bin, 2);
	memcpy(sig->keyid, bin + 2, ISIM_MS_KEYID_BYTES);
	memcpy(sig->sig, bin + 2 + ISIM_MS_KEYID_BYTES, ISIM_MS_SIG_BYTES);
	if (n < 3)
		return missing_line(name, 3, "the trusted comment line", err);
	if (comment_line(&lines[2], PREFIX_TRUSTED, ISIM_MS_TRUSTED_MAX, sig->trusted, name, err) < 0)
		return -1;
	if (n < 4)
		return missing_line(name, 4, "the global signature's base64 line", err);
	if (b64_line(&lines[3], sig->global_sig, ISIM_MS_SIG_BYTES, "a global signature", name, err) < 0)
		return -1;
	return extra_lines(n, 4, name, err);
}

int isim_ms_sig_load(const char *path, struct isim_ms_sig *sig, struct isim_error *err)
{
	/* Four lines at their longest, with CRs, and one byte to spot more. */
	enum {
		MAX = 19 + ISIM_MS_COMMENT_MAX + 17 + ISIM_MS_TRUSTED_MAX + B64_LEN(SIG_BYTES) + 88 + 8 + 1
	};
	char *buf = malloc(MAX);
	size_t n = 0;
	ssize_t r;
	int fd, ret = -1;

	if (!buf)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	fd = isim_file_open_input(path, "signature", err);
	if (fd < 0)
		goto out;
	while (n < MAX) {
		r = isim_read(fd, path, "signature", buf + n, MAX - n, err);
		if (r < 0)
			goto out;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n == MAX) {
		at(err, path, 0, 0);
		isim_error_set(err, ISIM_ERR_DATA, "too large for a signature file");
		goto out;
	}
	ret = isim_ms_sig_parse(buf, n, path, sig, err);
out:
	if (fd >= 0 && fd != STDIN_FILENO)
		close(fd);
	free(buf);
	return ret;
}

char *isim_ms_sig_format(const struct isim_ms_sig *sig, size_t *len)
{
	char b64[B64_LEN(SIG_BYTES) + 1], gb64[B64_LEN(ISIM_MS_SIG_BYTES) + 1];
	uint8_t bin[SIG_BYTES];
	char *out = NULL;
	int n;

	memcpy(bin, sig->alg, 2);
	memcpy(bin + 2, sig->keyid, ISIM_MS_KEYID_BYTES);
	memcpy(bin + 2 + ISIM_MS_KEYID_BYTES, sig->sig, ISIM_MS_SIG_BYTES);
	sodium_bin2base64(b64, sizeof(b64), bin, sizeof(bin), sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(gb64, sizeof(gb64), sig->global_sig, ISIM_MS_SIG_BYTES, sodium_base64_VARIANT_ORIGINAL);
	n = asprintf(&out, PREFIX_UNTRUSTED "%s\n%s\n" PREFIX_TRUSTED "%s\n%s\n", sig->comment, b64, sig->trusted,
		     gb64);
	if (n < 0)
		return NULL;
	if (len)
		*len = (size_t)n;
	return out;
}

/* ---- hashing, signing, verifying -------------------------------------------- */

int isim_ms_hash_fd(int fd, const char *name, uint8_t out[static ISIM_MS_HASH_BYTES], struct isim_error *err)
{
	/* Small enough that what read(2) copies is still in the L2 cache when
	 * BLAKE2b reads it; larger chunks, mmap(2) and a reader thread all
	 * measured no faster. */
	enum {
		CHUNK = 64 << 10
	};
	crypto_generichash_state st;
	uint8_t *buf;
	ssize_t r;

	if (ms_init(err) < 0)
		return -1;
	buf = malloc(CHUNK);
	if (!buf)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	crypto_generichash_init(&st, NULL, 0, ISIM_MS_HASH_BYTES);
	for (;;) {
		r = isim_read(fd, name, NULL, buf, CHUNK, err);
		if (r < 0) {
			free(buf);
			return -1;
		}
		if (r == 0)
			break;
		crypto_generichash_update(&st, buf, (size_t)r);
	}
	free(buf);
	crypto_generichash_final(&st, out, ISIM_MS_HASH_BYTES);
	return 0;
}

int isim_ms_hash_file(const char *path, uint8_t out[static ISIM_MS_HASH_BYTES], struct isim_error *err)
{
	int fd, ret;

	if (strcmp(path, "-") == 0)
		return isim_ms_hash_fd(STDIN_FILENO, path, out, err);
	fd = isim_file_open_input(path, NULL, err);
	if (fd < 0)
		return -1;
	ret = isim_ms_hash_fd(fd, path, out, err);
	close(fd);
	return ret;
}

int isim_ms_default_trusted_comment(time_t t, const char *path, char *buf, size_t size, struct isim_error *err)
{
	const char *base = strrchr(path, '/');
	int n;

	base = base ? base + 1 : path;
	if (strpbrk(base, "\r\n")) {
		at(err, path, 0, 0);
		return isim_error_set(err, ISIM_ERR_DATA,
				      "the file name holds a line break, which a trusted comment cannot; "
				      "give the trusted comment yourself");
	}
	n = snprintf(buf, size, "timestamp:%lld\tfile:%s\thashed", (long long)t, base);
	if (n < 0 || (size_t)n >= size || n > ISIM_MS_TRUSTED_MAX) {
		at(err, path, 0, 0);
		return isim_error_set(err, ISIM_ERR_DATA, "the file name is too long for a trusted comment");
	}
	return 0;
}

static uint8_t *global_message(const uint8_t sig[ISIM_MS_SIG_BYTES], const char *trusted, size_t *len)
{
	size_t tlen = strlen(trusted);
	uint8_t *m = malloc(ISIM_MS_SIG_BYTES + tlen + 1);

	if (!m)
		return NULL;
	memcpy(m, sig, ISIM_MS_SIG_BYTES);
	memcpy(m + ISIM_MS_SIG_BYTES, trusted, tlen);
	*len = ISIM_MS_SIG_BYTES + tlen;
	return m;
}

int isim_ms_sign_prehashed(const struct isim_ms_seckey *sk, const uint8_t hash[static ISIM_MS_HASH_BYTES],
			   const char *trusted, const char *comment, struct isim_ms_sig *out, struct isim_error *err)
{
	struct isim_ms_pubkey pk;
	uint8_t *m;
	size_t mlen;
	int ret;

	memset(out, 0, sizeof(*out));
	if (ms_init(err) < 0)
		return -1;
	if (sk->locked)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "secret key is still locked");
	if (!comment)
		comment = "";
	if (!isim_ms_comment_ok(comment, ISIM_MS_COMMENT_MAX))
		return isim_error_set(err, ISIM_ERR_USAGE, "the untrusted comment must be one line of at most %d bytes",
				      ISIM_MS_COMMENT_MAX);
	if (!isim_ms_comment_ok(trusted, ISIM_MS_TRUSTED_MAX))
		return isim_error_set(err, ISIM_ERR_USAGE, "the trusted comment must be one line of at most %d bytes",
				      ISIM_MS_TRUSTED_MAX);
	memcpy(out->alg, ALG_PREHASHED, 2);
	memcpy(out->keyid, sk->keyid, ISIM_MS_KEYID_BYTES);
	snprintf(out->comment, sizeof(out->comment), "%s", *comment ? comment : DEFAULT_SIG_COMMENT);
	snprintf(out->trusted, sizeof(out->trusted), "%s", trusted);
	crypto_sign_detached(out->sig, NULL, hash, ISIM_MS_HASH_BYTES, sk->sk);
	m = global_message(out->sig, out->trusted, &mlen);
	if (!m)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	crypto_sign_detached(out->global_sig, NULL, m, mlen, sk->sk);
	free(m);
	/* Check what we made with the key's public half, so that a fault
	 * (or a corrupt key) never leaves a signature that cannot verify. */
	isim_ms_seckey_pubkey(sk, &pk);
	ret = isim_ms_verify_prehashed(&pk, out, hash, err);
	if (ret < 0 && err) {
		char reason[sizeof(err->msg)];

		snprintf(reason, sizeof(reason), "%s", err->msg);
		isim_error_set(err, ISIM_ERR_INTERNAL, "the signature made does not verify: %s", reason);
	}
	return ret;
}

int isim_ms_sign_file(const struct isim_ms_seckey *sk, const char *path, const char *trusted, const char *comment,
		      struct isim_ms_sig *out, struct isim_error *err)
{
	uint8_t hash[ISIM_MS_HASH_BYTES];

	memset(out, 0, sizeof(*out));
	if (isim_ms_hash_file(path, hash, err) < 0)
		return -1;
	return isim_ms_sign_prehashed(sk, hash, trusted, comment, out, err);
}

int isim_ms_sign_data(const struct isim_ms_seckey *sk, const void *data, size_t len, const char *trusted,
		      const char *comment, struct isim_ms_sig *out, struct isim_error *err)
{
	uint8_t hash[ISIM_MS_HASH_BYTES];

	memset(out, 0, sizeof(*out));
	if (ms_init(err) < 0)
		return -1;
	crypto_generichash(hash, sizeof(hash), data, len, NULL, 0);
	return isim_ms_sign_prehashed(sk, hash, trusted, comment, out, err);
}

int isim_ms_verify_prehashed(const struct isim_ms_pubkey *pk, const struct isim_ms_sig *sig,
			     const uint8_t hash[static ISIM_MS_HASH_BYTES], struct isim_error *err)
{
	char want[ISIM_MS_KEYID_HEX], got[ISIM_MS_KEYID_HEX];
	uint8_t *m;
	size_t mlen;
	int bad;

	if (ms_init(err) < 0)
		return -1;
	if (memcmp(sig->alg, ALG_PREHASHED, 2) != 0)
		return isim_error_set(err, ISIM_ERR_DATA, "signature algorithm is not 'ED'");
	if (memcmp(sig->keyid, pk->keyid, ISIM_MS_KEYID_BYTES) != 0) {
		isim_ms_keyid_hex(sig->keyid, got);
		isim_ms_keyid_hex(pk->keyid, want);
		return isim_error_set(err, ISIM_ERR_REFUSED, "signed by key %s, but the public key is %s", got, want);
	}
	if (crypto_sign_verify_detached(sig->sig, hash, ISIM_MS_HASH_BYTES, pk->pk) != 0)
		return isim_error_set(err, ISIM_ERR_REFUSED,
				      "signature does not verify: the content was changed after signing, "
				      "or the signature was altered");
	m = global_message(sig->sig, sig->trusted, &mlen);
	if (!m)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	bad = crypto_sign_verify_detached(sig->global_sig, m, mlen, pk->pk);
	free(m);
	if (bad)
		return isim_error_set(err, ISIM_ERR_REFUSED,
				      "trusted comment does not verify: the trusted comment or the global "
				      "signature was altered");
	return 0;
}

int isim_ms_verify_file(const struct isim_ms_pubkey *pk, const struct isim_ms_sig *sig, const char *path,
			struct isim_error *err)
{
	uint8_t hash[ISIM_MS_HASH_BYTES];

	if (isim_ms_hash_file(path, hash, err) < 0)
		return -1;
	return isim_ms_verify_prehashed(pk, sig, hash, err);
}

int isim_ms_verify_data(const struct isim_ms_pubkey *pk, const struct isim_ms_sig *sig, const void *data, size_t len,
			struct isim_error *err)
{
	uint8_t hash[ISIM_MS_HASH_BYTES];

	if (ms_init(err) < 0)
		return -1;
	crypto_generichash(hash, sizeof(hash), data, len, NULL, 0);
	return isim_ms_verify_prehashed(pk, sig, hash, err);
}

char *isim_ms_sig_path(const char *file)
{
	char *a = NULL, *b = NULL;

	if (asprintf(&a, "%s.sig", file) < 0)
		return NULL;
	if (access(a, F_OK) == 0 || errno != ENOENT)
		return a;
	if (asprintf(&b, "%s.minisig", file) < 0)
		return a;
	if (access(b, F_OK) == 0) {
		free(a);
		return b;
	}
	free(b);
	return a;
}
