/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include "common/secret.h"

int isim_secret_protect(struct isim_error *err)
{
	struct rlimit rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) < 0)
		return isim_error_errno(err, ISIM_ERR_INTERNAL, errno, "cannot disable core files");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return isim_error_errno(err, ISIM_ERR_INTERNAL, errno, "cannot make the process non-dumpable");
	return 0;
}

bool isim_parse_fd(const char *s, int *fd)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v > 1023)
		return false;
	*fd = (int)v;
	return true;
}

/* One line from fd, a byte at a time so nothing after it is consumed. */
static int read_line(int fd, char *buf, size_t size, size_t *len, const char *from, struct isim_error *err)
{
	size_t n = 0;
	ssize_t r;
	char c;

	for (;;) {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			return isim_error_set(err, ISIM_ERR_USAGE, "interrupted while reading the password");
		if (r < 0)
			return isim_error_errno(err, ISIM_ERR_IO, errno, "cannot read the password from %s", from);
		if (r == 0 || c == '\n')
			break;
		if (n + 1 >= size) {
			sodium_memzero(&c, sizeof(c));
			return isim_error_set(err, ISIM_ERR_DATA, "the password from %s is longer than %zu bytes", from,
					      size - 1);
		}
		buf[n++] = c;
	}
	if (r == 0 && n == 0)
		return isim_error_set(err, ISIM_ERR_DATA, "no password on %s (end of file)", from);
	if (n && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len = n;
	sodium_memzero(&c, sizeof(c));
	return 0;
}

static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
	caught = sig;
}

static const int tty_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU };
#define NSIG_TTY (sizeof(tty_signals) / sizeof(tty_signals[0]))

/* Prompt on the terminal and read a line with echo off. A signal restores
 * the terminal first, then is raised again. */
static int tty_read(int tty, const char *prompt, char *buf, size_t size, size_t *len, struct isim_error *err)
{
	struct sigaction sa, old[NSIG_TTY];
	struct termios saved, quiet;
	size_t i;
	int ret;

	if (tcgetattr(tty, &saved) < 0)
		return isim_error_errno(err, ISIM_ERR_USAGE, errno, "cannot read a password from the terminal");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: read(2) returns EINTR */
	sigemptyset(&sa.sa_mask);
	caught = 0;
	for (i = 0; i < NSIG_TTY; i++)
		sigaction(tty_signals[i], &sa, &old[i]);
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (write(tty, prompt, strlen(prompt)) < 0 || tcsetattr(tty, TCSAFLUSH, &quiet) < 0) {
		ret = isim_error_errno(err, ISIM_ERR_IO, errno, "cannot use the terminal");
	} else {
		ret = read_line(tty, buf, size, len, "the terminal", err);
		tcsetattr(tty, TCSAFLUSH, &saved);
		if (write(tty, "\n", 1) < 0)
			ret = -1;
	}
	for (i = 0; i < NSIG_TTY; i++)
		sigaction(tty_signals[i], &old[i], NULL);
	if (caught)
		raise(caught);
	return ret;
}

int isim_password_read(int fd, const char *prompt, bool confirm, char **out, size_t *len, struct isim_error *err)
{
	char *pw = NULL, *again = NULL;
	size_t n2 = 0;
	int tty = -1, ret = -1;
	char from[32];

	*out = NULL;
	*len = 0;
	if (sodium_init() < 0)
		return isim_error_set(err, ISIM_ERR_INTERNAL, "libsodium cannot be initialised");
	pw = sodium_malloc(ISIM_MS_PASSWORD_MAX + 1);
	again = sodium_malloc(ISIM_MS_PASSWORD_MAX + 1);
	if (!pw || !again) {
		isim_error_set(err, ISIM_ERR_INTERNAL, "cannot allocate locked memory for a password");
		goto out;
	}
	if (fd >= 0) {
		snprintf(from, sizeof(from), "descriptor %d", fd);
		if (read_line(fd, pw, ISIM_MS_PASSWORD_MAX + 1, len, from, err) < 0)
			goto out;
	} else {
		tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (tty < 0) {
			isim_error_set(err, ISIM_ERR_USAGE,
				       "no terminal to read a password from; give --password-fd N");
			goto out;
		}
		if (tty_read(tty, prompt, pw, ISIM_MS_PASSWORD_MAX + 1, len, err) < 0)
			goto out;
		if (confirm) {
			if (tty_read(tty, "Password (again): ", again, ISIM_MS_PASSWORD_MAX + 1, &n2, err) < 0)
				goto out;
			if (n2 != *len || sodium_memcmp(pw, again, n2) != 0) {
				isim_error_set(err, ISIM_ERR_USAGE, "the two passwords differ");
				goto out;
			}
		}
	}
	*out = pw;
	pw = NULL;
	ret = 0;
out:
	if (tty >= 0)
		close(tty);
	sodium_free(pw);
	sodium_free(again);
	if (ret < 0)
		*len = 0;
	return ret;
}

int isim_secret_key_open(const char *path, int password_fd, struct isim_ms_seckey **out, struct isim_error *err)
{
	struct isim_ms_seckey *sk = NULL;
	char prompt[600], *pw = NULL;
	size_t len = 0;
	int ret = -1;

	*out = NULL;
	if (isim_ms_seckey_load(path, &sk, err) < 0)
		return -1;
	if (sk->locked) {
		snprintf(prompt, sizeof(prompt), "Password for %.500s: ", path);
		if (isim_password_read(password_fd, prompt, false, &pw, &len, err) < 0)
			goto out;
		if (isim_ms_seckey_unlock(sk, pw, len, err) < 0) {
			isim_error_at(err, path, 0, 0);
			goto out;
		}
	}
	*out = sk;
	sk = NULL;
	ret = 0;
out:
	sodium_free(pw);
	isim_ms_seckey_free(sk);
	return ret;
}
