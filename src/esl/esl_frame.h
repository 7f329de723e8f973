/*
 * esl_frame.h - parser for what an event-socket client sends: a command line,
 * "Name: value" header lines, a blank line, and Content-Length bytes of body
 * (spec/event-socket.md 2.1). Pure code, no I/O, fuzzed.
 */
#ifndef CONFAB_ESL_FRAME_H
#define CONFAB_ESL_FRAME_H

#include <stddef.h>

#define ESL_FRAME_MAX_HEADERS   1024
#define ESL_FRAME_MAX_HEAD      (64 * 1024)          /* command + headers */
#define ESL_FRAME_MAX_BODY      (16 * 1024 * 1024)   /* FreeSWITCH's limit */

struct esl_hdr {
	const char *name;
	const char *value;
};

/* Points into the caller's buffer, which the parser edits in place. */
struct esl_frame {
	const char *cmd;                 /* first line, "" for none */
	struct esl_hdr hdrs[ESL_FRAME_MAX_HEADERS];
	size_t nhdrs;
	const char *body;                /* NULL when no Content-Length */
	size_t body_len;
};

/*
 * Parse one frame from buf[0..len). Returns 0 with *consumed set when a whole
 * frame is there, EAGAIN when more bytes are needed, E2BIG when the head is over
 * ESL_FRAME_MAX_HEAD, EBADMSG for a bad or oversized Content-Length or more than
 * ESL_FRAME_MAX_HEADERS headers. On 0 the
 * frame's strings are NUL-terminated inside buf and valid until buf changes.
 */
int esl_frame_parse(char *buf, size_t len, size_t *consumed, struct esl_frame *f);

/* Case-insensitive header lookup. */
const char *esl_frame_header(const struct esl_frame *f, const char *name);

#endif
