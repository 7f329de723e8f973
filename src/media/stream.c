/*
 * stream.c - the media API on the signalling thread: stream handles, the
 * registry that routes commands to the worker owning each stream (holding
 * them back while a stream moves between workers), and the queue that brings
 * workers' events back to the signalling thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <re.h>
#include "core/log.h"
#include "core/loop.h"
#include "media/media_int.h"
#include "media/play_int.h"

/*
 * What the signalling thread knows of a stream: where its commands go. It
 * outlives the handle until the stream's REMOVE has reached its worker, so a
 * move in flight can finish; events for it are dropped once the handle is gone.
 */
struct media_entry {
	struct le he;
	uint32_t id;
	struct worker *w;           /* owner, or destination while moving; NULL: gone */
	bool moving;
	struct mstream *st;         /* worker-side state, read here for counters only */
	struct media_stream *ms;    /* NULL once the handle is freed */
	unsigned scan;              /* pump(): an earlier command for it still waits */
};

struct media_stream {
	struct media_entry *e;
	uint16_t port;
	int af;
	struct media_params prm;
	bool have_prm;
	struct cmd *rm;             /* the REMOVE, allocated up front: freeing never fails */
	media_event_h *eventh;
	void *arg;
	struct media_stats final;   /* counters as media_close left them */
	struct media_play *play;    /* play.c: the player running, if any */
	struct media_rec *rec[MEDIA_REC_MAX];   /* record.c: the recordings running */
	media_mix_h *mixh;          /* mix.c: talk transitions while in a room */
	void *mixarg;
};

static struct {
	bool running;
	struct hash *reg;
	uint32_t next_id;
	/*
	 * Commands wait here while a stream they involve is on its way between
	 * workers, and so does every later command for the same streams: commands
	 * for one stream never overtake each other, other streams go on.
	 */
	struct cmd *phead, *ptail;
	unsigned scan;
} M;

/* Worker -> signalling thread. Fixed-size so posting never allocates. */
#define UP_RING    16384

struct up {
	uint32_t id;
	uint8_t type;
	char digit;
	uint16_t duration_ms;
};

static struct {
	pthread_mutex_t lock;
	struct up ring[UP_RING];
	unsigned head, len;
	struct cmd *attached;       /* finished moves, as the commands that did them */
	bool posted;
	uint64_t dropped;
} U = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void pump(void);

static bool id_eq(struct le *le, void *arg)
{
	const struct media_entry *e = le->data;

	return e->id == *(const uint32_t *)arg;
}

static struct media_entry *lookup(uint32_t id)
{
	struct le *le = M.reg ? hash_lookup(M.reg, id, id_eq, &id) : NULL;

	return le ? le->data : NULL;
}

static void dispatch(const struct up *u)
{
	static const enum media_ev map[] = {
		[MEDIA_UP_DTMF] = MEDIA_EV_DTMF,
		[MEDIA_UP_TIMEOUT] = MEDIA_EV_TIMEOUT,
		[MEDIA_UP_LATCHED] = MEDIA_EV_LATCHED,
	};
	struct media_entry *e = M.running ? lookup(u->id) : NULL;
	struct media_ev_data d = {u->digit, u->duration_ms};
	struct media_stream *ms = e ? e->ms : NULL;

	if (!ms)
		return;
	switch (u->type) {
	case MEDIA_UP_PLAY_DONE:
		/* play.c: a player ended; its handler, not the stream's, hears of it. */
		media_play_up(ms, &ms->play, u->duration_ms);
		break;
	case MEDIA_UP_TALK:
	case MEDIA_UP_QUIET:
		media_mix_up(ms, u->type == MEDIA_UP_TALK, u->duration_ms);
		break;
	default:
		if (u->type < sizeof(map) / sizeof(*map) && ms->eventh)
			ms->eventh(ms, map[u->type], &d, ms->arg);
		break;
	}
}

/* Moves that finished: their streams take commands again. */
static void attached_drain(struct cmd *c)
{
	struct cmd *next;
	bool any = false;

	for (; c; c = next) {
		struct media_entry *e = M.running ? lookup(c->id) : NULL;

		next = c->next;
		if (e) {
			e->moving = false;
			any = true;
		}
		media_cmd_free(c);
	}
	if (any)
		pump();
}

/*
 * Runs as a loop_post job. `posted` stays true until this job has seen the
 * queue empty, so media never has more than one job in the loop's queue.
 */
static void up_drain(void *arg)
{
	struct up batch[64];
	struct cmd *att;
	unsigned n, i;
	bool last;

	(void)arg;
	do {
		pthread_mutex_lock(&U.lock);
		n = U.len < 64 ? U.len : 64;
		for (i = 0; i < n; i++)
			batch[i] = U.ring[(U.head + i) % UP_RING];
		U.head = (U.head + n) % UP_RING;
		U.len -= n;
		att = U.attached;
		U.attached = NULL;
		last = !n && !att;
		if (last)
			U.posted = false;
		pthread_mutex_unlock(&U.lock);
		attached_drain(att);
		/* A handler may free streams: each event looks its stream up again. */
		for (i = 0; i < n; i++)
			dispatch(&batch[i]);
	} while (!last);
}

static void up_wake(void)
{
	if (loop_post(up_drain, NULL)) {
		pthread_mutex_lock(&U.lock);
		U.posted = false;
		pthread_mutex_unlock(&U.lock);
	}
}

void media_up_attached(struct cmd *c)
{
	bool post;

	pthread_mutex_lock(&U.lock);
	c->next = U.attached;
	U.attached = c;
	post = !U.posted;
	U.posted = true;
	pthread_mutex_unlock(&U.lock);
	if (post)
		up_wake();
}

void media_up_post(uint32_t id, enum media_up type, char digit, unsigned duration_ms)
{
	bool post;

	pthread_mutex_lock(&U.lock);
	if (U.len >= UP_RING) {
		U.dropped++;
		pthread_mutex_unlock(&U.lock);
		return;
	}
	U.ring[(U.head + U.len++) % UP_RING] = (struct up){id, (uint8_t)type, digit,
		(uint16_t)(duration_ms > UINT16_MAX ? UINT16_MAX : duration_ms)};
	post = !U.posted;
	U.posted = true;
	pthread_mutex_unlock(&U.lock);
	if (post)
		up_wake();
}

static void deliver(struct cmd *c)
{
	struct worker *w = c->e1->w;

	if (c->type == CMD_REMOVE) {
		hash_unlink(&c->e1->he);
		c->e1->st = NULL;
		c->e1->w = NULL;
	}
	c->e1 = mem_deref(c->e1);
	c->e2 = mem_deref(c->e2);
	free(c->spare);
	c->spare = NULL;
	media_worker_push(w, c);
}

/* A link across workers: move the second stream to the first one's worker. */
static bool start_move(struct cmd *c)
{
	struct cmd *mv = c->spare ? c->spare : calloc(1, sizeof(*mv));

	c->spare = NULL;
	if (!mv)
		return false;
	mv->type = CMD_MOVE;
	mv->id = c->e2->id;
	mv->st = c->e2->st;
	mv->dest = c->e1->w;
	media_worker_push(c->e2->w, mv);
	media_worker_load_add(c->e2->w, -1);
	media_worker_load_add(c->e1->w, 1);
	c->e2->w = c->e1->w;
	c->e2->moving = true;
	return true;
}

static bool waits(const struct media_entry *e)
{
	return e && (e->moving || e->scan == M.scan);
}

/* Deliver every command whose streams are settled and have nothing earlier waiting. */
static void pump(void)
{
	struct cmd *c, *next, *prev = NULL;

	M.scan++;
	for (c = M.phead; c; c = next) {
		bool wait = waits(c->e1) || waits(c->e2);

		next = c->next;
		if (!wait && (c->type == CMD_LINK || c->type == CMD_MIX_JOIN) &&
		    c->e1->w != c->e2->w) {
			/* The link waits for the move; its streams' later commands too. */
			wait = start_move(c);
			if (!wait) {
				log_err("media: out of memory moving stream %u, link dropped\n",
					c->e2->id);
				media_mix_cmd_free(c);
				c->type = CMD_UNLINK;
			}
		}
		if (wait) {
			c->e1->scan = M.scan;
			if (c->e2)
				c->e2->scan = M.scan;
			prev = c;
			continue;
		}
		if (prev)
			prev->next = next;
		else
			M.phead = next;
		if (M.ptail == c)
			M.ptail = prev;
		deliver(c);
	}
}

static void route(struct cmd *c, struct media_entry *e1, struct media_entry *e2)
{
	c->e1 = mem_ref(e1);
	c->e2 = e2 ? mem_ref(e2) : NULL;
	c->next = NULL;
	if (M.ptail)
		M.ptail->next = c;
	else
		M.phead = c;
	M.ptail = c;
	pump();
}

static void pending_flush(void)
{
	struct cmd *c, *next;

	for (c = M.phead; c; c = next) {
		next = c->next;
		mem_deref(c->e1);
		mem_deref(c->e2);
		media_cmd_free(c);
	}
	M.phead = M.ptail = NULL;
}

static void read_stats(const struct mstream *st, struct media_stats *s)
{
	const struct mstream_stats *c = &st->stats;

	s->in_packets = atomic_load_explicit(&c->in_packets, memory_order_relaxed);
	s->out_packets = atomic_load_explicit(&c->out_packets, memory_order_relaxed);
	s->in_bytes = atomic_load_explicit(&c->in_bytes, memory_order_relaxed);
	s->out_bytes = atomic_load_explicit(&c->out_bytes, memory_order_relaxed);
	s->in_skipped = atomic_load_explicit(&c->in_skipped, memory_order_relaxed);
	s->in_invalid = atomic_load_explicit(&c->in_invalid, memory_order_relaxed);
	s->in_wrong_pt = atomic_load_explicit(&c->in_wrong_pt, memory_order_relaxed);
	s->in_foreign = atomic_load_explicit(&c->in_foreign, memory_order_relaxed);
	s->in_late = atomic_load_explicit(&c->in_late, memory_order_relaxed);
	s->in_dup = atomic_load_explicit(&c->in_dup, memory_order_relaxed);
	s->concealed = atomic_load_explicit(&c->concealed, memory_order_relaxed);
	s->jb_ms = atomic_load_explicit(&c->jb_depth, memory_order_relaxed) / 8;
}

int media_init(const struct media_cfg *cfg)
{
	int err;

	if (!cfg)
		return EINVAL;
	if (M.running)
		return EALREADY;
	err = media_ports_init(cfg->rtp_start, cfg->rtp_end);
	if (err) {
		log_err("media: no usable RTP port in %u-%u\n", cfg->rtp_start, cfg->rtp_end);
		return err;
	}
	err = hash_alloc(&M.reg, 1024);
	if (!err)
		err = media_workers_start(cfg->workers, cfg->media_timeout_ms);
	if (err) {
		M.reg = mem_deref(M.reg);
		media_ports_close();
		return err;
	}
	M.running = true;
	log_info("media: %u workers, RTP ports %u-%u, media timeout %u ms\n",
		 media_workers_count(), cfg->rtp_start, cfg->rtp_end, cfg->media_timeout_ms);
	return 0;
}

/* Handles that outlive media_close keep their last counters and do nothing. */
static void orphan_all(void)
{
	uint32_t b, bsize = hash_bsize(M.reg);

	for (b = 0; b < bsize; b++) {
		struct le *le = list_head(hash_list(M.reg, b));

		while (le) {
			struct media_entry *e = le->data;

			le = le->next;
			if (e->ms && e->st)
				read_stats(e->st, &e->ms->final);
			hash_unlink(&e->he);
			e->st = NULL;
			e->w = NULL;
			e->moving = false;
		}
	}
}

void media_close(void)
{
	if (!M.running)
		return;
	media_workers_stop();
	mplay_decode_close();
	orphan_all();
	pending_flush();
	media_workers_free();
	M.reg = mem_deref(M.reg);
	media_ports_close();
	pthread_mutex_lock(&U.lock);
	if (U.dropped)
		log_warn("media: %llu worker events were dropped (queue full)\n",
			 (unsigned long long)U.dropped);
	U.head = U.len = 0;
	U.dropped = 0;
	while (U.attached) {
		struct cmd *c = U.attached;

		U.attached = c->next;
		media_cmd_free(c);
	}
	pthread_mutex_unlock(&U.lock);
	M.running = false;
}

static void stream_destructor(void *data)
{
	struct media_stream *ms = data;
	struct media_entry *e = ms->e;

	media_play_gone(&ms->play);
	media_rec_gone(ms->rec);
	if (e && e->w) {
		media_port_release(ms->port);
		media_worker_load_add(e->w, -1);
		ms->rm->type = CMD_REMOVE;
		ms->rm->st = e->st;
		route(ms->rm, e, NULL);
		ms->rm = NULL;
	}
	if (e)
		e->ms = NULL;
	free(ms->rm);
	mem_deref(e);
}

static struct worker *least_loaded(void)
{
	struct worker *best = NULL;
	unsigned i;

	for (i = 0; i < media_workers_count(); i++) {
		struct worker *w = media_worker_get(i);

		if (!best || media_worker_load(w) < media_worker_load(best))
			best = w;
	}
	return best;
}

static struct mstream *state_alloc(uint32_t id, int fd, uint16_t port);

/* Register a stream's state and hand it to a worker (CMD_ADD). */
static void stream_start(struct media_stream *ms, struct media_entry *e, struct cmd *add,
			 struct worker *w)
{
	e->w = w;
	e->ms = ms;
	media_worker_load_add(e->w, 1);
	hash_append(M.reg, e->id, &e->he, e);
	ms->e = e;
	add->type = CMD_ADD;
	add->st = e->st;
	route(add, e, NULL);
}

static struct mstream *state_alloc(uint32_t id, int fd, uint16_t port)
{
	struct mstream *st = calloc(1, sizeof(*st));
	uint8_t rnd[10];

	if (!st)
		return NULL;
	/* RFC 3550 5.1: SSRC, first sequence number and timestamp are random. */
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		memset(rnd, 0x5a, sizeof(rnd));
	memcpy(&st->ssrc, rnd, 4);
	memcpy(&st->seq, rnd + 4, 2);
	memcpy(&st->ts, rnd + 6, 4);
	st->id = id;
	st->fd = fd;
	st->port = port;
	st->gap = true;
	st->silence = 0xff;
	cfjb_reset(&st->jb, st->silence);
	return st;
}

int media_stream_alloc(struct media_stream **msp, const char *local_ip,
		       media_event_h *eventh, void *arg)
{
	struct media_stream *ms;
	struct media_entry *e;
	struct cmd *add;
	struct sa local;
	int err, fd = -1;

	if (!msp || !local_ip || sa_set_str(&local, local_ip, 0))
		return EINVAL;
	if (!M.running)
		return ENODEV;
	ms = mem_zalloc(sizeof(*ms), stream_destructor);
	if (!ms)
		return ENOMEM;
	ms->eventh = eventh;
	ms->arg = arg;
	ms->af = sa_af(&local);
	ms->rm = calloc(1, sizeof(*ms->rm));
	add = calloc(1, sizeof(*add));
	e = mem_zalloc(sizeof(*e), NULL);
	if (!ms->rm || !add || !e) {
		err = ENOMEM;
		goto out;
	}
	err = media_port_open(local_ip, &fd, &ms->port);
	if (err)
		goto out;
	e->id = ++M.next_id ? M.next_id : ++M.next_id;
	e->st = state_alloc(e->id, fd, ms->port);
	if (!e->st) {
		media_port_release(ms->port);
		close(fd);
		err = ENOMEM;
		goto out;
	}
	stream_start(ms, e, add, least_loaded());
	add = NULL;
	e = NULL;
 out:
	free(add);
	mem_deref(e);
	if (err)
		mem_deref(ms);
	else
		*msp = ms;
	return err;
}

/* mix.c: a room's stream, no socket, no port, on the least loaded worker. */
int media_stream_alloc_virtual(struct media_stream **msp, struct mmix *mx)
{
	struct media_stream *ms;
	struct media_entry *e;
	struct cmd *add;

	if (!msp || !mx)
		return EINVAL;
	if (!M.running)
		return ENODEV;
	ms = mem_zalloc(sizeof(*ms), stream_destructor);
	add = calloc(1, sizeof(*add));
	e = mem_zalloc(sizeof(*e), NULL);
	if (ms)
		ms->rm = calloc(1, sizeof(*ms->rm));
	if (!ms || !ms->rm || !add || !e)
		goto nomem;
	e->id = ++M.next_id ? M.next_id : ++M.next_id;
	e->st = state_alloc(e->id, -1, 0);
	if (!e->st)
		goto nomem;
	e->st->mx = mx;
	ms->af = AF_INET;
	stream_start(ms, e, add, least_loaded());
	*msp = ms;
	return 0;
 nomem:
	free(add);
	mem_deref(e);
	mem_deref(ms);
	return ENOMEM;
}

uint16_t media_stream_port(const struct media_stream *ms)
{
	return ms ? ms->port : 0;
}

const struct media_params *media_stream_params(const struct media_stream *ms)
{
	return ms ? &ms->prm : NULL;
}

int media_stream_set_remote(struct media_stream *ms, const struct sa *remote,
			    const struct media_params *prm)
{
	struct cmd *c;
	struct media_params p;

	if (!ms || !remote || !prm)
		return EINVAL;
	if (!ms->e->w)
		return ENODEV;
	if (!ms->port)
		return EINVAL;              /* a room (mix.c) sends nothing itself */
	if (prm->codec != MEDIA_PCMU && prm->codec != MEDIA_PCMA)
		return ENOTSUP;
	if (sa_isset(remote, SA_ADDR) && sa_af(remote) != ms->af)
		return EAFNOSUPPORT;
	p = *prm;
	/* We send whole 10 ms steps between 10 and 60 ms; 20 unless told. */
	if (!p.ptime_ms)
		p.ptime_ms = 20;
	p.ptime_ms = (p.ptime_ms + 5) / 10 * 10;
	if (p.ptime_ms < 10)
		p.ptime_ms = 10;
	if (p.ptime_ms > MEDIA_MAX_PTIME)
		p.ptime_ms = MEDIA_MAX_PTIME;
	p.pt &= 0x7f;
	p.te_pt &= 0x7f;
	c = calloc(1, sizeof(*c));
	if (!c)
		return ENOMEM;
	c->type = CMD_REMOTE;
	c->st = ms->e->st;
	/* Port 0 or no address (c=0.0.0.0 holds): nowhere to send until latched. */
	if (sa_isset(remote, SA_ALL)) {
		memcpy(&c->u.remote.addr, &remote->u, remote->len);
		c->u.remote.len = remote->len;
	}
	c->u.remote.prm = p;
	ms->prm = p;
	ms->have_prm = true;
	route(c, ms->e, NULL);
	return 0;
}

int media_stream_send_dtmf(struct media_stream *ms, const char *digits,
			   unsigned duration_ms)
{
	struct cmd *c;
	size_t i, n;

	if (!ms || !digits || !*digits)
		return EINVAL;
	if (!ms->e->w)
		return ENODEV;
	n = strlen(digits);
	if (n > CFTEV_QUEUE)
		return E2BIG;
	for (i = 0; i < n; i++)
		if (rfc4733_event(digits[i]) < 0)
			return EINVAL;
	if (ms->have_prm && !ms->prm.te_pt)
		return ENOTSUP;
	c = calloc(1, sizeof(*c));
	if (!c)
		return ENOMEM;
	c->type = CMD_DTMF;
	c->st = ms->e->st;
	memcpy(c->u.dtmf.digits, digits, n + 1);
	c->u.dtmf.duration_ms = duration_ms ? duration_ms : 100;
	route(c, ms->e, NULL);
	return 0;
}

int media_stream_link(struct media_stream *a, struct media_stream *b)
{
	struct cmd *c;

	if (!a || !b)
		return EINVAL;
	if (!a->e->w || !b->e->w)
		return ENODEV;
	if (!a->port || !b->port)
		return EINVAL;              /* a room (mix.c) is not linked */
	c = calloc(1, sizeof(*c));
	if (c && a != b)
		c->spare = calloc(1, sizeof(*c->spare));
	if (!c || (a != b && !c->spare)) {
		free(c);
		return ENOMEM;
	}
	c->type = CMD_LINK;
	c->st = a->e->st;
	c->st2 = b->e->st;
	route(c, a->e, b->e);
	return 0;
}

void media_stream_unlink(struct media_stream *ms)
{
	struct cmd *c;

	if (!ms || !ms->e->w)
		return;
	c = calloc(1, sizeof(*c));
	if (!c) {
		log_err("media: out of memory unlinking stream %u\n", ms->e->id);
		return;
	}
	c->type = CMD_UNLINK;
	c->st = ms->e->st;
	route(c, ms->e, NULL);
}

void media_stream_stats(const struct media_stream *ms, struct media_stats *st)
{
	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	if (!ms)
		return;
	if (ms->e && ms->e->st)
		read_stats(ms->e->st, st);
	else
		*st = ms->final;
}

void media_tick_stats(struct media_tick_stats *ts)
{
	if (!ts)
		return;
	memset(ts, 0, sizeof(*ts));
	if (M.running)
		media_worker_tick_stats(ts, false);
}

void media_tick_stats_reset(void)
{
	struct media_tick_stats ts;

	if (M.running)
		media_worker_tick_stats(&ts, true);
}

/* Players and recorders (play.c, record.c) reach their stream's worker here. */

int media_stream_cmd(struct media_stream *ms, struct cmd *c)
{
	if (!ms || !c)
		return EINVAL;
	if (!ms->e || !ms->e->w)
		return ENODEV;
	c->st = ms->e->st;
	route(c, ms->e, NULL);
	return 0;
}

struct media_play **media_stream_play_slot(struct media_stream *ms)
{
	return &ms->play;
}

struct media_rec **media_stream_rec_slot(struct media_stream *ms)
{
	return ms->rec;
}

/* mix.c: a command on two streams, routed like a link (b moves to a's worker). */
int media_stream_cmd2(struct media_stream *a, struct media_stream *b, struct cmd *c)
{
	if (!a || !b || !c)
		return EINVAL;
	if (!a->e || !a->e->w || !b->e || !b->e->w)
		return ENODEV;
	if (!c->spare) {
		c->spare = calloc(1, sizeof(*c->spare));
		if (!c->spare)
			return ENOMEM;
	}
	c->st = a->e->st;
	c->st2 = b->e->st;
	route(c, a->e, b->e);
	return 0;
}

struct mstream *media_stream_state(const struct media_stream *ms)
{
	return ms && ms->e ? ms->e->st : NULL;
}

media_mix_h **media_stream_mix_slot(struct media_stream *ms, void ***argp)
{
	*argp = &ms->mixarg;
	return &ms->mixh;
}
