/*
 * test_playctl.c - file control of a player: FreeSWITCH's command texts parsed,
 * and seek, restart, volume and stop applied to a player's samples, checked
 * against the samples an uncontrolled player produces.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "media/play.h"
#include "media/play_int.h"

#define SEQ "tone_stream://%(300,0,400);%(300,0,800);%(300,0,1200)"
#define MS(n) ((n) * (PLAY_RATE / 1000))

static void check_parse(const char *cmd, int err, enum media_fctl op, int val)
{
	struct media_fctl_cmd fc = {MEDIA_FCTL_STOP, 99};

	CHECK_INT(media_fctl_parse(cmd, &fc), err);
	if (!err) {
		CHECK_INT(fc.op, op);
		CHECK_INT(fc.val, val);
	}
}

static void test_parse(void)
{
	check_parse(NULL, 0, MEDIA_FCTL_NONE, 0);
	check_parse("", 0, MEDIA_FCTL_NONE, 0);
	check_parse("true", 0, MEDIA_FCTL_NONE, 0);
	check_parse("undefined", 0, MEDIA_FCTL_NONE, 0);
	check_parse("pause", 0, MEDIA_FCTL_PAUSE, 0);
	check_parse("PAUSE", 0, MEDIA_FCTL_PAUSE, 0);
	check_parse("restart", 0, MEDIA_FCTL_RESTART, 0);
	check_parse("stop", 0, MEDIA_FCTL_STOP, 0);
	check_parse("truncate", 0, MEDIA_FCTL_TRUNCATE, 0);
	check_parse("seek:+5000", 0, MEDIA_FCTL_SEEK, 5000);
	check_parse("seek:-250", 0, MEDIA_FCTL_SEEK, -250);
	check_parse("seek:+", 0, MEDIA_FCTL_SEEK, 1000);
	check_parse("seek:-", 0, MEDIA_FCTL_SEEK, -1000);
	check_parse("seek:1500", 0, MEDIA_FCTL_SEEK_TO, 1500);
	check_parse("seek:0", 0, MEDIA_FCTL_SEEK_TO, 0);
	check_parse("seek", 0, MEDIA_FCTL_NONE, 0);
	check_parse("volume:+1", 0, MEDIA_FCTL_VOLUME, 1);
	check_parse("volume:-3", 0, MEDIA_FCTL_VOLUME, -3);
	check_parse("volume:-", 0, MEDIA_FCTL_VOLUME, -1);
	check_parse("volume:0", 0, MEDIA_FCTL_VOLUME_TO, 0);
	check_parse("speed:+1", 0, MEDIA_FCTL_SPEED, 1);
	check_parse("speed:0", 0, MEDIA_FCTL_SPEED_TO, 0);
	/* Out of range: a day, and steps clamp to 4. */
	check_parse("seek:+99999999999999", 0, MEDIA_FCTL_SEEK, 86400000);
	check_parse("volume:-99999999999999", 0, MEDIA_FCTL_VOLUME, -86400000);
	check_parse("volume", EINVAL, MEDIA_FCTL_NONE, 0);
	check_parse("speed", EINVAL, MEDIA_FCTL_NONE, 0);
	check_parse("break", EINVAL, MEDIA_FCTL_NONE, 0);
	check_parse("false", EINVAL, MEDIA_FCTL_NONE, 0);
	/* "true" is compared as FreeSWITCH does, case and all. */
	check_parse("TRUE", EINVAL, MEDIA_FCTL_NONE, 0);
	CHECK_INT(media_fctl_parse("pause", NULL), EINVAL);
}

static struct mplay *build(const char *src)
{
	struct mplay *p = NULL;

	CHECK_INT(mplay_build(&p, src, "/nonexistent", PLAY_RATE), 0);
	return p;
}

/* n samples of `src` from `at` on, as a player left alone produces them. */
static void reference(const char *src, unsigned at, int16_t *out, unsigned n)
{
	struct mplay *p = build(src);
	int16_t *skip = calloc(at + 1, sizeof(*skip));

	if (p && skip) {
		(void)mplay_read(p, skip, at);
		(void)mplay_read(p, out, n);
	}
	free(skip);
	mplay_free(p);
}

static bool same(const int16_t *a, const int16_t *b, unsigned n)
{
	return !memcmp(a, b, n * sizeof(*a));
}

static int peak(const int16_t *x, unsigned n)
{
	int m = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		m = abs(x[i]) > m ? abs(x[i]) : m;
	return m;
}

static void test_seek(void)
{
	static int16_t got[MS(200)], want[MS(200)];
	struct mplay *p = build(SEQ);

	if (!p)
		return;
	(void)mplay_read(p, got, MS(100));
	/* Forward into the second tone, mid-repetition: exactly as if played there. */
	mplay_control(p, MEDIA_FCTL_SEEK, 370);
	CHECK_INT(p->pos, MS(470));
	(void)mplay_read(p, got, MS(200));
	reference(SEQ, MS(470), want, MS(200));
	CHECK(same(got, want, MS(200)));
	/* Back past the start stops at the start. */
	mplay_control(p, MEDIA_FCTL_SEEK, -5000);
	CHECK_INT(p->pos, 0);
	(void)mplay_read(p, got, MS(50));
	reference(SEQ, 0, want, MS(50));
	CHECK(same(got, want, MS(50)));
	/* Absolute, into the third tone. */
	mplay_control(p, MEDIA_FCTL_SEEK_TO, 650);
	(void)mplay_read(p, got, MS(100));
	reference(SEQ, MS(650), want, MS(100));
	CHECK(same(got, want, MS(100)));
	/* Restart: the first tone from its first sample. */
	mplay_control(p, MEDIA_FCTL_RESTART, 0);
	(void)mplay_read(p, got, MS(100));
	reference(SEQ, 0, want, MS(100));
	CHECK(same(got, want, MS(100)));
	/* Past the end: the source ends. */
	mplay_control(p, MEDIA_FCTL_SEEK, 60000);
	CHECK(!mplay_read(p, got, PLAY_FRAME));
	mplay_free(p);
}

/* A looping tone and a list: seeking stays in the current item. */
static void test_seek_items(void)
{
	static const char loop[] = "tone_stream://L=-1;%(100,100,500)";
	static int16_t got[MS(100)], want[MS(100)];
	struct mplay *p = build(loop);

	if (p) {
		mplay_control(p, MEDIA_FCTL_SEEK_TO, 10050);
		(void)mplay_read(p, got, MS(100));
		reference(loop, MS(10050), want, MS(100));
		CHECK(same(got, want, MS(100)));
		mplay_free(p);
	}
	p = build("file_string://silence_stream://500!" SEQ);
	if (!p)
		return;
	(void)mplay_read(p, got, MS(100));
	mplay_control(p, MEDIA_FCTL_SEEK, 100);
	CHECK_INT(p->cur, 0);
	CHECK_INT(p->pos, MS(200));
	/* Beyond the silence: the tones follow from their start, not further. */
	mplay_control(p, MEDIA_FCTL_SEEK, 2000);
	(void)mplay_read(p, got, MS(100));
	CHECK_INT(p->cur, 1);
	reference(SEQ, 0, want, MS(100));
	CHECK(same(got, want, MS(100)));
	mplay_free(p);
}

static void test_volume_stop(void)
{
	int16_t a[PLAY_FRAME], b[PLAY_FRAME];
	struct mplay *p = build("tone_stream://v=-1;%(1000,0,1000)");
	int full;

	if (!p)
		return;
	(void)mplay_read(p, a, PLAY_FRAME);
	full = peak(a, PLAY_FRAME);
	CHECK(full > 20000);
	memcpy(b, a, sizeof(a));
	mplay_control(p, MEDIA_FCTL_VOLUME, -1);
	mplay_volume(p, b, PLAY_FRAME);
	CHECK(abs(peak(b, PLAY_FRAME) - full * 8 / 10) <= 2);
	mplay_control(p, MEDIA_FCTL_VOLUME, -10);
	CHECK_INT(p->vol, -4);
	mplay_control(p, MEDIA_FCTL_VOLUME, -2147483647 - 1);
	CHECK_INT(p->vol, -4);
	memcpy(b, a, sizeof(a));
	mplay_volume(p, b, PLAY_FRAME);
	CHECK(abs(peak(b, PLAY_FRAME) - full * 2 / 10) <= 2);
	/* Up saturates rather than wraps. */
	mplay_control(p, MEDIA_FCTL_VOLUME_TO, 9);
	CHECK_INT(p->vol, 4);
	memcpy(b, a, sizeof(a));
	mplay_volume(p, b, PLAY_FRAME);
	CHECK_INT(peak(b, PLAY_FRAME), 32768);
	mplay_control(p, MEDIA_FCTL_VOLUME_TO, 0);
	memcpy(b, a, sizeof(a));
	mplay_volume(p, b, PLAY_FRAME);
	CHECK(same(a, b, PLAY_FRAME));
	mplay_control(p, MEDIA_FCTL_PAUSE, 0);
	CHECK(p->paused);
	mplay_control(p, MEDIA_FCTL_PAUSE, 0);
	CHECK(!p->paused);
	mplay_control(p, MEDIA_FCTL_SPEED, 1);
	mplay_control(p, MEDIA_FCTL_RESTART, 0);
	CHECK_INT(p->speed, 0);
	mplay_control(p, MEDIA_FCTL_PAUSE, 0);
	mplay_control(p, MEDIA_FCTL_STOP, 0);
	CHECK(!p->paused);
	CHECK(!mplay_read(p, a, PLAY_FRAME));
	CHECK_INT(peak(a, PLAY_FRAME), 0);
	mplay_free(p);
}

int main(void)
{
	test_parse();
	test_seek();
	test_seek_items();
	test_volume_stop();
	return check_done();
}
