/*
 * frame.c - parses one event-socket message (spec §2.2): a header block ending in a
 * blank line, then Content-Length bytes of body. Pure: no I/O, safe on any input.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"

/* Length of the line at p (without its "\n" and an optional "\r"), or SIZE_MAX
 * when no "\n" has arrived yet. *nextp gets the offset just past the "\n". */
static size_t line_len(const char *p, size_t avail, size_t *nextp)
{
	const char *nl = memchr(p, '\n', avail);
	size_t n;

	if (!nl)
		return (size_t)-1;
	n = (size_t)(nl - p);
	*nextp = n + 1;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	return n;
}

/* Finds the header block: [*beginp, *endp) are its lines, *usedp is just past the
 * blank line that closes it. Blank lines before the first header are skipped but
 * count against CLI_HEAD_MAX, so a peer cannot make us buffer them forever. */
static int find_head(const char *data, size_t len, size_t *beginp, size_t *endp,
		     size_t *usedp)
{
	size_t pos = 0, next, n;
	bool seen = false;

	while (pos < len) {
		if (pos > CLI_HEAD_MAX)
			return EMSGSIZE;
		n = line_len(data + pos, len - pos, &next);
		if (n == (size_t)-1)
			break;
		if (n == 0 && seen) {
			*endp = pos;
			*usedp = pos + next;
			return 0;
		}
		if (n == 0)
			*beginp = pos + next;
		seen = seen || n > 0;
		pos += next;
	}
	return len > CLI_HEAD_MAX ? EMSGSIZE : EAGAIN;
}

static int add_header(struct cli_frame *f, char *line, size_t *capp)
{
	char *colon = strchr(line, ':');
	char *value = colon ? colon + 1 : line + strlen(line);

	if (f->hdrc == *capp) {
		size_t cap = *capp ? *capp * 2 : 16;
		struct cli_header *v = realloc(f->hdrv, cap * sizeof(*v));

		if (!v)
			return ENOMEM;
		f->hdrv = v;
		*capp = cap;
	}
	if (colon)
		*colon = '\0';
	while (*value == ' ')
		value++;
	f->hdrv[f->hdrc].name = line;
	f->hdrv[f->hdrc].value = value;
	f->hdrc++;
	return 0;
}

/* Copies the header block and splits it into name/value pairs in place. */
static int split_head(struct cli_frame *f, const char *data, size_t len)
{
	size_t cap = 0, pos = 0;
	char *line, *nl;
	int err;

	f->head = malloc(len + 1);
	if (!f->head)
		return ENOMEM;
	memcpy(f->head, data, len);
	f->head[len] = '\0';
	while (pos < len) {
		line = f->head + pos;
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		pos += strlen(line) + 1;
		if (*line && line[strlen(line) - 1] == '\r')
			line[strlen(line) - 1] = '\0';
		if (!*line)
			continue;
		err = add_header(f, line, &cap);
		if (err)
			return err;
	}
	return 0;
}

/* Content-Length is decimal digits only: a sign, a blank value or trailing junk is
 * malformed (the server drops such peers too, spec §2.1). */
static int parse_length(const char *s, size_t *lenp)
{
	size_t n = 0;

	if (*s < '0' || *s > '9')
		return EBADMSG;
	for (; *s >= '0' && *s <= '9'; s++) {
		n = n * 10 + (size_t)(*s - '0');
		if (n > CLI_BODY_MAX)
			return EMSGSIZE;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s)
		return EBADMSG;
	*lenp = n;
	return 0;
}

int cli_frame_parse(struct cli_frame *f, const char *data, size_t len, size_t *usedp)
{
	size_t begin = 0, end = 0, used = 0, blen = 0;
	const char *clen;
	int err;

	err = find_head(data, len, &begin, &end, &used);
	if (err)
		return err;
	err = split_head(f, data + begin, end - begin);
	if (err)
		goto out;
	clen = cli_frame_header(f, "Content-Length");
	if (clen) {
		err = parse_length(clen, &blen);
		if (err)
			goto out;
		if (len - used < blen) {
			err = EAGAIN;
			goto out;
		}
		f->body = malloc(blen + 1);
		if (!f->body) {
			err = ENOMEM;
			goto out;
		}
		memcpy(f->body, data + used, blen);
		f->body[blen] = '\0';
		f->bodylen = blen;
		used += blen;
	}
	*usedp = used;
out:
	if (err)
		cli_frame_reset(f);
	return err;
}

void cli_frame_reset(struct cli_frame *f)
{
	free(f->head);
	free(f->hdrv);
	free(f->body);
	memset(f, 0, sizeof(*f));
}

const char *cli_frame_header(const struct cli_frame *f, const char *name)
{
	for (size_t i = 0; i < f->hdrc; i++) {
		if (!strcasecmp(f->hdrv[i].name, name))
			return f->hdrv[i].value;
	}
	return NULL;
}

bool cli_frame_is(const struct cli_frame *f, const char *type)
{
	const char *ct = cli_frame_header(f, "Content-Type");

	return ct && !strcasecmp(ct, type);
}

bool cli_frame_is_reply(const struct cli_frame *f)
{
	return cli_frame_is(f, "command/reply") || cli_frame_is(f, "api/response");
}
