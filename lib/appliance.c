/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "isim/appliance.h"
#include "isim/archive.h"
#include "isim/buf.h"
#include "isim/file.h"
#include "isim/jcs.h"
#include "isim/json.h"
#include "isim/run.h"
#include "isim/schema.h"
#include "isim/schemas.h"

#define CHUNK (1 << 20)
#define DEPTH_MAX 8
#define COMPONENT_MAX 128

static bool component_char(char ch, bool first)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')
		return true;
	return ch == '.' && !first;
}

bool isim_appliance_path_ok(const char *path)
{
	size_t len = 0, depth = 1;
	const char *p;

	for (p = path; *p; p++) {
		if (*p == '/') {
			if (len == 0 || ++depth > DEPTH_MAX)
				return false;
			len = 0;
		} else if (!component_char(*p, len == 0) || ++len > COMPONENT_MAX) {
			return false;
		}
	}
	return len > 0;
}

static bool reserved(const char *path)
{
	return !strcmp(path, ISIM_APPLIANCE_MANIFEST) || !strcmp(path, ISIM_APPLIANCE_SIGNATURE);
}

/* ---- writing ---------------------------------------------------------- */

enum ent_kind {
	ENT_DIR,
	ENT_MEMBER,
	ENT_MANIFEST,
	ENT_SIGNATURE
};

struct ent {
	char *path; /* owned for directories */
	enum ent_kind kind;
	size_t member;
};

struct digest {
	uint64_t size;
	char sha256[ISIM_SHA256_HEX];
	bool known;
};

static int ent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ent *)a)->path, ((const struct ent *)b)->path);
}

/* The entries in their order: members, their directories (each once), the
 * manifest and its signature. */
static int plan(const struct isim_appliance_out *o, const struct isim_appliance_member *m, size_t n, struct ent **out,
		size_t *count, struct isim_error *err)
{
	struct ent *e = calloc(n * (DEPTH_MAX + 1) + 2, sizeof(*e));
	size_t k = 0, i, j, w;
	char *slash;

	*out = NULL;
	if (!e)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	for (i = 0; i < n; i++) {
		e[k++] = (struct ent){ (char *)m[i].path, ENT_MEMBER, i };
		for (slash = strchr(m[i].path, '/'); slash; slash = strchr(slash + 1, '/')) {
			if (!(e[k].path = strndup(m[i].path, (size_t)(slash - m[i].path))))
				goto nomem;
			e[k++].kind = ENT_DIR;
		}
	}
	e[k++] = (struct ent){ ISIM_APPLIANCE_MANIFEST, ENT_MANIFEST, 0 };
	if (o->key)
		e[k++] = (struct ent){ ISIM_APPLIANCE_SIGNATURE, ENT_SIGNATURE, 0 };
	qsort(e, k, sizeof(*e), ent_cmp);
	/* One entry a directory; a member that is also a directory is an
	 * error. */
	for (i = 0, w = 0; i < k; i++) {
		if (w && !strcmp(e[w - 1].path, e[i].path)) {
			if (e[i].kind != ENT_DIR || e[w - 1].kind != ENT_DIR) {
				isim_error_set(err, ISIM_ERR_USAGE, "'%s' is both a member and a directory", e[i].path);
				for (j = i; j < k; j++)
					if (e[j].kind == ENT_DIR)
						free(e[j].path);
				k = w;
				goto fail;
			}
			free(e[i].path);
			continue;
		}
		e[w++] = e[i];
	}
	*out = e;
	*count = w;
	return 0;
nomem:
	isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
fail:
	for (i = 0; i < k; i++)
		if (e[i].kind == ENT_DIR)
			free(e[i].path);
	free(e);
	return -1;
}

static void plan_free(struct ent *e, size_t n)
{
	size_t i;

	for (i = 0; e && i < n; i++)
		if (e[i].kind == ENT_DIR)
			free(e[i].path);
	free(e);
}

static int check_members(const struct isim_appliance_member *m, size_t n, struct isim_error *err)
{
	size_t i, j;

	if (n == 0)
		return isim_error_set(err, ISIM_ERR_USAGE, "an appliance needs a member");
	for (i = 0; i < n; i++) {
		if (!isim_appliance_path_ok(m[i].path) || reserved(m[i].path))
			return isim_error_set(err, ISIM_ERR_USAGE, "'%s' is not a member path", m[i].path);
		if (!m[i].data && !m[i].file)
			return isim_error_set(err, ISIM_ERR_USAGE, "member '%s' has no contents", m[i].path);
		for (j = 0; j < i; j++)
			if (!strcmp(m[i].path, m[j].path))
				return isim_error_set(err, ISIM_ERR_USAGE, "member '%s' is given twice", m[i].path);
	}
	return 0;
}

/* Stream file src into the archive as path, hashing it; its size is
 * taken when it is opened and must not change. */
static int stream_file(struct isim_tgz *t, const struct isim_appliance_out *o, const struct isim_appliance_member *m,
		       uint8_t *buf, struct digest *d, struct isim_error *err)
{
	struct isim_sha256_ctx h = { 0 };
	uint8_t md[ISIM_SHA256_BYTES];
	char hex[ISIM_SHA256_HEX];
	uint64_t done = 0;
	struct stat st;
	int fd, ret = -1;
	ssize_t r;

	fd = isim_file_open_input(m->file, NULL, err);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		isim_error_at(err, m->file, 0, 0);
		isim_error_errno(err, ISIM_ERR_IO, errno, "cannot stat");
		goto out;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (isim_sha256_begin(&h) < 0) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "SHA-256 is unavailable");
		goto out;
	}
	if (isim_tgz_begin(t, m->path, m->mode, (uint64_t)st.st_size, err) < 0)
		goto out;
	for (;;) {
		if (isim_run_interrupted) {
			isim_error_set(err, ISIM_ERR_INTERNAL, "interrupted");
			goto out;
		}
		r = isim_read(fd, m->file, NULL, buf, CHUNK, err);
		if (r < 0)
			goto out;
		if (r == 0)
			break;
		if (done + (uint64_t)r > (uint64_t)st.st_size)
			break;
		if (isim_sha256_update(&h, buf, (size_t)r) < 0 || isim_tgz_write(t, buf, (size_t)r, err) < 0)
			goto out;
		done += (uint64_t)r;
		if (o->progress)
			o->progress(o->ctx, done, (uint64_t)st.st_size);
	}
	if (done != (uint64_t)st.st_size) {
		isim_error_at(err, m->file, 0, 0);
		isim_error_set(err, ISIM_ERR_IO, "changed size while it was read");
		goto out;
	}
	if (isim_sha256_end(&h, md) < 0) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "SHA-256 failed");
		goto out;
	}
	isim_hex(md, sizeof(md), hex);
	if (d->known && (d->size != done || strcmp(d->sha256, hex))) {
		isim_error_at(err, m->file, 0, 0);
		isim_error_set(err, ISIM_ERR_IO, "changed while it was read");
		goto out;
	}
	memcpy(d->sha256, hex, ISIM_SHA256_HEX);
	d->size = done;
	d->known = true;
	ret = 0;
out:
	isim_sha256_abort(&h);
	if (fd != STDIN_FILENO)
		close(fd);
	return ret;
}

/* The digests the manifest needs before its turn: members in memory, and
 * files that come after it. */
static int prehash(const struct isim_appliance_member *m, size_t n, struct digest *d, struct isim_error *err)
{
	uint8_t md[ISIM_SHA256_BYTES];
	struct stat st;
	size_t i;

	for (i = 0; i < n; i++) {
		if (m[i].data) {
			if (isim_sha256_hex(m[i].data, m[i].len, d[i].sha256) < 0)
				return isim_error_set(err, ISIM_ERR_INTERNAL, "SHA-256 failed");
			d[i].size = m[i].len;
			d[i].known = true;
		} else if (strcmp(m[i].path, ISIM_APPLIANCE_MANIFEST) > 0) {
			if (isim_sha256_file(m[i].file, md, err) < 0)
				return -1;
			if (stat(m[i].file, &st) < 0) {
				isim_error_at(err, m[i].file, 0, 0);
				return isim_error_errno(err, ISIM_ERR_IO, errno, "cannot stat");
			}
			isim_hex(md, sizeof(md), d[i].sha256);
			d[i].size = (uint64_t)st.st_size;
			d[i].known = true;
		}
	}
	return 0;
}

static int member_order(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The manifest: o->manifest and "members" in path order, canonical (RFC
 * 8785) and a newline. */
static int manifest_text(const struct isim_appliance_out *o, const struct isim_appliance_member *m, size_t n,
			 const struct digest *d, struct isim_buf *out, struct isim_error *err)
{
	cJSON *doc = cJSON_Duplicate(o->manifest, 1), *list, *it;
	const char **order = calloc(n, sizeof(*order));
	size_t i, j;
	int ret = -1;

	if (doc)
		cJSON_DeleteItemFromObjectCaseSensitive(doc, "members");
	if (!doc || !order || !(list = cJSON_AddArrayToObject(doc, "members"))) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		order[i] = m[i].path;
	qsort(order, n, sizeof(*order), member_order);
	for (i = 0; i < n; i++) {
		for (j = 0; m[j].path != order[i]; j++)
			;
		it = cJSON_CreateObject();
		if (!it || !cJSON_AddItemToArray(list, it) || !cJSON_AddStringToObject(it, "path", m[j].path) ||
		    !cJSON_AddNumberToObject(it, "size", (double)d[j].size) ||
		    !cJSON_AddStringToObject(it, "sha256", d[j].sha256)) {
			isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
			goto out;
		}
	}
	if (isim_jcs_from_cjson(doc, out, err) < 0 || (isim_buf_putn(out, "\n", 1), out->oom))
		goto out;
	ret = 0;
out:
	free(order);
	cJSON_Delete(doc);
	return ret;
}

static int signature_text(const struct isim_appliance_out *o, const struct isim_buf *manifest, char **out, size_t *len,
			  struct isim_error *err)
{
	char trusted[ISIM_MS_TRUSTED_MAX + 1];
	struct isim_ms_sig *sig = malloc(sizeof(*sig));
	int ret = -1;

	*out = NULL;
	if (!sig)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	if (isim_ms_default_trusted_comment(o->mtime, ISIM_APPLIANCE_MANIFEST, trusted, sizeof(trusted), err) < 0 ||
	    isim_ms_sign_data(o->key, manifest->s, manifest->len, trusted, NULL, sig, err) < 0)
		goto out;
	if (!(*out = isim_ms_sig_format(sig, len))) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	ret = 0;
out:
	free(sig);
	return ret;
}

int isim_appliance_write(const struct isim_appliance_out *o, const struct isim_appliance_member *members, size_t n,
			 struct isim_appliance_result *res, struct isim_error *err)
{
	struct isim_staged_file sf = { 0 };
	struct isim_buf manifest = { 0 };
	struct isim_tgz *t = NULL;
	struct digest *d = NULL;
	struct ent *e = NULL;
	uint8_t *buf = NULL, md[ISIM_SHA256_BYTES];
	char *sig = NULL;
	size_t ne = 0, i, siglen = 0;
	int fd = -1, ret = -1;

	memset(res, 0, sizeof(*res));
	if (check_members(members, n, err) < 0 || plan(o, members, n, &e, &ne, err) < 0)
		return -1;
	d = calloc(n, sizeof(*d));
	buf = malloc(CHUNK);
	if (!d || !buf) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	if (prehash(members, n, d, err) < 0)
		goto out;
	if (isim_file_stage_open(&sf, o->path, o->mode, &fd, err) < 0)
		goto out;
	if (isim_tgz_open(&t, fd, o->path, o->mtime, o->compressor, err) < 0)
		goto out;
	for (i = 0; i < ne; i++) {
		const struct isim_appliance_member *m = &members[e[i].member];
		int r = 0;

		switch (e[i].kind) {
		case ENT_DIR:
			r = isim_tgz_dir(t, e[i].path, 0755, err);
			break;
		case ENT_MEMBER:
			r = m->data ? isim_tgz_data(t, m->path, m->mode, m->data, m->len, err)
				    : stream_file(t, o, m, buf, &d[e[i].member], err);
			break;
		case ENT_MANIFEST:
			r = manifest_text(o, members, n, d, &manifest, err);
			if (r == 0)
				r = isim_tgz_data(t, ISIM_APPLIANCE_MANIFEST, 0644, manifest.s, manifest.len, err);
			break;
		case ENT_SIGNATURE:
			r = signature_text(o, &manifest, &sig, &siglen, err);
			if (r == 0)
				r = isim_tgz_data(t, ISIM_APPLIANCE_SIGNATURE, 0644, sig, siglen, err);
			break;
		}
		if (r < 0)
			goto out;
	}
	if (isim_tgz_close(t, md, &res->size, err) < 0) {
		t = NULL;
		goto out;
	}
	t = NULL;
	if (isim_file_stage_close(&sf, fd, err) < 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (isim_file_commit(&sf, o->replace, err) < 0)
		goto out;
	isim_hex(md, sizeof(md), res->sha256);
	if (isim_sha256_hex(manifest.s, manifest.len, res->manifest_sha256) < 0) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "SHA-256 failed");
		goto out;
	}
	res->members = n;
	ret = 0;
out:
	isim_tgz_abort(t);
	if (fd >= 0)
		close(fd);
	if (ret < 0)
		isim_file_abort(&sf);
	plan_free(e, ne);
	isim_buf_free(&manifest);
	free(sig);
	free(buf);
	free(d);
	return ret;
}

/* ---- reading ---------------------------------------------------------- */

void isim_appliance_manifest_free(struct isim_appliance_manifest *m)
{
	cJSON_Delete(m->doc);
	free(m->members);
	memset(m, 0, sizeof(*m));
}

static const char *text_of(const cJSON *o, const char *key)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(s) ? s->valuestring : NULL;
}

int isim_appliance_manifest_parse(const char *text, size_t len, const char *name, struct isim_appliance_manifest *m,
				  struct isim_error *err)
{
	const cJSON *list, *it;
	cJSON *schema = NULL;
	char ptr[64];
	size_t j;
	int ret = -1;

	memset(m, 0, sizeof(*m));
	if (isim_json_parse(text, len, name, &m->doc, err) < 0)
		return -1;
	if (isim_schema_load(NULL, ISIM_APPLIANCE_SCHEMA, &schema, err) < 0)
		goto out;
	if (isim_schema_validate(schema, m->doc, err) < 0) {
		isim_error_at(err, name, 0, 0);
		goto out;
	}
	m->name = text_of(m->doc, "name");
	m->id = text_of(m->doc, "id");
	m->secrets = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m->doc, "secrets"));
	list = cJSON_GetObjectItemCaseSensitive(m->doc, "members");
	m->members = calloc((size_t)cJSON_GetArraySize(list), sizeof(*m->members));
	if (!m->members) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	cJSON_ArrayForEach (it, list) {
		struct isim_appliance_listed *l = &m->members[m->n];

		l->path = text_of(it, "path");
		l->size = (uint64_t)cJSON_GetObjectItemCaseSensitive(it, "size")->valuedouble;
		l->sha256 = text_of(it, "sha256");
		snprintf(ptr, sizeof(ptr), "/members/%zu/path", m->n);
		if (!isim_appliance_path_ok(l->path) || reserved(l->path)) {
			isim_error_at(err, name, 0, 0);
			isim_error_at_pointer(err, ISIM_ERR_DATA, ptr, "'%s' is not a member path", l->path);
			goto out;
		}
		for (j = 0; j < m->n; j++)
			if (!strcmp(m->members[j].path, l->path)) {
				isim_error_at(err, name, 0, 0);
				isim_error_at_pointer(err, ISIM_ERR_DATA, ptr, "'%s' is listed twice", l->path);
				goto out;
			}
		m->n++;
	}
	ret = 0;
out:
	cJSON_Delete(schema);
	if (ret < 0)
		isim_appliance_manifest_free(m);
	return ret;
}

/* What the archive held: each entry's path, and a file's size and digest. */
struct rec {
	char *path;
	bool dir;
	uint64_t size;
	char sha256[ISIM_SHA256_HEX];
};

static const struct rec *find(const struct rec *recs, size_t n, const char *path)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(recs[i].path, path))
			return &recs[i];
	return NULL;
}

/* Why a path is unsafe, or NULL when it is not. */
static const char *unsafe(const char *p)
{
	const char *c;

	if (p[0] == '/')
		return "is an absolute path";
	for (c = p; c; c = strchr(c, '/'), c = c ? c + 1 : NULL)
		if (c[0] == '.' && c[1] == '.' && (c[2] == '/' || c[2] == '\0'))
			return "leaves the archive ('..')";
	return isim_appliance_path_ok(p) ? NULL : "is not a member path (isim-formats(5))";
}

/* Read the entry's bytes: into keep (at most max) or only hashed. 0, or 1
 * with the verdict refused. */
static int take(struct isim_tgz_in *in, const struct isim_tar_entry *e, struct rec *rec, uint8_t *buf,
		struct isim_buf *keep, size_t max, struct isim_verdict *v)
{
	struct isim_sha256_ctx h = { 0 };
	uint8_t md[ISIM_SHA256_BYTES];
	struct isim_error err;
	ssize_t n;

	isim_error_clear(&err);
	if (keep && (e->size < 0 || (uint64_t)e->size > max)) {
		isim_verdict_refuse(v, NULL, "'%s' is larger than %zu bytes", rec->path, max);
		return 1;
	}
	if (isim_sha256_begin(&h) < 0) {
		isim_verdict_refuse(v, NULL, "SHA-256 is unavailable");
		return 1;
	}
	while ((n = isim_tgz_read(in, buf, CHUNK, &err)) > 0) {
		if (isim_run_interrupted) {
			isim_sha256_abort(&h);
			isim_verdict_refuse(v, NULL, "interrupted");
			return 1;
		}
		if (keep)
			isim_buf_putn(keep, (const char *)buf, (size_t)n);
		if (isim_sha256_update(&h, buf, (size_t)n) < 0 || (keep && keep->oom)) {
			isim_sha256_abort(&h);
			isim_verdict_refuse(v, NULL, "out of memory");
			return 1;
		}
		rec->size += (uint64_t)n;
	}
	if (n < 0 || isim_sha256_end(&h, md) < 0) {
		isim_sha256_abort(&h);
		isim_verdict_refuse(v, NULL, "'%s': %s", rec->path, err.msg);
		return 1;
	}
	isim_hex(md, sizeof(md), rec->sha256);
	return 0;
}

/* Walk the archive into recs, the manifest's and signature's bytes kept.
 * 0 when walked (the verdict refused if an entry is wrong), -1 with err
 * when it is no archive. */
static int walk(const char *path, struct rec *recs, size_t *nrecs, struct isim_buf *man, struct isim_buf *sig,
		struct isim_verdict *v, struct isim_error *err)
{
	struct isim_tgz_in *in = NULL;
	struct isim_tar_entry e;
	uint8_t *buf = malloc(CHUNK);
	const char *why;
	struct rec *rec;
	size_t count = 0, len;
	int s, ret = -1;

	if (!buf)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	if (isim_tgz_read_open(&in, path, err) < 0)
		goto out;
	while ((s = isim_tgz_next(in, &e, err)) != 0) {
		if (s < 0) {
			if (count == 0)
				goto out;
			isim_verdict_refuse_error(v, err);
			isim_error_clear(err);
			break;
		}
		if (++count > ISIM_APPLIANCE_ENTRIES_MAX) {
			isim_verdict_refuse(v, NULL, "more than %d entries", ISIM_APPLIANCE_ENTRIES_MAX);
			break;
		}
		rec = &recs[*nrecs];
		if (!(rec->path = strdup(e.path))) {
			isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
			goto out;
		}
		(*nrecs)++;
		len = strlen(rec->path);
		if (e.type == ISIM_TAR_DIR && len > 1 && rec->path[len - 1] == '/')
			rec->path[len - 1] = '\0';
		if (e.type == ISIM_TAR_SYMLINK) {
			isim_verdict_refuse(v, NULL, "'%s' is a symbolic link", rec->path);
			break;
		}
		if (e.type == ISIM_TAR_HARDLINK) {
			isim_verdict_refuse(v, NULL, "'%s' is a hard link", rec->path);
			break;
		}
		if (e.type == ISIM_TAR_OTHER) {
			isim_verdict_refuse(v, NULL, "'%s' is not a regular file or a directory", rec->path);
			break;
		}
		if ((why = unsafe(rec->path))) {
			isim_verdict_refuse(v, NULL, "'%s' %s", rec->path, why);
			break;
		}
		if (find(recs, *nrecs - 1, rec->path)) {
			isim_verdict_refuse(v, NULL, "'%s' is in the archive twice", rec->path);
			break;
		}
		rec->dir = e.type == ISIM_TAR_DIR;
		if (rec->dir)
			continue;
		if (!strcmp(rec->path, ISIM_APPLIANCE_MANIFEST))
			s = take(in, &e, rec, buf, man, ISIM_APPLIANCE_MANIFEST_MAX, v);
		else if (!strcmp(rec->path, ISIM_APPLIANCE_SIGNATURE))
			s = take(in, &e, rec, buf, sig, ISIM_APPLIANCE_SIG_MAX, v);
		else
			s = take(in, &e, rec, buf, NULL, 0, v);
		if (s)
			break;
	}
	ret = 0;
out:
	isim_tgz_read_close(in);
	free(buf);
	return ret;
}

/* The members against the manifest: missing, changed, then added. */
static void compare(const struct isim_appliance_manifest *m, const struct rec *recs, size_t n, struct isim_verdict *v)
{
	const struct isim_appliance_listed *l;
	const struct rec *r;
	size_t i, j, len;

	for (i = 0; i < m->n; i++) {
		l = &m->members[i];
		r = find(recs, n, l->path);
		if (!r || r->dir) {
			isim_verdict_refuse(v, NULL, "member '%s' is missing", l->path);
			return;
		}
		if (r->size != l->size) {
			isim_verdict_refuse(v, NULL, "member '%s' changed: %llu bytes, the manifest says %llu", l->path,
					    (unsigned long long)r->size, (unsigned long long)l->size);
			return;
		}
		if (strcmp(r->sha256, l->sha256)) {
			isim_verdict_refuse(v, NULL, "member '%s' changed: its SHA-256 is not the manifest's", l->path);
			return;
		}
	}
	for (i = 0; i < n; i++) {
		r = &recs[i];
		if (reserved(r->path) && !r->dir)
			continue;
		for (j = 0; j < m->n; j++) {
			l = &m->members[j];
			len = strlen(r->path);
			if (r->dir ? !strncmp(l->path, r->path, len) && l->path[len] == '/' : !strcmp(l->path, r->path))
				break;
		}
		if (j == m->n) {
			isim_verdict_refuse(v, NULL, "%s '%s' is not in the manifest", r->dir ? "directory" : "member",
					    r->path);
			return;
		}
	}
}

int isim_appliance_check(const char *path, const struct isim_trust *trust, bool allow_unsigned,
			 struct isim_appliance_report *r, struct isim_error *err)
{
	struct isim_appliance_manifest m = { 0 };
	struct isim_buf man = { 0 }, sigt = { 0 };
	struct isim_ms_sig *sig = NULL;
	struct rec *recs = calloc(ISIM_APPLIANCE_ENTRIES_MAX, sizeof(*recs));
	struct isim_error e2;
	char reason[ISIM_VERDICT_REASON_MAX];
	size_t n = 0, i;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	isim_verdict_init(&r->v);
	isim_error_clear(&e2);
	if (!recs)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
	/* A refusal while walking is the verdict already. */
	r->v.ok = true;
	if (walk(path, recs, &n, &man, &sigt, &r->v, err) < 0)
		goto out;
	ret = 0;
	if (!r->v.ok)
		goto out;
	r->v.ok = false;
	if (!find(recs, n, ISIM_APPLIANCE_MANIFEST)) {
		isim_verdict_refuse(&r->v, NULL, "no " ISIM_APPLIANCE_MANIFEST);
		goto out;
	}
	if (isim_appliance_manifest_parse(man.s ? man.s : "", man.len, ISIM_APPLIANCE_MANIFEST, &m, &e2) < 0) {
		isim_verdict_reason_of(&e2, reason, sizeof(reason));
		isim_verdict_refuse(&r->v, ISIM_APPLIANCE_MANIFEST, "%s", reason);
		goto out;
	}
	snprintf(r->name, sizeof(r->name), "%s", m.name);
	snprintf(r->id, sizeof(r->id), "%s", m.id);
	r->members = m.n;
	r->secrets = m.secrets;
	if (find(recs, n, ISIM_APPLIANCE_SIGNATURE)) {
		r->is_signed = true;
		if (!trust) {
			isim_verdict_refuse(&r->v, NULL, "signed, but no trusted signers were given");
			goto out;
		}
		if (!(sig = malloc(sizeof(*sig)))) {
			ret = isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
			goto out;
		}
		if (isim_ms_sig_parse(sigt.s ? sigt.s : "", sigt.len, ISIM_APPLIANCE_SIGNATURE, sig, &e2) < 0) {
			isim_verdict_refuse(&r->v, ISIM_APPLIANCE_SIGNATURE, "%s", e2.msg);
			goto out;
		}
		if (isim_trust_verify_data(trust, sig, man.s, man.len, &r->v, err) < 0) {
			ret = -1;
			goto out;
		}
		if (!r->v.ok)
			goto out;
	} else if (!allow_unsigned) {
		isim_verdict_refuse(&r->v, NULL, "not signed (no " ISIM_APPLIANCE_SIGNATURE ")");
		goto out;
	}
	r->v.ok = true;
	compare(&m, recs, n, &r->v);
out:
	if (ret < 0)
		r->v.ok = false;
	for (i = 0; i < n; i++)
		free(recs[i].path);
	free(recs);
	free(sig);
	isim_buf_free(&man);
	isim_buf_free(&sigt);
	isim_appliance_manifest_free(&m);
	return ret;
}
