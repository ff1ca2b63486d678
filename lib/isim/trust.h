/* SPDX-License-Identifier: MIT */
#ifndef ISIM_TRUST_H
#define ISIM_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "isim/error.h"
#include "isim/minisign.h"
#include "isim/verdict.h"

/*
 * The trusted signers: a directory of minisign public keys, one per
 * "*.pub" file (names starting with '.' are skipped), and in the same
 * directory an optional file "revoked" listing key ids that are refused even
 * if their key is still there. Its format (isim-formats(5)): one key id a
 * line, 16 hex digits as minisign prints them (or fewer: minisign 0.11
 * leaves out leading zeros), optionally followed by blanks
 * and a '#' comment; blank lines and lines starting with '#' are ignored.
 *
 * The directory is configuration: a malformed key or list, two files with
 * one key id but different keys, or a directory or file that others may
 * write, is refused whole (ISIM_ERR_CONFIG, ISIM_ERR_PERM) rather than
 * partly used.
 */

#define ISIM_TRUST_REVOKED "revoked"

struct isim_trust_key {
	struct isim_ms_pubkey pk;
	char path[4096]; /* the .pub file it came from */
};

struct isim_trust {
	char dir[4096]; /* "" when made from one public key file */
	struct isim_trust_key *keys;
	size_t nkeys;
	uint8_t (*revoked)[ISIM_MS_KEYID_BYTES];
	size_t nrevoked;
};

/* Load every key and the revocation list of dir. */
int isim_trust_load(const char *dir, struct isim_trust **out, struct isim_error *err) ISIM_MUST_CHECK;
/* A trust of one public key file, without revocation list (--pub). */
int isim_trust_from_pubkey(const char *path, struct isim_trust **out, struct isim_error *err) ISIM_MUST_CHECK;
/* The trust a command was given: the one key of pub when not NULL, else
 * the directory dir (which the command has resolved; ISIM_ERR_USAGE when
 * both are NULL). */
int isim_trust_open(const char *dir, const char *pub, struct isim_trust **out, struct isim_error *err) ISIM_MUST_CHECK;
void isim_trust_free(struct isim_trust *t);

bool isim_trust_is_revoked(const struct isim_trust *t, const uint8_t keyid[static ISIM_MS_KEYID_BYTES]);
/* The key with that id, revoked or not; NULL if none. */
const struct isim_trust_key *isim_trust_find(const struct isim_trust *t,
					     const uint8_t keyid[static ISIM_MS_KEYID_BYTES]);
/* The key allowed to verify a signature by keyid: 0 and *key, or -1 with
 * ISIM_ERR_REFUSED and the reason ("key <ID> is revoked", "... is not a
 * trusted signer"). */
int isim_trust_signer(const struct isim_trust *t, const uint8_t keyid[static ISIM_MS_KEYID_BYTES],
		      const struct isim_trust_key **key, struct isim_error *err) ISIM_MUST_CHECK;
/* The same as a callback for signed documents (isim_signer_lookup_fn of
 * descriptor.h): ctx is the struct isim_trust, pk gets the Ed25519 key. */
int isim_trust_lookup(void *ctx, const uint8_t keyid[static ISIM_MS_KEYID_BYTES], uint8_t pk[static 32],
		      struct isim_error *err) ISIM_MUST_CHECK;
/* The verdict on a minisign signature of a file (streamed) or of bytes in
 * memory: the signer is looked up (not revoked, trusted) before the
 * possibly large content is read, then the signature is checked. 0 with v
 * filled: ok, or refused with the reason; v->key_id is the signature's key
 * id, v->signer the trusted key's file once one was found, even if the
 * signature then fails. -1 when the content could not be read (err). */
int isim_trust_verify_file(const struct isim_trust *t, const struct isim_ms_sig *sig, const char *path,
			   struct isim_verdict *v, struct isim_error *err) ISIM_MUST_CHECK;
int isim_trust_verify_data(const struct isim_trust *t, const struct isim_ms_sig *sig, const void *data, size_t len,
			   struct isim_verdict *v, struct isim_error *err) ISIM_MUST_CHECK;

#endif
