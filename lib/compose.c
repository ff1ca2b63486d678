/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "isim/buf.h"
#include "isim/compose.h"
#include "isim/file.h"
#include "isim/hash.h"
#include "isim/json.h"
#include "isim/schema.h"

#define MANIFEST_VERSION 1
#define MAX_CHAIN 1024

enum {
	UNSEEN,
	ACTIVE,
	DONE
};

struct file_ent {
	char *dest;
	char *source; /* relative to the features directory: <feature>/<path> */
	char sha256[ISIM_SHA256_HEX];
	unsigned mode;
	size_t seq; /* collection order: features in composition order */
	const struct isim_feature *f;
	char pointer[64]; /* where f declares it */
};

struct ctx {
	struct isim_catalog *cat;
	const struct isim_profile *profile;
	struct isim_error *err;
	struct isim_feature **order; /* dependencies first */
	size_t n, cap;
	struct isim_feature **stack; /* the requires chain being resolved */
	size_t depth, scap;
	struct file_ent *files;
	size_t nfiles, fcap;
	cJSON *config; /* feature name -> resolved feature_config */
};

static int oom(struct ctx *c)
{
	return isim_error_set(c->err, ISIM_ERR_INTERNAL, "out of memory");
}

static const cJSON *get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* Point err at pointer inside doc, keeping the message already set. */
static int fail_in(const struct isim_doc *doc, const char *pointer, struct isim_error *err)
{
	isim_error_pointer(err, pointer);
	isim_doc_locate_error(doc, err);
	return -1;
}

/* "profile wg-mesh-ipv6 -> a -> b": how f came to be in the composition. */
static void chain_text(const struct isim_feature *f, char *buf, size_t size)
{
	const struct isim_feature *v[MAX_CHAIN] = { NULL };
	size_t n = 0, len;

	for (; f && n < MAX_CHAIN; f = f->via)
		v[n++] = f;
	len = (size_t)snprintf(buf, size, "profile");
	while (n-- > 0 && len < size)
		len += (size_t)snprintf(buf + len, size - len, " -> %s", v[n]->name);
}

static bool in_order(const struct ctx *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (!strcmp(c->order[i]->name, name))
			return true;
	return false;
}

static int visit(struct ctx *c, struct isim_feature *f, const struct isim_feature *via);

/* Load the feature named at pointer in doc; errors are placed there. */
static int named_feature(struct ctx *c, const struct isim_doc *doc, const char *pointer, const char *name,
			 const struct isim_feature *via, struct isim_feature **out)
{
	char chain[512];

	if (isim_catalog_feature(c->cat, name, out, c->err) == 0)
		return 0;
	if (c->err->kind == ISIM_ERR_DATA && !c->err->path[0]) {
		if (via) {
			size_t n = strlen(c->err->msg);

			chain_text(via, chain, sizeof(chain));
			snprintf(c->err->msg + n, sizeof(c->err->msg) - n, " (required by %s)", chain);
		}
		return fail_in(doc, pointer, c->err);
	}
	return -1;
}

static int visit_requires(struct ctx *c, struct isim_feature *f)
{
	const cJSON *req = get(f->doc->root, "requires"), *r;
	char ptr[64];
	int i = 0;

	cJSON_ArrayForEach (r, req) {
		struct isim_feature *dep;

		snprintf(ptr, sizeof(ptr), "/requires/%d", i++);
		if (named_feature(c, f->doc, ptr, r->valuestring, f, &dep) < 0)
			return -1;
		if (dep->mark == ACTIVE) {
			struct isim_buf b = { 0 };
			size_t k = 0;

			while (k < c->depth && c->stack[k] != dep)
				k++;
			for (; k < c->depth; k++)
				isim_buf_printf(&b, "%s -> ", c->stack[k]->name);
			isim_buf_puts(&b, dep->name);
			isim_error_set(c->err, ISIM_ERR_DATA, "requires cycle: %s", b.oom ? "?" : b.s);
			isim_buf_free(&b);
			return fail_in(f->doc, ptr, c->err);
		}
		if (visit(c, dep, f) < 0)
			return -1;
	}
	return 0;
}

/* Depth-first, in the order written, each feature after what it requires:
 * a deterministic order that every install step can follow. */
static int visit(struct ctx *c, struct isim_feature *f, const struct isim_feature *via)
{
	if (f->mark == DONE)
		return 0;
	if (c->depth == c->scap) {
		size_t ncap = c->scap ? c->scap * 2 : 16;
		struct isim_feature **nv = realloc(c->stack, ncap * sizeof(*nv));

		if (!nv)
			return oom(c);
		c->stack = nv;
		c->scap = ncap;
	}
	f->mark = ACTIVE;
	f->via = via;
	c->stack[c->depth++] = f;
	if (visit_requires(c, f) < 0)
		return -1;
	c->depth--;
	f->mark = DONE;
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 16;
		struct isim_feature **nv = realloc(c->order, ncap * sizeof(*nv));

		if (!nv)
			return oom(c);
		c->order = nv;
		c->cap = ncap;
	}
	c->order[c->n++] = f;
	return 0;
}

static int resolve(struct ctx *c)
{
	const cJSON *feats = get(c->profile->doc->root, "features"), *r;
	char ptr[64];
	size_t i;
	int k = 0;

	for (i = 0; i < c->cat->nfeatures; i++) {
		c->cat->features[i]->mark = UNSEEN;
		c->cat->features[i]->via = NULL;
	}
	cJSON_ArrayForEach (r, feats) {
		struct isim_feature *f;

		snprintf(ptr, sizeof(ptr), "/features/%d", k++);
		if (named_feature(c, c->profile->doc, ptr, r->valuestring, NULL, &f) < 0 || visit(c, f, NULL) < 0)
			return -1;
	}
	return 0;
}

static int check_conflicts(struct ctx *c)
{
	char a[512], b[512], ptr[64];
	size_t i;

	for (i = 0; i < c->n; i++) {
		const struct isim_feature *f = c->order[i];
		const cJSON *x;
		int k = 0;

		cJSON_ArrayForEach (x, get(f->doc->root, "conflicts")) {
			size_t j;

			snprintf(ptr, sizeof(ptr), "/conflicts/%d", k++);
			for (j = 0; j < c->n; j++)
				if (!strcmp(c->order[j]->name, x->valuestring))
					break;
			if (j == c->n)
				continue;
			chain_text(f, a, sizeof(a));
			chain_text(c->order[j], b, sizeof(b));
			isim_error_set(c->err, ISIM_ERR_DATA, "feature '%s' conflicts with '%s' (%s; %s)", f->name,
				       c->order[j]->name, a, b);
			return fail_in(f->doc, ptr, c->err);
		}
	}
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted and deduplicated, one a line. */
static char *merge_packages(struct ctx *c, cJSON *list)
{
	struct isim_buf b = { 0 };
	const char **v = NULL;
	size_t n = 0, cap = 0, i;

	for (i = 0; i < c->n; i++) {
		const cJSON *p;

		cJSON_ArrayForEach (p, get(c->order[i]->doc->root, "packages")) {
			if (n == cap) {
				const char **nv;

				cap = cap ? cap * 2 : 64;
				nv = realloc(v, cap * sizeof(*v));
				if (!nv)
					goto fail;
				v = nv;
			}
			v[n++] = p->valuestring;
		}
	}
	if (n)
		qsort(v, n, sizeof(*v), str_cmp);
	isim_buf_puts(&b, "");
	for (i = 0; i < n; i++) {
		if (i && !strcmp(v[i], v[i - 1]))
			continue;
		isim_buf_printf(&b, "%s\n", v[i]);
		cJSON_AddItemToArray(list, cJSON_CreateString(v[i]));
	}
	free(v);
	return isim_buf_take(&b);
fail:
	free(v);
	isim_buf_free(&b);
	return NULL;
}

static bool safe_path(const char *p, bool absolute)
{
	const char *s;

	if (!*p || (p[0] == '/') != absolute || p[strlen(p) - 1] == '/' || strstr(p, "//"))
		return false;
	for (s = p; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f || *s == '\\')
			return false;
	for (s = p; s; s = strchr(s, '/')) {
		if (*s == '/')
			s++;
		if (!strncmp(s, "..", 2) && (s[2] == '/' || !s[2]))
			return false;
		if (s[0] == '.' && (s[1] == '/' || !s[1]))
			return false;
	}
	return true;
}

static int parse_mode(const char *s, unsigned *mode)
{
	char *end;
	unsigned long v;

	if (strlen(s) != 4 || s[0] != '0')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 8);
	if (errno || *end || v > 07777)
		return -1;
	*mode = (unsigned)v;
	return 0;
}

/* Hash a feature's source file, refusing anything but a regular file inside
 * the feature's folder. */
static int hash_source(struct ctx *c, const struct isim_feature *f, const char *rel, const char *ptr,
		       char hex[static ISIM_SHA256_HEX])
{
	uint8_t d[ISIM_SHA256_BYTES];
	struct isim_error e2;
	struct stat st;
	char *path = NULL;

	if (asprintf(&path, "%s/%s", f->dir, rel) < 0)
		return oom(c);
	if (lstat(path, &st) < 0) {
		isim_error_errno(c->err, ISIM_ERR_DATA, errno, "source '%s' cannot be read", rel);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		isim_error_set(c->err, ISIM_ERR_DATA, "source '%s' is not a regular file", rel);
		goto fail;
	}
	isim_error_clear(&e2);
	if (isim_sha256_file(path, d, &e2) < 0) {
		isim_error_set(c->err, ISIM_ERR_DATA, "source '%s' cannot be read: %s", rel, e2.msg);
		goto fail;
	}
	free(path);
	isim_hex(d, sizeof(d), hex);
	return 0;
fail:
	free(path);
	return fail_in(f->doc, ptr, c->err);
}

static int add_file(struct ctx *c, const struct isim_feature *f, const char *rel, const char *dest, unsigned mode,
		    const char *ptr)
{
	struct file_ent *e;

	if (c->nfiles == c->fcap) {
		size_t ncap = c->fcap ? c->fcap * 2 : 64;
		struct file_ent *nv = realloc(c->files, ncap * sizeof(*nv));

		if (!nv)
			return oom(c);
		c->files = nv;
		c->fcap = ncap;
	}
	e = &c->files[c->nfiles];
	memset(e, 0, sizeof(*e));
	e->f = f;
	e->mode = mode;
	e->seq = c->nfiles;
	snprintf(e->pointer, sizeof(e->pointer), "%s", ptr);
	if (hash_source(c, f, rel, ptr, e->sha256) < 0)
		return -1;
	if (asprintf(&e->source, "%s/%s", f->name, rel) < 0) {
		e->source = NULL;
		return oom(c);
	}
	e->dest = strdup(dest);
	if (!e->dest) {
		free(e->source);
		return oom(c);
	}
	c->nfiles++;
	return 0;
}

static int collect_files(struct ctx *c, cJSON *mfeat, const struct isim_feature *f)
{
	const cJSON *x;
	cJSON *srcs = cJSON_AddArrayToObject(mfeat, "files");
	char ptr[64], dest[4096];
	int k = 0;

	cJSON_ArrayForEach (x, get(f->doc->root, "files")) {
		const char *src = get(x, "source")->valuestring;
		const char *dst = get(x, "destination")->valuestring;
		unsigned mode;
		cJSON *o;

		snprintf(ptr, sizeof(ptr), "/files/%d/source", k);
		if (!safe_path(src, false) || strncmp(src, "files/", 6)) {
			isim_error_set(c->err, ISIM_ERR_DATA,
				       "source '%.200s' must be a relative path under files/ without '..'", src);
			return fail_in(f->doc, ptr, c->err);
		}
		snprintf(ptr, sizeof(ptr), "/files/%d/destination", k);
		if (!safe_path(dst, true)) {
			isim_error_set(
				c->err, ISIM_ERR_DATA,
				"destination '%.200s' must be an absolute path without '..', '.', '//' or spaces", dst);
			return fail_in(f->doc, ptr, c->err);
		}
		snprintf(ptr, sizeof(ptr), "/files/%d/mode", k);
		if (parse_mode(get(x, "mode")->valuestring, &mode) < 0) {
			isim_error_set(c->err, ISIM_ERR_DATA, "mode '%.20s' is not an octal mode like \"0644\"",
				       get(x, "mode")->valuestring);
			return fail_in(f->doc, ptr, c->err);
		}
		snprintf(ptr, sizeof(ptr), "/files/%d/source", k++);
		if (add_file(c, f, src, dst, mode, ptr) < 0)
			return -1;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "source", src);
		cJSON_AddStringToObject(o, "sha256", c->files[c->nfiles - 1].sha256);
		cJSON_AddItemToArray(srcs, o);
	}
	k = 0;
	cJSON_ArrayForEach (x, get(f->doc->root, "selftest")) {
		char rel[256];
		cJSON *o;

		snprintf(ptr, sizeof(ptr), "/selftest/%d", k++);
		snprintf(rel, sizeof(rel), "selftest/%.200s.sh", x->valuestring);
		snprintf(dest, sizeof(dest), ISIM_SELFTEST_DIR "/%s/%s.sh", f->name, x->valuestring);
		if (add_file(c, f, rel, dest, 0755, ptr) < 0)
			return -1;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "source", rel);
		cJSON_AddStringToObject(o, "sha256", c->files[c->nfiles - 1].sha256);
		cJSON_AddItemToArray(srcs, o);
	}
	return 0;
}

static int file_cmp(const void *a, const void *b)
{
	const struct file_ent *x = a, *y = b;
	int r = strcmp(x->dest, y->dest);

	if (r)
		return r;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* files.txt: "MODE SHA256 DESTINATION SOURCE", sorted by destination. Two
 * features may install one destination only with the same content and mode. */
static char *merge_files(struct ctx *c)
{
	struct isim_buf b = { 0 };
	size_t i;

	if (c->nfiles)
		qsort(c->files, c->nfiles, sizeof(*c->files), file_cmp);
	isim_buf_puts(&b, "");
	for (i = 0; i < c->nfiles; i++) {
		const struct file_ent *e = &c->files[i], *p = i ? &c->files[i - 1] : NULL;

		if (p && !strcmp(e->dest, p->dest)) {
			if (!strcmp(e->sha256, p->sha256) && e->mode == p->mode)
				continue;
			isim_error_set(c->err, ISIM_ERR_DATA,
				       "destination '%.200s' is also installed by feature '%s' (%s) with other %s",
				       e->dest, p->f->name, p->source, e->mode != p->mode ? "mode" : "content");
			fail_in(e->f->doc, e->pointer, c->err);
			isim_buf_free(&b);
			return NULL;
		}
		isim_buf_printf(&b, "%04o %s %s %s\n", e->mode, e->sha256, e->dest, e->source);
	}
	if (b.oom) {
		oom(c);
		isim_buf_free(&b);
		return NULL;
	}
	return isim_buf_take(&b);
}

/* Braces must balance inside a fragment so that it cannot close the chain
 * it is placed in. Comments run from '#' to the end of the line. */
static bool balanced(const char *s)
{
	int depth = 0;
	bool quoted = false;

	for (; *s; s++) {
		if (*s == '"') {
			quoted = !quoted;
		} else if (quoted) {
			continue;
		} else if (*s == '#') {
			s += strcspn(s, "\n");
			if (!*s)
				break;
		} else if (*s == '{') {
			depth++;
		} else if (*s == '}' && --depth < 0) {
			return false;
		}
	}
	return depth == 0 && !quoted;
}

static const char *const chains[] = { "input", "forward", "output" };

static const cJSON *fragment(const struct isim_feature *f, const char *chain, char *ptr, size_t size)
{
	const cJSON *fw = get(f->doc->root, "firewall_fragment");

	if (cJSON_IsString(fw)) {
		snprintf(ptr, size, "/firewall_fragment");
		return strcmp(chain, "input") ? NULL : fw;
	}
	snprintf(ptr, size, "/firewall_fragment/%s", chain);
	return get(fw, chain);
}

static bool nft_identifier(const char *s)
{
	return *s && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(s);
}

/* A string that nft reads as one word (an address, a prefix, a name) is
 * written bare, one it can read quoted is quoted; 0 when neither. */
static int nft_string_form(const char *s, bool *bare)
{
	/* Addresses, prefixes and numbers go bare so that rules can match on
	 * them; anything else is a quoted string, never a symbol nft would
	 * try to resolve. */
	static const char addr[] = "0123456789abcdefABCDEF.:/";
	const char *t;

	*bare = *s && strspn(s, addr) == strlen(s) && strpbrk(s, "0123456789");
	for (t = s; *t; t++)
		if ((unsigned char)*t < ' ' || *t == 0x7f || *t == '"' || *t == '\\' || *t == '$')
			return -1;
	return 0;
}

/* nft variables from each feature's resolved configuration, so fragments
 * can say $vpn_wireguard_listen_port. Booleans, arrays and objects have no
 * nft form and are left out. */
static int nft_defines(struct ctx *c, struct isim_buf *b)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		const struct isim_feature *f = c->order[i];
		const cJSON *v;

		cJSON_ArrayForEach (v, get(c->config, f->name)) {
			char name[160], ptr[256], *p;
			bool bare;

			snprintf(name, sizeof(name), "%s_%s", f->name, v->string);
			for (p = name; *p; p++)
				if (*p == '-')
					*p = '_';
			snprintf(ptr, sizeof(ptr), "/config_schema/properties/%s", v->string);
			if (!nft_identifier(name)) {
				isim_error_set(c->err, ISIM_ERR_DATA,
					       "config key '%.64s' cannot name an nft variable ([a-z0-9_]+)",
					       v->string);
				return fail_in(f->doc, ptr, c->err);
			}
			if (cJSON_IsNumber(v) && isim_json_is_integer(v)) {
				isim_buf_printf(b, "define %s = %.0f\n", name, v->valuedouble);
			} else if (cJSON_IsString(v)) {
				if (nft_string_form(v->valuestring, &bare) < 0) {
					isim_error_set(c->err, ISIM_ERR_DATA,
						       "value '%.64s' cannot be used in the firewall ruleset (quote, "
						       "'$', '\\' or control character)",
						       v->valuestring);
					snprintf(ptr, sizeof(ptr), "/feature_config/%s/%s", f->name, v->string);
					return fail_in(c->profile->doc, ptr, c->err);
				}
				isim_buf_printf(b, bare ? "define %s = %s\n" : "define %s = \"%s\"\n", name,
						v->valuestring);
			}
		}
	}
	return 0;
}

static char *merge_firewall(struct ctx *c)
{
	struct isim_buf b = { 0 };
	size_t i, k;

	isim_buf_printf(&b,
			"#!/usr/sbin/nft -f\n"
			"# Firewall of profile %s, composed by isim-compose from its features.\n"
			"flush ruleset\n\n",
			c->profile->name);
	if (nft_defines(c, &b) < 0)
		goto fail;
	isim_buf_puts(&b, "\ntable inet infrasim {\n");
	for (k = 0; k < 3; k++) {
		isim_buf_printf(&b, "%s\tchain %s {\n\t\ttype filter hook %s priority filter; policy %s;\n",
				k ? "\n" : "", chains[k], chains[k], k == 2 ? "accept" : "drop");
		for (i = 0; i < c->n; i++) {
			const struct isim_feature *f = c->order[i];
			char ptr[64];
			const cJSON *frag = fragment(f, chains[k], ptr, sizeof(ptr));
			const char *s, *e;

			if (!frag)
				continue;
			if (!balanced(frag->valuestring)) {
				isim_error_set(c->err, ISIM_ERR_DATA,
					       "firewall fragment has unbalanced braces or quotes");
				fail_in(f->doc, ptr, c->err);
				goto fail;
			}
			isim_buf_printf(&b, "\t\t# %s\n", f->name);
			for (s = frag->valuestring; *s; s = *e ? e + 1 : e) {
				size_t n;

				e = s + strcspn(s, "\n");
				while (s < e && (*s == ' ' || *s == '\t'))
					s++;
				n = (size_t)(e - s);
				while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
					n--;
				if (!n)
					continue;
				isim_buf_puts(&b, "\t\t");
				isim_buf_putn(&b, s, n);
				isim_buf_puts(&b, "\n");
			}
		}
		isim_buf_puts(&b, "\t}\n");
	}
	isim_buf_puts(&b, "}\n");
	if (b.oom) {
		oom(c);
		goto fail;
	}
	return isim_buf_take(&b);
fail:
	isim_buf_free(&b);
	return NULL;
}

/* Overlay src onto dst: objects merge key by key, anything else replaces. */
static int overlay(cJSON *dst, const cJSON *src)
{
	const cJSON *v;

	cJSON_ArrayForEach (v, src) {
		cJSON *d = cJSON_GetObjectItemCaseSensitive(dst, v->string);
		cJSON *copy;

		if (cJSON_IsObject(d) && cJSON_IsObject(v)) {
			if (overlay(d, v) < 0)
				return -1;
			continue;
		}
		copy = cJSON_Duplicate(v, true);
		if (!copy)
			return -1;
		if (d)
			cJSON_ReplaceItemInObjectCaseSensitive(dst, v->string, copy);
		else
			cJSON_AddItemToObject(dst, v->string, copy);
	}
	return 0;
}

/* Place err in doc at where, while it names the value at shown. */
static int fail_at_as(const struct isim_doc *doc, const char *where, const char *shown, struct isim_error *err)
{
	isim_error_pointer(err, where);
	isim_doc_locate_error(doc, err);
	isim_error_pointer(err, shown);
	return -1;
}

static int unknown_config_section(struct ctx *c, const char *name)
{
	struct isim_buf b = { 0 };
	char ptr[256] = "/feature_config", *names;
	size_t i;

	for (i = 0; i < c->n; i++)
		isim_buf_printf(&b, "%s%s", i ? ", " : "", c->order[i]->name);
	names = isim_buf_take(&b);
	isim_error_set(c->err, ISIM_ERR_DATA, "feature '%.64s' is not part of this profile (features: %s)", name,
		       names ? names : "?");
	free(names);
	if (!isim_json_pointer_push(ptr, sizeof(ptr), name))
		ptr[0] = '\0';
	return fail_in(c->profile->doc, ptr, c->err);
}

/* feature_config: each feature's defaults (config_schema's properties, in
 * the schema's order) overlaid with the profile's values, then validated
 * against the feature's config_schema. */
static int resolve_config(struct ctx *c)
{
	const cJSON *pcfg = get(c->profile->doc->root, "feature_config"), *s;
	size_t i;

	cJSON_ArrayForEach (s, pcfg)
		if (!in_order(c, s->string))
			return unknown_config_section(c, s->string);
	for (i = 0; i < c->n; i++) {
		const struct isim_feature *f = c->order[i];
		const cJSON *schema = get(f->doc->root, "config_schema"), *p;
		const cJSON *mine = get(pcfg, f->name);
		cJSON *cfg = cJSON_AddObjectToObject(c->config, f->name);
		char shown[768], where[768], first[256];
		const char *inner, *slash;

		if (!cfg)
			return oom(c);
		snprintf(shown, sizeof(shown), "/feature_config/%s", f->name);
		if (!schema) {
			if (cJSON_GetArraySize(mine) == 0)
				continue;
			isim_error_set(c->err, ISIM_ERR_DATA, "feature '%s' takes no configuration", f->name);
			return fail_in(c->profile->doc, shown, c->err);
		}
		cJSON_ArrayForEach (p, get(schema, "properties")) {
			const cJSON *def = get(p, "default");

			if (def && !cJSON_AddItemToObject(cfg, p->string, cJSON_Duplicate(def, true)))
				return oom(c);
		}
		if (mine && overlay(cfg, mine) < 0)
			return oom(c);
		if (isim_schema_validate(schema, cfg, c->err) == 0)
			continue;
		if (c->err->kind != ISIM_ERR_DATA)
			return fail_in(f->doc, "/config_schema", c->err);
		/* Blame the profile where it set the value, else the feature's
		 * default. */
		inner = c->err->pointer;
		slash = inner[0] ? strchr(inner + 1, '/') : NULL;
		snprintf(first, sizeof(first), "%.*s",
			 (int)(slash	       ? (size_t)(slash - inner - 1)
			       : strlen(inner) ? strlen(inner) - 1
					       : 0),
			 inner[0] ? inner + 1 : "");
		snprintf(shown + strlen(shown), sizeof(shown) - strlen(shown), "%s", inner);
		if (mine && (!first[0] || get(mine, first)))
			return fail_at_as(c->profile->doc, shown, shown, c->err);
		snprintf(where, sizeof(where), "/config_schema/properties/%s/default", first);
		return fail_at_as(f->doc, first[0] ? where : "/config_schema", shown, c->err);
	}
	return 0;
}

static int append_unique(cJSON *arr, const char *s)
{
	const cJSON *x;

	cJSON_ArrayForEach (x, arr)
		if (!strcmp(x->valuestring, s))
			return 0;
	return cJSON_AddItemToArray(arr, cJSON_CreateString(s)) ? 0 : -1;
}

/* Services to enable, in composition order, each once. */
static int merge_services(struct ctx *c, cJSON *list)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		const cJSON *s;

		cJSON_ArrayForEach (s, get(c->order[i]->doc->root, "services"))
			if (append_unique(list, s->valuestring) < 0)
				return oom(c);
	}
	return 0;
}

static bool bool_or(const cJSON *o, const char *key, bool def)
{
	const cJSON *v = get(o, key);

	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : def;
}

/* Boot-time inputs (secrets and certificates through cloud-init). Two
 * features may ask for one input only if they agree where it goes. */
static int merge_inputs(struct ctx *c, cJSON *list)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		const struct isim_feature *f = c->order[i];
		const cJSON *in;
		int k = 0;

		cJSON_ArrayForEach (in, get(f->doc->root, "inputs")) {
			const char *name = get(in, "name")->valuestring;
			const char *dest = get(in, "destination")->valuestring;
			const cJSON *desc = get(in, "description");
			cJSON *x, *o;
			char ptr[64];

			snprintf(ptr, sizeof(ptr), "/inputs/%d/destination", k++);
			if (!safe_path(dest, true)) {
				isim_error_set(c->err, ISIM_ERR_DATA,
					       "destination '%.200s' must be an absolute path without '..', '.', '//' "
					       "or spaces",
					       dest);
				return fail_in(f->doc, ptr, c->err);
			}
			cJSON_ArrayForEach (x, list) {
				if (strcmp(get(x, "name")->valuestring, name))
					continue;
				if (!strcmp(get(x, "destination")->valuestring, dest))
					break;
				isim_error_set(c->err, ISIM_ERR_DATA,
					       "input '%s' goes to '%.200s' here but to '%.200s' in feature '%s'", name,
					       dest, get(x, "destination")->valuestring,
					       get(x, "feature")->valuestring);
				return fail_in(f->doc, ptr, c->err);
			}
			if (x)
				continue;
			o = cJSON_CreateObject();
			if (!o || !cJSON_AddItemToArray(list, o))
				return oom(c);
			cJSON_AddStringToObject(o, "name", name);
			cJSON_AddStringToObject(o, "feature", f->name);
			cJSON_AddStringToObject(o, "description", cJSON_IsString(desc) ? desc->valuestring : "");
			cJSON_AddStringToObject(o, "destination", dest);
			cJSON_AddBoolToObject(o, "required", bool_or(in, "required", true));
			cJSON_AddBoolToObject(o, "secret", bool_or(in, "secret", true));
		}
	}
	return 0;
}

/* selftests.txt: "FEATURE TEST PATH", in composition order. */
static char *merge_selftests(struct ctx *c, cJSON *list)
{
	struct isim_buf b = { 0 };
	size_t i;

	isim_buf_puts(&b, "");
	for (i = 0; i < c->n; i++) {
		const struct isim_feature *f = c->order[i];
		const cJSON *t;

		cJSON_ArrayForEach (t, get(f->doc->root, "selftest")) {
			char path[512];
			cJSON *o = cJSON_CreateObject();

			snprintf(path, sizeof(path), ISIM_SELFTEST_DIR "/%s/%s.sh", f->name, t->valuestring);
			isim_buf_printf(&b, "%s %s %s\n", f->name, t->valuestring, path);
			if (!o || !cJSON_AddItemToArray(list, o)) {
				cJSON_Delete(o);
				b.oom = true;
				break;
			}
			cJSON_AddStringToObject(o, "feature", f->name);
			cJSON_AddStringToObject(o, "name", t->valuestring);
			cJSON_AddStringToObject(o, "path", path);
		}
	}
	if (b.oom) {
		oom(c);
		isim_buf_free(&b);
		return NULL;
	}
	return isim_buf_take(&b);
}

static cJSON *copy_of(const cJSON *o, const char *key, bool array)
{
	const cJSON *v = get(o, key);

	if (v)
		return cJSON_Duplicate(v, true);
	return array ? cJSON_CreateArray() : cJSON_CreateNull();
}

static int add_digest(cJSON *outputs, const char *name, const char *text)
{
	char hex[ISIM_SHA256_HEX];

	if (isim_sha256_hex(text, strlen(text), hex) < 0)
		return -1;
	return cJSON_AddStringToObject(outputs, name, hex) ? 0 : -1;
}

static cJSON *manifest_head(const struct isim_profile *p)
{
	cJSON *m = cJSON_CreateObject(), *o;
	const cJSON *r = p->doc->root;

	if (!m)
		return NULL;
	cJSON_AddNumberToObject(m, "manifest_version", MANIFEST_VERSION);
	o = cJSON_AddObjectToObject(m, "composer");
	cJSON_AddStringToObject(o, "name", "isim-compose");
	cJSON_AddStringToObject(o, "version", ISIM_VERSION);
	o = cJSON_AddObjectToObject(m, "profile");
	cJSON_AddStringToObject(o, "name", p->name);
	cJSON_AddItemToObject(o, "version", copy_of(r, "version", false));
	cJSON_AddItemToObject(o, "description", copy_of(r, "description", false));
	cJSON_AddStringToObject(o, "source", p->source);
	cJSON_AddStringToObject(o, "sha256", p->sha256);
	cJSON_AddItemToObject(m, "base", copy_of(r, "base", false));
	return m;
}

static int add_features(struct ctx *c, cJSON *m)
{
	cJSON *arr = cJSON_AddArrayToObject(m, "features");
	size_t i;

	if (!arr)
		return oom(c);
	for (i = 0; i < c->n; i++) {
		const struct isim_feature *f = c->order[i];
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddItemToArray(arr, o))
			return oom(c);
		cJSON_AddStringToObject(o, "name", f->name);
		cJSON_AddItemToObject(o, "version", copy_of(f->doc->root, "version", false));
		cJSON_AddStringToObject(o, "sha256", f->sha256);
		if (f->via)
			cJSON_AddStringToObject(o, "required_by", f->via->name);
		else
			cJSON_AddNullToObject(o, "required_by");
		if (collect_files(c, o, f) < 0)
			return -1;
	}
	return 0;
}

void isim_composition_free(struct isim_composition *comp)
{
	if (!comp)
		return;
	free(comp->packages_txt);
	free(comp->files_txt);
	free(comp->firewall_nft);
	free(comp->selftests_txt);
	free(comp->manifest_json);
	cJSON_Delete(comp->manifest);
	memset(comp, 0, sizeof(*comp));
}

static void ctx_free(struct ctx *c)
{
	size_t i;

	for (i = 0; i < c->nfiles; i++) {
		free(c->files[i].dest);
		free(c->files[i].source);
	}
	free(c->files);
	free(c->order);
	free(c->stack);
	cJSON_Delete(c->config);
}

int isim_compose(struct isim_catalog *cat, const struct isim_profile *profile, struct isim_composition *out,
		 struct isim_error *err)
{
	struct isim_composition comp = { 0 };
	struct ctx c = { .cat = cat, .profile = profile, .err = err };
	cJSON *m = NULL, *outputs, *pk, *sv, *st, *in;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	c.config = cJSON_CreateObject();
	m = manifest_head(profile);
	if (!c.config || !m) {
		oom(&c);
		goto out;
	}
	if (resolve(&c) < 0 || check_conflicts(&c) < 0 || resolve_config(&c) < 0 || add_features(&c, m) < 0)
		goto out;
	pk = cJSON_AddArrayToObject(m, "packages");
	sv = cJSON_AddArrayToObject(m, "services");
	st = cJSON_AddArrayToObject(m, "selftests");
	in = cJSON_AddArrayToObject(m, "inputs");
	if (!pk || !sv || !st || !in) {
		oom(&c);
		goto out;
	}
	comp.packages_txt = merge_packages(&c, pk);
	if (!comp.packages_txt) {
		oom(&c);
		goto out;
	}
	comp.files_txt = merge_files(&c);
	if (!comp.files_txt)
		goto out;
	comp.firewall_nft = merge_firewall(&c);
	if (!comp.firewall_nft)
		goto out;
	comp.selftests_txt = merge_selftests(&c, st);
	if (!comp.selftests_txt || merge_services(&c, sv) < 0 || merge_inputs(&c, in) < 0)
		goto out;
	cJSON_AddItemToObject(m, "feature_config", c.config);
	c.config = NULL;
	cJSON_AddItemToObject(m, "test_requirements", copy_of(profile->doc->root, "test_requirements", true));
	outputs = cJSON_AddObjectToObject(m, "outputs");
	if (!outputs || add_digest(outputs, "packages.txt", comp.packages_txt) < 0 ||
	    add_digest(outputs, "files.txt", comp.files_txt) < 0 ||
	    add_digest(outputs, "firewall.nft", comp.firewall_nft) < 0 ||
	    add_digest(outputs, "selftests.txt", comp.selftests_txt) < 0) {
		oom(&c);
		goto out;
	}
	/* What we write must be what isim-formats(5) promises. */
	if (isim_schema_validate(cat->manifest_schema, m, err) < 0) {
		char why[1200];

		isim_error_format(err, why, sizeof(why));
		isim_error_clear(err);
		isim_error_set(err, ISIM_ERR_INTERNAL, "the composed manifest does not match manifest.schema.json: %s",
			       why);
		goto out;
	}
	comp.manifest_json = isim_json_text(m);
	if (!comp.manifest_json) {
		oom(&c);
		goto out;
	}
	comp.manifest = m;
	m = NULL;
	*out = comp;
	memset(&comp, 0, sizeof(comp));
	ret = 0;
out:
	cJSON_Delete(m);
	isim_composition_free(&comp);
	ctx_free(&c);
	return ret;
}

/* The mark of a folder this code made: written into every output folder,
 * so that a later run may replace that folder and no other. */
#define OUTPUT_MARK ".isim-compose"
#define OUTPUT_MARK_TEXT "This folder is written by isim-compose; the next run replaces it whole.\n"

static bool is_output_name(const char *name)
{
	static const char *const names[] = { "packages.txt", "files.txt", "firewall.nft", "selftests.txt",
					     "manifest.json" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

/* A folder may be replaced when it does not exist, is empty, or holds the
 * mark; or, as written before the mark existed, holds a manifest.json and
 * nothing but the outputs. Anything else is someone else's folder, whose
 * files a swap would delete. What is not a folder is left to
 * isim_dir_commit to refuse. */
static int output_dir_replaceable(const char *dir, struct isim_error *err)
{
	struct dirent *de;
	bool empty = true, marked = false, only_outputs = true, manifest = false;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		empty = false;
		if (!strcmp(de->d_name, OUTPUT_MARK))
			marked = true;
		else if (!strcmp(de->d_name, "manifest.json"))
			manifest = true;
		else if (!is_output_name(de->d_name))
			only_outputs = false;
	}
	closedir(d);
	if (empty || marked || (manifest && only_outputs))
		return 0;
	isim_error_at(err, dir, 0, 0);
	return isim_error_set(err, ISIM_ERR_CANTCREATE,
			      "folder exists, is not empty and was not made by isim-compose (no " OUTPUT_MARK
			      " in it); refusing to replace it and its files: give another --out, or empty it");
}

int isim_composition_write(const struct isim_composition *comp, const char *dir, struct isim_error *err)
{
	const struct {
		const char *name;
		const char *text;
	} outs[] = {
		{ "packages.txt", comp->packages_txt },	  { "files.txt", comp->files_txt },
		{ "firewall.nft", comp->firewall_nft },	  { "selftests.txt", comp->selftests_txt },
		{ "manifest.json", comp->manifest_json },
	};
	struct isim_staged_dir sd;
	size_t i;

	if (output_dir_replaceable(dir, err) < 0 || isim_dir_stage(&sd, dir, err) < 0)
		return -1;
	if (isim_dir_put(&sd, OUTPUT_MARK, OUTPUT_MARK_TEXT, strlen(OUTPUT_MARK_TEXT), 0644, err) < 0)
		goto fail;
	for (i = 0; i < sizeof(outs) / sizeof(outs[0]); i++)
		if (isim_dir_put(&sd, outs[i].name, outs[i].text, strlen(outs[i].text), 0644, err) < 0)
			goto fail;
	if (isim_dir_commit(&sd, err) < 0)
		goto fail;
	return 0;
fail:
	isim_dir_abort(&sd);
	return -1;
}

static bool has_dotdot(const char *p)
{
	const char *s;

	for (s = p; (s = strstr(s, "..")); s += 2)
		if ((s == p || s[-1] == '/') && (s[2] == '/' || s[2] == '\0'))
			return true;
	return false;
}

int isim_files_line(char *line, struct isim_files_entry *e, struct isim_error *err)
{
	char *f[4], *s = line, *end;
	unsigned long mode;
	size_t i;

	for (i = 0; i < 4; i++) {
		f[i] = strsep(&s, " ");
		if (!f[i] || !*f[i])
			return isim_error_set(err, ISIM_ERR_DATA, "expected MODE SHA256 DESTINATION SOURCE");
	}
	if (s)
		return isim_error_set(err, ISIM_ERR_DATA, "more than four fields (a path with a space?)");
	errno = 0;
	mode = strtoul(f[0], &end, 8);
	if (errno || *end || f[0][0] == '-' || f[0][0] == '+' || mode > 07777)
		return isim_error_set(err, ISIM_ERR_DATA, "mode '%s' is not an octal mode", f[0]);
	if (strlen(f[1]) != 64 || strspn(f[1], "0123456789abcdef") != 64)
		return isim_error_set(err, ISIM_ERR_DATA, "'%s' is not a SHA-256 in hex", f[1]);
	if (f[2][0] != '/' || has_dotdot(f[2]))
		return isim_error_set(err, ISIM_ERR_DATA, "destination '%s' is not an absolute path without '..'",
				      f[2]);
	if (f[3][0] == '/' || has_dotdot(f[3]))
		return isim_error_set(err, ISIM_ERR_DATA, "source '%s' leaves the features folder", f[3]);
	e->mode = (unsigned)mode;
	e->sha256 = f[1];
	e->destination = f[2];
	e->source = f[3];
	return 0;
}
