/*
 * test_dialplan_meta.c - bind_meta_app and unbind_meta_app: parsing the
 * arguments, the meta key state machine (swallowing, ** once, the timeout)
 * and two bridged synthetic channels relaying, swallowing and running codes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "check.h"
#include "loop_check.h"
#include "channel/bridge.h"
#include "channel/channel.h"
#include "core/api.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/vars.h"
#include "dialplan/app.h"
#include "dialplan/dialplan_int.h"
#include "event/bus.h"
#include "event/event.h"

/* What each test channel's "phone" was sent as DTMF. */
static char sent_a[64], sent_b[64];
static struct channel *cha, *chb;

static int ok_op(struct channel *ch, void *arg)
{
	(void)ch;
	(void)arg;
	return 0;
}

static int dtmf_op(struct channel *ch, const char *digits, unsigned ms, void *arg)
{
	char *buf = ch == cha ? sent_a : sent_b;

	(void)ms;
	(void)arg;
	strncat(buf, digits, 63 - strlen(buf));
	return 0;
}

static const struct channel_ops test_ops = {
	.source = "mod_test",
	.pre_answer = ok_op,
	.ring_ready = ok_op,
	.answer = ok_op,
	.send_dtmf = dtmf_op,
};

static void press(struct channel *ch, const char *digits)
{
	for (; *digits; digits++)
		channel_dtmf_received(ch, *digits, 100, "RTP");
	check_run_loop(20);
}

static void test_parse(void)
{
	struct dp_meta_spec sp;
	const char *why = NULL;

	CHECK_INT(dp_meta_parse("1 ab s execute_extension::meta_conference XML features", '*',
				&sp, &why), 0);
	CHECK_INT(sp.key, 1);
	CHECK(sp.listen_a && sp.listen_b && !sp.multi);
	CHECK_INT(sp.bind.on, DP_META_SAME);
	CHECK(!sp.bind.inline_exec && !sp.bind.once);
	CHECK_STR(sp.bind.app, "execute_extension::meta_conference XML features");

	CHECK_INT(dp_meta_parse("D b oi1 playback::x.wav", '*', &sp, &why), 0);
	CHECK_INT(sp.key, 13);
	CHECK(!sp.listen_a && sp.listen_b);
	CHECK_INT(sp.bind.on, DP_META_OPPOSITE);
	CHECK(sp.bind.inline_exec && sp.bind.once);

	/* Two legs: an error, the first (a, b, o, s) is used, as mod_dptools. */
	CHECK_INT(dp_meta_parse("2 a bs hangup::", '*', &sp, &why), 0);
	CHECK(sp.multi);
	CHECK_INT(sp.bind.on, DP_META_BLEG);
	CHECK_INT(dp_meta_parse("2 a x foo", '*', &sp, &why), 0);
	CHECK_INT(sp.bind.on, DP_META_ALEG);        /* FreeSWITCH's default */

	CHECK_INT(dp_meta_parse("1 a s", '*', &sp, &why), EINVAL);
	CHECK(why && strstr(why, "Usage: <key> [a|b|ab]"));
	CHECK_INT(dp_meta_parse("", '*', &sp, &why), EINVAL);
	CHECK(why && strstr(why, "Usage:"));
	why = NULL;
	CHECK_INT(dp_meta_parse("# a s foo", '*', &sp, &why), EINVAL);
	CHECK(why && strstr(why, "Invalid key"));
	CHECK_INT(dp_meta_parse("12 a s foo", '*', &sp, &why), EINVAL);
	CHECK(why && strstr(why, "Invalid key"));
	CHECK_INT(dp_meta_parse("5 a s foo", '5', &sp, &why), EINVAL);
	CHECK(why && strstr(why, "same as META CHAR"));
}

static void test_digits(void)
{
	struct dp_meta_dir d = {0};
	struct dp_meta_bind *b = NULL;
	char app[] = "x::y";

	CHECK_INT(dp_meta_digit(&d, '*', 0, &b), DP_META_PASS);   /* not listening */
	d.meta = '*';
	d.map[1].app = app;
	CHECK_INT(dp_meta_digit(&d, '5', 100, &b), DP_META_PASS);
	CHECK_INT(dp_meta_digit(&d, '*', 200, &b), DP_META_ARMED);
	CHECK_INT(dp_meta_digit(&d, '1', 300, &b), DP_META_RUN);
	CHECK(b == &d.map[1]);
	CHECK_INT(dp_meta_digit(&d, '1', 400, &b), DP_META_PASS);  /* disarmed */
	CHECK_INT(dp_meta_digit(&d, '*', 500, &b), DP_META_ARMED);
	CHECK_INT(dp_meta_digit(&d, '9', 600, &b), DP_META_UNMAPPED);
	CHECK_INT(dp_meta_digit(&d, '*', 700, &b), DP_META_ARMED);
	CHECK_INT(dp_meta_digit(&d, '#', 800, &b), DP_META_UNMAPPED);
	/* The meta key twice: the second goes through. */
	CHECK_INT(dp_meta_digit(&d, '*', 900, &b), DP_META_ARMED);
	CHECK_INT(dp_meta_digit(&d, '*', 1000, &b), DP_META_PASS);
	CHECK_INT(dp_meta_digit(&d, '1', 1100, &b), DP_META_PASS);
	/* Armed, then nothing for over 5 s: the next digit passes and disarms. */
	CHECK_INT(dp_meta_digit(&d, '*', 2000, &b), DP_META_ARMED);
	CHECK_INT(dp_meta_digit(&d, '1', 7001, &b), DP_META_TIMEOUT);
	CHECK_INT(dp_meta_digit(&d, '1', 7100, &b), DP_META_PASS);
	CHECK_INT(dp_meta_digit(&d, '*', 8000, &b), DP_META_ARMED);
	CHECK_INT(dp_meta_digit(&d, '1', 13000, &b), DP_META_RUN); /* exactly 5 s: in time */
	CHECK_INT(dp_meta_key('a'), 10);
	CHECK_INT(dp_meta_key('C'), 12);
	CHECK_INT(dp_meta_key('*'), -1);
}

static struct channel *new_channel(const char *name)
{
	struct channel *ch = NULL;

	if (channel_alloc(&ch, &test_ops, NULL, CHANNEL_INBOUND, name, NULL))
		return NULL;
	return mem_ref(ch);
}

static void test_bridged(void)
{
	struct bridge *br = NULL;

	cha = new_channel("test/a");
	chb = new_channel("test/b");
	CHECK(cha && chb);
	if (!cha || !chb)
		return;
	CHECK_INT(app_execute(cha, "bind_meta_app", "1 ab si set::hit=${hit}x", NULL, NULL,
			      NULL), 0);
	CHECK_INT(app_execute(cha, "bind_meta_app", "2 b o set::opp=yes", NULL, NULL, NULL), 0);
	CHECK_INT(app_execute(cha, "bind_meta_app", "3 a b1 set::once=${once}x", NULL, NULL,
			      NULL), 0);
	CHECK_INT(app_execute(cha, "bind_meta_app", "4 q", NULL, NULL, NULL), EINVAL);
	CHECK_INT(channel_bridge(&br, cha, chb, NULL, NULL), 0);

	press(cha, "5");
	CHECK_STR(sent_b, "5");
	press(cha, "*1");
	CHECK_STR(channel_var(cha, "hit"), "x");     /* s: on A, which pressed it */
	CHECK_STR(sent_b, "5");                       /* neither * nor 1 relayed */
	press(chb, "*1");
	CHECK_STR(channel_var(chb, "hit"), "x");     /* s: B pressed it (heard by A) */
	CHECK_STR(sent_a, "");
	press(chb, "*2");
	CHECK_STR(channel_var(cha, "opp"), "yes");   /* o: B pressed, A runs it */
	CHECK(channel_var(chb, "opp") == NULL);
	/* 3 listens to a only: from B it is a digit not mapped, swallowed too. */
	press(chb, "*3");
	CHECK_STR(sent_a, "");
	press(cha, "*3");
	press(cha, "*3");
	CHECK_STR(channel_var(chb, "once"), "x");    /* b, once: the second *3 is unmapped */
	press(cha, "**");
	CHECK_STR(sent_b, "5*");
	press(cha, "*9");
	CHECK_STR(sent_b, "5*");

	CHECK_INT(app_execute(cha, "unbind_meta_app", "1", NULL, NULL, NULL), 0);
	press(cha, "*1");
	CHECK_STR(channel_var(cha, "hit"), "x");     /* unbound, * still swallowed */
	CHECK_STR(sent_b, "5*");
	CHECK_INT(app_execute(cha, "unbind_meta_app", "z", NULL, NULL, NULL), EINVAL);
	CHECK_INT(app_execute(cha, "unbind_meta_app", "", NULL, NULL, NULL), 0);
	press(cha, "*1");
	CHECK_STR(sent_b, "5**1");                    /* nothing bound: all relayed */

	/* Binding again after unbinding all; key 0 unbinds all, as FreeSWITCH. */
	CHECK_INT(app_execute(cha, "bind_meta_app", "1 a s set::hit=again", NULL, NULL, NULL), 0);
	press(cha, "*1");
	CHECK_STR(channel_var(cha, "hit"), "again");
	CHECK_INT(app_execute(cha, "unbind_meta_app", "0", NULL, NULL, NULL), 0);
	press(cha, "*1");
	CHECK_STR(sent_b, "5**1*1");

	/* With bind_meta_key set, that key is the meta key. */
	channel_var_set(cha, "bind_meta_key", "#");
	CHECK_INT(app_execute(cha, "bind_meta_app", "7 a s set::hash=yes", NULL, NULL, NULL), 0);
	press(cha, "*7#7");
	CHECK_STR(channel_var(cha, "hash"), "yes");
	CHECK_STR(sent_b, "5**1*1*7");

	mem_deref(br);
	channel_hangup(cha, CAUSE_NORMAL_CLEARING);
	channel_hangup(chb, CAUSE_NORMAL_CLEARING);
	check_run_loop(10);
	cha = mem_deref(cha);
	chb = mem_deref(chb);
}

int main(void)
{
	struct event_identity id = {"00000000-0000-0000-0000-000000000000", "test",
				    "test", "127.0.0.1", "::1"};

	libre_init();
	vars_init();
	api_init();
	bus_init();
	loop_init();
	event_identity_set(&id);
	if (!getenv("TEST_VERBOSE"))
		log_set_console(false);
	channel_init();
	app_init();

	test_parse();
	test_digits();
	test_bridged();

	channel_close();
	app_close();
	loop_close();
	bus_close();
	api_close();
	vars_close();
	libre_close();
	return check_done();
}
