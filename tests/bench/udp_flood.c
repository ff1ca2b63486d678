/* SPDX-License-Identifier: MIT */
/* The benchmarks' UDP load: what isim-rendezvous must authenticate and
 * drop, and what a bare socket merely receives.
 *
 *   udp_flood send ADDR%IF PORT SIZE SECONDS   forged rendezvous datagrams
 *                                              (right header, random tag)
 *   udp_flood sink PORT SECONDS                a bare receiver
 *
 * send prints how many it sent; sink binds [::]:PORT with the options the
 * daemon sets, receives as the daemon does (recvmsg with IPV6_PKTINFO),
 * and prints how many it received and in how many seconds, from the first. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX 1232

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int flood(const char *addr, const char *port, long size, double seconds)
{
	struct addrinfo hints = { .ai_family = AF_INET6, .ai_socktype = SOCK_DGRAM }, *res = NULL;
	static unsigned char buf[64][MAX];
	struct mmsghdr m[64];
	struct iovec iov[64];
	unsigned long long sent = 0;
	double end;
	int s, i;

	if (size < 56 || size > MAX || getaddrinfo(addr, port, &hints, &res)) {
		fprintf(stderr, "udp_flood: bad address or size\n");
		return 2;
	}
	s = socket(AF_INET6, SOCK_DGRAM, 0);
	if (s < 0 || connect(s, res->ai_addr, res->ai_addrlen) < 0) {
		perror("udp_flood: connect");
		return 1;
	}
	memset(m, 0, sizeof(m));
	for (i = 0; i < 64; i++) {
		int j;

		memcpy(buf[i], "iSRV\x01\x03", 6);
		buf[i][6] = (unsigned char)((size - 56) >> 8);
		buf[i][7] = (unsigned char)(size - 56);
		for (j = 8; j < size; j++)
			buf[i][j] = (unsigned char)rand();
		iov[i].iov_base = buf[i];
		iov[i].iov_len = (size_t)size;
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	end = now() + seconds;
	while (now() < end) {
		int n = sendmmsg(s, m, 64, 0);

		if (n < 0 && errno != ENOBUFS && errno != EAGAIN && errno != ECONNREFUSED) {
			perror("udp_flood: sendmmsg");
			return 1;
		}
		if (n > 0)
			sent += (unsigned long long)n;
	}
	printf("%llu\n", sent);
	freeaddrinfo(res);
	return 0;
}

static int sink(const char *port, double seconds)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)atoi(port)) };
	unsigned char buf[MAX + 1];
	char ctl[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct sockaddr_in6 from;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh;
	unsigned long long got = 0;
	int s, one = 1, rcvbuf = 1 << 20;
	double first = 0, last = 0, end = 0;

	s = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (s < 0 || setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) ||
	    setsockopt(s, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) ||
	    setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) ||
	    bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("udp_sink");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		double t;

		if (poll(&p, 1, 100) < 0)
			return 1;
		t = now();
		if (first && t > end)
			break;
		for (;;) {
			memset(&mh, 0, sizeof(mh));
			mh.msg_name = &from;
			mh.msg_namelen = sizeof(from);
			mh.msg_iov = &iov;
			mh.msg_iovlen = 1;
			mh.msg_control = ctl;
			mh.msg_controllen = sizeof(ctl);
			if (recvmsg(s, &mh, MSG_TRUNC) < 0)
				break;
			if (!first) {
				first = now();
				end = first + seconds;
			}
			got++;
		}
		last = now();
	}
	printf("%llu %.3f\n", got, last - first);
	return 0;
}

int main(int argc, char *argv[])
{
	if (argc == 6 && !strcmp(argv[1], "send"))
		return flood(argv[2], argv[3], atol(argv[4]), atof(argv[5]));
	if (argc == 4 && !strcmp(argv[1], "sink"))
		return sink(argv[2], atof(argv[3]));
	fprintf(stderr, "usage: udp_flood send ADDR%%IF PORT SIZE SECONDS | sink PORT SECONDS\n");
	return 2;
}
