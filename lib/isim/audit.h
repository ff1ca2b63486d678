/* SPDX-License-Identifier: MIT */
#ifndef ISIM_AUDIT_H
#define ISIM_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "isim/descriptor.h"
#include "isim/error.h"
#include "isim/minisign.h"

/*
 * The append-only audit log (DESIGN.md, "State"): an SQLite file, by
 * default STATE/audit.db, whose entries form a hash chain. Each entry has
 * a sequence number (1, 2, ...), a time, a kind ("memdump", "memdump
 * failed", "checkpoint", ...), a record in its RFC 8785 form, the hash of
 * the entry before it and its own; an append is durable once it returns,
 * and no row is ever rewritten (triggers refuse UPDATE and DELETE). What
 * an entry's hash covers is in isim-formats(5), "Audit log".
 */

#define ISIM_AUDIT_DB "audit.db"

struct isim_audit;

struct isim_audit_entry {
	int64_t seq;
	int64_t at; /* seconds since the epoch */
	char kind[64];
	char *record;		/* the record's RFC 8785 form, NUL-terminated; malloc'd */
	char prev[65];		/* hex SHA-256 of the entry before, 64 zeros for the first */
	char hash[65];		/* hex SHA-256 of this entry */
	char record_sha256[65]; /* hex SHA-256 of record */
};

/* STATE/audit.db, STATE from state_dir, else $ISIM_STATE_DIR, else
 * /var/lib/infrasim. 0 or -1 with err (too long). */
int isim_audit_path(const char *state_dir, char *out, size_t size, struct isim_error *err) ISIM_MUST_CHECK;

/* Open the log at path, creating it (0600, and its folder) when create.
 * ISIM_ERR_NOINPUT when there is none and !create. */
int isim_audit_open(const char *path, bool create, struct isim_audit **out, struct isim_error *err) ISIM_MUST_CHECK;
void isim_audit_close(struct isim_audit *a);

/* Append record (any JSON object) as an entry of kind; the entry made
 * into out when out is not NULL (free it with isim_audit_entry_free).
 * Durable on return. */
int isim_audit_append(struct isim_audit *a, const char *kind, const cJSON *record, struct isim_audit_entry *out,
		      struct isim_error *err) ISIM_MUST_CHECK;

/* The entry whose record has the hex SHA-256 record_sha256 (of its RFC
 * 8785 form): 1 and *out, 0 when there is none, -1 with err. */
int isim_audit_find_record(struct isim_audit *a, const char *record_sha256, struct isim_audit_entry *out,
			   struct isim_error *err) ISIM_MUST_CHECK;

void isim_audit_entry_free(struct isim_audit_entry *e);

/* ---- beyond the append API: reading, checkpoints, verification ---- */

/* A checkpoint's signed record also goes, as an export line, to this file
 * beside the log, so that truncating the log behind its last checkpoint
 * shows (isim-formats(5), "Audit log"). */
#define ISIM_AUDIT_ANCHOR "audit.checkpoint"
#define ISIM_AUDIT_CHECKPOINT_KIND "checkpoint"
/* A record's RFC 8785 form is at most this long, so that an entry fits in
 * one JSON Lines record of an export (ISIM_JSONL_MAX). */
#define ISIM_AUDIT_RECORD_MAX (960u << 10)

/* A kind is 1 to 63 printable ASCII characters, not starting or ending
 * with a space. */
bool isim_audit_kind_valid(const char *kind);

/* The entry numbered seq: 1 and *out, 0 when there is none, -1 with err. */
int isim_audit_get(struct isim_audit *a, int64_t seq, struct isim_audit_entry *out,
		   struct isim_error *err) ISIM_MUST_CHECK;
/* The newest entry's seq and hash (0 and 64 zeros for an empty log). */
int isim_audit_head(struct isim_audit *a, int64_t *seq, char hash[static 65], struct isim_error *err) ISIM_MUST_CHECK;
/* fn on every entry from seq from on (with kind, only those of that kind),
 * in order; fn's nonzero return stops the walk and is returned. */
int isim_audit_each(struct isim_audit *a, int64_t from, const char *kind,
		    int (*fn)(void *ctx, const struct isim_audit_entry *e), void *ctx,
		    struct isim_error *err) ISIM_MUST_CHECK;

/* The hex SHA-256 an entry's hash is: of the RFC 8785 form of
 * {"at", "kind", "prev", "record_sha256", "seq"} with e's values, but seq
 * and record_sha256 as given. */
int isim_audit_digest(const struct isim_audit_entry *e, int64_t seq, const char *record_sha256, char out[static 65],
		      struct isim_error *err) ISIM_MUST_CHECK;

/* An entry as an export line's object: {"seq", "at", "kind", "record" (the
 * record itself), "record_sha256", "prev", "hash"}. NULL on no memory. */
cJSON *isim_audit_entry_json(const struct isim_audit_entry *e);
/* The reader of export lines: exactly those members, strictly typed.
 * ISIM_ERR_DATA with the pointer of what is wrong; out->record is the
 * record's RFC 8785 form, the hashes are as the line claims them. */
int isim_audit_entry_from_json(const cJSON *doc, struct isim_audit_entry *out, struct isim_error *err) ISIM_MUST_CHECK;
int isim_audit_entry_parse(const char *text, size_t len, const char *name, struct isim_audit_entry *out,
			   struct isim_error *err) ISIM_MUST_CHECK;

/* Append a checkpoint: an entry of kind "checkpoint" whose record
 * {"seq", "hash", "at", "attestation": {"key_id", "signature"}} states the
 * head before it, signed as node descriptors are (descriptor.h) with the
 * Ed25519 secret key sk of minisign key id keyid. */
int isim_audit_checkpoint(struct isim_audit *a, const uint8_t sk[static 64],
			  const uint8_t keyid[static ISIM_MS_KEYID_BYTES], struct isim_audit_entry *out,
			  struct isim_error *err) ISIM_MUST_CHECK;

/* What a verification found: the first entry that is wrong, and how. */
struct isim_audit_report {
	bool ok;
	int64_t seq;	 /* the entry named, when !ok */
	char what[1024]; /* "entry 3 was changed: ...", when !ok */
	int64_t entries; /* read */
	int64_t checkpoints;
	int64_t head_seq; /* the last entry read */
	char head_hash[65];
	int64_t checkpoint_seq; /* the last checkpoint entry, 0 when none */
	char checkpoint_key[ISIM_MS_KEYID_HEX];
	int64_t checkpoint_at;
};

/* Walk the log (or an export read from f, name for messages) and its
 * checkpoints, whose signers lookup approves (isim_trust_lookup, say);
 * anchor, when not NULL, is a checkpoint kept outside the log that the log
 * must reach and hold. 0 with report filled, ok or naming the first
 * finding; -1 with err when it could not check (unreadable, malformed
 * export line: ISIM_ERR_DATA, or lookup's error other than refusal). */
int isim_audit_verify(struct isim_audit *a, const struct isim_audit_entry *anchor, isim_signer_lookup_fn lookup,
		      void *ctx, struct isim_audit_report *report, struct isim_error *err) ISIM_MUST_CHECK;
int isim_audit_verify_export(FILE *f, const char *name, const struct isim_audit_entry *anchor,
			     isim_signer_lookup_fn lookup, void *ctx, struct isim_audit_report *report,
			     struct isim_error *err) ISIM_MUST_CHECK;

#endif
