/*
 * esl_bench.c - event throughput of the event socket: one producer connection
 * pipelines `sendevent CUSTOM` while N subscriber connections receive the events
 * in plain format. Prints one figure per line: events fired, delivered per
 * subscriber per second, events lost, and the server's CPU.
 *
 *   esl_bench HOST PORT PASSWORD SUBSCRIBERS SECONDS SERVER_PID
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include "proc.h"

#define MAX_SUBS 256
#define WINDOW   512          /* sendevents in flight */

struct conn {
	int fd;
	char *buf;
	size_t len, cap;
	unsigned long frames, events, lost_max;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void send_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			perror("send");
			exit(1);
		}
		s += w;
		n -= (size_t)w;
	}
}

/* Consume whole frames from c->buf; counts frames and event frames. */
static void consume(struct conn *c)
{
	size_t off = 0;

	for (;;) {
		char *end = memmem(c->buf + off, c->len - off, "\n\n", 2);
		size_t head, body = 0;
		char *cl, *lost;

		if (!end)
			break;
		head = (size_t)(end - (c->buf + off)) + 2;
		*end = '\0';
		cl = strstr(c->buf + off, "Content-Length: ");
		if (cl && cl < end)
			body = strtoul(cl + 16, NULL, 10);
		if (c->len - off < head + body) {
			*end = '\n';
			break;
		}
		if (strstr(c->buf + off, "text/event-plain"))
			c->events++;
		lost = strstr(c->buf + off, "Events-Lost: ");
		if (lost && strtoul(lost + 13, NULL, 10) > c->lost_max)
			c->lost_max = strtoul(lost + 13, NULL, 10);
		c->frames++;
		off += head + body;
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
}

static int read_some(struct conn *c)
{
	ssize_t n;

	if (c->cap - c->len < 65536) {
		c->cap = c->cap ? c->cap * 2 : 1 << 20;
		c->buf = realloc(c->buf, c->cap);
		if (!c->buf)
			exit(1);
	}
	n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
	if (n <= 0)
		return n == 0 || (errno != EAGAIN && errno != EINTR) ? -1 : 0;
	c->len += (size_t)n;
	consume(c);
	return 1;
}

/* Wait until `frames` frames have arrived on c. */
static void wait_frames(struct conn *c, unsigned long frames)
{
	while (c->frames < frames) {
		struct pollfd p = {c->fd, POLLIN, 0};

		if (poll(&p, 1, 5000) <= 0 || read_some(c) < 0) {
			fprintf(stderr, "esl_bench: no reply from server\n");
			exit(1);
		}
	}
}

static void open_conn(struct conn *c, const char *host, int port, const char *pw)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	char cmd[300];
	int one = 1;

	memset(c, 0, sizeof(*c));
	inet_pton(AF_INET, host, &sa.sin_addr);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("connect");
		exit(1);
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	wait_frames(c, 1);
	snprintf(cmd, sizeof(cmd), "auth %s\n\n", pw);
	send_all(c->fd, cmd, strlen(cmd));
	wait_frames(c, 2);
}

int main(int argc, char **argv)
{
	static struct conn subs[MAX_SUBS];
	static const char ev[] = "sendevent CUSTOM\nEvent-Subclass: bench::event\n"
				 "X-Bench: payload with spaces & symbols\n\n";
	struct conn prod;
	int nsubs, secs, pid, i, port;
	unsigned long sent = 0, min_ev = ~0ul, lost = 0;
	double t0, t1, c0, c1, deadline;

	if (argc < 7) {
		fprintf(stderr, "usage: esl_bench HOST PORT PASSWORD SUBSCRIBERS SECONDS PID\n");
		return 2;
	}
	port = atoi(argv[2]);
	nsubs = atoi(argv[4]);
	secs = atoi(argv[5]);
	pid = atoi(argv[6]);
	if (nsubs < 1 || nsubs > MAX_SUBS)
		return 2;
	for (i = 0; i < nsubs; i++) {
		open_conn(&subs[i], argv[1], port, argv[3]);
		send_all(subs[i].fd, "event plain CUSTOM bench::event\n\n", 33);
		wait_frames(&subs[i], 3);
		subs[i].events = 0;
	}
	open_conn(&prod, argv[1], port, argv[3]);

	t0 = now_s();
	c0 = proc_cpu_s(pid);
	deadline = t0 + secs;
	while (now_s() < deadline) {
		struct pollfd p[MAX_SUBS + 1];
		char batch[sizeof(ev) * 64];
		size_t bl = 0;

		/* Keep WINDOW sendevents outstanding; replies are frames on prod. */
		while (sent - (prod.frames - 2) < WINDOW && bl + sizeof(ev) < sizeof(batch)) {
			memcpy(batch + bl, ev, sizeof(ev) - 1);
			bl += sizeof(ev) - 1;
			sent++;
		}
		if (bl)
			send_all(prod.fd, batch, bl);
		for (i = 0; i < nsubs; i++)
			p[i] = (struct pollfd){subs[i].fd, POLLIN, 0};
		p[nsubs] = (struct pollfd){prod.fd, POLLIN, 0};
		if (poll(p, (nfds_t)nsubs + 1, 100) < 0)
			break;
		for (i = 0; i < nsubs; i++)
			if (p[i].revents & POLLIN)
				read_some(&subs[i]);
		if (p[nsubs].revents & POLLIN)
			read_some(&prod);
	}
	t1 = now_s();
	c1 = proc_cpu_s(pid);
	for (i = 0; i < nsubs; i++) {
		if (subs[i].events < min_ev)
			min_ev = subs[i].events;
		lost += subs[i].lost_max;
	}
	printf("subscribers            %d\n", nsubs);
	printf("seconds                %.1f\n", t1 - t0);
	printf("events_fired           %lu\n", prod.frames - 2);
	printf("fired_per_s            %.0f\n", (double)(prod.frames - 2) / (t1 - t0));
	printf("delivered_per_sub_per_s %.0f\n", (double)min_ev / (t1 - t0));
	printf("delivered_total_per_s  %.0f\n", (double)min_ev * nsubs / (t1 - t0));
	printf("events_lost_reported   %lu\n", lost);
	printf("server_cpu_pct_of_core %.1f\n", 100.0 * (c1 - c0) / (t1 - t0));
	return 0;
}
