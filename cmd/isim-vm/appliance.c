/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "common/cli.h"
#include "common/options.h"
#include "common/secret.h"
#include "isim/appliance.h"
#include "isim/archive.h"
#include "isim/buf.h"
#include "isim/file.h"
#include "isim/hash.h"
#include "isim/json.h"
#include "isim/run.h"
#include "isim/sde.h"
#include "vm.h"

#define PROG "isim-vm appliance"
/* What the seed's user-data and meta-data may be, at most. */
#define SEED_FILE_MAX (16u << 20)
#define COMPRESSOR "pigz"
#define WG_FEATURE "vpn-wireguard"
#define WG_KEY_DEFAULT "/etc/infrasim/secrets/wg_private_key"

void vm_appliance_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " NAME -o FILE [--sign-key KEY [--password-fd N]] [--include-secrets]\n"
		   "       [--force] [--state-dir DIR]\n"
		   "\n"
		   "Write the stopped VM NAME as an appliance archive (a gzip'ed tar): disk.qcow2\n"
		   "(its disk flattened onto its image), cloud-init/user-data and meta-data (its\n"
		   "seed's), wireguard/wg0.conf (when its image has the " WG_FEATURE " feature and\n"
		   "the VM a wg_address input; the private key stays on the node), terraform/\n"
		   "main.tf (a deployment on a libvirt host), and manifest.json listing each\n"
		   "member with its size and SHA-256; with a key, manifest.json.minisig. The same\n"
		   "VM under the same SOURCE_DATE_EPOCH gives the same bytes. isim-verify\n"
		   "appliance checks one. Prints {\"name\", \"path\", \"size\", \"sha256\",\n"
		   "\"manifest_sha256\", \"members\" [paths], \"signed\", \"secrets\"}.\n"
		   "\n"
		   "  -o, --output FILE       the archive (written whole or not at all)\n"
		   "  -k, --sign-key KEY      sign the manifest with this minisign secret key\n"
		   "                          (default $ISIM_SIGN_KEY; --key is the same)\n"
		   "      --password-fd N     read the key's password from descriptor N\n"
		   "      --include-secrets   a VM given secret inputs: put them in (the archive\n"
		   "                          is then mode 0600); without it such a VM is refused\n"
		   "  -f, --force             replace FILE if it exists\n" VM_USAGE_COMMON
		   "  -h, --help              this text\n"
		   "  -V, --version           print the version\n"
		   "\n"
		   "Exit status: 0, 64 usage (also secret inputs without --include-secrets), 65\n"
		   "bad key, 66 no such VM, 69 the VM is not stopped, or " COMPRESSOR " or qemu-img\n"
		   "is missing, 70 qemu-img failed, 73 FILE exists (without --force) or cannot be\n"
		   "made, 74 I/O error.\n");
}

/* What the archive is made of, and what must be freed. */
struct pack {
	struct vm *v;
	cJSON *inputs;	  /* VM_INPUTS, or NULL */
	cJSON *statement; /* the image's provenance, when it is the image's */
	char image_sha256[ISIM_SHA256_HEX], statement_sha256[ISIM_SHA256_HEX];
	char *user_data, *meta_data;
	size_t user_len, meta_len;
	struct isim_buf wg, tf;
	char disk[4200]; /* the flattened disk, removed at the end */
	bool tty;
};

static const cJSON *at(const cJSON *o, const char *const *keys)
{
	for (; o && *keys; keys++)
		o = cJSON_GetObjectItemCaseSensitive(o, *keys);
	return o;
}

static const char *input_of(const struct pack *p, const char *name, bool *secret)
{
	const cJSON *in, *n, *val;

	cJSON_ArrayForEach (in, p->inputs) {
		n = cJSON_GetObjectItemCaseSensitive(in, "name");
		if (!cJSON_IsString(n) || strcmp(n->valuestring, name))
			continue;
		if (secret)
			*secret = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(in, "secret"));
		val = cJSON_GetObjectItemCaseSensitive(in, "value");
		return cJSON_IsString(val) ? val->valuestring : "";
	}
	return NULL;
}

/* The VM's secret inputs, named into buf; false when it has none. */
static bool secret_inputs(const struct pack *p, char *buf, size_t size)
{
	const cJSON *in, *n;
	size_t len = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach (in, p->inputs) {
		n = cJSON_GetObjectItemCaseSensitive(in, "name");
		if (cJSON_IsString(n) && !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(in, "secret")) &&
		    len + strlen(n->valuestring) + 3 < size)
			len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? ", " : "", n->valuestring);
	}
	return buf[0] != '\0';
}

static int load_inputs(struct pack *p)
{
	char path[4300];
	struct isim_error err;

	isim_error_clear(&err);
	snprintf(path, sizeof(path), "%s/" VM_INPUTS, p->v->dir);
	if (access(path, F_OK) < 0)
		return 0;
	if (isim_json_load_file(path, &p->inputs, &err) < 0)
		return isim_fail(PROG, &err);
	if (!cJSON_IsArray(p->inputs)) {
		fprintf(stderr, PROG ": %s: not an array\n", path);
		return ISIM_EXIT_CONFIG;
	}
	return 0;
}

/* The image's digest, and its statement (IMAGE.provenance.json) when the
 * statement's subject is this image. */
static int load_image(struct pack *p)
{
	static const char *const subject_keys[] = { "digest", "sha256", NULL };
	char stmt[4200 + 32], *dot;
	uint8_t md[ISIM_SHA256_BYTES];
	struct isim_error err;
	const cJSON *subject, *sha;

	isim_error_clear(&err);
	if (isim_sha256_file(p->v->image, md, &err) < 0)
		return isim_fail(PROG, &err);
	isim_hex(md, sizeof(md), p->image_sha256);
	snprintf(stmt, sizeof(stmt), "%s", p->v->image);
	dot = strrchr(stmt, '.');
	if (dot && !strcmp(dot, ".qcow2"))
		*dot = '\0';
	strncat(stmt, ".provenance.json", sizeof(stmt) - strlen(stmt) - 1);
	if (access(stmt, F_OK) < 0)
		return 0;
	if (isim_json_load_file(stmt, &p->statement, &err) < 0 || isim_sha256_file(stmt, md, &err) < 0) {
		/* Not this tool's to judge: the appliance just goes without. */
		fprintf(stderr, PROG ": note: %s is not used: %s\n", stmt, err.msg);
		cJSON_Delete(p->statement);
		p->statement = NULL;
		return 0;
	}
	isim_hex(md, sizeof(md), p->statement_sha256);
	subject = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(p->statement, "subject"), 0);
	sha = at(subject, subject_keys);
	if (!cJSON_IsString(sha) || strcmp(sha->valuestring, p->image_sha256)) {
		fprintf(stderr, PROG ": note: %s describes another image than %s\n", stmt, p->v->image);
		cJSON_Delete(p->statement);
		p->statement = NULL;
	}
	return 0;
}

static int load_seed(struct pack *p)
{
	struct isim_error err;

	isim_error_clear(&err);
	if (isim_iso_read(p->v->seed, "user-data", SEED_FILE_MAX, &p->user_data, &p->user_len, &err) < 0 ||
	    isim_iso_read(p->v->seed, "meta-data", SEED_FILE_MAX, &p->meta_data, &p->meta_len, &err) < 0)
		return isim_fail(PROG, &err);
	return 0;
}

/* An address as wg-quick takes it: digits, hex, '.', ':' and '/'. */
static bool address_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < 64 && strspn(s, "0123456789abcdefABCDEF.:/") == n;
}

/* wireguard/wg0.conf, when the image has the feature and the VM its
 * address. */
static int make_wg(struct pack *p)
{
	static const char *const cfg_keys[] = { "predicate", "buildDefinition", "externalParameters",
						"manifest",  "feature_config",	WG_FEATURE,
						NULL };
	static const char *const input_keys[] = { "predicate", "buildDefinition", "externalParameters",
						  "manifest",  "inputs",	  NULL };
	const cJSON *cfg = at(p->statement, cfg_keys), *iface, *port, *cidr, *in;
	const char *addr = input_of(p, "wg_address", NULL), *key = WG_KEY_DEFAULT, *prefix = NULL;
	char a[64];
	size_t n;

	if (!cJSON_IsObject(cfg) || !addr || !*addr)
		return 0;
	snprintf(a, sizeof(a), "%s", addr);
	n = strlen(a);
	while (n && (a[n - 1] == '\n' || a[n - 1] == ' ' || a[n - 1] == '\r'))
		a[--n] = '\0';
	iface = cJSON_GetObjectItemCaseSensitive(cfg, "interface");
	port = cJSON_GetObjectItemCaseSensitive(cfg, "listen_port");
	cidr = cJSON_GetObjectItemCaseSensitive(cfg, "network_cidr");
	if (!address_ok(a)) {
		fprintf(stderr, PROG ": VM '%s': its wg_address '%s' is not an address\n", p->v->name, a);
		return ISIM_EXIT_DATAERR;
	}
	if (cJSON_IsString(cidr) && address_ok(cidr->valuestring))
		prefix = strchr(cidr->valuestring, '/');
	cJSON_ArrayForEach (in, at(p->statement, input_keys)) {
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(in, "name"),
			    *dest = cJSON_GetObjectItemCaseSensitive(in, "destination");

		if (cJSON_IsString(nm) && !strcmp(nm->valuestring, "wg_private_key") && cJSON_IsString(dest) &&
		    dest->valuestring[0] == '/' && !strpbrk(dest->valuestring, " \t\r\n\"'\\$`"))
			key = dest->valuestring;
	}
	isim_buf_printf(&p->wg,
			"# wg-quick(8) configuration of %s (interface %s), from its image's " WG_FEATURE " feature.\n"
			"# The private key stays on the node: PostUp sets it from the file there.\n"
			"# Peers are admitted as they are discovered (isim-wgadmit), not listed here.\n"
			"[Interface]\n"
			"Address = %s%s\n"
			"ListenPort = %d\n"
			"PostUp = wg set %%i private-key %s\n",
			p->v->name, cJSON_IsString(iface) ? iface->valuestring : "wg0", a,
			strchr(a, '/') || !prefix ? "" : prefix, cJSON_IsNumber(port) ? port->valueint : 51820, key);
	if (cJSON_IsString(cidr) && address_ok(cidr->valuestring))
		isim_buf_printf(&p->wg, "# The mesh: %s\n", cidr->valuestring);
	return p->wg.oom ? ISIM_EXIT_SOFTWARE : 0;
}

/* terraform/main.tf: the appliance on a libvirt host, through the
 * community provider (dmacvicar/libvirt). */
static int make_tf(struct pack *p)
{
	const struct vm *v = p->v;

	isim_buf_printf(&p->tf,
			"# The appliance %s on a libvirt host: `terraform init && terraform apply`\n"
			"# in this folder, beside the unpacked archive.\n"
			"terraform {\n"
			"  required_providers {\n"
			"    libvirt = {\n"
			"      source  = \"dmacvicar/libvirt\"\n"
			"      version = \"~> 0.7\"\n"
			"    }\n"
			"  }\n"
			"}\n"
			"\n"
			"variable \"libvirt_uri\" {\n"
			"  type    = string\n"
			"  default = \"qemu:///system\"\n"
			"}\n"
			"\n"
			"variable \"pool\" {\n"
			"  type    = string\n"
			"  default = \"default\"\n"
			"}\n"
			"\n"
			"variable \"network\" {\n"
			"  type    = string\n"
			"  default = \"default\"\n"
			"}\n"
			"\n"
			"provider \"libvirt\" {\n"
			"  uri = var.libvirt_uri\n"
			"}\n"
			"\n"
			"resource \"libvirt_volume\" \"disk\" {\n"
			"  name   = \"%s.qcow2\"\n"
			"  pool   = var.pool\n"
			"  source = \"${path.module}/../disk.qcow2\"\n"
			"  format = \"qcow2\"\n"
			"}\n"
			"\n"
			"resource \"libvirt_cloudinit_disk\" \"seed\" {\n"
			"  name      = \"%s-cidata.iso\"\n"
			"  pool      = var.pool\n"
			"  user_data = file(\"${path.module}/../cloud-init/user-data\")\n"
			"  meta_data = file(\"${path.module}/../cloud-init/meta-data\")\n"
			"}\n"
			"\n"
			"resource \"libvirt_domain\" \"vm\" {\n"
			"  name      = \"%s\"\n"
			"  memory    = %u\n"
			"  vcpu      = %u\n"
			"  cloudinit = libvirt_cloudinit_disk.seed.id\n"
			"\n"
			"  disk {\n"
			"    volume_id = libvirt_volume.disk.id\n"
			"  }\n"
			"\n"
			"  network_interface {\n"
			"    network_name = var.network\n"
			"  }\n"
			"\n"
			"  console {\n"
			"    type        = \"pty\"\n"
			"    target_type = \"serial\"\n"
			"    target_port = \"0\"\n"
			"  }\n"
			"}\n",
			v->name, v->name, v->name, v->name, v->memory_mib, v->cpus);
	return p->tf.oom ? ISIM_EXIT_SOFTWARE : 0;
}

/* The disk flattened: qemu-img convert into a file beside the output
 * (same file system, so the space it takes is where the archive goes). */
static int flatten(struct pack *p, const char *out)
{
	const char *conv[] = { "qemu-img", "convert", "-q", "-f", "qcow2", "-O", "qcow2", p->v->disk, p->disk, NULL };
	const char *check[] = { "qemu-img", "check", "-q", "-f", "qcow2", p->disk, NULL };
	struct isim_run r = { .argv = conv };
	struct isim_error err;
	const char *slash = strrchr(out, '/');
	int fd, e;

	isim_error_clear(&err);
	if (slash)
		snprintf(p->disk, sizeof(p->disk), "%.*s/.%s.disk-XXXXXX", (int)(slash - out), out, slash + 1);
	else
		snprintf(p->disk, sizeof(p->disk), ".%s.disk-XXXXXX", out);
	fd = mkstemp(p->disk);
	if (fd < 0) {
		e = errno;
		fprintf(stderr, PROG ": %s: cannot create: %s\n", out, strerror(e));
		p->disk[0] = '\0';
		return e == ENOSPC || e == EIO ? ISIM_EXIT_IOERR : ISIM_EXIT_CANTCREAT;
	}
	close(fd);
	if (p->tty)
		fprintf(stderr, PROG ": %s: flattening the disk\n", p->v->name);
	if (isim_run(&r, NULL, &err) < 0)
		return isim_fail(PROG, &err);
	r.argv = check;
	if (isim_run(&r, NULL, &err) < 0) {
		fprintf(stderr, PROG ": the flattened disk is not clean:\n");
		return isim_fail(PROG, &err);
	}
	return 0;
}

static void progress(void *ctx, uint64_t done, uint64_t total)
{
	const struct pack *p = ctx;
	static int last = -1;
	int pct = total ? (int)(done * 100 / total) : 100;

	if (!p->tty || pct == last)
		return;
	last = pct;
	fprintf(stderr, "\r" PROG ": %s: disk.qcow2 %3d%%%s", p->v->name, pct, done == total ? "\n" : "");
}

static cJSON *manifest_base(const struct pack *p, time_t t)
{
	const struct vm *v = p->v;
	const char *base = strrchr(v->image, '/');
	cJSON *doc = cJSON_CreateObject(), *m, *img;
	char when[32];

	if (!doc || isim_rfc3339(t, when, sizeof(when)) < 0 ||
	    !cJSON_AddStringToObject(doc, "format", ISIM_APPLIANCE_FORMAT) ||
	    !cJSON_AddStringToObject(doc, "name", v->name) || !cJSON_AddStringToObject(doc, "id", v->uuid) ||
	    !cJSON_AddStringToObject(doc, "created_at", when) || !(m = cJSON_AddObjectToObject(doc, "machine")) ||
	    !cJSON_AddNumberToObject(m, "memory_mib", v->memory_mib) || !cJSON_AddNumberToObject(m, "cpus", v->cpus) ||
	    !cJSON_AddNumberToObject(m, "disk_size", (double)v->disk_size) ||
	    !(img = cJSON_AddObjectToObject(doc, "image")) ||
	    !cJSON_AddStringToObject(img, "name", base ? base + 1 : v->image) ||
	    !cJSON_AddStringToObject(img, "sha256", p->image_sha256) ||
	    (p->statement && !cJSON_AddStringToObject(img, "provenance_sha256", p->statement_sha256))) {
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

static int pack(struct pack *p, const char *out, bool replace, bool secrets, const struct isim_ms_seckey *sk,
		struct isim_appliance_result *res)
{
	struct isim_appliance_member m[5];
	struct isim_appliance_out o = {
		.path = out,
		.replace = replace,
		.mode = secrets ? 0600 : 0644,
		.key = sk,
		.compressor = COMPRESSOR " -n",
		.progress = progress,
		.ctx = p,
	};
	struct isim_error err;
	cJSON *base = NULL;
	size_t n = 0;
	int rc;

	isim_error_clear(&err);
	if (isim_sde_now(getenv("SOURCE_DATE_EPOCH"), &o.mtime, NULL, &err) < 0)
		return isim_fail(PROG, &err);
	if (!(base = manifest_base(p, o.mtime)))
		return ISIM_EXIT_SOFTWARE;
	if (!cJSON_AddBoolToObject(base, "secrets", secrets)) {
		cJSON_Delete(base);
		return ISIM_EXIT_SOFTWARE;
	}
	o.manifest = base;
	m[n++] = (struct isim_appliance_member){ "cloud-init/meta-data", p->meta_data, p->meta_len, NULL,
						 secrets ? 0600 : 0644 };
	m[n++] = (struct isim_appliance_member){ "cloud-init/user-data", p->user_data, p->user_len, NULL,
						 secrets ? 0600 : 0644 };
	m[n++] = (struct isim_appliance_member){ "disk.qcow2", NULL, 0, p->disk, 0644 };
	m[n++] = (struct isim_appliance_member){ "terraform/main.tf", p->tf.s, p->tf.len, NULL, 0644 };
	if (p->wg.len)
		m[n++] = (struct isim_appliance_member){ "wireguard/wg0.conf", p->wg.s, p->wg.len, NULL, 0644 };
	rc = isim_appliance_write(&o, m, n, res, &err) < 0 ? isim_fail(PROG, &err) : 0;
	cJSON_Delete(base);
	return rc;
}

static int print_result(const struct pack *p, const char *out, const struct isim_appliance_result *res, bool is_signed,
			bool secrets)
{
	cJSON *doc = cJSON_CreateObject(), *list;

	if (!doc || !cJSON_AddStringToObject(doc, "name", p->v->name) || !cJSON_AddStringToObject(doc, "path", out) ||
	    !cJSON_AddNumberToObject(doc, "size", (double)res->size) ||
	    !cJSON_AddStringToObject(doc, "sha256", res->sha256) ||
	    !cJSON_AddStringToObject(doc, "manifest_sha256", res->manifest_sha256) ||
	    !(list = cJSON_AddArrayToObject(doc, "members"))) {
		cJSON_Delete(doc);
		return ISIM_EXIT_SOFTWARE;
	}
	cJSON_AddItemToArray(list, cJSON_CreateString("cloud-init/meta-data"));
	cJSON_AddItemToArray(list, cJSON_CreateString("cloud-init/user-data"));
	cJSON_AddItemToArray(list, cJSON_CreateString("disk.qcow2"));
	cJSON_AddItemToArray(list, cJSON_CreateString("terraform/main.tf"));
	if (p->wg.len)
		cJSON_AddItemToArray(list, cJSON_CreateString("wireguard/wg0.conf"));
	cJSON_AddBoolToObject(doc, "signed", is_signed);
	cJSON_AddBoolToObject(doc, "secrets", secrets);
	return vm_print(PROG, doc);
}

static void pack_free(struct pack *p)
{
	if (p->disk[0])
		unlink(p->disk);
	if (p->user_data) {
		sodium_memzero(p->user_data, p->user_len);
		free(p->user_data);
	}
	free(p->meta_data);
	cJSON_Delete(p->inputs);
	cJSON_Delete(p->statement);
	isim_buf_free(&p->wg);
	isim_buf_free(&p->tf);
}

int vm_appliance_main(int argc, char *argv[])
{
	enum {
		O_SECRETS = VM_OPT_LOCAL
	};
	static const struct option opts[] = {
		VM_LONGOPTS,
		ISIM_LONGOPTS_KEY,
		{ "output", required_argument, NULL, 'o' },
		{ "include-secrets", no_argument, NULL, O_SECRETS },
		{ "force", no_argument, NULL, 'f' },
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_key_opt key = ISIM_KEY_OPT_INIT;
	struct isim_getopt g = {
		.prog = PROG, .shortopts = "o:k:fhV", .longopts = opts, .usage = vm_appliance_usage, .key = &key
	};
	struct vm_opts o = { 0 };
	struct vm_ctx c = { .lock_fd = -1 };
	struct pack p = { .v = calloc(1, sizeof(*p.v)), .tty = isatty(STDERR_FILENO) };
	struct isim_appliance_result res;
	struct isim_ms_seckey *sk = NULL;
	struct isim_error err;
	const char *name, *out = NULL;
	char secret[512];
	bool force = false, secrets = false;
	int rc = ISIM_EXIT_USAGE;
	const struct vm_arg own[] = {
		VM_ARG_TEXT('o', "--output", &out),
		VM_ARG_FLAG('f', "--force", &force),
		VM_ARG_FLAG(O_SECRETS, "--include-secrets", &secrets),
		VM_ARG_END,
	};

	if (!p.v)
		return ISIM_EXIT_SOFTWARE;
	isim_error_clear(&err);
	if ((rc = vm_parse(&g, &o, own, argc, argv, &name)))
		goto out;
	if ((rc = isim_key_finish(PROG, &key, false)))
		goto out;
	if (!out || !*out) {
		rc = isim_usage_error(PROG, "-o FILE is required");
		goto out;
	}
	if (!force && access(out, F_OK) == 0) {
		fprintf(stderr, PROG ": %s exists (--force replaces it)\n", out);
		rc = ISIM_EXIT_CANTCREAT;
		goto out;
	}
	if (!isim_run_found(COMPRESSOR) || !isim_run_found("qemu-img")) {
		fprintf(stderr, PROG ": %s is not installed\n", isim_run_found(COMPRESSOR) ? "qemu-img" : COMPRESSOR);
		rc = ISIM_EXIT_UNAVAILABLE;
		goto out;
	}
	if ((rc = vm_open(&c, PROG, &o, false)) || (rc = vm_take(&c, name, p.v)))
		goto out;
	if (p.v->state != VM_STOPPED) {
		fprintf(stderr, PROG ": VM '%s' is %s: its disk changes as it runs (isim-vm stop %s first)\n", name,
			vm_state_name(p.v->state), name);
		rc = ISIM_EXIT_UNAVAILABLE;
		goto out;
	}
	if ((rc = load_inputs(&p)))
		goto out;
	if (secret_inputs(&p, secret, sizeof(secret)) && !secrets) {
		fprintf(stderr,
			PROG ": VM '%s' was given secret inputs (%s): --include-secrets puts them into the\n"
			     "archive's user-data, and the archive is then readable by its owner only\n",
			name, secret);
		rc = ISIM_EXIT_USAGE;
		goto out;
	}
	secrets = secrets && secret[0];
	/* The key before the long work: a wrong password should not cost it. */
	if (key.path &&
	    (isim_secret_protect(&err) < 0 || isim_secret_key_open(key.path, key.password_fd, &sk, &err) < 0)) {
		rc = isim_fail(PROG, &err);
		goto out;
	}
	if (isim_run_catch_signals() < 0) {
		rc = ISIM_EXIT_SOFTWARE;
		goto out;
	}
	if ((rc = load_seed(&p)) || (rc = load_image(&p)) || (rc = make_wg(&p)) || (rc = make_tf(&p)) ||
	    (rc = flatten(&p, out)) || (rc = pack(&p, out, force, secrets, sk, &res))) {
		vm_record(&c, name, "appliance", false, out);
		goto out;
	}
	vm_record(&c, name, "appliance", true, out);
	rc = print_result(&p, out, &res, sk != NULL, secrets);
out:
	isim_ms_seckey_free(sk);
	pack_free(&p);
	vm_close(&c);
	free(p.v);
	return rc;
}
