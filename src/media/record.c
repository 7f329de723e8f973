/*
 * record.c - media_record: the worker puts each tick's received frame into a
 * lock-free single-producer/single-consumer ring; a timer on the signalling
 * thread drains it into a WAV file through libsndfile.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <re.h>
#include <sndfile.h>
#include "core/log.h"
#include "media/media_int.h"
#include "media/play.h"
#include "media/play_int.h"

/* 2^15 samples: 4 s at 8 kHz, far more than a drain period; more at a room's rate. */
#define RING_SAMPLES  32768u
#define DRAIN_MS      100
#define DRAIN_CHUNK   2048

struct media_rec {
	struct media_stream *ms;
	struct mrec *ring;
	struct cmd *stop;            /* allocated up front: stopping never fails */
	SNDFILE *sf;
	char *path;
	uint64_t written, limit;     /* samples; limit 0: none */
	unsigned rate;               /* Hz: 8000, or the room's (media_stream_rate) */
	unsigned slot;               /* media_stream_rec_slot(ms)[slot] is this */
	bool logged_drop;
	/* Silence detection (switch_ivr_record_file): thresh 0 is off. */
	unsigned thresh, hits, hits_left;
	unsigned frame, per;         /* samples in 20 ms; the divisor of a frame's sum */
	uint64_t energy;             /* of the frame being summed */
	unsigned in_frame;           /* its samples so far */
	struct tmr tmr;
	media_record_done_h *h;
	void *arg;
};

/* ---- the ring ---------------------------------------------------------------- */

void mrec_put(struct mrec *r, const int16_t *pcm, unsigned n)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	uint32_t at = (uint32_t)(head & (r->cap - 1)), first;

	if (atomic_load_explicit(&r->paused, memory_order_relaxed))
		return;
	if (r->cap - (head - tail) < n) {
		atomic_store_explicit(&r->dropped, atomic_load_explicit(&r->dropped,
				      memory_order_relaxed) + n, memory_order_relaxed);
		return;
	}
	first = r->cap - at < n ? r->cap - at : n;
	if (pcm) {
		memcpy(r->buf + at, pcm, first * sizeof(*pcm));
		memcpy(r->buf, pcm + first, (n - first) * sizeof(*pcm));
	} else {
		memset(r->buf + at, 0, first * sizeof(*pcm));
		memset(r->buf, 0, (n - first) * sizeof(*pcm));
	}
	/* The samples before the index: the consumer reads them after an acquire. */
	atomic_store_explicit(&r->head, head + n, memory_order_release);
}

size_t mrec_get(struct mrec *r, int16_t *out, size_t n)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	uint32_t at = (uint32_t)(tail & (r->cap - 1));
	size_t avail = (size_t)(head - tail), first;

	if (n > avail)
		n = avail;
	first = r->cap - at < n ? r->cap - at : n;
	memcpy(out, r->buf + at, first * sizeof(*out));
	memcpy(out + first, r->buf, (n - first) * sizeof(*out));
	atomic_store_explicit(&r->tail, tail + n, memory_order_release);
	return n;
}

void mrec_release(struct mrec *r)
{
	if (r && atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1)
		free(r);
}

/* ---- the file ---------------------------------------------------------------- */

/* mkdir -p of the directory `path` is in. */
static void make_dirs(const char *path)
{
	char *dir = NULL, *p;

	if (str_dup(&dir, path))
		return;
	for (p = dir + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		(void)mkdir(dir, 0755);
		*p = '/';
	}
	mem_deref(dir);
}

/*
 * The samples of buf to write: all, or, once a frame makes `hits` quiet frames
 * in a row (*quiet then), those before that frame: FreeSWITCH stops before
 * writing it. A frame is 20 ms; its score is FreeSWITCH's, the sum of |sample|
 * over the samples an 8 kHz frame has (160: the mean at 8 kHz).
 */
static size_t silence_scan(struct media_rec *r, const int16_t *buf, size_t n, bool *quiet)
{
	size_t i;

	for (i = 0; i < n; i++) {
		r->energy += (uint64_t)abs(buf[i]);
		if (++r->in_frame < r->frame)
			continue;
		if (r->energy / r->per < r->thresh) {
			if (!--r->hits_left) {
				*quiet = true;
				return i + 1 >= r->frame ? i + 1 - r->frame : 0;
			}
		} else {
			r->hits_left = r->hits;
		}
		r->energy = 0;
		r->in_frame = 0;
	}
	return n;
}

/*
 * Write what the ring holds, up to the limit. Returns EIO when the file took
 * less than it was given, EOVERFLOW at the limit, ENODATA after the silence,
 * else 0.
 */
static int drain(struct media_rec *r)
{
	int16_t buf[DRAIN_CHUNK];
	bool quiet = false;
	size_t n;

	for (;;) {
		size_t want = DRAIN_CHUNK;

		if (r->limit && r->limit - r->written < want)
			want = (size_t)(r->limit - r->written);
		if (!want)
			return EOVERFLOW;
		n = mrec_get(r->ring, buf, want);
		if (!n)
			return 0;
		if (r->thresh)
			n = silence_scan(r, buf, n, &quiet);
		if (n && sf_writef_short(r->sf, buf, (sf_count_t)n) != (sf_count_t)n) {
			log_err("media: recording %s stopped: %s\n", r->path, sf_strerror(r->sf));
			return EIO;
		}
		r->written += n;
		if (quiet)
			return ENODATA;
	}
}

static void rec_destructor(void *data)
{
	struct media_rec *r = data;

	tmr_cancel(&r->tmr);
	if (r->sf)
		sf_close(r->sf);
	mrec_release(r->ring);
	free(r->stop);
	mem_deref(r->path);
}

/* Detach from the stream, tell the worker, close the file. */
static void finish(struct media_rec *r, bool send_stop)
{
	struct media_rec **slots = r->ms ? media_stream_rec_slot(r->ms) : NULL;
	struct cmd *c = r->stop;
	uint64_t dropped = atomic_load_explicit(&r->ring->dropped, memory_order_relaxed);

	if (slots && slots[r->slot] == r)
		slots[r->slot] = NULL;
	tmr_cancel(&r->tmr);
	if (send_stop && c) {
		r->stop = NULL;
		c->type = CMD_RECORD_STOP;
		c->u.rec = r->ring;
		if (media_stream_cmd(r->ms, c))
			free(c);
	}
	if (dropped)
		log_warn("media: recording %s lost %llu ms (the file could not keep up)\n",
			 r->path, (unsigned long long)dropped / (r->rate / 1000));
	if (r->sf)
		sf_close(r->sf);
	r->sf = NULL;
	r->ms = NULL;
}

static void drain_tmr(void *arg)
{
	struct media_rec *r = arg;
	media_record_done_h *h = r->h;
	int err = drain(r);

	if (!err) {
		tmr_start(&r->tmr, DRAIN_MS, drain_tmr, r);
		return;
	}
	finish(r, true);
	if (h)
		h(err == EOVERFLOW ? 0 : err, r->written, r->arg);
	mem_deref(r);
}

/* Start recording into slots[n], replacing what runs there. */
static int start(struct media_stream *ms, unsigned n, const char *path, unsigned limit_ms,
		 media_record_done_h *h, void *arg)
{
	struct media_rec **slot = media_stream_rec_slot(ms) + n;
	SF_INFO info = {.samplerate = (int)media_stream_rate(ms), .channels = 1,
		.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
	unsigned cap = RING_SAMPLES;
	struct media_rec *r;
	struct cmd *c = NULL;
	int err;

	r = mem_zalloc(sizeof(*r), rec_destructor);
	if (!r)
		return ENOMEM;
	tmr_init(&r->tmr);
	r->ms = ms;
	r->h = h;
	r->arg = arg;
	r->slot = n;
	r->rate = (unsigned)info.samplerate;
	r->limit = (uint64_t)limit_ms * (r->rate / 1000);
	while (cap < RING_SAMPLES / PLAY_RATE * r->rate)
		cap *= 2;
	r->ring = calloc(1, sizeof(*r->ring) + cap * sizeof(int16_t));
	if (r->ring) {
		r->ring->cap = cap;
		r->ring->slot = n;
		atomic_init(&r->ring->refs, 2);      /* the worker's and ours */
	}
	r->stop = calloc(1, sizeof(*r->stop));
	c = calloc(1, sizeof(*c));
	err = str_dup(&r->path, path);
	if (!err && (!r->ring || !r->stop || !c))
		err = ENOMEM;
	if (err)
		goto out;
	make_dirs(path);
	errno = 0;
	r->sf = sf_open(path, SFM_WRITE, &info);
	if (!r->sf) {
		err = errno ? errno : EACCES;
		log_err("media: cannot record to %s: %s\n", path, sf_strerror(NULL));
		goto out;
	}
	/* The header follows every write: the file is valid if we die mid-call. */
	sf_command(r->sf, SFC_SET_UPDATE_HEADER_AUTO, NULL, SF_TRUE);
	c->type = CMD_RECORD;
	c->u.rec = r->ring;
	err = media_stream_cmd(ms, c);
	if (err)
		goto out;
	c = NULL;
	if (*slot) {
		struct media_rec *old = *slot;

		/* The worker closes the old ring on CMD_RECORD itself. */
		(void)drain(old);
		finish(old, false);
		mem_deref(old);
	}
	*slot = r;
	tmr_start(&r->tmr, DRAIN_MS, drain_tmr, r);
	return 0;
 out:
	mrec_release(r->ring);                    /* the worker's reference, never given */
	free(c);
	if (r->sf) {
		sf_close(r->sf);
		r->sf = NULL;
		(void)unlink(path);
	}
	mem_deref(r);
	return err;
}

int media_record(struct media_stream *ms, const char *path, unsigned limit_ms,
		 media_record_done_h *h, void *arg)
{
	if (!ms)
		return ENODEV;
	if (!path || !*path)
		return EINVAL;
	return start(ms, 0, path, limit_ms, h, arg);
}

int media_record_silence(struct media_stream *ms, unsigned thresh, unsigned hits_s)
{
	struct media_rec *r = ms ? media_stream_rec_slot(ms)[0] : NULL;

	if (!r)
		return ENOENT;
	/* Seconds in frames of 20 ms; none given is 3 s, as FreeSWITCH. */
	if (!hits_s)
		hits_s = 3;
	if (hits_s > UINT_MAX / 50)
		hits_s = UINT_MAX / 50;
	r->thresh = thresh;
	r->hits = r->hits_left = hits_s * 50;
	r->frame = r->rate / 50;
	r->per = r->frame / (r->rate >= 16000 ? r->rate / 8000 : 1);
	r->energy = 0;
	r->in_frame = 0;
	return 0;
}

uint64_t media_record_stop(struct media_stream *ms)
{
	struct media_rec **slot = ms ? media_stream_rec_slot(ms) : NULL;
	struct media_rec *r = slot ? *slot : NULL;
	uint64_t n;

	if (!r)
		return 0;
	(void)drain(r);
	finish(r, true);
	n = r->written;
	mem_deref(r);
	return n;
}

int media_record_pause(struct media_stream *ms, bool pause)
{
	struct media_rec **slot = ms ? media_stream_rec_slot(ms) : NULL;
	struct media_rec *r = slot ? *slot : NULL;

	if (!r)
		return ENOENT;
	atomic_store_explicit(&r->ring->paused, pause, memory_order_relaxed);
	return 0;
}

bool media_record_paused(struct media_stream *ms)
{
	struct media_rec **slot = ms ? media_stream_rec_slot(ms) : NULL;
	struct media_rec *r = slot ? *slot : NULL;

	return r && atomic_load_explicit(&r->ring->paused, memory_order_relaxed);
}

int media_record_end(struct media_stream *ms, bool truncate)
{
	struct media_rec **slot = ms ? media_stream_rec_slot(ms) : NULL;
	struct media_rec *r = slot ? *slot : NULL;
	media_record_done_h *h;
	void *arg;
	uint64_t n;

	if (!r)
		return ENOENT;
	h = r->h;
	arg = r->arg;
	(void)drain(r);
	if (truncate && r->sf) {
		sf_count_t zero = 0;

		if (sf_command(r->sf, SFC_FILE_TRUNCATE, &zero, sizeof(zero)))
			log_warn("media: cannot truncate %s\n", r->path);
		else
			r->written = 0;
	}
	finish(r, true);
	n = r->written;
	mem_deref(r);
	if (h)
		h(0, n, arg);
	return 0;
}

bool media_recording(struct media_stream *ms)
{
	struct media_rec **slots = ms ? media_stream_rec_slot(ms) : NULL;

	for (unsigned i = 0; slots && i < MEDIA_REC_MAX; i++)
		if (slots[i])
			return true;
	return false;
}

/* ---- several files ------------------------------------------------------------ */

static struct media_rec *find_file(struct media_stream *ms, const char *path)
{
	struct media_rec **slots = ms && path ? media_stream_rec_slot(ms) : NULL;

	for (unsigned i = 0; slots && i < MEDIA_REC_MAX; i++)
		if (slots[i] && !strcmp(slots[i]->path, path))
			return slots[i];
	return NULL;
}

int media_record_add(struct media_stream *ms, const char *path, unsigned limit_ms,
		     media_record_done_h *h, void *arg)
{
	struct media_rec **slots;
	unsigned i;

	if (!ms)
		return ENODEV;
	if (!path || !*path)
		return EINVAL;
	if (find_file(ms, path))
		return EALREADY;
	slots = media_stream_rec_slot(ms);
	for (i = 0; i < MEDIA_REC_MAX && slots[i]; i++)
		;
	if (i == MEDIA_REC_MAX)
		return EBUSY;
	return start(ms, i, path, limit_ms, h, arg);
}

int media_record_stop_file(struct media_stream *ms, const char *path, uint64_t *samples)
{
	struct media_rec *r = find_file(ms, path);

	if (!r)
		return ENOENT;
	(void)drain(r);
	finish(r, true);
	if (samples)
		*samples = r->written;
	mem_deref(r);
	return 0;
}

int media_record_pause_file(struct media_stream *ms, const char *path, bool pause)
{
	struct media_rec *r = find_file(ms, path);

	if (!r)
		return ENOENT;
	atomic_store_explicit(&r->ring->paused, pause, memory_order_relaxed);
	return 0;
}

void media_rec_gone(struct media_rec **slots)
{
	for (unsigned i = 0; i < MEDIA_REC_MAX; i++) {
		struct media_rec *r = slots[i];

		if (!r)
			continue;
		/* The worker drops its reference when it frees the stream. */
		(void)drain(r);
		finish(r, false);
		slots[i] = NULL;
		mem_deref(r);
	}
}
