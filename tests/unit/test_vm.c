/* SPDX-License-Identifier: MIT */
/* isim-vm in-process: command lines refused before the state is opened
 * (usage, bad values, JSON that is not a QMP command), a VM that does not
 * exist in a state folder that does not exist yet, and create, show, list
 * and destroy of a VM on a blank qcow2 image: the JSON they print, and an
 * overlay whose backing file is the image (qemu-img's word). No QEMU runs
 * here: tests/integration/vm.sh boots one, vm-errors.sh holds every bad
 * input against the real binaries. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <regex.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "isim-vm/vm.h"
#include "testutil.h"

/* The test's folder (its working folder) and the state folder in it. */
struct where {
	struct tu_where *w;
	char state[PATH_MAX];
};

static int cmd_setup(void **state)
{
	struct where *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	h->w = tu_enter_tmpdir();
	/* Not made: the first command that writes makes it. */
	assert_true(snprintf(h->state, sizeof(h->state), "%s/state", h->w->dir) < (int)sizeof(h->state));
	assert_int_equal(setenv("ISIM_STATE_DIR", h->state, 1), 0);
	tu_write(".", "meta-data", "instance-id: iid-test\n");
	tu_write(".", "key.pub",
		 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJhZGJhZGJhZGJhZGJhZGJhZGJhZGJhZGJhZGJhZGJh t\n");
	*state = h;
	return 0;
}

static int cmd_teardown(void **state)
{
	struct where *h = *state;

	unsetenv("ISIM_STATE_DIR");
	tu_leave_tmpdir(h->w);
	free(h);
	return 0;
}

/* isim-vm ARG... (NULL ends them), in-process. */
static struct tu_run vm(const char *first, ...)
{
	char *argv[24] = { "isim-vm" };
	const char *a = first;
	int argc = 1;
	va_list ap;

	va_start(ap, first);
	while (a && argc < 23) {
		argv[argc++] = (char *)a;
		a = va_arg(ap, const char *);
	}
	va_end(ap);
	argv[argc] = NULL;
	return tu_call(isim_vm_main, argc, argv);
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* ---- refused before anything is opened ------------------------------------ */

#define IMG "/nonexistent/blank.qcow2"

static const struct tu_cmd_case usage_cases[] = {
	{ { NULL }, 64, "isim-vm: no command given", NULL },
	{ { "bogus" }, 64, "isim-vm: unknown command 'bogus'", NULL },
	{ { "crea" }, 64, "isim-vm: unknown command 'crea'", NULL },
	{ { "--version" }, 0, NULL, "isim-vm 0." },
	{ { "--help" }, 0, NULL, "  snapshot " },
	{ { "create", "--help" }, 0, NULL, "usage: isim-vm create NAME --image IMAGE" },
	{ { "wait", "-h" }, 0, NULL, "usage: isim-vm wait NAME --for running|stopped|TEXT" },
	{ { "create" }, 64, "isim-vm create: NAME is required", NULL },
	{ { "create", "x1" }, 64, "isim-vm create: --image IMAGE is required", NULL },
	{ { "create", "x1", "extra", "--image", IMG }, 64, "isim-vm create: unexpected argument 'extra'", NULL },
	{ { "create", "x1", "--image", IMG, "--bogus" }, 64, "isim-vm create: bad option '--bogus'", NULL },
	{ { "create", "Web", "--image", IMG }, 64, "isim-vm create: NAME: 'Web' is not a VM name", NULL },
	{ { "create", "a/b", "--image", IMG }, 64, "isim-vm create: NAME: 'a/b' is not a VM name", NULL },
	{ { "create", "", "--image", IMG }, 64, "isim-vm create: NAME: '' is not a VM name", NULL },
	{ { "create", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "--image", IMG },
	  64,
	  "is not a VM name (1 to 63 of a-z",
	  NULL },
	{ { "create", "x1", "--image", IMG, "--memory", "0" },
	  64,
	  "isim-vm create: --memory: '0' is not MiB from 16 to 1048576",
	  NULL },
	{ { "create", "x1", "--image", IMG, "--memory", "abc" }, 64, "--memory: 'abc' is not MiB", NULL },
	{ { "create", "x1", "--image", IMG, "--memory", "99999999" }, 64, "--memory: '99999999' is not MiB", NULL },
	{ { "create", "x1", "--image", IMG, "--memory", "64", "--memory", "64" }, 64, "--memory given twice", NULL },
	{ { "create", "x1", "--image", IMG, "--cpus", "0" },
	  64,
	  "isim-vm create: --cpus: '0' is not a number of CPUs from 1 to 256",
	  NULL },
	{ { "create", "x1", "--image", IMG, "--cpus", "300" }, 64, "--cpus: '300' is not a number of CPUs", NULL },
	{ { "create", "x1", "--image", IMG, "--disk-size", "1MB" },
	  64,
	  "isim-vm create: --disk-size: '1MB' is not a size in bytes, or with K, M, G or T",
	  NULL },
	{ { "create", "x1", "--image", IMG, "--disk-size", "0" }, 64, "--disk-size: '0' is not a size", NULL },
	{ { "create", "x1", "--image", IMG, "--disk-size", "99999999999T" },
	  64,
	  "--disk-size: '99999999999T' is not a size",
	  NULL },
	{ { "create", "x1", "--image", IMG, "--accel", "bogus" },
	  64,
	  "isim-vm create: --accel: 'bogus' is not auto, kvm or tcg",
	  NULL },
	{ { "create", "x1", "--image", IMG, "--net", "bogus" },
	  64,
	  "isim-vm create: --net: 'bogus' is not user, none or tap:IF",
	  NULL },
	{ { "create", "x1", "--image", IMG, "--net", "tap:" }, 64, "--net: 'tap:' is not user, none or tap:IF", NULL },
	{ { "create", "x1", "--image", IMG, "--net", "tap:abcdefghijklmnop" },
	  64,
	  "--net: 'tap:abcdefghijklmnop'",
	  NULL },
	{ { "create", "x1", "--image", IMG, "--forward", "22" },
	  64,
	  "isim-vm create: --forward: '22' is not [tcp|udp:][ADDR:]PORT:GUEST-PORT",
	  NULL },
	{ { "create", "x1", "--image", IMG, "--forward", "70000:22" }, 64, "--forward: '70000:22'", NULL },
	{ { "create", "x1", "--image", IMG, "--forward", "tcp:1.2.3.4:1:2:3" },
	  64,
	  "--forward: 'tcp:1.2.3.4:1:2:3'",
	  NULL },
	{ { "create", "x1", "--image", IMG, "--net", "none", "--forward", "2222:22" },
	  64,
	  "isim-vm create: --forward needs --net user",
	  NULL },
	{ { "create", "x1", "--image", IMG, "--forward", "2222:22", "--forward", "tcp:127.0.0.1:2222:23" },
	  64,
	  "isim-vm create: --forward: host port 2222 given twice",
	  NULL },
	{ { "create", "x1", "--image", IMG, "--ssh-key", "key.pub", "--meta-data", "meta-data" },
	  64,
	  "isim-vm create: --ssh-key goes into the generated meta-data",
	  NULL },
	{ { "create", "x1", "--image", IMG, "--input", "signer" },
	  64,
	  "isim-vm create: --input: 'signer' is not NAME=FILE",
	  NULL },
	{ { "create", "x1", "--image", IMG, "--input", "=x" }, 64, "--input: '=x' is not NAME=FILE", NULL },
	{ { "start" }, 64, "isim-vm start: NAME is required", NULL },
	{ { "start", "a", "b" }, 64, "isim-vm start: unexpected argument 'b'", NULL },
	{ { "start", "Web" }, 64, "isim-vm start: NAME: 'Web' is not a VM name", NULL },
	{ { "show", "../x" }, 64, "isim-vm show: NAME: '../x' is not a VM name", NULL },
	{ { "destroy", "Web", "--force" }, 64, "isim-vm destroy: NAME: 'Web' is not a VM name", NULL },
	{ { "stop", "x1", "--timeout", "abc" },
	  64,
	  "isim-vm stop: --timeout: 'abc' is not seconds from 0 to 86400",
	  NULL },
	{ { "stop", "x1", "--timeout", "-1" }, 64, "--timeout: '-1' is not seconds", NULL },
	{ { "restart", "x1", "--timeout", "abc" }, 64, "isim-vm restart: --timeout: 'abc'", NULL },
	{ { "kill", "x1", "--timeout", "1" }, 64, "isim-vm kill: bad option '--timeout'", NULL },
	{ { "wait", "x1" }, 64, "isim-vm wait: --for running|stopped|TEXT is required", NULL },
	{ { "wait", "x1", "--for", "running", "--timeout", "abc" }, 64, "isim-vm wait: --timeout: 'abc'", NULL },
	{ { "list", "extra" }, 64, "isim-vm list: unexpected argument 'extra'", NULL },
	{ { "list", "--state-dir", "/a", "--state-dir", "/a" }, 64, "isim-vm list: --state-dir given twice", NULL },
	{ { "qmp", "x1" }, 64, "isim-vm qmp: NAME and JSON are required", NULL },
	{ { "qmp", "x1", "{\"foo\":1}" },
	  65,
	  "isim-vm qmp: JSON: expected {\"execute\": COMMAND, \"arguments\": {...}}",
	  NULL },
	{ { "qmp", "x1", "[1]" }, 65, "isim-vm qmp: JSON: expected {\"execute\"", NULL },
	{ { "qmp", "x1", "{\"execute\":\"stop\",\"arguments\":[1]}" }, 65, "isim-vm qmp: JSON: expected", NULL },
	{ { "qmp", "x1", "{\"execute\":" }, 65, "isim-vm qmp: JSON:1:", NULL },
	{ { "snapshot" }, 64, "isim-vm snapshot: create, list, revert or delete is required", NULL },
	{ { "snapshot", "list", "Web" }, 64, "isim-vm snapshot: NAME: 'Web' is not a VM name", NULL },
};

static void test_cmd_usage(void **state)
{
	struct where *h = *state;

	tu_run_cases(isim_vm_main, "isim-vm", usage_cases, sizeof(usage_cases) / sizeof(usage_cases[0]));
	/* None of them made the state folder. */
	assert_false(exists(h->state));
}

/* ---- no VM, in a state folder that does not exist --------------------------- */

static const struct tu_cmd_case read_cases[] = {
	{ { "list" }, 0, NULL, "[]" },
	{ { "show", "nosuch" }, 66, "isim-vm show: no VM 'nosuch'", NULL },
	{ { "console", "nosuch" }, 66, "isim-vm console: no VM 'nosuch'", NULL },
	{ { "console", "nosuch", "--log" }, 66, "isim-vm console: no VM 'nosuch'", NULL },
	{ { "wait", "nosuch", "--for", "running", "--timeout", "1" }, 66, "isim-vm wait: no VM 'nosuch'", NULL },
};

static void test_cmd_unknown_read(void **state)
{
	struct where *h = *state;

	tu_run_cases(isim_vm_main, "isim-vm", read_cases, sizeof(read_cases) / sizeof(read_cases[0]));
	assert_false(exists(h->state));
}

/* The commands that lock the VM before they look for it: no VM is no VM
 * there too (exit 66), and nothing is made for a VM that does not exist. */
static const struct tu_cmd_case lock_cases[] = {
	{ { "start", "nosuch" }, 66, "isim-vm start: no VM 'nosuch'", NULL },
	{ { "stop", "nosuch" }, 66, "isim-vm stop: no VM 'nosuch'", NULL },
	{ { "kill", "nosuch" }, 66, "isim-vm kill: no VM 'nosuch'", NULL },
	{ { "pause", "nosuch" }, 66, "isim-vm pause: no VM 'nosuch'", NULL },
	{ { "resume", "nosuch" }, 66, "isim-vm resume: no VM 'nosuch'", NULL },
	{ { "restart", "nosuch" }, 66, "isim-vm restart: no VM 'nosuch'", NULL },
	{ { "destroy", "nosuch" }, 66, "isim-vm destroy: no VM 'nosuch'", NULL },
	{ { "qmp", "nosuch", "{\"execute\":\"query-status\"}" }, 66, "isim-vm qmp: no VM 'nosuch'", NULL },
	{ { "snapshot", "list", "nosuch" }, 66, "isim-vm snapshot: no VM 'nosuch'", NULL },
};

static void test_cmd_unknown_locked(void **state)
{
	struct where *h = *state;

	tu_run_cases(isim_vm_main, "isim-vm", lock_cases, sizeof(lock_cases) / sizeof(lock_cases[0]));
	assert_false(exists(h->state));
}

/* ---- create, show, list, destroy ----------------------------------------------- */

static bool have_qemu_img(void)
{
	return system("command -v qemu-img >/dev/null 2>&1") == 0;
}

static const char *text(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsString(v))
		print_error("'%s' is not a string\n", k);
	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsNumber(v))
		print_error("'%s' is not a number\n", k);
	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

static bool matches(const char *s, const char *re)
{
	regex_t r;
	bool m;

	assert_int_equal(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
	m = regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	return m;
}

#define TIME_RE "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"
#define UUID_RE "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"

/* What list shows of the VM, and show too. */
static void check_summary(const cJSON *o, const char *image)
{
	assert_string_equal(text(o, "name"), "t1");
	assert_string_equal(text(o, "state"), "stopped");
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "pid")));
	assert_int_equal((int)num(o, "memory_mib"), 64);
	assert_int_equal((int)num(o, "cpus"), 2);
	assert_string_equal(text(o, "image"), image);
	assert_true(matches(text(o, "created_at"), TIME_RE));
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "started_at")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "migrated_to")));
}

/* What show adds. */
static void check_full(const cJSON *o, const char *state_dir, const char *image)
{
	const cJSON *fw, *f, *ops, *op;
	char dir[PATH_MAX + 16], path[PATH_MAX + 64];

	check_summary(o, image);
	assert_true(matches(text(o, "uuid"), UUID_RE));
	assert_int_equal((long long)num(o, "disk_size"), 128LL << 20);
	/* As configured (the default), and none used while it is stopped. */
	assert_string_equal(text(o, "accel"), "auto");
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "accel_used")));
	assert_string_equal(text(o, "network"), "user");
	assert_null(cJSON_GetObjectItemCaseSensitive(o, "tap"));
	fw = cJSON_GetObjectItemCaseSensitive(o, "forwards");
	assert_true(cJSON_IsArray(fw));
	assert_int_equal(cJSON_GetArraySize(fw), 1);
	f = cJSON_GetArrayItem(fw, 0);
	assert_string_equal(text(f, "protocol"), "udp");
	assert_string_equal(text(f, "host_addr"), "127.0.0.1");
	assert_int_equal((int)num(f, "host_port"), 5353);
	assert_int_equal((int)num(f, "guest_port"), 53);
	snprintf(dir, sizeof(dir), "%s/vms/t1", state_dir);
	snprintf(path, sizeof(path), "%s/disk.qcow2", dir);
	assert_string_equal(text(o, "disk"), path);
	snprintf(path, sizeof(path), "%s/cidata.iso", dir);
	assert_string_equal(text(o, "seed"), path);
	snprintf(path, sizeof(path), "%s/qmp.sock", dir);
	assert_string_equal(text(o, "qmp"), path);
	snprintf(path, sizeof(path), "%s/console.sock", dir);
	assert_string_equal(text(o, "console"), path);
	snprintf(path, sizeof(path), "%s/console.log", dir);
	assert_string_equal(text(o, "console_log"), path);
	ops = cJSON_GetObjectItemCaseSensitive(o, "operations");
	assert_true(cJSON_IsArray(ops));
	assert_int_equal(cJSON_GetArraySize(ops), 1);
	op = cJSON_GetArrayItem(ops, 0);
	assert_string_equal(text(op, "op"), "create");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(op, "ok")));
	assert_string_equal(text(op, "detail"), image);
	assert_true(matches(text(op, "at"), TIME_RE));
}

/* qemu-img's word on the disk: a qcow2 overlay of size bytes on image. */
static void check_overlay(const char *disk, const char *image, long long size)
{
	char cmd[PATH_MAX + 64], buf[65536];
	size_t n;
	cJSON *doc;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "qemu-img info --output=json -U '%s'", disk);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(buf, 1, sizeof(buf) - 1, p);
	assert_int_equal(pclose(p), 0);
	buf[n] = '\0';
	doc = cJSON_Parse(buf);
	assert_non_null(doc);
	assert_string_equal(text(doc, "format"), "qcow2");
	assert_string_equal(text(doc, "backing-filename"), image);
	assert_string_equal(text(doc, "backing-filename-format"), "qcow2");
	assert_int_equal((long long)num(doc, "virtual-size"), size);
	cJSON_Delete(doc);
}

static void test_cmd_lifecycle(void **state)
{
	struct where *h = *state;
	char image[PATH_MAX], cmd[2 * PATH_MAX + 64], dir[PATH_MAX + 16];
	struct tu_run r;
	cJSON *doc, *item;

	if (!have_qemu_img()) {
		print_message("# qemu-img is not installed: skipped\n");
		skip();
	}
	assert_true(snprintf(image, sizeof(image), "%s/blank.qcow2", h->w->dir) < (int)sizeof(image));
	snprintf(cmd, sizeof(cmd), "qemu-img create -q -f qcow2 '%s' 64M", image);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s.orig'", image, image);
	assert_int_equal(system(cmd), 0);
	snprintf(dir, sizeof(dir), "%s/vms/t1", h->state);

	r = vm("create", "t1", "--image", image, "--memory", "64", "--cpus", "2", "--disk-size", "128M", "--forward",
	       "udp:5353:53", "--ssh-key", "key.pub", (char *)NULL);
	if (r.code)
		print_error("create: exit %d, stderr '%s'\n", r.code, r.err);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.err, "");
	doc = cJSON_Parse(r.out);
	assert_non_null(doc);
	check_full(doc, h->state, image);
	check_overlay(text(doc, "disk"), image, 128LL << 20);
	assert_true(exists(text(doc, "seed")));
	cJSON_Delete(doc);
	tu_run_free(&r);
	assert_true(exists(dir));
	assert_false(exists(tu_path(h->state, "vms/.t1.new")));

	r = vm("show", "t1", (char *)NULL);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.err, "");
	doc = cJSON_Parse(r.out);
	assert_non_null(doc);
	check_full(doc, h->state, image);
	cJSON_Delete(doc);
	tu_run_free(&r);

	r = vm("list", (char *)NULL);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.err, "");
	doc = cJSON_Parse(r.out);
	assert_non_null(doc);
	assert_true(cJSON_IsArray(doc));
	assert_int_equal(cJSON_GetArraySize(doc), 1);
	item = cJSON_GetArrayItem(doc, 0);
	check_summary(item, image);
	/* list is the summary: show's fields are not in it. */
	assert_int_equal(cJSON_GetArraySize(item), 9);
	assert_null(cJSON_GetObjectItemCaseSensitive(item, "uuid"));
	cJSON_Delete(doc);
	tu_run_free(&r);

	r = vm("create", "t1", "--image", image, (char *)NULL);
	assert_int_equal(r.code, 73);
	assert_string_equal(r.err, "isim-vm create: a VM 't1' exists already\n");
	assert_string_equal(r.out, "");
	tu_run_free(&r);

	r = vm("destroy", "t1", (char *)NULL);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.err, "");
	doc = cJSON_Parse(r.out);
	assert_non_null(doc);
	assert_string_equal(text(doc, "name"), "t1");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "destroyed")));
	assert_int_equal(cJSON_GetArraySize(doc), 2);
	cJSON_Delete(doc);
	tu_run_free(&r);
	assert_false(exists(dir));

	r = vm("list", (char *)NULL);
	assert_int_equal(r.code, 0);
	doc = cJSON_Parse(r.out);
	assert_non_null(doc);
	assert_int_equal(cJSON_GetArraySize(doc), 0);
	cJSON_Delete(doc);
	tu_run_free(&r);

	r = vm("show", "t1", (char *)NULL);
	assert_int_equal(r.code, 66);
	assert_string_equal(r.err, "isim-vm show: no VM 't1'\n");
	tu_run_free(&r);

	/* The image was only read. */
	snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s.orig'", image, image);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cmd_usage, cmd_setup, cmd_teardown),
		cmocka_unit_test_setup_teardown(test_cmd_unknown_read, cmd_setup, cmd_teardown),
		cmocka_unit_test_setup_teardown(test_cmd_unknown_locked, cmd_setup, cmd_teardown),
		cmocka_unit_test_setup_teardown(test_cmd_lifecycle, cmd_setup, cmd_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
