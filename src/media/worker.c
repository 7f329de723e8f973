/*
 * worker.c - the media worker pool: one thread per worker with an epoll loop,
 * an absolute 20 ms timerfd and a command queue fed by the signalling thread
 * (and by other workers when a stream moves); tick timing statistics.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include "core/log.h"
#include "media/media_int.h"
#include "media/play_int.h"

#define MAX_WORKERS   64
#define TICK_NS       (MEDIA_TICK_MS * 1000000ull)
/* A worker that fell behind runs at most this many ticks back to back. */
#define MAX_CATCHUP   4
#define TAG_TIMER     1u
#define TAG_CMD       2u

static struct {
	struct worker *w;
	unsigned n;
	uint64_t epoch_ns;      /* tick 0 of every worker: tick numbers agree */
} W;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void media_stream_state_free(struct mstream *st)
{
	if (!st)
		return;
	if (st->fd >= 0)
		close(st->fd);
	media_ext_state_free(st);
	media_mix_state_free(st);
	free(st);
}

void media_cmd_free(struct cmd *c)
{
	if (!c)
		return;
	if (c->type == CMD_ADD || c->type == CMD_ATTACH)
		media_stream_state_free(c->st);
	media_ext_cmd_free(c);
	media_mix_cmd_free(c);
	free(c->spare);
	free(c);
}

void media_worker_push(struct worker *w, struct cmd *c)
{
	uint64_t one = 1;
	bool wake;

	c->next = NULL;
	pthread_mutex_lock(&w->lock);
	wake = !w->qhead;
	if (w->qtail)
		w->qtail->next = c;
	else
		w->qhead = c;
	w->qtail = c;
	pthread_mutex_unlock(&w->lock);
	/* One wakeup per empty-to-busy transition, as loop_post does. */
	if (wake && write(w->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_err("media: cannot wake worker %u: %s\n", w->idx, strerror(errno));
}

static void unlink_partner(struct mstream *st)
{
	if (!st->partner)
		return;
	if (st->partner != st)
		st->partner->partner = NULL;
	st->partner = NULL;
}

static void attach(struct worker *w, struct mstream *st)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = st};

	if (w->n == w->cap) {
		unsigned ncap = w->cap ? w->cap * 2 : 64;
		struct mstream **ns = realloc(w->streams, ncap * sizeof(*ns));

		if (!ns) {
			/* Kept out of the array (silent) until its REMOVE frees it. */
			log_err("media: worker %u out of memory, stream %u is silent\n",
				w->idx, st->id);
			st->slot = UINT_MAX;
			return;
		}
		w->streams = ns;
		w->cap = ncap;
	}
	st->slot = w->n;
	w->streams[w->n++] = st;
	atomic_store_explicit(&w->nstreams, w->n, memory_order_relaxed);
	/* A room (mix.c) has no socket. */
	if (st->fd >= 0 && epoll_ctl(w->rxep, EPOLL_CTL_ADD, st->fd, &ev))
		log_err("media: worker %u cannot watch port %u: %s\n", w->idx, st->port,
			strerror(errno));
}

static void detach(struct worker *w, struct mstream *st)
{
	struct mstream *last = w->n ? w->streams[w->n - 1] : NULL;

	unlink_partner(st);
	media_mix_detach(st);
	if (st->slot == UINT_MAX || !last)
		return;
	if (st->fd >= 0)
		(void)epoll_ctl(w->rxep, EPOLL_CTL_DEL, st->fd, NULL);
	w->streams[st->slot] = last;
	last->slot = st->slot;
	w->n--;
	atomic_store_explicit(&w->nstreams, w->n, memory_order_relaxed);
}

static void set_remote(struct worker *w, struct mstream *st, const struct cmd *c)
{
	const struct media_params *prm = &c->u.remote.prm;
	bool moved = c->u.remote.len != st->sdp_len ||
		memcmp(&c->u.remote.addr, &st->sdp, c->u.remote.len);
	bool codec = !st->have_prm || st->prm.codec != prm->codec || st->prm.pt != prm->pt;

	memcpy(&st->sdp, &c->u.remote.addr, c->u.remote.len);
	st->sdp_len = c->u.remote.len;
	/* A new address in the SDP wins over what was latched; learn again. */
	if (moved || !st->latched) {
		memcpy(&st->remote, &st->sdp, st->sdp_len);
		st->remote_len = st->sdp_len;
		st->latched = false;
	}
	st->prm = *prm;
	st->have_prm = true;
	st->silence = prm->codec == MEDIA_PCMA ? 0xd5 : 0xff;
	if (codec) {
		cfjb_reset(&st->jb, st->silence);
		st->txlen = 0;
	}
	st->last_rx_tick = w->tick;
	st->timeout_armed = prm->recv;
}

/* Returns false when the command was handed on (it must not be freed). */
static bool run(struct worker *w, struct cmd *c)
{
	struct mstream *st = c->st;
	const char *d;

	switch (c->type) {
	case CMD_ADD:
		attach(w, st);
		c->st = NULL;
		break;
	case CMD_ATTACH:
		attach(w, st);
		c->st = NULL;
		media_up_attached(c);
		return false;
	case CMD_REMOVE:
		detach(w, st);
		media_stream_state_free(st);
		break;
	case CMD_MOVE:
		detach(w, st);
		c->type = CMD_ATTACH;
		media_worker_push(c->dest, c);
		return false;
	case CMD_REMOTE:
		set_remote(w, st, c);
		break;
	case CMD_DTMF:
		for (d = c->u.dtmf.digits; *d; d++)
			cftev_tx_queue(&st->tev_tx, *d, c->u.dtmf.duration_ms);
		break;
	case CMD_LINK:
		media_mix_detach(st);
		media_mix_detach(c->st2);
		unlink_partner(st);
		unlink_partner(c->st2);
		st->partner = c->st2;
		c->st2->partner = st;
		break;
	case CMD_UNLINK:
		unlink_partner(st);
		break;
	case CMD_PLAY:
	case CMD_PLAY_STOP:
	case CMD_PLAY_CTL:
	case CMD_RECORD:
	case CMD_RECORD_STOP:
		media_ext_run(st, c);        /* play.c */
		break;
	case CMD_MIX_JOIN:
	case CMD_MIX_SET:
	case CMD_MIX_LEAVE:
		media_mix_run(w, c);
		break;
	}
	return true;
}

static void run_commands(struct worker *w)
{
	struct cmd *c, *next;
	uint64_t v;

	if (read(w->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&w->lock);
	c = w->qhead;
	w->qhead = w->qtail = NULL;
	pthread_mutex_unlock(&w->lock);
	for (; c; c = next) {
		next = c->next;
		if (run(w, c))
			media_cmd_free(c);
	}
}

static void hist_add(_Atomic uint32_t *hist, _Atomic uint32_t *max, uint64_t ns)
{
	uint64_t us = ns / 1000;
	unsigned bin = us / 10 < WORKER_HIST ? (unsigned)(us / 10) : WORKER_HIST - 1;

	atomic_store_explicit(&hist[bin], atomic_load_explicit(&hist[bin],
			      memory_order_relaxed) + 1, memory_order_relaxed);
	if (us > atomic_load_explicit(max, memory_order_relaxed))
		atomic_store_explicit(max, us > UINT32_MAX ? UINT32_MAX : (uint32_t)us,
				      memory_order_relaxed);
}

static void on_timer(struct worker *w)
{
	uint64_t exp, due = w->due_ns, start, runs, i;

	if (read(w->tfd, &exp, sizeof(exp)) != sizeof(exp) || !exp)
		return;
	start = mono_ns();
	/* Tick numbers come from the shared clock, so a stream can change workers. */
	w->tick = (uint32_t)((due - W.epoch_ns) / TICK_NS);
	runs = exp < MAX_CATCHUP ? exp : MAX_CATCHUP;
	media_tick_rx(w);
	for (i = 0; i < runs; i++)
		media_tick_tx(w);
	w->due_ns += exp * TICK_NS;
	hist_add(w->late_hist, &w->late_max, start > due ? start - due : 0);
	start = mono_ns();
	hist_add(w->done_hist, &w->done_max, start > due ? start - due : 0);
	atomic_store_explicit(&w->ticks, atomic_load_explicit(&w->ticks, memory_order_relaxed)
			      + runs, memory_order_relaxed);
	if (exp > runs)
		atomic_store_explicit(&w->overruns, atomic_load_explicit(&w->overruns,
				      memory_order_relaxed) + exp - runs, memory_order_relaxed);
}

/* The ring belongs to the thread that uses it (IORING_SETUP_SINGLE_ISSUER). */
static void ring_open(struct worker *w)
{
	int err;

	if (!w->want_ring)
		return;
	err = cfring_open(&w->ring, WORKER_RING);
	/* Batches are sized for WORKER_RING entries at most. */
	if (!err && w->ring.entries > WORKER_RING)
		w->ring.entries = WORKER_RING;
	if (!err) {
		w->io = calloc(1, sizeof(*w->io));
		if (w->io)
			return;
		cfring_close(&w->ring);
		err = ENOMEM;
	}
	log_notice("media: worker %u: io_uring unavailable (%s), using recvmmsg/sendmmsg\n",
		   w->idx, strerror(err));
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[4];

	ring_open(w);
	while (!atomic_load(&w->stop)) {
		bool tick = false, cmds = false;
		int n = epoll_wait(w->ep, ev, 4, -1), i;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_crit("media: worker %u: epoll_wait: %s\n", w->idx, strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			if (ev[i].data.u32 == TAG_TIMER)
				tick = true;
			else
				cmds = true;
		}
		/* Commands first, so a stream added now takes part in this tick. */
		if (cmds)
			run_commands(w);
		if (tick)
			on_timer(w);
	}
	if (w->io) {
		cfring_close(&w->ring);
		free(w->io);
		w->io = NULL;
	}
	return NULL;
}

static int worker_open(struct worker *w, unsigned idx, unsigned nworkers, unsigned timeout_ms)
{
	struct epoll_event tev = {.events = EPOLLIN, .data.u32 = TAG_TIMER};
	struct epoll_event cev = {.events = EPOLLIN, .data.u32 = TAG_CMD};
	struct itimerspec its = {.it_interval = {0, (long)TICK_NS}};
	uint64_t first;
	unsigned i;

	const char *io = getenv("CONFAB_MEDIA_IO");

	w->idx = idx;
	w->ep = w->rxep = w->tfd = w->efd = -1;
	w->ring.fd = -1;
	/* CONFAB_MEDIA_IO=mmsg forces the recvmmsg/sendmmsg path (tests, debugging). */
	w->want_ring = !io || strcmp(io, "mmsg");
	pthread_mutex_init(&w->lock, NULL);
	w->timeout_ticks = (timeout_ms + MEDIA_TICK_MS - 1) / MEDIA_TICK_MS;
	for (i = 0; i < WORKER_RX_BATCH; i++) {
		w->rx_iov[i].iov_base = w->rx_buf[i];
		w->rx_iov[i].iov_len = sizeof(w->rx_buf[i]);
		w->rx_msgs[i].msg_hdr.msg_iov = &w->rx_iov[i];
		w->rx_msgs[i].msg_hdr.msg_iovlen = 1;
		w->rx_msgs[i].msg_hdr.msg_name = &w->rx_addr[i];
	}
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	w->rxep = epoll_create1(EPOLL_CLOEXEC);
	w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->ep < 0 || w->rxep < 0 || w->tfd < 0 || w->efd < 0)
		return errno;
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, w->tfd, &tev) ||
	    epoll_ctl(w->ep, EPOLL_CTL_ADD, w->efd, &cev))
		return errno;
	/*
	 * An absolute periodic timer: expiries stay on the grid however late a
	 * tick runs. Workers are staggered across the period to spread the load.
	 */
	first = W.epoch_ns + TICK_NS * idx / nworkers;
	its.it_value.tv_sec = (time_t)(first / 1000000000ull);
	its.it_value.tv_nsec = (long)(first % 1000000000ull);
	w->due_ns = first;
	if (timerfd_settime(w->tfd, TFD_TIMER_ABSTIME, &its, NULL))
		return errno;
	return 0;
}

static void worker_close(struct worker *w)
{
	struct cmd *c, *next;
	unsigned i;

	/* Rooms and members point at each other: take them apart before freeing. */
	for (i = 0; i < w->n; i++)
		media_mix_detach(w->streams[i]);
	for (i = 0; i < w->n; i++)
		media_stream_state_free(w->streams[i]);
	free(w->streams);
	w->streams = NULL;
	w->n = w->cap = 0;
	for (c = w->qhead; c; c = next) {
		next = c->next;
		media_cmd_free(c);
	}
	w->qhead = w->qtail = NULL;
	if (w->ep >= 0)
		close(w->ep);
	if (w->rxep >= 0)
		close(w->rxep);
	if (w->tfd >= 0)
		close(w->tfd);
	if (w->efd >= 0)
		close(w->efd);
	pthread_mutex_destroy(&w->lock);
}

int media_workers_start(unsigned n, unsigned timeout_ms)
{
	unsigned i;
	int err = 0;

	if (!n) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);

		n = cores > 0 ? (unsigned)cores : 1;
	}
	if (n > MAX_WORKERS)
		n = MAX_WORKERS;
	W.w = calloc(n, sizeof(*W.w));
	if (!W.w)
		return ENOMEM;
	W.n = n;
	W.epoch_ns = mono_ns() + TICK_NS;
	for (i = 0; i < n && !err; i++) {
		struct worker *w = &W.w[i];
		char name[16];

		err = worker_open(w, i, n, timeout_ms);
		if (!err)
			err = pthread_create(&w->thr, NULL, worker_main, w);
		if (err)
			break;
		w->running = true;
		snprintf(name, sizeof(name), "media/%u", i % 100u);
		pthread_setname_np(w->thr, name);
	}
	if (err) {
		log_err("media: cannot start worker %u: %s\n", i, strerror(err));
		media_workers_stop();
		media_workers_free();
	}
	return err;
}

void media_workers_stop(void)
{
	uint64_t one = 1;
	unsigned i;

	for (i = 0; i < W.n; i++) {
		struct worker *w = &W.w[i];

		if (!w->running)
			continue;
		atomic_store(&w->stop, true);
		if (write(w->efd, &one, sizeof(one)) < 0)
			log_err("media: cannot stop worker %u: %s\n", i, strerror(errno));
		pthread_join(w->thr, NULL);
		w->running = false;
	}
}

void media_workers_free(void)
{
	unsigned i;

	/* Commands may sit in one worker's queue for another's stream: stop all first. */
	for (i = 0; i < W.n; i++)
		worker_close(&W.w[i]);
	free(W.w);
	W.w = NULL;
	W.n = 0;
}

unsigned media_workers_count(void)
{
	return W.n;
}

struct worker *media_worker_get(unsigned i)
{
	return i < W.n ? &W.w[i] : NULL;
}

unsigned media_worker_load(const struct worker *w)
{
	return w->load;
}

void media_worker_load_add(struct worker *w, int delta)
{
	w->load = (unsigned)((int)w->load + delta);
}

static double thread_cpu(const struct worker *w)
{
	struct timespec ts;
	clockid_t cid;

	if (!w->running || pthread_getcpuclockid(w->thr, &cid) || clock_gettime(cid, &ts))
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Percentile p (0..100) of a histogram of 10 us bins, in us. */
static unsigned percentile(const uint64_t *h, uint64_t total, unsigned p, unsigned max_us)
{
	uint64_t want = (total * p + 99) / 100, seen = 0;
	unsigned i;

	if (!total)
		return 0;
	for (i = 0; i < WORKER_HIST; i++) {
		seen += h[i];
		if (seen >= want && seen)
			break;
	}
	if (i >= WORKER_HIST - 1)
		return max_us;
	return (i + 1) * 10 < max_us ? (i + 1) * 10 : max_us;
}

static unsigned hist_max(const uint64_t *h, unsigned all_time_max)
{
	unsigned i;

	for (i = WORKER_HIST; i-- > 0;)
		if (h[i])
			return i == WORKER_HIST - 1 || (i + 1) * 10 > all_time_max ?
				all_time_max : (i + 1) * 10;
	return 0;
}

void media_worker_tick_stats(struct media_tick_stats *ts, bool reset)
{
	static uint64_t late[WORKER_HIST], done[WORKER_HIST];
	uint64_t ticks = 0;
	unsigned i, b, late_max = 0, done_max = 0;

	memset(ts, 0, sizeof(*ts));
	memset(late, 0, sizeof(late));
	memset(done, 0, sizeof(done));
	ts->workers = W.n;
	for (i = 0; i < W.n; i++) {
		struct worker *w = &W.w[i];
		uint64_t t = atomic_load_explicit(&w->ticks, memory_order_relaxed);
		uint64_t o = atomic_load_explicit(&w->overruns, memory_order_relaxed);
		double cpu = thread_cpu(w);

		for (b = 0; b < WORKER_HIST; b++) {
			uint32_t l = atomic_load_explicit(&w->late_hist[b], memory_order_relaxed);
			uint32_t d = atomic_load_explicit(&w->done_hist[b], memory_order_relaxed);

			late[b] += l - w->base_late[b];
			done[b] += d - w->base_done[b];
			if (reset) {
				w->base_late[b] = l;
				w->base_done[b] = d;
			}
		}
		ts->streams += atomic_load_explicit(&w->nstreams, memory_order_relaxed);
		ticks += t - w->base_ticks;
		ts->overruns += o - w->base_overruns;
		ts->cpu_s += cpu - w->base_cpu;
		if (i < 8)
			ts->worker_cpu_s[i] = cpu - w->base_cpu;
		if (atomic_load_explicit(&w->late_max, memory_order_relaxed) > late_max)
			late_max = atomic_load_explicit(&w->late_max, memory_order_relaxed);
		if (atomic_load_explicit(&w->done_max, memory_order_relaxed) > done_max)
			done_max = atomic_load_explicit(&w->done_max, memory_order_relaxed);
		if (reset) {
			w->base_ticks = t;
			w->base_overruns = o;
			w->base_cpu = cpu;
		}
	}
	/* Histogram entries count wakeups; ticks counts the ticks they ran. */
	ts->ticks = ticks;
	for (b = 0, ticks = 0; b < WORKER_HIST; b++)
		ticks += late[b];
	ts->late_p50_us = percentile(late, ticks, 50, late_max);
	ts->late_p99_us = percentile(late, ticks, 99, late_max);
	ts->late_max_us = hist_max(late, late_max);
	ts->done_p50_us = percentile(done, ticks, 50, done_max);
	ts->done_p99_us = percentile(done, ticks, 99, done_max);
	ts->done_max_us = hist_max(done, done_max);
}
