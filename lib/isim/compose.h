/* SPDX-License-Identifier: MIT */
#ifndef ISIM_COMPOSE_H
#define ISIM_COMPOSE_H

#include <cjson/cJSON.h>

#include "isim/catalog.h"
#include "isim/error.h"

#define ISIM_SELFTEST_DIR "/usr/share/infrasim/selftest"

/* The five outputs of composing a profile (isim-formats(5)). */
struct isim_composition {
	char *packages_txt;
	char *files_txt;
	char *firewall_nft;
	char *selftests_txt;
	char *manifest_json;
	cJSON *manifest;
};

/* Resolve the profile's features (requires, transitively, depth first in
 * the order written), check conflicts, merge packages, files, firewall
 * fragments, selftests, services, inputs and feature_config, and build the
 * manifest. Nothing is written. Errors name the file, line and column. */
int isim_compose(struct isim_catalog *cat, const struct isim_profile *profile, struct isim_composition *out,
		 struct isim_error *err) ISIM_MUST_CHECK;
void isim_composition_free(struct isim_composition *c);

/* One line of files.txt as isim_compose writes it: "MODE SHA256
 * DESTINATION SOURCE", MODE octal (at most 07777), SHA256 64 lower-case hex
 * digits, DESTINATION absolute without "..", SOURCE relative to the
 * features folder without "..". The strings point into line, which is
 * changed. ISIM_ERR_DATA naming the field when it is not so. */
struct isim_files_entry {
	unsigned mode;
	const char *sha256;
	const char *destination;
	const char *source;
};
int isim_files_line(char *line, struct isim_files_entry *e, struct isim_error *err) ISIM_MUST_CHECK;

/* Write the outputs into dir atomically: all of them or none, an older
 * directory left as it was on failure. The folder gets a mark
 * (.isim-compose); an existing dir is replaced only when it is empty,
 * holds that mark, or holds a manifest.json and nothing but the outputs
 * (as written before the mark); any other is refused (ISIM_ERR_CANTCREATE)
 * and left with its files. */
int isim_composition_write(const struct isim_composition *c, const char *dir, struct isim_error *err) ISIM_MUST_CHECK;

#endif
