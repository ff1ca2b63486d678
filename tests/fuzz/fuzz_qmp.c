/* SPDX-License-Identifier: MIT */
/* Bytes from a QMP socket, as a QEMU (or whatever answers on its socket)
 * might send them: each line parsed as one message, then the whole stream
 * read by the client itself over a socketpair (greeting, the reply to
 * qmp_capabilities, events, the end of the socket). Nothing may crash or
 * leak; a parsed message has the parts its kind promises, a refused one
 * none and a reason; a client that opened has a version. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "isim/qemu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_line(const char *text, size_t len)
{
	struct isim_qmp_msg msg;
	struct isim_error err;

	isim_error_clear(&err);
	if (isim_qmp_parse(text, len, &msg, &err) < 0) {
		if (msg.json || !err.msg[0])
			abort();
		return;
	}
	if (!cJSON_IsObject(msg.json))
		abort();
	switch (msg.kind) {
	case ISIM_QMP_GREETING:
	case ISIM_QMP_RETURN:
		if (!msg.value)
			abort();
		break;
	case ISIM_QMP_ERROR:
		if (!msg.err_class || !msg.err_desc)
			abort();
		break;
	case ISIM_QMP_EVENT:
		if (!msg.event)
			abort();
		break;
	default:
		abort();
	}
	isim_qmp_msg_free(&msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *end = text + size;
	struct isim_qmp *q = NULL;
	struct isim_error err;
	cJSON *ev;
	int sv[2];

	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		size_t len = nl ? (size_t)(nl - text) : (size_t)(end - text);

		check_line(text, len);
		text += len + 1;
	}

	/* The client, reading the same bytes and then the end of the socket. */
	if (size > 150000 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 0;
	if (write(sv[1], data, size) != (ssize_t)size)
		abort();
	shutdown(sv[1], SHUT_WR);
	isim_error_clear(&err);
	if (isim_qmp_open_fd(sv[0], "fuzz", 0, &q, &err) == 0) {
		if (!isim_qmp_version(q)[0])
			abort();
		while (isim_qmp_wait_event(q, "SHUTDOWN", 0, NULL, &err) == 0)
			;
		while ((ev = isim_qmp_event(q)))
			cJSON_Delete(ev);
		isim_qmp_close(q);
	} else if (q || !err.msg[0]) {
		abort();
	}
	close(sv[1]);
	return 0;
}
