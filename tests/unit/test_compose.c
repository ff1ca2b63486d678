/* SPDX-License-Identifier: MIT */
/* isim-compose driven in-process over small catalogs written for each test:
 * the composition a good profile yields, and the one message, exit code and
 * untouched output folder that each kind of bad input gets. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "isim-compose/compose.h"
#include "isim/compose.h"
#include "isim/file.h"
#include "testutil.h"

#define MAX_FILES 6
#define MAX_ARGS 8

struct file {
	const char *path;
	const char *text; /* NULL: remove the baseline's file */
};

/* clang-format off: one line of YAML a line */
static const struct file baseline[] = {
	{ "features/base/feature.yaml", "# The base every other test feature stands on.\n"
					"name: base\n"
					"version: 1.0.0\n"
					"description: Base system\n"
					"packages: [openssh, busybox]\n"
					"files:\n"
					"  - source: files/motd\n"
					"    destination: /etc/motd\n"
					"    mode: \"0644\"\n"
					"firewall_fragment:\n"
					"  input: |\n"
					"    iif lo accept\n"
					"    tcp dport $base_ssh_port accept\n"
					"selftest: [test_base]\n"
					"services: [sshd]\n"
					"config_schema:\n"
					"  type: object\n"
					"  additionalProperties: false\n"
					"  properties:\n"
					"    ssh_port: {type: integer, minimum: 1, maximum: 65535, default: 22}\n" },
	{ "features/base/files/motd", "welcome\n" },
	{ "features/base/selftest/test_base.sh", "#!/bin/sh\necho 1..1\necho ok 1 - base\n" },
	{ "features/vpn/feature.yaml", "name: vpn\n"
				       "version: 2.1.0\n"
				       "description: Mesh VPN\n"
				       "requires: [base]\n"
				       "packages: [wireguard-tools, busybox]\n"
				       "files:\n"
				       "  - source: files/up.sh\n"
				       "    destination: /usr/local/bin/vpn-up\n"
				       "    mode: \"0755\"\n"
				       "firewall_fragment:\n"
				       "  input: |\n"
				       "    udp dport $vpn_listen_port accept\n"
				       "  forward: |\n"
				       "    ip saddr $vpn_network_cidr accept\n"
				       "inputs:\n"
				       "  - name: mesh_secret\n"
				       "    description: shared mesh secret\n"
				       "    destination: /etc/infrasim/mesh.conf\n"
				       "config_schema:\n"
				       "  type: object\n"
				       "  additionalProperties: false\n"
				       "  properties:\n"
				       "    listen_port: {type: integer, minimum: 1, maximum: 65535, default: 51820}\n"
				       "    network_cidr: {type: string, format: cidr, default: 10.100.0.0/16}\n"
				       "    label: {type: string, default: mesh}\n" },
	{ "features/vpn/files/up.sh", "#!/bin/sh\nexec wg-quick up wg0\n" },
	{ "features/extra/feature.yaml", "name: extra\n"
					 "version: 0.1.0\n"
					 "description: Extra tools\n"
					 "requires: [vpn]\n"
					 "conflicts: [legacy]\n"
					 "packages: [jq]\n" },
	{ "features/legacy/feature.yaml", "name: legacy\n"
					  "version: 0.0.1\n"
					  "description: Legacy tools\n"
					  "packages: [telnet]\n" },
	{ "profiles/good.yaml", "name: good\n"
				"version: 1.0.0\n"
				"base: alpine:3.19\n"
				"features: [extra]\n"
				"feature_config:\n"
				"  vpn:\n"
				"    listen_port: 51999\n"
				"test_requirements: [boot_successful]\n" },
};
/* clang-format on */

static char schemas[PATH_MAX + 16];
static char origin[PATH_MAX];

static void write_text(const char *path, const char *text)
{
	char dir[PATH_MAX], *slash;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		assert_int_equal(isim_mkdirs(dir, 0755), 0);
	}
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* A fresh catalog in a scratch folder, made the working directory, with
 * the files of over replacing or removing the baseline's. */
static int setup_catalog(void **state)
{
	char tmpl[] = "/tmp/isim-compose-test.XXXXXX";
	char *dir = mkdtemp(tmpl);
	size_t i;

	assert_non_null(dir);
	*state = strdup(dir);
	assert_int_equal(chdir(dir), 0);
	for (i = 0; i < sizeof(baseline) / sizeof(baseline[0]); i++)
		write_text(baseline[i].path, baseline[i].text);
	return 0;
}

static int teardown_catalog(void **state)
{
	assert_int_equal(chdir(origin), 0);
	isim_rmtree(*state);
	free(*state);
	return 0;
}

/* isim-compose --schemas-dir <repo>/schemas, the scratch catalog's folders
 * (but the features folder args names) and args..., with stdout and stderr
 * caught. */
static struct tu_run compose(const char *const *args)
{
	char *argv[MAX_ARGS + 8];
	bool own_features = false;
	int argc = 0;

	for (const char *const *a = args; a && *a; a++)
		own_features |= strcmp(*a, "--features-dir") == 0;
	argv[argc++] = (char *)"isim-compose";
	argv[argc++] = (char *)"--schemas-dir";
	argv[argc++] = schemas;
	if (!own_features) {
		argv[argc++] = (char *)"--features-dir";
		argv[argc++] = (char *)"features";
	}
	argv[argc++] = (char *)"--profiles-dir";
	argv[argc++] = (char *)"profiles";
	for (; args && *args && argc < MAX_ARGS + 7; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	return tu_call(isim_compose_main, argc, argv);
}

static void assert_file(const char *path, const char *expected)
{
	char *text = tu_read(path);

	assert_non_null(text);
	assert_string_equal(text, expected);
	free(text);
}

static void test_good_profile(void **state)
{
	static const char *const args[] = { "good", NULL };
	struct tu_run r;

	(void)state;
	r = compose(args);
	assert_string_equal(r.err, "");
	assert_int_equal(r.code, 0);
	/* Each feature after what it requires; sorted, unique packages. */
	assert_file("build/good/packages.txt", "busybox\njq\nopenssh\nwireguard-tools\n");
	assert_file("build/good/selftests.txt", "base test_base /usr/share/infrasim/selftest/base/test_base.sh\n");
	assert_file("build/good/files.txt",
		    "0644 77f44b9024fd19a6674a62d98939f4e7f1b77f64eac4c7559414c46bdaec494c /etc/motd base/files/motd\n"
		    "0755 d9448aa79d97bb20e5698fc73083f02ded23c763ded265dfe8eb98854734b273 /usr/local/bin/vpn-up "
		    "vpn/files/up.sh\n"
		    "0755 2639efeb31b336369e60e76506e6595958330582727a29801d9edcf92c463a63 "
		    "/usr/share/infrasim/selftest/base/test_base.sh base/selftest/test_base.sh\n");
	assert_file("build/good/manifest.json", r.out);
	tu_run_free(&r);
}

struct bad_case {
	const char *name;
	struct file files[MAX_FILES];
	const char *args[MAX_ARGS];
	int code;
	const char *message; /* stderr without the "isim-compose: " prefix */
};

/* Each case changes the baseline catalog and names the one message it must
 * get. */
/* clang-format off */
static const struct bad_case bad_cases[] = {
	{ "profile names an unknown feature",
	  { { "profiles/good.yaml", "name: good\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [base, vpn-wireguad]\n" } },
	  { "good" }, 65, "profiles/good.yaml:4:18: /features/1: feature 'vpn-wireguad' is not defined (known: base, extra, legacy, vpn)" },
	{ "requires an unknown feature",
	  { { "features/extra/feature.yaml", "name: extra\nversion: 0.1.0\ndescription: x\nrequires: [vpn, nope]\n" } },
	  { "good" }, 65, "features/extra/feature.yaml:4:17: /requires/1: feature 'nope' is not defined (known: base, extra, legacy, vpn) (required by profile -> extra)" },
	{ "requires cycle",
	  { { "features/base/feature.yaml", "name: base\nversion: 1.0.0\ndescription: x\nrequires: [extra]\n" } },
	  { "good" }, 65, "features/base/feature.yaml:4:12: /requires/0: requires cycle: extra -> vpn -> base -> extra" },
	{ "conflicting features",
	  { { "profiles/good.yaml", "name: good\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [legacy, extra]\n" } },
	  { "good" }, 65, "features/extra/feature.yaml:5:13: /conflicts/0: feature 'extra' conflicts with 'legacy' (profile -> extra; profile -> legacy)" },
	{ "malformed YAML",
	  { { "profiles/good.yaml", "name: good\nversion: 1.0.0\n  base: alpine:3.19\n" } },
	  { "good" }, 65, "profiles/good.yaml:3:7: invalid YAML: mapping values are not allowed in this context" },
	{ "duplicate key",
	  { { "profiles/good.yaml", "name: good\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [base]\nbase: debian:bookworm\n" } },
	  { "good" }, 65, "profiles/good.yaml:5:1: duplicate key 'base' (first at line 3, column 1)" },
	{ "features is not a list",
	  { { "profiles/good.yaml", "name: good\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: base\n" } },
	  { "good" }, 65, "profiles/good.yaml:4:11: /features: type: expected array, got string" },
	{ "unknown key in a profile",
	  { { "profiles/good.yaml", "name: good\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [base]\nfeatures_config: {}\n" } },
	  { "good" }, 65, "profiles/good.yaml:5:18: /features_config: additionalProperties: property 'features_config' is not allowed" },
	{ "unknown key in a feature",
	  { { "features/legacy/feature.yaml", "name: legacy\nversion: 0.0.1\ndescription: x\npackage: [telnet]\n" },
	    { "profiles/good.yaml", "name: good\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [legacy]\n" } },
	  { "good" }, 65, "features/legacy/feature.yaml:4:10: /package: additionalProperties: property 'package' is not allowed" },
	{ "unknown base",
	  { { "profiles/good.yaml", "name: good\nversion: 1.0.0\nbase: ubuntu:22.04\nfeatures: [base]\n" } },
	  { "good" }, 65, "profiles/good.yaml:3:7: /base: pattern: \"ubuntu:22.04\" does not match '^(alpine:[0-9]+\\.[0-9]+|debian:bookworm)$'" },
	{ "a feature listed twice",
	  { { "profiles/good.yaml", "name: good\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [base, vpn, base]\n" } },
	  { "good" }, 65, "profiles/good.yaml:4:23: /features/2: uniqueItems: item 2 equals item 0" },
	{ "profile name differs from its file",
	  { { "profiles/good.yaml", "name: best\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [base]\n" } },
	  { "good" }, 65, "profiles/good.yaml:1:7: /name: profile name 'best' differs from its file name 'good.yaml'" },
	{ "feature name differs from its folder",
	  { { "features/legacy/feature.yaml", "name: legacy2\nversion: 0.0.1\ndescription: x\n" } },
	  { "--list" }, 65, "features/legacy/feature.yaml:1:7: /name: name 'legacy2' differs from its folder name 'legacy'" },
	{ "missing source file", { { "features/vpn/files/up.sh", NULL } }, { "good" }, 65, "features/vpn/feature.yaml:7:13: /files/0/source: source 'files/up.sh' cannot be read: No such file or directory" },
	{ "missing selftest script", { { "features/base/selftest/test_base.sh", NULL } }, { "good" }, 65, "features/base/feature.yaml:14:12: /selftest/0: source 'selftest/test_base.sh' cannot be read: No such file or directory" },
	{ "source outside files/",
	  { { "features/legacy/feature.yaml", "name: legacy\nversion: 0.0.1\ndescription: x\nfiles:\n"
					      "  - {source: files/../../vpn/files/up.sh, destination: /x, mode: \"0644\"}\n" },
	    { "profiles/good.yaml", "name: good\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [legacy]\n" } },
	  { "good" }, 65, "features/legacy/feature.yaml:5:14: /files/0/source: source 'files/../../vpn/files/up.sh' must be a relative path under files/ without '..'" },
	{ "relative destination",
	  { { "features/legacy/feature.yaml", "name: legacy\nversion: 0.0.1\ndescription: x\nfiles:\n"
					      "  - {source: files/a, destination: etc/a, mode: \"0644\"}\n" },
	    { "features/legacy/files/a", "a\n" },
	    { "profiles/good.yaml", "name: good\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [legacy]\n" } },
	  { "good" }, 65, "features/legacy/feature.yaml:5:36: /files/0/destination: pattern: \"etc/a\" does not match '^(/[^/\\s\\\\]+)+$'" },
	{ "destination with ..",
	  { { "features/legacy/feature.yaml", "name: legacy\nversion: 0.0.1\ndescription: x\nfiles:\n"
					      "  - {source: files/a, destination: /etc/../root/a, mode: \"0644\"}\n" },
	    { "features/legacy/files/a", "a\n" },
	    { "profiles/good.yaml", "name: good\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [legacy]\n" } },
	  { "good" }, 65, "features/legacy/feature.yaml:5:36: /files/0/destination: destination '/etc/../root/a' must be an absolute path without '..', '.', '//' or spaces" },
	{ "invalid mode",
	  { { "features/legacy/feature.yaml", "name: legacy\nversion: 0.0.1\ndescription: x\nfiles:\n"
					      "  - {source: files/a, destination: /etc/a, mode: \"0999\"}\n" },
	    { "features/legacy/files/a", "a\n" },
	    { "profiles/good.yaml", "name: good\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [legacy]\n" } },
	  { "good" }, 65, "features/legacy/feature.yaml:5:50: /files/0/mode: pattern: \"0999\" does not match '^0[0-7]{3}$'" },
	{ "two features write one destination differently",
	  { { "features/legacy/feature.yaml", "name: legacy\nversion: 0.0.1\ndescription: x\nfiles:\n"
					      "  - {source: files/motd, destination: /etc/motd, mode: \"0644\"}\n" },
	    { "features/legacy/files/motd", "another welcome\n" },
	    { "profiles/good.yaml", "name: good\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [base, legacy]\n" } },
	  { "good" }, 65, "features/legacy/feature.yaml:5:14: /files/0/source: destination '/etc/motd' is also installed by feature 'base' (base/files/motd) with other content" },
	{ "port out of range",
	  { { "profiles/good.yaml", "name: good\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [vpn]\n"
				    "feature_config:\n  vpn:\n    listen_port: 70000\n" } },
	  { "good" }, 65, "profiles/good.yaml:7:18: /feature_config/vpn/listen_port: maximum: 70000 is greater than 65535" },
	{ "port of the wrong type",
	  { { "profiles/good.yaml", "name: good\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [vpn]\n"
				    "feature_config:\n  vpn:\n    listen_port: \"51820\"\n" } },
	  { "good" }, 65, "profiles/good.yaml:7:18: /feature_config/vpn/listen_port: type: expected integer, got string" },
	{ "bad CIDR",
	  { { "profiles/good.yaml", "name: good\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [vpn]\n"
				    "feature_config:\n  vpn:\n    network_cidr: 10.100.0.0/33\n" } },
	  { "good" }, 65, "profiles/good.yaml:7:19: /feature_config/vpn/network_cidr: format: \"10.100.0.0/33\" is not a valid cidr" },
	{ "unknown config key",
	  { { "profiles/good.yaml", "name: good\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [vpn]\n"
				    "feature_config:\n  vpn:\n    listen_prot: 5000\n" } },
	  { "good" }, 65, "profiles/good.yaml:7:18: /feature_config/vpn/listen_prot: additionalProperties: property 'listen_prot' is not allowed" },
	{ "config for a feature not in the profile",
	  { { "profiles/good.yaml", "name: good\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [base]\n"
				    "feature_config:\n  vpn:\n    listen_port: 5000\n" } },
	  { "good" }, 65, "profiles/good.yaml:7:5: /feature_config/vpn: feature 'vpn' is not part of this profile (features: base)" },
	{ "invalid default in a feature",
	  { { "features/legacy/feature.yaml", "name: legacy\nversion: 0.0.1\ndescription: x\nconfig_schema:\n"
					      "  type: object\n  additionalProperties: false\n  properties:\n    port: {type: integer, maximum: 10, default: 11}\n" },
	    { "profiles/good.yaml", "name: good\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [legacy]\n" } },
	  { "good" }, 65, "features/legacy/feature.yaml:8:49: /feature_config/legacy/port: maximum: 11 is greater than 10" },
	{ "config value unusable in the firewall",
	  { { "profiles/good.yaml", "name: good\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [vpn]\n"
				    "feature_config:\n  vpn:\n    label: 'a\"; flush ruleset'\n" } },
	  { "good" }, 65, "profiles/good.yaml:7:12: /feature_config/vpn/label: value 'a\"; flush ruleset' cannot be used in the firewall ruleset (quote, '$', '\\' or control character)" },
	{ "firewall fragment closing its chain",
	  { { "features/legacy/feature.yaml", "name: legacy\nversion: 0.0.1\ndescription: x\nfirewall_fragment:\n"
					      "  input: |\n    accept\n    }\n    chain evil {\n" },
	    { "profiles/good.yaml", "name: good\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [legacy]\n" } },
	  { "good" }, 65, "features/legacy/feature.yaml:5:10: /firewall_fragment/input: firewall fragment has unbalanced braces or quotes" },
	{ "an input sent to two places",
	  { { "features/legacy/feature.yaml", "name: legacy\nversion: 0.0.1\ndescription: x\ninputs:\n"
					      "  - {name: mesh_secret, description: s, destination: /etc/other.conf}\n" },
	    { "profiles/good.yaml", "name: good\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [vpn, legacy]\n" } },
	  { "good" }, 65, "features/legacy/feature.yaml:5:54: /inputs/0/destination: input 'mesh_secret' goes to '/etc/other.conf' here but to '/etc/infrasim/mesh.conf' in feature 'vpn'" },
	{ "YAML aliases expanding without bound",
	  { { "profiles/good.yaml", "name: good\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [base]\n"
				    "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
				    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
				    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
				    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
				    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
				    "f: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n" } },
	  { "good" }, 65, "profiles/good.yaml:10:5: more than 200000 nodes after alias expansion" },
	{ "missing profile", { { NULL } }, { "nosuch" }, 66, "profiles/nosuch.yaml: cannot open: No such file or directory" },
	{ "missing features folder", { { NULL } }, { "--features-dir", "nowhere", "good" }, 66,
	  "features folder nowhere does not exist (set --features-dir or ISIM_FEATURES_DIR)" },
	{ "no profile given", { { NULL } }, { NULL }, 64, "no PROFILE given (see isim-compose --help)" },
	{ "unknown option", { { NULL } }, { "--frobnicate", "good" }, 64, "bad option '--frobnicate' (unknown, or missing its value) (see isim-compose --help)" },
	{ "profile name that is neither a name nor a path", { { NULL } }, { "Good!" }, 64, "'Good!' is not a profile name ([a-z][a-z0-9-]*) nor a path" },
};
/* clang-format on */

static bool dir_is(const char *dir, const char *only)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, only);
	return stat(path, &st) == 0;
}

static void test_bad_input(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		const struct file *f;
		char expected[2048], *old;
		struct tu_run r;

		teardown_catalog(state);
		setup_catalog(state);
		for (f = c->files; f < c->files + MAX_FILES && f->path; f++) {
			if (f->text)
				write_text(f->path, f->text);
			else
				assert_int_equal(unlink(f->path), 0);
		}
		/* An earlier output that a failed run must leave alone. */
		write_text("build/good/manifest.json", "earlier\n");
		r = compose(c->args);
		snprintf(expected, sizeof(expected), "isim-compose: %s\n", c->message);
		if (strcmp(r.err, expected) || r.code != c->code)
			print_message("case %zu (%s): exit %d, stderr: %s", i, c->name, r.code, r.err);
		assert_string_equal(r.err, expected);
		assert_int_equal(r.code, c->code);
		assert_string_equal(r.out, "");
		old = tu_read("build/good/manifest.json");
		assert_non_null(old);
		assert_string_equal(old, "earlier\n");
		free(old);
		assert_false(dir_is("build/good", "packages.txt"));
		tu_run_free(&r);
	}
	print_message("# %zu bad-input cases\n", i);
}

#define FILES_SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* files.txt lines: accepted ones with their fields, refused ones with the
 * message. */
static const struct files_case {
	const char *line;
	const char *msg; /* NULL: accepted */
	unsigned mode;
} files_cases[] = {
	{ "0644 " FILES_SHA " /etc/x.conf files/x.conf", NULL, 0644 },
	{ "4755 " FILES_SHA " /usr/bin/x files/x", NULL, 04755 },
	{ "0644 " FILES_SHA " /etc/a..b files/a..b", NULL, 0644 },
	{ "", "expected MODE SHA256 DESTINATION SOURCE", 0 },
	{ "0644 " FILES_SHA " /etc/x", "expected MODE SHA256 DESTINATION SOURCE", 0 },
	{ "0644  " FILES_SHA " /etc/x files/x", "expected MODE SHA256 DESTINATION SOURCE", 0 },
	{ "0644 " FILES_SHA " /etc/x files/x extra", "more than four fields (a path with a space?)", 0 },
	{ "0648 " FILES_SHA " /etc/x files/x", "mode '0648' is not an octal mode", 0 },
	{ "17777 " FILES_SHA " /etc/x files/x", "mode '17777' is not an octal mode", 0 },
	{ "-644 " FILES_SHA " /etc/x files/x", "mode '-644' is not an octal mode", 0 },
	{ "0644 ABCD /etc/x files/x", "'ABCD' is not a SHA-256 in hex", 0 },
	{ "0644 " FILES_SHA " etc/x files/x", "destination 'etc/x' is not an absolute path without '..'", 0 },
	{ "0644 " FILES_SHA " /etc/../x files/x", "destination '/etc/../x' is not an absolute path without '..'", 0 },
	{ "0644 " FILES_SHA " /etc/x /files/x", "source '/files/x' leaves the features folder", 0 },
	{ "0644 " FILES_SHA " /etc/x files/../../x", "source 'files/../../x' leaves the features folder", 0 },
};

static void test_files_line(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(files_cases) / sizeof(files_cases[0]); i++) {
		const struct files_case *c = &files_cases[i];
		struct isim_files_entry e;
		struct isim_error err;
		char line[512];

		snprintf(line, sizeof(line), "%s", c->line);
		isim_error_clear(&err);
		if (!c->msg) {
			assert_int_equal(isim_files_line(line, &e, &err), 0);
			assert_int_equal(e.mode, c->mode);
			assert_string_equal(e.sha256, FILES_SHA);
			assert_true(e.destination[0] == '/');
			continue;
		}
		if (isim_files_line(line, &e, &err) == 0)
			print_error("accepted: '%s'\n", c->line);
		assert_int_equal(err.kind, ISIM_ERR_DATA);
		assert_string_equal(err.msg, c->msg);
	}
}

/* The output folder is replaced only when it is isim-compose's own (its
 * mark inside), or empty: a folder of someone else's files is refused with
 * exit 73 and left as it was. */
static void test_output_folder_ownership(void **state)
{
	static const char *const mine[] = { "-o", "mine", "good", NULL };
	static const char *const fresh[] = { "-o", "fresh", "good", NULL };
	struct tu_run r;

	(void)state;
	write_text("mine/notes.txt", "precious\n");
	r = compose(mine);
	assert_int_equal(r.code, 73);
	assert_string_equal(r.err, "isim-compose: mine: folder exists, is not empty and was not made by isim-compose "
				   "(no .isim-compose in it); refusing to replace it and its files: give another "
				   "--out, or empty it\n");
	tu_run_free(&r);
	assert_file("mine/notes.txt", "precious\n");
	assert_int_equal(access("mine/manifest.json", F_OK), -1);

	/* Empty: taken, and marked; a second run replaces its own folder. */
	assert_int_equal(mkdir("fresh", 0755), 0);
	r = compose(fresh);
	assert_int_equal(r.code, 0);
	tu_run_free(&r);
	assert_int_equal(access("fresh/.isim-compose", F_OK), 0);
	write_text("fresh/stale", "old\n");
	r = compose(fresh);
	assert_string_equal(r.err, "");
	assert_int_equal(r.code, 0);
	tu_run_free(&r);
	assert_int_equal(access("fresh/stale", F_OK), -1);
	assert_int_equal(access("fresh/manifest.json", F_OK), 0);

	/* Outputs written before the mark: replaced, and marked. */
	assert_int_equal(unlink("fresh/.isim-compose"), 0);
	assert_int_equal(unlink("fresh/files.txt"), 0);
	r = compose(fresh);
	assert_string_equal(r.err, "");
	assert_int_equal(r.code, 0);
	tu_run_free(&r);
	assert_int_equal(access("fresh/.isim-compose", F_OK), 0);
	assert_int_equal(access("fresh/files.txt", F_OK), 0);

	/* A manifest.json beside files of someone else's is not enough. */
	write_text("mine/manifest.json", "{}\n");
	r = compose(mine);
	assert_int_equal(r.code, 73);
	tu_run_free(&r);
	assert_file("mine/manifest.json", "{}\n");
	assert_file("mine/notes.txt", "precious\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_profile, setup_catalog, teardown_catalog),
		cmocka_unit_test_setup_teardown(test_bad_input, setup_catalog, teardown_catalog),
		cmocka_unit_test_setup_teardown(test_output_folder_ownership, setup_catalog, teardown_catalog),
		cmocka_unit_test(test_files_line),
	};
	const char *root = getenv("ISIM_ROOT");

	assert_non_null(getcwd(origin, sizeof(origin)));
	snprintf(schemas, sizeof(schemas), "%s/schemas", root ? root : origin);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
