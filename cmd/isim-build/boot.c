/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "common/cli.h"
#include "common/options.h"
#include "common/secret.h"
#include "isim/archive.h"
#include "isim/buf.h"
#include "isim/descriptor.h"
#include "isim/file.h"
#include "isim/intoto.h"
#include "isim/json.h"
#include "isim/nocloud.h"
#include "isim/provenance.h"
#include "isim/qemu.h"
#include "isim/run.h"
#include "isim/sde.h"
#include "isim/tap.h"

#define TPROG PROG " --test"
#define MAX_INPUTS 32

void build_test_usage(FILE *f)
{
	fprintf(f, "usage: " TPROG " [options] IMAGE\n"
		   "       " PROG " test [options] IMAGE\n"
		   "\n"
		   "Boot IMAGE under QEMU (TCG, a snapshot: the image is not changed) with a\n"
		   "cloud-init NoCloud seed carrying test values for its boot-time inputs, read\n"
		   "the selftests' TAP from the serial console, stop the machine, and print the\n"
		   "results as JSON. Writes NAME.selftest.json (an in-toto test-result\n"
		   "statement bound to IMAGE's SHA-256) and NAME.console.log beside IMAGE, and\n"
		   "with --sign-key the statement's .sig and .dsse.json. The inputs are read\n"
		   "from IMAGE's provenance statement (NAME.provenance.json).\n"
		   "\n"
		   "  -i, --input NAME=FILE  the test value of input NAME (else one is made for\n"
		   "                         trusted_signer, mesh_secret, wg_address, auth_key;\n"
		   "                         other required inputs must be given)\n"
		   "  -S, --statement FILE   IMAGE's provenance statement, when it is elsewhere\n"
		   "  -o, --out DIR          where the results go (default: IMAGE's folder)\n"
		   "  -k, --sign-key KEY     sign the test result with this minisign secret key\n"
		   "                         (default $ISIM_SIGN_KEY; --key is the same)\n"
		   "      --password-fd N    read the key's password from descriptor N\n"
		   "  -T, --timeout SECONDS  give up on a boot after this long (default 900)\n"
		   "  -M, --memory MIB       guest memory (default 1024)\n"
		   "  -q, --quiet            print no JSON\n"
		   "  -h, --help             this text\n"
		   "  -V, --version          print the version\n"
		   "\n"
		   "Exit status: 0 every selftest passed, 1 one failed or the boot did not\n"
		   "finish, 64 usage, 65 bad statement or input, 66 missing file, 69 QEMU\n"
		   "missing; see isim-build(1).\n");
}

struct input {
	char name[65];
	const char *path;
};

struct test {
	const char *image;
	const char *statement;
	const char *out_dir;
	struct input inputs[MAX_INPUTS];
	int ninputs;
	long timeout, memory;
	bool quiet;
	cJSON *stmt, *manifest;
	char stmt_path[PATH_MAX], dir[PATH_MAX], name[PATH_MAX];
	char sha256[ISIM_SHA256_HEX], stmt_sha256[ISIM_SHA256_HEX];
	char work[PATH_MAX];
	double boot_seconds;
	bool stopped; /* the machine ended before SELFTEST END */
	/* The test's trusted signer, made for trusted_signer, which also
	 * signs the test node_descriptor. */
	struct isim_ms_seckey *signer;
};

static const cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* IMAGE's folder and its name without .qcow2 */
static int split_image(struct test *t, struct isim_error *err)
{
	const char *slash = strrchr(t->image, '/'), *base = slash ? slash + 1 : t->image;
	const char *dot = strrchr(base, '.');

	if (isim_pathf(t->dir, sizeof(t->dir), err, "%.*s", slash ? (int)(slash - t->image) : 1,
		       slash ? t->image : ".") < 0)
		return -1;
	return isim_pathf(t->name, sizeof(t->name), err, "%.*s",
			  dot && dot != base ? (int)(dot - base) : (int)strlen(base), base);
}

static int load_statement(struct test *t, struct isim_error *err)
{
	char *text = NULL;
	size_t len;
	int ret = -1;

	if (t->statement)
		ret = isim_pathf(t->stmt_path, sizeof(t->stmt_path), err, "%s", t->statement);
	else /* the statement isim-build wrote beside the image */
		ret = isim_pathf(t->stmt_path, sizeof(t->stmt_path), err, "%s/%s.provenance.json", t->dir, t->name);
	if (ret < 0)
		return -1;
	ret = -1;
	if (isim_file_read(t->stmt_path, ISIM_FILE_MAX, &text, &len, err) < 0 ||
	    isim_sha256_hex(text, len, t->stmt_sha256) < 0 ||
	    isim_json_parse(text, len, t->stmt_path, &t->stmt, err) < 0)
		goto out;
	t->manifest =
		(cJSON *)get(get(get(get(t->stmt, "predicate"), "buildDefinition"), "externalParameters"), "manifest");
	if (!cJSON_IsObject(t->manifest) || !cJSON_IsArray(get(t->manifest, "inputs"))) {
		isim_error_at(err, t->stmt_path, 0, 0);
		isim_error_at_pointer(err, ISIM_ERR_DATA, "/predicate/buildDefinition/externalParameters/manifest",
				      "expected the composed manifest (a statement isim-build wrote)");
		goto out;
	}
	ret = 0;
out:
	free(text);
	return ret;
}

/* A host address inside the mesh's range: its network address plus 2
 * (1 is left for a gateway), with the range's prefix length. */
static int address_in(const char *cidr, struct isim_buf *out)
{
	char net[64], text[INET6_ADDRSTRLEN];
	const char *slash = strchr(cidr, '/');
	unsigned char a[16];
	int af, i, carry = 2;

	if (!slash || (size_t)(slash - cidr) >= sizeof(net))
		return -1;
	snprintf(net, sizeof(net), "%.*s", (int)(slash - cidr), cidr); /* fits: checked above */
	af = strchr(net, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(af, net, a) != 1)
		return -1;
	for (i = (af == AF_INET ? 4 : 16) - 1; i >= 0 && carry; i--) {
		int v = a[i] + carry;

		a[i] = (unsigned char)v;
		carry = v >> 8;
	}
	if (!inet_ntop(af, a, text, sizeof(text)))
		return -1;
	isim_buf_printf(out, "%s%s\n", text, slash);
	return 0;
}

/* A node descriptor for the test: this node's address as its one range,
 * random keys (nothing admits it), valid from an hour ago for a day,
 * signed by the test's trusted signer. */
static int test_descriptor(struct test *t, struct isim_buf *out, struct isim_error *err)
{
	const cJSON *cidr = get(get(get(t->manifest, "feature_config"), "vpn-wireguard"), "network_cidr");
	struct isim_buf addr = { 0 };
	uint8_t key[32];
	char b64[64], when[32], *slash, *text = NULL;
	cJSON *d = cJSON_CreateObject(), *o;
	time_t now = time(NULL);
	int ret = -1;

	if (!d || (!t->signer && isim_ms_seckey_new(&t->signer, err) < 0))
		goto out;
	if (address_in(cJSON_IsString(cidr) ? cidr->valuestring : "10.100.0.0/16", &addr) < 0 || addr.oom) {
		isim_error_set(err, ISIM_ERR_DATA, "network_cidr is not a CIDR");
		goto out;
	}
	addr.s[strcspn(addr.s, "\n")] = '\0';
	if ((slash = strchr(addr.s, '/')))
		snprintf(slash, addr.len - (size_t)(slash - addr.s) + 1, "%s", strchr(addr.s, ':') ? "/128" : "/32");
	cJSON_AddStringToObject(d, "node_id", "isim-test");
	o = cJSON_AddObjectToObject(d, "identity");
	randombytes_buf(key, sizeof(key));
	sodium_bin2base64(b64, sizeof(b64), key, sizeof(key), sodium_base64_VARIANT_ORIGINAL);
	cJSON_AddStringToObject(o, "wg_public_key", b64);
	randombytes_buf(key, sizeof(key));
	sodium_bin2base64(b64, sizeof(b64), key, sizeof(key), sodium_base64_VARIANT_ORIGINAL);
	cJSON_AddStringToObject(o, "ed25519_public_key", b64);
	o = cJSON_AddObjectToObject(d, "endpoints");
	cJSON_AddStringToObject(o, "wireguard", "10.0.2.15:51820");
	o = cJSON_AddArrayToObject(d, "allowed_ips");
	cJSON_AddItemToArray(o, cJSON_CreateString(addr.s));
	now -= 3600;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	cJSON_AddStringToObject(d, "issued_at", when);
	now += 86400 + 3600;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	cJSON_AddStringToObject(d, "expires_at", when);
	if (isim_descriptor_sign(d, t->signer->sk, t->signer->keyid, err) < 0)
		goto out;
	if (!(text = isim_json_print(d, false))) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		goto out;
	}
	isim_buf_printf(out, "%s\n", text);
	ret = 1;
out:
	free(text);
	isim_buf_free(&addr);
	cJSON_Delete(d);
	return ret;
}

/* A test value for the inputs the catalog's features declare; the rest
 * must be given with --input. Returns 1 when it made one, 0 when it
 * cannot, -1 on error. */
static int make_value(struct test *t, const char *name, struct isim_buf *out, struct isim_error *err)
{
	uint8_t rnd[32];
	char hex[65];

	if (strcmp(name, "trusted_signer") == 0) {
		struct isim_ms_pubkey pk;
		char text[ISIM_MS_COMMENT_MAX + 100];
		int n;

		if (!t->signer && isim_ms_seckey_new(&t->signer, err) < 0)
			return -1;
		isim_ms_seckey_pubkey(t->signer, &pk);
		snprintf(pk.comment, sizeof(pk.comment), "isim-build test signer");
		n = isim_ms_pubkey_format(&pk, text, sizeof(text));
		if (n < 0)
			return isim_error_set(err, ISIM_ERR_INTERNAL, "cannot format a public key");
		isim_buf_putn(out, text, (size_t)n);
		return 1;
	}
	if (strcmp(name, "node_descriptor") == 0)
		return test_descriptor(t, out, err);
	if (strcmp(name, "mesh_secret") == 0 || strcmp(name, "auth_key") == 0) {
		randombytes_buf(rnd, sizeof(rnd));
		sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
		isim_buf_printf(out, "%s%s\n", strcmp(name, "auth_key") == 0 ? "tskey-test-" : "", hex);
		sodium_memzero(rnd, sizeof(rnd));
		sodium_memzero(hex, sizeof(hex));
		return 1;
	}
	if (strcmp(name, "wg_address") == 0) {
		const cJSON *cidr = get(get(get(t->manifest, "feature_config"), "vpn-wireguard"), "network_cidr");

		if (address_in(cJSON_IsString(cidr) ? cidr->valuestring : "10.100.0.0/16", out) < 0)
			return isim_error_set(err, ISIM_ERR_DATA, "network_cidr '%s' is not a CIDR", cidr->valuestring);
		return 1;
	}
	return 0;
}

/* Each input at its destination in the seed: the file given with
 * --input, else a test value made here. */
static int add_inputs(struct test *t, struct isim_nocloud *seed, struct isim_error *err)
{
	const cJSON *in;
	int i, idx = 0;

	cJSON_ArrayForEach (in, get(t->manifest, "inputs")) {
		const cJSON *name = get(in, "name"), *dest = get(in, "destination");
		bool required = !cJSON_IsFalse(get(in, "required")), secret = !cJSON_IsFalse(get(in, "secret"));
		struct isim_buf v = { 0 };
		int made = 0;

		if (!cJSON_IsString(name) || !cJSON_IsString(dest) || strpbrk(dest->valuestring, "'\n")) {
			char ptr[160];

			snprintf(ptr, sizeof(ptr), "/predicate/buildDefinition/externalParameters/manifest/inputs/%d",
				 idx);
			isim_error_at(err, t->stmt_path, 0, 0);
			return isim_error_at_pointer(err, ISIM_ERR_DATA, ptr, "expected a name and a destination");
		}
		idx++;
		for (i = 0; i < t->ninputs; i++) {
			if (strcmp(t->inputs[i].name, name->valuestring) == 0) {
				if (isim_nocloud_add_file(seed, dest->valuestring, t->inputs[i].path, 1u << 20, secret,
							  err) < 0)
					return -1;
				made = 1;
			}
		}
		if (made)
			continue;
		/* An optional input gets a test value too where one can be
		 * made (the node's descriptor), so that what uses it runs. */
		made = make_value(t, name->valuestring, &v, err);
		if (made > 0 && v.oom)
			made = isim_error_set(err, ISIM_ERR_INTERNAL, "out of memory");
		if (made > 0 && isim_nocloud_add(seed, dest->valuestring, v.s, v.len, secret, err) < 0)
			made = -1;
		if (v.s)
			sodium_memzero(v.s, v.len);
		isim_buf_free(&v);
		if (made < 0)
			return -1;
		if (!made && !required)
			continue;
		if (!made)
			return isim_error_set(err, ISIM_ERR_USAGE,
					      "input '%s' is required and has no test value: give one with "
					      "--input %s=FILE",
					      name->valuestring, name->valuestring);
	}
	for (i = 0; i < t->ninputs; i++) {
		bool known = false;

		cJSON_ArrayForEach (in, get(t->manifest, "inputs")) {
			const cJSON *name = get(in, "name");

			if (cJSON_IsString(name) && strcmp(name->valuestring, t->inputs[i].name) == 0)
				known = true;
		}
		if (!known)
			return isim_error_set(err, ISIM_ERR_USAGE, "--input %s: the image has no input of that name",
					      t->inputs[i].name);
	}
	return 0;
}

static int make_seed(struct test *t, const char *iso, struct isim_error *err)
{
	const cJSON *profile = get(get(t->manifest, "profile"), "name");
	struct isim_nocloud *seed = NULL;
	char id[64];
	int ret = -1;

	snprintf(id, sizeof(id), "isim-test-%.16s", t->sha256);
	if (isim_nocloud_new(id, cJSON_IsString(profile) ? profile->valuestring : "infrasim",
			     "test values from isim-build --test", &seed, err) < 0)
		return -1;
	if (add_inputs(t, seed, err) == 0)
		ret = isim_nocloud_write(seed, iso, err);
	isim_nocloud_free(seed);
	return ret;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What boot() looks for on the console. */
struct follow {
	struct test *t;
	double t0;
	bool tty, finished;
};

static void console_line(const char *line, void *ctx)
{
	struct follow *f = ctx;

	if (f->finished)
		return;
	if (strstr(line, "SELFTEST END")) {
		f->finished = true;
		f->t->boot_seconds = now() - f->t0;
	} else if (f->tty && strncmp(line, "# selftest ", 11) == 0) {
		char clean[512];

		isim_sanitize(clean, sizeof(clean), line + 11);
		fprintf(stderr, TPROG ": %.0f s: %s\n", now() - f->t0, clean);
	}
}

/* Boot and follow the console log until SELFTEST END, the machine's own
 * exit, the timeout or a signal; then stop it. The log is kept whole. */
static int boot(struct test *t, const char *iso, const char *log, bool *finished, struct isim_error *err)
{
	const struct isim_qemu_drive drives[] = {
		{ .path = t->image, .format = "qcow2", .interface = "virtio", .snapshot = true },
		{ .path = iso, .format = "raw", .interface = "virtio", .readonly = true },
	};
	/* Only the devices the test needs (no VGA, no default NIC, no CD-ROM),
	 * the console on the first serial port, and no option ROM on the NIC
	 * (its iPXE ROM only slows the firmware; the disk boots). */
	const struct isim_qemu_nic nic = { .model = "virtio-net-pci", .restrict_ = true, .no_rom = true };
	const struct isim_qemu_machine m = {
		.machine = "q35",
		.accel = "tcg",
		.nodefaults = true,
		.memory_mib = (unsigned)t->memory,
		.serial = ISIM_QEMU_SERIAL_STDIO,
		.no_reboot = true,
		.drives = drives,
		.ndrives = 2,
		.nics = &nic,
		.nnics = 1,
	};
	struct follow f = { .t = t, .t0 = now(), .tty = !t->quiet && isatty(STDERR_FILENO) };
	struct isim_qemu_console con = { .fd = -1 };
	struct isim_qemu *q = NULL;
	struct isim_error ignored;
	int status = 0, ret = -1;
	bool exited = false;

	*finished = false;
	/* QEMU's own messages go into the log too, after the console's. */
	if (isim_qemu_start(&m, log, &q, err) < 0)
		return -1;
	if (f.tty)
		fprintf(stderr, TPROG ": booting %s under TCG (timeout %ld s)\n", t->image, t->timeout);
	if (isim_qemu_console_open(&con, log, &ignored) < 0)
		con.fd = -1;
	for (;;) {
		ssize_t n = con.fd >= 0 ? isim_qemu_console_read(&con, console_line, &f, &ignored) : 0;

		if (f.finished)
			break;
		if (n > 0)
			continue;
		/* After the machine's end, whatever it wrote last. */
		if (exited)
			break;
		if (isim_qemu_exited(q, &status)) {
			exited = true;
			continue;
		}
		if (isim_run_interrupted) {
			isim_error_set(err, ISIM_ERR_INTERNAL, "interrupted by signal %d", (int)isim_run_interrupted);
			goto out;
		}
		if (now() - f.t0 > (double)t->timeout)
			break;
		poll(NULL, 0, 200);
	}
	ret = 0;
out:
	*finished = f.finished;
	t->stopped = exited && !f.finished;
	/* QEMU shuts down cleanly on SIGTERM; the snapshot is dropped. */
	if (!exited)
		isim_qemu_stop(q, NULL, 5000);
	isim_qemu_free(q);
	isim_qemu_console_close(&con);
	if (ret == 0 && !f.finished && exited && WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
	    t->boot_seconds == 0 && now() - f.t0 < 5) {
		char *text = NULL;
		size_t len;

		if (isim_file_read(log, 1u << 20, &text, &len, &ignored) == 0) {
			char first[300];

			isim_sanitize(first, sizeof(first), text);
			isim_error_set(err, ISIM_ERR_UNAVAILABLE, "qemu-system-x86_64 failed at once: %s", first);
		} else {
			isim_error_set(err, ISIM_ERR_UNAVAILABLE, "qemu-system-x86_64 failed at once");
		}
		free(text);
		ret = -1;
	}
	return ret;
}

/* The in-toto test-result statement about the image, its configuration
 * the provenance statement the inputs came from. */
static int attestation(struct test *t, const cJSON *report, bool passed, cJSON **out, struct isim_error *err)
{
	char img[PATH_MAX + 8], stmt[PATH_MAX + 24];
	const struct isim_intoto_subject subject = { img, t->sha256 }, conf = { stmt, t->stmt_sha256 };
	cJSON *pred = NULL;

	if (isim_pathf(img, sizeof(img), err, "%s.qcow2", t->name) < 0 ||
	    isim_pathf(stmt, sizeof(stmt), err, "%s.provenance.json", t->name) < 0)
		return -1;
	if (isim_intoto_test_result(passed, &conf, 1, report, &pred, err) < 0)
		return -1;
	return isim_intoto_statement(&subject, 1, ISIM_INTOTO_TEST_RESULT_V01, pred, out, err);
}

static int test_run(struct test *t, const struct isim_ms_seckey *sk)
{
	struct isim_error err;
	char iso[PATH_MAX + 16], log[PATH_MAX + 16], res[PATH_MAX + 32], sig[PATH_MAX + 40], dsse[PATH_MAX + 40];
	char *text = NULL;
	cJSON *report = NULL, *att = NULL;
	uint8_t d[ISIM_SHA256_BYTES];
	int ret = ISIM_EXIT_SOFTWARE;
	bool finished = false, passed;
	char reason[128] = "";
	double t0;

	isim_error_clear(&err);
	if (split_image(t, &err) < 0)
		goto fail;
	if (!t->out_dir)
		t->out_dir = t->dir;
	if (isim_run_catch_signals() < 0) {
		isim_error_errno(&err, ISIM_ERR_INTERNAL, errno, "cannot handle signals");
		goto fail;
	}
	if (isim_sha256_file(t->image, d, &err) < 0)
		goto fail;
	isim_hex(d, sizeof(d), t->sha256);
	if (load_statement(t, &err) < 0)
		goto fail;
	if (isim_pathf(t->work, sizeof(t->work), &err, "%s/.isim-test.XXXXXX", t->out_dir) < 0)
		goto fail;
	if (!mkdtemp(t->work)) {
		int e = errno;

		t->work[0] = '\0';
		isim_error_at(&err, t->out_dir, 0, 0);
		isim_error_errno(&err, e == EACCES ? ISIM_ERR_PERM : ISIM_ERR_CANTCREATE, e,
				 "cannot create a working folder");
		goto fail;
	}
	if (isim_pathf(iso, sizeof(iso), &err, "%s/seed.iso", t->work) < 0 ||
	    isim_pathf(log, sizeof(log), &err, "%s/%s.console.log", t->out_dir, t->name) < 0)
		goto fail;
	if (make_seed(t, iso, &err) < 0)
		goto fail;
	t0 = now();
	if (boot(t, iso, log, &finished, &err) < 0)
		goto fail;
	{
		size_t len;

		if (isim_file_read(log, 64u << 20, &text, &len, &err) < 0 ||
		    isim_tap_parse(text, len, &report, &err) < 0)
			goto fail;
	}
	passed = finished && isim_tap_passed(report);
	if (!finished && t->stopped)
		snprintf(reason, sizeof(reason), "the machine stopped before SELFTEST END");
	else if (!finished)
		snprintf(reason, sizeof(reason), "no SELFTEST END within %ld s", t->timeout);
	else if (!passed)
		snprintf(reason, sizeof(reason), "a selftest failed");
	if (attestation(t, report, passed, &att, &err) < 0)
		goto fail;
	free(text);
	text = isim_intoto_text(att);
	if (!text) {
		isim_error_set(&err, ISIM_ERR_INTERNAL, "out of memory");
		goto fail;
	}
	if (isim_pathf(res, sizeof(res), &err, "%s/%s.selftest.json", t->out_dir, t->name) < 0)
		goto fail;
	{
		struct isim_intoto_out o = { .path = res,
					     .sk = sk,
					     .sig_path = sig,
					     .dsse_path = dsse,
					     .comment = "signature from isim-build" };
		bool set;

		if (sk) {
			if (isim_pathf(sig, sizeof(sig), &err, "%s.sig", res) < 0 ||
			    isim_pathf(dsse, sizeof(dsse), &err, "%s/%s.selftest.dsse.json", t->out_dir, t->name) < 0 ||
			    isim_sde_now(getenv("SOURCE_DATE_EPOCH"), &o.when, &set, &err) < 0)
				goto fail;
		}
		if (isim_intoto_write(&o, text, &err) < 0)
			goto fail;
	}
	if (!t->quiet) {
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddBoolToObject(o, "passed", passed) ||
		    !cJSON_AddStringToObject(o, "image", t->image) ||
		    !cJSON_AddStringToObject(o, "sha256", t->sha256) ||
		    !cJSON_AddStringToObject(o, "attestation", res) ||
		    !(sk ? cJSON_AddStringToObject(o, "signature", sig) : cJSON_AddNullToObject(o, "signature")) ||
		    !cJSON_AddStringToObject(o, "console_log", log) ||
		    !(finished ? cJSON_AddNumberToObject(o, "boot_seconds", t->boot_seconds)
			       : cJSON_AddNullToObject(o, "boot_seconds")) ||
		    !cJSON_AddNumberToObject(o, "duration_seconds", now() - t0) ||
		    !(sk ? cJSON_AddStringToObject(o, "envelope", dsse) : cJSON_AddNullToObject(o, "envelope")) ||
		    !(reason[0] ? cJSON_AddStringToObject(o, "reason", reason) : cJSON_AddNullToObject(o, "reason")) ||
		    !cJSON_AddItemToObject(o, "report", report)) {
			cJSON_Delete(o);
			isim_error_set(&err, ISIM_ERR_INTERNAL, "out of memory");
			goto fail;
		}
		report = NULL;
		if (isim_json_write(stdout, o) < 0) {
			cJSON_Delete(o);
			isim_error_errno(&err, ISIM_ERR_IO, errno, "cannot write to stdout");
			goto fail;
		}
		cJSON_Delete(o);
	}
	if (!passed)
		fprintf(stderr, TPROG ": %s: %s (console: %s)\n", t->image, reason, log);
	ret = isim_close_stdout(TPROG);
	if (ret == 0 && !passed)
		ret = ISIM_EXIT_VERDICT;
	goto out;
fail:
	isim_print_error(TPROG, &err);
	ret = isim_run_interrupted ? 128 + isim_run_interrupted : isim_exit_code(err.kind);
out:
	if (t->work[0])
		isim_rmtree(t->work);
	cJSON_Delete(report);
	cJSON_Delete(att);
	cJSON_Delete(t->stmt);
	isim_ms_seckey_free(t->signer);
	free(text);
	return ret;
}

int build_test_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "test", no_argument, NULL, 't' },
		{ "input", required_argument, NULL, 'i' },
		{ "statement", required_argument, NULL, 'S' },
		{ "out", required_argument, NULL, 'o' },
		ISIM_LONGOPTS_KEY,
		{ "timeout", required_argument, NULL, 'T' },
		{ "memory", required_argument, NULL, 'M' },
		{ "quiet", no_argument, NULL, 'q' },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	/* argv[0] is "test" for the command, the tool's name for --test. */
	const char *prog = strcmp(argv[0], "test") == 0 ? PROG " test" : TPROG;
	struct isim_getopt g = {
		.prog = prog, .shortopts = "ti:S:o:k:T:M:qhV", .longopts = opts, .usage = build_test_usage
	};
	struct test t = { .timeout = 900, .memory = 1024 };
	struct isim_ms_seckey *sk = NULL;
	struct isim_key_opt key = ISIM_KEY_OPT_INIT;
	struct isim_error err;
	const char *tmo = NULL, *memo = NULL;
	int c, ret = ISIM_EXIT_SOFTWARE;

	isim_error_clear(&err);
	while ((c = isim_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case ISIM_GETOPT_EXIT:
			return g.rc;
		case 't':
			/* --test itself; with the command, the same image test. */
			break;
		case 'i': {
			char *eq = strchr(optarg, '=');
			int i;

			if (!eq || eq == optarg || !eq[1] || eq - optarg > 64)
				return isim_usage_error(prog, "--input: expected NAME=FILE, got '%s'", optarg);
			if (t.ninputs == MAX_INPUTS)
				return isim_usage_error(prog, "more than %d --input options", MAX_INPUTS);
			/* fits: 64 bytes at most, checked above */
			snprintf(t.inputs[t.ninputs].name, sizeof(t.inputs[0].name), "%.*s", (int)(eq - optarg),
				 optarg);
			for (i = 0; i < t.ninputs; i++)
				if (strcmp(t.inputs[i].name, t.inputs[t.ninputs].name) == 0)
					return isim_usage_error(prog, "--input %s given twice", t.inputs[i].name);
			t.inputs[t.ninputs++].path = eq + 1;
			break;
		}
		case 'S':
			if (isim_opt_once(prog, "--statement", &t.statement, optarg))
				return ISIM_EXIT_USAGE;
			break;
		case 'o':
			if (isim_opt_once(prog, "--out", &t.out_dir, optarg))
				return ISIM_EXIT_USAGE;
			break;
		case 'k':
		case ISIM_OPT_PASSWORD_FD:
			if (isim_key_option(prog, &key, c, optarg))
				return ISIM_EXIT_USAGE;
			break;
		case 'T':
			if (isim_opt_once(prog, "--timeout", &tmo, optarg))
				return ISIM_EXIT_USAGE;
			if (!isim_parse_long(optarg, 1, 86400, &t.timeout))
				return isim_bad_value(prog, "--timeout", optarg, "1 to 86400 seconds");
			break;
		case 'M':
			if (isim_opt_once(prog, "--memory", &memo, optarg))
				return ISIM_EXIT_USAGE;
			if (!isim_parse_long(optarg, 128, 65536, &t.memory))
				return isim_bad_value(prog, "--memory", optarg, "128 to 65536 MiB");
			break;
		case 'q':
			t.quiet = true;
			break;
		}
	}
	if (optind + 1 != argc)
		return isim_usage_error(prog, optind == argc ? "no IMAGE given" : "one IMAGE only, got '%s' too",
					optind < argc ? argv[optind + 1] : "");
	if (isim_key_finish(prog, &key, false))
		return ISIM_EXIT_USAGE;
	t.image = argv[optind];
	if (key.path) {
		if (isim_secret_protect(&err) < 0 || isim_secret_key_open(key.path, key.password_fd, &sk, &err) < 0)
			return isim_fail(prog, &err);
	}
	ret = test_run(&t, sk);
	isim_ms_seckey_free(sk);
	return ret;
}

int build_test_image(const char *image, const struct isim_ms_seckey *sk, bool quiet)
{
	struct test t = { .timeout = 900, .memory = 1024, .image = image, .quiet = quiet };

	return test_run(&t, sk);
}
