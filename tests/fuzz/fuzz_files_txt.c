/* SPDX-License-Identifier: MIT */
/* Lines of a composed folder's files.txt, which isim-build reads to lay
 * files into an image. Nothing may crash; an accepted line must name an
 * absolute destination and a relative source, neither with a ".." part,
 * and a mode of at most 07777. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "isim/compose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int dotdot(const char *p)
{
	const char *s;

	for (s = p; (s = strstr(s, "..")); s += 2)
		if ((s == p || s[-1] == '/') && (s[2] == '/' || s[2] == '\0'))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct isim_files_entry e;
	struct isim_error err;
	char *line = malloc(size + 1);

	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	isim_error_clear(&err);
	if (isim_files_line(line, &e, &err) == 0) {
		if (e.mode > 07777 || e.destination[0] != '/' || e.source[0] == '/' || dotdot(e.destination) ||
		    dotdot(e.source) || strlen(e.sha256) != 64)
			abort();
	} else if (err.kind != ISIM_ERR_DATA || !err.msg[0]) {
		abort();
	}
	free(line);
	return 0;
}
