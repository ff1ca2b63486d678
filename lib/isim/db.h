/* SPDX-License-Identifier: MIT */
#ifndef ISIM_DB_H
#define ISIM_DB_H

#include <sqlite3.h>

#include "isim/error.h"

/*
 * The tools' state files (DESIGN.md, "State"): one SQLite file per concern
 * under the state folder, in WAL mode, with a busy timeout so that two
 * commands at once wait for each other rather than fail, foreign keys on,
 * and the file's schema version in PRAGMA user_version. Migrations are a
 * table of SQL scripts: script i takes version i to i + 1. Opening runs the
 * missing ones in one transaction, and refuses a file from the future.
 */

struct isim_db_schema {
	const char *name;	       /* "wgadmit", for messages */
	const char *const *migrations; /* migrations[i]: version i to i + 1 */
	int nmigrations;	       /* the current version */
	/* Keep the -wal file between opens (SQLITE_FCNTL_PERSIST_WAL, at most
	 * 1 MiB kept): for a state opened by one short command after another,
	 * a CGI request each, where making and removing it is most of the
	 * command's time. */
	int persist_wal;
	/* Every commit durable (synchronous FULL), and no checkpoint when the
	 * connection closes: for a state that one short process after another
	 * opens, commits once and closes, where the checkpoint at close (two
	 * fdatasync more, and a new WAL file the next time) was most of its
	 * time. A commit that leaves the WAL at ISIM_DB_WAL_PAGES pages or
	 * more checkpoints it and truncates it to nothing, so that the next
	 * open's recovery reads little. */
	int durable_commits;
};

#define ISIM_DB_WAL_PAGES 64

/* Open (creating it, mode 0600, when create) path, and bring it to the
 * schema's version. ISIM_ERR_NOINPUT when it does not exist and !create,
 * ISIM_ERR_CANTCREATE when it cannot be made, ISIM_ERR_CONFIG for a file
 * from a newer version or one that is not an SQLite database, ISIM_ERR_IO
 * otherwise. */
int isim_db_open(const char *path, const struct isim_db_schema *schema, int create, sqlite3 **out,
		 struct isim_error *err) ISIM_MUST_CHECK;
void isim_db_close(sqlite3 *db);

/* BEGIN IMMEDIATE, COMMIT, ROLLBACK: 0 or -1 with err (ISIM_ERR_IO). */
int isim_db_begin(sqlite3 *db, struct isim_error *err) ISIM_MUST_CHECK;
int isim_db_commit(sqlite3 *db, struct isim_error *err) ISIM_MUST_CHECK;
void isim_db_rollback(sqlite3 *db);

/* A prepared statement: 0 and *st, or -1 with err naming the SQL. */
int isim_db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, struct isim_error *err) ISIM_MUST_CHECK;
/* sqlite3's last message on db into err (ISIM_ERR_IO, or ISIM_ERR_CONFIG
 * for a corrupt file), after what; returns -1. */
int isim_db_error(sqlite3 *db, const char *what, struct isim_error *err);

#endif
