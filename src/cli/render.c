/*
 * render.c - shows server frames to a human: api bodies verbatim, log lines coloured
 * by level, events with their headers url-decoded one per line, disconnect notices.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"

/* fs_cli's COLORS[] (FreeSWITCH libs/esl/fs_cli.c), indexed by Log-Level 0..7:
 * console default, alert/crit/err red, warning magenta, notice cyan, info green,
 * debug yellow. Alert and crit are bold here as well so they stand out from err. */
static const char *const level_color[8] = {
	"\033[0m", "\033[1;31m", "\033[1;31m", "\033[31m",
	"\033[35m", "\033[36m", "\033[32m", "\033[33m",
};
#define COLOR_RESET "\033[0m"

void cli_print_body(FILE *fp, const char *body, size_t len)
{
	if (len > 0)
		fwrite(body, 1, len, fp);
	if (len == 0 || body[len - 1] != '\n')
		fputc('\n', fp);
}

void cli_print_reply(FILE *fp, const struct cli_frame *reply)
{
	const char *text = cli_frame_header(reply, "Reply-Text");

	if (cli_frame_is(reply, "api/response"))
		cli_print_body(fp, reply->body ? reply->body : "", reply->bodylen);
	else
		fprintf(fp, "%s\n", text ? text : "");
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	return (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10 : -1;
}

/* Like switch_url_decode: only %XX; "+" stays "+" (FreeSWITCH encodes it as %2B). */
size_t cli_url_decode(char *s)
{
	char *o = s;
	const char *i = s;
	int hi, lo;

	while (*i) {
		hi = i[0] == '%' && i[1] ? hexval((unsigned char)i[1]) : -1;
		lo = hi >= 0 && i[2] ? hexval((unsigned char)i[2]) : -1;
		if (lo >= 0) {
			*o++ = (char)(hi * 16 + lo);
			i += 3;
		} else {
			*o++ = *i++;
		}
	}
	*o = '\0';
	return (size_t)(o - s);
}

static void print_log(FILE *fp, const struct cli_frame *f, bool color)
{
	const char *lvl = cli_frame_header(f, "Log-Level");
	long level = lvl && isdigit((unsigned char)*lvl) ? strtol(lvl, NULL, 10) : -1;
	const char *on = color && level >= 0 && level <= 7 ? level_color[level] : NULL;
	size_t len = f->bodylen;

	if (len > 0 && f->body[len - 1] == '\n')
		len--;
	if (on)
		fputs(on, fp);
	if (len > 0)
		fwrite(f->body, 1, len, fp);
	if (on)
		fputs(COLOR_RESET, fp);
	fputc('\n', fp);
}

/* A text/event-plain body is itself a header block (values url-encoded) with an
 * optional Content-Length body (spec §4.2's BACKGROUND_JOB example). */
static void print_plain_event(FILE *fp, const struct cli_frame *f)
{
	struct cli_frame ev = { 0 };
	size_t used;

	if (cli_frame_parse(&ev, f->body, f->bodylen, &used) != 0) {
		cli_print_body(fp, f->body, f->bodylen);
		return;
	}
	for (size_t i = 0; i < ev.hdrc; i++) {
		cli_url_decode(ev.hdrv[i].value);
		fprintf(fp, "%s: %s\n", ev.hdrv[i].name, ev.hdrv[i].value);
	}
	if (ev.body) {
		fputc('\n', fp);
		cli_print_body(fp, ev.body, ev.bodylen);
	}
	cli_frame_reset(&ev);
}

static void print_event(FILE *fp, const struct cli_frame *f)
{
	const char *body = f->body ? f->body : "";

	fputs("RECV EVENT\n", fp);
	if (cli_frame_is(f, "text/event-plain"))
		print_plain_event(fp, f);
	else if (!cli_frame_is(f, "text/event-json") ||
		 cli_json_event_print(fp, body, f->bodylen) != 0)
		cli_print_body(fp, body, f->bodylen);
	fputc('\n', fp);
}

void cli_print_frame(FILE *fp, const struct cli_frame *f, bool color)
{
	const char *type = cli_frame_header(f, "Content-Type");
	const char *body = f->body ? f->body : "";

	if (cli_frame_is(f, "log/data"))
		print_log(fp, f, color);
	else if (type && !strncasecmp(type, "text/event-", 11))
		print_event(fp, f);
	else if (cli_frame_is_reply(f))
		cli_print_reply(fp, f);
	else if (cli_frame_is(f, "text/disconnect-notice") && f->bodylen > 0)
		cli_print_body(fp, body, f->bodylen);
	else if (cli_frame_is(f, "text/disconnect-notice"))
		fputs("Disconnected.\n", fp);
	else {
		fprintf(fp, "RECV %s\n", type ? type : "(no Content-Type)");
		if (f->bodylen > 0)
			cli_print_body(fp, body, f->bodylen);
	}
}
