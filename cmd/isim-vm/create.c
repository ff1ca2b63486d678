/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "common/cli.h"
#include "common/options.h"
#include "isim/buf.h"
#include "isim/db.h"
#include "isim/file.h"
#include "isim/json.h"
#include "isim/kvm.h"
#include "isim/nocloud.h"
#include "isim/utf8.h"
#include "isim/run.h"
#include "vm.h"

#define PROG "isim-vm create"
#define INPUTS_MAX 32
#define CLOUD_FILE_MAX (1u << 20)

void vm_create_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " NAME --image IMAGE [--memory MIB] [--cpus N] [--disk-size SIZE]\n"
		   "       [--net user|none|tap:IF] [--forward [tcp|udp:][ADDR:]PORT:GUEST-PORT]...\n"
		   "       [--user-data FILE] [--meta-data FILE] [--network-config FILE]\n"
		   "       [--ssh-key FILE] [--input NAME=FILE]... [--accel auto|kvm|tcg] [--state-dir DIR]\n"
		   "\n"
		   "Make the VM NAME: its disk a qcow2 overlay on IMAGE (which is never\n"
		   "written), and a cloud-init NoCloud seed (an ISO 9660 volume 'cidata')\n"
		   "with its instance id, host name, and what the options give. Prints the\n"
		   "VM as isim-vm show does. It is started by isim-vm start.\n"
		   "\n"
		   "  -i, --image IMAGE        a qcow2 file (isim-build's output), or the name of a\n"
		   "                           template, STATE/" VM_TEMPLATES "/NAME.qcow2\n"
		   "  -m, --memory MIB         memory in MiB (default 1024)\n"
		   "  -c, --cpus N             virtual CPUs (default 1)\n"
		   "      --disk-size SIZE     the disk's size, at least the image's (bytes, or with\n"
		   "                           K, M, G or T; default the image's)\n"
		   "      --net MODE           user (QEMU's user-mode network, the default), none,\n"
		   "                           or tap:IF (an existing tap device)\n"
		   "  -p, --forward SPEC       with user networking, forward a host port to the\n"
		   "                           guest: tcp:127.0.0.1:2222:22, or 2222:22 (repeatable)\n"
		   "      --user-data FILE     cloud-init user-data (#cloud-config, a script, ...)\n"
		   "      --meta-data FILE     cloud-init meta-data instead of the generated one\n"
		   "      --network-config FILE  cloud-init network configuration\n"
		   "      --ssh-key FILE       an SSH public key for the guest (meta-data public-keys)\n"
		   "      --input NAME=FILE    a boot-time input the image's manifest declares (in\n"
		   "                           IMAGE's .provenance.json), put where it says\n"
		   "      --accel ACCEL        auto (the default: KVM if it works here, checked at\n"
		   "                           each start, else TCG), kvm (refused at start where\n"
		   "                           KVM does not work) or tcg\n"
		   "      --state-dir DIR      where " VM_DB_NAME " and the VMs are (ISIM_STATE_DIR;\n"
		   "                           default " VM_STATE_DIR_DEFAULT ")\n"
		   "  -h, --help               this text\n"
		   "  -V, --version            print the version\n"
		   "\n"
		   "Exit status: 0, 64 usage (also an input the image does not declare), 65\n"
		   "IMAGE is not qcow2 or a file is malformed,\n"
		   "66 IMAGE or a file is missing, 69 qemu-img is missing, 73 NAME exists or\n"
		   "the state cannot be written, 78 the state is corrupt.\n");
}

struct input {
	const char *name, *file;
};

struct create {
	const char *name, *image, *memory, *cpus, *disk_size, *net, *user_data, *meta_data, *network_config, *ssh_key,
		*accel;
	const char *forwards[VM_FORWARDS_MAX];
	size_t nforwards;
	struct input inputs[INPUTS_MAX];
	size_t ninputs;
};

/* [tcp|udp:][ADDR:]PORT:GUEST-PORT, ADDR an IPv4 address (QEMU's
 * user-mode forwards take no other). */
bool vm_parse_forward(const char *s, struct vm_forward *f)
{
	char copy[128], *part[4], *p = copy;
	struct in_addr ia;
	int n = 0, i = 0;
	long port;

	memset(f, 0, sizeof(*f));
	if (snprintf(copy, sizeof(copy), "%s", s) >= (int)sizeof(copy))
		return false;
	/* Split at every ':', keeping empty fields (which are then wrong). */
	for (;;) {
		char *colon = strchr(p, ':');

		if (n == 4)
			return false;
		part[n++] = p;
		if (!colon)
			break;
		*colon = '\0';
		p = colon + 1;
	}
	if (n < 2)
		return false;
	if (!strcmp(part[0], "tcp") || !strcmp(part[0], "udp")) {
		f->udp = part[0][0] == 'u';
		i = 1;
	}
	if (n - i == 3) {
		if (inet_pton(AF_INET, part[i], &ia) != 1)
			return false;
		snprintf(f->host_addr, sizeof(f->host_addr), "%s", part[i]);
		i++;
	} else if (n - i != 2) {
		return false;
	}
	if (!isim_parse_long(part[i], 1, 65535, &port))
		return false;
	f->host_port = (uint16_t)port;
	if (!isim_parse_long(part[i + 1], 1, 65535, &port))
		return false;
	f->guest_port = (uint16_t)port;
	if (!f->host_addr[0])
		snprintf(f->host_addr, sizeof(f->host_addr), "127.0.0.1");
	return true;
}

/* The image: a path, or a template's name. Its real path into v. */
static int find_image(const struct vm_ctx *c, const char *image, struct vm *v)
{
	char path[PATH_MAX + 64];

	bool template = !strchr(image, '/') && !strstr(image, ".qcow2");

	if (!template)
		snprintf(path, sizeof(path), "%s", image);
	else
		snprintf(path, sizeof(path), "%s/" VM_TEMPLATES "/%s.qcow2", c->state_dir, image);
	if (!realpath(path, v->image)) {
		fprintf(stderr, PROG ": %s: %s%s\n", path, strerror(errno), template ? " (no such template)" : "");
		return ISIM_EXIT_NOINPUT;
	}
	if (strchr(v->image, ',')) {
		fprintf(stderr, PROG ": %s: QEMU cannot take a path with a comma\n", v->image);
		return ISIM_EXIT_USAGE;
	}
	return 0;
}

/* qemu-img's word on the image: it is qcow2, and its virtual size. */
static int image_info(const struct vm *v, uint64_t *size)
{
	const char *argv[] = { "qemu-img", "info", "--output=json", "-U", v->image, NULL };
	struct isim_buf out = { 0 };
	struct isim_run r = { .argv = argv, .out = &out };
	struct isim_error err;
	const cJSON *fmt, *vs;
	cJSON *doc = NULL;
	int rc = 0;

	isim_error_clear(&err);
	if (isim_run(&r, NULL, &err) < 0) {
		if (err.kind == ISIM_ERR_UNAVAILABLE) {
			rc = isim_fail(PROG, &err);
		} else {
			fprintf(stderr, PROG ": %s: not a disk image qemu-img can read\n", v->image);
			rc = ISIM_EXIT_DATAERR;
		}
		goto out;
	}
	if (isim_json_parse(out.s ? out.s : "", out.len, "qemu-img info", &doc, &err) < 0) {
		rc = isim_fail(PROG, &err);
		goto out;
	}
	fmt = cJSON_GetObjectItemCaseSensitive(doc, "format");
	vs = cJSON_GetObjectItemCaseSensitive(doc, "virtual-size");
	if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "qcow2") || !cJSON_IsNumber(vs)) {
		fprintf(stderr, PROG ": %s: not a qcow2 image (qemu-img says '%s')\n", v->image,
			cJSON_IsString(fmt) ? fmt->valuestring : "?");
		rc = ISIM_EXIT_DATAERR;
		goto out;
	}
	*size = (uint64_t)vs->valuedouble;
out:
	cJSON_Delete(doc);
	isim_buf_free(&out);
	return rc;
}

/* An input as VM_INPUTS records it: a secret one without its value. */
static int note_input(cJSON *list, const char *name, const char *dest, bool secret, const char *file)
{
	cJSON *o = cJSON_CreateObject();
	struct isim_error err;
	char *text = NULL;
	size_t len;
	int rc = 0;

	isim_error_clear(&err);
	if (!o || !cJSON_AddItemToArray(list, o) || !cJSON_AddStringToObject(o, "name", name) ||
	    !cJSON_AddStringToObject(o, "destination", dest) || !cJSON_AddBoolToObject(o, "secret", secret))
		return ISIM_EXIT_SOFTWARE;
	if (secret)
		return 0;
	if (isim_file_read(file, CLOUD_FILE_MAX, &text, &len, &err) < 0)
		return isim_fail(PROG, &err);
	if (strlen(text) == len && isim_utf8_valid(text, len) && !cJSON_AddStringToObject(o, "value", text))
		rc = ISIM_EXIT_SOFTWARE;
	free(text);
	return rc;
}

/* VM_INPUTS beside the seed, 0600 like it. */
static int write_inputs(const struct vm *v, const cJSON *list)
{
	char path[4300], *text = isim_json_print(list, true), *slash;
	struct isim_error err;
	int rc = 0;

	isim_error_clear(&err);
	snprintf(path, sizeof(path), "%s", v->seed);
	slash = strrchr(path, '/');
	if (!text || !slash)
		rc = ISIM_EXIT_SOFTWARE;
	else if (snprintf(slash + 1, sizeof(path) - (size_t)(slash + 1 - path), VM_INPUTS) < 0 ||
		 isim_file_write_atomic(path, text, strlen(text), 0600, &err) < 0)
		rc = isim_fail(PROG, &err);
	free(text);
	return rc;
}

/* The boot-time inputs the image's manifest declares, from the statement
 * isim-build wrote beside it. */
static int add_inputs(const struct create *o, const struct vm *v, struct isim_nocloud *seed)
{
	char stmt[PATH_MAX + 32], *dot;
	const cJSON *inputs, *in;
	struct isim_error err;
	cJSON *doc = NULL;
	cJSON *list = NULL;
	size_t i;
	int rc = 0;

	if (!o->ninputs)
		return 0;
	if (!(list = cJSON_CreateArray()))
		return ISIM_EXIT_SOFTWARE;
	snprintf(stmt, sizeof(stmt), "%s", v->image);
	dot = strrchr(stmt, '.');
	if (dot && !strcmp(dot, ".qcow2"))
		*dot = '\0';
	strncat(stmt, ".provenance.json", sizeof(stmt) - strlen(stmt) - 1);
	isim_error_clear(&err);
	if (isim_json_load_file(stmt, &doc, &err) < 0) {
		char msg[2048];

		isim_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, PROG ": --input: the image's manifest is needed: %s\n", msg);
		rc = isim_exit_code(err.kind);
		goto out;
	}
	inputs = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "predicate"),
								 "buildDefinition"),
				"externalParameters"),
			"manifest"),
		"inputs");
	for (i = 0; i < o->ninputs; i++) {
		const cJSON *dest = NULL;
		bool secret = true;

		cJSON_ArrayForEach (in, inputs) {
			const cJSON *n = cJSON_GetObjectItemCaseSensitive(in, "name");

			if (cJSON_IsString(n) && !strcmp(n->valuestring, o->inputs[i].name)) {
				dest = cJSON_GetObjectItemCaseSensitive(in, "destination");
				secret = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(in, "secret"));
			}
		}
		if (!cJSON_IsString(dest)) {
			fprintf(stderr, PROG ": --input %s: the image has no input of that name (%s)\n",
				o->inputs[i].name, stmt);
			rc = ISIM_EXIT_USAGE;
			goto out;
		}
		if (isim_nocloud_add_file(seed, dest->valuestring, o->inputs[i].file, CLOUD_FILE_MAX, secret, &err) <
		    0) {
			rc = isim_fail(PROG, &err);
			goto out;
		}
		if ((rc = note_input(list, o->inputs[i].name, dest->valuestring, secret, o->inputs[i].file)))
			goto out;
	}
	rc = write_inputs(v, list);
out:
	cJSON_Delete(list);
	cJSON_Delete(doc);
	return rc;
}

/* Read a small file the seed takes as it is. */
static int slurp(const char *opt, const char *path, char **text, size_t *len)
{
	struct isim_error err;

	isim_error_clear(&err);
	if (isim_file_read(path, CLOUD_FILE_MAX, text, len, &err) < 0) {
		char msg[2048];

		isim_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, PROG ": %s: %s\n", opt, msg);
		return isim_exit_code(err.kind);
	}
	return 0;
}

static int make_seed(const struct create *o, const struct vm *v)
{
	struct isim_nocloud *seed = NULL;
	struct isim_error err;
	char *text = NULL, *nl;
	size_t len;
	int rc = 0;

	isim_error_clear(&err);
	if (isim_nocloud_new(v->uuid, v->name, "isim-vm create", &seed, &err) < 0)
		return isim_fail(PROG, &err);
	if ((rc = add_inputs(o, v, seed)))
		goto out;
	if (o->user_data) {
		if ((rc = slurp("--user-data", o->user_data, &text, &len)))
			goto out;
		if (isim_nocloud_user_data(seed, text, len, &err) < 0) {
			isim_error_at(&err, o->user_data, 0, 0);
			goto fail;
		}
		free(text);
		text = NULL;
	}
	if (o->meta_data) {
		if ((rc = slurp("--meta-data", o->meta_data, &text, &len)))
			goto out;
		if (isim_nocloud_meta_data(seed, text, len, &err) < 0)
			goto fail;
		free(text);
		text = NULL;
	}
	if (o->network_config) {
		if ((rc = slurp("--network-config", o->network_config, &text, &len)))
			goto out;
		if (isim_nocloud_network_config(seed, text, len, &err) < 0)
			goto fail;
		free(text);
		text = NULL;
	}
	if (o->ssh_key) {
		if ((rc = slurp("--ssh-key", o->ssh_key, &text, &len)))
			goto out;
		if ((nl = memchr(text, '\n', len)) && (size_t)(nl - text) + 1 == len)
			*nl = '\0';
		if (isim_nocloud_ssh_key(seed, text, &err) < 0) {
			isim_error_at(&err, o->ssh_key, 0, 0);
			goto fail;
		}
	}
	if (isim_nocloud_write(seed, v->seed, &err) < 0)
		goto fail;
	/* It may hold secrets (the inputs): only the VM's owner reads it. */
	if (chmod(v->seed, 0600) < 0) {
		fprintf(stderr, PROG ": %s: %s\n", v->seed, strerror(errno));
		rc = ISIM_EXIT_CANTCREAT;
	}
	goto out;
fail:
	rc = isim_fail(PROG, &err);
out:
	free(text);
	isim_nocloud_free(seed);
	return rc;
}

int vm_make_disk(const char *prog, const struct vm *v)
{
	char size[32];
	const char *argv[] = { "qemu-img", "create", "-q",     "-f",	"qcow2", "-F",
			       "qcow2",	   "-b",     v->image, v->disk, size,	 NULL };
	struct isim_run r = { .argv = argv };
	struct isim_error err;

	snprintf(size, sizeof(size), "%llu", (unsigned long long)v->disk_size);
	isim_error_clear(&err);
	if (isim_run(&r, NULL, &err) < 0)
		return isim_fail(prog, &err);
	return 0;
}

static void new_uuid(char out[static 37])
{
	uint8_t b[16];

	randombytes_buf(b, sizeof(b));
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 (RFC 9562) */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
		 b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

int vm_create_main(int argc, char *argv[])
{
	enum {
		O_DISK = VM_OPT_LOCAL,
		O_NET,
		O_UD,
		O_MD,
		O_NC,
		O_SSH,
		O_INPUT,
		O_ACCEL
	};
	static const struct option opts[] = {
		VM_LONGOPTS,
		{ "image", required_argument, NULL, 'i' },
		{ "memory", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "disk-size", required_argument, NULL, O_DISK },
		{ "net", required_argument, NULL, O_NET },
		{ "forward", required_argument, NULL, 'p' },
		{ "user-data", required_argument, NULL, O_UD },
		{ "meta-data", required_argument, NULL, O_MD },
		{ "network-config", required_argument, NULL, O_NC },
		{ "ssh-key", required_argument, NULL, O_SSH },
		{ "input", required_argument, NULL, O_INPUT },
		{ "accel", required_argument, NULL, O_ACCEL },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_getopt g = { .prog = PROG, .shortopts = "i:m:c:p:hV", .longopts = opts, .usage = vm_create_usage };
	struct vm_opts vo = { 0 };
	struct create o = { 0 };
	struct vm_ctx c = { .lock_fd = -1 };
	struct vm *v = calloc(1, sizeof(*v));
	char tmp[4200], *eq;
	uint64_t image_size = 0;
	long n;
	size_t i;
	int ch, rc = ISIM_EXIT_USAGE;
	bool made = false, created = false, ours = false;

	if (!v) {
		fprintf(stderr, PROG ": out of memory\n");
		return ISIM_EXIT_SOFTWARE;
	}
	while ((ch = isim_getopt_shared(&g, vm_option, &vo, argc, argv)) != -1) {
		const char **slot = NULL, *name = NULL;

		switch (ch) {
		case ISIM_GETOPT_EXIT:
			rc = g.rc;
			goto out;
		case 'i':
			slot = &o.image, name = "--image";
			break;
		case 'm':
			slot = &o.memory, name = "--memory";
			break;
		case 'c':
			slot = &o.cpus, name = "--cpus";
			break;
		case O_DISK:
			slot = &o.disk_size, name = "--disk-size";
			break;
		case O_NET:
			slot = &o.net, name = "--net";
			break;
		case O_UD:
			slot = &o.user_data, name = "--user-data";
			break;
		case O_MD:
			slot = &o.meta_data, name = "--meta-data";
			break;
		case O_NC:
			slot = &o.network_config, name = "--network-config";
			break;
		case O_SSH:
			slot = &o.ssh_key, name = "--ssh-key";
			break;
		case O_ACCEL:
			slot = &o.accel, name = "--accel";
			break;
		case 'p':
			if (o.nforwards == VM_FORWARDS_MAX) {
				isim_usage_error(PROG, "--forward: at most %d", VM_FORWARDS_MAX);
				goto out;
			}
			o.forwards[o.nforwards++] = optarg;
			continue;
		case O_INPUT:
			eq = strchr(optarg, '=');
			if (!eq || eq == optarg || !eq[1]) {
				isim_bad_value(PROG, "--input", optarg, "NAME=FILE");
				goto out;
			}
			if (o.ninputs == INPUTS_MAX) {
				isim_usage_error(PROG, "--input: at most %d", INPUTS_MAX);
				goto out;
			}
			*eq = '\0';
			o.inputs[o.ninputs++] = (struct input){ optarg, eq + 1 };
			continue;
		}
		if (slot && isim_opt_once(PROG, name, slot, optarg))
			goto out;
	}
	if (optind >= argc) {
		isim_usage_error(PROG, "NAME is required");
		goto out;
	}
	if (optind + 1 < argc) {
		isim_usage_error(PROG, "unexpected argument '%.64s'", argv[optind + 1]);
		goto out;
	}
	o.name = argv[optind];
	if (!vm_name_valid(o.name)) {
		isim_bad_value(PROG, "NAME", o.name, VM_NAME_RULE);
		goto out;
	}
	if (!o.image) {
		isim_usage_error(PROG, "--image IMAGE is required");
		goto out;
	}
	snprintf(v->name, sizeof(v->name), "%s", o.name);
	v->memory_mib = 1024;
	v->cpus = 1;
	if (o.memory) {
		if (!isim_parse_long(o.memory, 16, 1 << 20, &n)) {
			isim_bad_value(PROG, "--memory", o.memory, "MiB from 16 to 1048576");
			goto out;
		}
		v->memory_mib = (unsigned)n;
	}
	if (o.cpus) {
		if (!isim_parse_long(o.cpus, 1, 256, &n)) {
			isim_bad_value(PROG, "--cpus", o.cpus, "a number of CPUs from 1 to 256");
			goto out;
		}
		v->cpus = (unsigned)n;
	}
	if (o.disk_size && !vm_parse_size(o.disk_size, &v->disk_size)) {
		isim_bad_value(PROG, "--disk-size", o.disk_size, "a size in bytes, or with K, M, G or T");
		goto out;
	}
	snprintf(v->accel, sizeof(v->accel), "%s", o.accel ? o.accel : "auto");
	if (strcmp(v->accel, "auto") && strcmp(v->accel, "kvm") && strcmp(v->accel, "tcg")) {
		isim_bad_value(PROG, "--accel", o.accel, "auto, kvm or tcg");
		goto out;
	}
	snprintf(v->net, sizeof(v->net), "user");
	if (o.net && !strncmp(o.net, "tap:", 4)) {
		if (!o.net[4] || strlen(o.net + 4) > 15 || strpbrk(o.net + 4, ",/ ")) {
			isim_bad_value(PROG, "--net", o.net, "user, none or tap:IF");
			goto out;
		}
		snprintf(v->net, sizeof(v->net), "tap");
		snprintf(v->tap, sizeof(v->tap), "%s", o.net + 4);
	} else if (o.net && strcmp(o.net, "user") && strcmp(o.net, "none")) {
		isim_bad_value(PROG, "--net", o.net, "user, none or tap:IF");
		goto out;
	} else if (o.net) {
		snprintf(v->net, sizeof(v->net), "%s", o.net);
	}
	if (o.nforwards && strcmp(v->net, "user")) {
		isim_usage_error(PROG, "--forward needs --net user");
		goto out;
	}
	for (i = 0; i < o.nforwards; i++) {
		size_t j;

		if (!vm_parse_forward(o.forwards[i], &v->forwards[i])) {
			isim_bad_value(PROG, "--forward", o.forwards[i], "[tcp|udp:][ADDR:]PORT:GUEST-PORT");
			goto out;
		}
		for (j = 0; j < i; j++) {
			if (v->forwards[j].host_port == v->forwards[i].host_port &&
			    v->forwards[j].udp == v->forwards[i].udp) {
				isim_usage_error(PROG, "--forward: host port %u given twice", v->forwards[i].host_port);
				goto out;
			}
		}
	}
	v->nforwards = o.nforwards;
	if (o.meta_data && o.ssh_key) {
		isim_usage_error(PROG,
				 "--ssh-key goes into the generated meta-data: put public-keys in --meta-data instead");
		goto out;
	}

	/* What can be refused is, before the state is touched. */
	if ((rc = vm_init(&c, PROG, &vo)) || (rc = vm_paths(&c, o.name, v)) || (rc = find_image(&c, o.image, v)) ||
	    (rc = image_info(v, &image_size)))
		goto out;
	if (!v->disk_size)
		v->disk_size = image_size;
	if (v->disk_size < image_size) {
		fprintf(stderr, PROG ": --disk-size: %llu bytes is smaller than the image (%llu bytes)\n",
			(unsigned long long)v->disk_size, (unsigned long long)image_size);
		rc = ISIM_EXIT_USAGE;
		goto out;
	}
	if ((rc = vm_open(&c, PROG, &vo, true)) || (rc = vm_lock(&c, o.name)))
		goto out;
	/* The lock's file is this create's to remove if it fails, unless the
	 * name is another VM's. */
	ours = !vm_exists(&c, o.name);
	if (vm_exists(&c, o.name) || access(v->dir, F_OK) == 0) {
		fprintf(stderr, PROG ": a VM '%s' exists already\n", o.name);
		rc = ISIM_EXIT_CANTCREAT;
		goto out;
	}
	new_uuid(v->uuid);
	v->created_at = vm_now();
	/* Made in a folder of its own, and named only once whole. */
	{
		struct isim_error err;

		isim_error_clear(&err);
		if (isim_pathf(tmp, sizeof(tmp), &err, "%s/" VM_DIR "/.%s.new", c.state_dir, o.name) < 0) {
			rc = isim_fail(PROG, &err);
			goto out;
		}
	}
	isim_rmtree(tmp);
	if (mkdir(tmp, 0700) < 0) {
		fprintf(stderr, PROG ": %s: %s\n", tmp, strerror(errno));
		rc = ISIM_EXIT_CANTCREAT;
		goto out;
	}
	made = true;
	{
		struct vm staged = *v;

		struct isim_error err;

		isim_error_clear(&err);
		if (isim_pathf(staged.disk, sizeof(staged.disk), &err, "%s/disk.qcow2", tmp) < 0 ||
		    isim_pathf(staged.seed, sizeof(staged.seed), &err, "%s/cidata.iso", tmp) < 0) {
			rc = isim_fail(PROG, &err);
			goto out;
		}
		if ((rc = vm_make_disk(PROG, &staged)) || (rc = make_seed(&o, &staged)))
			goto out;
	}
	if (rename(tmp, v->dir) < 0) {
		fprintf(stderr, PROG ": %s: %s\n", v->dir, strerror(errno));
		rc = ISIM_EXIT_CANTCREAT;
		goto out;
	}
	made = false;
	if ((rc = vm_save(&c, v, true))) {
		isim_rmtree(v->dir);
		goto out;
	}
	vm_record(&c, v->name, "create", true, v->image);
	created = true;
	/* Made all the same: KVM may work by the time it starts. */
	if (!strcmp(v->accel, "kvm")) {
		struct isim_error why;

		isim_error_clear(&why);
		if (!isim_kvm_usable(&why))
			fprintf(stderr,
				PROG
				": warning: VM '%s' asks for KVM, which does not work here: %s (isim-vm start will "
				"refuse it; --accel tcg or auto)\n",
				v->name, why.msg);
	}
	rc = vm_print(PROG, vm_json(&c, v, true));
out:
	if (made)
		isim_rmtree(tmp);
	/* A VM not made leaves no lock behind. */
	if (ours && !created)
		vm_unlock_remove(&c);
	vm_close(&c);
	free(v);
	return rc;
}
