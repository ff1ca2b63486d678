/* SPDX-License-Identifier: MIT */
#ifndef ISIM_PROVENANCE_H
#define ISIM_PROVENANCE_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "isim/error.h"
#include "isim/hash.h"
#include "isim/verdict.h"

#define ISIM_INTOTO_STATEMENT_V1 "https://in-toto.io/Statement/v1"
#define ISIM_SLSA_PROVENANCE_V1 "https://slsa.dev/provenance/v1"
#define ISIM_INTOTO_PAYLOAD_TYPE "application/vnd.in-toto+json"

/* The verdict on whether stmt, an in-toto Statement v1 (with, when its
 * predicateType is SLSA Provenance v1, the predicate's required parts),
 * names content of that SHA-256 digest as one of its subjects. 0 with v
 * filled: ok, or refused ("/subject: ...") when the statement is
 * well-formed but names other content. -1 with err->kind ISIM_ERR_DATA
 * and the JSON pointer when the statement is malformed. */
int isim_provenance_match(const cJSON *stmt, const uint8_t digest[static ISIM_SHA256_BYTES], struct isim_verdict *v,
			  struct isim_error *err) ISIM_MUST_CHECK;

#endif
