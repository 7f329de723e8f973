/*
 * port.c - the RTP port pool: even ports of [rtp-start-port, rtp-end-port],
 * handed out round-robin so a freed port rests before it is reused (late
 * packets of the old call find nobody). Signalling thread only.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>
#include <re.h>
#include "media/media_int.h"

/* DSCP EF (RFC 3246) for voice, as phones and FreeSWITCH mark RTP. */
#define TOS_EF 0xb8

static struct {
	uint16_t first;      /* lowest even port */
	unsigned count;      /* even ports in the range */
	uint8_t *used;
	unsigned next;
} P;

int media_ports_init(uint16_t start, uint16_t end)
{
	unsigned first = (start + 1u) & ~1u;

	/* RTP takes the even port, RTCP would take the odd one above it (RFC 3550 11). */
	if (first + 1u > end)
		return EINVAL;
	P.first = (uint16_t)first;
	P.count = (end - 1u - first) / 2u + 1u;
	P.used = calloc(P.count, 1);
	P.next = 0;
	return P.used ? 0 : ENOMEM;
}

void media_ports_close(void)
{
	free(P.used);
	P.used = NULL;
	P.count = 0;
}

int media_port_open(const char *local_ip, int *fdp, uint16_t *portp)
{
	struct sa sa;
	int fd, tos = TOS_EF, err = EADDRINUSE;
	unsigned i;

	if (!P.used)
		return ENODEV;
	if (!local_ip || sa_set_str(&sa, local_ip, 0))
		return EINVAL;
	fd = socket(sa_af(&sa), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return errno;
	if (sa_af(&sa) == AF_INET)
		(void)setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	else
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
	for (i = 0; i < P.count; i++) {
		unsigned idx = (P.next + i) % P.count;
		uint16_t port = (uint16_t)(P.first + 2u * idx);

		if (P.used[idx])
			continue;
		sa_set_port(&sa, port);
		if (!bind(fd, &sa.u.sa, sa.len)) {
			P.used[idx] = 1;
			P.next = (idx + 1) % P.count;
			*fdp = fd;
			*portp = port;
			return 0;
		}
		/* Someone else has it (another process, or our socket still closing). */
		if (errno != EADDRINUSE && errno != EACCES) {
			err = errno;
			break;
		}
	}
	close(fd);
	return err;
}

void media_port_release(uint16_t port)
{
	unsigned idx;

	if (!P.used || port < P.first || (port - P.first) & 1u)
		return;
	idx = (port - P.first) / 2u;
	if (idx < P.count)
		P.used[idx] = 0;
}
