/*
 * test_esl.c - the event socket's pure parts: the client frame parser and the
 * subscription/filter rules (spec/event-socket.md 2.1, 4.3, 4.4).
 */
#include <errno.h>
#include <stdlib.h>
#include <re.h>
#include "check.h"
#include "esl/esl_frame.h"
#include "esl/esl_sub.h"
#include "event/event.h"

static int parse(const char *in, size_t *used, struct esl_frame *f, char **bufp)
{
	char *buf = malloc(strlen(in) + 1);

	strcpy(buf, in);
	*bufp = buf;
	return esl_frame_parse(buf, strlen(in), used, f);
}

static void test_frames(void)
{
	struct esl_frame f;
	size_t used = 0;
	char *buf;

	CHECK_INT(parse("\n\r\nauth ClueCon\n\n", &used, &f, &buf), 0);
	CHECK_STR(f.cmd, "auth ClueCon");
	CHECK_INT(used, 17);
	free(buf);

	CHECK_INT(parse("sendevent CUSTOM\r\nEvent-Subclass:  a::b\r\nX: 1:2\r\n\r\nrest",
			&used, &f, &buf), 0);
	CHECK_STR(f.cmd, "sendevent CUSTOM");
	CHECK_INT(f.nhdrs, 2);
	CHECK_STR(esl_frame_header(&f, "event-subclass"), "a::b");
	CHECK_STR(esl_frame_header(&f, "X"), "1:2");
	CHECK_INT(used, strlen("sendevent CUSTOM\r\nEvent-Subclass:  a::b\r\nX: 1:2\r\n\r\n"));
	free(buf);

	/* Body of Content-Length bytes; a second frame may follow at once. */
	CHECK_INT(parse("sendevent CUSTOM\nContent-Length: 5\n\nhelloapi status\n\n",
			&used, &f, &buf), 0);
	CHECK(f.body && f.body_len == 5 && !memcmp(f.body, "hello", 5));
	CHECK_INT(used, 41);
	free(buf);

	/* Incomplete: no blank line yet, or body still arriving. */
	CHECK_INT(parse("api status\n", &used, &f, &buf), EAGAIN);
	free(buf);
	CHECK_INT(parse("sendevent X\nContent-Length: 10\n\nabc", &used, &f, &buf), EAGAIN);
	free(buf);

	/* A body that arrives in two reads: the first attempt must leave the buffer
	 * as it was, so the second parses the whole frame. */
	{
		char split[64] = "sendevent CUSTOM\nContent-Length: 5 \n\nab";
		size_t l1 = strlen(split);

		CHECK_INT(esl_frame_parse(split, l1, &used, &f), EAGAIN);
		memcpy(split + l1, "cdeapi x\n\n", 11);
		CHECK_INT(esl_frame_parse(split, l1 + 11, &used, &f), 0);
		CHECK(f.body && f.body_len == 5 && !memcmp(f.body, "abcde", 5));
		CHECK_STR(f.cmd, "sendevent CUSTOM");
		CHECK_INT(used, l1 + 3);
	}

	/* Lies and garbage. */
	CHECK_INT(parse("x\nContent-Length: -1\n\n", &used, &f, &buf), EBADMSG);
	free(buf);
	CHECK_INT(parse("x\nContent-Length: 12abc\n\n", &used, &f, &buf), EBADMSG);
	free(buf);
	CHECK_INT(parse("x\nContent-Length:\n\n", &used, &f, &buf), EBADMSG);
	free(buf);
	CHECK_INT(parse("x\nContent-Length: 99999999999\n\n", &used, &f, &buf), EBADMSG);
	free(buf);
	{
		size_t n = ESL_FRAME_MAX_HEAD + 10;
		char *big = malloc(n + 1);

		memset(big, 'a', n);
		big[n] = '\0';
		CHECK_INT(esl_frame_parse(big, n, &used, &f), E2BIG);
		free(big);
	}
}

static struct event *custom(const char *subclass)
{
	struct event *ev = NULL;

	event_alloc(&ev, EVENT_CUSTOM, subclass);
	return ev;
}

static void test_subscriptions(void)
{
	struct esl_sub *s = NULL;
	enum event_format fmt = EVENT_FMT_PLAIN;
	bool given;
	struct event *hb = NULL, *a = custom("my::a"), *b = custom("my::b");

	event_alloc(&hb, EVENT_HEARTBEAT, NULL);
	esl_sub_alloc(&s);
	CHECK(!esl_sub_match(s, hb));
	CHECK_INT(esl_sub_event(s, "json", &fmt, &given), 0);
	CHECK(given && fmt == EVENT_FMT_JSON);
	CHECK_INT(esl_sub_event(s, "NOPE", &fmt, &given), 0);

	CHECK_INT(esl_sub_event(s, "plain HEARTBEAT CUSTOM my::a", &fmt, &given), 3);
	CHECK(fmt == EVENT_FMT_PLAIN);
	CHECK(esl_sub_match(s, hb));
	CHECK(esl_sub_match(s, a));
	CHECK(!esl_sub_match(s, b));

	/* After CUSTOM every token is a subclass, even one that names an event. */
	esl_sub_clear(s);
	esl_sub_event(s, "CUSTOM HEARTBEAT", &fmt, &given);
	CHECK(!esl_sub_match(s, hb));

	esl_sub_clear(s);
	esl_sub_event(s, "ALL", &fmt, &given);
	CHECK(esl_sub_match(s, b));
	CHECK_INT(esl_sub_nix(s, "HEARTBEAT"), 1);
	CHECK(!esl_sub_match(s, hb));
	CHECK(esl_sub_match(s, a));
	CHECK(esl_sub_clear(s));
	CHECK(!esl_sub_clear(s));
	CHECK_INT(esl_sub_nix(s, ""), 0);

	mem_deref(s);
	event_deref(hb);
	event_deref(a);
	event_deref(b);
}

static void test_filters(void)
{
	struct esl_sub *s = NULL;
	enum event_format fmt;
	bool given;
	char reply[256];
	struct event *a = custom("my::a"), *b = custom("my::b");
	struct event *hb = NULL;

	event_alloc(&hb, EVENT_HEARTBEAT, NULL);
	esl_sub_alloc(&s);
	esl_sub_event(s, "ALL", &fmt, &given);

	esl_sub_filter(s, "Event-Subclass my::a", reply, sizeof(reply));
	CHECK_STR(reply, "+OK filter added. [Event-Subclass]=[my::a]");
	CHECK(esl_sub_match(s, a));
	CHECK(!esl_sub_match(s, b));
	CHECK(!esl_sub_match(s, hb));       /* lacks the header: not delivered */

	esl_sub_filter(s, "Event-Name /^HEART/", reply, sizeof(reply));
	CHECK(esl_sub_match(s, hb));
	esl_sub_filter(s, "add Event-Subclass -my::a", reply, sizeof(reply));
	CHECK(!esl_sub_match(s, a));        /* a negative match wins */

	esl_sub_filter(s, "delete Event-Subclass my::a", reply, sizeof(reply));
	CHECK_STR(reply, "+OK filter deleted. [Event-Subclass][my::a]");
	esl_sub_filter(s, "delete Event-Name NOPE", reply, sizeof(reply));
	CHECK_STR(reply, "+OK filter deleted. [Event-Name][NOPE]");
	esl_sub_filter(s, "Event-Name", reply, sizeof(reply));
	CHECK_STR(reply, "-ERR invalid syntax");
	esl_sub_filter(s, "delete all", reply, sizeof(reply));
	CHECK_STR(reply, "+OK filter deleted. [all][]");
	CHECK(esl_sub_match(s, b));

	mem_deref(s);
	event_deref(a);
	event_deref(b);
	event_deref(hb);
}

int main(void)
{
	test_frames();
	test_subscriptions();
	test_filters();
	return check_done();
}
