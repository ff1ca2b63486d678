/* SPDX-License-Identifier: MIT */
/* Base distributions: the Debian base as the repository ships it, base
 * files that are wrong in each way with the message a user reads, and the
 * catalog's package names mapped to a base's own. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "isim/base.h"
#include "testutil.h"

static char root[PATH_MAX], bases[PATH_MAX + 8], schemas[PATH_MAX + 8];

/* A small base whose every line the tests know. */
#define TINY                                                            \
	"name: tiny\n"                                                  \
	"versions: [v1, '2.0']\n"                                       \
	"bootstrap: alpine\n"                                           \
	"mirror: /srv/mirror\n"                                         \
	"packages: [zlib, busybox-static, alpine-baselayout]\n"         \
	"map:\n"                                                        \
	"  alpine-base: []\n"                                           \
	"  busybox: [busybox-static]\n"                                 \
	"  openssh-server-pam: [openssh-server, openssh-sftp-server]\n" \
	"unavailable: [tailscale, avahi]\n"                             \
	"modules: [virtio_blk]\n"                                       \
	"cmdline: console=ttyS0\n"                                      \
	"initramfs_init: tiny/init\n"

/* The JSON array of strings given as space-separated words. */
static cJSON *words(const char *s)
{
	cJSON *a = cJSON_CreateArray();
	char *copy = strdup(s), *w, *save = NULL;

	assert_non_null(a);
	assert_non_null(copy);
	for (w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
		assert_true(cJSON_AddItemToArray(a, cJSON_CreateString(w)));
	free(copy);
	return a;
}

/* A JSON array of strings as space-separated words (static buffer). */
static const char *joined(const cJSON *a)
{
	static char buf[4096];
	const cJSON *v;

	buf[0] = '\0';
	assert_true(cJSON_IsArray(a));
	cJSON_ArrayForEach (v, a) {
		assert_true(cJSON_IsString(v));
		if (buf[0])
			strcat(buf, " ");
		strcat(buf, v->valuestring);
	}
	return buf;
}

static bool has(const cJSON *a, const char *s)
{
	const cJSON *v;

	cJSON_ArrayForEach (v, a) {
		if (cJSON_IsString(v) && strcmp(v->valuestring, s) == 0)
			return true;
	}
	return false;
}

/* sha256sum's digest of the file. */
static const char *sha256sum(const char *path)
{
	static char out[ISIM_SHA256_HEX + 8];
	char cmd[PATH_MAX * 2];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(out, sizeof(out), p));
	assert_int_equal(pclose(p), 0);
	out[ISIM_SHA256_HEX - 1] = '\0';
	return out;
}

static struct isim_base *load_ok(const char *dir, const char *spec)
{
	struct isim_base *b = NULL;
	struct isim_error err;

	isim_error_clear(&err);
	if (isim_base_load(dir, schemas, spec, &b, &err) < 0)
		fail_msg("%s: %s", spec, tu_msg(&err));
	assert_non_null(b);
	return b;
}

/* ---- the Debian base ------------------------------------------------------ */

static void test_debian(void **state)
{
	struct isim_base *b = load_ok(bases, "debian:bookworm");
	char want[PATH_MAX + 64];

	(void)state;
	assert_string_equal(b->name, "debian");
	assert_string_equal(b->version, "bookworm");
	assert_string_equal(b->bootstrap, "mmdebstrap");
	assert_non_null(b->mirror);
	assert_non_null(strstr(b->cmdline, "console=ttyS0"));
	snprintf(want, sizeof(want), "%s/debian.yaml", bases);
	assert_string_equal(b->yaml_path, want);
	assert_string_equal(b->sha256, sha256sum(want));
	/* Helper files are named relative to the bases folder. */
	snprintf(want, sizeof(want), "%s/debian/", bases);
	assert_non_null(b->customize);
	assert_memory_equal(b->customize, want, strlen(want));
	assert_memory_equal(b->initramfs_init, want, strlen(want));
	assert_true(cJSON_GetArraySize(b->packages) > 0);
	assert_true(cJSON_IsObject(b->map));
	assert_true(has(b->modules, "virtio_blk"));
	isim_base_free(b);
	isim_base_free(NULL);
}

static void test_debian_packages(void **state)
{
	struct isim_base *b = load_ok(bases, "debian:bookworm");
	cJSON *wanted = words("openssh-server-pam alpine-base busybox nftables jq nftables"), *out = NULL;
	struct isim_error err;
	const cJSON *v, *prev = NULL;

	(void)state;
	isim_error_clear(&err);
	assert_int_equal(isim_base_packages(b, wanted, 0, &out, &err), 0);
	assert_true(has(out, "openssh-server"));
	assert_false(has(out, "openssh-server-pam"));
	assert_false(has(out, "alpine-base"));
	assert_true(has(out, "busybox-static"));
	assert_false(has(out, "busybox"));
	assert_true(has(out, "nftables"));
	assert_true(has(out, "jq"));
	/* Every package of the base itself. */
	cJSON_ArrayForEach (v, b->packages) {
		if (!has(out, v->valuestring))
			fail_msg("'%s' of the base is missing", v->valuestring);
	}
	/* Sorted, each once. */
	cJSON_ArrayForEach (v, out) {
		if (prev && strcmp(prev->valuestring, v->valuestring) >= 0)
			fail_msg("'%s' before '%s'", prev->valuestring, v->valuestring);
		prev = v;
	}
	cJSON_Delete(out);
	cJSON_Delete(wanted);

	/* Tailscale is not in Debian's archive. */
	wanted = words("jq nftables tailscale");
	isim_error_clear(&err);
	out = (cJSON *)&err;
	assert_int_equal(isim_base_packages(b, wanted, 0, &out, &err), -1);
	assert_null(out);
	assert_int_equal(err.kind, ISIM_ERR_DATA);
	assert_string_equal(err.pointer, "/packages/2");
	assert_string_equal(tu_msg(&err), "/packages/2: package 'tailscale' has no equivalent in debian:bookworm's "
					  "archive (give a repository that has it with --repo)");
	cJSON_Delete(wanted);
	isim_base_free(b);
}

/* ---- mapping, exactly ------------------------------------------------------- */

static const struct map_case {
	const char *wanted;
	int allow_unavailable;
	const char *out; /* NULL: refused */
	const char *msg;
} map_cases[] = {
	{ "", 0, "alpine-baselayout busybox-static zlib", NULL },
	{ "openssh-server-pam alpine-base busybox jq jq curl", 0,
	  "alpine-baselayout busybox-static curl jq openssh-server openssh-sftp-server zlib", NULL },
	/* A name the base already has, and one mapped to it. */
	{ "zlib busybox-static busybox", 0, "alpine-baselayout busybox-static zlib", NULL },
	{ "alpine-base", 0, "alpine-baselayout busybox-static zlib", NULL },
	{ "jq curl tailscale", 0, NULL,
	  "/packages/2: package 'tailscale' has no equivalent in tiny:v1's archive (give a repository that has it "
	  "with --repo)" },
	{ "avahi", 0, NULL,
	  "/packages/0: package 'avahi' has no equivalent in tiny:v1's archive (give a repository that has it with "
	  "--repo)" },
	{ "jq curl tailscale", 1, "alpine-baselayout busybox-static curl jq tailscale zlib", NULL },
};

static void test_packages_mapped(void **state)
{
	const char *dir = *state;
	struct isim_base *b;
	struct isim_error err;
	size_t i;

	tu_write(dir, "tiny.yaml", TINY);
	b = load_ok(dir, "tiny:v1");
	for (i = 0; i < sizeof(map_cases) / sizeof(map_cases[0]); i++) {
		const struct map_case *c = &map_cases[i];
		cJSON *wanted = words(c->wanted), *out = NULL;
		int r;

		isim_error_clear(&err);
		r = isim_base_packages(b, wanted, c->allow_unavailable, &out, &err);
		if (c->out) {
			if (r != 0)
				fail_msg("'%s': %s", c->wanted, tu_msg(&err));
			assert_string_equal(joined(out), c->out);
		} else {
			assert_int_equal(r, -1);
			assert_null(out);
			assert_int_equal(err.kind, ISIM_ERR_DATA);
			assert_string_equal(tu_msg(&err), c->msg);
		}
		cJSON_Delete(out);
		cJSON_Delete(wanted);
	}
	isim_base_free(b);
	print_message("# %zu package lists\n", i);
}

static void test_packages_not_names(void **state)
{
	const char *dir = *state;
	struct isim_base *b;
	struct isim_error err;
	cJSON *wanted = cJSON_Parse("[\"jq\", 7]"), *out = NULL;

	tu_write(dir, "tiny.yaml", TINY);
	b = load_ok(dir, "tiny:2.0");
	assert_string_equal(b->version, "2.0");
	isim_error_clear(&err);
	assert_int_equal(isim_base_packages(b, wanted, 0, &out, &err), -1);
	assert_null(out);
	assert_int_equal(err.kind, ISIM_ERR_DATA);
	assert_string_equal(tu_msg(&err), "/packages/1: expected a package name");
	cJSON_Delete(wanted);
	isim_base_free(b);
}

/* ---- base files that are wrong ---------------------------------------------- */

static const struct spec_case {
	const char *spec;
	enum isim_err kind;
	const char *msg; /* how the message ends; DIR stands for the bases folder */
} spec_cases[] = {
	{ "centos:9", ISIM_ERR_DATA, "base 'centos' is not defined in DIR (known: alpine, debian)" },
	{ "debian:sid", ISIM_ERR_DATA, "base 'debian:sid' is not supported (known: debian:bookworm)" },
	{ "debian:12", ISIM_ERR_DATA, "base 'debian:12' is not supported (known: debian:bookworm)" },
	{ "debian", ISIM_ERR_DATA, "base 'debian' is not NAME:VERSION (debian:bookworm, say)" },
	{ "debian:", ISIM_ERR_DATA, "base 'debian:' is not NAME:VERSION (debian:bookworm, say)" },
	{ ":bookworm", ISIM_ERR_DATA, "base ':bookworm' is not NAME:VERSION (debian:bookworm, say)" },
	{ "", ISIM_ERR_DATA, "base '' is not NAME:VERSION (debian:bookworm, say)" },
	{ "Debian:bookworm", ISIM_ERR_DATA, "base 'Debian:bookworm' is not NAME:VERSION (debian:bookworm, say)" },
	{ "../debian:bookworm", ISIM_ERR_DATA, "base '../debian:bookworm' is not NAME:VERSION (debian:bookworm, say)" },
	{ "debian:book:worm", ISIM_ERR_DATA, "base 'debian:book:worm' is not NAME:VERSION (debian:bookworm, say)" },
	{ "debian:bookworm ", ISIM_ERR_DATA, "base 'debian:bookworm ' is not NAME:VERSION (debian:bookworm, say)" },
};

/* Specs against the repository's bases: the names and versions known. */
static void test_specs(void **state)
{
	struct isim_base *b;
	struct isim_error err;
	char want[PATH_MAX + 200];
	const char *got;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(spec_cases) / sizeof(spec_cases[0]); i++) {
		const struct spec_case *c = &spec_cases[i];
		const char *dir = strstr(c->msg, "DIR");

		if (dir)
			snprintf(want, sizeof(want), "%.*s%s%s", (int)(dir - c->msg), c->msg, bases, dir + 3);
		else
			snprintf(want, sizeof(want), "%s", c->msg);
		isim_error_clear(&err);
		b = (struct isim_base *)&err;
		assert_int_equal(isim_base_load(bases, schemas, c->spec, &b, &err), -1);
		assert_null(b);
		got = tu_msg(&err);
		len = strlen(got);
		if (len < strlen(want) || strcmp(got + len - strlen(want), want) != 0)
			print_error("'%s': got '%s'\n", c->spec, got);
		assert_true(len >= strlen(want));
		assert_string_equal(got + len - strlen(want), want);
		assert_int_equal(err.kind, c->kind);
	}
	print_message("# %zu specs\n", i);
}

/* A line of TINY replaced, or a line added. */
static const struct bad_base {
	const char *find, *repl;
	int line;	     /* of the error */
	const char *pointer; /* of the error */
	const char *msg;     /* the end of the message */
} bad_bases[] = {
	{ "bootstrap: alpine\n", "bootstrap: yum\n", 3, "/bootstrap", NULL },
	{ "mirror: /srv/mirror\n", "mirror: ftp://example.org\n", 4, "/mirror", NULL },
	{ "modules: [virtio_blk]\n", "modules: virtio_blk\n", 11, "/modules", NULL },
	{ "cmdline: console=ttyS0\n", "", 1, "", "required: missing property 'cmdline'" },
	{ "initramfs_init: tiny/init\n", "initramfs_init: ../init\n", 13, "/initramfs_init", NULL },
	{ "initramfs_init: tiny/init\n", "initramfs_init: tiny/init\nextra: 1\n", 14, "/extra",
	  "additionalProperties: property 'extra' is not allowed" },
	{ "  busybox: [busybox-static]\n", "  busybox: [Busybox]\n", 8, "/map/busybox/0", NULL },
	{ "versions: [v1, '2.0']\n", "versions: []\n", 2, "/versions", NULL },
	{ "name: tiny\n", "name: other\n", 1, "/name", "'other' does not match the file name" },
};

static void test_bad_base(void **state)
{
	const char *dir = *state;
	struct isim_base *b;
	struct isim_error err;
	char yaml[PATH_MAX], text[4096];
	size_t i;

	snprintf(yaml, sizeof(yaml), "%s/tiny.yaml", dir);
	for (i = 0; i < sizeof(bad_bases) / sizeof(bad_bases[0]); i++) {
		const struct bad_base *c = &bad_bases[i];
		const char *at = strstr(TINY, c->find);

		assert_non_null(at);
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - TINY), TINY, c->repl, at + strlen(c->find));
		tu_write(dir, "tiny.yaml", text);
		isim_error_clear(&err);
		b = NULL;
		if (isim_base_load(dir, schemas, "tiny:v1", &b, &err) == 0)
			fail_msg("'%s' was accepted", c->repl);
		assert_null(b);
		if (err.kind != ISIM_ERR_CONFIG || err.line != c->line || strcmp(err.pointer, c->pointer) != 0)
			print_error("'%s': got %d '%s'\n", c->repl, err.kind, tu_msg(&err));
		assert_int_equal(err.kind, ISIM_ERR_CONFIG);
		assert_string_equal(err.path, yaml);
		assert_int_equal(err.line, c->line);
		assert_string_equal(err.pointer, c->pointer);
		assert_true(err.msg[0] != '\0');
		if (c->msg)
			assert_string_equal(err.msg, c->msg);
	}
	print_message("# %zu bad base files\n", i);
}

static void test_bad_yaml(void **state)
{
	const char *dir = *state;
	struct isim_base *b = NULL;
	struct isim_error err;

	tu_write(dir, "tiny.yaml", "name: tiny\nversions: [v1\n");
	isim_error_clear(&err);
	assert_int_equal(isim_base_load(dir, schemas, "tiny:v1", &b, &err), -1);
	assert_null(b);
	assert_int_equal(err.kind, ISIM_ERR_CONFIG);
	assert_string_equal(err.path, tu_path(dir, "tiny.yaml"));
	assert_true(err.line > 0);

	/* A version the file does not list: it says which it does. */
	tu_write(dir, "tiny.yaml", TINY);
	isim_error_clear(&err);
	assert_int_equal(isim_base_load(dir, schemas, "tiny:v3", &b, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_DATA);
	assert_string_equal(tu_msg(&err), "base 'tiny:v3' is not supported (known: tiny:v1, tiny:2.0)");
}

#define T(f) cmocka_unit_test_setup_teardown(f, tu_setup_tmpdir, tu_teardown_tmpdir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debian),
		cmocka_unit_test(test_debian_packages),
		T(test_packages_mapped),
		T(test_packages_not_names),
		cmocka_unit_test(test_specs),
		T(test_bad_base),
		T(test_bad_yaml),
	};
	const char *r = getenv("ISIM_ROOT");

	if (r)
		snprintf(root, sizeof(root), "%s", r);
	else if (!getcwd(root, sizeof(root)))
		return 1;
	snprintf(bases, sizeof(bases), "%s/bases", root);
	snprintf(schemas, sizeof(schemas), "%s/schemas", root);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
