/*
 * media_bench.c - bridged G.711 calls through the media workers, in one
 * process: for each size, N pairs of linked streams (one pair = one bridged
 * call) on 127.0.0.1, fed by a generator thread that plays 2N phones (PCMU,
 * 20 ms, a 1 kHz tone, from 16 UDP sockets) and reads everything the streams
 * send back. Prints one figure per line: how late the workers' 20 ms ticks
 * started and finished (p50/p99/max), the workers' CPU, packets in and out.
 *
 *   media_bench [SECONDS] [PAIRS ...]        (defaults: 5; 100 500 1000 2500)
 *
 * With ROOM_SIZE=N in the environment the streams are conference members
 * instead: each count is a number of members, joined to rooms of N (a
 * 1000-member room: ROOM_SIZE=1000 media_bench 10 1000). Every member talks
 * (energy level 0), so every frame of every member is mixed and sent;
 * ROOM_TALKERS=K caps the mixed talkers per room at the K loudest.
 * ROOM_RATES="8000 16000 48000" runs every count once per room rate and
 * then prints the workers' CPU per member at each rate side by side, with
 * its ratio to the first rate's (default: 8000 alone).
 *
 * The generator shares the machine with the workers (at nice 19, so the
 * workers come first). The kernel's delivery of loopback packets runs in
 * softirq context and is counted for no thread: it shows in
 * machine_softirq_pct, for both directions. machine_busy_pct shows everything,
 * other processes included: figures are only clean on an otherwise idle box.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <re.h>
#include "core/log.h"
#include "core/loop.h"
#include "media/g711.h"
#include "media/media.h"
#include "proc.h"

#define PHONES     16
#define SLICES     4          /* the phones' sends spread over the 20 ms */
#define BATCH      1024
#define WARMUP_MS  2000

struct gen {
	unsigned nstreams;
	int fd[PHONES];
	struct sockaddr_in *dest;       /* each stream's RTP port */
	uint8_t (*pkt)[172];            /* each stream's next packet */
	pthread_t thr;
	atomic_bool stop;
	_Atomic uint64_t sent, received;
	_Atomic uint64_t cpu_ns;        /* the generator thread's CPU time */
};

static struct {
	struct gen g;
	struct media_stream **ms;
	unsigned pairs, nstreams;
	unsigned room_size;             /* ROOM_SIZE: members per room, 0 pairs */
	unsigned room_rate;             /* the rooms' mixing rate, Hz */
	double cpu_us_pm;               /* the last run's worker CPU per member, us/s */
	struct media_stream **rooms;
	unsigned nrooms;
	unsigned seconds;
	struct tmr tmr;
	bool measuring;
	double t0, cpu0, busy0, softirq0, total0;
	uint64_t gen_cpu0;
	uint64_t sent0, recv0;
	struct media_stats st0;
} B;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double clock_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Read everything the streams sent to the phones. */
static void gen_drain(struct gen *g)
{
	static struct mmsghdr msgs[BATCH];
	static struct iovec iov[BATCH];
	static uint8_t buf[BATCH][200];
	unsigned i, k;

	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = sizeof(buf[i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	for (k = 0; k < PHONES; k++) {
		int n;

		while ((n = recvmmsg(g->fd[k], msgs, BATCH, MSG_DONTWAIT, NULL)) > 0)
			atomic_fetch_add_explicit(&g->received, (uint64_t)n, memory_order_relaxed);
	}
}

/* One slice of the 20 ms: every stream i with i % SLICES == slice gets a packet. */
static void gen_send(struct gen *g, unsigned slice)
{
	static struct mmsghdr msgs[BATCH];
	static struct iovec iov[BATCH];
	unsigned k, i;

	for (k = 0; k < PHONES; k++) {
		unsigned n = 0;

		for (i = slice * PHONES + k; i < g->nstreams; i += SLICES * PHONES) {
			uint8_t *p = g->pkt[i];
			uint16_t seq = (uint16_t)(p[2] << 8 | p[3]) + 1;
			uint32_t ts = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
				(uint32_t)p[6] << 8 | p[7];

			p[2] = (uint8_t)(seq >> 8);
			p[3] = (uint8_t)seq;
			put32(p + 4, ts + 160);
			iov[n].iov_base = p;
			iov[n].iov_len = 172;
			msgs[n].msg_hdr = (struct msghdr){.msg_name = &g->dest[i],
				.msg_namelen = sizeof(g->dest[i]), .msg_iov = &iov[n], .msg_iovlen = 1};
			if (++n == BATCH) {
				if (sendmmsg(g->fd[k], msgs, n, 0) > 0)
					atomic_fetch_add_explicit(&g->sent, n, memory_order_relaxed);
				n = 0;
			}
		}
		if (n && sendmmsg(g->fd[k], msgs, n, 0) > 0)
			atomic_fetch_add_explicit(&g->sent, n, memory_order_relaxed);
	}
}

static void *gen_main(void *arg)
{
	struct gen *g = arg;
	struct timespec next;
	unsigned slice = 0;
	clockid_t cid;

	/*
	 * The phones are not what is measured: they get what the workers leave
	 * (phone_sent_per_s shows when that is not enough).
	 */
	setpriority(PRIO_PROCESS, (id_t)gettid(), 19);
	pthread_getcpuclockid(pthread_self(), &cid);
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!atomic_load(&g->stop)) {
		gen_send(g, slice);
		gen_drain(g);
		atomic_store(&g->cpu_ns, (uint64_t)(clock_s(cid) * 1e9));
		slice = (slice + 1) % SLICES;
		next.tv_nsec += 20000000 / SLICES;
		if (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	return NULL;
}

static int gen_open(struct gen *g, unsigned nstreams)
{
	struct sockaddr_in local = {.sin_family = AF_INET};
	int buf = 8 << 20;
	uint8_t payload[160];
	int16_t lin[160];
	unsigned i, k;

	for (i = 0; i < 160; i++)
		lin[i] = (int16_t)(8000 * sin(2 * M_PI * 1000 * i / 8000));
	g711_encode(0, lin, payload, 160);
	g->nstreams = nstreams;
	g->dest = calloc(nstreams, sizeof(*g->dest));
	g->pkt = calloc(nstreams, sizeof(*g->pkt));
	if (!g->dest || !g->pkt)
		return ENOMEM;
	inet_pton(AF_INET, "127.0.0.1", &local.sin_addr);
	for (k = 0; k < PHONES; k++) {
		g->fd[k] = socket(AF_INET, SOCK_DGRAM, 0);
		if (g->fd[k] < 0 || bind(g->fd[k], (struct sockaddr *)&local, sizeof(local)))
			return errno;
		setsockopt(g->fd[k], SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
		setsockopt(g->fd[k], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	}
	for (i = 0; i < nstreams; i++) {
		uint8_t *p = g->pkt[i];

		p[0] = 0x80;
		p[1] = 0;
		put32(p + 4, 1000u * i);
		put32(p + 8, 0x10000000u + i);
		memcpy(p + 12, payload, 160);
	}
	return 0;
}

static void gen_close(struct gen *g)
{
	unsigned k;

	for (k = 0; k < PHONES; k++)
		if (g->fd[k] > 0)
			close(g->fd[k]);
	free(g->dest);
	free(g->pkt);
	memset(g, 0, sizeof(*g));
}

static void sum_stats(struct media_stats *sum)
{
	unsigned i;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < B.nstreams; i++) {
		struct media_stats s;

		media_stream_stats(B.ms[i], &s);
		sum->in_packets += s.in_packets;
		sum->out_packets += s.out_packets;
		sum->in_skipped += s.in_skipped;
		sum->in_late += s.in_late;
		sum->concealed += s.concealed;
		sum->jb_ms += s.jb_ms;
	}
}

static void report(void)
{
	struct media_tick_stats ts;
	struct media_stats st;
	double secs = now_s() - B.t0;
	double cores = (double)sysconf(_SC_NPROCESSORS_ONLN);
	double cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - B.cpu0;
	uint64_t sent = atomic_load(&B.g.sent) - B.sent0;
	uint64_t recv = atomic_load(&B.g.received) - B.recv0;
	double busy, softirq, total;
	unsigned i;

	proc_machine(&busy, &softirq, &total);
	media_tick_stats(&ts);
	sum_stats(&st);
	if (B.room_size) {
		B.cpu_us_pm = 1e6 * ts.cpu_s / secs / (B.nstreams ? B.nstreams : 1);
		printf("## %u conference members in rooms of %u at %u Hz (%u streams), %u "
		       "workers, %.1f s\n", B.nstreams, B.room_size, B.room_rate, ts.streams,
		       ts.workers, secs);
		printf("members                     %u\n", B.nstreams);
		printf("room_rate_hz                %u\n", B.room_rate);
		printf("cpu_us_per_member_per_s     %.1f\n", B.cpu_us_pm);
	} else {
		printf("## %u bridged calls (%u streams), %u workers, %.1f s\n", B.pairs,
		       ts.streams, ts.workers, secs);
		printf("calls                       %u\n", B.pairs);
	}
	printf("ticks                       %llu\n", (unsigned long long)ts.ticks);
	printf("tick_overruns               %llu\n", (unsigned long long)ts.overruns);
	printf("tick_late_p50_us            %u\n", ts.late_p50_us);
	printf("tick_late_p99_us            %u\n", ts.late_p99_us);
	printf("tick_late_max_us            %u\n", ts.late_max_us);
	printf("tick_done_p50_us            %u\n", ts.done_p50_us);
	printf("tick_done_p99_us            %u\n", ts.done_p99_us);
	printf("tick_done_max_us            %u\n", ts.done_max_us);
	for (i = 0; i < ts.workers && i < 8; i++)
		printf("worker%u_cpu_pct_of_core     %.1f\n", i, 100.0 * ts.worker_cpu_s[i] / secs);
	printf("workers_cpu_pct_of_machine  %.1f\n", 100.0 * ts.cpu_s / secs / cores);
	printf("generator_cpu_pct_of_core   %.1f\n",
	       100.0 * (double)(atomic_load(&B.g.cpu_ns) - B.gen_cpu0) / 1e9 / secs);
	printf("process_cpu_pct_of_machine  %.1f\n", 100.0 * cpu / secs / cores);
	/*
	 * The kernel delivers loopback packets in softirq context, which is
	 * counted for no thread: machine_softirq_pct is that work (for both
	 * directions), machine_busy_pct is everything, other processes included.
	 */
	printf("machine_softirq_pct         %.1f\n",
	       total > B.total0 ? 100.0 * (softirq - B.softirq0) / (total - B.total0) : 0);
	printf("machine_busy_pct            %.1f\n",
	       total > B.total0 ? 100.0 * (busy - B.busy0) / (total - B.total0) : 0);
	printf("rtp_in_per_s                %.0f\n", (double)(st.in_packets - B.st0.in_packets) / secs);
	printf("rtp_out_per_s               %.0f\n", (double)(st.out_packets - B.st0.out_packets) / secs);
	printf("phone_sent_per_s            %.0f\n", (double)sent / secs);
	printf("phone_received_per_s        %.0f\n", (double)recv / secs);
	printf("rtp_in_skipped              %llu\n",
	       (unsigned long long)(st.in_skipped - B.st0.in_skipped));
	printf("rtp_in_late                 %llu\n", (unsigned long long)(st.in_late - B.st0.in_late));
	printf("frames_concealed            %llu\n",
	       (unsigned long long)(st.concealed - B.st0.concealed));
	printf("jitter_buffer_avg_ms        %.1f\n", ts.streams ? (double)st.jb_ms / ts.streams : 0);
	fflush(stdout);
}

static void phase(void *arg)
{
	(void)arg;
	if (!B.measuring) {
		/* Warm-up over (every link done, buffers settled): start measuring. */
		B.measuring = true;
		media_tick_stats_reset();
		B.t0 = now_s();
		B.cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
		proc_machine(&B.busy0, &B.softirq0, &B.total0);
		B.sent0 = atomic_load(&B.g.sent);
		B.recv0 = atomic_load(&B.g.received);
		sum_stats(&B.st0);
		B.gen_cpu0 = atomic_load(&B.g.cpu_ns);
		tmr_start(&B.tmr, B.seconds * 1000, phase, NULL);
		return;
	}
	report();
	atomic_store(&B.g.stop, true);
	pthread_join(B.g.thr, NULL);
	re_cancel();
}

/* ROOM_SIZE mode: members i .. i+size-1 share room i / size. */
static int join_rooms(unsigned n, unsigned size)
{
	struct media_mix_prm mp = {.speak = true, .hear = true};
	struct media_room_cfg rc = {0};
	const char *k = getenv("ROOM_TALKERS");
	unsigned i, nrooms = (n + size - 1) / size;
	int err = 0;

	rc.max_talkers = k ? (unsigned)atoi(k) : 0;
	rc.rate = B.room_rate;
	B.rooms = calloc(nrooms, sizeof(*B.rooms));
	if (!B.rooms)
		return ENOMEM;
	B.nrooms = nrooms;
	for (i = 0; i < nrooms && !err; i++)
		err = media_room_alloc(&B.rooms[i], &rc);
	for (i = 0; i < n && !err; i++)
		err = media_mix_join(B.rooms[i / size], B.ms[i], &mp, NULL, NULL);
	return err;
}

static int run(unsigned pairs, unsigned seconds)
{
	struct media_cfg cfg = {.rtp_start = 16384, .rtp_end = 32767, .workers = 0};
	struct media_params prm = {.codec = MEDIA_PCMU, .pt = 0, .te_pt = 101,
		.ptime_ms = 20, .send = true, .recv = true};
	unsigned i, n = B.room_size ? pairs : 2 * pairs;
	int err;

	memset(&B.g, 0, sizeof(B.g));
	B.nstreams = n;
	B.pairs = pairs;
	B.seconds = seconds;
	B.measuring = false;
	err = media_init(&cfg);
	if (!err)
		err = gen_open(&B.g, n);
	B.ms = calloc(n, sizeof(*B.ms));
	if (err || !B.ms)
		goto out;
	for (i = 0; i < n && !err; i++) {
		struct sockaddr_in phone;
		socklen_t len = sizeof(phone);
		struct sa sa;

		err = media_stream_alloc(&B.ms[i], "127.0.0.1", NULL, NULL);
		if (err)
			break;
		/* Stream i talks to phone socket i % PHONES, as the generator sends. */
		getsockname(B.g.fd[i % PHONES], (struct sockaddr *)&phone, &len);
		sa_set_sa(&sa, (struct sockaddr *)&phone);
		err = media_stream_set_remote(B.ms[i], &sa, &prm);
		B.g.dest[i] = (struct sockaddr_in){.sin_family = AF_INET,
			.sin_port = htons(media_stream_port(B.ms[i]))};
		inet_pton(AF_INET, "127.0.0.1", &B.g.dest[i].sin_addr);
		if (!err && i % 2 && !B.room_size)
			err = media_stream_link(B.ms[i - 1], B.ms[i]);
	}
	if (!err && B.room_size)
		err = join_rooms(n, B.room_size);
	if (err)
		goto out;
	err = pthread_create(&B.g.thr, NULL, gen_main, &B.g);
	if (err)
		goto out;
	tmr_init(&B.tmr);
	tmr_start(&B.tmr, WARMUP_MS, phase, NULL);
	re_main(NULL);
	tmr_cancel(&B.tmr);
 out:
	if (err)
		fprintf(stderr, "media_bench: %u pairs: %s\n", pairs, strerror(err));
	for (i = 0; B.ms && i < n; i++)
		mem_deref(B.ms[i]);
	free(B.ms);
	B.ms = NULL;
	for (i = 0; i < B.nrooms; i++)
		mem_deref(B.rooms[i]);
	free(B.rooms);
	B.rooms = NULL;
	B.nrooms = 0;
	media_close();
	gen_close(&B.g);
	return err;
}

/* One count at each of ROOM_RATES, then the CPU per member side by side. */
static int run_rates(unsigned count, unsigned seconds)
{
	const char *env = getenv("ROOM_RATES");
	unsigned rates[8], n = 0, i;
	double cpu[8];
	char *end;
	int err = 0;

	for (const char *p = env ? env : ""; *p && n < 8; p = end) {
		unsigned long r = strtoul(p, &end, 10);

		if (end == p) {
			end = (char *)p + 1;
			continue;
		}
		if (media_room_rate_ok((unsigned)r))
			rates[n++] = (unsigned)r;
		else
			fprintf(stderr, "media_bench: no rooms at %lu Hz, skipped\n", r);
	}
	if (!B.room_size || !n)
		rates[0] = 8000, n = 1;
	for (i = 0; i < n && !err; i++) {
		B.room_rate = rates[i];
		err = run(count, seconds);
		cpu[i] = B.cpu_us_pm;
	}
	if (err || !B.room_size || n < 2)
		return err;
	printf("## %u members in rooms of %u: worker CPU per member by room rate\n", count,
	       B.room_size);
	for (i = 0; i < n; i++)
		printf("room_rate_%-6u cpu_us_per_member_per_s %8.1f  ratio %.2f\n", rates[i], cpu[i],
		       cpu[0] > 0 ? cpu[i] / cpu[0] : 0);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static const unsigned defaults[] = {100, 500, 1000, 2500};
	unsigned seconds = argc > 1 ? (unsigned)atoi(argv[1]) : 5, i;
	struct rlimit rl;
	struct utsname u;
	int err = 0;

	if (!seconds) {
		fprintf(stderr, "usage: media_bench [SECONDS] [PAIRS ...]\n");
		return 2;
	}
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	uname(&u);
	if (getenv("ROOM_SIZE"))
		B.room_size = (unsigned)atoi(getenv("ROOM_SIZE"));
	if (libre_init() || loop_init())
		return 1;
	log_set_level(LOGL_WARNING);
	printf("# media_bench: %ld cores, %s %s, loopback, in-process generator thread "
	       "(%u phone sockets), PCMU 20 ms both ways, %u s measured after %u s warm-up\n",
	       sysconf(_SC_NPROCESSORS_ONLN), u.sysname, u.release, PHONES, seconds,
	       WARMUP_MS / 1000);
	if (argc > 2) {
		for (i = 2; i < (unsigned)argc && !err; i++)
			err = run_rates((unsigned)atoi(argv[i]), seconds);
	} else {
		for (i = 0; i < sizeof(defaults) / sizeof(*defaults) && !err; i++)
			err = run_rates(defaults[i], seconds);
	}
	loop_close();
	libre_close();
	return err ? 1 : 0;
}
