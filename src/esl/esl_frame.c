/*
 * esl_frame.c - splits a client's byte stream into frames. Written for hostile
 * input: every length is bounded and nothing is read past `len`.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include "esl/esl_frame.h"

/* End of the head: the first empty line, where "\r" does not count (2.1). */
static size_t find_head_end(const char *buf, size_t len, size_t *after)
{
	size_t i;
	bool line_empty = true;

	for (i = 0; i < len; i++) {
		if (buf[i] == '\n') {
			if (line_empty) {
				*after = i + 1;
				return i;
			}
			line_empty = true;
		} else if (buf[i] != '\r') {
			line_empty = false;
		}
	}
	return len;
}

static int parse_length(const char *v, size_t len, size_t *lenp)
{
	size_t n = 0, i = 0;

	while (i < len && (v[i] == ' ' || v[i] == '\t'))
		i++;
	while (len > i && (v[len - 1] == ' ' || v[len - 1] == '\t' || v[len - 1] == '\r'))
		len--;
	if (i == len)
		return EBADMSG;
	for (; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return EBADMSG;
		n = n * 10 + (size_t)(v[i] - '0');
		if (n > ESL_FRAME_MAX_BODY)
			return EBADMSG;
	}
	*lenp = n;
	return 0;
}

/*
 * Content-Length of a head still in wire form (not yet split), so that an
 * incomplete frame can be left untouched until its body has arrived.
 */
static int head_length(const char *head, size_t len, size_t *blenp)
{
	size_t i = 0;

	*blenp = 0;
	while (i < len) {
		const char *line = head + i, *nl = memchr(line, '\n', len - i);
		size_t ll = nl ? (size_t)(nl - line) : len - i;

		/* Header lines only; the first line is the command. */
		if (i && ll >= 15 && !strncasecmp(line, "Content-Length:", 15))
			return parse_length(line + 15, ll - 15, blenp);
		i += ll + 1;
	}
	return 0;
}

/*
 * Split the NUL-terminated head into the command and headers, in place. More
 * headers than fit is an error: dropping some would change what the frame means.
 */
static int split_head(char *head, struct esl_frame *f)
{
	char *line = head, *next;

	f->cmd = "";
	while (line) {
		char *colon, *cr;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		cr = strchr(line, '\r');
		if (cr)
			*cr = '\0';
		if (line == head) {
			f->cmd = line;
		} else if ((colon = strchr(line, ':')) && colon != line) {
			if (f->nhdrs == ESL_FRAME_MAX_HEADERS)
				return EBADMSG;
			/* Header values are taken verbatim, only leading blanks skipped. */
			*colon++ = '\0';
			while (*colon == ' ' || *colon == '\t')
				colon++;
			f->hdrs[f->nhdrs].name = line;
			f->hdrs[f->nhdrs++].value = colon;
		}
		line = next;
	}
	return 0;
}

const char *esl_frame_header(const struct esl_frame *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->nhdrs; i++) {
		if (!strcasecmp(f->hdrs[i].name, name))
			return f->hdrs[i].value;
	}
	return NULL;
}

int esl_frame_parse(char *buf, size_t len, size_t *consumed, struct esl_frame *f)
{
	size_t skip = 0, end, after = 0, blen = 0;
	int err;

	/* Blank lines before a command are discarded. */
	while (skip < len && (buf[skip] == '\n' || buf[skip] == '\r'))
		skip++;
	if (skip == len) {
		*consumed = skip;
		return EAGAIN;
	}
	end = skip + find_head_end(buf + skip, len - skip, &after);
	if (end == len)
		return len - skip > ESL_FRAME_MAX_HEAD ? E2BIG : EAGAIN;
	after += skip;
	if (end - skip > ESL_FRAME_MAX_HEAD)
		return E2BIG;

	err = head_length(buf + skip, end - skip, &blen);
	if (err)
		return err;
	if (len - after < blen)
		return EAGAIN;

	memset(f, 0, sizeof(*f));
	buf[end] = '\0';
	err = split_head(buf + skip, f);
	if (err)
		return err;
	if (blen) {
		/*
		 * The body is handed over as a C string; the byte after it belongs to the
		 * next frame, so the body is moved one byte back over the head's final
		 * newline, which the parser no longer needs.
		 */
		memmove(buf + after - 1, buf + after, blen);
		buf[after - 1 + blen] = '\0';
		f->body = buf + after - 1;
		f->body_len = blen;
	}
	*consumed = after + blen;
	return 0;
}
