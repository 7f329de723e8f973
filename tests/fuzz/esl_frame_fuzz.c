/*
 * esl_frame_fuzz.c - the event socket's client frame parser, and the
 * subscription parser fed with the parsed command lines.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "esl/esl_frame.h"
#include "esl/esl_sub.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	struct esl_sub *sub = NULL;
	size_t off = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	esl_sub_alloc(&sub);
	while (off < size) {
		struct esl_frame f;
		size_t used = 0;
		enum event_format fmt;
		bool given;
		char reply[600];

		if (esl_frame_parse(buf + off, size - off, &used, &f))
			break;
		if (!strncmp(f.cmd, "event ", 6))
			esl_sub_event(sub, f.cmd + 6, &fmt, &given);
		else if (!strncmp(f.cmd, "nixevent ", 9))
			esl_sub_nix(sub, f.cmd + 9);
		else if (!strncmp(f.cmd, "filter ", 7))
			esl_sub_filter(sub, f.cmd + 7, reply, sizeof(reply));
		off += used;
	}
	mem_deref(sub);
	free(buf);
	return 0;
}
