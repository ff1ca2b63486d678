/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cbor.h>
#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "isim/hash.h"
#include "isim/json.h"
#include "isim/utf8.h"
#include "isim/webauthn.h"

static const char *const reason_names[] = {
	[ISIM_WA_OK] = "ok",
	[ISIM_WA_MALFORMED] = "malformed",
	[ISIM_WA_TYPE] = "type",
	[ISIM_WA_CHALLENGE] = "challenge",
	[ISIM_WA_ORIGIN] = "origin",
	[ISIM_WA_CROSS_ORIGIN] = "cross_origin",
	[ISIM_WA_TOKEN_BINDING] = "token_binding",
	[ISIM_WA_RP_ID] = "rp_id",
	[ISIM_WA_USER_PRESENCE] = "user_presence",
	[ISIM_WA_USER_VERIFICATION] = "user_verification",
	[ISIM_WA_ALGORITHM] = "algorithm",
	[ISIM_WA_SIGNATURE] = "signature",
	[ISIM_WA_COUNTER] = "counter",
	[ISIM_WA_ATTESTATION] = "attestation",
	[ISIM_WA_UNKNOWN_CREDENTIAL] = "unknown_credential",
	[ISIM_WA_USER_HANDLE] = "user_handle",
	[ISIM_WA_CREDENTIAL_EXISTS] = "credential_exists",
	[ISIM_WA_EXPIRED] = "expired",
	[ISIM_WA_BACKUP_ELIGIBILITY] = "backup_eligibility",
	[ISIM_WA_SESSION] = "session",
	[ISIM_WA_UNKNOWN_USER] = "unknown_user",
	[ISIM_WA_USER_EXISTS] = "user_exists",
	[ISIM_WA_INTERNAL] = "internal",
};

const char *isim_wa_reason_name(enum isim_wa_reason r)
{
	if ((size_t)r < sizeof(reason_names) / sizeof(reason_names[0]) && reason_names[r])
		return reason_names[r];
	return "internal";
}

bool isim_wa_fail(struct isim_wa_status *st, enum isim_wa_reason r, const char *fmt, ...)
{
	va_list ap;

	if (!st)
		return false;
	st->reason = r;
	va_start(ap, fmt);
	vsnprintf(st->msg, sizeof(st->msg), fmt, ap);
	va_end(ap);
	return false;
}

static bool ok(struct isim_wa_status *st)
{
	if (st) {
		st->reason = ISIM_WA_OK;
		st->msg[0] = '\0';
	}
	return true;
}

static bool oom(struct isim_wa_status *st)
{
	return isim_wa_fail(st, ISIM_WA_INTERNAL, "Out of memory.");
}

bool isim_wa_alg_supported(int64_t alg)
{
	return isim_wa_alg_name(alg) != NULL;
}

const char *isim_wa_alg_name(int64_t alg)
{
	switch (alg) {
	case ISIM_COSE_ES256:
		return "ES256";
	case ISIM_COSE_EDDSA:
		return "EdDSA";
	case ISIM_COSE_ES384:
		return "ES384";
	case ISIM_COSE_ES512:
		return "ES512";
	case ISIM_COSE_RS256:
		return "RS256";
	}
	return NULL;
}

const char *isim_wa_att_type_name(enum isim_wa_att_type t)
{
	switch (t) {
	case ISIM_WA_ATT_NONE:
		return "none";
	case ISIM_WA_ATT_SELF:
		return "self";
	case ISIM_WA_ATT_BASIC:
		return "basic";
	case ISIM_WA_ATT_UNVERIFIED:
		return "unverified";
	}
	return "none";
}

void isim_wa_aaguid_text(const uint8_t aaguid[static ISIM_WA_AAGUID_BYTES], char out[static 37])
{
	char hex[2 * ISIM_WA_AAGUID_BYTES + 1];

	isim_hex(aaguid, ISIM_WA_AAGUID_BYTES, hex);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

/* ---- base64url ------------------------------------------------------------ */

bool isim_wa_b64url_decode(const char *s, size_t max, uint8_t **out, size_t *len)
{
	size_t n = strlen(s), cap = n / 4 * 3 + 3, got = 0;
	const char *end = NULL;
	uint8_t *buf;

	*out = NULL;
	*len = 0;
	if (cap > max + 3)
		return false;
	buf = malloc(cap ? cap : 1);
	if (!buf)
		return false;
	/* libsodium refuses padding in this variant, and non-zero bits after
	 * the last whole byte, so each byte string has one spelling. */
	if (sodium_base642bin(buf, cap, s, n, NULL, &got, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    end != s + n || got > max) {
		free(buf);
		return false;
	}
	*out = buf;
	*len = got;
	return true;
}

char *isim_wa_b64url_encode(const uint8_t *p, size_t len)
{
	size_t n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *s = malloc(n);

	if (s)
		sodium_bin2base64(s, n, p ? p : (const uint8_t *)"", len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return s;
}

/* ---- deterministic CBOR ---------------------------------------------------- */

#define CBOR_MAX_DEPTH 16

/* What libcbor's stream decoder saw in one head. */
enum head_kind {
	H_BAD,
	H_UINT,
	H_NEGINT,
	H_BYTES,
	H_TEXT,
	H_ARRAY,
	H_MAP,
	H_SIMPLE, /* true, false, null */
	H_INDEF,
	H_TAG,
	H_FLOAT,
	H_UNDEF,
};

struct head {
	enum head_kind kind;
	uint64_t value; /* integer value, string length, item count */
	const unsigned char *data;
};

/* libcbor's callbacks, one a width: each says what the head is. */
static void head_set(void *c, enum head_kind kind, uint64_t v)
{
	((struct head *)c)->kind = kind;
	((struct head *)c)->value = v;
}
static void h_u8(void *c, uint8_t v)
{
	head_set(c, H_UINT, v);
}
static void h_u16(void *c, uint16_t v)
{
	head_set(c, H_UINT, v);
}
static void h_u32(void *c, uint32_t v)
{
	head_set(c, H_UINT, v);
}
static void h_u64(void *c, uint64_t v)
{
	head_set(c, H_UINT, v);
}
static void h_n8(void *c, uint8_t v)
{
	head_set(c, H_NEGINT, v);
}
static void h_n16(void *c, uint16_t v)
{
	head_set(c, H_NEGINT, v);
}
static void h_n32(void *c, uint32_t v)
{
	head_set(c, H_NEGINT, v);
}
static void h_n64(void *c, uint64_t v)
{
	head_set(c, H_NEGINT, v);
}
static void h_bytes(void *c, cbor_data d, size_t n)
{
	((struct head *)c)->kind = H_BYTES;
	((struct head *)c)->value = n;
	((struct head *)c)->data = d;
}
static void h_text(void *c, cbor_data d, size_t n)
{
	((struct head *)c)->kind = H_TEXT;
	((struct head *)c)->value = n;
	((struct head *)c)->data = d;
}
static void h_array(void *c, size_t n)
{
	((struct head *)c)->kind = H_ARRAY;
	((struct head *)c)->value = n;
}
static void h_map(void *c, size_t n)
{
	((struct head *)c)->kind = H_MAP;
	((struct head *)c)->value = n;
}
static void h_indef(void *c)
{
	((struct head *)c)->kind = H_INDEF;
}
static void h_tag(void *c, uint64_t v)
{
	(void)v;
	((struct head *)c)->kind = H_TAG;
}
static void h_float(void *c, float v)
{
	(void)v;
	((struct head *)c)->kind = H_FLOAT;
}
static void h_double(void *c, double v)
{
	(void)v;
	((struct head *)c)->kind = H_FLOAT;
}
static void h_undef(void *c)
{
	((struct head *)c)->kind = H_UNDEF;
}
static void h_null(void *c)
{
	((struct head *)c)->kind = H_SIMPLE;
}
static void h_bool(void *c, bool v)
{
	(void)v;
	((struct head *)c)->kind = H_SIMPLE;
}

static const struct cbor_callbacks head_callbacks = {
	.uint8 = h_u8,
	.uint16 = h_u16,
	.uint32 = h_u32,
	.uint64 = h_u64,
	.negint8 = h_n8,
	.negint16 = h_n16,
	.negint32 = h_n32,
	.negint64 = h_n64,
	.byte_string = h_bytes,
	.byte_string_start = h_indef,
	.string = h_text,
	.string_start = h_indef,
	.array_start = h_array,
	.indef_array_start = h_indef,
	.map_start = h_map,
	.indef_map_start = h_indef,
	.tag = h_tag,
	.float2 = h_float,
	.float4 = h_float,
	.float8 = h_double,
	.undefined = h_undef,
	.null = h_null,
	.boolean = h_bool,
	.indef_break = h_indef,
};

/* RFC 8949 section 4.2.1: the argument in the shortest head. */
static size_t shortest_head(uint64_t v)
{
	if (v < 24)
		return 1;
	if (v <= 0xff)
		return 2;
	if (v <= 0xffff)
		return 3;
	if (v <= 0xffffffffu)
		return 5;
	return 9;
}

struct frame {
	uint64_t left;	  /* items still to come (a map counts keys and values) */
	bool map;	  /* keys at even positions */
	size_t key_start; /* of the key being read */
	size_t prev_off, prev_len;
	bool have_prev;
};

/* CTAP2 canonical order (CTAP 2.1 section 8): shorter encoded keys first,
 * then bytewise; equal keys are duplicates. */
static int key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return memcmp(a, b, alen);
}

bool isim_wa_cbor_check(const uint8_t *p, size_t len, size_t *item_len, struct isim_wa_status *st)
{
	struct frame stack[CBOR_MAX_DEPTH];
	size_t depth = 0, pos = 0;

	for (;;) {
		struct head h = { .kind = H_BAD };
		struct cbor_decoder_result r;
		size_t head_len;
		struct frame *top = depth ? &stack[depth - 1] : NULL;

		if (top && top->map && top->left % 2 == 0)
			top->key_start = pos;
		if (pos >= len)
			return isim_wa_fail(st, ISIM_WA_MALFORMED, "The CBOR data ends at byte %zu inside an item.",
					    pos);
		r = cbor_stream_decode(p + pos, len - pos, &head_callbacks, &h);
		if (r.status == CBOR_DECODER_NEDATA)
			return isim_wa_fail(st, ISIM_WA_MALFORMED, "The CBOR item at byte %zu is truncated.", pos);
		if (r.status != CBOR_DECODER_FINISHED || h.kind == H_BAD)
			return isim_wa_fail(st, ISIM_WA_MALFORMED, "The CBOR data at byte %zu is not well-formed.",
					    pos);
		switch (h.kind) {
		case H_INDEF:
			return isim_wa_fail(st, ISIM_WA_MALFORMED,
					    "The CBOR item at byte %zu has an indefinite length, which is refused.",
					    pos);
		case H_TAG:
			return isim_wa_fail(st, ISIM_WA_MALFORMED,
					    "The CBOR item at byte %zu is a tag, which is refused.", pos);
		case H_FLOAT:
		case H_UNDEF:
			return isim_wa_fail(st, ISIM_WA_MALFORMED,
					    "The CBOR item at byte %zu is a float or undefined, which is refused.",
					    pos);
		case H_BYTES:
		case H_TEXT:
			head_len = r.read - (size_t)h.value;
			break;
		default:
			head_len = r.read;
			break;
		}
		if (h.kind != H_SIMPLE && head_len != shortest_head(h.value))
			return isim_wa_fail(st, ISIM_WA_MALFORMED,
					    "The CBOR item at byte %zu is not in its shortest form.", pos);
		if (h.kind == H_TEXT && !isim_utf8_valid((const char *)h.data, (size_t)h.value))
			return isim_wa_fail(st, ISIM_WA_MALFORMED, "The CBOR text string at byte %zu is not UTF-8.",
					    pos);
		pos += r.read;
		if ((h.kind == H_ARRAY || h.kind == H_MAP) && h.value > 0) {
			uint64_t n = h.value;

			/* Every item takes a byte at least: a count beyond what
			 * is left cannot be right, and is refused before libcbor
			 * would allocate for it. */
			if (n > len - pos || (h.kind == H_MAP && n > (len - pos) / 2))
				return isim_wa_fail(st, ISIM_WA_MALFORMED,
						    "The CBOR %s at byte %zu claims more items than there are bytes.",
						    h.kind == H_MAP ? "map" : "array", pos - r.read);
			if (depth == CBOR_MAX_DEPTH)
				return isim_wa_fail(st, ISIM_WA_MALFORMED, "The CBOR data nests more than %d deep.",
						    CBOR_MAX_DEPTH);
			stack[depth++] = (struct frame){ .left = h.kind == H_MAP ? 2 * n : n, .map = h.kind == H_MAP };
			continue;
		}
		/* An item ended: count it in the containers it completes. */
		while (depth) {
			top = &stack[depth - 1];
			if (top->map && top->left % 2 == 0) {
				size_t klen = pos - top->key_start;

				if (top->have_prev &&
				    key_cmp(p + top->prev_off, top->prev_len, p + top->key_start, klen) >= 0)
					return isim_wa_fail(st, ISIM_WA_MALFORMED,
							    "The CBOR map key at byte %zu is a duplicate or out of "
							    "canonical order.",
							    top->key_start);
				top->prev_off = top->key_start;
				top->prev_len = klen;
				top->have_prev = true;
			}
			if (--top->left)
				break;
			depth--;
		}
		if (!depth)
			break;
	}
	*item_len = pos;
	return ok(st);
}

/* Check, then load, one whole CBOR item: nothing may follow it. */
static bool cbor_load_strict(const uint8_t *p, size_t len, const char *what, cbor_item_t **out,
			     struct isim_wa_status *st)
{
	struct cbor_load_result lr;
	size_t n = 0;

	*out = NULL;
	if (!len)
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "The %s is empty, not CBOR.", what);
	if (!isim_wa_cbor_check(p, len, &n, st)) {
		char msg[sizeof(st->msg)];

		snprintf(msg, sizeof(msg), "%s", st->msg);
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "The %s is refused: %s", what, msg);
	}
	if (n != len)
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "The %s has %zu bytes after its CBOR item.", what, len - n);
	*out = cbor_load(p, len, &lr);
	if (!*out || lr.error.code != CBOR_ERR_NONE || lr.read != len) {
		if (*out)
			cbor_decref(out);
		*out = NULL;
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "The %s cannot be decoded as CBOR.", what);
	}
	return ok(st);
}

/* A CBOR integer as int64 (negative n is -1 - n, RFC 8949 section 3.1). */
static bool cbor_int64(const cbor_item_t *it, int64_t *out)
{
	uint64_t v;

	if (!cbor_is_int(it))
		return false;
	v = cbor_get_int(it);
	if (v > INT64_MAX)
		return false;
	*out = cbor_isa_uint(it) ? (int64_t)v : -1 - (int64_t)v;
	return true;
}

static bool cbor_text_is(const cbor_item_t *it, const char *s)
{
	size_t n = strlen(s);

	return cbor_isa_string(it) && cbor_string_length(it) == n && !memcmp(cbor_string_handle(it), s, n);
}

/* ---- clientDataJSON ----------------------------------------------------------- */

void isim_wa_client_data_free(struct isim_wa_client_data *cd)
{
	free(cd->type);
	free(cd->challenge);
	free(cd->origin);
	free(cd->top_origin);
	free(cd->token_binding_status);
	memset(cd, 0, sizeof(*cd));
}

static bool cd_string(const cJSON *doc, const char *name, bool required, char **out, struct isim_wa_status *st)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(doc, name);

	*out = NULL;
	if (!it) {
		if (required)
			return isim_wa_fail(st, ISIM_WA_MALFORMED, "clientDataJSON has no member '%s'.", name);
		return true;
	}
	if (!cJSON_IsString(it))
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "clientDataJSON's '%s' is not a string.", name);
	*out = strdup(it->valuestring);
	return *out ? true : oom(st);
}

bool isim_wa_client_data_parse(const uint8_t *p, size_t len, struct isim_wa_client_data *cd, struct isim_wa_status *st)
{
	struct isim_error err;
	cJSON *doc = NULL;
	const cJSON *it;
	char *challenge = NULL;
	bool ret = false;

	memset(cd, 0, sizeof(*cd));
	if (len > ISIM_WA_CLIENT_DATA_MAX)
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "clientDataJSON is %zu bytes, more than %u.", len,
				    ISIM_WA_CLIENT_DATA_MAX);
	/* Section 5.8.1.2 lets clients add members: it is read as JSON
	 * (strictly: no duplicate members), never matched as a template. */
	if (isim_json_parse((const char *)p, len, "clientDataJSON", &doc, &err) < 0) {
		if (err.kind == ISIM_ERR_INTERNAL)
			return oom(st);
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "clientDataJSON is not JSON (%s%s%s).", err.pointer,
				    err.pointer[0] ? ": " : "", err.msg);
	}
	if (!cJSON_IsObject(doc)) {
		isim_wa_fail(st, ISIM_WA_MALFORMED, "clientDataJSON is not a JSON object.");
		goto out;
	}
	if (!cd_string(doc, "type", true, &cd->type, st) || !cd_string(doc, "challenge", true, &challenge, st) ||
	    !cd_string(doc, "origin", true, &cd->origin, st) ||
	    !cd_string(doc, "topOrigin", false, &cd->top_origin, st))
		goto out;
	if (!isim_wa_b64url_decode(challenge, 1024, &cd->challenge, &cd->challenge_len)) {
		isim_wa_fail(st, ISIM_WA_MALFORMED,
			     "clientDataJSON's challenge is not base64url of at most 1024 bytes.");
		goto out;
	}
	it = cJSON_GetObjectItemCaseSensitive(doc, "crossOrigin");
	if (it && !cJSON_IsBool(it)) {
		isim_wa_fail(st, ISIM_WA_MALFORMED, "clientDataJSON's crossOrigin is not a boolean.");
		goto out;
	}
	cd->cross_origin = cJSON_IsTrue(it);
	/* Token binding (Level 2, section 5.8.1): an object with a status.
	 * Firefox once sent the string "unused", which means none was used. */
	it = cJSON_GetObjectItemCaseSensitive(doc, "tokenBinding");
	if (cJSON_IsObject(it)) {
		if (!cd_string(it, "status", true, &cd->token_binding_status, st)) {
			isim_wa_fail(st, ISIM_WA_MALFORMED, "clientDataJSON's tokenBinding has no status string.");
			goto out;
		}
	}
	ret = ok(st);
out:
	free(challenge);
	cJSON_Delete(doc);
	if (!ret)
		isim_wa_client_data_free(cd);
	return ret;
}

/* ---- authenticator data --------------------------------------------------------- */

bool isim_wa_auth_data_parse(const uint8_t *p, size_t len, struct isim_wa_auth_data *ad, struct isim_wa_status *st)
{
	size_t pos = 37, n;

	memset(ad, 0, sizeof(*ad));
	if (len < 37)
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "The authenticator data is %zu bytes, shorter than 37.",
				    len);
	ad->raw = p;
	ad->len = len;
	ad->rp_id_hash = p;
	ad->flags = p[32];
	ad->sign_count = (uint32_t)p[33] << 24 | (uint32_t)p[34] << 16 | (uint32_t)p[35] << 8 | p[36];
	/* Section 6.3.3: a credential that cannot be backed up is not. */
	if ((ad->flags & ISIM_WA_FLAG_BS) && !(ad->flags & ISIM_WA_FLAG_BE))
		return isim_wa_fail(st, ISIM_WA_MALFORMED,
				    "The authenticator data says backed up (BS) but not backup eligible (BE).");
	if (ad->flags & ISIM_WA_FLAG_AT) {
		if (len - pos < ISIM_WA_AAGUID_BYTES + 2)
			return isim_wa_fail(st, ISIM_WA_MALFORMED,
					    "The attested credential data is truncated before the credential id.");
		ad->aaguid = p + pos;
		pos += ISIM_WA_AAGUID_BYTES;
		ad->cred_id_len = (size_t)p[pos] << 8 | p[pos + 1];
		pos += 2;
		if (ad->cred_id_len > ISIM_WA_CRED_ID_MAX)
			return isim_wa_fail(st, ISIM_WA_MALFORMED, "The credential id is %zu bytes, more than %d.",
					    ad->cred_id_len, ISIM_WA_CRED_ID_MAX);
		if (ad->cred_id_len == 0)
			return isim_wa_fail(st, ISIM_WA_MALFORMED, "The credential id is empty.");
		if (len - pos < ad->cred_id_len)
			return isim_wa_fail(st, ISIM_WA_MALFORMED, "The credential id is truncated.");
		ad->cred_id = p + pos;
		pos += ad->cred_id_len;
		if (!isim_wa_cbor_check(p + pos, len - pos, &n, st)) {
			char msg[sizeof(st->msg)];

			snprintf(msg, sizeof(msg), "%s", st->msg);
			return isim_wa_fail(st, ISIM_WA_MALFORMED, "The credential public key is refused: %s", msg);
		}
		ad->cose_key = p + pos;
		ad->cose_key_len = n;
		pos += n;
	}
	if (ad->flags & ISIM_WA_FLAG_ED) {
		if (!isim_wa_cbor_check(p + pos, len - pos, &n, st)) {
			char msg[sizeof(st->msg)];

			snprintf(msg, sizeof(msg), "%s", st->msg);
			return isim_wa_fail(st, ISIM_WA_MALFORMED, "The extensions are refused: %s", msg);
		}
		if ((p[pos] & 0xe0) != 0xa0)
			return isim_wa_fail(st, ISIM_WA_MALFORMED, "The extensions are not a CBOR map.");
		ad->extensions = p + pos;
		ad->extensions_len = n;
		pos += n;
	}
	if (pos != len)
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "The authenticator data has %zu bytes after its end.",
				    len - pos);
	return ok(st);
}

/* ---- keys ------------------------------------------------------------------------ */

void isim_wa_key_free(struct isim_wa_key *k)
{
	EVP_PKEY_free(k->pkey);
	memset(k, 0, sizeof(*k));
}

static const char *ec_group_of(int64_t alg, size_t *coord)
{
	switch (alg) {
	case ISIM_COSE_ES256:
		*coord = 32;
		return "prime256v1";
	case ISIM_COSE_ES384:
		*coord = 48;
		return "secp384r1";
	case ISIM_COSE_ES512:
		*coord = 66;
		return "secp521r1";
	}
	return NULL;
}

static bool ec_key_from_point(const char *group, const uint8_t *pt, size_t ptlen, EVP_PKEY **out,
			      struct isim_wa_status *st)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL, *check = NULL;
	bool ret = false;

	*out = NULL;
	if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, ptlen) ||
	    !(params = OSSL_PARAM_BLD_to_param(bld)) || !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) ||
	    EVP_PKEY_fromdata_init(ctx) != 1) {
		oom(st);
		goto out;
	}
	/* The point on the curve is all there is to check: P-256, P-384 and
	 * P-521 have cofactor 1, so the order check of the full test adds
	 * nothing but a scalar multiplication (SP 800-56A 5.6.2.3.4). */
	if (EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1 ||
	    !(check = EVP_PKEY_CTX_new_from_pkey(NULL, *out, NULL)) || EVP_PKEY_public_check_quick(check) != 1) {
		isim_wa_fail(st, ISIM_WA_MALFORMED, "The EC2 key's point is not on curve %s.", group);
		goto out;
	}
	ret = true;
out:
	if (!ret) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	EVP_PKEY_CTX_free(check);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return ret;
}

/* Section 5.8.5 forbids nothing about RSA sizes; under 2048 bits is too weak
 * to accept (NIST SP 800-131A), and more than 8192 only costs time. */
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 8192

static bool rsa_key_from(const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen, EVP_PKEY **out,
			 struct isim_wa_status *st)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *bn = NULL, *be = NULL;
	bool ret = false;

	*out = NULL;
	if (!bld || !(bn = BN_bin2bn(n, (int)nlen, NULL)) || !(be = BN_bin2bn(e, (int)elen, NULL))) {
		oom(st);
		goto out;
	}
	if (BN_num_bits(bn) < RSA_MIN_BITS || BN_num_bits(bn) > RSA_MAX_BITS || !BN_is_odd(bn)) {
		isim_wa_fail(st, ISIM_WA_ALGORITHM, "The RSA modulus has %d bits, not an odd number of %d to %d.",
			     BN_num_bits(bn), RSA_MIN_BITS, RSA_MAX_BITS);
		goto out;
	}
	if (!BN_is_odd(be) || BN_num_bits(be) < 2 || BN_num_bits(be) > 256) {
		isim_wa_fail(st, ISIM_WA_MALFORMED, "The RSA public exponent is not an odd number above 1.");
		goto out;
	}
	if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) || !(params = OSSL_PARAM_BLD_to_param(bld)) ||
	    !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) || EVP_PKEY_fromdata_init(ctx) != 1) {
		oom(st);
		goto out;
	}
	if (EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		isim_wa_fail(st, ISIM_WA_MALFORMED, "The RSA key cannot be made from its modulus and exponent.");
		goto out;
	}
	ret = true;
out:
	BN_free(bn);
	BN_free(be);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return ret;
}

/* COSE key labels (RFC 9052 section 7.1, RFC 9053 section 7). */
#define COSE_KTY 1
#define COSE_ALG 3
#define COSE_CRV (-1) /* EC2, OKP; RSA's n */
#define COSE_X (-2)   /* EC2, OKP; RSA's e */
#define COSE_Y (-3)
#define KTY_OKP 1
#define KTY_EC2 2
#define KTY_RSA 3

static const cbor_item_t *cose_get(const cbor_item_t *map, int64_t label)
{
	struct cbor_pair *pairs = cbor_map_handle(map);
	size_t i, n = cbor_map_size(map);
	int64_t k;

	for (i = 0; i < n; i++)
		if (cbor_int64(pairs[i].key, &k) && k == label)
			return pairs[i].value;
	return NULL;
}

static bool cose_bytes(const cbor_item_t *map, int64_t label, const char *name, const uint8_t **p, size_t *n,
		       struct isim_wa_status *st)
{
	const cbor_item_t *it = cose_get(map, label);

	if (!it || !cbor_isa_bytestring(it))
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "The COSE key has no byte string %s.", name);
	*p = cbor_bytestring_handle(it);
	*n = cbor_bytestring_length(it);
	return true;
}

static bool cose_int(const cbor_item_t *map, int64_t label, const char *name, int64_t *v, struct isim_wa_status *st)
{
	const cbor_item_t *it = cose_get(map, label);

	if (!it || !cbor_int64(it, v))
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "The COSE key has no integer %s.", name);
	return true;
}

bool isim_wa_cose_key_parse(const uint8_t *p, size_t len, struct isim_wa_key *k, struct isim_wa_status *st)
{
	cbor_item_t *root = NULL;
	struct cbor_pair *pairs;
	const uint8_t *x, *y, *n, *e;
	size_t xl, yl, nl, el, coord = 0, i;
	int64_t kty, alg, crv, label;
	uint8_t pt[1 + 2 * 66];
	const char *group;
	bool ret = false;

	memset(k, 0, sizeof(*k));
	if (!cbor_load_strict(p, len, "COSE key", &root, st))
		return false;
	if (!cbor_isa_map(root)) {
		isim_wa_fail(st, ISIM_WA_MALFORMED, "The COSE key is not a CBOR map.");
		goto out;
	}
	pairs = cbor_map_handle(root);
	for (i = 0; i < cbor_map_size(root); i++) {
		if (!cbor_int64(pairs[i].key, &label)) {
			isim_wa_fail(st, ISIM_WA_MALFORMED, "The COSE key has a label that is not an integer.");
			goto out;
		}
	}
	if (!cose_int(root, COSE_KTY, "kty (1)", &kty, st) || !cose_int(root, COSE_ALG, "alg (3)", &alg, st))
		goto out;
	if (!isim_wa_alg_supported(alg)) {
		isim_wa_fail(st, ISIM_WA_ALGORITHM, "The COSE key's algorithm %lld is not supported.", (long long)alg);
		goto out;
	}
	k->alg = alg;
	switch (kty) {
	case KTY_EC2:
		group = ec_group_of(alg, &coord);
		if (!group) {
			isim_wa_fail(st, ISIM_WA_ALGORITHM, "An EC2 key cannot have algorithm %s.",
				     isim_wa_alg_name(alg));
			goto out;
		}
		if (!cose_int(root, COSE_CRV, "crv (-1)", &crv, st))
			goto out;
		/* RFC 9053 section 7.1: P-256 1, P-384 2, P-521 3, each
		 * with its ESnnn (RFC 8152 section 8.1 pairs them). */
		if (crv != (alg == ISIM_COSE_ES256 ? 1 : alg == ISIM_COSE_ES384 ? 2 : 3)) {
			isim_wa_fail(st, ISIM_WA_ALGORITHM, "The EC2 key's curve %lld is not the one of %s.",
				     (long long)crv, isim_wa_alg_name(alg));
			goto out;
		}
		if (!cose_bytes(root, COSE_X, "x (-2)", &x, &xl, st) ||
		    !cose_bytes(root, COSE_Y, "y (-3)", &y, &yl, st))
			goto out;
		if (xl != coord || yl != coord) {
			isim_wa_fail(st, ISIM_WA_MALFORMED, "The EC2 key's coordinates are %zu and %zu bytes, not %zu.",
				     xl, yl, coord);
			goto out;
		}
		pt[0] = 4;
		memcpy(pt + 1, x, coord);
		memcpy(pt + 1 + coord, y, coord);
		if (!ec_key_from_point(group, pt, 1 + 2 * coord, &k->pkey, st))
			goto out;
		break;
	case KTY_OKP:
		if (alg != ISIM_COSE_EDDSA) {
			isim_wa_fail(st, ISIM_WA_ALGORITHM, "An OKP key cannot have algorithm %s.",
				     isim_wa_alg_name(alg));
			goto out;
		}
		if (!cose_int(root, COSE_CRV, "crv (-1)", &crv, st))
			goto out;
		if (crv != 6) { /* Ed25519, RFC 9053 section 7.2 */
			isim_wa_fail(st, ISIM_WA_ALGORITHM, "The OKP key's curve %lld is not Ed25519 (6).",
				     (long long)crv);
			goto out;
		}
		if (!cose_bytes(root, COSE_X, "x (-2)", &x, &xl, st))
			goto out;
		if (xl != sizeof(k->ed25519)) {
			isim_wa_fail(st, ISIM_WA_MALFORMED, "The Ed25519 key is %zu bytes, not 32.", xl);
			goto out;
		}
		memcpy(k->ed25519, x, xl);
		break;
	case KTY_RSA:
		if (alg != ISIM_COSE_RS256) {
			isim_wa_fail(st, ISIM_WA_ALGORITHM, "An RSA key cannot have algorithm %s.",
				     isim_wa_alg_name(alg));
			goto out;
		}
		if (!cose_bytes(root, COSE_CRV, "n (-1)", &n, &nl, st) ||
		    !cose_bytes(root, COSE_X, "e (-2)", &e, &el, st))
			goto out;
		if (!nl || !n[0] || !el || !e[0]) {
			isim_wa_fail(st, ISIM_WA_MALFORMED, "The RSA key's n or e has leading zero bytes or is empty.");
			goto out;
		}
		if (!rsa_key_from(n, nl, e, el, &k->pkey, st))
			goto out;
		break;
	default:
		isim_wa_fail(st, ISIM_WA_ALGORITHM, "The COSE key type %lld is not EC2, OKP or RSA.", (long long)kty);
		goto out;
	}
	ret = ok(st);
out:
	cbor_decref(&root);
	if (!ret)
		isim_wa_key_free(k);
	return ret;
}

/* The COSE alg a public key of OpenSSL's goes with, for a stored SPKI key
 * and an attestation certificate's key. */
static bool key_from_pkey(EVP_PKEY *pk, struct isim_wa_key *k, struct isim_wa_status *st)
{
	char group[64];
	size_t n = sizeof(k->ed25519);

	memset(k, 0, sizeof(*k));
	if (!pk)
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "The certificate's public key cannot be read.");
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) != 1)
			return isim_wa_fail(st, ISIM_WA_ALGORITHM, "The EC key has no named curve.");
		if (!strcmp(group, "prime256v1"))
			k->alg = ISIM_COSE_ES256;
		else if (!strcmp(group, "secp384r1"))
			k->alg = ISIM_COSE_ES384;
		else if (!strcmp(group, "secp521r1"))
			k->alg = ISIM_COSE_ES512;
		else
			return isim_wa_fail(st, ISIM_WA_ALGORITHM, "The EC key's curve %s is not supported.", group);
		break;
	case EVP_PKEY_RSA:
		if (EVP_PKEY_get_bits(pk) < RSA_MIN_BITS || EVP_PKEY_get_bits(pk) > RSA_MAX_BITS)
			return isim_wa_fail(st, ISIM_WA_ALGORITHM, "The RSA key has %d bits, not %d to %d.",
					    EVP_PKEY_get_bits(pk), RSA_MIN_BITS, RSA_MAX_BITS);
		k->alg = ISIM_COSE_RS256;
		break;
	case EVP_PKEY_ED25519:
		if (EVP_PKEY_get_raw_public_key(pk, k->ed25519, &n) != 1 || n != sizeof(k->ed25519))
			return isim_wa_fail(st, ISIM_WA_MALFORMED, "The Ed25519 key cannot be read.");
		k->alg = ISIM_COSE_EDDSA;
		return ok(st);
	default:
		return isim_wa_fail(st, ISIM_WA_ALGORITHM, "The key's type is not EC, RSA or Ed25519.");
	}
	if (EVP_PKEY_up_ref(pk) != 1)
		return oom(st);
	k->pkey = pk;
	return ok(st);
}

bool isim_wa_spki_key_parse(const uint8_t *p, size_t len, struct isim_wa_key *k, struct isim_wa_status *st)
{
	const unsigned char *q = p;
	EVP_PKEY *pk = d2i_PUBKEY(NULL, &q, (long)len);
	bool ret;

	memset(k, 0, sizeof(*k));
	if (!pk || q != p + len) {
		EVP_PKEY_free(pk);
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "The key is not one DER SubjectPublicKeyInfo.");
	}
	ret = key_from_pkey(pk, k, st);
	EVP_PKEY_free(pk);
	return ret;
}

static const EVP_MD *md_of(int64_t alg)
{
	switch (alg) {
	case ISIM_COSE_ES384:
		return EVP_sha384();
	case ISIM_COSE_ES512:
		return EVP_sha512();
	default:
		return EVP_sha256();
	}
}

bool isim_wa_key_verify(const struct isim_wa_key *k, const uint8_t *msg, size_t msg_len, const uint8_t *sig,
			size_t sig_len, struct isim_wa_status *st)
{
	EVP_MD_CTX *ctx;
	int rc;

	if (k->alg == ISIM_COSE_EDDSA) {
		if (sig_len != crypto_sign_BYTES)
			return isim_wa_fail(st, ISIM_WA_SIGNATURE, "The EdDSA signature is %zu bytes, not %d.", sig_len,
					    crypto_sign_BYTES);
		if (sodium_init() < 0)
			return isim_wa_fail(st, ISIM_WA_INTERNAL, "libsodium cannot be initialised.");
		if (crypto_sign_verify_detached(sig, msg, msg_len, k->ed25519) != 0)
			return isim_wa_fail(st, ISIM_WA_SIGNATURE, "The EdDSA signature does not verify.");
		return ok(st);
	}
	if (!k->pkey)
		return isim_wa_fail(st, ISIM_WA_INTERNAL, "The key is empty.");
	if (sig_len == 0 || sig_len > 1024)
		return isim_wa_fail(st, ISIM_WA_SIGNATURE, "The %s signature is %zu bytes long.",
				    isim_wa_alg_name(k->alg), sig_len);
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return oom(st);
	/* OpenSSL's ECDSA takes only DER that re-encodes to the same bytes,
	 * so a signature has one form (section 6.5.6 asks for ASN.1 DER). */
	rc = EVP_DigestVerifyInit(ctx, NULL, md_of(k->alg), NULL, k->pkey) == 1
		     ? EVP_DigestVerify(ctx, sig, sig_len, msg, msg_len)
		     : -2;
	EVP_MD_CTX_free(ctx);
	if (rc == -2)
		return isim_wa_fail(st, ISIM_WA_INTERNAL, "OpenSSL cannot verify %s.", isim_wa_alg_name(k->alg));
	if (rc != 1)
		return isim_wa_fail(st, ISIM_WA_SIGNATURE, "The %s signature does not verify.",
				    isim_wa_alg_name(k->alg));
	return ok(st);
}

/* ---- attestation objects --------------------------------------------------------- */

void isim_wa_att_obj_free(struct isim_wa_att_obj *ao)
{
	if (ao->root)
		cbor_decref(&ao->root);
	memset(ao, 0, sizeof(*ao));
}

bool isim_wa_att_obj_parse(const uint8_t *p, size_t len, struct isim_wa_att_obj *ao, struct isim_wa_status *st)
{
	struct cbor_pair *pairs;
	const cbor_item_t *fmt = NULL, *auth = NULL;
	size_t i;

	memset(ao, 0, sizeof(*ao));
	if (!cbor_load_strict(p, len, "attestation object", &ao->root, st))
		return false;
	if (!cbor_isa_map(ao->root)) {
		isim_wa_att_obj_free(ao);
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "The attestation object is not a CBOR map.");
	}
	pairs = cbor_map_handle(ao->root);
	for (i = 0; i < cbor_map_size(ao->root); i++) {
		if (cbor_text_is(pairs[i].key, "fmt"))
			fmt = pairs[i].value;
		else if (cbor_text_is(pairs[i].key, "attStmt"))
			ao->att_stmt = pairs[i].value;
		else if (cbor_text_is(pairs[i].key, "authData"))
			auth = pairs[i].value;
		else {
			isim_wa_att_obj_free(ao);
			return isim_wa_fail(st, ISIM_WA_MALFORMED,
					    "The attestation object has a key other than fmt, attStmt and authData.");
		}
	}
	if (!fmt || !cbor_isa_string(fmt) || cbor_string_length(fmt) == 0 ||
	    cbor_string_length(fmt) >= sizeof(ao->fmt)) {
		isim_wa_att_obj_free(ao);
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "The attestation object has no fmt of 1 to 32 characters.");
	}
	memcpy(ao->fmt, cbor_string_handle(fmt), cbor_string_length(fmt));
	ao->fmt[cbor_string_length(fmt)] = '\0';
	if (strlen(ao->fmt) != cbor_string_length(fmt)) {
		isim_wa_att_obj_free(ao);
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "The attestation object's fmt holds a NUL.");
	}
	if (!ao->att_stmt || !cbor_isa_map(ao->att_stmt)) {
		isim_wa_att_obj_free(ao);
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "The attestation object has no attStmt map.");
	}
	if (!auth || !cbor_isa_bytestring(auth)) {
		isim_wa_att_obj_free(ao);
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "The attestation object has no authData byte string.");
	}
	ao->auth_data = cbor_bytestring_handle(auth);
	ao->auth_data_len = cbor_bytestring_length(auth);
	return ok(st);
}

/* ---- the JSON shapes --------------------------------------------------------------- */

/* Largest base64url field taken from a response (an attestation object
 * with a certificate chain is a few kilobytes). */
#define FIELD_MAX (64u << 10)

static bool json_b64(const cJSON *obj, const char *name, const char *where, bool required, uint8_t **out, size_t *len,
		     struct isim_wa_status *st)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);

	*out = NULL;
	*len = 0;
	if (!it || (!required && cJSON_IsNull(it))) {
		if (required)
			return isim_wa_fail(st, ISIM_WA_MALFORMED, "The credential has no %s%s.", where, name);
		return true;
	}
	if (!cJSON_IsString(it))
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "The credential's %s%s is not a string.", where, name);
	if (!isim_wa_b64url_decode(it->valuestring, FIELD_MAX, out, len))
		return isim_wa_fail(st, ISIM_WA_MALFORMED,
				    "The credential's %s%s is not unpadded base64url of at most %u bytes.", where, name,
				    FIELD_MAX);
	return true;
}

static bool cred_common(const cJSON *cred, const cJSON **resp, uint8_t **raw_id, size_t *raw_id_len,
			struct isim_wa_status *st)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(cred, "id");
	const cJSON *raw = cJSON_GetObjectItemCaseSensitive(cred, "rawId");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(cred, "type");

	if (!cJSON_IsObject(cred))
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "The credential is not a JSON object.");
	if (!cJSON_IsString(type))
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "The credential has no type string.");
	if (strcmp(type->valuestring, "public-key"))
		return isim_wa_fail(st, ISIM_WA_TYPE, "The credential's type is not \"public-key\".");
	if (!cJSON_IsString(id) || !cJSON_IsString(raw))
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "The credential has no id and rawId strings.");
	if (strcmp(id->valuestring, raw->valuestring))
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "The credential's id and rawId differ.");
	if (!json_b64(cred, "rawId", "", true, raw_id, raw_id_len, st))
		return false;
	if (*raw_id_len == 0 || *raw_id_len > ISIM_WA_CRED_ID_MAX)
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "The credential id is %zu bytes, not 1 to %d.", *raw_id_len,
				    ISIM_WA_CRED_ID_MAX);
	*resp = cJSON_GetObjectItemCaseSensitive(cred, "response");
	if (!cJSON_IsObject(*resp))
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "The credential has no response object.");
	return true;
}

void isim_wa_registration_free(struct isim_wa_registration *r)
{
	size_t i;

	free(r->raw_id);
	free(r->client_data);
	free(r->att_obj);
	for (i = 0; i < r->ntransports; i++)
		free(r->transports[i]);
	free(r->transports);
	memset(r, 0, sizeof(*r));
}

void isim_wa_assertion_free(struct isim_wa_assertion *a)
{
	free(a->raw_id);
	free(a->client_data);
	free(a->auth_data);
	free(a->signature);
	free(a->user_handle);
	memset(a, 0, sizeof(*a));
}

bool isim_wa_registration_from_json(const cJSON *cred, struct isim_wa_registration *r, struct isim_wa_status *st)
{
	const cJSON *resp = NULL, *tr, *it;
	int n;

	memset(r, 0, sizeof(*r));
	if (!cred_common(cred, &resp, &r->raw_id, &r->raw_id_len, st) ||
	    !json_b64(resp, "clientDataJSON", "response.", true, &r->client_data, &r->client_data_len, st) ||
	    !json_b64(resp, "attestationObject", "response.", true, &r->att_obj, &r->att_obj_len, st))
		goto fail;
	tr = cJSON_GetObjectItemCaseSensitive(resp, "transports");
	if (tr) {
		if (!cJSON_IsArray(tr) || (n = cJSON_GetArraySize(tr)) > 16) {
			isim_wa_fail(st, ISIM_WA_MALFORMED,
				     "The credential's response.transports is not an array of at most 16.");
			goto fail;
		}
		r->transports = calloc((size_t)n + 1, sizeof(*r->transports));
		if (!r->transports) {
			oom(st);
			goto fail;
		}
		cJSON_ArrayForEach (it, tr) {
			if (!cJSON_IsString(it) || strlen(it->valuestring) > 32) {
				isim_wa_fail(st, ISIM_WA_MALFORMED,
					     "The credential's response.transports holds something other than a short "
					     "string.");
				goto fail;
			}
			if (!(r->transports[r->ntransports] = strdup(it->valuestring))) {
				oom(st);
				goto fail;
			}
			r->ntransports++;
		}
	}
	return ok(st);
fail:
	isim_wa_registration_free(r);
	return false;
}

bool isim_wa_assertion_from_json(const cJSON *cred, struct isim_wa_assertion *a, struct isim_wa_status *st)
{
	const cJSON *resp = NULL;

	memset(a, 0, sizeof(*a));
	if (!cred_common(cred, &resp, &a->raw_id, &a->raw_id_len, st) ||
	    !json_b64(resp, "clientDataJSON", "response.", true, &a->client_data, &a->client_data_len, st) ||
	    !json_b64(resp, "authenticatorData", "response.", true, &a->auth_data, &a->auth_data_len, st) ||
	    !json_b64(resp, "signature", "response.", true, &a->signature, &a->signature_len, st) ||
	    !json_b64(resp, "userHandle", "response.", false, &a->user_handle, &a->user_handle_len, st)) {
		isim_wa_assertion_free(a);
		return false;
	}
	if (a->user_handle && (a->user_handle_len == 0 || a->user_handle_len > 64)) {
		isim_wa_assertion_free(a);
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "The user handle is not 1 to 64 bytes (section 5.4.3).");
	}
	return ok(st);
}

/* ---- ceremonies ----------------------------------------------------------------------- */

/* Origins are compared as serialized (RFC 6454 section 6.2): an origin has
 * no path, so a trailing '/' in a configured one is not part of it. */
static bool origin_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la && a[la - 1] == '/')
		la--;
	if (lb && b[lb - 1] == '/')
		lb--;
	return la == lb && !memcmp(a, b, la);
}

static bool origin_in(const char *o, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (origin_eq(o, list[i]))
			return true;
	return false;
}

/* Steps shared by both ceremonies (section 7.1 steps 7 to 10 and 7.2
 * steps 10 to 13): the client data. */
static bool check_client_data(const struct isim_wa_client_data *cd, const char *type, const struct isim_wa_expect *e,
			      struct isim_wa_status *st)
{
	char o[128];

	if (strcmp(cd->type, type)) {
		isim_json_quote_message(o, sizeof(o), cd->type, strlen(cd->type), 40);
		return isim_wa_fail(st, ISIM_WA_TYPE, "clientDataJSON's type is %s, not \"%s\".", o, type);
	}
	if (!e->challenge || cd->challenge_len != e->challenge_len ||
	    sodium_memcmp(cd->challenge, e->challenge, e->challenge_len) != 0)
		return isim_wa_fail(st, ISIM_WA_CHALLENGE, "clientDataJSON's challenge is not the one issued.");
	if (!origin_in(cd->origin, e->origins, e->norigins)) {
		isim_json_quote_message(o, sizeof(o), cd->origin, strlen(cd->origin), 80);
		return isim_wa_fail(st, ISIM_WA_ORIGIN, "The origin %s is not one of the relying party's.", o);
	}
	/* Section 7.1 step 10 (Level 3): topOrigin is set exactly when the
	 * ceremony ran in a cross-origin frame; this relying party refuses
	 * that unless allowed, and then only under the top origins given. */
	if ((cd->cross_origin || cd->top_origin) && !e->allow_cross_origin)
		return isim_wa_fail(st, ISIM_WA_CROSS_ORIGIN,
				    "The ceremony ran in a cross-origin frame, which is not allowed.");
	if (cd->top_origin && e->top_origins && !origin_in(cd->top_origin, e->top_origins, e->ntop_origins)) {
		isim_json_quote_message(o, sizeof(o), cd->top_origin, strlen(cd->top_origin), 80);
		return isim_wa_fail(st, ISIM_WA_CROSS_ORIGIN, "The top origin %s is not one allowed.", o);
	}
	/* Level 2 section 5.8.1: "present" asks for a binding this relying
	 * party does not make; "supported" is harmless; anything else is not
	 * a status (Level 1's "not-supported" was removed). */
	if (cd->token_binding_status && strcmp(cd->token_binding_status, "supported")) {
		isim_json_quote_message(o, sizeof(o), cd->token_binding_status, strlen(cd->token_binding_status), 40);
		return isim_wa_fail(st, ISIM_WA_TOKEN_BINDING, "The token binding status %s is not supported.", o);
	}
	return ok(st);
}

static bool check_auth_data(const struct isim_wa_auth_data *ad, const struct isim_wa_expect *e, bool up_optional,
			    struct isim_wa_status *st)
{
	uint8_t h[ISIM_SHA256_BYTES];

	if (!e->rp_id || isim_sha256(e->rp_id, strlen(e->rp_id), h) < 0)
		return isim_wa_fail(st, ISIM_WA_INTERNAL, "No relying party id to check rpIdHash against.");
	if (memcmp(h, ad->rp_id_hash, sizeof(h)) != 0)
		return isim_wa_fail(st, ISIM_WA_RP_ID, "rpIdHash is not SHA-256 of the relying party id.");
	if (!(ad->flags & ISIM_WA_FLAG_UP) && !up_optional)
		return isim_wa_fail(st, ISIM_WA_USER_PRESENCE, "The authenticator did not see the user (UP is 0).");
	if (!(ad->flags & ISIM_WA_FLAG_UV) && e->require_uv)
		return isim_wa_fail(st, ISIM_WA_USER_VERIFICATION,
				    "The user was not verified (UV is 0), and verification is required.");
	return ok(st);
}

static bool alg_offered(int64_t alg, const struct isim_wa_expect *e)
{
	size_t i;

	if (!e->algs)
		return isim_wa_alg_supported(alg);
	for (i = 0; i < e->nalgs; i++)
		if (e->algs[i] == alg)
			return true;
	return false;
}

static bool att_fail(struct isim_wa_status *st, const char *fmt_name, const char *why)
{
	return isim_wa_fail(st, ISIM_WA_ATTESTATION, "The %s attestation statement is refused: %s.", fmt_name, why);
}

/* attStmt members, each at most once (the map is canonical already). */
static const cbor_item_t *stmt_get(const cbor_item_t *stmt, const char *name)
{
	struct cbor_pair *pairs = cbor_map_handle(stmt);
	size_t i;

	for (i = 0; i < cbor_map_size(stmt); i++)
		if (cbor_text_is(pairs[i].key, name))
			return pairs[i].value;
	return NULL;
}

static bool stmt_only(const cbor_item_t *stmt, const char *const *names)
{
	struct cbor_pair *pairs = cbor_map_handle(stmt);
	size_t i, j;

	for (i = 0; i < cbor_map_size(stmt); i++) {
		for (j = 0; names[j]; j++)
			if (cbor_text_is(pairs[i].key, names[j]))
				break;
		if (!names[j])
			return false;
	}
	return true;
}

struct chain {
	STACK_OF(X509) * certs; /* x5c in order, leaf first */
};

static void chain_free(struct chain *c)
{
	sk_X509_pop_free(c->certs, X509_free);
	c->certs = NULL;
}

static bool chain_load(const cbor_item_t *x5c, const char *fmt_name, size_t max, struct chain *c,
		       struct isim_wa_status *st)
{
	cbor_item_t **items;
	size_t i, n;

	c->certs = sk_X509_new_null();
	if (!c->certs)
		return oom(st);
	if (!cbor_isa_array(x5c) || (n = cbor_array_size(x5c)) == 0 || n > max)
		return att_fail(st, fmt_name, "x5c is not an array of 1 or more certificates");
	items = cbor_array_handle(x5c);
	for (i = 0; i < n; i++) {
		const unsigned char *p, *q;
		X509 *x;

		if (!cbor_isa_bytestring(items[i]))
			return att_fail(st, fmt_name, "an x5c entry is not a byte string");
		p = q = cbor_bytestring_handle(items[i]);
		x = d2i_X509(NULL, &q, (long)cbor_bytestring_length(items[i]));
		if (!x || q != p + cbor_bytestring_length(items[i])) {
			X509_free(x);
			return att_fail(st, fmt_name, "an x5c entry is not one DER certificate");
		}
		if (!sk_X509_push(c->certs, x)) {
			X509_free(x);
			return oom(st);
		}
	}
	return true;
}

/* The chain from x5c to one of the configured roots (section 7.1 step 23:
 * "Assess the attestation trustworthiness"). */
static bool chain_verify(const struct chain *c, const struct isim_wa_expect *e, const char *fmt_name,
			 struct isim_wa_status *st)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	BIO *bio = NULL;
	X509 *x;
	int i, nroots = 0;
	bool ret = false;

	if (!store || !ctx || !untrusted) {
		oom(st);
		goto out;
	}
	bio = BIO_new_mem_buf(e->roots_pem, (int)e->roots_pem_len);
	if (!bio) {
		oom(st);
		goto out;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		if (X509_STORE_add_cert(store, x) != 1) {
			X509_free(x);
			oom(st);
			goto out;
		}
		X509_free(x);
		nroots++;
	}
	if (!nroots) {
		isim_wa_fail(st, ISIM_WA_INTERNAL, "The attestation roots hold no PEM certificate.");
		goto out;
	}
	for (i = 1; i < sk_X509_num(c->certs); i++)
		if (!sk_X509_push(untrusted, sk_X509_value(c->certs, i))) {
			oom(st);
			goto out;
		}
	if (X509_STORE_CTX_init(ctx, store, sk_X509_value(c->certs, 0), untrusted) != 1) {
		oom(st);
		goto out;
	}
	if (e->att_time)
		X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)e->att_time);
	if (X509_verify_cert(ctx) != 1) {
		char why[200];

		snprintf(why, sizeof(why), "the certificate chain does not lead to a configured root (%s)",
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		att_fail(st, fmt_name, why);
		goto out;
	}
	ret = true;
out:
	BIO_free(bio);
	sk_X509_free(untrusted);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ret;
}

static bool subject_has(X509_NAME *name, int nid, const char *want)
{
	int i = X509_NAME_get_index_by_NID(name, nid, -1);
	ASN1_STRING *s;

	if (i < 0)
		return false;
	if (!want)
		return true;
	s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	return s && (size_t)ASN1_STRING_length(s) == strlen(want) &&
	       !memcmp(ASN1_STRING_get0_data(s), want, strlen(want));
}

/* Section 8.2.1: what a packed attestation certificate must say. */
static bool packed_cert_ok(X509 *x, const uint8_t *aaguid, struct isim_wa_status *st)
{
	X509_NAME *name = X509_get_subject_name(x);
	ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.4.1.45724.1.1.4", 1); /* id-fido-gen-ce-aaguid */
	int i;

	if (!oid)
		return oom(st);
	i = X509_get_ext_by_OBJ(x, oid, -1);
	ASN1_OBJECT_free(oid);
	if (X509_get_version(x) != 2)
		return att_fail(st, "packed", "the certificate is not X.509 version 3");
	if (!subject_has(name, NID_countryName, NULL) || !subject_has(name, NID_organizationName, NULL) ||
	    !subject_has(name, NID_commonName, NULL) ||
	    !subject_has(name, NID_organizationalUnitName, "Authenticator Attestation"))
		return att_fail(st, "packed",
				"the certificate's subject lacks C, O, CN or OU=\"Authenticator Attestation\"");
	if (X509_get_extension_flags(x) & EXFLAG_CA)
		return att_fail(st, "packed", "the certificate is a CA's");
	if (i >= 0) {
		X509_EXTENSION *ext = X509_get_ext(x, i);
		ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(ext);
		const unsigned char *d = ASN1_STRING_get0_data(v);

		/* The extension's value is an OCTET STRING of the 16 bytes. */
		if (X509_EXTENSION_get_critical(ext) || ASN1_STRING_length(v) != 18 || d[0] != 0x04 || d[1] != 16 ||
		    memcmp(d + 2, aaguid, ISIM_WA_AAGUID_BYTES) != 0)
			return att_fail(st, "packed", "the certificate's AAGUID is not the authenticator data's");
	}
	return true;
}

static bool verify_packed(const struct isim_wa_att_obj *ao, const struct isim_wa_auth_data *ad,
			  const struct isim_wa_key *cred, const uint8_t *msg, size_t msg_len,
			  const struct isim_wa_expect *e, struct isim_wa_reg_result *res, struct isim_wa_status *st)
{
	static const char *const names[] = { "alg", "sig", "x5c", NULL };
	const cbor_item_t *alg_it = stmt_get(ao->att_stmt, "alg"), *sig = stmt_get(ao->att_stmt, "sig"),
			  *x5c = stmt_get(ao->att_stmt, "x5c");
	struct chain c = { 0 };
	struct isim_wa_key k = { 0 };
	int64_t alg;
	bool ret = false;

	if (!stmt_only(ao->att_stmt, names) || !alg_it || !cbor_int64(alg_it, &alg) || !sig ||
	    !cbor_isa_bytestring(sig))
		return att_fail(st, "packed", "attStmt is not {alg, sig[, x5c]}");
	if (!x5c) {
		/* Section 8.2 step 4: self attestation, by the credential key. */
		if (alg != cred->alg)
			return att_fail(st, "packed", "a self attestation's alg is not the credential key's");
		if (!isim_wa_key_verify(cred, msg, msg_len, cbor_bytestring_handle(sig), cbor_bytestring_length(sig),
					st))
			return att_fail(st, "packed", "its signature by the credential key does not verify");
		res->att_type = ISIM_WA_ATT_SELF;
		return !e->require_trusted ? ok(st) : att_fail(st, "packed", "self attestation is not trusted");
	}
	if (!chain_load(x5c, "packed", 8, &c, st))
		goto out;
	if (!key_from_pkey(X509_get0_pubkey(sk_X509_value(c.certs, 0)), &k, st)) {
		att_fail(st, "packed", "the certificate's key is not a supported one");
		goto out;
	}
	if (k.alg != alg) {
		att_fail(st, "packed", "alg is not that of the certificate's key");
		goto out;
	}
	if (!isim_wa_key_verify(&k, msg, msg_len, cbor_bytestring_handle(sig), cbor_bytestring_length(sig), st)) {
		att_fail(st, "packed", "its signature by the certificate's key does not verify");
		goto out;
	}
	if (!packed_cert_ok(sk_X509_value(c.certs, 0), ad->aaguid, st))
		goto out;
	res->att_type = ISIM_WA_ATT_BASIC;
	if (e->roots_pem) {
		if (!chain_verify(&c, e, "packed", st))
			goto out;
		res->att_trusted = true;
	} else if (e->require_trusted) {
		att_fail(st, "packed", "no attestation root is configured to trust it");
		goto out;
	}
	ret = ok(st);
out:
	isim_wa_key_free(&k);
	chain_free(&c);
	return ret;
}

/* Section 8.6: the U2F registration signature over
 * 0x00 || rpIdHash || clientDataHash || credentialId || 0x04 || x || y. */
static bool verify_fido_u2f(const struct isim_wa_att_obj *ao, const struct isim_wa_auth_data *ad,
			    const struct isim_wa_key *cred, const uint8_t cdhash[static ISIM_SHA256_BYTES],
			    const struct isim_wa_expect *e, struct isim_wa_reg_result *res, struct isim_wa_status *st)
{
	static const char *const names[] = { "sig", "x5c", NULL };
	const cbor_item_t *sig = stmt_get(ao->att_stmt, "sig"), *x5c = stmt_get(ao->att_stmt, "x5c");
	struct chain c = { 0 };
	struct isim_wa_key k = { 0 };
	uint8_t *msg = NULL, pt[65];
	size_t n = 0, ptlen = sizeof(pt);
	bool ret = false;

	if (!stmt_only(ao->att_stmt, names) || !sig || !cbor_isa_bytestring(sig) || !x5c)
		return att_fail(st, "fido-u2f", "attStmt is not {sig, x5c}");
	if (cred->alg != ISIM_COSE_ES256)
		return att_fail(st, "fido-u2f", "the credential key is not an ES256 key on P-256");
	if (!chain_load(x5c, "fido-u2f", 1, &c, st))
		goto out;
	if (!key_from_pkey(X509_get0_pubkey(sk_X509_value(c.certs, 0)), &k, st) || k.alg != ISIM_COSE_ES256) {
		att_fail(st, "fido-u2f", "the certificate's key is not on P-256");
		goto out;
	}
	if (EVP_PKEY_get_octet_string_param(cred->pkey, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &ptlen) != 1 ||
	    ptlen != sizeof(pt)) {
		/* An EC key made from a point keeps it uncompressed. */
		isim_wa_fail(st, ISIM_WA_INTERNAL, "The credential key's point cannot be read.");
		goto out;
	}
	msg = malloc(1 + 32 + 32 + ad->cred_id_len + sizeof(pt));
	if (!msg) {
		oom(st);
		goto out;
	}
	msg[n++] = 0;
	memcpy(msg + n, ad->rp_id_hash, 32);
	n += 32;
	memcpy(msg + n, cdhash, 32);
	n += 32;
	memcpy(msg + n, ad->cred_id, ad->cred_id_len);
	n += ad->cred_id_len;
	memcpy(msg + n, pt, sizeof(pt));
	n += sizeof(pt);
	if (!isim_wa_key_verify(&k, msg, n, cbor_bytestring_handle(sig), cbor_bytestring_length(sig), st)) {
		att_fail(st, "fido-u2f", "its signature by the certificate's key does not verify");
		goto out;
	}
	res->att_type = ISIM_WA_ATT_BASIC;
	if (e->roots_pem) {
		if (!chain_verify(&c, e, "fido-u2f", st))
			goto out;
		res->att_trusted = true;
	} else if (e->require_trusted) {
		att_fail(st, "fido-u2f", "no attestation root is configured to trust it");
		goto out;
	}
	ret = ok(st);
out:
	free(msg);
	isim_wa_key_free(&k);
	chain_free(&c);
	return ret;
}

void isim_wa_reg_result_free(struct isim_wa_reg_result *res)
{
	free(res->cred_id);
	free(res->cose_key);
	memset(res, 0, sizeof(*res));
}

bool isim_wa_verify_registration(const struct isim_wa_registration *r, const struct isim_wa_expect *e,
				 struct isim_wa_reg_result *res, struct isim_wa_status *st)
{
	struct isim_wa_client_data cd = { 0 };
	struct isim_wa_att_obj ao = { 0 };
	struct isim_wa_auth_data ad;
	struct isim_wa_key key = { 0 };
	uint8_t cdhash[ISIM_SHA256_BYTES], *msg = NULL;
	bool ret = false;

	memset(res, 0, sizeof(*res));
	if (!isim_wa_client_data_parse(r->client_data, r->client_data_len, &cd, st) ||
	    !check_client_data(&cd, "webauthn.create", e, st))
		goto out;
	if (isim_sha256(r->client_data, r->client_data_len, cdhash) < 0) {
		oom(st);
		goto out;
	}
	if (!isim_wa_att_obj_parse(r->att_obj, r->att_obj_len, &ao, st) ||
	    !isim_wa_auth_data_parse(ao.auth_data, ao.auth_data_len, &ad, st))
		goto out;
	if (!check_auth_data(&ad, e, e->up_optional, st))
		goto out;
	if (!(ad.flags & ISIM_WA_FLAG_AT)) {
		isim_wa_fail(st, ISIM_WA_MALFORMED,
			     "The authenticator data has no attested credential data (AT is 0).");
		goto out;
	}
	if (ad.cred_id_len != r->raw_id_len || memcmp(ad.cred_id, r->raw_id, r->raw_id_len) != 0) {
		isim_wa_fail(st, ISIM_WA_MALFORMED, "The credential id in the authenticator data is not rawId.");
		goto out;
	}
	if (!isim_wa_cose_key_parse(ad.cose_key, ad.cose_key_len, &key, st))
		goto out;
	/* Section 7.1 step 20: the key's alg among pubKeyCredParams. */
	if (!alg_offered(key.alg, e)) {
		isim_wa_fail(st, ISIM_WA_ALGORITHM, "The credential key's algorithm %s was not offered.",
			     isim_wa_alg_name(key.alg));
		goto out;
	}
	snprintf(res->fmt, sizeof(res->fmt), "%s", ao.fmt);
	if (!strcmp(ao.fmt, "none")) {
		if (cbor_map_size(ao.att_stmt) != 0) {
			att_fail(st, "none", "attStmt is not empty");
			goto out;
		}
		if (e->require_trusted) {
			att_fail(st, "none", "an attestation is required");
			goto out;
		}
		res->att_type = ISIM_WA_ATT_NONE;
	} else if (!strcmp(ao.fmt, "packed")) {
		msg = malloc(ad.len + sizeof(cdhash));
		if (!msg) {
			oom(st);
			goto out;
		}
		memcpy(msg, ad.raw, ad.len);
		memcpy(msg + ad.len, cdhash, sizeof(cdhash));
		if (!verify_packed(&ao, &ad, &key, msg, ad.len + sizeof(cdhash), e, res, st))
			goto out;
	} else if (!strcmp(ao.fmt, "fido-u2f")) {
		if (!verify_fido_u2f(&ao, &ad, &key, cdhash, e, res, st))
			goto out;
	} else if (e->accept_unverified && !e->require_trusted) {
		res->att_type = ISIM_WA_ATT_UNVERIFIED;
	} else {
		char f[64];

		isim_json_quote_message(f, sizeof(f), ao.fmt, strlen(ao.fmt), 32);
		isim_wa_fail(st, ISIM_WA_ATTESTATION, "The attestation format %s is not supported.", f);
		goto out;
	}
	res->cred_id = malloc(ad.cred_id_len);
	res->cose_key = malloc(ad.cose_key_len);
	if (!res->cred_id || !res->cose_key) {
		oom(st);
		goto out;
	}
	memcpy(res->cred_id, ad.cred_id, ad.cred_id_len);
	res->cred_id_len = ad.cred_id_len;
	memcpy(res->cose_key, ad.cose_key, ad.cose_key_len);
	res->cose_key_len = ad.cose_key_len;
	res->alg = key.alg;
	res->sign_count = ad.sign_count;
	res->flags = ad.flags;
	memcpy(res->aaguid, ad.aaguid, ISIM_WA_AAGUID_BYTES);
	ret = ok(st);
out:
	free(msg);
	isim_wa_key_free(&key);
	isim_wa_att_obj_free(&ao);
	isim_wa_client_data_free(&cd);
	if (!ret)
		isim_wa_reg_result_free(res);
	return ret;
}

bool isim_wa_verify_assertion(const struct isim_wa_assertion *a, const struct isim_wa_expect *e,
			      struct isim_wa_auth_result *res, struct isim_wa_status *st)
{
	struct isim_wa_client_data cd = { 0 };
	struct isim_wa_auth_data ad;
	uint8_t *msg = NULL;
	bool ret = false;

	memset(res, 0, sizeof(*res));
	if (!e->key)
		return isim_wa_fail(st, ISIM_WA_UNKNOWN_CREDENTIAL, "No stored public key for the credential.");
	/* Section 7.2 steps 5 and 6: the credential is the one expected, and
	 * the user handle, when given, the credential's user's. */
	if (e->cred_id && (a->raw_id_len != e->cred_id_len || memcmp(a->raw_id, e->cred_id, e->cred_id_len) != 0))
		return isim_wa_fail(st, ISIM_WA_UNKNOWN_CREDENTIAL, "The credential is not the one expected.");
	if (e->user_handle && a->user_handle &&
	    (a->user_handle_len != e->user_handle_len || memcmp(a->user_handle, e->user_handle, e->user_handle_len)))
		return isim_wa_fail(st, ISIM_WA_USER_HANDLE, "The user handle is not the credential's user's.");
	if (!isim_wa_client_data_parse(a->client_data, a->client_data_len, &cd, st) ||
	    !check_client_data(&cd, "webauthn.get", e, st))
		goto out;
	if (!isim_wa_auth_data_parse(a->auth_data, a->auth_data_len, &ad, st))
		goto out;
	if (ad.flags & ISIM_WA_FLAG_AT) {
		isim_wa_fail(st, ISIM_WA_MALFORMED, "An assertion's authenticator data has attested credential data.");
		goto out;
	}
	if (!check_auth_data(&ad, e, false, st))
		goto out;
	/* Section 7.2 step 20: the signature over authData || hash. */
	msg = malloc(ad.len + ISIM_SHA256_BYTES);
	if (!msg) {
		oom(st);
		goto out;
	}
	memcpy(msg, ad.raw, ad.len);
	if (isim_sha256(a->client_data, a->client_data_len, msg + ad.len) < 0) {
		oom(st);
		goto out;
	}
	if (!isim_wa_key_verify(e->key, msg, ad.len + ISIM_SHA256_BYTES, a->signature, a->signature_len, st))
		goto out;
	/* Step 22: a counter of 0 on both sides means the authenticator has
	 * none; otherwise it must grow, or the credential may be cloned. */
	if ((ad.sign_count || e->sign_count) && ad.sign_count <= e->sign_count) {
		isim_wa_fail(st, ISIM_WA_COUNTER,
			     "The signature counter %lu is not above the stored %lu; the credential may be cloned.",
			     (unsigned long)ad.sign_count, (unsigned long)e->sign_count);
		goto out;
	}
	res->sign_count = ad.sign_count;
	res->flags = ad.flags;
	ret = ok(st);
out:
	free(msg);
	isim_wa_client_data_free(&cd);
	return ret;
}
