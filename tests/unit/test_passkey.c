/* SPDX-License-Identifier: MIT */
/* isim-passkey in-process, under the sanitizers: its command line, every
 * recorded ceremony of tests/vectors/webauthn through check-registration and
 * check-assertion (the outcome passkey-vectors.sh checks in detail), and the
 * state's commands on a fresh state folder. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include <sqlite3.h>

#include "isim-passkey/passkey.h"
#include "isim/audit.h"
#include "isim/json.h"
#include "testutil.h"

static int setup(void **state)
{
	*state = tu_enter_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	tu_leave_tmpdir(*state);
	return 0;
}

static const struct tu_cmd_case cases[] = {
	{ { NULL }, 64, "isim-passkey: no command given", NULL },
	{ { "frob" }, 64, "isim-passkey: unknown command 'frob'", NULL },
	{ { "--version" }, 0, NULL, "isim-passkey 0." },
	{ { "--help" }, 0, NULL, "check-assertion" },
	{ { "login-verify", "--help" }, 0, NULL, "usage: isim-passkey login-verify" },
	{ { "register-options" }, 64, "isim-passkey register-options: --user NAME is required", NULL },
	{ { "register-options", "--user", "a", "--user", "b" }, 64, "--user given twice", NULL },
	{ { "register-options", "--user", "a", "--attestation", "indirect" },
	  64,
	  "'indirect' is not none or direct",
	  NULL },
	{ { "check-registration", "--alg", "-48" }, 64, "is not a supported COSE algorithm", NULL },
	{ { "check-assertion", "--sign-count", "-1" }, 64, "is not a counter", NULL },
	{ { "session-check", "token" }, 64, "the token is read from stdin", NULL },
	{ { "session-revoke", "--all" }, 64, "--all and --user NAME go together", NULL },
};

static void test_command_line(void **state)
{
	(void)state;
	tu_run_cases(isim_passkey_main, "isim-passkey", cases, sizeof(cases) / sizeof(cases[0]));
}

/* Run the command with the file as stdin. */
static struct tu_run run_with_stdin(const char *file, int argc, char **argv)
{
	struct tu_run r;
	int saved = dup(STDIN_FILENO), fd = open(file, O_RDONLY);

	assert_true(saved >= 0 && fd >= 0);
	assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	close(fd);
	r = tu_call(isim_passkey_main, argc, argv);
	dup2(saved, STDIN_FILENO);
	close(saved);
	return r;
}

static const char *str(const cJSON *v, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(v, name);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

static void copy_member(cJSON *to, const char *name, const cJSON *from, const char *from_name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(from, from_name);

	if (it && !cJSON_IsNull(it) && !(cJSON_IsArray(it) && !cJSON_GetArraySize(it)))
		cJSON_AddItemToObject(to, name, cJSON_Duplicate(it, 1));
}

/* A vector's {"credential", "expect"} (SOURCE.md's fields), and what
 * check-* must answer: 0 verified, 1 refused. */
static int vector_input(const char *path, const char *out, bool *assertion)
{
	char *text = tu_read(path);
	cJSON *v, *doc, *e;
	const char *fmt, *expect, *n = strrchr(path, '/') + 1;
	double alg;
	int want;

	assert_non_null(text);
	v = cJSON_Parse(text);
	free(text);
	assert_non_null(v);
	*assertion = !strcmp(str(v, "kind"), "authentication");
	doc = cJSON_CreateObject();
	cJSON_AddItemToObject(doc, "credential", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(v, "credential"), 1));
	e = cJSON_AddObjectToObject(doc, "expect");
	copy_member(e, "challenge", v, "expected_challenge_b64url");
	copy_member(e, "origins", v, "expected_origin");
	copy_member(e, "rp_id", v, "expected_rp_id");
	copy_member(e, "require_user_verification", v, "require_user_verification");
	copy_member(e, "allow_cross_origin", v, "allow_cross_origin");
	copy_member(e, "top_origins", v, "expected_top_origins");
	if (*assertion) {
		copy_member(e, "public_key", v, "credential_public_key_b64url");
		copy_member(e, "sign_count", v, "credential_current_sign_count");
	} else {
		copy_member(e, "require_user_presence", v, "require_user_presence");
		copy_member(e, "algorithms", v, "supported_pub_key_algs");
		copy_member(e, "attestation_roots", v, "pem_root_certs");
		copy_member(e, "attestation_time", v, "attestation_verification_time");
	}
	text = cJSON_PrintUnformatted(doc);
	tu_write(".", out, text);
	free(text);
	fmt = str(v, "expected_fmt");
	expect = str(v, "expect");
	alg = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(v, "expected_alg"));
	want = strcmp(expect, "ok") != 0 || (alg <= -48 && alg >= -50) ||
	       !strncmp(n, "tpm__test_verify_attestation_", 29) ||
	       (!*assertion && strcmp(fmt, "none") && strcmp(fmt, "packed") && strcmp(fmt, "fido-u2f"));
	cJSON_Delete(doc);
	cJSON_Delete(v);
	return want;
}

static void test_vectors(void **state)
{
	static const char *const dirs[] = { "registration", "authentication" };
	char dir[PATH_MAX + 64], path[PATH_MAX + 512];
	size_t i, count = 0;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct dirent *d;
		DIR *dp;

		snprintf(dir, sizeof(dir), "%s/webauthn/%s", tu_vectors(), dirs[i]);
		dp = opendir(dir);
		assert_non_null(dp);
		while ((d = readdir(dp))) {
			char *args[3] = { "isim-passkey", NULL, NULL };
			struct tu_run r;
			bool assertion;
			int want;

			if (!strstr(d->d_name, ".json"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
			want = vector_input(path, "in.json", &assertion);
			args[1] = assertion ? "check-assertion" : "check-registration";
			r = run_with_stdin("in.json", 2, args);
			if (r.code != want)
				fail_msg("%s: exit %d, not %d: %s%s", d->d_name, r.code, want, r.out, r.err);
			assert_non_null(strstr(r.out, want ? "\"ok\":false" : "\"ok\":true"));
			tu_run_free(&r);
			count++;
		}
		closedir(dp);
	}
	assert_true(count >= 50);
}

static void test_state(void **state)
{
	const char *dir = ((struct tu_where *)*state)->dir;
	char *reg_opts[] = { "isim-passkey", "register-options", "--user", "alice", "--state-dir", (char *)dir, NULL };
	char *login_opts[] = { "isim-passkey", "login-options", "--user", "alice", "--state-dir", (char *)dir, NULL };
	char *nobody[] = { "isim-passkey", "login-options", "--user", "nobody", "--state-dir", (char *)dir, NULL };
	char *creds[] = { "isim-passkey", "credentials", "--state-dir", (char *)dir, NULL };
	char *check[] = { "isim-passkey", "session-check", "--state-dir", (char *)dir, NULL };
	char *login[] = { "isim-passkey", "login-verify", "--state-dir", (char *)dir, NULL };
	char *reg[] = { "isim-passkey", "register-verify", "--state-dir", (char *)dir, NULL };
	char vec[PATH_MAX + 64];
	struct tu_run r;

	setenv("WEBAUTHN_RP_ID", "localhost", 1);
	setenv("WEBAUTHN_RP_ORIGIN", "http://localhost:8080", 1);
	r = tu_call(isim_passkey_main, 6, reg_opts);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "\"pubKeyCredParams\":[{\"type\":\"public-key\",\"alg\":-7}"));
	tu_run_free(&r);
	r = tu_call(isim_passkey_main, 6, login_opts);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out, "\"allowCredentials\":[]"));
	tu_run_free(&r);
	r = tu_call(isim_passkey_main, 6, nobody);
	assert_int_equal(r.code, 1);
	assert_non_null(strstr(r.out, "\"reason\":\"unknown_user\""));
	tu_run_free(&r);
	r = tu_call(isim_passkey_main, 4, creds);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out, "{\"credentials\":[]}\n");
	tu_run_free(&r);
	tu_write(".", "tok.json", "{\"session\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}");
	r = run_with_stdin("tok.json", 4, check);
	assert_int_equal(r.code, 1);
	assert_non_null(strstr(r.out, "\"reason\":\"session\""));
	tu_run_free(&r);
	/* Recorded answers to challenges this state never issued. */
	snprintf(vec, sizeof(vec), "%s/webauthn/chromium/assertion-es256.json", tu_vectors());
	r = run_with_stdin(vec, 4, login);
	assert_int_equal(r.code, 1);
	assert_non_null(strstr(r.out, "\"reason\":\"challenge\""));
	tu_run_free(&r);
	snprintf(vec, sizeof(vec), "%s/webauthn/chromium/registration-direct.json", tu_vectors());
	r = run_with_stdin(vec, 4, reg);
	assert_int_equal(r.code, 1);
	assert_non_null(strstr(r.out, "\"reason\":\"challenge\""));
	tu_run_free(&r);
	unsetenv("WEBAUTHN_RP_ID");
	unsetenv("WEBAUTHN_RP_ORIGIN");
}

/* login-verify on one state kept open, as a server runs it: each ceremony
 * is its own transaction, ends it, and is appended to the audit log the
 * context keeps open, refused or not. */
static void test_login_kept_open(void **state)
{
	const char *dir = ((struct tu_where *)*state)->dir;
	struct pk_rp rp = { .state_dir = dir, .rp_id = "localhost" };
	struct pk_ctx c;
	struct isim_wa_status st;
	struct isim_audit *a = NULL;
	struct isim_error err;
	char vec[PATH_MAX + 64], path[PATH_MAX + 64];
	const char *reasons[] = { "challenge", "malformed", "challenge" };
	int64_t seq = 0;
	char head[65];
	cJSON *docs[3], *out = (cJSON *)1;
	struct rlimit rl;
	size_t i;

	rp.origins[rp.norigins++] = "http://localhost:8080";
	snprintf(vec, sizeof(vec), "%s/webauthn/chromium/assertion-es256.json", tu_vectors());
	isim_error_clear(&err);
	assert_int_equal(isim_json_load_file(vec, &docs[0], &err), 0);
	docs[1] = cJSON_Parse("{\"id\": 1}");
	docs[2] = docs[0];
	assert_int_equal(pk_open(&c, "test", &rp, true), 0);
	/* The state holds sessions' tokens: no core file, not dumpable. */
	assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
	assert_int_equal(rl.rlim_cur, 0);
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(pk_login_verify(&c, docs[i], &out, &st), 1);
		assert_null(out);
		assert_string_equal(isim_wa_reason_name(st.reason), reasons[i]);
		/* No transaction is left open for the next ceremony. */
		assert_true(sqlite3_get_autocommit(c.db));
	}
	assert_non_null(c.audit);
	pk_close(&c);
	assert_null(c.db);
	assert_null(c.audit);
	cJSON_Delete(docs[0]);
	cJSON_Delete(docs[1]);
	snprintf(path, sizeof(path), "%s/audit.db", dir);
	assert_int_equal(isim_audit_open(path, false, &a, &err), 0);
	assert_int_equal(isim_audit_head(a, &seq, head, &err), 0);
	assert_int_equal(seq, 3);
	isim_audit_close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_command_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vectors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_kept_open, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
