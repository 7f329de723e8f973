/*
 * tone.c - tone_stream:// sources: FreeSWITCH's teletone markup (TGML) parsed
 * into segments, and a table-driven generator the media worker runs per frame.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "media/play_int.h"

#define SINE_BITS     10
#define SINE_SIZE     (1u << SINE_BITS)
/* libteletone's default level: -7 dB below full scale for each frequency. */
#define DEFAULT_DB    (-7.0)
#define MAX_MS        3600000u           /* one hour per on or off period */

static int16_t sine[SINE_SIZE];
static pthread_once_t sine_once = PTHREAD_ONCE_INIT;

static void sine_init(void)
{
	unsigned i;

	for (i = 0; i < SINE_SIZE; i++)
		sine[i] = (int16_t)lrint(32767.0 * sin(2.0 * M_PI * i / SINE_SIZE));
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* A whole number (ms or loop count) that must fill [s, end) but for blanks. */
static int parse_int(const char *s, const char *end, long lo, long hi, long *v)
{
	char *e;

	s = skip_ws(s);
	if (s >= end)
		return EINVAL;
	*v = strtol(s, &e, 10);
	while (e < end && (*e == ' ' || *e == '\t'))
		e++;
	if (e != end || *v < lo || *v > hi)
		return EINVAL;
	return 0;
}

/* "on,off,f1[,f2...]" between the brackets. */
static int parse_seg(const char *s, const char *end, double db, unsigned reps,
		     unsigned rate, struct tone_seg *seg)
{
	const char *field = s;
	long on = 0, off = 0;
	unsigned idx = 0;
	int err;

	memset(seg, 0, sizeof(*seg));
	while (field <= end) {
		const char *comma = memchr(field, ',', (size_t)(end - field));
		const char *fe = comma ? comma : end;

		if (idx == 0) {
			err = parse_int(field, fe, 0, MAX_MS, &on);
		} else if (idx == 1) {
			err = parse_int(field, fe, 0, MAX_MS, &off);
		} else {
			/* FreeSWITCH writes dual tones "350,440"; "350+440" is seen too. */
			const char *f = field;

			err = 0;
			while (!err && f < fe) {
				char *e;
				double hz = strtod(skip_ws(f), &e);

				e = (char *)skip_ws(e);
				if (e == f || (e < fe && *e != '+') || hz < 0 || hz > 4000)
					err = EINVAL;
				else if (hz > 0 && seg->nfreq < TONE_MAX_FREQS)
					seg->inc[seg->nfreq++] = (uint32_t)llrint(hz * 4294967296.0 /
										  rate);
				f = e < fe ? e + 1 : fe;
			}
		}
		if (err)
			return err;
		idx++;
		if (!comma)
			break;
		field = comma + 1;
	}
	if (idx < 2)
		return EINVAL;
	seg->on = (uint32_t)on * (rate / 1000);
	seg->off = (uint32_t)off * (rate / 1000);
	seg->reps = reps ? reps : 1;
	seg->amp = (int16_t)lrint(32767.0 * pow(10.0, db / 20.0));
	return 0;
}

int tone_parse(const char *tgml, unsigned rate, struct tone_prog **progp)
{
	struct tone_prog *tp;
	const char *p, *tok;
	unsigned nseg = 0, reps = 0;
	double db = DEFAULT_DB;
	uint64_t total = 0;
	long v = 1;
	int err = 0;

	if (!tgml || !progp || rate < 1000 || rate % 1000 || rate > PLAY_RATE * PLAY_MAX_UP)
		return EINVAL;
	pthread_once(&sine_once, sine_init);
	for (p = tgml; *p; p++)
		nseg += *p == '(';
	if (!nseg)
		return EINVAL;
	tp = calloc(1, sizeof(*tp) + nseg * sizeof(tp->seg[0]));
	if (!tp)
		return ENOMEM;
	tp->loops = 1;
	for (tok = tgml; !err && tok && *tok; ) {
		const char *semi = strchr(tok, ';');
		const char *end = semi ? semi : tok + strlen(tok);
		const char *s = skip_ws(tok);

		while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (s == end) {
			/* an empty token: "a;;b", a trailing ';' */
		} else if (*s == '%' || *s == '(') {
			const char *open = *s == '%' ? s + 1 : s;
			const char *close = end - 1;

			if (*open != '(' || *close != ')' || close <= open)
				err = EINVAL;
			else
				err = parse_seg(open + 1, close, db, reps, rate,
						&tp->seg[tp->nseg++]);
			reps = 0;
		} else if (!strncasecmp(s, "loops=", 6)) {
			err = parse_int(s + 6, end, -1, 1000000, &v);
			tp->loops = (int)v;
		} else if (s[0] == 'L' && s[1] == '=') {
			err = parse_int(s + 2, end, -1, 1000000, &v);
			tp->loops = (int)v;
		} else if (s[0] == 'l' && s[1] == '=') {
			err = parse_int(s + 2, end, 1, 1000000, &v);
			reps = (unsigned)v;
		} else if (s[0] == 'v' && s[1] == '=') {
			err = parse_int(s + 2, end, -63, 0, &v);
			db = (double)v;
		} else if (strchr("rcdDw<>+", s[0]) && s[1] == '=') {
			/* rate, channels, default duration, wait, volume ramps: not ours */
		} else {
			err = EINVAL;
		}
		tok = semi ? semi + 1 : NULL;
	}
	/* loops=0 means once, as in FreeSWITCH's tone_stream. */
	if (tp->loops == 0)
		tp->loops = 1;
	for (unsigned i = 0; i < tp->nseg; i++)
		total += ((uint64_t)tp->seg[i].on + tp->seg[i].off) * tp->seg[i].reps;
	if (!err && (!tp->nseg || !total))
		err = EINVAL;
	if (err) {
		free(tp);
		return err;
	}
	*progp = tp;
	return 0;
}

uint64_t tone_length(const struct tone_prog *tp)
{
	uint64_t total = 0;
	unsigned i;

	if (tp->loops < 0)
		return UINT64_MAX;
	for (i = 0; i < tp->nseg; i++)
		total += ((uint64_t)tp->seg[i].on + tp->seg[i].off) * tp->seg[i].reps;
	/* A million loops of an hour: longer than anyone listens, not a wrap. */
	if (total > UINT64_MAX / (uint64_t)tp->loops)
		return UINT64_MAX;
	return total * (uint64_t)tp->loops;
}

static void synth(const struct tone_seg *seg, uint32_t *phase, int16_t *out, unsigned n)
{
	unsigned i, f;

	for (i = 0; i < n; i++) {
		int32_t acc = 0;

		for (f = 0; f < seg->nfreq; f++) {
			acc += (int32_t)sine[phase[f] >> (32 - SINE_BITS)] * seg->amp / 32768;
			phase[f] += seg->inc[f];
		}
		out[i] = (int16_t)(acc > 32767 ? 32767 : acc < -32768 ? -32768 : acc);
	}
}

unsigned tone_gen(const struct tone_prog *tp, struct tone_pos *pos, int16_t *out, unsigned n)
{
	unsigned done = 0;

	while (done < n) {
		const struct tone_seg *seg;
		uint32_t total, k;

		if (pos->seg >= tp->nseg) {
			if (tp->loops >= 0 && ++pos->loop >= tp->loops)
				break;
			pos->seg = pos->rep = 0;
			pos->at = 0;
		}
		seg = &tp->seg[pos->seg];
		total = seg->on + seg->off;
		if (pos->at >= total) {
			pos->at = 0;
			memset(pos->phase, 0, sizeof(pos->phase));
			if (++pos->rep >= seg->reps) {
				pos->seg++;
				pos->rep = 0;
			}
			continue;
		}
		if (pos->at < seg->on) {
			k = seg->on - pos->at;
			if (k > n - done)
				k = n - done;
			synth(seg, pos->phase, out + done, k);
		} else {
			k = total - pos->at;
			if (k > n - done)
				k = n - done;
			memset(out + done, 0, k * sizeof(*out));
		}
		pos->at += k;
		done += k;
	}
	return done;
}

void tone_seek(const struct tone_prog *tp, struct tone_pos *pos, uint64_t at)
{
	uint64_t loop_len = 0;
	unsigned i, f;

	memset(pos, 0, sizeof(*pos));
	for (i = 0; i < tp->nseg; i++)
		loop_len += ((uint64_t)tp->seg[i].on + tp->seg[i].off) * tp->seg[i].reps;
	if (!loop_len)
		return;
	/* tone_gen counts whole plays in `loop`; a finite program ends by s->len first. */
	pos->loop = (int)(at / loop_len > INT32_MAX ? INT32_MAX : at / loop_len);
	at %= loop_len;
	for (i = 0; i < tp->nseg; i++) {
		const struct tone_seg *seg = &tp->seg[i];
		uint64_t total = (uint64_t)seg->on + seg->off;

		if (at >= total * seg->reps) {
			at -= total * seg->reps;
			continue;
		}
		pos->seg = i;
		pos->rep = (unsigned)(at / total);
		pos->at = (uint32_t)(at % total);
		/* Each repetition starts at phase 0 (tone_gen): the phase is inc times the time in. */
		for (f = 0; f < seg->nfreq; f++)
			pos->phase[f] = seg->inc[f] *
				(pos->at < seg->on ? pos->at : seg->on);
		return;
	}
}
