/*
 * fctl_fuzz.c - fuzz target for the file commands uuid_fileman and a Lua input
 * callback hand to the media layer (media_fctl_parse), applied to a player of
 * tones and silence whose frames are then read.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "media/play.h"
#include "media/play_int.h"

#define SOURCE "file_string://silence_stream://300!tone_stream://%(100,50,440);%(200,0,800)" \
	"!tone_stream://L=-1;%(60,40,1000)"
#define FRAMES 20

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct media_fctl_cmd fc;
	struct mplay *p = NULL;
	int16_t frame[PLAY_FRAME];
	char *s = malloc(size + 1), *cmd, *save = NULL;
	unsigned i;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (mplay_build(&p, SOURCE, "/nonexistent-confab-fuzz", PLAY_RATE)) {
		free(s);
		return 0;
	}
	/* One command a line, a frame between two. */
	for (cmd = strtok_r(s, "\n", &save); cmd; cmd = strtok_r(NULL, "\n", &save)) {
		if (!media_fctl_parse(cmd, &fc))
			mplay_control(p, fc.op, fc.val);
		if (p->vol < -MEDIA_FCTL_VOL_MAX || p->vol > MEDIA_FCTL_VOL_MAX ||
		    (p->cur < p->nsrc && p->pos > p->src[p->cur].len))
			__builtin_trap();
		for (i = 0; i < FRAMES / 4; i++) {
			(void)mplay_read(p, frame, PLAY_FRAME);
			mplay_volume(p, frame, PLAY_FRAME);
		}
	}
	mplay_free(p);
	free(s);
	return 0;
}
