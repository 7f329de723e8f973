/*
 * sndfile.c - sound files for media_play: read whole with libsndfile, mixed to
 * mono and resampled to 8 kHz (windowed sinc) before a worker ever sees them.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sndfile.h>
#include "core/log.h"
#include "media/play_int.h"

/* Zero crossings of the sinc on each side (at the cut-off): quality vs. cost. */
#define SINC_ZEROS   16
#define READ_CHUNK   4096

static int16_t to_s16(double x)
{
	long v = lrint(x * 32767.0);

	return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}

/* Blackman window over |t| <= 1. */
static double blackman(double t)
{
	return 0.42 + 0.5 * cos(M_PI * t) + 0.08 * cos(2.0 * M_PI * t);
}

double sound_sinc(double x, double fc, double half)
{
	double h = fabs(x) < 1e-9 ? fc : sin(M_PI * fc * x) / (M_PI * x);

	return h * blackman(x / half);
}

int sound_resample(const float *in, size_t n, unsigned in_rate, int16_t **outp, size_t *outn)
{
	double ratio, fc, half;
	int16_t *out;
	size_t on, i;

	if (!in_rate || !outp || !outn)
		return EINVAL;
	ratio = (double)in_rate / PLAY_RATE;               /* input samples per output */
	on = (size_t)((double)n / ratio);
	out = malloc((on ? on : 1) * sizeof(*out));
	if (!out)
		return ENOMEM;
	if (in_rate == PLAY_RATE) {
		for (i = 0; i < on; i++)
			out[i] = to_s16(in[i]);
		goto done;
	}
	/*
	 * h(x) = sin(pi fc x) / (pi x) is a low-pass at fc/2 cycles per input
	 * sample; fc/2 = SOUND_CUTOFF of the lower of the two rates.
	 */
	fc = 2.0 * SOUND_CUTOFF * (ratio > 1.0 ? 1.0 / ratio : 1.0);
	half = SINC_ZEROS / fc;                               /* input samples each side */
	for (i = 0; i < on; i++) {
		double t = (double)i * ratio, acc = 0.0, wsum = 0.0;
		long k0 = (long)ceil(t - half), k1 = (long)floor(t + half), k;

		if (k0 < 0)
			k0 = 0;
		if (k1 > (long)n - 1)
			k1 = (long)n - 1;
		for (k = k0; k <= k1; k++) {
			double h = sound_sinc(t - (double)k, fc, half);

			acc += h * in[k];
			wsum += h;
		}
		/* Normalised by the taps used: no droop at the file's edges. */
		out[i] = to_s16(wsum > 1e-9 ? acc / wsum : 0.0);
	}
 done:
	*outp = out;
	*outn = on;
	return 0;
}

int sound_load(const char *path, int16_t **pcmp, size_t *lenp)
{
	SF_INFO info = {0};
	SNDFILE *sf;
	float *mono = NULL, *chunk = NULL;
	size_t n = 0, cap;
	sf_count_t got, frames;
	int err = 0;

	if (!path || !pcmp || !lenp)
		return EINVAL;
	if (access(path, R_OK))
		return errno == ENOENT ? ENOENT : EACCES;
	sf = sf_open(path, SFM_READ, &info);
	if (!sf) {
		log_warn("media: cannot read sound file %s: %s\n", path, sf_strerror(NULL));
		return ENOTSUP;
	}
	if (info.channels < 1 || info.samplerate < 1000 || info.samplerate > 384000) {
		err = ENOTSUP;
		goto out;
	}
	/* The longest input that still fits PLAY_MAX_SAMPLES once at 8 kHz. */
	frames = (sf_count_t)((double)PLAY_MAX_SAMPLES * info.samplerate / PLAY_RATE);
	if (info.frames > frames)
		log_warn("media: %s is longer than %u s, cut there\n", path,
			 PLAY_MAX_SAMPLES / PLAY_RATE);
	cap = (size_t)(info.frames > 0 && info.frames < frames ? info.frames : READ_CHUNK);
	mono = malloc(cap * sizeof(*mono));
	chunk = malloc((size_t)READ_CHUNK * (size_t)info.channels * sizeof(*chunk));
	if (!mono || !chunk) {
		err = ENOMEM;
		goto out;
	}
	while ((sf_count_t)n < frames &&
	       (got = sf_readf_float(sf, chunk, READ_CHUNK)) > 0) {
		sf_count_t i;

		if ((sf_count_t)n + got > frames)
			got = frames - (sf_count_t)n;
		if (n + (size_t)got > cap) {
			float *nm;

			cap = (n + (size_t)got) * 2;
			nm = realloc(mono, cap * sizeof(*mono));
			if (!nm) {
				err = ENOMEM;
				goto out;
			}
			mono = nm;
		}
		for (i = 0; i < got; i++) {
			double sum = 0;
			int c;

			for (c = 0; c < info.channels; c++)
				sum += chunk[i * info.channels + c];
			mono[n++] = (float)(sum / info.channels);
		}
	}
	err = sound_resample(mono, n, (unsigned)info.samplerate, pcmp, lenp);
 out:
	free(mono);
	free(chunk);
	sf_close(sf);
	return err;
}
