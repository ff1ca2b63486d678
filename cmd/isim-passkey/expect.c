/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/options.h"
#include "isim/file.h"
#include "isim/json.h"
#include "passkey.h"

void pk_expect_init(struct pk_expect *x, bool assertion)
{
	memset(x, 0, sizeof(*x));
	x->require_uv = x->up_optional = x->cross_origin = x->require_att = x->accept_unverified = -1;
	x->assertion = assertion;
}

void pk_expect_free(struct pk_expect *x)
{
	size_t i;

	free(x->challenge);
	for (i = 0; i < x->norigins; i++)
		free(x->origins[i]);
	for (i = 0; i < x->ntop_origins; i++)
		free(x->top_origins[i]);
	free(x->rp_id);
	free(x->roots_pem);
	isim_wa_key_free(&x->key);
	free(x->cred_id);
	free(x->user_handle);
	memset(x, 0, sizeof(*x));
}

bool pk_key_parse(const char *b64, struct isim_wa_key *k, struct isim_wa_status *st)
{
	uint8_t *p = NULL;
	size_t n = 0;
	bool ret;

	if (!isim_wa_b64url_decode(b64, 16384, &p, &n) || n == 0) {
		free(p);
		return isim_wa_fail(st, ISIM_WA_MALFORMED, "The public key is not base64url.");
	}
	/* A COSE_Key is a CBOR map (major type 5); a SubjectPublicKeyInfo a
	 * DER SEQUENCE (0x30). */
	if ((p[0] & 0xe0) == 0xa0)
		ret = isim_wa_cose_key_parse(p, n, k, st);
	else
		ret = isim_wa_spki_key_parse(p, n, k, st);
	free(p);
	return ret;
}

static int set_b64(const char *prog, const char *name, uint8_t **slot, size_t *len, const char *arg, size_t max)
{
	if (*slot)
		return isim_usage_error(prog, "%s given twice", name);
	if (!isim_wa_b64url_decode(arg, max, slot, len) || *len == 0) {
		free(*slot);
		*slot = NULL;
		return isim_bad_value(prog, name, arg, "unpadded base64url");
	}
	return 0;
}

static int set_flag(const char *prog, const char *name, int *slot, int v)
{
	if (*slot != -1)
		return isim_usage_error(prog, "%s given twice", name);
	*slot = v;
	return 0;
}

static int add_str(const char *prog, const char *name, char **list, size_t *n, const char *arg)
{
	if (*n == PK_MAX_LIST)
		return isim_usage_error(prog, "%s given more than %d times", name, PK_MAX_LIST);
	if (!*arg)
		return isim_bad_value(prog, name, arg, "an origin");
	list[*n] = strdup(arg);
	if (!list[*n])
		return isim_usage_error(prog, "out of memory");
	(*n)++;
	return 0;
}

static int add_alg(const char *prog, const char *name, struct pk_expect *x, long v)
{
	if (x->nalgs == PK_MAX_LIST)
		return isim_usage_error(prog, "%s given more than %d times", name, PK_MAX_LIST);
	x->algs[x->nalgs++] = v;
	return 0;
}

static int read_roots(const char *prog, struct pk_expect *x, const char *path)
{
	struct isim_error err;

	if (x->roots_pem)
		return isim_usage_error(prog, "--attestation-roots given twice");
	isim_error_clear(&err);
	if (isim_file_read(path, 1u << 20, &x->roots_pem, &x->roots_pem_len, &err) < 0)
		return isim_fail(prog, &err);
	return 0;
}

static int set_key(const char *prog, const char *name, struct pk_expect *x, const char *arg)
{
	struct isim_wa_status st;

	if (x->have_key)
		return isim_usage_error(prog, "%s given twice", name);
	if (!pk_key_parse(arg, &x->key, &st)) {
		if (st.reason != ISIM_WA_ALGORITHM)
			return isim_usage_error(prog, "%s: %s", name, st.msg);
		x->key_refusal = st;
	}
	x->have_key = true;
	return 0;
}

int pk_expect_option(const char *prog, void *opts, int c, const char *arg)
{
	struct pk_expect *x = opts;
	long v;
	int64_t ms;
	int rc;

	switch (c) {
	case PK_OPT_CHALLENGE:
		rc = set_b64(prog, "--challenge", &x->challenge, &x->challenge_len, arg, 1024);
		break;
	case PK_OPT_ORIGIN:
		rc = add_str(prog, "--origin", x->origins, &x->norigins, arg);
		break;
	case PK_OPT_RP_ID:
		if (x->rp_id)
			return isim_usage_error(prog, "--rp-id given twice");
		if (!*arg)
			return isim_bad_value(prog, "--rp-id", arg, "a domain");
		x->rp_id = strdup(arg);
		rc = x->rp_id ? 0 : isim_usage_error(prog, "out of memory");
		break;
	case PK_OPT_REQUIRE_UV:
		rc = set_flag(prog, "--require-uv", &x->require_uv, 1);
		break;
	case PK_OPT_UP_OPTIONAL:
		rc = set_flag(prog, "--up-optional", &x->up_optional, 1);
		break;
	case PK_OPT_CROSS_ORIGIN:
		rc = set_flag(prog, "--allow-cross-origin", &x->cross_origin, 1);
		break;
	case PK_OPT_TOP_ORIGIN:
		rc = add_str(prog, "--top-origin", x->top_origins, &x->ntop_origins, arg);
		break;
	case PK_OPT_ALG:
		if (!isim_parse_long(arg, -65536, 65535, &v) || !isim_wa_alg_supported(v))
			return isim_bad_value(prog, "--alg", arg,
					      "a supported COSE algorithm (-7, -8, -35, -36, -257)");
		rc = add_alg(prog, "--alg", x, v);
		break;
	case PK_OPT_ROOTS:
		rc = read_roots(prog, x, arg);
		break;
	case PK_OPT_ATT_TIME:
		if (x->have_att_time)
			return isim_usage_error(prog, "--attestation-time given twice");
		if (!isim_parse_at_ms(arg, &ms) || ms <= 0)
			return isim_bad_value(prog, "--attestation-time", arg, "an RFC 3339 time or @SECONDS");
		x->att_time = ms / 1000;
		x->have_att_time = true;
		rc = 0;
		break;
	case PK_OPT_REQUIRE_ATT:
		rc = set_flag(prog, "--require-attestation", &x->require_att, 1);
		break;
	case PK_OPT_ACCEPT_UNVERIFIED:
		rc = set_flag(prog, "--accept-unverified-attestation", &x->accept_unverified, 1);
		break;
	case PK_OPT_PUBLIC_KEY:
		rc = set_key(prog, "--public-key", x, arg);
		break;
	case PK_OPT_SIGN_COUNT:
		if (x->have_sign_count)
			return isim_usage_error(prog, "--sign-count given twice");
		if (!isim_parse_long(arg, 0, 4294967295L, &v))
			return isim_bad_value(prog, "--sign-count", arg, "a counter from 0 to 4294967295");
		x->sign_count = (uint32_t)v;
		x->have_sign_count = true;
		rc = 0;
		break;
	case PK_OPT_CREDENTIAL_ID:
		rc = set_b64(prog, "--credential-id", &x->cred_id, &x->cred_id_len, arg, ISIM_WA_CRED_ID_MAX);
		break;
	case PK_OPT_USER_HANDLE:
		rc = set_b64(prog, "--user-handle", &x->user_handle, &x->user_handle_len, arg, 64);
		break;
	case PK_OPT_EXPECT:
		rc = isim_opt_once(prog, "--expect", &x->expect_path, arg);
		break;
	default:
		return 0;
	}
	return rc ? ISIM_EXIT_USAGE : 1;
}

/* ---- the JSON form ------------------------------------------------------- */

static int json_bad(const char *prog, const char *where, const char *name, const char *what)
{
	fprintf(stderr, "%s: %s/%s: not %s\n", prog, where, name, what);
	return ISIM_EXIT_DATAERR;
}

static int json_strings(const char *prog, const char *where, const char *name, const cJSON *it, char **list, size_t *n,
			const char *opt)
{
	const cJSON *s;

	if (*n)
		return isim_usage_error(prog, "%s given as %s and in %s", name, opt, where);
	if (cJSON_IsString(it))
		return add_str(prog, opt, list, n, it->valuestring) ? ISIM_EXIT_USAGE : 0;
	if (!cJSON_IsArray(it) || !cJSON_GetArraySize(it))
		return json_bad(prog, where, name, "a string or an array of strings");
	cJSON_ArrayForEach (s, it) {
		if (!cJSON_IsString(s))
			return json_bad(prog, where, name, "a string or an array of strings");
		if (add_str(prog, opt, list, n, s->valuestring))
			return ISIM_EXIT_USAGE;
	}
	return 0;
}

static int json_bool(const char *prog, const char *where, const char *name, const cJSON *it, int *slot, bool invert)
{
	if (!cJSON_IsBool(it))
		return json_bad(prog, where, name, "true or false");
	if (*slot != -1)
		return isim_usage_error(prog, "%s given as an option and in %s", name, where);
	*slot = cJSON_IsTrue(it) != invert;
	return 0;
}

static int json_b64(const char *prog, const char *where, const char *name, const cJSON *it, uint8_t **slot, size_t *len,
		    size_t max)
{
	if (!cJSON_IsString(it))
		return json_bad(prog, where, name, "a base64url string");
	if (*slot)
		return isim_usage_error(prog, "%s given as an option and in %s", name, where);
	if (!isim_wa_b64url_decode(it->valuestring, max, slot, len) || !*len)
		return json_bad(prog, where, name, "unpadded base64url");
	return 0;
}

int pk_expect_json(const char *prog, struct pk_expect *x, const cJSON *obj, const char *where)
{
	const cJSON *it, *s;
	struct isim_wa_status st;
	int64_t ms;
	int rc = 0;

	if (!cJSON_IsObject(obj)) {
		fprintf(stderr, "%s: %s: not a JSON object\n", prog, where);
		return ISIM_EXIT_DATAERR;
	}
	cJSON_ArrayForEach (it, obj) {
		const char *k = it->string;

		if (!strcmp(k, "challenge"))
			rc = json_b64(prog, where, k, it, &x->challenge, &x->challenge_len, 1024);
		else if (!strcmp(k, "origins"))
			rc = json_strings(prog, where, k, it, x->origins, &x->norigins, "--origin");
		else if (!strcmp(k, "rp_id")) {
			if (!cJSON_IsString(it) || !*it->valuestring)
				return json_bad(prog, where, k, "a string");
			if (x->rp_id)
				return isim_usage_error(prog, "rp_id given as --rp-id and in %s", where);
			x->rp_id = strdup(it->valuestring);
			rc = x->rp_id ? 0 : ISIM_EXIT_SOFTWARE;
		} else if (!strcmp(k, "require_user_verification"))
			rc = json_bool(prog, where, k, it, &x->require_uv, false);
		else if (!strcmp(k, "require_user_presence") && !x->assertion)
			rc = json_bool(prog, where, k, it, &x->up_optional, true);
		else if (!strcmp(k, "allow_cross_origin"))
			rc = json_bool(prog, where, k, it, &x->cross_origin, false);
		else if (!strcmp(k, "top_origins"))
			rc = json_strings(prog, where, k, it, x->top_origins, &x->ntop_origins, "--top-origin");
		else if (!strcmp(k, "algorithms") && !x->assertion) {
			if (x->nalgs)
				return isim_usage_error(prog, "algorithms given as --alg and in %s", where);
			if (!cJSON_IsArray(it) || !cJSON_GetArraySize(it))
				return json_bad(prog, where, k, "an array of COSE algorithms");
			cJSON_ArrayForEach (s, it) {
				/* An algorithm this module cannot verify may be
				 * offered; a key of it is then refused anyway. */
				if (!isim_json_is_integer(s) || s->valuedouble < -65536 || s->valuedouble > 65535)
					return json_bad(prog, where, k, "an array of COSE algorithms");
				if (add_alg(prog, "algorithms", x, (long)s->valuedouble))
					return ISIM_EXIT_USAGE;
			}
		} else if (!strcmp(k, "attestation_roots") && !x->assertion) {
			struct isim_buf b = { 0 };

			if (x->roots_pem)
				return isim_usage_error(prog, "attestation_roots given as an option and in %s", where);
			if (cJSON_IsString(it))
				isim_buf_puts(&b, it->valuestring);
			else if (cJSON_IsArray(it)) {
				cJSON_ArrayForEach (s, it) {
					if (!cJSON_IsString(s)) {
						isim_buf_free(&b);
						return json_bad(prog, where, k, "PEM text or an array of it");
					}
					isim_buf_printf(&b, "%s\n", s->valuestring);
				}
			} else
				return json_bad(prog, where, k, "PEM text or an array of it");
			x->roots_pem_len = b.len;
			x->roots_pem = isim_buf_take(&b);
			if (!x->roots_pem || !x->roots_pem_len)
				return json_bad(prog, where, k, "PEM text or an array of it");
		} else if (!strcmp(k, "attestation_time") && !x->assertion) {
			if (!cJSON_IsString(it) || !isim_parse_at_ms(it->valuestring, &ms) || ms <= 0)
				return json_bad(prog, where, k, "an RFC 3339 time");
			if (x->have_att_time)
				return isim_usage_error(prog, "attestation_time given as an option and in %s", where);
			x->att_time = ms / 1000;
			x->have_att_time = true;
		} else if (!strcmp(k, "require_attestation") && !x->assertion)
			rc = json_bool(prog, where, k, it, &x->require_att, false);
		else if (!strcmp(k, "accept_unverified_attestation") && !x->assertion)
			rc = json_bool(prog, where, k, it, &x->accept_unverified, false);
		else if (!strcmp(k, "public_key") && x->assertion) {
			if (!cJSON_IsString(it))
				return json_bad(prog, where, k, "a base64url string");
			if (x->have_key)
				return isim_usage_error(prog, "public_key given as --public-key and in %s", where);
			if (!pk_key_parse(it->valuestring, &x->key, &st)) {
				if (st.reason != ISIM_WA_ALGORITHM) {
					fprintf(stderr, "%s: %s/%s: %s\n", prog, where, k, st.msg);
					return ISIM_EXIT_DATAERR;
				}
				x->key_refusal = st;
			}
			x->have_key = true;
		} else if (!strcmp(k, "sign_count") && x->assertion) {
			if (!isim_json_is_integer(it) || it->valuedouble < 0 || it->valuedouble > 4294967295.0)
				return json_bad(prog, where, k, "a counter from 0 to 4294967295");
			if (x->have_sign_count)
				return isim_usage_error(prog, "sign_count given as --sign-count and in %s", where);
			x->sign_count = (uint32_t)it->valuedouble;
			x->have_sign_count = true;
		} else if (!strcmp(k, "credential_id") && x->assertion)
			rc = json_b64(prog, where, k, it, &x->cred_id, &x->cred_id_len, ISIM_WA_CRED_ID_MAX);
		else if (!strcmp(k, "user_handle") && x->assertion)
			rc = json_b64(prog, where, k, it, &x->user_handle, &x->user_handle_len, 64);
		else {
			fprintf(stderr, "%s: %s/%s: not an expectation of %s\n", prog, where, k,
				x->assertion ? "an assertion" : "a registration");
			return ISIM_EXIT_DATAERR;
		}
		if (rc)
			return rc;
	}
	return 0;
}

int pk_expect_finish(const char *prog, struct pk_expect *x, struct isim_wa_expect *e)
{
	const char *env;
	cJSON *doc = NULL;
	struct isim_error err;
	int rc;

	memset(e, 0, sizeof(*e));
	if (x->expect_path) {
		isim_error_clear(&err);
		if (isim_json_load_file(x->expect_path, &doc, &err) < 0)
			return isim_fail(prog, &err);
		rc = pk_expect_json(prog, x, doc, x->expect_path);
		cJSON_Delete(doc);
		if (rc)
			return rc;
	}
	/* The seed's variables, for what neither options nor JSON said. */
	env = getenv("WEBAUTHN_RP_ORIGIN");
	if (!x->norigins && env && *env && add_str(prog, "WEBAUTHN_RP_ORIGIN", x->origins, &x->norigins, env))
		return ISIM_EXIT_USAGE;
	env = getenv("WEBAUTHN_RP_ID");
	if (!x->rp_id && env && *env && !(x->rp_id = strdup(env)))
		return isim_usage_error(prog, "out of memory");
	if (!x->challenge)
		return isim_usage_error(prog, "--challenge is required");
	if (!x->norigins)
		return isim_usage_error(prog, "--origin (or WEBAUTHN_RP_ORIGIN) is required");
	if (!x->rp_id)
		return isim_usage_error(prog, "--rp-id (or WEBAUTHN_RP_ID) is required");
	if (x->assertion && !x->have_key)
		return isim_usage_error(prog, "--public-key is required");
	if (x->require_att == 1 && x->accept_unverified == 1)
		return isim_usage_error(prog, "--require-attestation and --accept-unverified-attestation contradict");
	e->challenge = x->challenge;
	e->challenge_len = x->challenge_len;
	e->origins = (const char *const *)x->origins;
	e->norigins = x->norigins;
	e->rp_id = x->rp_id;
	e->require_uv = x->require_uv == 1;
	e->up_optional = x->up_optional == 1;
	e->allow_cross_origin = x->cross_origin == 1;
	e->top_origins = x->ntop_origins ? (const char *const *)x->top_origins : NULL;
	e->ntop_origins = x->ntop_origins;
	e->algs = x->nalgs ? x->algs : NULL;
	e->nalgs = x->nalgs;
	e->roots_pem = x->roots_pem;
	e->roots_pem_len = x->roots_pem_len;
	e->att_time = x->att_time;
	e->require_trusted = x->require_att == 1;
	e->accept_unverified = x->accept_unverified == 1;
	e->key = x->have_key ? &x->key : NULL;
	e->sign_count = x->sign_count;
	e->cred_id = x->cred_id;
	e->cred_id_len = x->cred_id_len;
	e->user_handle = x->user_handle;
	e->user_handle_len = x->user_handle_len;
	return 0;
}

/* ---- output -------------------------------------------------------------- */

int pk_print(const char *prog, cJSON *doc)
{
	if (!doc) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return ISIM_EXIT_SOFTWARE;
	}
	if (isim_json_write_line(stdout, doc) < 0) {
		cJSON_Delete(doc);
		return isim_stdout_error(prog);
	}
	cJSON_Delete(doc);
	return isim_close_stdout(prog);
}

int pk_print_refusal(const char *prog, const struct isim_wa_status *st)
{
	cJSON *o = cJSON_CreateObject();
	int rc;

	if (o) {
		cJSON_AddFalseToObject(o, "ok");
		cJSON_AddStringToObject(o, "reason", isim_wa_reason_name(st->reason));
		cJSON_AddStringToObject(o, "message", st->msg);
	}
	if (st->reason == ISIM_WA_INTERNAL) {
		cJSON_Delete(o);
		fprintf(stderr, "%s: %s\n", prog, st->msg);
		return ISIM_EXIT_SOFTWARE;
	}
	rc = pk_print(prog, o);
	return rc ? rc : ISIM_EXIT_VERDICT;
}

bool pk_add_b64(cJSON *o, const char *name, const uint8_t *p, size_t n)
{
	char *s;

	if (!p) {
		cJSON_AddNullToObject(o, name);
		return true;
	}
	s = isim_wa_b64url_encode(p, n);
	if (!s || !cJSON_AddStringToObject(o, name, s)) {
		free(s);
		return false;
	}
	free(s);
	return true;
}

void pk_add_flags(cJSON *o, uint8_t flags)
{
	cJSON_AddBoolToObject(o, "user_present", flags & ISIM_WA_FLAG_UP);
	cJSON_AddBoolToObject(o, "user_verified", flags & ISIM_WA_FLAG_UV);
	cJSON_AddBoolToObject(o, "backup_eligible", flags & ISIM_WA_FLAG_BE);
	cJSON_AddBoolToObject(o, "backed_up", flags & ISIM_WA_FLAG_BS);
}

bool pk_add_registered(cJSON *o, const struct isim_wa_reg_result *res, const struct isim_wa_registration *r)
{
	char aaguid[37];
	cJSON *t;
	size_t i;

	if (!pk_add_b64(o, "credential_id", res->cred_id, res->cred_id_len))
		return false;
	cJSON_AddNumberToObject(o, "alg", (double)res->alg);
	cJSON_AddStringToObject(o, "alg_name", isim_wa_alg_name(res->alg));
	cJSON_AddNumberToObject(o, "sign_count", res->sign_count);
	cJSON_AddStringToObject(o, "fmt", res->fmt);
	cJSON_AddStringToObject(o, "attestation_type", isim_wa_att_type_name(res->att_type));
	cJSON_AddBoolToObject(o, "attestation_trusted", res->att_trusted);
	isim_wa_aaguid_text(res->aaguid, aaguid);
	cJSON_AddStringToObject(o, "aaguid", aaguid);
	pk_add_flags(o, res->flags);
	t = cJSON_AddArrayToObject(o, "transports");
	for (i = 0; t && i < r->ntransports; i++)
		cJSON_AddItemToArray(t, cJSON_CreateString(r->transports[i]));
	return t != NULL;
}

int pk_read_stdin(const char *prog, cJSON **out)
{
	struct isim_error err;

	isim_error_clear(&err);
	if (isatty(STDIN_FILENO))
		return isim_usage_error(prog, "the credential JSON is read from stdin, which is a terminal");
	if (isim_json_load_file("-", out, &err) < 0)
		return isim_fail(prog, &err);
	return 0;
}
