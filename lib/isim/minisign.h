/* SPDX-License-Identifier: MIT */
#ifndef ISIM_MINISIGN_H
#define ISIM_MINISIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <sodium.h>

#include "isim/error.h"

/*
 * Keys and detached file signatures in minisign's formats
 * (https://jedisct1.github.io/minisign/), so that keys move between the two
 * programs and each verifies the other's signatures:
 *
 *   public key   "untrusted comment: ...\n" base64("Ed" keyid[8] pk[32]) "\n"
 *   secret key   "untrusted comment: ...\n" base64("Ed" kdf[2] "B2" salt[32]
 *                opslimit[8] memlimit[8] keyid[8] sk[64] chk[32]) "\n"
 *                where kdf is "Sc" (scrypt; keyid..chk XOR-ed with the
 *                scrypt stream of the password) or two zero bytes (none),
 *                and chk = BLAKE2b-256("Ed" keyid sk)
 *   signature    "untrusted comment: ...\n" base64("ED" keyid[8] sig[64]) "\n"
 *                "trusted comment: ...\n" base64(global_sig[64]) "\n"
 *                where sig signs BLAKE2b-512(file) and global_sig signs
 *                sig || trusted comment.
 *
 * Integers are little-endian. The key id is shown, as minisign shows it, as
 * 16 upper-case hex digits of the little-endian u64 (so the bytes reversed).
 * Only prehashed signatures ("ED") are made or accepted; minisign's legacy
 * "Ed" signatures over the whole file are refused.
 */

#define ISIM_MS_KEYID_BYTES 8
#define ISIM_MS_KEYID_HEX 17 /* 16 digits and NUL */
#define ISIM_MS_PK_BYTES crypto_sign_PUBLICKEYBYTES
#define ISIM_MS_SK_BYTES crypto_sign_SECRETKEYBYTES
#define ISIM_MS_SIG_BYTES crypto_sign_BYTES
#define ISIM_MS_HASH_BYTES crypto_generichash_BYTES_MAX /* BLAKE2b-512 */
#define ISIM_MS_SALT_BYTES crypto_pwhash_scryptsalsa208sha256_SALTBYTES

/* The longest comments minisign reads back: its line buffers are 1024 and
 * 8192 bytes, holding the prefix, the text and the newline. */
#define ISIM_MS_COMMENT_MAX 1003
#define ISIM_MS_TRUSTED_MAX 8173
/* The longest password read, as minisign's PASSWORDMAXBYTES less its NUL. */
#define ISIM_MS_PASSWORD_MAX 1023

/* minisign's key encryption cost (libsodium's "sensitive" scrypt limits:
 * 1 GiB and about two seconds), used by isim_ms_seckey_format by default. */
#define ISIM_MS_OPSLIMIT crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE
#define ISIM_MS_MEMLIMIT crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE
/* Larger scrypt limits in a key file are refused rather than attempted. */
#define ISIM_MS_MEMLIMIT_MAX (4ULL << 30)
#define ISIM_MS_OPSLIMIT_MAX (1ULL << 32)

struct isim_ms_pubkey {
	uint8_t keyid[ISIM_MS_KEYID_BYTES];
	uint8_t pk[ISIM_MS_PK_BYTES];
	char comment[ISIM_MS_COMMENT_MAX + 1]; /* untrusted comment */
};

/* Allocated with sodium_malloc (guarded, locked, wiped on free): only
 * through isim_ms_seckey_new/_parse/_load, freed by isim_ms_seckey_free. */
struct isim_ms_seckey {
	uint8_t keyid[ISIM_MS_KEYID_BYTES];
	uint8_t sk[ISIM_MS_SK_BYTES]; /* seed and public key, as libsodium */
	bool encrypted;		      /* the file form has a password */
	bool locked;		      /* still encrypted: see isim_ms_seckey_unlock */
	uint8_t salt[ISIM_MS_SALT_BYTES];
	uint64_t opslimit;
	uint64_t memlimit;
	uint8_t sealed[ISIM_MS_KEYID_BYTES + ISIM_MS_SK_BYTES + 32]; /* as stored */
	char comment[ISIM_MS_COMMENT_MAX + 1];
};

struct isim_ms_sig {
	uint8_t alg[2]; /* "ED" */
	uint8_t keyid[ISIM_MS_KEYID_BYTES];
	uint8_t sig[ISIM_MS_SIG_BYTES];
	char comment[ISIM_MS_COMMENT_MAX + 1];
	char trusted[ISIM_MS_TRUSTED_MAX + 1];
	uint8_t global_sig[ISIM_MS_SIG_BYTES];
};

/* Key ids. hex needs ISIM_MS_KEYID_HEX bytes; parsing takes exactly 16 hex
 * digits of either case. */
void isim_ms_keyid_hex(const uint8_t keyid[static ISIM_MS_KEYID_BYTES], char hex[static ISIM_MS_KEYID_HEX]);
bool isim_ms_keyid_parse(const char *hex, uint8_t keyid[static ISIM_MS_KEYID_BYTES]) ISIM_MUST_CHECK;

/* Public keys. name (a path, or a label) is used in messages only. A parse
 * error is ISIM_ERR_DATA with the line and column. The text is the two
 * lines of a .pub file; _parse_base64 takes the bare second line, as
 * `minisign -P` does. */
int isim_ms_pubkey_parse(const char *text, size_t len, const char *name, struct isim_ms_pubkey *pk,
			 struct isim_error *err) ISIM_MUST_CHECK;
int isim_ms_pubkey_parse_base64(const char *b64, const char *name, struct isim_ms_pubkey *pk,
				struct isim_error *err) ISIM_MUST_CHECK;
int isim_ms_pubkey_load(const char *path, struct isim_ms_pubkey *pk, struct isim_error *err) ISIM_MUST_CHECK;
/* The file text into buf; returns its length, or -1 if size is too small
 * (ISIM_MS_COMMENT_MAX + 100 always suffices) or the comment is not one
 * line of at most ISIM_MS_COMMENT_MAX bytes. */
int isim_ms_pubkey_format(const struct isim_ms_pubkey *pk, char *buf, size_t size) ISIM_MUST_CHECK;
/* The bare base64 line (57 bytes with its NUL). */
#define ISIM_MS_PUBKEY_B64 57
void isim_ms_pubkey_base64(const struct isim_ms_pubkey *pk, char out[static ISIM_MS_PUBKEY_B64]);

/* Secret keys. _new makes a fresh random key pair; _from_seed a
 * deterministic one (tests, golden files). */
int isim_ms_seckey_new(struct isim_ms_seckey **out, struct isim_error *err) ISIM_MUST_CHECK;
int isim_ms_seckey_from_seed(const uint8_t seed[static crypto_sign_SEEDBYTES],
			     const uint8_t keyid[static ISIM_MS_KEYID_BYTES], struct isim_ms_seckey **out,
			     struct isim_error *err) ISIM_MUST_CHECK;
void isim_ms_seckey_free(struct isim_ms_seckey *sk);
/* Parse the two lines of a secret key file. An encrypted key comes back
 * locked; an unencrypted one is checked (checksum when minisign wrote one,
 * and that its public half matches its seed). */
int isim_ms_seckey_parse(const char *text, size_t len, const char *name, struct isim_ms_seckey **out,
			 struct isim_error *err) ISIM_MUST_CHECK;
/* Read and parse a secret key file ("-" is stdin) through
 * isim_secret_file_read: the text is read into locked memory and wiped,
 * and anything but a regular file (a FIFO, device, socket, directory) is
 * refused at once (ISIM_ERR_NOINPUT). A file that group or others may
 * access is refused (ISIM_ERR_PERM), as ssh refuses such keys. */
int isim_ms_seckey_load(const char *path, struct isim_ms_seckey **out, struct isim_error *err) ISIM_MUST_CHECK;
/* Decrypt a locked key with its password: scrypt with the salt and limits
 * stored in the key. A wrong password is ISIM_ERR_PERM. */
int isim_ms_seckey_unlock(struct isim_ms_seckey *sk, const char *password, size_t len,
			  struct isim_error *err) ISIM_MUST_CHECK;
/* The file text of sk in a sodium_malloc'd, NUL-terminated buffer that the
 * caller frees with sodium_free. password NULL: unencrypted (as
 * `minisign -G -W`); else scrypt with a fresh salt and opslimit/memlimit
 * (0, 0: ISIM_MS_OPSLIMIT/MEMLIMIT, halved while memory is short, as
 * minisign does). An empty comment becomes minisign's. */
int isim_ms_seckey_format(const struct isim_ms_seckey *sk, const char *password, size_t pwlen, uint64_t opslimit,
			  uint64_t memlimit, char **out, size_t *outlen, struct isim_error *err) ISIM_MUST_CHECK;
/* The public half, with minisign's comment "minisign public key <KEYID>".
 * sk must be unlocked. */
void isim_ms_seckey_pubkey(const struct isim_ms_seckey *sk, struct isim_ms_pubkey *pk);

/* Signatures. */
/* Where FILE's signature is: FILE.sig, or minisign's FILE.minisig when
 * only that one exists. malloc'd; NULL on no memory. */
char *isim_ms_sig_path(const char *file);
int isim_ms_sig_parse(const char *text, size_t len, const char *name, struct isim_ms_sig *sig,
		      struct isim_error *err) ISIM_MUST_CHECK;
int isim_ms_sig_load(const char *path, struct isim_ms_sig *sig, struct isim_error *err) ISIM_MUST_CHECK;
/* The four lines into a malloc'd NUL-terminated string; NULL on no memory.
 * Comments are written as they are (isim_ms_sign_* fill them). */
char *isim_ms_sig_format(const struct isim_ms_sig *sig, size_t *len);

/* BLAKE2b-512 of a file, streamed once ("-" is stdin), or of an open fd. */
int isim_ms_hash_file(const char *path, uint8_t out[static ISIM_MS_HASH_BYTES], struct isim_error *err) ISIM_MUST_CHECK;
int isim_ms_hash_fd(int fd, const char *name, uint8_t out[static ISIM_MS_HASH_BYTES],
		    struct isim_error *err) ISIM_MUST_CHECK;

/* minisign's own trusted comment, "timestamp:<t>\tfile:<basename>\thashed",
 * into buf. Fails (ISIM_ERR_DATA) when the base name holds a line
 * break or the result exceeds ISIM_MS_TRUSTED_MAX. */
int isim_ms_default_trusted_comment(time_t t, const char *path, char *buf, size_t size,
				    struct isim_error *err) ISIM_MUST_CHECK;
/* A comment is one line (no CR, LF or NUL) of at most max bytes. */
bool isim_ms_comment_ok(const char *comment, size_t max);

/* Sign the BLAKE2b-512 hash of the data ("ED"), then sig || trusted.
 * comment NULL or "" gives minisign's untrusted comment. The signature is
 * verified with the key's public half before it is returned. */
int isim_ms_sign_prehashed(const struct isim_ms_seckey *sk, const uint8_t hash[static ISIM_MS_HASH_BYTES],
			   const char *trusted, const char *comment, struct isim_ms_sig *out,
			   struct isim_error *err) ISIM_MUST_CHECK;
int isim_ms_sign_file(const struct isim_ms_seckey *sk, const char *path, const char *trusted, const char *comment,
		      struct isim_ms_sig *out, struct isim_error *err) ISIM_MUST_CHECK;
int isim_ms_sign_data(const struct isim_ms_seckey *sk, const void *data, size_t len, const char *trusted,
		      const char *comment, struct isim_ms_sig *out, struct isim_error *err) ISIM_MUST_CHECK;

/* Verify sig against pk: 0 when the key ids match, the signature covers the
 * hash, and the global signature covers sig || trusted comment. Otherwise
 * -1 with err->kind ISIM_ERR_REFUSED and the reason in err->msg (no path:
 * the caller knows which file it was). */
int isim_ms_verify_prehashed(const struct isim_ms_pubkey *pk, const struct isim_ms_sig *sig,
			     const uint8_t hash[static ISIM_MS_HASH_BYTES], struct isim_error *err) ISIM_MUST_CHECK;
/* As above over a file (streamed) or bytes in memory; errors reading the
 * file keep their own codes (66, 74...). */
int isim_ms_verify_file(const struct isim_ms_pubkey *pk, const struct isim_ms_sig *sig, const char *path,
			struct isim_error *err) ISIM_MUST_CHECK;
int isim_ms_verify_data(const struct isim_ms_pubkey *pk, const struct isim_ms_sig *sig, const void *data, size_t len,
			struct isim_error *err) ISIM_MUST_CHECK;

#endif
