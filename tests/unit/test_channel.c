/*
 * test_channel.c - the channel object's contract with its endpoint: nothing
 * reaches the endpoint after its hangup freed its call (channel_media, the ops),
 * variable lookups fall back to the caller profile (uuid_getvar, hupall), and
 * digits nobody takes wait in the type-ahead queue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "check.h"
#include "channel/channel.h"
#include "channel/channel_api.h"
#include "core/api.h"
#include "core/log.h"
#include "core/vars.h"
#include "event/bus.h"
#include "event/event.h"

/* An endpoint call the way sip_call.c owns one: freed by the channel's hangup. */
struct fake_call {
	struct media_stream *ms;
	unsigned media_asked;
};

static unsigned hangups;

static void fake_hangup(struct channel *ch, enum hangup_cause cause, void *arg)
{
	(void)ch;
	(void)cause;
	hangups++;
	mem_deref(arg);
}

static struct media_stream *fake_media(struct channel *ch, void *arg)
{
	struct fake_call *call = arg;

	(void)ch;
	call->media_asked++;      /* a read of freed memory under ASan once gone */
	return call->ms;
}

static int fake_ok(struct channel *ch, void *arg)
{
	(void)ch;
	(void)arg;
	return 0;
}

static const struct channel_ops fake_ops = {
	.source = "mod_test",
	.answer = fake_ok,
	.pre_answer = fake_ok,
	.ring_ready = fake_ok,
	.hangup = fake_hangup,
	.media = fake_media,
};

static struct channel *new_channel(void)
{
	struct fake_call *call = mem_zalloc(sizeof(*call), NULL);
	struct channel *ch = NULL;

	if (!call || channel_alloc(&ch, &fake_ops, call, CHANNEL_INBOUND, "test/1", NULL)) {
		mem_deref(call);
		return NULL;
	}
	channel_profile_set(&channel_profile(ch)->ani, "5551234");
	channel_profile_set(&channel_profile(ch)->caller_id_number, "1000");
	channel_profile_set(&channel_profile(ch)->destination_number, "9664");
	channel_start(ch);
	return ch;
}

static void test_media_after_hangup(void)
{
	struct channel *ch = new_channel();
	struct fake_call *call;

	CHECK(ch != NULL);
	if (!ch)
		return;
	mem_ref(ch);      /* as a bridge, an application or a Lua session holds it */
	call = channel_ep_arg(ch);
	CHECK(call != NULL);
	CHECK(channel_media(ch) == NULL);     /* the fake call has no stream */
	CHECK_INT(call->media_asked, 1);
	channel_hangup(ch, CAUSE_NORMAL_CLEARING);
	CHECK_INT(hangups, 1);
	/* The call is freed: none of these may reach it. */
	CHECK(channel_media(ch) == NULL);
	CHECK(channel_ep_arg(ch) == NULL);
	CHECK(channel_answer(ch) != 0);
	CHECK(channel_pre_answer(ch) != 0);
	CHECK(channel_send_dtmf(ch, "1", 100) != 0);
	channel_hangup(ch, CAUSE_NORMAL_CLEARING);
	CHECK_INT(hangups, 1);
	mem_deref(ch);
}

static char *api_out(const char *cmd, const char *args)
{
	static char buf[512];
	struct mbuf *mb = mbuf_alloc(256);

	buf[0] = '\0';
	if (mb && !api_exec_sync(mb, cmd, args))
		snprintf(buf, sizeof(buf), "%.*s", (int)mb->end, (char *)mb->buf);
	mem_deref(mb);
	return buf;
}

static void test_profile_lookup(void)
{
	struct channel *ch = new_channel();
	char args[128];

	CHECK(ch != NULL);
	if (!ch)
		return;
	CHECK_STR(channel_var_lookup(ch, "ani"), "5551234");
	CHECK(channel_var(ch, "ani") == NULL);
	snprintf(args, sizeof(args), "%s ani", channel_uuid(ch));
	CHECK_STR(api_out("uuid_getvar", args), "5551234");
	snprintf(args, sizeof(args), "%s destination_number", channel_uuid(ch));
	CHECK_STR(api_out("uuid_getvar", args), "9664");
	snprintf(args, sizeof(args), "%s chan_name", channel_uuid(ch));
	CHECK_STR(api_out("uuid_getvar", args), "test/1");
	snprintf(args, sizeof(args), "%s no_such_var", channel_uuid(ch));
	CHECK_STR(api_out("uuid_getvar", args), "_undef_");
	/* A variable of that name wins over the profile field. */
	channel_var_set(ch, "ani", "override");
	snprintf(args, sizeof(args), "%s ani", channel_uuid(ch));
	CHECK_STR(api_out("uuid_getvar", args), "override");
	channel_var_set(ch, "ani", NULL);
	/* hupall matches on the same lookup. */
	api_out("hupall", "NORMAL_CLEARING ani 000");
	CHECK(channel_find(channel_uuid(ch)) == ch);
	api_out("hupall", "NORMAL_CLEARING ani 5551234");
	CHECK(channel_count() == 0);
}

static unsigned told;

/* A reader (read, a bridge) takes even digits; odd ones it only hears. */
static void taking_watch(struct channel *ch, enum channel_note note, const char *data,
			 void *arg)
{
	(void)arg;
	if (note != CHANNEL_NOTE_DTMF)
		return;
	told++;
	if ((*data - '0') % 2 == 0)
		channel_dtmf_take(ch);
}

/* bind_meta_app's place: '*' never arrives. */
static bool star_filter(struct channel *ch, char digit, bool to_phone, void *arg)
{
	(void)ch;
	(void)to_phone;
	(void)arg;
	return digit == '*';
}

static void test_dtmf_queue(void)
{
	struct channel *ch = new_channel();
	struct channel_watch *w = NULL;
	char d, *marker = mem_zalloc(1, NULL);
	unsigned i;

	CHECK(ch != NULL && marker != NULL);
	if (!ch || !marker)
		goto out;
	channel_dtmf_received(ch, '1', 100, "RTP");
	channel_dtmf_received(ch, '2', 100, "RTP");
	CHECK_INT(channel_dtmf_pending(ch), 2);
	CHECK(channel_dtmf_pop(ch, &d) && d == '1');
	CHECK(channel_dtmf_pop(ch, &d) && d == '2');
	CHECK(!channel_dtmf_pop(ch, &d));

	CHECK(channel_watch(&w, ch, taking_watch, NULL) == 0);
	channel_dtmf_received(ch, '3', 100, "RTP");
	channel_dtmf_received(ch, '4', 100, "RTP");
	CHECK_INT(told, 2);
	CHECK_INT(channel_dtmf_pending(ch), 1);
	CHECK(channel_dtmf_pop(ch, &d) && d == '3');
	w = mem_deref(w);

	channel_set_dtmf_filter(ch, star_filter, marker);
	channel_dtmf_received(ch, '*', 100, "RTP");
	CHECK_INT(channel_dtmf_pending(ch), 0);
	channel_set_dtmf_filter(ch, NULL, NULL);

	/* Full: the oldest digits stay, the newest go. */
	for (i = 0; i < CHANNEL_DTMF_QUEUE + 10; i++)
		channel_dtmf_received(ch, (char)('0' + i % 10), 100, "RTP");
	CHECK_INT(channel_dtmf_pending(ch), CHANNEL_DTMF_QUEUE);
	CHECK(channel_dtmf_pop(ch, &d) && d == '0');
	channel_dtmf_flush(ch);
	CHECK_INT(channel_dtmf_pending(ch), 0);
	channel_dtmf_received(ch, '9', 100, "RTP");
	CHECK(channel_dtmf_pop(ch, &d) && d == '9');

	/* A channel hanging up queues nothing. */
	mem_ref(ch);
	channel_hangup(ch, CAUSE_NORMAL_CLEARING);
	channel_dtmf_received(ch, '5', 100, "RTP");
	CHECK_INT(channel_dtmf_pending(ch), 0);
	mem_deref(ch);
 out:
	mem_deref(marker);
}

int main(void)
{
	struct event_identity id = {"00000000-0000-0000-0000-000000000000", "test",
				    "test", "127.0.0.1", "::1"};

	libre_init();
	vars_init();
	api_init();
	bus_init();
	event_identity_set(&id);
	if (!getenv("TEST_VERBOSE"))
		log_set_console(false);
	channel_init();
	channel_api_init();

	test_media_after_hangup();
	test_profile_lookup();
	test_dtmf_queue();

	channel_close();
	bus_close();
	api_close();
	vars_close();
	libre_close();
	return check_done();
}
