/*
 * resample.c - streaming polyphase resampling between 8 kHz and a room's rate
 * (an integer multiple of it) for mix.c: one 20 ms frame per call, no allocation.
 */
#include <math.h>
#include <string.h>
#include "media/media_int.h"
#include "media/play_int.h"

void resample_init(struct mrs_kernel *k, unsigned up)
{
	double fc, half, c, sum = 0.0, h[MRS_LEN_MAX];
	unsigned i;

	memset(k, 0, sizeof(*k));
	if (up < 1 || up > MIX_MAX_UP)
		up = 1;
	k->up = up;
	k->len = MRS_TAPS * up;
	/*
	 * One low-pass at the high rate serves both ways: it cuts at
	 * SOUND_CUTOFF of 8 kHz, fc/2 cycles per high-rate sample, like the
	 * file resampler (sndfile.c) whose kernel it is.
	 */
	fc = 2.0 * SOUND_CUTOFF / up;
	half = k->len / 2.0;
	c = (k->len - 1) / 2.0;
	for (i = 0; i < k->len; i++) {
		h[i] = sound_sinc((double)i - c, fc, half);
		sum += h[i];
	}
	for (i = 0; i < k->len; i++) {
		k->down[i] = (float)(h[i] / sum);
		/* Zero-stuffing loses a factor `up` of the level: each phase sums to 1. */
		k->upk[i] = (float)(h[i] * up / sum);
	}
}

static inline int16_t to16(float v)
{
	long x = lrintf(v);

	return (int16_t)(x > 32767 ? 32767 : x < -32768 ? -32768 : x);
}

void resample_up(const struct mrs_kernel *k, struct mrs_up *s, const int16_t *in,
		 int16_t *out)
{
	float *x = s->buf;                     /* MRS_TAPS - 1 history, then the frame */
	unsigned m, p, j, L = k->up;

	for (m = 0; m < MEDIA_FRAME; m++)
		x[MRS_TAPS - 1 + m] = in ? in[m] : 0.0f;
	for (m = 0; m < MEDIA_FRAME; m++) {
		const float *xm = x + MRS_TAPS - 1 + m;

		for (p = 0; p < L; p++) {
			const float *h = k->upk + p;
			float acc = 0.0f;

			for (j = 0; j < MRS_TAPS; j++)
				acc += h[j * L] * xm[-(int)j];
			out[m * L + p] = to16(acc);
		}
	}
	memmove(x, x + MEDIA_FRAME, (MRS_TAPS - 1) * sizeof(*x));
}

void resample_down(const struct mrs_kernel *k, struct mrs_down *s, const int16_t *in,
		   int16_t *out)
{
	unsigned L = k->up, n = MEDIA_FRAME * L, hist = k->len - 1, m, i;
	float *x = s->buf;                     /* len - 1 history, then the frame */

	for (i = 0; i < n; i++)
		x[hist + i] = in ? in[i] : 0.0f;
	for (m = 0; m < MEDIA_FRAME; m++) {
		const float *xm = x + hist + m * L;
		float acc = 0.0f;

		for (i = 0; i < k->len; i++)
			acc += k->down[i] * xm[-(int)i];
		out[m] = to16(acc);
	}
	memmove(x, x + n, hist * sizeof(*x));
}

void resample_down_copy(struct mrs_down *dst, const struct mrs_down *src,
			const struct mrs_kernel *k)
{
	memcpy(dst->buf, src->buf, (k->len - 1) * sizeof(*dst->buf));
}
