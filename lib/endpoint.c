/* SPDX-License-Identifier: MIT */
/* host:port endpoints, read strictly: a lax reader would take
 * 999.999.999.999 or [:::::] for an address and port 70000 for a port,
 * and fail later and further from the document that said so. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include "isim/endpoint.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Only digits and dots: meant as an IPv4 address, whether it is one or not. */
static bool looks_dotted(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_digit(s[i]) && s[i] != '.')
			return false;
	return n > 0;
}

/* Four decimal parts 0 to 255, without leading zeros (which some readers
 * take for octal: RFC 6943 section 3.1.1). */
static bool is_ipv4(const char *s, size_t n)
{
	size_t i = 0;
	int part, v, len;

	for (part = 0; part < 4; part++) {
		if (part && (i >= n || s[i++] != '.'))
			return false;
		for (v = 0, len = 0; i < n && is_digit(s[i]); i++, len++) {
			v = v * 10 + (s[i] - '0');
			if (v > 255)
				return false;
		}
		if (len == 0 || (len > 1 && s[i - len] == '0'))
			return false;
	}
	return i == n;
}

/* RFC 1123 section 2.1 host name; why is set when it is not one. */
static bool is_hostname(const char *s, size_t n, const char **why)
{
	size_t i, start = 0;
	bool all_digits = true;

	if (n > ISIM_ENDPOINT_HOST_MAX - 1) {
		*why = "is longer than 253 bytes";
		return false;
	}
	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '.') {
			if (!is_alnum(s[i]) && s[i] != '-') {
				*why = "holds a character other than letters, digits, '-' and '.'";
				return false;
			}
			all_digits &= is_digit(s[i]);
			continue;
		}
		if (i == start) {
			*why = "has an empty label";
			return false;
		}
		if (i - start > 63) {
			*why = "has a label longer than 63 bytes";
			return false;
		}
		if (s[start] == '-' || s[i - 1] == '-') {
			*why = "has a label that starts or ends with '-'";
			return false;
		}
		if (i == n && all_digits) {
			*why = "ends in an all-numeric label";
			return false;
		}
		start = i + 1;
		all_digits = true;
	}
	return true;
}

static int parse_port(const char *p, uint16_t *port, struct isim_error *err)
{
	unsigned long v = 0;
	const char *d;

	if (!*p)
		return isim_error_set(err, ISIM_ERR_DATA, "no port after ':'");
	for (d = p; *d; d++) {
		if (!is_digit(*d))
			return isim_error_set(err, ISIM_ERR_DATA, "port '%s' is not a decimal number", p);
		if (v <= 65535)
			v = v * 10 + (unsigned long)(*d - '0');
	}
	if (p[0] == '0' && p[1])
		return isim_error_set(err, ISIM_ERR_DATA, "port '%s' has a leading zero", p);
	if (v < 1 || v > 65535)
		return isim_error_set(err, ISIM_ERR_DATA, "port %s is out of range (1 to 65535)", p);
	*port = (uint16_t)v;
	return 0;
}

int isim_endpoint_parse(const char *s, struct isim_endpoint *out, struct isim_error *err)
{
	struct isim_endpoint ep = { .family = AF_UNSPEC };
	struct in6_addr a6;
	const char *host = s, *colon, *why = NULL;
	size_t n;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close)
			return isim_error_set(err, ISIM_ERR_DATA, "'[' without ']' around an IPv6 address");
		host = s + 1;
		n = (size_t)(close - host);
		if (close[1] != ':')
			return isim_error_set(err, ISIM_ERR_DATA, "expected ':' and a port after ']'");
		colon = close + 1;
		if (n >= sizeof(ep.host))
			return isim_error_set(err, ISIM_ERR_DATA, "'%.*s' is not an IPv6 address", 64, host);
		memcpy(ep.host, host, n);
		ep.host[n] = '\0';
		if (inet_pton(AF_INET6, ep.host, &a6) != 1)
			return isim_error_set(err, ISIM_ERR_DATA, "'%s' is not an IPv6 address", ep.host);
		ep.family = AF_INET6;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return isim_error_set(err, ISIM_ERR_DATA, "expected host:port");
		n = (size_t)(colon - s);
		if (memchr(s, ':', n))
			return isim_error_set(err, ISIM_ERR_DATA,
					      "an IPv6 address must be in brackets: [address]:port");
		if (n == 0)
			return isim_error_set(err, ISIM_ERR_DATA, "no host before ':'");
		if (looks_dotted(s, n)) {
			if (!is_ipv4(s, n))
				return isim_error_set(
					err, ISIM_ERR_DATA,
					"'%.*s' is not an IPv4 address (four parts 0 to 255, no leading zeros)",
					n > 64 ? 64 : (int)n, s);
			ep.family = AF_INET;
		} else if (!is_hostname(s, n, &why)) {
			return isim_error_set(err, ISIM_ERR_DATA, "host name '%.*s' %s", n > 64 ? 64 : (int)n, s, why);
		}
		memcpy(ep.host, s, n);
		ep.host[n] = '\0';
	}
	if (parse_port(colon + 1, &ep.port, err) < 0)
		return -1;
	if (out)
		*out = ep;
	return 0;
}
