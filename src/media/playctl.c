/*
 * playctl.c - file control of a running player: FreeSWITCH's file commands
 * parsed (pause, seek, restart, volume, speed, stop, truncate) and applied on
 * the worker between two frames, and the position it publishes (play status).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "media/play.h"
#include "media/play_int.h"

/*
 * switch_change_sln_volume's factors for steps 1..4 up and down, in Q12
 * (1.3, 2.3, 3.3, 4.3 and 0.8, 0.6, 0.4, 0.2).
 */
static const int32_t vol_up[MEDIA_FCTL_VOL_MAX] = {5325, 9421, 13517, 17613};
static const int32_t vol_down[MEDIA_FCTL_VOL_MAX] = {3277, 2458, 1638, 819};

/* Values beyond a day (in ms) or any sane step count mean the same as a day. */
#define VALUE_MAX 86400000L

/* "+N", "-N" (a bare sign: `dflt` that way) or "N", as atoi reads it. */
static void parse_value(const char *p, int dflt, bool *rel, int *val)
{
	long v = strtol(p, NULL, 10);

	*rel = *p == '+' || *p == '-';
	*val = (int)(v > VALUE_MAX ? VALUE_MAX : v < -VALUE_MAX ? -VALUE_MAX : v);
	if (*rel && !*val)
		*val = *p == '+' ? dflt : -dflt;
}

int media_fctl_parse(const char *cmd, struct media_fctl_cmd *fc)
{
	const char *p;
	bool rel;

	if (!fc)
		return EINVAL;
	fc->op = MEDIA_FCTL_NONE;
	fc->val = 0;
	if (!cmd || !*cmd || !strcmp(cmd, "true") || !strcmp(cmd, "undefined"))
		return 0;
	p = strchr(cmd, ':');
	/* switch_ivr_process_fh compares prefixes: "speedy:1" is a speed command. */
	if (!strncasecmp(cmd, "speed", 5) || !strncasecmp(cmd, "volume", 6)) {
		bool speed = !strncasecmp(cmd, "speed", 5);

		if (!p)
			return EINVAL;
		parse_value(p + 1, 1, &rel, &fc->val);
		fc->op = speed ? (rel ? MEDIA_FCTL_SPEED : MEDIA_FCTL_SPEED_TO)
			       : (rel ? MEDIA_FCTL_VOLUME : MEDIA_FCTL_VOLUME_TO);
		return 0;
	}
	if (!strncasecmp(cmd, "seek", 4)) {
		/* "seek" alone does nothing, and is no error. */
		if (p) {
			parse_value(p + 1, 1000, &rel, &fc->val);
			fc->op = rel ? MEDIA_FCTL_SEEK : MEDIA_FCTL_SEEK_TO;
			if (!rel && fc->val < 0)
				fc->val = 0;
		}
		return 0;
	}
	if (!strcasecmp(cmd, "pause"))
		fc->op = MEDIA_FCTL_PAUSE;
	else if (!strcasecmp(cmd, "restart"))
		fc->op = MEDIA_FCTL_RESTART;
	else if (!strcasecmp(cmd, "stop"))
		fc->op = MEDIA_FCTL_STOP;
	else if (!strcasecmp(cmd, "truncate"))
		fc->op = MEDIA_FCTL_TRUNCATE;
	else
		return EINVAL;
	return 0;
}

/* Steps are kept in -4..4; val may be anything an int holds. */
static int clamp_vol(int cur, int val)
{
	int64_t v = (int64_t)cur + val;

	return v > MEDIA_FCTL_VOL_MAX ? MEDIA_FCTL_VOL_MAX :
	       v < -MEDIA_FCTL_VOL_MAX ? -MEDIA_FCTL_VOL_MAX : (int)v;
}

/* switch_ivr_play_file keeps speed in -2..2. */
static int clamp_speed(int cur, int val)
{
	int v = clamp_vol(cur, val);

	return v > 2 ? 2 : v < -2 ? -2 : v;
}

/* Move within the current source; past its end it ends (the next one follows). */
static void seek_to(struct mplay *p, int64_t at)
{
	struct mplay_src *s;

	if (p->cur >= p->nsrc)
		return;
	s = &p->src[p->cur];
	if (at < 0)
		at = 0;
	p->pos = (uint64_t)at > s->len ? s->len : (uint64_t)at;
	p->sp_on = false;
	if (s->kind == MPLAY_TONE)
		tone_seek(s->tone, &p->tpos, p->pos);
}

void mplay_control(struct mplay *p, int op, int val)
{
	switch (op) {
	case MEDIA_FCTL_PAUSE:
		p->paused = !p->paused;
		break;
	case MEDIA_FCTL_SEEK:
		seek_to(p, (int64_t)p->pos + (int64_t)val * (p->rate / 1000));
		break;
	case MEDIA_FCTL_SEEK_TO:
		seek_to(p, (int64_t)val * (p->rate / 1000));
		break;
	case MEDIA_FCTL_RESTART:
		p->speed = 0;
		seek_to(p, 0);
		break;
	case MEDIA_FCTL_VOLUME:
		p->vol = clamp_vol(p->vol, val);
		break;
	case MEDIA_FCTL_VOLUME_TO:
		p->vol = clamp_vol(0, val);
		break;
	case MEDIA_FCTL_SPEED:
		p->speed = clamp_speed(p->speed, val);
		break;
	case MEDIA_FCTL_SPEED_TO:
		p->speed = clamp_speed(0, val);
		break;
	case MEDIA_FCTL_STOP:
	case MEDIA_FCTL_TRUNCATE:
		/* The next frame finds no source left and reports the end. */
		p->paused = false;
		p->cur = p->nsrc;
		break;
	default:
		break;
	}
	/* Back at normal speed, a later change starts afresh from what played. */
	if (!p->speed)
		p->sp_on = false;
}

void mplay_volume(const struct mplay *p, int16_t *pcm, unsigned n)
{
	int32_t g;
	unsigned i;

	if (!p->vol)
		return;
	g = p->vol > 0 ? vol_up[p->vol - 1] : vol_down[-p->vol - 1];
	for (i = 0; i < n; i++) {
		int32_t v = (int32_t)pcm[i] * g / 4096;

		pcm[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
	}
}

/*
 * Source samples per output sample in Q16, for speed steps -2..2: FreeSWITCH
 * makes olen samples into olen * (1 - step / 4), so 1 / (1 - step / 4).
 */
static const uint32_t speed_step[5] = {43691, 52429, 65536, 87381, 131072};

bool mplay_read_speed(struct mplay *p, int16_t *out, unsigned n)
{
	uint32_t step = speed_step[p->speed + 2];
	int16_t *b = p->sp_in;
	bool more = true;
	uint64_t end;
	unsigned need, i;

	/*
	 * b[0] and b[1] are the two source samples around where the next output
	 * sample falls (sp_phase past b[0]); what this frame takes follows them.
	 * Starting from the last sample played keeps the change seamless.
	 */
	if (!p->sp_on) {
		b[0] = p->out[p->flen - 1];
		more = mplay_read(p, &b[1], 1);
		p->sp_phase = 0;
		p->sp_on = true;
	}
	end = p->sp_phase + (uint64_t)n * step;
	need = (unsigned)(end >> 16);
	if (more)
		more = mplay_read(p, b + 2, need);
	else
		memset(b + 2, 0, need * sizeof(*b));
	for (i = 0; i < n; i++) {
		uint64_t x = p->sp_phase + (uint64_t)i * step;
		unsigned k = (unsigned)(x >> 16);
		int32_t f = (int32_t)(x & 0xffff);

		out[i] = (int16_t)(b[k] + (((int32_t)b[k + 1] - b[k]) * f >> 16));
	}
	b[0] = b[need];
	b[1] = b[need + 1];
	p->sp_phase = (uint32_t)(end & 0xffff);
	return more;
}

void mplay_stat_release(struct mplay_stat *st)
{
	if (st && atomic_fetch_sub(&st->refs, 1) == 1)
		free(st);
}

void mplay_stat_update(struct mplay *p)
{
	const struct mplay_src *s;
	unsigned per_ms = p->rate / 1000;

	if (!p->stat)
		return;
	/* Past the last source: where the last one ended. */
	s = &p->src[p->cur < p->nsrc ? p->cur : p->nsrc - 1];
	atomic_store_explicit(&p->stat->pos_ms, (p->cur < p->nsrc ? p->pos : s->len) / per_ms,
			      memory_order_relaxed);
	atomic_store_explicit(&p->stat->len_ms, s->len == UINT64_MAX ? UINT64_MAX :
			      s->len / per_ms, memory_order_relaxed);
	atomic_store_explicit(&p->stat->native, s->native, memory_order_relaxed);
}
