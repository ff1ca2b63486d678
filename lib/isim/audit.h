/* SPDX-License-Identifier: MIT */
#ifndef ISIM_AUDIT_H
#define ISIM_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "isim/error.h"

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

#endif
