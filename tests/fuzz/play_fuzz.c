/*
 * play_fuzz.c - fuzz target for the play sources a dialplan or an event-socket
 * client hands to media_play: file_string:// lists, silence_stream:// and
 * TGML tone scripts (tone_parse), and the first frames the player makes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "media/play_int.h"

/* Relative names are looked up here: nowhere, so only the parsing runs. */
#define NO_DIR "/nonexistent-confab-fuzz"
#define MAX_FRAMES 50

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tone_prog *tp = NULL;
	struct mplay *p = NULL;
	int16_t frame[PLAY_FRAME];
	char *s = malloc(size + 1);
	unsigned i;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (!tone_parse(s, PLAY_RATE, &tp)) {
		struct tone_pos pos = {0};
		uint64_t len = tone_length(tp), got = 0;

		for (i = 0; i < MAX_FRAMES; i++)
			got += tone_gen(tp, &pos, frame, PLAY_FRAME);
		/* The generator gives exactly the program's length, never more. */
		if (got > len || (len >= (uint64_t)MAX_FRAMES * PLAY_FRAME &&
				  got != (uint64_t)MAX_FRAMES * PLAY_FRAME))
			__builtin_trap();
		free(tp);
	}
	/*
	 * Relative names resolve under a directory that does not exist, so no
	 * file is read; absolute ones are left out, for a fuzzer to stay off the
	 * machine's files.
	 */
	if (s[0] != '/' && strncmp(s, "file_string:///", 15) && !strstr(s, "!/") &&
	    !mplay_build(&p, s, NO_DIR, PLAY_RATE)) {
		for (i = 0; i < MAX_FRAMES && mplay_read(p, frame, PLAY_FRAME); i++)
			;
		mplay_free(p);
	}
	free(s);
	return 0;
}
