/*
 * rtp_load.c - RTP load generator for bridged-call benchmarks: plays the phones
 * of N RTP streams (PCMU, 20 ms, 50 packets/s each way) against a server's RTP
 * ports and checks what comes back. Prints one figure per line.
 *
 *   rtp_load [-t THREADS] [-w WARMUP_S] [-p SERVER_PID] [-v K] MAPFILE SECONDS
 *
 * MAPFILE has one line per stream: "<local_port> <server_port>" (both on
 * 127.0.0.1). Streams sharing a local port share one socket: that is the
 * address the phone put in its SDP, and the server's packets for each stream are
 * told apart by the server port they come from. Each thread owns some sockets
 * and sends a 20 ms slice of its streams with one sendmmsg per socket; the
 * streams' send times are spread over four 5 ms slices, as independent phones'
 * would be.
 *
 * Every payload starts with a mark: the sending stream's index and the
 * generator's tick number, written as u-law codes that survive decoding and
 * re-encoding. The receiving stream's mark tells who its bridge partner is (a
 * change of sender is cross-talk), which of the partner's packets made it
 * through the server (gaps), and how long the trip took. Packets without a mark
 * are the server's concealment or silence. The server's own RTP sequence numbers
 * give the loss between the server and us.
 *
 * Counting starts after WARMUP_S seconds (default 5) and lasts SECONDS.
 *
 * -v K reads and checks only the streams on every K-th socket; the others are
 * sinks (smallest receive buffer, never read: the kernel drops what the server
 * sends them after delivering it). On loopback the generator pays for the
 * receiving side of every packet the server sends, which a real network puts on
 * other machines; sinks leave more of a small machine to the server. Figures
 * about received packets then cover the checked streams only.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include "proc.h"

#define MAX_SOCKS   256
#define MAX_THREADS 2
#define SLICES      4                  /* send slices per 20 ms tick */
#define TICK_NS     20000000LL
#define PAYLOAD     160                /* 20 ms of 8 kHz u-law */
#define PKT         (12 + PAYLOAD)
#define RX_BATCH    256
#define MARK_LEN    14                 /* 2 magic + 4 nibbles index + 8 nibbles tick */
#define HIST_US     2000000            /* histograms: 0.1 ms bins up to 2 s */
#define HIST_BINS   (HIST_US / 100 + 1)

struct stream {
	unsigned sock;                     /* index into the socket table */
	struct sockaddr_in dst;            /* the server's RTP port */
	uint8_t pkt[PKT];
	uint16_t seq;
	uint32_t ts, ssrc;
	/* receive side, touched only by the thread owning sock */
	bool rx_any, mark_any;
	uint16_t rx_seq;
	uint32_t rx_tick;
	int partner;                       /* sender index seen in marks, -1: none yet */
	int64_t rx_last_ns;
	uint64_t rx, seq_gap, seq_reorder, marked, unmarked, e2e_gap, e2e_reorder, xtalk;
};

struct hist {
	uint64_t n, bin[HIST_BINS];
	unsigned max_us;
};

struct thr {
	unsigned id;
	pthread_t tid;
	unsigned *socks, nsocks;           /* sockets this thread owns */
	unsigned *byslice[SLICES];         /* its streams, per send slice */
	unsigned nslice[SLICES];
	struct hist lat, iat, late;        /* end-to-end, inter-arrival, own send lateness */
	uint64_t sent, send_fail, stray;
	bool counting;
	double cpu_s;
};

static struct {
	unsigned nstreams, nsocks, nthreads;
	struct stream *st;
	int fd[MAX_SOCKS];
	uint16_t port[MAX_SOCKS];
	bool sink[MAX_SOCKS];              /* not read (see -v) */
	unsigned verify_every;
	int32_t by_server_port[65536];     /* server port -> stream index */
	int64_t t0_ns;                     /* start of tick 0 */
	atomic_int phase;                  /* 0 warm-up, 1 counting, 2 stop */
	struct thr thr[MAX_THREADS];
	uint8_t tone[PAYLOAD];
} G;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void hist_add(struct hist *h, int64_t us)
{
	unsigned b;

	if (us < 0)
		us = 0;
	b = us >= HIST_US ? HIST_BINS - 1 : (unsigned)(us / 100);
	h->bin[b]++;
	h->n++;
	if ((uint64_t)us > h->max_us)
		h->max_us = us > UINT32_MAX ? UINT32_MAX : (unsigned)us;
}

static void hist_merge(struct hist *d, const struct hist *s)
{
	unsigned i;

	for (i = 0; i < HIST_BINS; i++)
		d->bin[i] += s->bin[i];
	d->n += s->n;
	if (s->max_us > d->max_us)
		d->max_us = s->max_us;
}

/* Upper edge of the bin holding quantile q, in ms. */
static double hist_q_ms(const struct hist *h, double q)
{
	uint64_t want = (uint64_t)ceil(q * (double)h->n), acc = 0;
	unsigned i;

	if (!h->n)
		return 0;
	for (i = 0; i < HIST_BINS; i++) {
		acc += h->bin[i];
		if (acc >= want)
			return (double)(i + 1) / 10.0;
	}
	return (double)HIST_US / 1000.0;
}

/* G.711 u-law encoder (ITU-T G.711, the usual biased segment search), for the tone. */
static uint8_t ulaw(int16_t pcm)
{
	int s = pcm, sign = 0, exp = 7, mask, mant;

	if (s < 0) {
		s = -s;
		sign = 0x80;
	}
	if (s > 32635)
		s = 32635;
	s += 0x84;
	for (mask = 0x4000; !(s & mask) && exp > 0; mask >>= 1)
		exp--;
	mant = (s >> (exp + 3)) & 0x0f;
	return (uint8_t)~(sign | (exp << 4) | mant);
}

/*
 * The mark: u-law codes 0x20-0x2f carry one nibble each. Decoding and
 * re-encoding u-law gives back every code but 0x7f (both 0x7f and 0xff mean 0),
 * so these survive a server that transcodes through linear PCM.
 */
static void mark_write(uint8_t *p, unsigned idx, uint32_t tick)
{
	int i;

	p[0] = 0x5a;
	p[1] = 0xa5;
	for (i = 0; i < 4; i++)
		p[2 + i] = (uint8_t)(0x20 | ((idx >> (12 - 4 * i)) & 0xf));
	for (i = 0; i < 8; i++)
		p[6 + i] = (uint8_t)(0x20 | ((tick >> (28 - 4 * i)) & 0xf));
}

static bool mark_read(const uint8_t *p, unsigned *idx, uint32_t *tick)
{
	unsigned v = 0;
	uint32_t t = 0;
	int i;

	if (p[0] != 0x5a || p[1] != 0xa5)
		return false;
	for (i = 0; i < 12; i++)
		if ((p[2 + i] & 0xf0) != 0x20)
			return false;
	for (i = 0; i < 4; i++)
		v = v << 4 | (p[2 + i] & 0xf);
	for (i = 0; i < 8; i++)
		t = t << 4 | (p[6 + i] & 0xf);
	*idx = v;
	*tick = t;
	return true;
}

static void stream_init(struct stream *s, unsigned idx)
{
	uint8_t *h = s->pkt;

	s->seq = (uint16_t)(idx * 7919u);
	s->ts = idx * 104729u;
	s->ssrc = 0x5eed0000u ^ (idx * 2654435761u);
	s->partner = -1;
	h[0] = 0x80;
	h[1] = 0;                          /* PCMU */
	h[8] = (uint8_t)(s->ssrc >> 24);
	h[9] = (uint8_t)(s->ssrc >> 16);
	h[10] = (uint8_t)(s->ssrc >> 8);
	h[11] = (uint8_t)s->ssrc;
	memcpy(h + 12, G.tone, PAYLOAD);
}

/* Send tick `tick`, slice `slice` of this thread's streams. */
static void send_slice(struct thr *t, uint32_t tick, unsigned slice, int64_t due)
{
	static __thread struct mmsghdr *mm;
	static __thread struct iovec *iov;
	static __thread unsigned cap;
	unsigned n = t->nslice[slice], i, k;
	int64_t now = now_ns();

	if (n > cap) {
		free(mm);
		free(iov);
		mm = calloc(n, sizeof(*mm));
		iov = calloc(n, sizeof(*iov));
		if (!mm || !iov)
			exit(1);
		cap = n;
	}
	if (t->counting)
		hist_add(&t->late, (now - due) / 1000);
	/* Streams in a slice are sorted by socket: one sendmmsg per run. */
	for (i = 0; i < n; i++) {
		unsigned idx = t->byslice[slice][i];
		struct stream *s = &G.st[idx];
		uint8_t *h = s->pkt;

		h[1] = 0;
		h[2] = (uint8_t)(s->seq >> 8);
		h[3] = (uint8_t)s->seq;
		h[4] = (uint8_t)(s->ts >> 24);
		h[5] = (uint8_t)(s->ts >> 16);
		h[6] = (uint8_t)(s->ts >> 8);
		h[7] = (uint8_t)s->ts;
		mark_write(h + 12, idx, tick);
		s->seq++;
		s->ts += PAYLOAD;
		iov[i] = (struct iovec){h, PKT};
		mm[i].msg_hdr = (struct msghdr){.msg_name = &s->dst, .msg_namelen = sizeof(s->dst),
			.msg_iov = &iov[i], .msg_iovlen = 1};
	}
	for (i = 0; i < n; i = k) {
		unsigned sock = G.st[t->byslice[slice][i]].sock, off = i;

		for (k = i; k < n && G.st[t->byslice[slice][k]].sock == sock; k++)
			;
		while (off < k) {
			int r = sendmmsg(G.fd[sock], &mm[off], k - off, MSG_DONTWAIT);

			if (r <= 0) {
				if (r < 0 && errno == EINTR)
					continue;
				/* A full socket buffer or a refused port: count, go on. */
				if (t->counting)
					t->send_fail += k - off;
				break;
			}
			if (t->counting)
				t->sent += (uint64_t)r;
			off += (unsigned)r;
		}
	}
}

static void rx_packet(struct thr *t, const uint8_t *b, size_t len, uint16_t from_port,
		      int64_t now)
{
	int32_t idx = G.by_server_port[from_port];
	struct stream *s;
	uint16_t seq;
	unsigned sender;
	uint32_t tick;

	if (idx < 0 || len < 12 || (b[0] & 0xc0) != 0x80) {
		if (t->counting)
			t->stray++;
		return;
	}
	s = &G.st[idx];
	seq = (uint16_t)(b[2] << 8 | b[3]);
	if (t->counting) {
		s->rx++;
		if (s->rx_any) {
			int16_t d = (int16_t)(seq - s->rx_seq);

			if (d > 1)
				s->seq_gap += (uint64_t)(d - 1);
			else if (d <= 0)
				s->seq_reorder++;
			if (s->rx_last_ns)
				hist_add(&t->iat, (now - s->rx_last_ns) / 1000);
		}
	}
	if (!s->rx_any || (int16_t)(seq - s->rx_seq) > 0)
		s->rx_seq = seq;
	s->rx_any = true;
	s->rx_last_ns = now;
	if ((b[1] & 0x7f) != 0 || len < 12 + MARK_LEN || !mark_read(b + 12, &sender, &tick)) {
		if (t->counting)
			s->unmarked++;
		return;
	}
	if (sender >= G.nstreams) {
		if (t->counting)
			s->unmarked++;
		return;
	}
	if (s->partner < 0)
		s->partner = (int)sender;
	if (t->counting) {
		int64_t sent_at = G.t0_ns + (int64_t)tick * TICK_NS +
				  (int64_t)(sender % SLICES) * (TICK_NS / SLICES);

		s->marked++;
		if ((int)sender != s->partner)
			s->xtalk++;
		else if (s->mark_any) {
			int32_t d = (int32_t)(tick - s->rx_tick);

			if (d > 1)
				s->e2e_gap += (uint64_t)(d - 1);
			else if (d <= 0)
				s->e2e_reorder++;
		}
		hist_add(&t->lat, (now - sent_at) / 1000);
	}
	if ((int)sender == s->partner) {
		if (!s->mark_any || (int32_t)(tick - s->rx_tick) > 0)
			s->rx_tick = tick;
		s->mark_any = true;
	}
}

static void rx_drain(struct thr *t, int fd)
{
	static __thread uint8_t buf[RX_BATCH][256];
	static __thread struct sockaddr_in from[RX_BATCH];
	static __thread struct iovec iov[RX_BATCH];
	static __thread struct mmsghdr mm[RX_BATCH];
	int n, i;

	for (;;) {
		int64_t now;

		for (i = 0; i < RX_BATCH; i++) {
			iov[i] = (struct iovec){buf[i], sizeof(buf[i])};
			mm[i].msg_hdr = (struct msghdr){.msg_name = &from[i],
				.msg_namelen = sizeof(from[i]), .msg_iov = &iov[i], .msg_iovlen = 1};
		}
		n = recvmmsg(fd, mm, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		now = now_ns();
		for (i = 0; i < n; i++)
			rx_packet(t, buf[i], mm[i].msg_len, ntohs(from[i].sin_port), now);
		if (n < RX_BATCH)
			return;
	}
}

static void *thr_main(void *arg)
{
	struct thr *t = arg;
	struct epoll_event ev[64];
	struct itimerspec its = {0};
	uint64_t slot = 0;                 /* next slice to send, counted from t0 */
	int ep = epoll_create1(0), tfd = timerfd_create(CLOCK_MONOTONIC, 0);
	double cpu0 = 0;
	unsigned i;

	if (ep < 0 || tfd < 0) {
		perror("rtp_load: epoll/timerfd");
		exit(1);
	}
	its.it_value.tv_sec = G.t0_ns / 1000000000LL;
	its.it_value.tv_nsec = G.t0_ns % 1000000000LL;
	its.it_interval.tv_nsec = TICK_NS / SLICES;
	timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &(struct epoll_event){.events = EPOLLIN,
		  .data.u32 = UINT32_MAX});
	for (i = 0; i < t->nsocks; i++)
		if (!G.sink[t->socks[i]])
			epoll_ctl(ep, EPOLL_CTL_ADD, G.fd[t->socks[i]], &(struct epoll_event){
				  .events = EPOLLIN, .data.u32 = t->socks[i]});
	for (;;) {
		int ph = atomic_load(&G.phase), n;

		if (ph == 2)
			break;
		if (ph == 1 && !t->counting) {
			t->counting = true;        /* every figure from here on */
			cpu0 = thread_cpu_s();
		}
		n = epoll_wait(ep, ev, 64, 100);
		for (i = 0; i < (unsigned)(n > 0 ? n : 0); i++) {
			if (ev[i].data.u32 == UINT32_MAX) {
				uint64_t exp;
				int64_t now = now_ns();

				if (read(tfd, &exp, sizeof(exp)) != sizeof(exp))
					continue;
				/* Send every slice that is due, late ones included. */
				while (G.t0_ns + (int64_t)slot * (TICK_NS / SLICES) <= now) {
					send_slice(t, (uint32_t)(slot / SLICES), (unsigned)(slot % SLICES),
						   G.t0_ns + (int64_t)slot * (TICK_NS / SLICES));
					slot++;
				}
			} else {
				rx_drain(t, G.fd[ev[i].data.u32]);
			}
		}
	}
	t->cpu_s = thread_cpu_s() - cpu0;
	close(tfd);
	close(ep);
	return NULL;
}

static int sock_index(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int size = 8 << 20;
	unsigned i;

	for (i = 0; i < G.nsocks; i++)
		if (G.port[i] == port)
			return (int)i;
	if (G.nsocks == MAX_SOCKS) {
		fprintf(stderr, "rtp_load: more than %d local ports\n", MAX_SOCKS);
		exit(2);
	}
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	G.fd[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (G.fd[i] < 0 || bind(G.fd[i], (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "rtp_load: bind 127.0.0.1:%u: %s\n", port, strerror(errno));
		exit(1);
	}
	G.sink[i] = G.verify_every > 1 && i % G.verify_every;
	if (G.sink[i]) {
		int small = 1;             /* the kernel rounds up to its minimum */

		setsockopt(G.fd[i], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	} else if (setsockopt(G.fd[i], SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size))) {
		/* Past rmem_max only with CAP_NET_ADMIN; the plain call caps it. */
		setsockopt(G.fd[i], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	if (setsockopt(G.fd[i], SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)))
		setsockopt(G.fd[i], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	G.port[i] = port;
	G.nsocks++;
	return (int)i;
}

static void load_map(const char *path)
{
	unsigned lp, sp, cap = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		perror(path);
		exit(2);
	}
	memset(G.by_server_port, 0xff, sizeof(G.by_server_port));
	while (fscanf(f, "%u %u", &lp, &sp) == 2) {
		struct stream *s;

		if (!lp || lp > 65535 || !sp || sp > 65535) {
			fprintf(stderr, "rtp_load: bad line %u %u\n", lp, sp);
			exit(2);
		}
		if (G.by_server_port[sp] >= 0) {
			fprintf(stderr, "rtp_load: server port %u listed twice\n", sp);
			exit(2);
		}
		if (G.nstreams == cap) {
			cap = cap ? cap * 2 : 1024;
			G.st = realloc(G.st, cap * sizeof(*G.st));
			if (!G.st)
				exit(1);
		}
		s = &G.st[G.nstreams];
		memset(s, 0, sizeof(*s));
		s->sock = (unsigned)sock_index((uint16_t)lp);
		s->dst = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)sp)};
		inet_pton(AF_INET, "127.0.0.1", &s->dst.sin_addr);
		stream_init(s, G.nstreams);
		G.by_server_port[sp] = (int32_t)G.nstreams;
		G.nstreams++;
	}
	fclose(f);
	if (!G.nstreams || G.nstreams > 65535) {
		fprintf(stderr, "rtp_load: %s: need 1 to 65535 streams\n", path);
		exit(2);
	}
}

/* Sockets to threads round-robin; each thread's streams by slice, sorted by socket. */
static void assign(void)
{
	unsigned i, k, sl;

	for (k = 0; k < G.nthreads; k++) {
		struct thr *t = &G.thr[k];

		t->id = k;
		t->socks = calloc(G.nsocks, sizeof(*t->socks));
		for (sl = 0; sl < SLICES; sl++)
			t->byslice[sl] = calloc(G.nstreams, sizeof(unsigned));
		if (!t->socks)
			exit(1);
	}
	for (i = 0; i < G.nsocks; i++) {
		struct thr *t = &G.thr[i % G.nthreads];

		t->socks[t->nsocks++] = i;
	}
	for (i = 0; i < G.nsocks; i++) {
		struct thr *t = &G.thr[i % G.nthreads];

		for (k = 0; k < G.nstreams; k++) {
			if (G.st[k].sock != i)
				continue;
			sl = k % SLICES;
			t->byslice[sl][t->nslice[sl]++] = k;
		}
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: rtp_load [-t THREADS] [-w WARMUP_S] [-p SERVER_PID] [-v K] "
		"MAPFILE SECONDS\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned secs, warm = 5, i;
	int pid = 0, opt;
	double b0, t0, b1, t1, sq;
	double c0 = 0, c1 = 0, w0, w1, gen0, gen1;
	struct rusage ru;
	struct hist lat = {0}, iat = {0}, late = {0};
	uint64_t rx = 0, seq_gap = 0, seq_re = 0, marked = 0, unmarked = 0, e2e_gap = 0;
	uint64_t e2e_re = 0, xtalk = 0, sent = 0, fail = 0, stray = 0;
	unsigned silent = 0, unpaired = 0, asym = 0, checked = 0;
	long rss = 0;

	while ((opt = getopt(argc, argv, "t:w:p:v:")) != -1) {
		if (opt == 't')
			G.nthreads = (unsigned)atoi(optarg);
		else if (opt == 'w')
			warm = (unsigned)atoi(optarg);
		else if (opt == 'p')
			pid = atoi(optarg);
		else if (opt == 'v')
			G.verify_every = (unsigned)atoi(optarg);
		else
			usage();
	}
	if (argc - optind != 2)
		usage();
	if (!G.nthreads)
		G.nthreads = 1;
	if (G.nthreads > MAX_THREADS)
		G.nthreads = MAX_THREADS;
	secs = (unsigned)atoi(argv[optind + 1]);
	if (!secs)
		usage();
	for (i = 0; i < PAYLOAD; i++)            /* 1 kHz at -10 dBm0-ish */
		G.tone[i] = ulaw((int16_t)(8000.0 * sin(2 * M_PI * 1000.0 * i / 8000.0)));
	for (i = 0; i < PAYLOAD; i++)
		if (G.tone[i] == 0x7f)
			G.tone[i] = 0xff;
	load_map(argv[optind]);
	if (G.nthreads > G.nsocks)
		G.nthreads = G.nsocks;
	assign();
	G.t0_ns = (now_ns() / TICK_NS + 5) * TICK_NS;
	for (i = 0; i < G.nthreads; i++)
		if (pthread_create(&G.thr[i].tid, NULL, thr_main, &G.thr[i])) {
			perror("pthread_create");
			return 1;
		}
	sleep(warm);
	getrusage(RUSAGE_SELF, &ru);
	gen0 = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	if (pid)
		c0 = proc_cpu_s(pid);
	proc_machine(&b0, &sq, &t0);
	w0 = (double)now_ns() / 1e9;
	atomic_store(&G.phase, 1);
	sleep(secs);
	atomic_store(&G.phase, 2);
	w1 = (double)now_ns() / 1e9;
	if (pid) {
		c1 = proc_cpu_s(pid);
		rss = proc_rss_kb(pid);
	}
	proc_machine(&b1, &sq, &t1);
	getrusage(RUSAGE_SELF, &ru);
	gen1 = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	for (i = 0; i < G.nthreads; i++) {
		pthread_join(G.thr[i].tid, NULL);
		hist_merge(&lat, &G.thr[i].lat);
		hist_merge(&iat, &G.thr[i].iat);
		hist_merge(&late, &G.thr[i].late);
		sent += G.thr[i].sent;
		fail += G.thr[i].send_fail;
		stray += G.thr[i].stray;
	}
	for (i = 0; i < G.nstreams; i++) {
		struct stream *s = &G.st[i];

		if (G.sink[s->sock])
			continue;
		checked++;
		rx += s->rx;
		seq_gap += s->seq_gap;
		seq_re += s->seq_reorder;
		marked += s->marked;
		unmarked += s->unmarked;
		e2e_gap += s->e2e_gap;
		e2e_re += s->e2e_reorder;
		xtalk += s->xtalk;
		if (!s->rx)
			silent++;
		if (s->partner < 0)
			unpaired++;
		else if (!G.sink[G.st[s->partner].sock] && G.st[s->partner].partner != (int)i)
			asym++;
	}
	{
		double win = w1 - w0, expect = (double)checked * win * 1000.0 / 20.0;

		printf("streams                   %u\n", G.nstreams);
		printf("streams_checked           %u\n", checked);
		printf("local_sockets             %u\n", G.nsocks);
		printf("generator_threads         %u\n", G.nthreads);
		printf("window_s                  %.1f\n", win);
		printf("sent_pps                  %.0f\n", (double)sent / win);
		printf("send_failures             %llu\n", (unsigned long long)fail);
		printf("received_pps              %.0f\n", (double)rx / win);
		printf("received_pct_of_expected  %.3f\n", expect > 0 ? 100.0 * (double)rx / expect : 0);
		printf("streams_silent            %u\n", silent);
		printf("server_seq_lost           %llu\n", (unsigned long long)seq_gap);
		printf("server_seq_loss_pct       %.4f\n",
		       rx + seq_gap ? 100.0 * (double)seq_gap / (double)(rx + seq_gap) : 0);
		printf("server_seq_reordered      %llu\n", (unsigned long long)seq_re);
		printf("frames_with_partner_audio %llu\n", (unsigned long long)marked);
		printf("frames_concealed_or_silent %llu\n", (unsigned long long)unmarked);
		printf("end_to_end_lost           %llu\n", (unsigned long long)e2e_gap);
		printf("end_to_end_loss_pct       %.4f\n",
		       marked + e2e_gap ? 100.0 * (double)e2e_gap / (double)(marked + e2e_gap) : 0);
		printf("end_to_end_reordered      %llu\n", (unsigned long long)e2e_re);
		printf("crosstalk_frames          %llu\n", (unsigned long long)xtalk);
		printf("streams_unpaired          %u\n", unpaired);
		printf("streams_pair_mismatch     %u\n", asym);
		printf("stray_packets             %llu\n", (unsigned long long)stray);
		printf("latency_p50_ms            %.1f\n", hist_q_ms(&lat, 0.50));
		printf("latency_p99_ms            %.1f\n", hist_q_ms(&lat, 0.99));
		printf("latency_max_ms            %.1f\n", lat.max_us / 1000.0);
		printf("interarrival_p50_ms       %.1f\n", hist_q_ms(&iat, 0.50));
		printf("interarrival_p99_ms       %.1f\n", hist_q_ms(&iat, 0.99));
		printf("interarrival_max_ms       %.1f\n", iat.max_us / 1000.0);
		printf("generator_send_late_p99_ms %.1f\n", hist_q_ms(&late, 0.99));
		printf("generator_send_late_max_ms %.1f\n", late.max_us / 1000.0);
		printf("generator_cpu_pct_of_core %.1f\n", 100.0 * (gen1 - gen0) / win);
		if (pid) {
			printf("server_cpu_pct_of_core    %.1f\n", 100.0 * (c1 - c0) / win);
			printf("server_rss_kb             %ld\n", rss);
		}
		printf("machine_busy_pct          %.1f\n",
		       t1 > t0 ? 100.0 * (b1 - b0) / (t1 - t0) : 0);
	}
	return 0;
}
