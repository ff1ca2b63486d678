/* SPDX-License-Identifier: MIT */
/* The NoCloud seed: an ISO 9660 volume labelled cidata whose meta-data,
 * user-data and network-config cloud-init reads, each input delivered at
 * its destination with its mode and exact bytes (base64 in write_files),
 * the operator's user-data kept verbatim or made the first part of a MIME
 * multipart message, ssh keys in meta-data, and nothing of the inputs kept
 * once the seed is written. */
#include <archive.h>
#include <archive_entry.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "isim/nocloud.h"
#include "isim/yaml.h"
#include "testutil.h"

struct seed {
	char meta[1024];
	char user[16384];
	char net[1024];
	char volume[64];
	char names[8][64];
	int nfiles;
};

/* The seed's members through libarchive, its names from Rock Ridge when
 * rockridge, else from Joliet when joliet, else ISO 9660's own. */
static void read_seed_names(const char *iso, struct seed *out, bool rockridge, bool joliet)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;

	memset(out, 0, sizeof(*out));
	assert_non_null(a);
	assert_int_equal(archive_read_support_format_iso9660(a), ARCHIVE_OK);
	if (!rockridge)
		assert_int_equal(archive_read_set_format_option(a, "iso9660", "rockridge", NULL), ARCHIVE_OK);
	if (!joliet)
		assert_int_equal(archive_read_set_format_option(a, "iso9660", "joliet", NULL), ARCHIVE_OK);
	assert_int_equal(archive_read_open_filename(a, iso, 10240), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		char *dst = NULL;
		size_t cap = 0;

		if (strcmp(archive_entry_pathname(e), "meta-data") == 0)
			dst = out->meta, cap = sizeof(out->meta);
		else if (strcmp(archive_entry_pathname(e), "user-data") == 0)
			dst = out->user, cap = sizeof(out->user);
		else if (strcmp(archive_entry_pathname(e), "network-config") == 0)
			dst = out->net, cap = sizeof(out->net);
		if (archive_entry_filetype(e) == AE_IFREG) {
			assert_true(out->nfiles < 8);
			snprintf(out->names[out->nfiles], sizeof(out->names[0]), "%s", archive_entry_pathname(e));
			out->nfiles++;
		}
		if (dst)
			assert_true(archive_read_data(a, dst, cap - 1) >= 0);
	}
	assert_int_equal(archive_read_free(a), ARCHIVE_OK);
	{
		/* The volume identifier: 32 bytes at offset 40 of the primary
		 * volume descriptor, sector 16 (ECMA-119 8.4.6). */
		FILE *f = fopen(iso, "rb");
		char vd[2048];

		assert_non_null(f);
		assert_int_equal(fseek(f, 16 * 2048, SEEK_SET), 0);
		assert_int_equal(fread(vd, 1, sizeof(vd), f), sizeof(vd));
		fclose(f);
		memcpy(out->volume, vd + 40, 32);
		out->volume[strcspn(out->volume, " ")] = '\0';
	}
}

static void read_seed(const char *iso, struct seed *out)
{
	read_seed_names(iso, out, true, true);
}

/* The decoded content of the write_files entry for dest, and its mode. */
static size_t content_of(const char *user, const char *dest, char *perm, unsigned char *out, size_t cap)
{
	char key[256], *at, b64[2048];
	size_t bin = 0;

	snprintf(key, sizeof(key), "  - path: '%s'\n    owner: root:root\n    permissions: '", dest);
	at = strstr(user, key);
	assert_non_null(at);
	at += strlen(key);
	memcpy(perm, at, 4);
	perm[4] = '\0';
	at = strstr(at, "    encoding: b64\n    content: ");
	assert_non_null(at);
	at += strlen("    encoding: b64\n    content: ");
	memcpy(b64, at, strcspn(at, "\n"));
	b64[strcspn(at, "\n")] = '\0';
	assert_int_equal(
		sodium_base642bin(out, cap, b64, strlen(b64), NULL, &bin, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	return bin;
}

static void test_seed(void **state)
{
	const char *dir = *state;
	static const unsigned char binary[] = { 0, 1, 2, '\n', '\'', 0xff, 0xfe };
	struct isim_nocloud *s = NULL;
	struct isim_error err;
	struct seed got;
	unsigned char buf[256];
	char perm[8], iso[PATH_MAX], src[PATH_MAX];

	isim_error_clear(&err);
	snprintf(iso, sizeof(iso), "%s/seed.iso", dir);
	snprintf(src, sizeof(src), "%s/key.txt", dir);
	tu_write(dir, "key.txt", "secret key text\n");

	assert_int_equal(isim_nocloud_new("isim-test-0123456789abcdef", "wg-mesh", "test values", &s, &err), 0);
	assert_int_equal(isim_nocloud_add(s, "/etc/infrasim/addr", "10.0.0.2/16\n", 12, false, &err), 0);
	assert_int_equal(isim_nocloud_add(s, "/etc/infrasim/blob", binary, sizeof(binary), true, &err), 0);
	assert_int_equal(isim_nocloud_add_file(s, "/etc/infrasim/key", src, 1024, true, &err), 0);
	assert_int_equal(isim_nocloud_add(s, "/etc/empty", "", 0, false, &err), 0);
	assert_int_equal(isim_nocloud_held(s), 12 + sizeof(binary) + 16);
	assert_int_equal(isim_nocloud_write(s, iso, &err), 0);
	/* The inputs are gone from memory once written. */
	assert_int_equal(isim_nocloud_held(s), 0);
	isim_nocloud_free(s);

	read_seed(iso, &got);
	assert_int_equal(got.nfiles, 2);
	assert_string_equal(got.volume, "CIDATA");
	assert_string_equal(got.meta, "instance-id: isim-test-0123456789abcdef\nlocal-hostname: wg-mesh\n");
	assert_true(strncmp(got.user, "#cloud-config\n# test values\nwrite_files:\n", 41) == 0);

	assert_int_equal(content_of(got.user, "/etc/infrasim/addr", perm, buf, sizeof(buf)), 12);
	assert_memory_equal(buf, "10.0.0.2/16\n", 12);
	assert_string_equal(perm, "0644");
	assert_int_equal(content_of(got.user, "/etc/infrasim/blob", perm, buf, sizeof(buf)), sizeof(binary));
	assert_memory_equal(buf, binary, sizeof(binary));
	assert_string_equal(perm, "0600");
	assert_int_equal(content_of(got.user, "/etc/infrasim/key", perm, buf, sizeof(buf)), 16);
	assert_memory_equal(buf, "secret key text\n", 16);
	assert_string_equal(perm, "0600");
	assert_int_equal(content_of(got.user, "/etc/empty", perm, buf, sizeof(buf)), 0);
	/* Nothing after the last entry but its newline. */
	assert_int_equal(got.user[strlen(got.user) - 1], '\n');
	assert_null(strstr(got.user, "secret key text"));
}

static void test_refused(void **state)
{
	const char *dir = *state;
	struct isim_nocloud *s = NULL;
	struct isim_error err;
	char src[PATH_MAX];

	isim_error_clear(&err);
	assert_int_equal(isim_nocloud_new("a\nb", "h", NULL, &s, &err), -1);
	assert_null(s);
	assert_int_equal(err.kind, ISIM_ERR_USAGE);
	assert_int_equal(isim_nocloud_new("id", "h", NULL, &s, &err), 0);
	assert_int_equal(isim_nocloud_add(s, "relative/path", "x", 1, false, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_USAGE);
	assert_int_equal(isim_nocloud_add(s, "/etc/it's", "x", 1, false, &err), -1);
	snprintf(src, sizeof(src), "%s/missing", dir);
	assert_int_equal(isim_nocloud_add_file(s, "/etc/x", src, 1024, true, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_NOINPUT);
	assert_string_equal(err.path, src);
	tu_write(dir, "big", "0123456789");
	snprintf(src, sizeof(src), "%s/big", dir);
	assert_int_equal(isim_nocloud_add_file(s, "/etc/x", src, 4, true, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_DATA);
	assert_int_equal(isim_nocloud_held(s), 0);
	/* A seed that cannot be created leaves no file. */
	snprintf(src, sizeof(src), "%s/no/such/dir/seed.iso", dir);
	assert_int_equal(isim_nocloud_write(s, src, &err), -1);
	assert_int_equal(err.kind, ISIM_ERR_CANTCREATE);
	isim_nocloud_free(s);
}

/* ---- the operator's user-data ------------------------------------------- */

/* One part of a multipart message: its header lines and its body (within
 * the text). */
struct part {
	char headers[1024];
	const char *body;
	size_t len;
};

/* Split a multipart/mixed message as RFC 2046 5.1.1 reads it, checking the
 * top-level header, each delimiter and the close delimiter, and that the
 * boundary occurs nowhere else. Returns the number of parts. */
static int split_mime(const char *text, size_t len, char *boundary, size_t cap, struct part *parts, int max)
{
	static const char top[] = "Content-Type: multipart/mixed; boundary=\"";
	const char *at = text, *end = text + len, *hdr, *next;
	char delim[128];
	int n = 0, count = 0;

	assert_true(strncmp(text, top, strlen(top)) == 0);
	at += strlen(top);
	assert_true(strcspn(at, "\"") < cap);
	memcpy(boundary, at, strcspn(at, "\""));
	boundary[strcspn(at, "\"")] = '\0';
	assert_true(strlen(boundary) >= 16 && strlen(boundary) <= 70);
	at += strlen(boundary);
	assert_true(strncmp(at, "\"\nMIME-Version: 1.0\n\n", 21) == 0);
	at += 21;
	snprintf(delim, sizeof(delim), "--%s", boundary);
	for (next = text; (next = memmem(next, (size_t)(end - next), boundary, strlen(boundary))); next++)
		count++;
	for (;;) {
		assert_true(strncmp(at, delim, strlen(delim)) == 0);
		at += strlen(delim);
		if (strcmp(at, "--\n") == 0)
			break;
		assert_int_equal(*at, '\n');
		at++;
		assert_true(n < max);
		hdr = strstr(at, "\n\n");
		assert_non_null(hdr);
		assert_true((size_t)(hdr + 1 - at) < sizeof(parts[n].headers));
		memcpy(parts[n].headers, at, (size_t)(hdr + 1 - at));
		parts[n].headers[hdr + 1 - at] = '\0';
		parts[n].body = hdr + 2;
		/* The line break before a delimiter is part of the delimiter. */
		next = memmem(parts[n].body, (size_t)(end - parts[n].body), delim, strlen(delim));
		assert_non_null(next);
		assert_int_equal(next[-1], '\n');
		parts[n].len = (size_t)(next - 1 - parts[n].body);
		at = next;
		n++;
	}
	/* Once in the header, once per delimiter, once in the close one. */
	assert_int_equal(count, n + 2);
	return n;
}

/* The value of a part's header field (static buffer), NULL when absent. */
static const char *field(const struct part *p, const char *name)
{
	static char value[256];
	const char *at = p->headers;
	size_t n = strlen(name);

	for (; *at; at = strchr(at, '\n') + 1) {
		if (strncmp(at, name, n) == 0 && strncmp(at + n, ": ", 2) == 0) {
			at += n + 2;
			assert_true(strcspn(at, "\n") < sizeof(value));
			memcpy(value, at, strcspn(at, "\n"));
			value[strcspn(at, "\n")] = '\0';
			return value;
		}
	}
	return NULL;
}

/* A part's body with its Content-Transfer-Encoding undone. */
static size_t body_of(const struct part *p, char *out, size_t cap)
{
	const char *cte = field(p, "Content-Transfer-Encoding");
	size_t bin = 0;

	assert_non_null(cte);
	if (strcmp(cte, "7bit") == 0) {
		assert_true(p->len < cap);
		memcpy(out, p->body, p->len);
		out[p->len] = '\0';
		return p->len;
	}
	assert_string_equal(cte, "base64");
	assert_int_equal(sodium_base642bin((unsigned char *)out, cap - 1, p->body, p->len, "\n", &bin, NULL,
					   sodium_base64_VARIANT_ORIGINAL),
			 0);
	out[bin] = '\0';
	return bin;
}

static void write_bytes(const char *dir, const char *name, const void *data, size_t len)
{
	FILE *f = fopen(tu_path(dir, name), "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static bool have_python(const char *module)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -c 'import %s' >/dev/null 2>&1", module);
	return access("/usr/bin/python3", X_OK) == 0 && system(cmd) == 0;
}

/* Run dir/name (written from script) with python3 and args; its status. */
static int python(const char *dir, const char *name, const char *script, const char *args)
{
	char cmd[PATH_MAX * 4];
	int st;

	tu_write(dir, name, script);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/%s %s", dir, name, args);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* cloud-init's reading of user-data (cloudinit/user_data.py): UTF-8 text,
 * MIME when "mime-version:" is in its first 4096 characters, each part's
 * payload with its transfer encoding undone (util.fully_decoded_payload). */
static const char mime_py[] = "import email, sys\n"
			      "a = sys.argv\n"
			      "text = open(a[1], 'rb').read().decode('utf-8')\n"
			      "if 'mime-version:' not in text[0:4096].lower():\n"
			      "    sys.exit(2)\n"
			      "m = email.message_from_string(text)\n"
			      "parts = m.get_payload()\n"
			      "if not m.is_multipart() or len(parts) != 2:\n"
			      "    sys.exit(3)\n"
			      "for i, p in enumerate(parts):\n"
			      "    if p.get_content_type() != a[2 + 2 * i]:\n"
			      "        sys.exit(4)\n"
			      "    if p.get_payload(decode=True) != open(a[3 + 2 * i], 'rb').read():\n"
			      "        sys.exit(5)\n"
			      "if parts[0].get('Merge-Type') is not None:\n"
			      "    sys.exit(6)\n"
			      "if parts[1].get('Merge-Type') != 'list(append)+dict(recurse_array)+str()':\n"
			      "    sys.exit(7)\n";

static const char merge_type[] = "list(append)+dict(recurse_array)+str()";

/* The seed the multipart tests use: two files, and user-data when not NULL. */
static struct isim_nocloud *files_seed(const char *user, size_t len)
{
	static const unsigned char binary[] = { 0, 1, 2, '\n', '\'', 0xff, 0xfe };
	struct isim_nocloud *s = NULL;
	struct isim_error err;

	isim_error_clear(&err);
	assert_int_equal(isim_nocloud_new("id-1", "node", "test values", &s, &err), 0);
	assert_int_equal(isim_nocloud_add(s, "/etc/infrasim/addr", "10.0.0.2/16\n", 12, false, &err), 0);
	assert_int_equal(isim_nocloud_add(s, "/etc/infrasim/blob", binary, sizeof(binary), true, &err), 0);
	if (user)
		assert_int_equal(isim_nocloud_user_data(s, user, len, &err), 0);
	return s;
}

/* The generated part decodes to the files, with their modes. */
static void check_files(const char *config)
{
	static const unsigned char binary[] = { 0, 1, 2, '\n', '\'', 0xff, 0xfe };
	unsigned char buf[256];
	char perm[8];

	assert_true(strncmp(config, "#cloud-config\n# test values\nwrite_files:\n", 41) == 0);
	assert_int_equal(content_of(config, "/etc/infrasim/addr", perm, buf, sizeof(buf)), 12);
	assert_memory_equal(buf, "10.0.0.2/16\n", 12);
	assert_string_equal(perm, "0644");
	assert_int_equal(content_of(config, "/etc/infrasim/blob", perm, buf, sizeof(buf)), sizeof(binary));
	assert_memory_equal(buf, binary, sizeof(binary));
	assert_string_equal(perm, "0600");
}

static void test_user_data_verbatim(void **state)
{
	const char *dir = *state;
	static const char script[] = "#!/bin/sh\necho hello >/run/hello\n";
	static const char mime[] = "Content-Type: multipart/mixed; boundary=\"x\"\nMIME-Version: 1.0\n\n"
				   "--x\nContent-Type: text/x-shellscript\n\n#!/bin/sh\ntrue\n--x--\n";
	static const unsigned char gzip[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0, 0 };
	struct isim_nocloud *s = NULL;
	struct isim_error err;
	struct seed got;
	char iso[PATH_MAX], *text;
	size_t len = 0;

	isim_error_clear(&err);
	snprintf(iso, sizeof(iso), "%s/seed.iso", dir);
	/* Without files, the operator's user-data is the seed's, byte for
	 * byte, and the comment is not added to it. */
	assert_int_equal(isim_nocloud_new("id-1", "node", "test values", &s, &err), 0);
	assert_int_equal(isim_nocloud_user_data(s, script, strlen(script), &err), 0);
	text = isim_nocloud_render(s, "user-data", &len);
	assert_non_null(text);
	assert_int_equal(len, strlen(script));
	assert_string_equal(text, script);
	sodium_free(text);
	assert_int_equal(isim_nocloud_write(s, iso, &err), 0);
	isim_nocloud_free(s);
	read_seed(iso, &got);
	assert_int_equal(got.nfiles, 2);
	assert_string_equal(got.user, script);
	assert_string_equal(got.meta, "instance-id: id-1\nlocal-hostname: node\n");

	/* MIME and gzip are containers cloud-init opens: taken as they are. */
	assert_int_equal(isim_nocloud_new("id-1", "node", NULL, &s, &err), 0);
	assert_int_equal(isim_nocloud_user_data(s, mime, strlen(mime), &err), 0);
	text = isim_nocloud_render(s, "user-data", &len);
	assert_non_null(text);
	assert_int_equal(len, strlen(mime));
	assert_memory_equal(text, mime, len);
	sodium_free(text);
	isim_nocloud_free(s);
	assert_int_equal(isim_nocloud_new("id-1", "node", NULL, &s, &err), 0);
	assert_int_equal(isim_nocloud_user_data(s, gzip, sizeof(gzip), &err), 0);
	text = isim_nocloud_render(s, "user-data", &len);
	assert_non_null(text);
	assert_int_equal(len, sizeof(gzip));
	assert_memory_equal(text, gzip, len);
	sodium_free(text);
	isim_nocloud_free(s);
}

static void test_user_data_multipart(void **state)
{
	const char *dir = *state;
	static const char config[] = "#cloud-config\nwrite_files:\n  - path: /etc/motd\n    content: hello\n";
	/* 8-bit text and CR go base64, so that cloud-init gets its bytes. */
	static const char script[] = "#!/bin/sh\r\necho 'h\xc3\xa9llo' >/run/hello\n";
	struct isim_nocloud *s, *twin;
	struct isim_error err;
	struct part parts[4];
	struct seed got;
	char iso[PATH_MAX], boundary[128], body[8192], args[PATH_MAX * 3], *text, *gen;
	size_t len = 0, glen = 0;

	isim_error_clear(&err);
	snprintf(iso, sizeof(iso), "%s/seed.iso", dir);
	twin = files_seed(NULL, 0);
	gen = isim_nocloud_render(twin, "user-data", &glen);
	assert_non_null(gen);
	check_files(gen);
	isim_nocloud_free(twin);

	s = files_seed(config, strlen(config));
	assert_int_equal(isim_nocloud_held(s), 12 + 7);
	text = isim_nocloud_render(s, "user-data", &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	assert_int_equal(split_mime(text, len, boundary, sizeof(boundary), parts, 4), 2);
	assert_string_equal(field(&parts[0], "Content-Type"), "text/cloud-config; charset=\"utf-8\"");
	assert_string_equal(field(&parts[0], "Content-Transfer-Encoding"), "7bit");
	assert_null(field(&parts[0], "Merge-Type"));
	assert_int_equal(body_of(&parts[0], body, sizeof(body)), strlen(config));
	assert_string_equal(body, config);
	assert_string_equal(field(&parts[1], "Content-Type"), "text/cloud-config; charset=\"utf-8\"");
	assert_string_equal(field(&parts[1], "Merge-Type"), merge_type);
	assert_int_equal(body_of(&parts[1], body, sizeof(body)), glen);
	assert_string_equal(body, gen);
	check_files(body);
	/* A new boundary each time. */
	{
		char *again = isim_nocloud_render(s, "user-data", NULL), other[128];

		assert_non_null(again);
		assert_int_equal(split_mime(again, strlen(again), other, sizeof(other), parts, 4), 2);
		assert_string_not_equal(other, boundary);
		sodium_free(again);
	}
	sodium_free(text);

	/* What the ISO holds is the same message. */
	assert_int_equal(isim_nocloud_write(s, iso, &err), 0);
	assert_int_equal(isim_nocloud_held(s), 0);
	isim_nocloud_free(s);
	read_seed(iso, &got);
	assert_int_equal(got.nfiles, 2);
	assert_int_equal(split_mime(got.user, strlen(got.user), boundary, sizeof(boundary), parts, 4), 2);
	assert_int_equal(body_of(&parts[0], body, sizeof(body)), strlen(config));
	assert_string_equal(body, config);
	assert_int_equal(body_of(&parts[1], body, sizeof(body)), glen);
	assert_string_equal(body, gen);
	if (have_python("email")) {
		write_bytes(dir, "user-data", got.user, strlen(got.user));
		write_bytes(dir, "part1", config, strlen(config));
		write_bytes(dir, "part2", gen, glen);
		snprintf(args, sizeof(args), "%s/user-data text/cloud-config %s/part1 text/cloud-config %s/part2", dir,
			 dir, dir);
		assert_int_equal(python(dir, "mime.py", mime_py, args), 0);
	}

	/* A shell script with 8-bit text and CR: base64, exact bytes back. */
	s = files_seed(script, strlen(script));
	text = isim_nocloud_render(s, "user-data", &len);
	assert_non_null(text);
	assert_int_equal(split_mime(text, len, boundary, sizeof(boundary), parts, 4), 2);
	assert_string_equal(field(&parts[0], "Content-Type"), "text/x-shellscript; charset=\"utf-8\"");
	assert_string_equal(field(&parts[0], "Content-Transfer-Encoding"), "base64");
	assert_int_equal(body_of(&parts[0], body, sizeof(body)), strlen(script));
	assert_string_equal(body, script);
	assert_int_equal(body_of(&parts[1], body, sizeof(body)), glen);
	assert_string_equal(body, gen);
	if (have_python("email")) {
		write_bytes(dir, "user-data", text, len);
		write_bytes(dir, "part1", script, strlen(script));
		snprintf(args, sizeof(args), "%s/user-data text/x-shellscript %s/part1 text/cloud-config %s/part2", dir,
			 dir, dir);
		assert_int_equal(python(dir, "mime.py", mime_py, args), 0);
	}
	sodium_free(text);
	isim_nocloud_free(s);
	sodium_free(gen);
}

/* The operator's part is labelled by its first line as cloud-init would
 * label it: the longest mark, in any case, after white space. */
static void test_user_data_types(void **state)
{
	static const struct {
		const char *user, *type;
	} cases[] = {
		{ "#cloud-config\n{}\n", "text/cloud-config" },
		{ "#!/bin/sh\ntrue\n", "text/x-shellscript" },
		{ "#include\nhttps://example.org/a\n", "text/x-include-url" },
		{ "#include-once\nhttps://example.org/a\n", "text/x-include-once-url" },
		{ "#cloud-boothook\n#!/bin/sh\ntrue\n", "text/cloud-boothook" },
		{ "#cloud-config-archive\n- type: text/cloud-config\n  content: '{}'\n", "text/cloud-config-archive" },
		{ "#part-handler\ndef list_types(): return []\n", "text/part-handler" },
		{ "## template: jinja\n#cloud-config\n", "text/jinja2" },
		{ " \n\t#Cloud-Config\n{}\n", "text/cloud-config" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct isim_nocloud *s = files_seed(cases[i].user, strlen(cases[i].user));
		char boundary[128], type[128], body[4096], *text;
		struct part parts[4];
		size_t len = 0;

		text = isim_nocloud_render(s, "user-data", &len);
		assert_non_null(text);
		assert_int_equal(split_mime(text, len, boundary, sizeof(boundary), parts, 4), 2);
		snprintf(type, sizeof(type), "%s; charset=\"utf-8\"", cases[i].type);
		assert_string_equal(field(&parts[0], "Content-Type"), type);
		assert_int_equal(body_of(&parts[0], body, sizeof(body)), strlen(cases[i].user));
		assert_string_equal(body, cases[i].user);
		sodium_free(text);
		isim_nocloud_free(s);
	}
}

static void test_user_data_refused(void **state)
{
	const char *dir = *state;
	static const struct {
		const char *user;
		const char *msg;
	} bad[] = {
		{ "", "user-data: not a cloud-init user-data format" },
		{ "hello\n", "user-data: not a cloud-init user-data format" },
		{ "#cloud-confi\n", "user-data: not a cloud-init user-data format" },
		{ "# cloud-config\n", "user-data: not a cloud-init user-data format" },
		{ "#!/bin/sh\necho \xff\n", "user-data: not a cloud-init user-data format (invalid UTF-8 byte 0xFF "
					    "(never used in UTF-8) at offset 15)" },
	};
	static const char mime[] = "MIME-Version: 1.0\nContent-Type: text/x-shellscript\n\n#!/bin/sh\n";
	static const unsigned char gzip[] = { 0x1f, 0x8b, 8, 0 };
	struct isim_nocloud *s = NULL;
	struct isim_error err;
	char iso[PATH_MAX];
	size_t i;

	isim_error_clear(&err);
	snprintf(iso, sizeof(iso), "%s/seed.iso", dir);
	assert_int_equal(isim_nocloud_new("id-1", "node", NULL, &s, &err), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		isim_error_clear(&err);
		assert_int_equal(isim_nocloud_user_data(s, bad[i].user, strlen(bad[i].user), &err), -1);
		tu_expect_error(&err, ISIM_ERR_DATA, bad[i].msg);
	}
	/* Refused user-data leaves none behind: the seed's is generated. */
	{
		char *text = isim_nocloud_render(s, "user-data", NULL);

		assert_non_null(text);
		assert_string_equal(text, "#cloud-config\nwrite_files:\n");
		sodium_free(text);
	}
	assert_int_equal(isim_nocloud_user_data(s, "#!/bin/sh\n", 10, &err), 0);
	assert_int_equal(isim_nocloud_user_data(s, "#!/bin/sh\n", 10, &err), -1);
	tu_expect_error(&err, ISIM_ERR_USAGE, "a seed takes one user-data");
	isim_nocloud_free(s);

	/* MIME or gzip user-data and files: refused when written, the files
	 * dropped all the same, and no seed left. */
	s = files_seed(mime, strlen(mime));
	assert_null(isim_nocloud_render(s, "user-data", NULL));
	assert_int_equal(isim_nocloud_write(s, iso, &err), -1);
	tu_expect_error(
		&err, ISIM_ERR_USAGE,
		"user-data that is already MIME multipart cannot be combined with files: make them a part of it");
	assert_int_equal(isim_nocloud_held(s), 0);
	assert_int_equal(access(iso, F_OK), -1);
	isim_nocloud_free(s);
	s = files_seed((const char *)gzip, sizeof(gzip));
	assert_int_equal(isim_nocloud_write(s, iso, &err), -1);
	tu_expect_error(&err, ISIM_ERR_USAGE,
			"user-data that is gzip-compressed cannot be combined with files: make them a part of it");
	isim_nocloud_free(s);
}

/* ---- meta-data, ssh keys, network-config -------------------------------- */

static void test_meta_data(void **state)
{
	const char *dir = *state;
	static const char meta[] = "{\"instance-id\": \"given\", \"local-hostname\": \"other\"}\n";
	struct isim_nocloud *s = NULL;
	struct isim_error err;
	struct seed got;
	char iso[PATH_MAX], *text;
	size_t len = 0;

	isim_error_clear(&err);
	snprintf(iso, sizeof(iso), "%s/seed.iso", dir);
	assert_int_equal(isim_nocloud_new("id-1", "node", NULL, &s, &err), 0);
	assert_int_equal(isim_nocloud_meta_data(s, meta, strlen(meta), &err), 0);
	assert_int_equal(isim_nocloud_meta_data(s, meta, strlen(meta), &err), -1);
	tu_expect_error(&err, ISIM_ERR_USAGE, "a seed takes one meta-data");
	text = isim_nocloud_render(s, "meta-data", &len);
	assert_non_null(text);
	assert_int_equal(len, strlen(meta));
	assert_string_equal(text, meta);
	sodium_free(text);
	assert_int_equal(isim_nocloud_write(s, iso, &err), 0);
	isim_nocloud_free(s);
	read_seed(iso, &got);
	assert_string_equal(got.meta, meta);
	assert_string_equal(got.user, "#cloud-config\nwrite_files:\n");

	/* ssh keys are not merged into a given meta-data. */
	assert_int_equal(unlink(iso), 0);
	assert_int_equal(isim_nocloud_new("id-1", "node", NULL, &s, &err), 0);
	assert_int_equal(isim_nocloud_meta_data(s, meta, strlen(meta), &err), 0);
	assert_int_equal(isim_nocloud_ssh_key(s, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 a@b", &err), 0);
	assert_null(isim_nocloud_render(s, "meta-data", NULL));
	assert_int_equal(isim_nocloud_write(s, iso, &err), -1);
	tu_expect_error(&err, ISIM_ERR_USAGE,
			"ssh keys cannot be merged into a given meta-data; put public-keys in it");
	assert_int_equal(access(iso, F_OK), -1);
	isim_nocloud_free(s);
}

/* PyYAML, which cloud-init loads meta-data with, reads the same. */
static const char keys_py[] = "import sys, yaml\n"
			      "md = yaml.safe_load(open(sys.argv[1], 'rb').read().decode('utf-8'))\n"
			      "want = open(sys.argv[2], 'rb').read().decode('utf-8').split('\\n')[:-1]\n"
			      "sys.exit(0 if md == {'instance-id': 'id-1', 'local-hostname': 'node',\n"
			      "                     'public-keys': want} else 1)\n";

static void test_ssh_keys(void **state)
{
	const char *dir = *state;
	static const char *const keys[] = {
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHn1qVxJ2s3K4m5n6o7p8q9r0s1t2u3v4w5x6y7z8A9B alice@host",
		"ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY= it's bob's: #1 \"key\"",
		"sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t jos\xc3\xa9",
		"ssh-rsa AAAAB3NzaC1yc2E=",
	};
	static const char want[] =
		"instance-id: id-1\nlocal-hostname: node\npublic-keys:\n"
		"  - 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHn1qVxJ2s3K4m5n6o7p8q9r0s1t2u3v4w5x6y7z8A9B alice@host'\n"
		"  - 'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY= it''s bob''s: #1 \"key\"'\n"
		"  - 'sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t jos\xc3\xa9'\n"
		"  - 'ssh-rsa AAAAB3NzaC1yc2E='\n";
	static const struct {
		const char *key, *msg;
	} bad[] = {
		{ "ssh-ed25519 AAAA a@b\n", "an ssh key is one line" },
		{ "ssh-ed25519 AAAA a\rb", "an ssh key is one line" },
		{ "ssh-ed25519 AAAA a\tb", "ssh key: U+0009 at offset 18 is a control character or line break" },
		{ "ssh-ed25519 AAAA a\x1b[2Jb", "ssh key: U+001B at offset 18 is a control character or line break" },
		{ "ssh-ed25519 AAAA a\x7f", "ssh key: U+007F at offset 18 is a control character or line break" },
		{ "ssh-ed25519 AAAA a\xc2\x85", "ssh key: U+0085 at offset 18 is a control character or line break" },
		{ "ssh-ed25519 AAAA a\xe2\x80\xa8",
		  "ssh key: U+2028 at offset 18 is a control character or line break" },
		{ "ssh-ed25519 AAAA a\xff", "ssh key: invalid UTF-8 byte 0xFF (never used in UTF-8) at offset 18" },
		{ "rsa AAAA", "ssh key 'rsa': not a public key type (ssh-..., ecdsa-... or sk-...)" },
		{ "from=\"10.0.0.1\" ssh-ed25519 AAAA",
		  "ssh key 'from=\"10.0.0.1\"': not a public key type (ssh-..., ecdsa-... or sk-...)" },
		{ "", "ssh key '': not a public key type (ssh-..., ecdsa-... or sk-...)" },
		{ "ssh-ed25519", "ssh key 'ssh-ed25519': expected 'type base64 [comment]'" },
		{ "ssh-ed25519 ", "ssh key 'ssh-ed25519': expected 'type base64 [comment]'" },
		{ "ssh-ed25519  AAAA", "ssh key 'ssh-ed25519': expected 'type base64 [comment]'" },
		{ "ssh-ed25519 AA!A", "ssh key 'ssh-ed25519': expected 'type base64 [comment]'" },
		{ "ssh-ed2'5519 AAAA", "ssh key 'ssh-ed2'5519': expected 'type base64 [comment]'" },
	};
	struct isim_nocloud *s = NULL;
	struct isim_error err;
	struct isim_doc *doc = NULL;
	const cJSON *list;
	struct seed got;
	char iso[PATH_MAX], *text;
	size_t i, len = 0;

	isim_error_clear(&err);
	snprintf(iso, sizeof(iso), "%s/seed.iso", dir);
	assert_int_equal(isim_nocloud_new("id-1", "node", NULL, &s, &err), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		isim_error_clear(&err);
		assert_int_equal(isim_nocloud_ssh_key(s, bad[i].key, &err), -1);
		tu_expect_error(&err, ISIM_ERR_DATA, bad[i].msg);
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_int_equal(isim_nocloud_ssh_key(s, keys[i], &err), 0);
	assert_int_equal(isim_nocloud_ssh_key(s, keys[1], &err), -1);
	tu_expect_error(&err, ISIM_ERR_USAGE, "ssh key 'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTIt...' given twice");
	text = isim_nocloud_render(s, "meta-data", &len);
	assert_non_null(text);
	assert_int_equal(len, strlen(want));
	assert_string_equal(text, want);
	sodium_free(text);
	assert_int_equal(isim_nocloud_write(s, iso, &err), 0);
	isim_nocloud_free(s);
	read_seed(iso, &got);
	assert_string_equal(got.meta, want);

	/* The list reads back as YAML, each key as it was given. */
	assert_int_equal(isim_yaml_parse(got.meta, strlen(got.meta), "meta-data", &doc, &err), 0);
	list = cJSON_GetObjectItemCaseSensitive(doc->root, "public-keys");
	assert_true(cJSON_IsArray(list));
	assert_int_equal(cJSON_GetArraySize(list), sizeof(keys) / sizeof(keys[0]));
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_string_equal(cJSON_GetArrayItem(list, (int)i)->valuestring, keys[i]);
	isim_doc_free(doc);
	if (have_python("yaml")) {
		FILE *f = fopen(tu_path(dir, "keys"), "wb");
		char args[PATH_MAX * 2];

		assert_non_null(f);
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			fprintf(f, "%s\n", keys[i]);
		assert_int_equal(fclose(f), 0);
		write_bytes(dir, "meta-data", got.meta, strlen(got.meta));
		snprintf(args, sizeof(args), "%s/meta-data %s/keys", dir, dir);
		assert_int_equal(python(dir, "keys.py", keys_py, args), 0);
	}
}

static void test_network_config(void **state)
{
	const char *dir = *state;
	static const char net[] = "network:\n  version: 2\n  ethernets:\n    eth0:\n      dhcp4: true\n";
	struct isim_nocloud *s = NULL;
	struct isim_error err;
	struct seed got;
	char iso[PATH_MAX], *text;
	size_t len = 0;
	int pass;

	isim_error_clear(&err);
	snprintf(iso, sizeof(iso), "%s/seed.iso", dir);
	assert_int_equal(isim_nocloud_new("id-1", "node", NULL, &s, &err), 0);
	assert_null(isim_nocloud_render(s, "network-config", &len));
	assert_null(isim_nocloud_render(s, "vendor-data", &len));
	assert_int_equal(isim_nocloud_network_config(s, net, strlen(net), &err), 0);
	assert_int_equal(isim_nocloud_network_config(s, net, strlen(net), &err), -1);
	tu_expect_error(&err, ISIM_ERR_USAGE, "a seed takes one network-config");
	text = isim_nocloud_render(s, "network-config", &len);
	assert_non_null(text);
	assert_int_equal(len, strlen(net));
	assert_string_equal(text, net);
	sodium_free(text);
	assert_int_equal(isim_nocloud_add(s, "/etc/infrasim/addr", "10.0.0.2/16\n", 12, false, &err), 0);
	assert_int_equal(isim_nocloud_write(s, iso, &err), 0);
	isim_nocloud_free(s);

	/* The names are the same through Rock Ridge and through Joliet;
	 * ISO 9660's own (8.3, upper case) could not hold them. */
	for (pass = 0; pass < 2; pass++) {
		read_seed_names(iso, &got, pass == 0, true);
		assert_int_equal(got.nfiles, 3);
		assert_string_equal(got.volume, "CIDATA");
		assert_string_equal(got.names[0], "meta-data");
		assert_string_equal(got.names[1], "user-data");
		assert_string_equal(got.names[2], "network-config");
		assert_string_equal(got.net, net);
		assert_string_equal(got.meta, "instance-id: id-1\nlocal-hostname: node\n");
		assert_true(strncmp(got.user, "#cloud-config\nwrite_files:\n  - path: '/etc/infrasim/addr'", 56) == 0);
	}
	read_seed_names(iso, &got, false, false);
	assert_int_equal(got.nfiles, 3);
	assert_string_not_equal(got.names[2], "network-config");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_seed, tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_refused, tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_user_data_verbatim, tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_user_data_multipart, tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test(test_user_data_types),
		cmocka_unit_test_setup_teardown(test_user_data_refused, tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_meta_data, tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_ssh_keys, tu_setup_tmpdir, tu_teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_network_config, tu_setup_tmpdir, tu_teardown_tmpdir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
