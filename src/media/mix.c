/*
 * mix.c - conference rooms in the media workers: one sum per room and tick,
 * N-1 per member with saturation, per-member gain and volume, energy-gated
 * talk detection with a hangover, a cap on mixed talkers, comfort noise,
 * members kept from hearing others (relate), and one shared encoded frame for
 * every member that hears the plain sum.
 *
 * A room mixes at its rate (8 kHz times 1..6): members' frames are resampled
 * up on the way in and every mix down on the way out (resample.c).
 *
 * A room is a stream without a socket (mx set) on the worker that owns all of
 * its members; CMD_MIX_JOIN moves a member there the way CMD_LINK does. The
 * tick allocates nothing, takes no lock and logs nothing; joins grow the
 * member array in the command, never in the tick.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "core/log.h"
#include "media/g711.h"
#include "media/media_int.h"
#include "media/play_int.h"

_Static_assert(PLAY_MAX_UP == MIX_MAX_UP, "a room's player runs at any room rate");

/*
 * Talking ends after this many frames under the gate (400 ms): the gaps
 * between words must not cut a talker off, nor flood the bus with events.
 */
#define HANGOVER_FRAMES 20

/*
 * A-law has no zero: its silence (0xd5) decodes to +-8, as does u-law's
 * smallest step. A frame no louder than that is digital silence in either
 * law and never talk, whatever the gate (energy_level 0 included).
 */
#define SILENCE_ENERGY 8

/* Gain of volume levels -4..4 in Q8: FreeSWITCH's steps (x0.2 .. x4.3). */
static const int level_gain[9] = {51, 102, 154, 205, 256, 333, 589, 845, 1101};

static int gain_of(int level)
{
	if (level < -4)
		level = -4;
	if (level > 4)
		level = 4;
	return level_gain[level + 4];
}

static inline int16_t sat16(int32_t v)
{
	return v > 32767 ? 32767 : v < -32768 ? -32768 : (int16_t)v;
}

/* ---- the tick (worker) ------------------------------------------------------ */

/*
 * Mean |sample|, FreeSWITCH's energy score (per sample: the same loudness
 * scores the same at any rate).
 */
static unsigned frame_energy(const int16_t *f, unsigned n)
{
	unsigned sum = 0, i;

	for (i = 0; i < n; i++)
		sum += (unsigned)(f[i] < 0 ? -f[i] : f[i]);
	return sum / n;
}

/* This tick's frame of a member at the room's rate. */
static const int16_t *member_frame(struct mmix *mx, struct mstream *st)
{
	if (mx->up == 1)
		return st->frame;
	/* Silence goes through too: the filter's memory stays in step. */
	resample_up(&mx->rs, &st->mm->rs_in, st->frame_silent ? NULL : st->frame, st->mm->hi);
	return st->mm->hi;
}

/* Measure one member and decide whether it talks; posts the transitions. */
static void measure(struct worker *w, struct mmix *mx, struct mstream *st)
{
	struct mmember *mm = st->mm;
	const int16_t *f;
	bool above;

	if (!st->frame_ready)
		media_pull(w, st);
	f = member_frame(mx, st);
	mm->energy = st->frame_silent ? 0 : frame_energy(f, mx->flen);
	atomic_store_explicit(&st->stats.energy, mm->energy, memory_order_relaxed);
	above = !st->frame_silent && mm->energy > mm->level && mm->energy > SILENCE_ENERGY;
	if (above) {
		mm->below = 0;
		if (!mm->talking) {
			mm->talking = true;
			media_up_post(st->id, MEDIA_UP_TALK, 0, mm->energy);
		}
	} else if (mm->talking && ++mm->below >= HANGOVER_FRAMES) {
		mm->talking = false;
		media_up_post(st->id, MEDIA_UP_QUIET, 0, mm->energy);
	}
	/* Gated: only talk (hangover included) reaches the others. */
	mm->contrib = mm->speak && mm->talking && !st->frame_silent;
}

/* Keep the max_talkers loudest contributors; the rest stay out of the sum. */
static void cap_talkers(struct mmix *mx)
{
	unsigned i, j, k = 0;

	for (i = 0; i < mx->n; i++) {
		struct mmember *mm = mx->m[i]->mm;
		unsigned q = 0;

		if (!mm->contrib)
			continue;
		if (k < mx->max_talkers) {
			mx->top[k++] = mx->m[i];
			continue;
		}
		for (j = 1; j < k; j++)
			if (mx->top[j]->mm->energy < mx->top[q]->mm->energy)
				q = j;
		if (mm->energy > mx->top[q]->mm->energy) {
			mx->top[q]->mm->contrib = false;
			mx->top[q] = mx->m[i];
		} else {
			mm->contrib = false;
		}
	}
}

/*
 * FreeSWITCH's comfort noise: uniform noise whose peak is the configured
 * amplitude (conference.c turns comfort-noise's divisor into it), at the
 * room's rate.
 */
static void comfort_noise(struct mmix *mx)
{
	int amp = (int)mx->cn_level;
	unsigned i;

	for (i = 0; i < mx->flen; i++) {
		mx->noise = mx->noise * 1664525u + 1013904223u;
		/* Uniform in [-amp, amp]: 16 random bits scaled. */
		mx->mix[i] = (int16_t)((int32_t)((mx->noise >> 16) % (2u * amp + 1u)) - amp);
	}
}

/* The sum of the talkers and the room's player, at the room's rate. */
static void sum_up(struct worker *w, struct mstream *room)
{
	struct mmix *mx = room->mx;
	const int16_t *play = NULL;
	unsigned i, j, ncontrib = 0;

	for (i = 0; i < mx->n; i++)
		measure(w, mx, mx->m[i]);
	if (mx->max_talkers)
		cap_talkers(mx);
	memset(mx->sum, 0, mx->flen * sizeof(*mx->sum));
	for (i = 0; i < mx->n; i++) {
		struct mstream *st = mx->m[i];
		struct mmember *mm = st->mm;
		const int16_t *f = mx->up == 1 ? st->frame : mm->hi;

		if (!mm->contrib)
			continue;
		ncontrib++;
		for (j = 0; j < mx->flen; j++) {
			mm->in[j] = sat16(f[j] * mm->gain_in / 256);
			mx->sum[j] += mm->in[j];
		}
	}
	/*
	 * A file played to the room is part of the sum: everybody hears it. The
	 * room's player runs at the room's rate (play.c decodes to it).
	 */
	if (room->player)
		play = media_player_frame(room, w->tick, NULL);
	if (play)
		for (j = 0; j < mx->flen; j++)
			mx->sum[j] += play[j];
	mx->silent = !ncontrib && !play;
	if (mx->silent && mx->cn_level)
		comfort_noise(mx);
	else
		for (j = 0; j < mx->flen; j++)
			mx->mix[j] = sat16(mx->sum[j]);
}

static bool deaf_to(const struct mmember *mm, uint32_t id)
{
	unsigned i;

	for (i = 0; i < mm->ndeaf_to; i++)
		if (mm->deaf_to[i] == id)
			return true;
	return false;
}

/* relate: does a member it must not hear talk into the sum this tick? */
static bool hears_deaf(const struct mmix *mx, const struct mmember *mm)
{
	unsigned i;

	for (i = 0; mm->ndeaf_to && i < mx->n; i++)
		if (mx->m[i]->mm->contrib && deaf_to(mm, mx->m[i]->id))
			return true;
	return false;
}

/*
 * What one member hears when it is not the plain mix: N-1 less those it
 * must not hear (relate), at its volume. The sum is rebuilt in place in o's
 * room-rate buffer only when someone is left out: 32-bit, then saturated.
 */
static void own_mix(struct mmix *mx, struct mmember *mm)
{
	int16_t *o = mx->up == 1 ? mm->out8 : mm->out;
	unsigned i, j;

	if (!mm->contrib && mx->silent) {
		for (j = 0; j < mx->flen; j++)
			o[j] = sat16(mx->mix[j] * mm->gain_out / 256);
	} else if (mm->deaf_now) {
		int32_t *acc = mx->acc;

		for (j = 0; j < mx->flen; j++)
			acc[j] = mx->sum[j] - (mm->contrib ? mm->in[j] : 0);
		for (i = 0; i < mx->n; i++) {
			const struct mmember *s = mx->m[i]->mm;

			if (s != mm && s->contrib && deaf_to(mm, mx->m[i]->id))
				for (j = 0; j < mx->flen; j++)
					acc[j] -= s->in[j];
		}
		for (j = 0; j < mx->flen; j++)
			o[j] = sat16(acc[j] * mm->gain_out / 256);
	} else {
		for (j = 0; j < mx->flen; j++) {
			int32_t v = mx->sum[j] - (mm->contrib ? mm->in[j] : 0);

			o[j] = sat16(v * mm->gain_out / 256);
		}
	}
	if (mx->up == 1)
		return;
	/* It heard the shared mix until now: its filter goes on from there. */
	if (mm->heard != MIX_OWN)
		resample_down_copy(&mm->rs_out, &mx->rs_mix, &mx->rs);
	resample_down(&mx->rs, &mm->rs_out, mm->out, mm->out8);
}

void media_mix_tick(struct worker *w, struct mstream *room)
{
	struct mmix *mx = room->mx;
	unsigned i;

	sum_up(w, room);
	mx->enc_ok[0] = mx->enc_ok[1] = false;
	/* Before the shared mix moves on: own mixes may start from its filter. */
	for (i = 0; i < mx->n; i++) {
		struct mmember *mm = mx->m[i]->mm;

		mm->deaf_now = hears_deaf(mx, mm);
		if (!mm->hear) {
			mm->hears = MIX_SILENT;
		} else if (!mm->contrib && mm->gain_out == 256 && !mm->deaf_now) {
			mm->hears = mx->silent && !mx->cn_level ? MIX_SILENT : MIX_SHARED;
		} else {
			mm->hears = MIX_OWN;
			own_mix(mx, mm);
		}
		mm->heard = mm->hears;
	}
	if (mx->up == 1)
		memcpy(mx->mix8, mx->mix, sizeof(mx->mix8));
	else
		resample_down(&mx->rs, &mx->rs_mix, mx->mix, mx->mix8);
	/* The room's recorder records the whole mix at the room's rate (tick.c). */
	memcpy(room->frame, mx->mix8, sizeof(room->frame));
	room->frame_silent = mx->silent && !mx->cn_level;
	room->frame_ready = true;
}

const uint8_t *media_mix_encoded(struct mstream *room, enum media_codec codec)
{
	struct mmix *mx = room->mx;
	int alaw = codec == MEDIA_PCMA;

	if (!mx->enc_ok[alaw]) {
		g711_encode(alaw, mx->mix8, mx->enc[alaw], MEDIA_FRAME);
		mx->enc_ok[alaw] = true;
	}
	return mx->enc[alaw];
}

/* ---- commands (worker) ------------------------------------------------------ */

static void apply(struct mmember *mm, const struct media_mix_prm *prm)
{
	mm->speak = prm->speak;
	mm->hear = prm->hear;
	mm->gain_in = gain_of(prm->vol_in);
	mm->gain_out = gain_of(prm->vol_out);
	mm->level = prm->energy_level;
	mm->ndeaf_to = prm->ndeaf_to < MEDIA_MIX_DEAF_MAX ? prm->ndeaf_to : MEDIA_MIX_DEAF_MAX;
	memcpy(mm->deaf_to, prm->deaf_to, mm->ndeaf_to * sizeof(*mm->deaf_to));
}

static void leave(struct mstream *st)
{
	struct mmember *mm = st->mm;
	struct mmix *mx;

	if (!mm)
		return;
	mx = mm->room ? mm->room->mx : NULL;
	if (mx && mm->idx < mx->n && mx->m[mm->idx] == st) {
		struct mstream *last = mx->m[--mx->n];

		mx->m[mm->idx] = last;
		last->mm->idx = mm->idx;
	}
	free(mm);
	st->mm = NULL;
}

/* Members of a room that goes stay where they are and hear nothing. */
static void room_gone(struct mstream *room)
{
	struct mmix *mx = room->mx;
	unsigned i;

	for (i = 0; i < mx->n; i++) {
		free(mx->m[i]->mm);
		mx->m[i]->mm = NULL;
	}
	mx->n = 0;
}

void media_mix_detach(struct mstream *st)
{
	leave(st);
	if (st->mx)
		room_gone(st);
}

void media_mix_state_free(struct mstream *st)
{
	media_mix_detach(st);
	if (st->mx) {
		free(st->mx->m);
		free(st->mx->top);
		free(st->mx);
		st->mx = NULL;
	}
}

static void join(struct worker *w, struct mstream *room, struct mstream *st,
		 struct mmember *mm)
{
	struct mmix *mx = room->mx;

	leave(st);
	if (st->partner) {
		if (st->partner != st)
			st->partner->partner = NULL;
		st->partner = NULL;
	}
	if (mx->n == mx->cap) {
		unsigned ncap = mx->cap ? mx->cap * 2 : 16;
		struct mstream **nm = realloc(mx->m, ncap * sizeof(*nm));

		if (!nm) {
			log_err("media: worker %u out of memory, stream %u not mixed\n",
				w->idx, st->id);
			free(mm);
			return;
		}
		mx->m = nm;
		mx->cap = ncap;
	}
	mm->room = room;
	mm->idx = mx->n;
	mx->m[mx->n++] = st;
	st->mm = mm;
}

void media_mix_run(struct worker *w, struct cmd *c)
{
	switch (c->type) {
	case CMD_MIX_JOIN:
		if (c->st->mx && c->st2 != c->st)
			join(w, c->st, c->st2, c->u.mix.mm);
		else
			free(c->u.mix.mm);
		c->u.mix.mm = NULL;
		break;
	case CMD_MIX_SET:
		if (c->st->mm)
			apply(c->st->mm, &c->u.mix.prm);
		break;
	case CMD_MIX_LEAVE:
		leave(c->st);
		break;
	default:
		break;
	}
}

void media_mix_cmd_free(struct cmd *c)
{
	if (c->type == CMD_MIX_JOIN) {
		free(c->u.mix.mm);
		c->u.mix.mm = NULL;
	}
}

/* ---- the API (signalling thread) -------------------------------------------- */

bool media_room_rate_ok(unsigned rate)
{
	return rate >= PLAY_RATE && rate % PLAY_RATE == 0 && rate / PLAY_RATE <= MIX_MAX_UP;
}

unsigned media_stream_rate(const struct media_stream *ms)
{
	const struct mstream *st = ms ? media_stream_state(ms) : NULL;

	/* A room's rate never changes after media_room_alloc: no race. */
	return st && st->mx ? st->mx->rate : PLAY_RATE;
}

int media_room_alloc(struct media_stream **roomp, const struct media_room_cfg *cfg)
{
	struct mmix *mx;
	int err;

	if (!roomp)
		return EINVAL;
	mx = calloc(1, sizeof(*mx));
	if (!mx)
		return ENOMEM;
	mx->rate = PLAY_RATE;
	if (cfg) {
		mx->cn_level = cfg->comfort_noise > 8000 ? 8000 : cfg->comfort_noise;
		mx->max_talkers = cfg->max_talkers;
		if (cfg->rate)
			mx->rate = cfg->rate;
	}
	if (!media_room_rate_ok(mx->rate)) {
		free(mx);
		return EINVAL;
	}
	mx->up = mx->rate / PLAY_RATE;
	mx->flen = MEDIA_FRAME * mx->up;
	resample_init(&mx->rs, mx->up);
	mx->noise = 0x1234567u;
	if (mx->max_talkers) {
		mx->top = calloc(mx->max_talkers, sizeof(*mx->top));
		if (!mx->top) {
			free(mx);
			return ENOMEM;
		}
	}
	err = media_stream_alloc_virtual(roomp, mx);
	if (err) {
		free(mx->top);
		free(mx);
	}
	return err;
}

static int mix_cmd(struct media_stream *ms, enum cmd_type type,
		   const struct media_mix_prm *prm)
{
	struct cmd *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return ENOMEM;
	c->type = type;
	if (prm)
		c->u.mix.prm = *prm;
	err = media_stream_cmd(ms, c);
	if (err)
		free(c);
	return err;
}

int media_mix_join(struct media_stream *room, struct media_stream *ms,
		   const struct media_mix_prm *prm, media_mix_h *h, void *arg)
{
	struct mmember *mm;
	struct cmd *c;
	media_mix_h **hp;
	void **argp;
	int err;

	if (!room || !ms || !prm || room == ms || !media_stream_state(room) ||
	    !media_stream_state(room)->mx)
		return EINVAL;
	c = calloc(1, sizeof(*c));
	mm = calloc(1, sizeof(*mm));
	if (!c || !mm) {
		free(c);
		free(mm);
		return ENOMEM;
	}
	apply(mm, prm);
	c->type = CMD_MIX_JOIN;
	c->u.mix.mm = mm;
	err = media_stream_cmd2(room, ms, c);
	if (err) {
		media_mix_cmd_free(c);
		free(c);
		return err;
	}
	hp = media_stream_mix_slot(ms, &argp);
	*hp = h;
	*argp = arg;
	return 0;
}

int media_mix_set(struct media_stream *ms, const struct media_mix_prm *prm)
{
	if (!ms || !prm)
		return EINVAL;
	return mix_cmd(ms, CMD_MIX_SET, prm);
}

void media_mix_leave(struct media_stream *ms)
{
	media_mix_h **hp;
	void **argp;
	int err;

	if (!ms)
		return;
	hp = media_stream_mix_slot(ms, &argp);
	*hp = NULL;
	*argp = NULL;
	err = mix_cmd(ms, CMD_MIX_LEAVE, NULL);
	if (err && err != ENODEV)
		log_err("media: cannot take stream out of its room: %s\n", strerror(err));
}

uint32_t media_mix_member_id(const struct media_stream *ms)
{
	const struct mstream *st = ms ? media_stream_state(ms) : NULL;

	/* Set when the stream is made, never changed: no race with its worker. */
	return st ? st->id : 0;
}

unsigned media_mix_energy(const struct media_stream *ms)
{
	const struct mstream *st = ms ? media_stream_state(ms) : NULL;

	return st ? atomic_load_explicit(&st->stats.energy, memory_order_relaxed) : 0;
}

void media_mix_up(struct media_stream *ms, bool talking, unsigned energy)
{
	media_mix_h **hp;
	void **argp;

	hp = media_stream_mix_slot(ms, &argp);
	if (*hp)
		(*hp)(ms, talking, energy, *argp);
}
