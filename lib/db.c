/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "isim/db.h"

static int wal_hook(void *ctx, sqlite3 *db, const char *name, int pages);

/* Two commands at once wait for each other this long before giving up. */
#define BUSY_TIMEOUT_MS 10000

int isim_db_error(sqlite3 *db, const char *what, struct isim_error *err)
{
	int code = db ? sqlite3_errcode(db) : SQLITE_NOMEM;
	enum isim_err kind = ISIM_ERR_IO;

	if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB)
		kind = ISIM_ERR_CONFIG;
	else if (code == SQLITE_NOMEM)
		kind = ISIM_ERR_INTERNAL;
	else if (code == SQLITE_READONLY || code == SQLITE_PERM || code == SQLITE_CANTOPEN)
		kind = ISIM_ERR_CANTCREATE;
	return isim_error_set(err, kind, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

static int exec(sqlite3 *db, const char *sql, const char *what, struct isim_error *err)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return isim_db_error(db, what, err);
	return 0;
}

int isim_db_begin(sqlite3 *db, struct isim_error *err)
{
	return exec(db, "BEGIN IMMEDIATE", "cannot begin a transaction", err);
}

int isim_db_commit(sqlite3 *db, struct isim_error *err)
{
	if (exec(db, "COMMIT", "cannot commit", err) < 0) {
		isim_db_rollback(db);
		return -1;
	}
	return 0;
}

void isim_db_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

int isim_db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, struct isim_error *err)
{
	*st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
		isim_db_error(db, "cannot prepare a statement", err);
		isim_error_set(err, ISIM_ERR_INTERNAL, "%s (%.200s)", err->msg, sql);
		return -1;
	}
	return 0;
}

static int user_version(sqlite3 *db, int *out, struct isim_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (isim_db_prepare(db, "PRAGMA user_version", &st, err) < 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return isim_db_error(db, "cannot read the schema version", err);
	return 0;
}

/* Run the migrations from the file's version to the schema's, all in one
 * transaction, so that a crash leaves the old version or the new one. */
static int migrate(sqlite3 *db, const struct isim_db_schema *schema, struct isim_error *err)
{
	char sql[64];
	int v = 0, i;

	if (isim_db_begin(db, err) < 0)
		return -1;
	if (user_version(db, &v, err) < 0)
		goto fail;
	if (v > schema->nmigrations) {
		isim_error_set(
			err, ISIM_ERR_CONFIG,
			"the %s state is of schema version %d, newer than this program's %d (a newer tool wrote it)",
			schema->name, v, schema->nmigrations);
		goto fail;
	}
	if (v < 0) {
		isim_error_set(err, ISIM_ERR_CONFIG, "the %s state has schema version %d", schema->name, v);
		goto fail;
	}
	for (i = v; i < schema->nmigrations; i++) {
		if (exec(db, schema->migrations[i], "cannot migrate the state", err) < 0)
			goto fail;
	}
	if (v < schema->nmigrations) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", schema->nmigrations);
		if (exec(db, sql, "cannot set the schema version", err) < 0)
			goto fail;
	}
	return isim_db_commit(db, err);
fail:
	isim_db_rollback(db);
	return -1;
}

/* Whether the folder of path takes new files (the WAL and its index). */
static bool dir_writable(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');

	if (!slash)
		return access(".", W_OK) == 0;
	if ((size_t)(slash - path) >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return false;
	}
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	return access(slash == path ? "/" : dir, W_OK) == 0;
}

int isim_db_open(const char *path, const struct isim_db_schema *schema, int create, sqlite3 **out,
		 struct isim_error *err)
{
	sqlite3 *db = NULL;
	struct stat st;
	int fd, flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

	*out = NULL;
	isim_error_at(err, path, 0, 0);
	if (stat(path, &st) < 0) {
		if (errno != ENOENT || !create)
			return isim_error_errno(err, errno == ENOENT ? ISIM_ERR_NOINPUT : ISIM_ERR_IO, errno,
						"cannot open the %s state", schema->name);
		/* Made here with its mode, rather than by SQLite with the
		 * umask's: the state says who was admitted, and why. */
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return isim_error_errno(err, errno == EACCES ? ISIM_ERR_PERM : ISIM_ERR_CANTCREATE, errno,
						"cannot create the %s state", schema->name);
		if (fd >= 0)
			close(fd);
	} else if (!S_ISREG(st.st_mode)) {
		return isim_error_set(err, ISIM_ERR_CONFIG, "the %s state is not a regular file", schema->name);
	}
	/* SQLite says "unable to open database file" of a state it cannot
	 * write, and WAL writes beside it too: say what is wrong. */
	if (access(path, W_OK) < 0 || !dir_writable(path)) {
		int e = errno;

		return isim_error_errno(err, e == EACCES ? ISIM_ERR_PERM : ISIM_ERR_CANTCREATE, e,
					"cannot write the %s state", schema->name);
	}
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		isim_db_error(db, "cannot open", err);
		goto fail;
	}
	sqlite3_extended_result_codes(db, 0);
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	if (schema->persist_wal) {
		int one = 1;

		if (sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &one) != SQLITE_OK ||
		    exec(db, "PRAGMA journal_size_limit = 1048576", "cannot limit the journal", err) < 0) {
			if (!err->kind)
				isim_db_error(db, "cannot keep the WAL", err);
			goto fail;
		}
	}
	/* journal_mode is the first statement to read the file: a file that
	 * is no database fails here. */
	if (exec(db, "PRAGMA journal_mode = WAL", "not an SQLite database", err) < 0 ||
	    exec(db, "PRAGMA foreign_keys = ON", "cannot enable foreign keys", err) < 0 ||
	    exec(db, schema->durable_commits ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
		 "cannot set synchronous", err) < 0)
		goto fail;
	if (schema->durable_commits) {
		int on = 1;

		/* Recovery at the next open forgets what a checkpoint copied
		 * back (the wal-index lives in shared memory): a WAL that is
		 * only ever checkpointed, never emptied, grows and is copied
		 * again and again. So it is emptied, past a size. */
		if (sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, &on) != SQLITE_OK) {
			isim_db_error(db, "cannot keep the WAL at close", err);
			goto fail;
		}
		sqlite3_wal_hook(db, wal_hook, NULL);
	}
	if (migrate(db, schema, err) < 0)
		goto fail;
	*out = db;
	return 0;
fail:
	if (err->kind == ISIM_ERR_IO && db && sqlite3_errcode(db) == SQLITE_NOTADB)
		err->kind = ISIM_ERR_CONFIG;
	sqlite3_close(db);
	return -1;
}

static int wal_hook(void *ctx, sqlite3 *db, const char *name, int pages)
{
	(void)ctx;
	if (pages >= ISIM_DB_WAL_PAGES)
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	return SQLITE_OK;
}

void isim_db_close(sqlite3 *db)
{
	sqlite3_close(db);
}
