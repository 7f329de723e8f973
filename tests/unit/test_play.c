/*
 * test_play.c - playing and recording: TGML parsing and tone output, the
 * resampler, sound files through libsndfile, the player's frames, the
 * recorder ring, and end to end in the process: a worker plays into a stream
 * whose phone is a UDP socket, and records what that phone sends.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <re.h>
#include <sndfile.h>
#include "check.h"
#include "core/loop.h"
#include "media/g711.h"
#include "media/media.h"
#include "media/play.h"
#include "media/play_int.h"
#include "media/rtp.h"

#define PORT_LO 43000
#define PORT_HI 43999

static char tmpdir[64];

/* Power at `hz` (Goertzel) in samples at `rate`, normalised by length. */
static double power_at_rate(const int16_t *x, size_t n, double hz, double rate)
{
	double k = 2 * cos(2 * M_PI * hz / rate), s1 = 0, s2 = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		double s = x[i] + k * s1 - s2;

		s2 = s1;
		s1 = s;
	}
	return (s1 * s1 + s2 * s2 - k * s1 * s2) / (double)n;
}

static double power_at(const int16_t *x, size_t n, double hz)
{
	return power_at_rate(x, n, hz, 8000.0);
}

static double rms(const int16_t *x, size_t n)
{
	double e = 0;
	size_t i;

	for (i = 0; i < n; i++)
		e += (double)x[i] * x[i];
	return n ? sqrt(e / (double)n) : 0;
}

/* `hz` stands out against the other candidates by at least 100:1. */
static bool dominant(const int16_t *x, size_t n, double hz)
{
	static const double others[] = {350, 440, 480, 620, 1000, 1400, 2000, 3000};
	double p = power_at(x, n, hz);
	size_t i;

	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (fabs(others[i] - hz) > 1 && power_at(x, n, others[i]) * 100 > p)
			return false;
	return p > 0;
}

/* ---- TGML ------------------------------------------------------------------- */

static void test_tgml(void)
{
	static const char *const bad[] = {"", "%(100)", "%(a,b,440)", "%(100,0,5000)",
		"%(0,0,400)", "garbage", "%(100,100,440", "L=x;%(100,0,440)", "v=5;%(1,0,1)",
		"100,100,440", "%(100,-5,440)"};
	struct tone_prog *tp = NULL;
	size_t i;

	CHECK_INT(tone_parse("%(1000,0,1000)", PLAY_RATE, &tp), 0);
	if (tp) {
		CHECK_INT(tp->nseg, 1);
		CHECK_INT(tp->seg[0].on, 8000);
		CHECK_INT(tp->seg[0].off, 0);
		CHECK_INT(tp->seg[0].nfreq, 1);
		CHECK_INT(tp->loops, 1);
		CHECK_INT(tone_length(tp), 8000);
		/* libteletone's -7 dB */
		CHECK(tp->seg[0].amp > 14500 && tp->seg[0].amp < 14700);
	}
	free(tp);
	tp = NULL;
	CHECK_INT(tone_parse("%(100,100,350,440)", PLAY_RATE, &tp), 0);
	CHECK_INT(tp ? tp->seg[0].nfreq : 0, 2);
	CHECK_INT(tp ? tone_length(tp) : 0, 1600);
	free(tp);
	tp = NULL;
	CHECK_INT(tone_parse("L=3;%(100,100,350)", PLAY_RATE, &tp), 0);
	CHECK_INT(tp ? tp->loops : 0, 3);
	CHECK_INT(tp ? tone_length(tp) : 0, 4800);
	free(tp);
	tp = NULL;
	CHECK_INT(tone_parse("%(100,0,1000);loops=2", PLAY_RATE, &tp), 0);
	CHECK_INT(tp ? tone_length(tp) : 0, 1600);
	free(tp);
	tp = NULL;
	CHECK_INT(tone_parse(" l=2 ; %(100,50,440) ;(200,0,480);", PLAY_RATE, &tp), 0);
	CHECK_INT(tp ? tp->nseg : 0, 2);
	CHECK_INT(tp ? tp->seg[0].reps : 0, 2);
	CHECK_INT(tp ? tp->seg[1].reps : 0, 1);
	CHECK_INT(tp ? tone_length(tp) : 0, (150 * 2 + 200) * 8);
	free(tp);
	tp = NULL;
	CHECK_INT(tone_parse("v=-20;%(10,0,1000)", PLAY_RATE, &tp), 0);
	CHECK(tp && tp->seg[0].amp > 3200 && tp->seg[0].amp < 3350);
	free(tp);
	tp = NULL;
	CHECK_INT(tone_parse("%(100,100,350+440)", PLAY_RATE, &tp), 0);
	CHECK_INT(tp ? tp->seg[0].nfreq : 0, 2);
	free(tp);
	tp = NULL;
	CHECK_INT(tone_parse("loops=-1;%(10,10,400)", PLAY_RATE, &tp), 0);
	CHECK(tp && tone_length(tp) == UINT64_MAX);
	free(tp);
	tp = NULL;
	/* FreeSWITCH's ring-back with its ramp settings, which we ignore */
	CHECK_INT(tone_parse("v=-7;>=2;+=.1;%(2000,4000,440,480)", PLAY_RATE, &tp), 0);
	CHECK_INT(tp ? tone_length(tp) : 0, 48000);
	free(tp);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tp = NULL;
		CHECK_INT(tone_parse(bad[i], PLAY_RATE, &tp), EINVAL);
		CHECK(!tp);
	}
}

static void test_tone_gen(void)
{
	struct tone_prog *tp = NULL;
	struct tone_pos pos = {0};
	int16_t out[2000];
	unsigned n;

	CHECK_INT(tone_parse("%(100,100,1000)", PLAY_RATE, &tp), 0);
	if (!tp)
		return;
	/* Odd chunk sizes: the segment boundaries fall inside a call. */
	n = tone_gen(tp, &pos, out, 333);
	n += tone_gen(tp, &pos, out + n, 2000 - n);
	CHECK_INT(n, 1600);
	CHECK(dominant(out, 800, 1000));
	CHECK(rms(out, 800) > 9000);
	CHECK(rms(out + 800, 800) == 0);
	CHECK_INT(tone_gen(tp, &pos, out, 160), 0);
	free(tp);

	tp = NULL;
	memset(&pos, 0, sizeof(pos));
	CHECK_INT(tone_parse("%(200,0,350,440)", PLAY_RATE, &tp), 0);
	if (!tp)
		return;
	CHECK_INT(tone_gen(tp, &pos, out, 1600), 1600);
	CHECK(power_at(out, 1600, 350) > 100 * power_at(out, 1600, 1000));
	CHECK(power_at(out, 1600, 440) > 100 * power_at(out, 1600, 1000));
	free(tp);
}

/* ---- resampling and files --------------------------------------------------- */

static void sine(float *x, size_t n, unsigned rate, double hz, double amp)
{
	size_t i;

	for (i = 0; i < n; i++)
		x[i] = (float)(amp * sin(2 * M_PI * hz * (double)i / rate));
}

static void test_resample(void)
{
	static const unsigned rates[] = {11025, 16000, 22050, 44100, 48000};
	float *in = malloc(48000 * sizeof(*in));
	int16_t *out = NULL;
	size_t n = 0, i;

	if (!in)
		return;
	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		sine(in, rates[i], rates[i], 1000, 0.5);
		out = NULL;
		CHECK_INT(sound_resample(in, rates[i], rates[i], PLAY_RATE, &out, &n), 0);
		CHECK_INT(n, 8000);
		if (!out)
			continue;
		CHECK(dominant(out + 100, 7800, 1000));
		/* 0.5 of full scale: RMS 0.5 / sqrt(2) */
		CHECK(fabs(rms(out + 100, 7800) - 0.5 * 32767 / sqrt(2)) < 300);
		free(out);
	}
	/* 6 kHz cannot exist at 8 kHz: filtered, not folded down to 2 kHz. */
	sine(in, 48000, 48000, 6000, 0.5);
	out = NULL;
	CHECK_INT(sound_resample(in, 48000, 48000, PLAY_RATE, &out, &n), 0);
	CHECK(out && rms(out + 100, 7800) < 0.01 * 0.5 * 32767);
	free(out);
	/* To a room's rate: 6 kHz of a 44.1 or 48 kHz input stays at 16 kHz ... */
	for (i = 0; i < 2; i++) {
		unsigned r = i ? 48000 : 44100;

		sine(in, r, r, 6000, 0.5);
		out = NULL;
		CHECK_INT(sound_resample(in, r, r, 16000, &out, &n), 0);
		CHECK_INT(n, 16000);
		CHECK(out && fabs(rms(out + 200, 15600) - 0.5 * 32767 / sqrt(2)) < 300);
		CHECK(out && power_at_rate(out + 200, 15600, 6000, 16000) >
		      1000 * power_at_rate(out + 200, 15600, 2000, 16000));
		free(out);
	}
	/* ... 8 kHz goes up to 48 kHz at its level, nothing above 3.6 kHz made ... */
	sine(in, 8000, 8000, 1000, 0.5);
	out = NULL;
	CHECK_INT(sound_resample(in, 8000, 8000, 48000, &out, &n), 0);
	CHECK_INT(n, 48000);
	CHECK(out && fabs(rms(out + 600, 46800) - 0.5 * 32767 / sqrt(2)) < 300);
	CHECK(out && power_at_rate(out + 600, 46800, 7000, 48000) * 1e6 <
	      power_at_rate(out + 600, 46800, 1000, 48000));
	free(out);
	/* ... and 9 kHz cannot exist at 16 kHz: filtered, not folded to 7 kHz. */
	sine(in, 48000, 48000, 9000, 0.5);
	out = NULL;
	CHECK_INT(sound_resample(in, 48000, 48000, 16000, &out, &n), 0);
	CHECK(out && rms(out + 200, 15600) < 0.01 * 0.5 * 32767);
	free(out);
	/* 8 kHz passes through. */
	sine(in, 8000, 8000, 440, 0.25);
	out = NULL;
	CHECK_INT(sound_resample(in, 8000, 8000, PLAY_RATE, &out, &n), 0);
	CHECK_INT(n, 8000);
	CHECK(out && out[20] == (int16_t)lrint(in[20] * 32767.0));
	free(out);
	free(in);
}

/* A WAV of `secs` seconds of `hz` at `rate` with `channels` channels. */
static void write_wav(const char *path, unsigned rate, int channels, double hz, double secs)
{
	SF_INFO info = {.samplerate = (int)rate, .channels = channels,
		.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
	size_t n = (size_t)(secs * rate), i;
	float *x = malloc(n * (size_t)channels * sizeof(*x));
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);

	CHECK(sf != NULL && x != NULL);
	if (sf && x) {
		for (i = 0; i < n * (size_t)channels; i++)
			x[i] = (float)(0.4 * sin(2 * M_PI * hz * (double)(i / (size_t)channels) / rate));
		sf_writef_float(sf, x, (sf_count_t)n);
	}
	if (sf)
		sf_close(sf);
	free(x);
}

static void test_sound_files(void)
{
	char path[128];
	int16_t *pcm = NULL;
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/stereo16k.wav", tmpdir);
	write_wav(path, 16000, 2, 440, 0.5);
	CHECK_INT(sound_load(path, PLAY_RATE, &pcm, &n), 0);
	CHECK_INT(n, 4000);
	CHECK(pcm && dominant(pcm + 100, 3800, 440));
	free(pcm);
	pcm = NULL;

	/* Decoded for a 16 kHz room: straight to its rate, 6 kHz kept. */
	snprintf(path, sizeof(path), "%s/six16k.wav", tmpdir);
	write_wav(path, 16000, 1, 6000, 0.5);
	CHECK_INT(sound_load(path, 16000, &pcm, &n), 0);
	CHECK_INT(n, 8000);
	CHECK(pcm && power_at_rate(pcm + 100, 7800, 6000, 16000) >
	      1000 * power_at_rate(pcm + 100, 7800, 2000, 16000));
	free(pcm);
	pcm = NULL;

	snprintf(path, sizeof(path), "%s/none.wav", tmpdir);
	CHECK_INT(sound_load(path, PLAY_RATE, &pcm, &n), ENOENT);
	snprintf(path, sizeof(path), "%s/junk.wav", tmpdir);
	f = fopen(path, "w");
	if (f) {
		fputs("this is not a sound file at all, not even close\n", f);
		fclose(f);
	}
	CHECK_INT(sound_load(path, PLAY_RATE, &pcm, &n), ENOTSUP);
}

/* ---- the player ----------------------------------------------------------- */

static void test_sound_path(void)
{
	char dir[128], path[160], *p = NULL;

	snprintf(dir, sizeof(dir), "%s/en/conference/8000", tmpdir);
	snprintf(path, sizeof(path), "%s/en", tmpdir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/en/conference", tmpdir);
	mkdir(path, 0755);
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/conf-alone.wav", dir);
	write_wav(path, 8000, 1, 1000, 0.1);
	snprintf(dir, sizeof(dir), "%s/en", tmpdir);

	/* FreeSWITCH's rate directory, found without being named */
	CHECK_INT(media_sound_path(&p, "conference/conf-alone.wav", dir), 0);
	CHECK_STR(p, path);
	p = mem_deref(p);
	/* and without the extension */
	CHECK_INT(media_sound_path(&p, "conference/conf-alone", dir), 0);
	CHECK_STR(p, path);
	p = mem_deref(p);
	CHECK_INT(media_sound_path(&p, path, "/nowhere"), 0);
	CHECK_STR(p, path);
	p = mem_deref(p);
	CHECK_INT(media_sound_path(&p, "conference/none.wav", dir), ENOENT);
	snprintf(path, sizeof(path), "%s/conference/none.wav", dir);
	CHECK_STR(p, path);
	mem_deref(p);
}

static void test_player(void)
{
	char src[256], path[128];
	struct mplay *p = NULL;
	int16_t frame[PLAY_FRAME], all[PLAY_FRAME * 40];
	uint64_t ms = 0;
	unsigned i, frames = 0;

	snprintf(path, sizeof(path), "%s/tone22k.wav", tmpdir);
	write_wav(path, 22050, 1, 2000, 0.2);
	snprintf(src, sizeof(src), "file_string://silence_stream://100!tone_stream://"
		 "%%(200,0,1000)!tone22k.wav");
	CHECK_INT(media_source_length(src, tmpdir, &ms), 0);
	CHECK_INT(ms, 500);
	CHECK_INT(mplay_build(&p, src, tmpdir, PLAY_RATE), 0);
	if (!p)
		return;
	CHECK_INT(p->nsrc, 3);
	while (frames < 40 && mplay_read(p, frame, PLAY_FRAME))
		memcpy(all + PLAY_FRAME * frames++, frame, sizeof(frame));
	/* 25 frames of sound; the 25th call says the sources ran out. */
	CHECK_INT(frames, 24);
	memcpy(all + PLAY_FRAME * frames, frame, sizeof(frame));
	CHECK(rms(all, 5 * PLAY_FRAME) == 0);
	CHECK(dominant(all + 5 * PLAY_FRAME, 10 * PLAY_FRAME, 1000));
	CHECK(dominant(all + 15 * PLAY_FRAME + 40, 10 * PLAY_FRAME - 80, 2000));
	for (i = 0; i < PLAY_FRAME; i++)
		frame[i] = 1;
	CHECK(!mplay_read(p, frame, PLAY_FRAME));
	CHECK(rms(frame, PLAY_FRAME) == 0);
	mplay_free(p);

	p = NULL;
	CHECK_INT(mplay_build(&p, "file_string://silence_stream://20!nosuch.wav", tmpdir, PLAY_RATE),
		  ENOENT);
	CHECK_INT(mplay_build(&p, "say:en number pronounced 5", tmpdir, PLAY_RATE), ENOENT);
	CHECK_INT(mplay_build(&p, "http://example.com/a.wav", tmpdir, PLAY_RATE), ENOTSUP);
	CHECK_INT(mplay_build(&p, "tone_stream://%(1,2", tmpdir, PLAY_RATE), EINVAL);
	CHECK_INT(mplay_build(&p, "silence_stream://x", tmpdir, PLAY_RATE), EINVAL);
	CHECK_INT(media_source_length("silence_stream://-1", NULL, &ms), 0);
	CHECK(ms == UINT64_MAX);
	CHECK(!p);
	CHECK_INT(mplay_build(&p, "silence_stream://20", tmpdir, 12000), EINVAL);
	CHECK(!p);
}

/* A player for a 16 kHz room: 320-sample frames, tones and silence timed at 16 kHz. */
static void test_player_rate(void)
{
	static int16_t all[PLAY_FRAME * 2 * 20];
	int16_t frame[PLAY_FRAME * 2];
	struct mplay *p = NULL;
	unsigned frames = 0;

	CHECK_INT(mplay_build(&p, "file_string://silence_stream://100!tone_stream://"
			      "%(200,0,3500)!six16k.wav", tmpdir, 16000), 0);
	if (!p)
		return;
	CHECK_INT(p->flen, 320);
	CHECK_INT(p->src[0].len, 1600);
	CHECK_INT(p->src[1].len, 3200);
	CHECK_INT(p->src[2].len, 8000);
	while (frames < 20 && mplay_read(p, frame, p->flen))
		memcpy(all + p->flen * frames++, frame, sizeof(frame));
	CHECK(rms(all, 5 * 320) == 0);
	CHECK(power_at_rate(all + 5 * 320, 10 * 320, 3500, 16000) >
	      1000 * power_at_rate(all + 5 * 320, 10 * 320, 1750, 16000));
	CHECK(power_at_rate(all + 15 * 320, 5 * 320, 6000, 16000) >
	      1000 * power_at_rate(all + 15 * 320, 5 * 320, 2000, 16000));
	/* Seeks count ms at the player's rate. */
	mplay_control(p, MEDIA_FCTL_SEEK, 100);
	CHECK_INT(p->pos, 1600 + 1600);
	mplay_free(p);

	/* Looping (hold music): 50 ms of tone, heard in every one of 20 frames. */
	p = NULL;
	CHECK_INT(mplay_build(&p, "tone_stream://%(50,0,1000)", tmpdir, PLAY_RATE), 0);
	if (!p)
		return;
	p->loop = true;
	for (frames = 0; frames < 20; frames++) {
		CHECK(mplay_read(p, frame, PLAY_FRAME));
		CHECK(dominant(frame, PLAY_FRAME, 1000));
	}
	mplay_free(p);
	/* A loop of nothing ends. */
	p = NULL;
	CHECK_INT(mplay_build(&p, "silence_stream://0", tmpdir, PLAY_RATE), 0);
	if (!p)
		return;
	p->loop = true;
	CHECK(!mplay_read(p, frame, PLAY_FRAME));
	mplay_free(p);
}

/* Frames p gives at its speed until it ends; the first `keep` into all. */
static unsigned speed_frames(struct mplay *p, int16_t *all, unsigned keep)
{
	int16_t frame[PLAY_FRAME];
	unsigned n = 0;
	bool more = true;

	while (more && n < 200) {
		more = mplay_read_speed(p, frame, PLAY_FRAME);
		if (n < keep)
			memcpy(all + PLAY_FRAME * n, frame, sizeof(frame));
		n++;
	}
	return n;
}

/* speed:N plays a step of a quarter faster or slower, pitch and all. */
static void test_player_speed(void)
{
	static int16_t all[PLAY_FRAME * 20];
	static const struct { int step; double hz; unsigned frames; } c[] = {
		{2, 2000, 25}, {1, 1333.3, 38}, {-1, 800, 63}, {-2, 666.7, 75},
	};
	struct mplay *p;
	unsigned i, n;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		p = NULL;
		CHECK_INT(mplay_build(&p, "tone_stream://%(1000,0,1000)", tmpdir, PLAY_RATE), 0);
		if (!p)
			return;
		mplay_control(p, MEDIA_FCTL_SPEED_TO, c[i].step);
		CHECK_INT(p->speed, c[i].step);
		n = speed_frames(p, all, 20);
		CHECK(n >= c[i].frames - 1 && n <= c[i].frames + 1);
		CHECK(power_at(all + PLAY_FRAME, 10 * PLAY_FRAME, c[i].hz) >
		      100 * power_at(all + PLAY_FRAME, 10 * PLAY_FRAME, 1000));
		mplay_free(p);
	}
	/* Steps stop at 2 either way; back at 0 the tone is as recorded. */
	p = NULL;
	CHECK_INT(mplay_build(&p, "tone_stream://%(1000,0,1000)", tmpdir, PLAY_RATE), 0);
	if (!p)
		return;
	mplay_control(p, MEDIA_FCTL_SPEED, 5);
	CHECK_INT(p->speed, 2);
	mplay_control(p, MEDIA_FCTL_SPEED, -9);
	CHECK_INT(p->speed, -2);
	CHECK(mplay_read_speed(p, all, PLAY_FRAME));
	CHECK(p->sp_on);
	mplay_control(p, MEDIA_FCTL_SPEED_TO, 0);
	CHECK(!p->sp_on);
	CHECK(mplay_read(p, all, PLAY_FRAME * 5));
	CHECK(dominant(all, PLAY_FRAME * 5, 1000));
	mplay_control(p, MEDIA_FCTL_SPEED, 1);
	mplay_control(p, MEDIA_FCTL_RESTART, 0);
	CHECK_INT(p->speed, 0);
	mplay_free(p);
}

static void test_ring(void)
{
	struct mrec *r = calloc(1, sizeof(*r) + 512 * sizeof(int16_t));
	int16_t in[160], out[600];
	unsigned i, k;
	size_t got;

	if (!r)
		return;
	r->cap = 512;
	atomic_init(&r->refs, 1);
	/* Wrap around many times: what comes out is what went in, in order. */
	for (k = 0; k < 20; k++) {
		for (i = 0; i < 160; i++)
			in[i] = (int16_t)(k * 160 + i);
		mrec_put(r, in, 160);
		mrec_put(r, NULL, 160);
		got = mrec_get(r, out, 600);
		CHECK_INT(got, 320);
		CHECK(out[0] == (int16_t)(k * 160) && out[159] == (int16_t)(k * 160 + 159));
		CHECK(out[160] == 0 && out[319] == 0);
	}
	/* Full: the frame that does not fit is counted, not written. */
	mrec_put(r, in, 160);
	mrec_put(r, in, 160);
	mrec_put(r, in, 160);
	mrec_put(r, in, 160);
	CHECK_INT(atomic_load(&r->dropped), 160);
	CHECK_INT(mrec_get(r, out, 600), 480);
	mrec_release(r);
}

/* ---- end to end ---------------------------------------------------------- */

static struct {
	int fd;
	struct sa dest;
	struct media_stream *ms;
	int16_t heard[8000 * 4];
	size_t nheard;
	unsigned ticks, done, done_err;
	uint64_t done_at, start_at;
	struct tmr tmr;
	uint16_t seq;
	uint32_t ts, n;
	bool send;
	uint64_t rec_samples;
	int rec_err;
	unsigned rec_done;
	char wav[128], wav2[128];
} P;

static void check_wav(const char *path, double secs_min, double secs_max);

static void phone_rx(int flags, void *arg)
{
	uint8_t buf[1500];
	ssize_t n;

	(void)flags;
	(void)arg;
	while ((n = recv(P.fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		struct cfrtp r;

		if (cfrtp_parse(&r, buf, (size_t)n) || r.pt != 0 ||
		    P.nheard + r.plen > sizeof(P.heard) / sizeof(P.heard[0]))
			continue;
		g711_decode(false, r.payload, P.heard + P.nheard, r.plen);
		P.nheard += r.plen;
	}
}

/* The phone's 440 Hz, 20 ms at a time. */
static void phone_send(void)
{
	uint8_t buf[12 + 160];
	int16_t lin[160];
	unsigned i;

	for (i = 0; i < 160; i++, P.n++)
		lin[i] = (int16_t)(8000 * sin(2 * M_PI * 440 * P.n / 8000));
	cfrtp_write(buf, false, 0, P.seq++, P.ts, 0x4242);
	g711_encode(false, lin, buf + 12, 160);
	P.ts += 160;
	(void)sendto(P.fd, buf, sizeof(buf), 0, &P.dest.u.sa, P.dest.len);
}

static void played(int err, void *arg)
{
	(void)arg;
	P.done++;
	P.done_err = (unsigned)err;
	P.done_at = tmr_jiffies();
}

static void recorded(int err, uint64_t samples, void *arg)
{
	(void)arg;
	P.rec_done++;
	P.rec_err = err;
	P.rec_samples = samples;
}

static void e2e_step(void *arg)
{
	(void)arg;
	if (P.send)
		phone_send();
	switch (++P.ticks) {
	case 60:    /* 1.2 s: a tone of 1 s has played, and ended */
		CHECK_INT(P.done, 1);
		CHECK_INT(P.done_err, 0);
		CHECK(P.done_at - P.start_at >= 950 && P.done_at - P.start_at < 1300);
		CHECK(P.nheard >= 45 * 160);
		CHECK(dominant(P.heard + 160 * 5, 160 * 40, 1000));
		CHECK(rms(P.heard + 160 * 5, 160 * 40) > 9000);
		CHECK(!media_playing(P.ms));
		/* silence for ever, stopped early: no handler */
		CHECK_INT(media_play(P.ms, "silence_stream://-1", played, NULL), 0);
		CHECK(media_playing(P.ms));
		break;
	case 70:
		media_play_stop(P.ms);
		CHECK(!media_playing(P.ms));
		/* record 1 s of what the phone says */
		P.send = true;
		CHECK_INT(media_record(P.ms, P.wav, 1000, recorded, NULL), 0);
		CHECK(media_recording(P.ms));
		CHECK_INT(media_record(P.ms, "/proc/no/such/dir/x.wav", 0, recorded, NULL) != 0,
			  1);
		CHECK(media_recording(P.ms));
		break;
	case 140:
		CHECK_INT(P.done, 1);
		CHECK_INT(P.rec_done, 1);
		CHECK_INT(P.rec_err, 0);
		CHECK_INT(P.rec_samples, 8000);
		CHECK(!media_recording(P.ms));
		check_wav(P.wav, 1.0, 1.0);
		/* a recording cut short by freeing the stream still leaves a valid file */
		CHECK_INT(media_record(P.ms, P.wav2, 0, recorded, NULL), 0);
		break;
	case 160:
		P.ms = mem_deref(P.ms);
		re_cancel();
		return;
	}
	tmr_start(&P.tmr, 20, e2e_step, NULL);
}

static void check_wav(const char *path, double secs_min, double secs_max)
{
	SF_INFO info = {0};
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	int16_t *x;
	sf_count_t n;

	CHECK(sf != NULL);
	if (!sf)
		return;
	CHECK_INT(info.samplerate, 8000);
	CHECK_INT(info.channels, 1);
	CHECK_INT(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
	CHECK(info.frames >= secs_min * 8000 && info.frames <= secs_max * 8000);
	x = malloc((size_t)info.frames * sizeof(*x));
	if (x) {
		n = sf_readf_short(sf, x, info.frames);
		CHECK_INT(n, info.frames);
		/* skip the jitter buffer's first 100 ms */
		if (n > 1600)
			CHECK(dominant(x + 800, (size_t)n - 800, 440));
		free(x);
	}
	sf_close(sf);
}

static void test_end_to_end(void)
{
	struct media_cfg cfg = {.rtp_start = PORT_LO, .rtp_end = PORT_HI, .workers = 1};
	struct media_params prm = {.codec = MEDIA_PCMU, .pt = 0, .te_pt = 101,
		.ptime_ms = 20, .send = true, .recv = true};
	struct sa local;

	memset(&P, 0, sizeof(P));
	snprintf(P.wav, sizeof(P.wav), "%s/rec/sub/one.wav", tmpdir);
	snprintf(P.wav2, sizeof(P.wav2), "%s/rec/two.wav", tmpdir);
	CHECK_INT(media_init(&cfg), 0);
	CHECK_INT(media_stream_alloc(&P.ms, "127.0.0.1", NULL, NULL), 0);
	if (!P.ms)
		return;
	P.fd = socket(AF_INET, SOCK_DGRAM, 0);
	sa_set_str(&local, "127.0.0.1", 0);
	CHECK_INT(bind(P.fd, &local.u.sa, local.len), 0);
	local.len = sizeof(local.u.in);
	getsockname(P.fd, &local.u.sa, &local.len);
	sa_set_str(&P.dest, "127.0.0.1", media_stream_port(P.ms));
	fd_listen(P.fd, FD_READ, phone_rx, NULL);
	CHECK_INT(media_stream_set_remote(P.ms, &local, &prm), 0);

	CHECK_INT(media_play(P.ms, "tone_stream://nonsense", played, NULL), EINVAL);
	CHECK_INT(media_play(P.ms, "/no/such/file.wav", played, NULL), ENOENT);
	/* not linked to anything: the player alone makes it send */
	CHECK_INT(media_play(P.ms, "tone_stream://%(1000,0,1000)", played, NULL), 0);
	P.start_at = tmr_jiffies();
	tmr_init(&P.tmr);
	tmr_start(&P.tmr, 20, e2e_step, NULL);
	re_main(NULL);
	tmr_cancel(&P.tmr);
	CHECK_INT(P.ticks, 160);
	CHECK_INT(P.rec_done, 1);
	media_close();
	fd_close(P.fd);
	close(P.fd);
	check_wav(P.wav2, 0.3, 0.45);
}

int main(void)
{
	char cmd[128];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/confab-play-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	test_tgml();
	test_tone_gen();
	test_resample();
	test_sound_files();
	test_sound_path();
	test_player();
	test_player_rate();
	test_player_speed();
	test_ring();
	CHECK_INT(libre_init(), 0);
	CHECK_INT(loop_init(), 0);
	test_end_to_end();
	loop_close();
	libre_close();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return check_done();
}
