/*
 * sndfile.c - sound files for media_play: read whole with libsndfile, mixed to
 * mono and resampled to the stream's rate (windowed sinc) before a worker
 * ever sees them.
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
/* Largest weight table of the tabled resampler (doubles): 2 MB. */
#define TABLE_MAX    (1u << 18)

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

static unsigned gcd(unsigned a, unsigned b)
{
	while (b) {
		unsigned t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/*
 * Output i sits at t = i * p / q input samples: its taps' offsets repeat
 * with i mod q, so for the usual rates (8/16/44.1/48 kHz: q <= 160) every
 * weight is computed once, into a table, instead of a sine per tap.
 */
static int resample_table(const float *in, size_t n, unsigned p, unsigned q, double fc,
			  double half, int16_t *out, size_t on)
{
	long J = (long)floor(half) + 1, ntap = 2 * J + 2, j;
	double *w;
	size_t i;

	if ((uint64_t)q * (uint64_t)ntap > TABLE_MAX)
		return E2BIG;
	w = malloc((size_t)q * (size_t)ntap * sizeof(*w));
	if (!w)
		return ENOMEM;
	for (i = 0; i < q; i++) {
		for (j = 0; j < ntap; j++) {
			double x = (double)i / q + (double)(J - j);

			/* Outside the window: not a tap (the direct form's bounds). */
			w[i * ntap + j] = fabs(x) <= half ? sound_sinc(x, fc, half) : 0.0;
		}
	}
	for (i = 0; i < on; i++) {
		uint64_t at = (uint64_t)i * p;
		long ti = (long)(at / q), k0 = ti - J;
		const double *wr = w + (at % q) * (uint64_t)ntap;
		double acc = 0.0, wsum = 0.0;

		for (j = k0 < 0 ? -k0 : 0; j < ntap && k0 + j < (long)n; j++) {
			acc += wr[j] * in[k0 + j];
			wsum += wr[j];
		}
		/* Normalised by the taps used: no droop at the file's edges. */
		out[i] = to_s16(wsum > 1e-9 ? acc / wsum : 0.0);
	}
	free(w);
	return 0;
}

int sound_resample(const float *in, size_t n, unsigned in_rate, unsigned out_rate,
		   int16_t **outp, size_t *outn)
{
	double ratio, fc, half;
	unsigned g;
	int16_t *out;
	size_t on, i;
	int err;

	if (!in_rate || !out_rate || !outp || !outn)
		return EINVAL;
	ratio = (double)in_rate / out_rate;                /* input samples per output */
	on = (size_t)((double)n / ratio);
	out = malloc((on ? on : 1) * sizeof(*out));
	if (!out)
		return ENOMEM;
	if (in_rate == out_rate) {
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
	g = gcd(in_rate, out_rate);
	err = resample_table(in, n, in_rate / g, out_rate / g, fc, half, out, on);
	if (err == ENOMEM) {
		free(out);
		return err;
	}
	if (!err)
		goto done;
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
		out[i] = to_s16(wsum > 1e-9 ? acc / wsum : 0.0);
	}
 done:
	*outp = out;
	*outn = on;
	return 0;
}

/* Open a file libsndfile reads and whose format a player can take. */
static int open_checked(const char *path, SNDFILE **sfp, SF_INFO *info)
{
	SNDFILE *sf;

	if (access(path, R_OK))
		return errno == ENOENT ? ENOENT : EACCES;
	memset(info, 0, sizeof(*info));
	sf = sf_open(path, SFM_READ, info);
	if (!sf) {
		log_warn("media: cannot read sound file %s: %s\n", path, sf_strerror(NULL));
		return ENOTSUP;
	}
	if (info->channels < 1 || info->samplerate < 1000 || info->samplerate > 384000) {
		sf_close(sf);
		return ENOTSUP;
	}
	*sfp = sf;
	return 0;
}

int sound_probe(const char *path, unsigned rate, size_t *lenp, unsigned *nativep)
{
	SF_INFO info;
	SNDFILE *sf;
	sf_count_t frames;
	int err;

	if (!path || !rate || !lenp)
		return EINVAL;
	err = open_checked(path, &sf, &info);
	if (err)
		return err;
	frames = (sf_count_t)PLAY_MAX_SECONDS * info.samplerate;
	if (info.frames >= 0 && info.frames < frames)
		frames = info.frames;
	/* sound_resample's count for that many input samples. */
	*lenp = (size_t)((double)frames / ((double)info.samplerate / rate));
	if (nativep)
		*nativep = (unsigned)info.samplerate;
	sf_close(sf);
	return 0;
}

int sound_load(const char *path, unsigned rate, int16_t **pcmp, size_t *lenp)
{
	SF_INFO info;
	SNDFILE *sf;
	float *mono = NULL, *chunk = NULL;
	size_t n = 0, cap;
	sf_count_t got, frames;
	int err = 0;

	if (!path || !rate || !pcmp || !lenp)
		return EINVAL;
	err = open_checked(path, &sf, &info);
	if (err)
		return err;
	frames = (sf_count_t)PLAY_MAX_SECONDS * info.samplerate;
	if (info.frames > frames)
		log_warn("media: %s is longer than %u s, cut there\n", path, PLAY_MAX_SECONDS);
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
	err = sound_resample(mono, n, (unsigned)info.samplerate, rate, pcmp, lenp);
 out:
	free(mono);
	free(chunk);
	sf_close(sf);
	return err;
}
