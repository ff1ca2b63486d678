/* SPDX-License-Identifier: MIT */
#ifndef ISIM_INTOTO_H
#define ISIM_INTOTO_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "isim/error.h"
#include "isim/minisign.h"
#include "isim/provenance.h"

/* in-toto attestations (in-toto/attestation, spec/v1): Statements about
 * artifacts named by their SHA-256, and how one is published, as the
 * statement file, its minisign signature and its DSSE envelope. */

#define ISIM_INTOTO_TEST_RESULT_V01 "https://in-toto.io/attestation/test-result/v0.1"

/* A ResourceDescriptor with a name and a sha256 digest (lower-case hex). */
struct isim_intoto_subject {
	const char *name;
	const char *sha256;
};

/* {_type, subject, predicateType, predicate}, in that order. The
 * predicate is taken over, also on failure. */
int isim_intoto_statement(const struct isim_intoto_subject *subjects, size_t nsubjects, const char *predicate_type,
			  cJSON *predicate, cJSON **out, struct isim_error *err) ISIM_MUST_CHECK;

/* The test-result v0.1 predicate: result PASSED or FAILED, configuration
 * (what the tests ran with), and the tests of a TAP report (isim_tap_parse)
 * as "feature/name" in passedTests or failedTests (warnedTests empty). */
int isim_intoto_test_result(bool passed, const struct isim_intoto_subject *configuration, size_t nconfiguration,
			    const cJSON *report, cJSON **out, struct isim_error *err) ISIM_MUST_CHECK;

/* The statement's file text: cJSON's indented form and a newline (free()).
 * NULL on no memory. */
char *isim_intoto_text(const cJSON *stmt);

/* Where a statement goes and how it is signed. */
struct isim_intoto_out {
	const char *path;		 /* the statement file */
	const struct isim_ms_seckey *sk; /* NULL: not signed */
	const char *sig_path;		 /* its minisign signature */
	const char *dsse_path;		 /* its DSSE envelope */
	time_t when;			 /* into the trusted comment */
	const char *comment;		 /* the signature's untrusted comment; NULL: minisign's */
};

/* Sign text, the statement that goes to o->path (its base name goes into
 * the trusted comment with o->when): a minisign signature written to
 * o->sig_path and a DSSE envelope (payload type
 * application/vnd.in-toto+json) to o->dsse_path, each atomically. */
int isim_intoto_sign(const struct isim_intoto_out *o, const char *text, struct isim_error *err) ISIM_MUST_CHECK;

/* Publish a statement: with o->sk, its signature and envelope as
 * isim_intoto_sign does, then the statement at o->path, last, so whoever
 * finds a statement finds its signatures too. Without o->sk, only the
 * statement. */
int isim_intoto_write(const struct isim_intoto_out *o, const char *text, struct isim_error *err) ISIM_MUST_CHECK;

#endif
