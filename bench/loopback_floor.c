/*
 * loopback_floor.c - what one RTP packet costs the kernel on loopback, with no
 * server at all: N socket pairs on 127.0.0.1, one 172-byte datagram (a 20 ms
 * PCMU frame with its RTP header) sent and received per pair and round, one
 * socket per stream as RTP needs. Prints the CPU per packet and, from it, the
 * share of this machine that loopback alone takes for the benchmark targets.
 *
 *   loopback_floor [PAIRS] [ROUNDS]       (defaults 2500 and 200)
 *
 * Each packet of an in-box benchmark crosses loopback once: phone to server or
 * server to phone. A bridged call has two legs, each sending and receiving 50
 * packets a second (200 crossings/s per call); a conference member sends and
 * receives 50 (100 crossings/s). When that floor alone nears the machine's
 * cores, an in-box load generator cannot show what the server would carry with
 * its load arriving from the network.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#define PKT_LEN 172

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int bound_socket(struct sockaddr_in *sa)
{
	socklen_t len = sizeof(*sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)sa, sizeof(*sa)) ||
	    getsockname(fd, (struct sockaddr *)sa, &len)) {
		fprintf(stderr, "loopback_floor: socket: %s\n", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	int pairs = argc > 1 ? atoi(argv[1]) : 2500;
	int rounds = argc > 2 ? atoi(argv[2]) : 200;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	char pkt[PKT_LEN], buf[2048];
	struct sockaddr_in *to;
	int *tx, *rx, i, r, ret = 1;
	long got = 0;
	double t0, us;

	if (pairs < 1 || rounds < 1) {
		fprintf(stderr, "usage: loopback_floor [PAIRS] [ROUNDS]\n");
		return 2;
	}
	tx = calloc((size_t)pairs, sizeof(*tx));
	rx = calloc((size_t)pairs, sizeof(*rx));
	to = calloc((size_t)pairs, sizeof(*to));
	if (!tx || !rx || !to)
		goto out;
	for (i = 0; i < pairs; i++) {
		struct sockaddr_in from;

		tx[i] = bound_socket(&from);
		rx[i] = bound_socket(&to[i]);
		if (tx[i] < 0 || rx[i] < 0) {
			pairs = i + 1;
			goto out;
		}
	}
	memset(pkt, 0xff, sizeof(pkt));
	t0 = cpu_seconds();
	for (r = 0; r < rounds; r++) {
		/* All sends, then all receives: as a tick's worth of streams arrives. */
		for (i = 0; i < pairs; i++)
			(void)sendto(tx[i], pkt, sizeof(pkt), 0, (struct sockaddr *)&to[i],
				     sizeof(to[i]));
		for (i = 0; i < pairs; i++)
			got += recv(rx[i], buf, sizeof(buf), 0) == PKT_LEN;
	}
	if (!got) {
		fprintf(stderr, "loopback_floor: no packet came back\n");
		goto out;
	}
	us = (cpu_seconds() - t0) * 1e6 / (double)got;
	printf("packets            %ld (lost %ld)\n", got, (long)pairs * rounds - got);
	printf("cpu per packet     %.2f us (send + loopback + receive)\n", us);
	printf("2500 bridged calls %.2f cores of %ld (500,000 crossings/s)\n",
	       us * 500000 / 1e6, cores);
	printf("5000 members       %.2f cores of %ld (500,000 crossings/s)\n",
	       us * 500000 / 1e6, cores);
	printf("1000 member room   %.2f cores of %ld (100,000 crossings/s)\n",
	       us * 100000 / 1e6, cores);
	ret = 0;
out:
	for (i = 0; tx && rx && i < pairs; i++) {
		if (tx[i] > 0)
			close(tx[i]);
		if (rx[i] > 0)
			close(rx[i]);
	}
	free(tx);
	free(rx);
	free(to);
	return ret;
}
