/* SPDX-License-Identifier: MIT */
#ifndef ISIM_TAP_H
#define ISIM_TAP_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "isim/error.h"

/* The selftest report an image prints on its serial console (the
 * infrasim-selftest service, isim-formats(5)):
 *
 *   SELFTEST BEGIN
 *   # selftest FEATURE/NAME begin
 *   ok 1 - description            (TAP: "not ok", "# SKIP reason")
 *   1..N
 *   # selftest FEATURE/NAME end ok|failed
 *   # selftests: T run, F failed
 *   SELFTEST END status=S
 *
 * amid whatever else the console shows (kernel and service messages,
 * carriage returns). Parsed into
 *   {"complete", "status", "passed", "failed", "skipped",
 *    "selftests": [{"feature", "name", "ok", "plan", "passed", "failed",
 *                   "skipped", "tests": [{"number", "ok", "skip",
 *                   "description"}]}]}
 * where complete says SELFTEST END was seen (status is null otherwise) and
 * a selftest is ok when it ended "ok", its plan matches its tests and none
 * of them is "not ok". */
int isim_tap_parse(const char *text, size_t len, cJSON **out, struct isim_error *err) ISIM_MUST_CHECK;

/* Whether the report is complete and every selftest passed (at least one
 * ran, and the guest's own status is 0). */
int isim_tap_passed(const cJSON *report);

#endif
