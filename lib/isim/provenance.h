/* SPDX-License-Identifier: MIT */
#ifndef ISIM_PROVENANCE_H
#define ISIM_PROVENANCE_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "isim/error.h"
#include "isim/hash.h"

#define ISIM_INTOTO_STATEMENT_V1 "https://in-toto.io/Statement/v1"
#define ISIM_SLSA_PROVENANCE_V1 "https://slsa.dev/provenance/v1"
#define ISIM_INTOTO_PAYLOAD_TYPE "application/vnd.in-toto+json"

/* Check that stmt is an in-toto Statement v1 (with, when its predicateType
 * is SLSA Provenance v1, the predicate's required parts) and that one of its
 * subjects has the SHA-256 digest. 0 when it does. -1 with err->kind
 * ISIM_ERR_DATA and the JSON pointer when the statement is malformed,
 * or ISIM_ERR_REFUSED when it is well-formed but names other content. */
int isim_provenance_match(const cJSON *stmt, const uint8_t digest[static ISIM_SHA256_BYTES],
			  struct isim_error *err) ISIM_MUST_CHECK;

#endif
