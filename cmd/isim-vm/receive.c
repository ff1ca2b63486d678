/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/options.h"
#include "isim/file.h"
#include "isim/json.h"
#include "isim/nocloud.h"
#include "vm.h"

#define PROG "isim-vm receive"

void vm_receive_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " NAME --listen ADDR:PORT --from FILE [--forward SPEC]...\n"
		   "       [--state-dir DIR]\n"
		   "\n"
		   "Make the VM NAME here as the JSON of `isim-vm show NAME` on the other host\n"
		   "describes it (FILE, or - for standard input): the same image (at the same\n"
		   "path), memory, CPUs, disk size and network, so that both QEMU command lines\n"
		   "come from one description; start its QEMU waiting for a migration on\n"
		   "ADDR:PORT, and return. `isim-vm migrate NAME --to ADDR:PORT` on the other\n"
		   "host then moves the running guest here. Its disk, a new overlay on the\n"
		   "image, receives the source's. Its \"accel\" is resolved here, as isim-vm\n"
		   "start does (auto: KVM if it works here); both ends should use the same.\n"
		   "Prints the VM, with \"listen\".\n"
		   "\n"
		   "  -l, --listen ADDR:PORT   where to wait for the migration (an IPv4 address)\n"
		   "      --from FILE          the source's isim-vm show output\n"
		   "  -p, --forward SPEC       forwards instead of the source's (as isim-vm create\n"
		   "                           takes them; repeatable)\n" VM_USAGE_COMMON
		   "  -h, --help               this text\n"
		   "  -V, --version            print the version\n"
		   "\n"
		   "Exit status: 0, 64 usage, 65 FILE is not isim-vm show's JSON, 66 FILE or\n"
		   "the image is missing, 69 QEMU did not start, a port is in use or the VM asks\n"
		   "for KVM and KVM does not work here, 73 NAME, or a VM of its uuid (one that\n"
		   "migrated away from here, say), exists here.\n");
}

static const char *text_of(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool num_of(const cJSON *o, const char *k, double lo, double hi, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > hi)
		return false;
	*out = v->valuedouble;
	return true;
}

/* The description of `isim-vm show` into v. 0, or 65 naming the field. */
static int from_show(const char *path, const cJSON *d, struct vm *v)
{
	const char *image = text_of(d, "image"), *uuid = text_of(d, "uuid"), *accel = text_of(d, "accel"),
		   *net = text_of(d, "network"), *bad = NULL;
	const cJSON *fw = cJSON_GetObjectItemCaseSensitive(d, "forwards"), *f;
	double mem, cpus, size;

	if (!cJSON_IsObject(d))
		bad = "";
	else if (!image || *image != '/')
		bad = "/image";
	else if (!uuid || strlen(uuid) != 36)
		bad = "/uuid";
	else if (!num_of(d, "memory_mib", 16, 1 << 20, &mem))
		bad = "/memory_mib";
	else if (!num_of(d, "cpus", 1, 256, &cpus))
		bad = "/cpus";
	else if (!num_of(d, "disk_size", 1, 9e18, &size))
		bad = "/disk_size";
	else if (!accel || (strcmp(accel, "auto") && strcmp(accel, "tcg") && strcmp(accel, "kvm")))
		bad = "/accel";
	else if (!net || (strcmp(net, "user") && strcmp(net, "none") && strcmp(net, "tap")))
		bad = "/network";
	if (bad || !image || !uuid || !accel || !net) {
		fprintf(stderr, PROG ": %s: %s: not what isim-vm show prints\n", path, bad && *bad ? bad : "/");
		return ISIM_EXIT_DATAERR;
	}
	snprintf(v->image, sizeof(v->image), "%s", image);
	snprintf(v->uuid, sizeof(v->uuid), "%s", uuid);
	v->memory_mib = (unsigned)mem;
	v->cpus = (unsigned)cpus;
	v->disk_size = (uint64_t)size;
	snprintf(v->accel, sizeof(v->accel), "%s", accel);
	snprintf(v->net, sizeof(v->net), "%s", net);
	snprintf(v->tap, sizeof(v->tap), "%s", text_of(d, "tap") ? text_of(d, "tap") : "");
	cJSON_ArrayForEach (f, fw) {
		struct vm_forward *w;
		double hp, gp;

		if (v->nforwards == VM_FORWARDS_MAX || !num_of(f, "host_port", 1, 65535, &hp) ||
		    !num_of(f, "guest_port", 1, 65535, &gp) || !text_of(f, "host_addr")) {
			fprintf(stderr, PROG ": %s: /forwards: not what isim-vm show prints\n", path);
			return ISIM_EXIT_DATAERR;
		}
		w = &v->forwards[v->nforwards++];
		w->udp = text_of(f, "protocol") && !strcmp(text_of(f, "protocol"), "udp");
		snprintf(w->host_addr, sizeof(w->host_addr), "%s", text_of(f, "host_addr"));
		w->host_port = (uint16_t)hp;
		w->guest_port = (uint16_t)gp;
	}
	return 0;
}

static int parse_listen(const char *s, char *addr, size_t size, long *port)
{
	const char *colon = strrchr(s, ':');
	struct in_addr ia;

	if (!colon || (size_t)(colon - s) >= size)
		return -1;
	memcpy(addr, s, (size_t)(colon - s));
	addr[colon - s] = '\0';
	if (inet_pton(AF_INET, addr, &ia) != 1 || !isim_parse_long(colon + 1, 1, 65535, port))
		return -1;
	return 0;
}

int vm_receive_main(int argc, char *argv[])
{
	enum {
		O_FROM = VM_OPT_LOCAL
	};
	static const struct option opts[] = {
		VM_LONGOPTS,
		{ "listen", required_argument, NULL, 'l' },
		{ "from", required_argument, NULL, O_FROM },
		{ "forward", required_argument, NULL, 'p' },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	static const char *const caps_set[] = { "events", "block", "return-path" };
	struct isim_getopt g = { .prog = PROG, .shortopts = "l:p:hV", .longopts = opts, .usage = vm_receive_usage };
	struct vm_opts o = { 0 };
	struct vm_ctx c = { .lock_fd = -1 };
	struct vm *v = calloc(1, sizeof(*v));
	const char *name, *listen = NULL, *from = NULL, *forwards[VM_FORWARDS_MAX];
	struct isim_nocloud *seed = NULL;
	struct isim_qmp *q = NULL;
	struct isim_error err;
	cJSON *desc = NULL, *args = NULL, *caps, *cap, *doc;
	char addr[64], uri[96], other[64];
	size_t nforwards = 0, i;
	long port;
	bool made = false, created = false, ours = false;
	struct stat st;
	int rc = ISIM_EXIT_USAGE;
	const struct vm_arg own[] = {
		VM_ARG_TEXT('l', "--listen", &listen),
		VM_ARG_TEXT(O_FROM, "--from", &from),
		VM_ARG_LIST('p', "--forward", forwards, &nforwards, VM_FORWARDS_MAX),
		VM_ARG_END,
	};

	if (!v)
		return ISIM_EXIT_SOFTWARE;
	if ((rc = vm_parse(&g, &o, own, argc, argv, &name)))
		goto out;
	if (!listen || !from) {
		rc = isim_usage_error(PROG, "--listen ADDR:PORT and --from FILE are required");
		goto out;
	}
	if (parse_listen(listen, addr, sizeof(addr), &port) < 0) {
		rc = isim_bad_value(PROG, "--listen", listen, "ADDR:PORT, ADDR an IPv4 address");
		goto out;
	}
	isim_error_clear(&err);
	if (isim_json_load_file(from, &desc, &err) < 0) {
		rc = isim_fail(PROG, &err);
		goto out;
	}
	snprintf(v->name, sizeof(v->name), "%s", name);
	if ((rc = from_show(from, desc, v)))
		goto out;
	if (nforwards) {
		v->nforwards = nforwards;
		for (i = 0; i < nforwards; i++) {
			if (!vm_parse_forward(forwards[i], &v->forwards[i])) {
				rc = isim_bad_value(PROG, "--forward", forwards[i], "[tcp|udp:][ADDR:]PORT:GUEST-PORT");
				goto out;
			}
		}
	}
	if (stat(v->image, &st) < 0) {
		fprintf(stderr, PROG ": %s: the image must be here at the same path: %s\n", v->image, strerror(errno));
		rc = ISIM_EXIT_NOINPUT;
		goto out;
	}
	if ((rc = vm_init(&c, PROG, &o)) || (rc = vm_paths(&c, name, v)) || (rc = vm_open(&c, PROG, &o, true)) ||
	    (rc = vm_lock(&c, name)))
		goto out;
	ours = !vm_exists(&c, name);
	if (!ours || access(v->dir, F_OK) == 0) {
		fprintf(stderr, PROG ": a VM '%s' exists already\n", name);
		rc = ISIM_EXIT_CANTCREAT;
		goto out;
	}
	/* A VM migrated away from here is still recorded, stopped: the
	 * operator says whether it may go. */
	if (vm_uuid_taken(&c, v->uuid, other, sizeof(other))) {
		fprintf(stderr, PROG ": %s: /uuid: VM '%s' here has the uuid '%s' already (destroy it first)\n", from,
			other, v->uuid);
		rc = ISIM_EXIT_CANTCREAT;
		goto out;
	}
	if (mkdir(v->dir, 0700) < 0) {
		fprintf(stderr, PROG ": %s: %s\n", v->dir, strerror(errno));
		rc = ISIM_EXIT_CANTCREAT;
		goto out;
	}
	made = true;
	/* The same devices as the source's: the disk (whose content comes
	 * with the migration) and a seed of the same identity. */
	if ((rc = vm_make_disk(PROG, v)))
		goto out;
	if (isim_nocloud_new(v->uuid, v->name, "isim-vm receive", &seed, &err) < 0 ||
	    isim_nocloud_write(seed, v->seed, &err) < 0) {
		rc = isim_fail(PROG, &err);
		goto out;
	}
	v->created_at = vm_now();
	if ((rc = vm_save(&c, v, true)))
		goto out;
	created = true;
	if ((rc = vm_start_qemu(&c, v, "defer")) || (rc = vm_qmp(&c, v, &q)))
		goto out;
	/* As the source sets them (migrate.c): events, the disk, and the
	 * return path, on which this QEMU tells the source it has loaded
	 * everything (or not). */
	args = cJSON_CreateObject();
	caps = cJSON_AddArrayToObject(args, "capabilities");
	for (i = 0; i < sizeof(caps_set) / sizeof(caps_set[0]); i++) {
		cap = cJSON_CreateObject();
		cJSON_AddStringToObject(cap, "capability", caps_set[i]);
		cJSON_AddBoolToObject(cap, "state", true);
		cJSON_AddItemToArray(caps, cap);
	}
	snprintf(uri, sizeof(uri), "tcp:%s:%ld", addr, port);
	if (isim_qmp_execute(q, "migrate-set-capabilities", args, NULL, VM_QMP_TIMEOUT_MS, &err) < 0)
		goto qmp_fail;
	cJSON_Delete(args);
	args = cJSON_CreateObject();
	cJSON_AddStringToObject(args, "uri", uri);
	if (isim_qmp_execute(q, "migrate-incoming", args, NULL, VM_QMP_TIMEOUT_MS, &err) < 0) {
		fprintf(stderr, PROG ": --listen %s: QEMU cannot wait for the migration there: %s\n", listen, err.msg);
		vm_record(&c, name, "receive", false, err.msg);
		vm_signal(v, SIGKILL);
		rc = ISIM_EXIT_UNAVAILABLE;
		goto out;
	}
	vm_record(&c, name, "receive", true, listen);
	doc = vm_json(&c, v, true);
	if (doc)
		cJSON_AddStringToObject(doc, "listen", listen);
	rc = vm_print(PROG, doc);
	goto out;
qmp_fail:
	isim_print_error(PROG, &err);
	vm_record(&c, name, "receive", false, err.msg);
	vm_signal(v, SIGKILL);
	rc = ISIM_EXIT_UNAVAILABLE;
out:
	if (rc && created) {
		(void)vm_delete(&c, name);
		created = false;
	}
	if (rc && made)
		isim_rmtree(v->dir);
	if (ours && !created)
		vm_unlock_remove(&c);
	isim_qmp_close(q);
	isim_nocloud_free(seed);
	cJSON_Delete(args);
	cJSON_Delete(desc);
	vm_close(&c);
	free(v);
	return rc;
}
