/* SPDX-License-Identifier: MIT */
/* isim-memdump's attestation records: a record as the tool writes it passes
 * the schema, its signature verifies under the operator's trusted key, and
 * a changed field, an untrusted or revoked key, or an operator who is not
 * the signer is refused with the reason; its digest is the SHA-256 of its
 * RFC 8785 form; malformed records are refused at the member that is
 * wrong; its DSSE envelope verifies and carries the unsigned record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "isim/dsse.h"
#include "isim/hash.h"
#include "isim/jcs.h"
#include "isim/memrecord.h"
#include "testutil.h"

#define DUMP_SHA256 "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
#define IMAGE_SHA256 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
/* 8 GiB and a page: more than 32 bits hold. */
#define DUMP_SIZE 8589938688.0

/* The operator's key, and another that no one trusts. */
static const uint8_t op_id[ISIM_MS_KEYID_BYTES] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };
static const uint8_t other_id[ISIM_MS_KEYID_BYTES] = { 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18 };
#define OP_HEX "0807060504030201" /* as minisign shows op_id */
#define OTHER_HEX "1817161514131211"

static struct isim_ms_seckey *op_key, *other_key;
static struct isim_trust_key trusted_keys[1];
static struct isim_memrecord_schema schema;

/* The signers trusted here: the operator's key in the folder "trust". */
static struct isim_trust trust(void)
{
	struct isim_trust t = { .keys = trusted_keys, .nkeys = 1 };

	snprintf(t.dir, sizeof(t.dir), "trust");
	return t;
}

static struct isim_ms_seckey *key(uint8_t fill, const uint8_t id[static ISIM_MS_KEYID_BYTES])
{
	uint8_t seed[crypto_sign_SEEDBYTES];
	struct isim_ms_seckey *sk = NULL;
	struct isim_error err;

	memset(seed, fill, sizeof(seed));
	if (isim_ms_seckey_from_seed(seed, id, &sk, &err) < 0)
		fail_msg("key: %s", err.msg);
	return sk;
}

/* A record with every required member, as isim-memdump writes one for a
 * guest started from the state folder; operator.key_id is key_id. */
static cJSON *record(const char *key_id)
{
	cJSON *r = cJSON_CreateObject(), *vm, *qmp, *args, *d, *op;

	assert_non_null(r);
	cJSON_AddStringToObject(r, "type", ISIM_MEMRECORD_TYPE);
	vm = cJSON_AddObjectToObject(r, "vm");
	cJSON_AddStringToObject(vm, "name", "g1");
	cJSON_AddStringToObject(vm, "uuid", "6f1c2a4e-7d3b-4c59-9a0e-2b8f5d1e3c47");
	cJSON_AddStringToObject(vm, "qemu_version", "7.2.15");
	cJSON_AddStringToObject(vm, "machine", "pc-i440fx-7.2");
	cJSON_AddNumberToObject(vm, "memory_bytes", 8589934592.0);
	cJSON_AddStringToObject(vm, "image", "/var/lib/infrasim/images/debian-12.qcow2");
	cJSON_AddStringToObject(vm, "image_sha256", IMAGE_SHA256);
	cJSON_AddNullToObject(vm, "provenance_sha256");
	qmp = cJSON_AddObjectToObject(r, "qmp");
	cJSON_AddStringToObject(qmp, "socket", "/var/lib/infrasim/vms/g1/qmp.sock");
	cJSON_AddStringToObject(qmp, "command", "dump-guest-memory");
	args = cJSON_AddObjectToObject(qmp, "arguments");
	cJSON_AddBoolToObject(args, "paging", 0);
	cJSON_AddStringToObject(args, "protocol", "fd:isim-memdump");
	cJSON_AddStringToObject(args, "format", "elf");
	cJSON_AddBoolToObject(args, "detach", 1);
	d = cJSON_AddObjectToObject(r, "dump");
	cJSON_AddStringToObject(d, "file", "/srv/dumps/g1.elf");
	cJSON_AddStringToObject(d, "format", "elf");
	cJSON_AddBoolToObject(d, "flattened", 0);
	cJSON_AddNumberToObject(d, "size", DUMP_SIZE);
	cJSON_AddStringToObject(d, "sha256", DUMP_SHA256);
	cJSON_AddStringToObject(d, "hashed", "in-flight");
	cJSON_AddBoolToObject(d, "paused", 1);
	cJSON_AddStringToObject(d, "status_before", "running");
	cJSON_AddStringToObject(r, "started_at", "2026-01-01T10:00:00Z");
	cJSON_AddStringToObject(r, "ended_at", "2026-01-01T10:00:42Z");
	cJSON_AddStringToObject(r, "host", "lab1");
	op = cJSON_AddObjectToObject(r, "operator");
	cJSON_AddStringToObject(op, "name", "alice");
	cJSON_AddStringToObject(op, "key_id", key_id);
	assert_non_null(op);
	return r;
}

static cJSON *signed_record(const struct isim_ms_seckey *sk, const char *key_id)
{
	struct isim_error err;
	cJSON *r = record(key_id);

	isim_error_clear(&err);
	if (isim_memrecord_sign(r, sk, &err) < 0)
		fail_msg("sign: %s", tu_msg(&err));
	return r;
}

/* The item at an RFC 6901 pointer (no escapes needed here). */
static cJSON *at(cJSON *doc, const char *pointer)
{
	char path[128], *name, *slash;
	cJSON *item = doc;

	assert_true(snprintf(path, sizeof(path), "%s", pointer) < (int)sizeof(path));
	for (name = path + 1; item && name; name = slash) {
		slash = strchr(name, '/');
		if (slash)
			*slash++ = '\0';
		item = cJSON_GetObjectItemCaseSensitive(item, name);
	}
	assert_non_null(item);
	return item;
}

/* Replace the value at pointer by the JSON text value. */
static void set(cJSON *doc, const char *pointer, const char *value)
{
	cJSON *repl = cJSON_Parse(value);
	const char *slash = strrchr(pointer, '/');
	char up[128];

	assert_non_null(repl);
	assert_non_null(at(doc, pointer));
	snprintf(up, sizeof(up), "%.*s", (int)(slash - pointer), pointer);
	/* By name: a replacement through cJSON_ReplaceItemViaPointer would
	 * have none. */
	assert_true(cJSON_ReplaceItemInObjectCaseSensitive(slash == pointer ? doc : at(doc, up), slash + 1, repl));
}

static void remove_at(cJSON *doc, const char *pointer)
{
	cJSON *item = at(doc, pointer);
	const char *slash = strrchr(pointer, '/');
	char up[128];

	snprintf(up, sizeof(up), "%.*s", (int)(slash - pointer), pointer);
	cJSON_Delete(cJSON_DetachItemViaPointer(slash == pointer ? doc : at(doc, up), item));
}

/* One change to each member a signature must cover (operator.key_id and the
 * attestation have cases of their own): a string, a number, a boolean, a
 * null made a value and a value made null. */
static const struct {
	const char *pointer;
	const char *value;
} changes[] = {
	{ "/type", "\"isim-memdump-record/v2\"" },
	{ "/vm/name", "\"g2\"" },
	{ "/vm/uuid", "\"6f1c2a4e-7d3b-4c59-9a0e-2b8f5d1e3c48\"" },
	{ "/vm/qemu_version", "\"8.0.0\"" },
	{ "/vm/machine", "null" },
	{ "/vm/memory_bytes", "8589934593" },
	{ "/vm/image", "\"/tmp/other.qcow2\"" },
	{ "/vm/image_sha256", "null" },
	{ "/vm/provenance_sha256", "\"" IMAGE_SHA256 "\"" },
	{ "/qmp/socket", "\"/tmp/other.sock\"" },
	{ "/qmp/command", "\"dump-guest-memory \"" },
	{ "/qmp/arguments/paging", "true" },
	{ "/qmp/arguments/protocol", "\"fd:other\"" },
	{ "/qmp/arguments/format", "\"kdump-zlib\"" },
	{ "/qmp/arguments/detach", "false" },
	{ "/dump/file", "\"/srv/dumps/g2.elf\"" },
	{ "/dump/format", "\"win-dmp\"" },
	{ "/dump/flattened", "true" },
	{ "/dump/size", "8589938689" },
	{ "/dump/sha256", "\"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be04\"" },
	{ "/dump/hashed", "\"from-file\"" },
	{ "/dump/paused", "false" },
	{ "/dump/status_before", "\"paused\"" },
	{ "/started_at", "\"2026-01-01T09:00:00Z\"" },
	{ "/ended_at", "\"2026-01-01T10:00:43Z\"" },
	{ "/host", "\"lab2\"" },
	{ "/operator/name", "\"mallory\"" },
};
#define NCHANGES (sizeof(changes) / sizeof(changes[0]))

static void verify(const cJSON *r, const struct isim_trust *t, struct isim_verdict *v)
{
	struct isim_error err;

	isim_error_clear(&err);
	if (isim_memrecord_verify(r, t, v, &err) < 0)
		fail_msg("verify: %s", tu_msg(&err));
	assert_int_equal(err.kind, ISIM_ERR_NONE);
}

/* A check made, and its answer a refusal for exactly that reason. */
static void refused(const cJSON *r, const struct isim_trust *t, const char *reason)
{
	struct isim_verdict v;

	verify(r, t, &v);
	if (v.ok || strcmp(v.reason, reason) != 0)
		print_error("got ok %d, reason '%s'\n", v.ok, v.reason);
	assert_false(v.ok);
	assert_string_equal(v.reason, reason);
}

static char *text_of(const cJSON *r)
{
	char *text = cJSON_PrintUnformatted(r);

	assert_non_null(text);
	return text;
}

static cJSON *parse_ok(const char *text, size_t len)
{
	struct isim_error err;
	cJSON *r = NULL;

	isim_error_clear(&err);
	if (isim_memrecord_parse(&schema, text, len, "g1.elf.record.json", &r, &err) < 0)
		fail_msg("parse: %s", tu_msg(&err));
	assert_non_null(r);
	return r;
}

/* Parsing text is refused (ISIM_ERR_DATA) with that message and pointer. */
static void parse_refused(const char *text, size_t len, const char *pointer, const char *msg)
{
	struct isim_error err;
	cJSON *r = (cJSON *)&err; /* must come back NULL */

	isim_error_clear(&err);
	assert_int_equal(isim_memrecord_parse(&schema, text, len, "g1.elf.record.json", &r, &err), -1);
	assert_null(r);
	if (strcmp(tu_msg(&err), msg) != 0 || strcmp(err.pointer, pointer) != 0)
		print_error("got pointer '%s', '%s'\n", err.pointer, tu_msg(&err));
	assert_int_equal(err.kind, ISIM_ERR_DATA);
	assert_string_equal(err.path, "g1.elf.record.json");
	assert_string_equal(err.pointer, pointer);
	assert_string_equal(tu_msg(&err), msg);
}

static void parse_refused_doc(const cJSON *r, const char *pointer, const char *msg)
{
	char *text = text_of(r);

	parse_refused(text, strlen(text), pointer, msg);
	free(text);
}

static void digest(const cJSON *r, char out[static ISIM_SHA256_HEX])
{
	struct isim_error err;

	isim_error_clear(&err);
	if (isim_memrecord_digest(r, out, &err) < 0)
		fail_msg("digest: %s", tu_msg(&err));
	assert_int_equal(strlen(out), ISIM_SHA256_HEX - 1);
}

/* The canonical form of r, reached from its indented text rather than
 * from the tree. */
static void jcs_of_text(const cJSON *r, struct isim_buf *out)
{
	struct isim_error err;
	char *text = cJSON_Print(r);

	assert_non_null(text);
	isim_error_clear(&err);
	if (isim_jcs_canonicalize(text, strlen(text), "record", out, &err) < 0)
		fail_msg("jcs: %s", tu_msg(&err));
	assert_false(out->oom);
	free(text);
}

static void test_valid_record_parses(void **state)
{
	char *text;
	cJSON *r = record(OP_HEX), *back, *s;

	(void)state;
	text = text_of(r);
	back = parse_ok(text, strlen(text));
	assert_true(cJSON_Compare(back, r, 1));
	free(text);
	cJSON_Delete(back);
	/* Indented, as the tool writes the file, and signed. */
	s = signed_record(op_key, OP_HEX);
	text = cJSON_Print(s);
	assert_non_null(text);
	back = parse_ok(text, strlen(text));
	assert_true(cJSON_Compare(back, s, 1));
	assert_string_equal(at(back, "/attestation/key_id")->valuestring, OP_HEX);
	free(text);
	cJSON_Delete(back);
	cJSON_Delete(s);
	cJSON_Delete(r);
}

static void test_signed_verifies(void **state)
{
	struct isim_trust t = trust();
	struct isim_verdict v;
	cJSON *r = signed_record(op_key, OP_HEX), *again;
	const char *sig = at(r, "/attestation/signature")->valuestring;
	char *text;

	(void)state;
	assert_string_equal(at(r, "/attestation/key_id")->valuestring, OP_HEX);
	/* The schema's one canonical spelling of 64 bytes in base64. */
	assert_int_equal(strlen(sig), 88);
	assert_string_equal(sig + 86, "==");
	verify(r, &t, &v);
	assert_true(v.ok);
	assert_string_equal(v.reason, "");
	assert_string_equal(v.key_id, OP_HEX);
	assert_string_equal(v.signer, "trust/op.pub");
	/* What the file holds, read back (indented, members in another
	 * order), verifies as well: the signature covers the canonical form. */
	text = cJSON_Print(r);
	assert_non_null(text);
	again = parse_ok(text, strlen(text));
	cJSON_AddItemToObject(again, "type", cJSON_DetachItemFromObjectCaseSensitive(again, "type"));
	verify(again, &t, &v);
	assert_true(v.ok);
	cJSON_Delete(again);
	free(text);
	/* Signing again replaces the attestation rather than adding one. */
	assert_int_equal(isim_memrecord_sign(r, op_key, NULL), 0);
	assert_int_equal(cJSON_GetArraySize(at(r, "/attestation")), 2);
	verify(r, &t, &v);
	assert_true(v.ok);
	cJSON_Delete(r);
}

/* One changed field each, after signing: refused as a bad signature. */
static void test_changed_field_refused(void **state)
{
	struct isim_trust t = trust();
	size_t i;

	(void)state;
	for (i = 0; i < NCHANGES; i++) {
		cJSON *r = signed_record(op_key, OP_HEX);

		set(r, changes[i].pointer, changes[i].value);
		refused(r, &t, "/attestation/signature: signature by " OP_HEX " does not verify");
		cJSON_Delete(r);
	}
	/* A member added, or one taken away, is a change too. */
	{
		cJSON *r = signed_record(op_key, OP_HEX);

		cJSON_AddStringToObject(at(r, "/dump"), "note", "benign");
		refused(r, &t, "/attestation/signature: signature by " OP_HEX " does not verify");
		cJSON_Delete(r);
		r = signed_record(op_key, OP_HEX);
		remove_at(r, "/vm/uuid");
		refused(r, &t, "/attestation/signature: signature by " OP_HEX " does not verify");
		cJSON_Delete(r);
	}
	/* A flipped bit in the signature itself. */
	{
		cJSON *r = signed_record(op_key, OP_HEX);
		char *sig = at(r, "/attestation/signature")->valuestring;

		sig[10] = sig[10] == 'A' ? 'B' : 'A';
		refused(r, &t, "/attestation/signature: signature by " OP_HEX " does not verify");
		cJSON_Delete(r);
	}
}

static void test_untrusted_key_refused(void **state)
{
	struct isim_trust t = trust();
	struct isim_verdict v;
	/* Signed by the other key, which it names as the operator's. */
	cJSON *r = signed_record(other_key, OTHER_HEX);

	(void)state;
	refused(r, &t,
		"/attestation/key_id: signed by key " OTHER_HEX ", which is not a trusted signer (1 key in trust)");
	verify(r, &t, &v);
	assert_string_equal(v.key_id, OTHER_HEX);
	assert_string_equal(v.signer, "");
	cJSON_Delete(r);
	/* The attestation claims the trusted key but holds the other's
	 * signature. */
	r = signed_record(other_key, OP_HEX);
	set(r, "/attestation/key_id", "\"" OP_HEX "\"");
	refused(r, &t, "/attestation/signature: signature by " OP_HEX " does not verify");
	cJSON_Delete(r);
	/* Not signed at all. */
	r = record(OP_HEX);
	refused(r, &t, "/attestation: the record is not signed");
	cJSON_Delete(r);
}

static void test_revoked_key_refused(void **state)
{
	uint8_t revoked[1][ISIM_MS_KEYID_BYTES];
	struct isim_trust t = trust();
	struct isim_verdict v;
	cJSON *r = signed_record(op_key, OP_HEX);

	(void)state;
	/* Its .pub file still in the folder, its id listed in "revoked". */
	memcpy(revoked[0], op_id, sizeof(op_id));
	t.revoked = revoked;
	t.nrevoked = 1;
	assert_non_null(isim_trust_find(&t, op_id));
	refused(r, &t, "/attestation/key_id: key " OP_HEX " is revoked");
	verify(r, &t, &v);
	assert_string_equal(v.key_id, OP_HEX);
	cJSON_Delete(r);
}

static void test_operator_not_signer_refused(void **state)
{
	struct isim_trust t = trust();
	cJSON *r = signed_record(op_key, OTHER_HEX);

	(void)state;
	/* Signed by a trusted key, but naming someone else as the operator. */
	refused(r, &t, "/operator/key_id: the operator's key id " OTHER_HEX " is not the signer's " OP_HEX);
	cJSON_Delete(r);
	/* Changed after signing to the name of another. */
	r = signed_record(op_key, OP_HEX);
	set(r, "/operator/key_id", "\"" OTHER_HEX "\"");
	refused(r, &t, "/operator/key_id: the operator's key id " OTHER_HEX " is not the signer's " OP_HEX);
	cJSON_Delete(r);
}

static void test_digest(void **state)
{
	char d1[ISIM_SHA256_HEX], d2[ISIM_SHA256_HEX], want[ISIM_SHA256_HEX];
	struct isim_buf jcs = { 0 };
	cJSON *r = signed_record(op_key, OP_HEX), *copy;
	size_t i;

	(void)state;
	/* Stable: the same record twice, and a copy with its members in
	 * another order. */
	digest(r, d1);
	digest(r, d2);
	assert_string_equal(d1, d2);
	copy = cJSON_Duplicate(r, 1);
	cJSON_AddItemToObject(copy, "vm", cJSON_DetachItemFromObjectCaseSensitive(copy, "vm"));
	digest(copy, d2);
	assert_string_equal(d1, d2);
	cJSON_Delete(copy);
	/* The SHA-256 of its RFC 8785 form, attestation included. */
	jcs_of_text(r, &jcs);
	assert_non_null(strstr(jcs.s, "\"attestation\":{\"key_id\":\"" OP_HEX "\""));
	assert_int_equal(isim_sha256_hex(jcs.s, jcs.len, want), 0);
	assert_string_equal(d1, want);
	isim_buf_free(&jcs);
	/* Any change changes it, the signature's included. */
	for (i = 0; i < NCHANGES; i++) {
		copy = cJSON_Duplicate(r, 1);
		set(copy, changes[i].pointer, changes[i].value);
		digest(copy, d2);
		if (!strcmp(d1, d2))
			print_error("%s changed, the digest did not\n", changes[i].pointer);
		assert_string_not_equal(d1, d2);
		cJSON_Delete(copy);
	}
	copy = cJSON_Duplicate(r, 1);
	set(copy, "/operator/key_id", "\"" OTHER_HEX "\"");
	digest(copy, d2);
	assert_string_not_equal(d1, d2);
	cJSON_Delete(copy);
	copy = signed_record(other_key, OP_HEX);
	digest(copy, d2);
	assert_string_not_equal(d1, d2);
	cJSON_Delete(copy);
	cJSON_Delete(r);
}

static void test_parse_refused(void **state)
{
	static const char *const required[] = {
		"/type",	"/vm",
		"/qmp",		"/dump",
		"/started_at",	"/ended_at",
		"/host",	"/operator",
		"/vm/uuid",	"/qmp/arguments/detach",
		"/dump/sha256", "/operator/key_id",
	};
	char *big, *text;
	size_t i, len;
	cJSON *r;

	(void)state;
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		const char *slash = strrchr(required[i], '/');
		char parent[64], msg[256];

		r = record(OP_HEX);
		remove_at(r, required[i]);
		snprintf(parent, sizeof(parent), "%.*s", (int)(slash - required[i]), required[i]);
		snprintf(msg, sizeof(msg), "g1.elf.record.json: %s%srequired: missing property '%s'", parent,
			 *parent ? ": " : "", slash + 1);
		parse_refused_doc(r, parent, msg);
		cJSON_Delete(r);
	}
	r = record(OP_HEX);
	cJSON_AddStringToObject(r, "note", "x");
	parse_refused_doc(r, "/note",
			  "g1.elf.record.json: /note: additionalProperties: property 'note' is not allowed");
	cJSON_Delete(r);
	r = record(OP_HEX);
	cJSON_AddStringToObject(at(r, "/qmp/arguments"), "fdname", "isim-memdump");
	parse_refused_doc(
		r, "/qmp/arguments/fdname",
		"g1.elf.record.json: /qmp/arguments/fdname: additionalProperties: property 'fdname' is not allowed");
	cJSON_Delete(r);

	/* A value of the wrong kind, deep in the record. */
	r = record(OP_HEX);
	set(r, "/dump/size", "-1");
	parse_refused_doc(r, "/dump/size", "g1.elf.record.json: /dump/size: minimum: -1 is less than 0");
	cJSON_Delete(r);
	r = signed_record(op_key, OP_HEX);
	set(r, "/attestation/signature", "\"AAAA\"");
	parse_refused_doc(r, "/attestation/signature",
			  "g1.elf.record.json: /attestation/signature: pattern: \"AAAA\" does not match "
			  "'^[A-Za-z0-9+/]{85}[AQgw]==$'");
	cJSON_Delete(r);
	/* A member twice: not I-JSON (RFC 7493 section 2.3). */
	parse_refused("{\"type\":\"" ISIM_MEMRECORD_TYPE "\",\"type\":\"" ISIM_MEMRECORD_TYPE "\"}", 65, "/type",
		      "g1.elf.record.json:1:34: /type: duplicate member name \"type\"");

	/* Too large: a valid record padded with blanks to one byte over. */
	r = record(OP_HEX);
	text = text_of(r);
	len = strlen(text);
	big = malloc(ISIM_MEMRECORD_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', ISIM_MEMRECORD_MAX + 1);
	memcpy(big, text, len);
	big[ISIM_MEMRECORD_MAX + 1] = '\0';
	parse_refused(big, ISIM_MEMRECORD_MAX + 1, "",
		      "g1.elf.record.json: 1048577 bytes is too large for a record (at most 1048576)");
	/* At the limit it is read. */
	cJSON_Delete(parse_ok(big, ISIM_MEMRECORD_MAX));
	free(big);

	/* Malformed: cut short, and a trailing comma. */
	parse_refused(text, len - 1, "", "g1.elf.record.json:1:866: unexpected end of input, expected ',' or '}'");
	text[len - 1] = ',';
	parse_refused(text, len, "", "g1.elf.record.json:1:867: unexpected end of input, expected a member name");
	free(text);
	cJSON_Delete(r);
}

static void test_dump(void **state)
{
	char sha[ISIM_SHA256_HEX];
	struct isim_error err;
	uint64_t size = 0;
	cJSON *r = signed_record(op_key, OP_HEX);

	(void)state;
	isim_error_clear(&err);
	assert_int_equal(isim_memrecord_dump(r, &size, sha, &err), 0);
	assert_true(size == 8589938688ULL);
	assert_string_equal(sha, DUMP_SHA256);
	remove_at(r, "/dump/sha256");
	assert_int_equal(isim_memrecord_dump(r, &size, sha, &err), -1);
	tu_expect_error(&err, ISIM_ERR_DATA, "/dump: the record states no dump size and SHA-256");
	cJSON_Delete(r);
}

static void test_dsse(void **state)
{
	struct isim_trust t = trust();
	struct isim_buf want = { 0 };
	struct isim_dsse env = { 0 };
	struct isim_verdict v;
	struct isim_error err;
	char *text = NULL;
	cJSON *r = signed_record(op_key, OP_HEX), *bare;

	(void)state;
	isim_error_clear(&err);
	if (isim_memrecord_dsse(r, op_key, &text, &err) < 0)
		fail_msg("dsse: %s", tu_msg(&err));
	if (isim_dsse_parse(text, strlen(text), "g1.elf.record.dsse.json", &env, &err) < 0)
		fail_msg("dsse parse: %s", tu_msg(&err));
	assert_string_equal(env.payload_type, ISIM_MEMRECORD_DSSE_TYPE);
	assert_int_equal(env.nsigs, 1);
	assert_string_equal(env.sigs[0].keyid, OP_HEX);
	assert_int_equal(isim_dsse_verify_trusted(&env, &t, ISIM_MEMRECORD_DSSE_TYPE, &v, &err), 0);
	if (!v.ok)
		print_error("refused: %s\n", v.reason);
	assert_true(v.ok);
	assert_string_equal(v.key_id, OP_HEX);
	assert_string_equal(v.signer, "trust/op.pub");
	/* The payload: the record without its attestation, canonical. */
	bare = cJSON_Duplicate(r, 1);
	cJSON_DeleteItemFromObjectCaseSensitive(bare, "attestation");
	jcs_of_text(bare, &want);
	assert_int_equal(env.payload_len, want.len);
	assert_memory_equal(env.payload, want.s, want.len);
	/* And so an unsigned record makes the same envelope payload. */
	isim_dsse_free(&env);
	free(text);
	text = NULL;
	assert_int_equal(isim_memrecord_dsse(bare, op_key, &text, &err), 0);
	assert_int_equal(isim_dsse_parse(text, strlen(text), "bare.dsse.json", &env, &err), 0);
	assert_memory_equal(env.payload, want.s, want.len);
	/* Under another type it is refused. */
	assert_int_equal(isim_dsse_verify_trusted(&env, &t, "application/vnd.in-toto+json", &v, &err), 0);
	assert_false(v.ok);
	isim_dsse_free(&env);
	free(text);
	text = NULL;
	/* Signed by a key no one trusts, it is refused. */
	assert_int_equal(isim_memrecord_dsse(r, other_key, &text, &err), 0);
	assert_int_equal(isim_dsse_parse(text, strlen(text), "other.dsse.json", &env, &err), 0);
	assert_int_equal(isim_dsse_verify_trusted(&env, &t, ISIM_MEMRECORD_DSSE_TYPE, &v, &err), 0);
	assert_false(v.ok);
	assert_non_null(strstr(v.reason, OTHER_HEX));
	isim_dsse_free(&env);
	free(text);
	isim_buf_free(&want);
	cJSON_Delete(bare);
	cJSON_Delete(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_record_parses),
		cmocka_unit_test(test_signed_verifies),
		cmocka_unit_test(test_changed_field_refused),
		cmocka_unit_test(test_untrusted_key_refused),
		cmocka_unit_test(test_revoked_key_refused),
		cmocka_unit_test(test_operator_not_signer_refused),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_dsse),
	};
	struct isim_error err;
	int r;

	if (sodium_init() < 0)
		return 1;
	op_key = key(0x41, op_id);
	other_key = key(0x42, other_id);
	isim_ms_seckey_pubkey(op_key, &trusted_keys[0].pk);
	snprintf(trusted_keys[0].path, sizeof(trusted_keys[0].path), "trust/op.pub");
	isim_error_clear(&err);
	if (isim_memrecord_schema_load(&schema, &err) < 0) {
		fprintf(stderr, "schema: %s\n", err.msg);
		return 1;
	}
	r = cmocka_run_group_tests(tests, NULL, NULL);
	isim_memrecord_schema_free(&schema);
	isim_ms_seckey_free(op_key);
	isim_ms_seckey_free(other_key);
	return r;
}
