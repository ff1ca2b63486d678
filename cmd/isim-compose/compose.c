/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "isim/catalog.h"
#include "isim/compose.h"
#include "isim/file.h"
#include "isim/json.h"
#include "common/cli.h"
#include "common/options.h"
#include "common/paths.h"

#define PROG "isim-compose"

void compose_usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [options] PROFILE\n"
		   "       " PROG " --list\n"
		   "\n"
		   "Compose PROFILE (a name under the profiles folder, or a path to its YAML\n"
		   "file) from its features into OUT/{packages.txt,files.txt,firewall.nft,\n"
		   "selftests.txt,manifest.json} and print the manifest.\n"
		   "\n"
		   "  -o, --out DIR          output folder (default build/PROFILE)\n"
		   "  -n, --validate-only    check everything, write nothing\n"
		   "  -l, --list             print the catalog (features and profiles) as JSON\n"
		   "  -q, --quiet            do not print the manifest\n"
		   "      --features-dir DIR features folder (ISIM_FEATURES_DIR)\n"
		   "      --profiles-dir DIR profiles folder (ISIM_PROFILES_DIR)\n"
		   "      --schemas-dir DIR  JSON Schemas folder (ISIM_SCHEMAS_DIR; default: built in)\n"
		   "  -h, --help             this text\n"
		   "  -V, --version          print the version\n"
		   "\n"
		   "Exit status: 0 composed, 64 usage, 65 bad catalog or profile, 66 missing\n"
		   "input, 73 cannot write the output; see isim(7).\n");
}

int compose_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "validate-only", no_argument, NULL, 'n' },
		{ "list", no_argument, NULL, 'l' },
		{ "quiet", no_argument, NULL, 'q' },
		ISIM_LONGOPTS_CATALOG,
		ISIM_LONGOPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	struct isim_dir_opts dirs = { 0 };
	struct isim_getopt g = {
		.prog = PROG, .shortopts = "o:nlqhV", .longopts = opts, .usage = compose_usage, .dirs = &dirs
	};
	const char *out_dir, *fdir, *pdir, *sdir;
	char fbuf[4096], pbuf[4096], obuf[4096];
	bool validate_only = false, list = false, quiet = false;
	struct isim_composition comp = { 0 };
	struct isim_catalog *cat = NULL;
	struct isim_profile *profile = NULL;
	struct isim_error err;
	cJSON *doc = NULL;
	int c, ret = ISIM_EXIT_SOFTWARE;

	isim_error_clear(&err);
	while ((c = isim_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case ISIM_GETOPT_EXIT:
			return g.rc;
		case 'n':
			validate_only = true;
			break;
		case 'l':
			list = true;
			break;
		case 'q':
			quiet = true;
			break;
		}
	}
	out_dir = dirs.out;
	if (list && optind != argc)
		return isim_usage_error(PROG, "--list takes no profile");
	if (!list && optind + 1 != argc)
		return isim_usage_error(PROG, optind == argc ? "no PROFILE given" : "one PROFILE only, got '%s' too",
					optind < argc ? argv[optind + 1] : "");
	if (list && (out_dir || validate_only))
		return isim_usage_error(PROG, "--list goes with neither --out nor --validate-only");
	fdir = isim_path_catalog(dirs.features, "ISIM_FEATURES_DIR", "features", fbuf, sizeof(fbuf));
	pdir = isim_path_catalog(dirs.profiles, "ISIM_PROFILES_DIR", "profiles", pbuf, sizeof(pbuf));
	sdir = isim_path_schemas(dirs.schemas);
	if (isim_path_need_dir(fdir, "features", "--features-dir", "ISIM_FEATURES_DIR", &err) < 0 ||
	    (list && isim_path_need_dir(pdir, "profiles", "--profiles-dir", "ISIM_PROFILES_DIR", &err) < 0) ||
	    isim_catalog_open(&cat, fdir, pdir, sdir, &err) < 0)
		goto fail;
	if (list) {
		if (isim_catalog_list(cat, &doc, &err) < 0)
			goto fail;
		ret = isim_json_write(stdout, doc) < 0 ? isim_stdout_error(PROG) : isim_close_stdout(PROG);
		goto out;
	}
	if (isim_profile_load(cat, argv[optind], &profile, &err) < 0 || isim_compose(cat, profile, &comp, &err) < 0)
		goto fail;
	if (!validate_only) {
		if (!out_dir) {
			if (isim_pathf(obuf, sizeof(obuf), &err, "build/%s", profile->name) < 0)
				goto fail;
			out_dir = obuf;
		}
		if (isim_composition_write(&comp, out_dir, &err) < 0)
			goto fail;
	}
	if (!quiet && fputs(comp.manifest_json, stdout) == EOF) {
		ret = isim_stdout_error(PROG);
		goto out;
	}
	ret = isim_close_stdout(PROG);
	goto out;
fail:
	ret = isim_fail(PROG, &err);
out:
	cJSON_Delete(doc);
	isim_composition_free(&comp);
	isim_profile_free(profile);
	isim_catalog_free(cat);
	return ret;
}
