/*
 * test_mix.c - conference rooms end to end inside the process: real workers,
 * members on 127.0.0.1 with plain UDP sockets as phones, judged by what the
 * phones hear (Goertzel at each talker's frequency against the frame's energy).
 */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>
#include <re.h>
#include <sndfile.h>
#include "check.h"
#include "core/loop.h"
#include "media/g711.h"
#include "media/media.h"
#include "media/play.h"
#include "media/rtp.h"

/* Apart from test_media.c (41000) and test_play.c (43000): CTest runs them together. */
#define PORT_LO 45000
#define PORT_HI 45999

#define FRAME   160
#define LOG_MAX 500            /* frames a phone keeps: the run is 360 ticks */
#define WANT    10             /* frames judged at each check */

/* A phone: a UDP socket sending a tone (0 Hz: silence) and decoding what comes. */
struct phone {
	int fd;
	struct sa dest;
	enum media_codec codec;
	unsigned hz;
	bool send;
	uint16_t seq;
	uint32_t ts, ssrc, n, sent;
	unsigned nlog, bad;
	int16_t log[LOG_MAX][FRAME];
};

struct talk {
	bool talking;
	unsigned on, off, energy;
};

enum { A, B, C, D, NPH };

static struct {
	struct phone ph[NPH];
	struct media_stream *ms[NPH], *room, *room2;
	struct talk talk[NPH];
	struct tmr tmr;
	uint64_t t0, play_at, done_at;
	unsigned t, done, mark, mark2;
	int done_err;
	double base_a, base_c;
	uint64_t rec_samples[3];
	unsigned rate;              /* the rooms' */
	char wav[3][96];            /* three recordings of the room at once */
} E;

static char tmpdir[64];

static const struct media_mix_prm talker = {.speak = true, .hear = true};

static void phone_rx(int flags, void *arg)
{
	struct phone *p = arg;
	uint8_t buf[1500];
	ssize_t n;

	(void)flags;
	while ((n = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		struct cfrtp r;

		if (cfrtp_parse(&r, buf, (size_t)n) || r.pt != p->codec || r.plen != FRAME) {
			p->bad++;
			continue;
		}
		if (p->nlog < LOG_MAX)
			g711_decode(p->codec == MEDIA_PCMA, r.payload, p->log[p->nlog++], FRAME);
	}
}

static void phone_open(struct phone *p, struct media_stream *ms, enum media_codec codec,
		       unsigned hz, bool send)
{
	struct media_params prm = {.codec = codec, .pt = (uint8_t)codec, .ptime_ms = 20,
		.send = true, .recv = true};
	struct sa local;

	memset(p, 0, sizeof(*p));
	p->fd = socket(AF_INET, SOCK_DGRAM, 0);
	sa_set_str(&local, "127.0.0.1", 0);
	CHECK_INT(bind(p->fd, &local.u.sa, local.len), 0);
	local.len = sizeof(local.u.in);
	getsockname(p->fd, &local.u.sa, &local.len);
	sa_set_str(&p->dest, "127.0.0.1", media_stream_port(ms));
	p->codec = codec;
	p->hz = hz;
	p->send = send;
	p->ts = 8000;
	p->ssrc = 0x5000 + (uint32_t)p->fd;
	fd_listen(p->fd, FD_READ, phone_rx, p);
	CHECK_INT(media_stream_set_remote(ms, &local, &prm), 0);
}

/* One 20 ms packet: amplitude 8000 (mean |x| 5093, RMS 5657) at p->hz. */
static void phone_tick(struct phone *p)
{
	uint8_t buf[12 + FRAME];
	int16_t lin[FRAME];
	unsigned i;

	for (i = 0; i < FRAME; i++)
		lin[i] = (int16_t)(8000 * sin(2 * M_PI * p->hz * (p->n + i) / 8000));
	p->n += FRAME;
	cfrtp_write(buf, false, (uint8_t)p->codec, p->seq++, p->ts, p->ssrc);
	g711_encode(p->codec == MEDIA_PCMA, lin, buf + 12, FRAME);
	p->ts += FRAME;
	if (p->send)
		(void)sendto(p->fd, buf, sizeof(buf), 0, &p->dest.u.sa, p->dest.len);
}

/* The share of a frame's energy at `hz` (Goertzel, 1 for a pure tone), and its RMS. */
static double share_in(const int16_t *x, unsigned n, unsigned rate, double hz, double *rms)
{
	double k = 2 * cos(2 * M_PI * hz / rate), s1 = 0, s2 = 0, e = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		double s = x[i] + k * s1 - s2;

		s2 = s1;
		s1 = s;
		e += (double)x[i] * x[i];
	}
	*rms = sqrt(e / n);
	return e > 0 ? (s1 * s1 + s2 * s2 - k * s1 * s2) / (e * n / 2) : 0;
}

static double share_at(const int16_t *x, double hz, double *rms)
{
	return share_in(x, FRAME, 8000, hz, rms);
}

#define LAST(x) (E.ph[x].nlog > WANT ? E.ph[x].nlog - WANT : 0)

/*
 * Whether the phone hears `hz` in the last WANT frames it got: a seventh of a
 * frame's energy at least (a 1000 Hz talker under a -7 dBFS tone has 23 %),
 * audibly; or under 2 % of it, or near silence. Under load (CTest runs suites
 * in parallel) two frames may be concealed or late.
 */
static void check_hears(int line, unsigned ph, double hz, bool yes)
{
	const struct phone *p = &E.ph[ph];
	unsigned i, with = 0, without = 0;
	double share, rms;
	bool ok;

	for (i = LAST(ph); i < p->nlog; i++) {
		share = share_at(p->log[i], hz, &rms);
		with += share > 0.15 && rms > 800;
		without += share < 0.02 || rms < 200;
	}
	ok = (yes ? with : without) >= WANT - 2;
	CHECK(ok);
	if (!ok)
		fprintf(stderr, "  line %d: phone %c, %.0f Hz: of %u frames %u with, %u without\n",
			line, 'A' + ph, hz, p->nlog < WANT ? p->nlog : WANT, with, without);
}

#define HEARS(ph, hz)     check_hears(__LINE__, ph, hz, true)
#define NOT_HEARS(ph, hz) check_hears(__LINE__, ph, hz, false)

/* Median RMS of the frames from `from` on (a late frame does not move it); the loudest. */
static double median_rms(unsigned ph, unsigned from, double *max)
{
	const struct phone *p = &E.ph[ph];
	double r[LOG_MAX], v;
	unsigned i, j, n = 0;

	*max = 0;
	for (i = from; i < p->nlog; i++) {
		(void)share_at(p->log[i], 1000, &v);
		for (j = n++; j > 0 && r[j - 1] > v; j--)
			r[j] = r[j - 1];
		r[j] = v;
		*max = v > *max ? v : *max;
	}
	return n ? r[n / 2] : 0;
}

static void on_talk(struct media_stream *ms, bool talking, unsigned energy, void *arg)
{
	struct talk *t = arg;

	(void)ms;
	t->talking = talking;
	t->on += talking;
	t->off += !talking;
	t->energy = talking ? energy : t->energy;
}

static void played(int err, void *arg)
{
	(void)arg;
	E.done++;
	E.done_err = err;
	E.done_at = tmr_jiffies();
}

static void set(unsigned ph, bool speak, bool hear, int vol_in, int vol_out, unsigned level)
{
	struct media_mix_prm prm = {.speak = speak, .hear = hear, .vol_in = vol_in,
		.vol_out = vol_out, .energy_level = level};

	CHECK_INT(media_mix_set(E.ms[ph], &prm), 0);
}

/* relate: `ph` keeps A's voice out of what it hears (or no longer). */
static void deaf_to_a(unsigned ph, bool on)
{
	struct media_mix_prm prm = {.speak = true, .hear = true, .ndeaf_to = on};

	prm.deaf_to[0] = media_mix_member_id(E.ms[A]);
	CHECK(prm.deaf_to[0] != 0);
	CHECK_INT(media_mix_set(E.ms[ph], &prm), 0);
}

/*
 * The recording of the room: the whole mix at the room's rate, A's 500 Hz and
 * B's 1000 Hz together, and nothing of the images a poor resampler leaves at
 * 8000 - 1000 Hz.
 */
static void check_wav(const char *path, uint64_t samples, unsigned min_frames)
{
	SF_INFO info = {0};
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	static int16_t x[48000];
	unsigned both = 0, frames = 0, image = 0, flen = FRAME * E.rate / 8000;
	sf_count_t n, i;
	double r, s500, s1000;

	CHECK(sf != NULL);
	if (!sf)
		return;
	CHECK_INT(info.samplerate, E.rate);
	CHECK_INT(info.channels, 1);
	CHECK_INT(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
	n = sf_readf_short(sf, x, 48000);
	CHECK_INT(n, info.frames);
	CHECK_INT((uint64_t)info.frames, samples);
	/* The recorder takes whole ticks: frames line up with the file's start. */
	for (i = 0; i + flen <= n; i += flen, frames++) {
		s500 = share_in(x + i, flen, E.rate, 500, &r);
		s1000 = share_in(x + i, flen, E.rate, 1000, &r);
		both += s500 > 0.3 && s1000 > 0.3 && r > 5000;
		if (E.rate > 8000)
			image += share_in(x + i, flen, E.rate, 7000, &r) > 0.01;
	}
	CHECK(frames >= min_frames);
	CHECK(both + 2 >= frames);
	CHECK_INT(image, 0);
	sf_close(sf);
}

/* Samples in one tick of the room. */
#define FLEN (FRAME * E.rate / 8000)

/*
 * Three files at once, the third paused from the start; the same path twice
 * is refused, and so is one more than MEDIA_REC_MAX.
 */
static void record_three(void)
{
	char extra[MEDIA_REC_MAX][96];
	unsigned i;

	for (i = 0; i < 3; i++)
		CHECK_INT(media_record_add(E.room, E.wav[i], 0, NULL, NULL), 0);
	CHECK_INT(media_record_pause_file(E.room, E.wav[2], true), 0);
	CHECK_INT(media_record_add(E.room, E.wav[1], 0, NULL, NULL), EALREADY);
	for (i = 3; i < MEDIA_REC_MAX; i++) {
		snprintf(extra[i], sizeof(extra[i]), "%s/rec/extra%u.wav", tmpdir, i);
		CHECK_INT(media_record_add(E.room, extra[i], 0, NULL, NULL), 0);
	}
	CHECK_INT(media_record_add(E.room, E.wav[0], 0, NULL, NULL), EALREADY);
	snprintf(extra[0], sizeof(extra[0]), "%s/rec/one-more.wav", tmpdir);
	CHECK_INT(media_record_add(E.room, extra[0], 0, NULL, NULL), EBUSY);
	for (i = 3; i < MEDIA_REC_MAX; i++)
		CHECK_INT(media_record_stop_file(E.room, extra[i], NULL), 0);
	CHECK_INT(media_record_pause_file(E.room, extra[3], true), ENOENT);
}

static void step(void *arg)
{
	uint64_t due = (tmr_jiffies() - E.t0) / 20 + 1;
	double max, v;
	unsigned i;

	(void)arg;
	/* The phones keep time by the clock, not by this timer's (drifting) ticks. */
	for (i = 0; i < NPH; i++)
		while (E.ph[i].sent < due) {
			phone_tick(&E.ph[i]);
			E.ph[i].sent++;
		}
	switch (++E.t) {
	case 25:    /* 0.5 s: N-1 mixes, across workers and codecs */
		HEARS(A, 1000);
		NOT_HEARS(A, 500);
		HEARS(B, 500);
		NOT_HEARS(B, 1000);
		HEARS(C, 500);
		HEARS(C, 1000);
		CHECK(E.talk[A].talking && E.talk[A].on == 1 && E.talk[A].energy > 0);
		CHECK(E.talk[B].talking && E.talk[B].on == 1 && E.talk[B].energy > 0);
		CHECK(!E.talk[C].talking && E.talk[C].on == 0);
		CHECK(media_mix_energy(E.ms[A]) > 4500 && media_mix_energy(E.ms[A]) < 5700);
		/* D alone in a room with comfort noise: low noise, not digital silence. */
		CHECK(median_rms(D, LAST(D), &max) > 5 && max < 100);
		set(A, false, true, 0, 0, 0);
		break;
	case 45:    /* muted: nobody hears A, and A still talks (mute-detect) */
		NOT_HEARS(B, 500);
		NOT_HEARS(C, 500);
		HEARS(C, 1000);
		CHECK(E.talk[A].talking && E.talk[A].off == 0);
		set(A, true, true, 0, 0, 0);
		set(C, true, false, 0, 0, 0);
		break;
	case 65:    /* C deaf: silence to C, A and B as before */
		(void)median_rms(C, LAST(C), &max);
		CHECK(max < 20);
		HEARS(A, 1000);
		HEARS(B, 500);
		set(C, true, true, 0, 0, 0);
		set(A, true, true, 0, 0, 6000);
		break;
	case 75:    /* under the gate for 200 ms: the hangover keeps A talking, and heard */
		CHECK(E.talk[A].talking && E.talk[A].off == 0);
		HEARS(B, 500);
		break;
	case 110:   /* A's gate above its tone: after the hangover, nobody hears A */
		NOT_HEARS(B, 500);
		NOT_HEARS(C, 500);
		HEARS(C, 1000);
		CHECK(!E.talk[A].talking && E.talk[A].off == 1);
		CHECK(media_mix_energy(E.ms[A]) > 4500);
		set(A, true, true, 0, 0, 4000);
		break;
	case 130:   /* the gate below: through again */
		HEARS(B, 500);
		HEARS(C, 500);
		CHECK(E.talk[A].talking && E.talk[A].on == 2);
		E.base_a = median_rms(A, LAST(A), &max);
		E.base_c = median_rms(C, LAST(C), &max);
		CHECK(E.base_a > 4000 && E.base_c > 6000);
		set(B, true, true, -4, 0, 0);
		set(C, true, true, 0, -4, 0);
		break;
	case 150:   /* B's vol_in -4: A hears B at a fifth; C's vol_out -4: all of it */
		HEARS(A, 1000);
		v = median_rms(A, LAST(A), &max);
		CHECK(v < 0.35 * E.base_a && v > 0.1 * E.base_a);
		CHECK(median_rms(C, LAST(C), &max) < 0.35 * E.base_c);
		HEARS(C, 500);
		set(B, true, true, 0, 0, 0);
		set(C, true, true, 0, 0, 0);
		CHECK_INT(media_play(E.room, "tone_stream://%(2000,0,1500)", played, NULL), 0);
		E.play_at = tmr_jiffies();
		break;
	case 175:   /* played to the room: everybody hears it, over the talk */
		HEARS(A, 1500);
		HEARS(B, 1500);
		HEARS(C, 1500);
		HEARS(A, 1000);
		CHECK_INT(E.done, 0);
		break;
	case 270:   /* the player ended after its 2 s, and so did the tone */
		CHECK_INT(E.done, 1);
		CHECK_INT(E.done_err, 0);
		CHECK(E.done_at - E.play_at >= 1900 && E.done_at - E.play_at <= 2500);
		NOT_HEARS(A, 1500);
		NOT_HEARS(C, 1500);
		CHECK(!media_playing(E.room));
		record_three();
		deaf_to_a(C, true);
		break;
	case 285:   /* relate: C does not hear A, still B; A hears C's silence, B */
		NOT_HEARS(C, 500);
		HEARS(C, 1000);
		HEARS(B, 500);
		HEARS(A, 1000);
		deaf_to_a(C, false);
		/* the first stops, the third (paused so far) resumes */
		CHECK_INT(media_record_stop_file(E.room, E.wav[0], &E.rec_samples[0]), 0);
		CHECK_INT(media_record_stop_file(E.room, E.wav[0], NULL), ENOENT);
		CHECK_INT(media_record_pause_file(E.room, E.wav[2], false), 0);
		CHECK(media_recording(E.room));
		break;
	case 295:   /* relate cleared: C hears A again */
		HEARS(C, 500);
		CHECK_INT(media_record_stop_file(E.room, E.wav[1], &E.rec_samples[1]), 0);
		CHECK_INT(media_record_stop_file(E.room, E.wav[2], &E.rec_samples[2]), 0);
		CHECK(!media_recording(E.room));
		/* 15 ticks, 25, and the 10 after the resume: each file its own share. */
		CHECK(E.rec_samples[0] >= 10 * FLEN);
		CHECK(E.rec_samples[1] >= 20 * FLEN && E.rec_samples[1] <= 40 * FLEN);
		CHECK(E.rec_samples[1] >= E.rec_samples[0] + 5 * FLEN);
		CHECK(E.rec_samples[2] >= 5 * FLEN);
		CHECK(E.rec_samples[2] + 5 * FLEN <= E.rec_samples[1]);
		check_wav(E.wav[0], E.rec_samples[0], 10);
		check_wav(E.wav[1], E.rec_samples[1], 20);
		check_wav(E.wav[2], E.rec_samples[2], 5);
		media_mix_leave(E.ms[A]);
		break;
	case 305:
		E.mark = E.ph[A].nlog;
		break;
	case 320:   /* A left: it gets nothing (or silence), the others lose it */
		CHECK(median_rms(A, E.mark, &max) < 20 && max < 20);
		NOT_HEARS(B, 500);
		NOT_HEARS(C, 500);
		HEARS(C, 1000);
		/* Joining another room leaves this one. */
		CHECK_INT(media_mix_join(E.room2, E.ms[B], &talker, on_talk, &E.talk[B]), 0);
		break;
	case 340:   /* B talks to D now and C is alone */
		HEARS(D, 1000);
		NOT_HEARS(C, 1000);
		/* As FreeSWITCH: comfort noise fills a silent room, not a lone talker's N-1. */
		(void)median_rms(B, LAST(B), &max);
		CHECK(max < 20);
		/* A member freed in its room, a room freed with a member in it. */
		E.ms[D] = mem_deref(E.ms[D]);
		E.room = mem_deref(E.room);
		break;
	case 345:
		E.room2 = mem_deref(E.room2);
		break;
	case 350:
		E.mark = E.ph[B].nlog;
		E.mark2 = E.ph[C].nlog;
		break;
	case 360:   /* their rooms are gone: B and C hear nothing */
		CHECK_INT(E.ph[B].nlog, E.mark);
		CHECK_INT(E.ph[C].nlog, E.mark2);
		for (i = 0; i < NPH; i++) {
			CHECK_INT(E.ph[i].bad, 0);
			E.ms[i] = mem_deref(E.ms[i]);
		}
		re_cancel();
		return;
	}
	tmr_start(&E.tmr, 20, step, NULL);
}

/*
 * The whole run at a room rate: what the phones hear (G.711, 8 kHz) must not
 * depend on it, the same energy levels gate the same tones, and the
 * recording is at the room's rate.
 */
static void test_rooms(unsigned rate)
{
	struct media_cfg cfg = {.rtp_start = PORT_LO, .rtp_end = PORT_HI, .workers = 2};
	struct media_room_cfg plain = {.rate = rate};
	struct media_room_cfg cn = {.comfort_noise = 50, .rate = rate};
	unsigned i;

	fprintf(stderr, "rooms at %u Hz\n", rate);
	memset(&E, 0, sizeof(E));
	E.rate = rate;
	for (i = 0; i < 3; i++)
		snprintf(E.wav[i], sizeof(E.wav[i]), "%s/rec/room%u-%u.wav", tmpdir, rate, i);
	CHECK_INT(media_init(&cfg), 0);
	/*
	 * Each goes to the least loaded worker: the rooms on one, A, B and D on
	 * the other (joining moves them), C with the rooms; B changing rooms later
	 * does not move.
	 */
	CHECK_INT(media_room_alloc(&E.room, rate == 8000 ? NULL : &plain), 0);
	CHECK_INT(media_stream_alloc(&E.ms[A], "127.0.0.1", NULL, NULL), 0);
	CHECK_INT(media_room_alloc(&E.room2, &cn), 0);
	CHECK_INT(media_stream_rate(E.room2), rate);
	for (i = B; i < NPH; i++)
		CHECK_INT(media_stream_alloc(&E.ms[i], "127.0.0.1", NULL, NULL), 0);
	if (!E.room || !E.room2 || !E.ms[A] || !E.ms[B] || !E.ms[C] || !E.ms[D])
		return;
	CHECK_INT(media_mix_join(E.room, E.room, &talker, NULL, NULL), EINVAL);
	CHECK_INT(media_mix_join(E.ms[A], E.ms[B], &talker, NULL, NULL), EINVAL);
	phone_open(&E.ph[A], E.ms[A], MEDIA_PCMU, 500, true);
	phone_open(&E.ph[B], E.ms[B], MEDIA_PCMU, 1000, true);
	phone_open(&E.ph[C], E.ms[C], MEDIA_PCMA, 0, true);
	phone_open(&E.ph[D], E.ms[D], MEDIA_PCMU, 0, false);
	for (i = A; i <= C; i++)
		CHECK_INT(media_mix_join(E.room, E.ms[i], &talker, on_talk, &E.talk[i]), 0);
	CHECK_INT(media_mix_join(E.room2, E.ms[D], &talker, on_talk, &E.talk[D]), 0);

	E.t0 = tmr_jiffies();
	tmr_init(&E.tmr);
	tmr_start(&E.tmr, 20, step, NULL);
	re_main(NULL);
	tmr_cancel(&E.tmr);
	CHECK_INT(E.t, 360);
	CHECK_INT(E.talk[D].on, 0);
	media_close();
	for (i = 0; i < NPH; i++) {
		fd_close(E.ph[i].fd);
		close(E.ph[i].fd);
	}
}

/* Rates a room takes: multiples of 8 kHz up to 48 kHz; no room at others. */
static void test_rates(void)
{
	static const unsigned ok[] = {8000, 16000, 24000, 32000, 48000};
	static const unsigned bad[] = {0, 4000, 11025, 12000, 44100, 56000, 96000};
	struct media_room_cfg rc = {0};
	struct media_stream *room = NULL;
	unsigned i;

	for (i = 0; i < sizeof(ok) / sizeof(*ok); i++)
		CHECK(media_room_rate_ok(ok[i]));
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		CHECK(!media_room_rate_ok(bad[i]));
	rc.rate = 44100;
	CHECK_INT(media_room_alloc(&room, &rc), EINVAL);
	CHECK(room == NULL);
	CHECK_INT(media_stream_rate(NULL), 8000);
}

int main(void)
{
	char cmd[128];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/confab-mix-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	CHECK_INT(libre_init(), 0);
	CHECK_INT(loop_init(), 0);
	test_rates();
	test_rooms(8000);
	test_rooms(16000);
	test_rooms(48000);
	loop_close();
	libre_close();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return check_done();
}
