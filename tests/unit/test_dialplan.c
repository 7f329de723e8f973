/*
 * test_dialplan.c - the XML dialplan (spec/core.md 5-6): loading and its errors,
 * hunting (captures, break, continue, anti-actions, regex modes, nesting, time,
 * ${var} fields, inline actions) and routing synthetic channels through the
 * router: transfer, execute_extension, no route, the flow applications.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "check.h"
#include "loop_check.h"
#include "channel/channel.h"
#include "channel/originate.h"
#include "core/api.h"
#include "core/config.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/vars.h"
#include "dialplan/app.h"
#include "dialplan/dialplan.h"
#include "event/bus.h"
#include "event/event.h"

#define FIXTURES "data/dialplan/"

/* A channel without an endpoint behind it: every request succeeds at once. */
static int ok_op(struct channel *ch, void *arg)
{
	return 0;
}

static const struct channel_ops test_ops = {
	.source = "mod_test",
	.pre_answer = ok_op,
	.ring_ready = ok_op,
	.answer = ok_op,
};

static struct config *cfg_file(const char *name, char *err, size_t errsz)
{
	char path[256], *buf;
	struct config *cfg = NULL;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), FIXTURES "%s", name);
	f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errsz, "cannot open %s", path);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n)
		config_parse_buf(&cfg, buf, (size_t)n, name, err, errsz);
	free(buf);
	fclose(f);
	return cfg;
}

static struct channel *new_channel(const char *dest, const char *cid)
{
	static unsigned n;
	struct channel *ch = NULL;
	char name[64];

	snprintf(name, sizeof(name), "test/%u", ++n);
	if (channel_alloc(&ch, &test_ops, NULL, CHANNEL_INBOUND, name, NULL))
		return NULL;
	channel_profile_set(&channel_profile(ch)->destination_number, dest);
	channel_profile_set(&channel_profile(ch)->caller_id_number, cid);
	channel_profile_set(&channel_profile(ch)->caller_id_name, "Tester");
	channel_var_set(ch, "destination_number", dest);
	return mem_ref(ch);
}

/*
 * Routing happens on the next loop turns: run the loop until the channel is
 * hung up or parked (at most half a second).
 */
static void settle_ch(struct channel *ch)
{
	int i;

	for (i = 0; i < 100; i++) {
		check_run_loop(5);
		if (!channel_up(ch) || channel_state(ch) == CS_PARK)
			break;
	}
}

static void settle(void)
{
	check_run_loop(30);
}

/* Route a new call through the router; the test keeps a reference. */
static struct channel *call(const char *dest, const char *cid)
{
	struct channel *ch = new_channel(dest, cid);

	if (ch) {
		channel_start(ch);
		settle_ch(ch);
	}
	return ch;
}

static void done_with(struct channel *ch)
{
	if (!ch)
		return;
	channel_hangup(ch, CAUSE_NORMAL_CLEARING);
	mem_deref(ch);
}

/* Hunt without executing; "" when nothing matched. */
static char plan_buf[2048];
static const char *plan(struct dialplan *dp, const char *dest, const char *cid,
			const char *var, const char *value)
{
	struct channel *ch = new_channel(dest, cid);
	char *text = NULL;
	int err;

	plan_buf[0] = '\0';
	if (!ch)
		return "(no channel)";
	if (var)
		channel_var_set(ch, var, value);
	err = dialplan_hunt_text(dp, ch, NULL, NULL, &text);
	if (!err)
		snprintf(plan_buf, sizeof(plan_buf), "%s", text);
	else if (err != ENOENT)
		snprintf(plan_buf, sizeof(plan_buf), "(error %d)", err);
	mem_deref(text);
	done_with(ch);
	return plan_buf;
}

static void test_load_errors(void)
{
	static const struct { const char *file, *want; } cases[] = {
		{"bad_regex.xml", "bad_regex.xml:5: bad regular expression \"^(12$\""},
		{"bad_break.xml", "bad_break.xml:5: unknown break=\"sometimes\""},
		{"no_app.xml", "no_app.xml:6: <action> without application"},
		{"bad_inline.xml", "bad_inline.xml:6: application 'bridge' cannot run inline"},
		{"bad_time.xml", "bad_time.xml:5: bad time condition wday=\"mon-funday\""},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char err[512] = "";
		struct config *cfg = cfg_file(cases[i].file, err, sizeof(err));
		struct dialplan *dp = NULL;

		CHECK(cfg != NULL);
		CHECK_INT(dialplan_compile(&dp, cfg, err, sizeof(err)) != 0, 1);
		CHECK(dp == NULL);
		if (strncmp(err, cases[i].want, strlen(cases[i].want)))
			fprintf(stderr, "got: %s\n", err);
		CHECK(!strncmp(err, cases[i].want, strlen(cases[i].want)));
		mem_deref(cfg);
	}
}

static void test_hunt(struct dialplan *dp)
{
	CHECK_INT(dialplan_context_count(dp), 3);
	/* Captures: $N and ${N}; unset or absent groups are empty; $x and ${x} stay. */
	CHECK_STR(plan(dp, "1005", "1000", NULL, NULL),
		  "set(got=1005|1005|||$x|${x})\nbridge(user/1005@${domain_name})\n");
	/* break="on-true" stops after a true condition; a false one goes on. */
	CHECK_STR(plan(dp, "2001", "1000", NULL, NULL), "set(first=yes)\n");
	CHECK_STR(plan(dp, "2001", "1001", NULL, NULL), "set(second=yes)\n");
	/* break=never: a false condition's anti-action, and the next one still runs. */
	CHECK_STR(plan(dp, "2002", "1000", NULL, NULL), "set(a=0)\nset(b=1)\n");
	CHECK_STR(plan(dp, "2003", "1000", NULL, NULL), "set(a=1)\n");
	/* continue="true" collects the next matching extension, which ends the hunt. */
	CHECK_STR(plan(dp, "2004", "1000", NULL, NULL), "set(c1=1)\nset(c2=1)\n");
	CHECK_STR(plan(dp, "2005", "1000", NULL, NULL), "set(c2=1)\n");
	/* ${var} fields, anti-actions. */
	CHECK_STR(plan(dp, "2006", "1000", "vip", "yes"), "set(route=vip)\n");
	CHECK_STR(plan(dp, "2006", "1000", NULL, NULL), "set(route=normal)\n");
	/* Inline set runs while hunting: the next condition already sees it. */
	CHECK_STR(plan(dp, "2007", "1000", NULL, NULL),
		  "set(later=${seen})\nset(checked=yes)\n");
	/* regex="all|any|xor"; $1 from the last capturing <regex>. */
	CHECK_STR(plan(dp, "2008", "1234", NULL, NULL), "set(all=1234)\n");
	CHECK_STR(plan(dp, "2008", "999", NULL, NULL), "set(all=no)\n");
	CHECK_STR(plan(dp, "2010", "1000", NULL, NULL), "set(any=yes)\n");
	CHECK_STR(plan(dp, "2011", "1001", NULL, NULL), "set(xor=yes)\n");
	CHECK_STR(plan(dp, "2011", "1000", NULL, NULL), "set(xor=no)\n");
	/* Nested conditions; require-nested="false" keeps a failing one harmless. */
	CHECK_STR(plan(dp, "2012", "1000", NULL, NULL), "set(outer=1)\nset(inner=1000)\n");
	CHECK_STR(plan(dp, "2012", "1001", NULL, NULL), "set(outer=1)\n");
	/* Time conditions. */
	CHECK_STR(plan(dp, "2013", "1000", NULL, NULL), "set(open=yes)\nset(party=later)\n");
	/* "_3NXX" Asterisk patterns, "/re/i" flags, ${} inside an expression. */
	CHECK_STR(plan(dp, "3200", "1000", NULL, NULL), "set(ast=yes)\n");
	CHECK_STR(plan(dp, "3100", "1000", NULL, NULL), "");
	CHECK_STR(plan(dp, "9", "1000", "word", "HeLLo"), "set(caseless=yes)\n");
	CHECK_STR(plan(dp, "7777", "1000", "want", "7777"), "set(dynamic=yes)\n");
	CHECK_STR(plan(dp, "4008", "1000", NULL, NULL),
		  "log(DEBUG again)\nlog(DEBUG again)\nlog(DEBUG again)\n");
	/* Nothing matches. */
	CHECK_STR(plan(dp, "999999", "1000", NULL, NULL), "");
}

static void test_wrapped_context(struct dialplan *dp)
{
	struct channel *ch = new_channel("x", "1");
	char *text = NULL;

	CHECK_INT(dialplan_hunt_text(dp, ch, "wrapped", NULL, &text), 0);
	CHECK_STR(text, "set(wrapped=yes)\n");
	mem_deref(text);
	done_with(ch);
}

static void test_route_basic(void)
{
	struct channel *ch;

	/* Inline set left its variable; the actions ran; the end hangs up. */
	ch = call("2007", "1000");
	CHECK_STR(channel_var(ch, "seen"), "2007");
	CHECK_STR(channel_var(ch, "later"), "2007");
	CHECK_STR(channel_var(ch, "checked"), "yes");
	CHECK(!channel_up(ch));
	CHECK_INT(channel_cause(ch), CAUSE_NORMAL_CLEARING);
	mem_deref(ch);

	ch = call("999999", "1000");
	CHECK(!channel_up(ch));
	CHECK_INT(channel_cause(ch), CAUSE_NO_ROUTE_DESTINATION);
	mem_deref(ch);

	/* park keeps the channel. */
	ch = call("4003", "1000");
	CHECK(channel_up(ch));
	CHECK_INT(channel_state(ch), CS_PARK);
	done_with(ch);

	ch = call("4004", "1000");
	CHECK_INT(channel_cause(ch), CAUSE_DESTINATION_OUT_OF_ORDER);
	CHECK(channel_var(ch, "after") == NULL);
	mem_deref(ch);

	/* A failed bridge ends the call with its cause, not NORMAL_CLEARING ... */
	ch = call("4009", "1000");
	CHECK_INT(channel_cause(ch), CAUSE_USER_BUSY);
	CHECK(channel_var(ch, "after") == NULL);
	mem_deref(ch);
	/* ... unless continue_on_fail says to carry on. */
	ch = call("4010", "1000");
	CHECK_STR(channel_var(ch, "after"), "USER_BUSY");
	CHECK_INT(channel_cause(ch), CAUSE_NORMAL_CLEARING);
	mem_deref(ch);
}

static void test_transfer(void)
{
	struct channel *ch = call("4000", "1000");

	CHECK_STR(channel_var(ch, "before"), "1");
	CHECK(channel_var(ch, "after") == NULL);     /* the transfer ended that list */
	CHECK_STR(channel_var(ch, "landed"), "yes");
	CHECK_STR(channel_profile(ch)->context, "other");
	CHECK_STR(channel_profile(ch)->transfer_source, "4000");
	CHECK_INT(channel_cause(ch), CAUSE_USER_BUSY);
	mem_deref(ch);

	/* A transfer to itself stops at max_session_transfers. */
	ch = new_channel("4002", "1000");
	channel_var_set(ch, "max_session_transfers", "5");
	channel_start(ch);
	settle_ch(ch);
	CHECK(!channel_up(ch));
	CHECK_INT(channel_cause(ch), CAUSE_EXCHANGE_ROUTING_ERROR);
	mem_deref(ch);

	/* From outside (uuid_transfer) while parked. */
	ch = call("4003", "1000");
	CHECK(channel_up(ch));
	channel_transfer(ch, "5000", "XML", "other");
	settle_ch(ch);
	CHECK_STR(channel_var(ch, "landed"), "yes");
	CHECK_INT(channel_cause(ch), CAUSE_USER_BUSY);
	mem_deref(ch);
}

/*
 * Waiting executions are found by channel: a transfer breaks the park of the
 * channel it moves and of no other, however many calls are parked.
 */
static void test_break_among_many(void)
{
	enum { N = 40 };
	struct channel *chs[N];
	int i;

	for (i = 0; i < N; i++) {
		chs[i] = call("4003", "1000");
		CHECK(chs[i] && channel_state(chs[i]) == CS_PARK);
	}
	channel_transfer(chs[N / 2], "5000", "XML", "other");
	settle_ch(chs[N / 2]);
	CHECK_STR(channel_var(chs[N / 2], "landed"), "yes");
	CHECK_INT(channel_cause(chs[N / 2]), CAUSE_USER_BUSY);
	for (i = 0; i < N; i++) {
		if (i == N / 2)
			continue;
		CHECK(channel_up(chs[i]));
		CHECK_INT(channel_state(chs[i]), CS_PARK);
		CHECK(channel_var(chs[i], "landed") == NULL);
	}
	/* Each hangup completes its own park only. */
	for (i = 0; i < N; i++) {
		if (i != N / 2)
			channel_hangup(chs[i], CAUSE_NORMAL_CLEARING);
		if (i + 1 < N && i + 1 != N / 2)
			CHECK(channel_up(chs[i + 1]));
	}
	settle();
	for (i = 0; i < N; i++)
		mem_deref(chs[i]);
}

static void test_execute_extension(void)
{
	struct channel *ch = call("4001", "1000");

	CHECK_STR(channel_var(ch, "trail"), "ABC");
	CHECK_STR(channel_var(ch, "sub_of"), "4001");
	CHECK_INT(channel_cause(ch), CAUSE_NORMAL_CLEARING);
	mem_deref(ch);

	/* On a parked channel, from outside the dialplan (sendmsg execute). */
	ch = call("4003", "1000");
	CHECK_INT(app_execute(ch, "execute_extension", "sub-77 XML other", NULL, NULL, NULL),
		  EINPROGRESS);
	settle();
	CHECK_STR(channel_var(ch, "sub_of"), "77");
	CHECK(channel_up(ch));               /* still parked afterwards */
	done_with(ch);
}

static struct event *last_custom;

static bool custom_match(const struct event *ev, void *arg)
{
	return event_get_id(ev) == EVENT_CUSTOM;
}

static void custom_wake(void *arg)
{
	struct bus_sub *sub = *(struct bus_sub **)arg;
	struct event *ev;

	while ((ev = bus_pop(sub, NULL))) {
		event_deref(last_custom);
		last_custom = ev;
	}
}

static void test_flow_apps(void)
{
	struct bus_sub *sub = NULL;
	struct channel *ch;
	char *g;

	CHECK_INT(bus_subscribe(&sub, 0, custom_match, custom_wake, &sub), 0);
	ch = call("4007", "1000");
	CHECK_STR(channel_var(ch, "foo"), "baz");
	CHECK_STR(channel_var(ch, "export_vars"), "foo,nolocal:hidden");
	CHECK_STR(channel_var(ch, "nolocal:hidden"), "1");
	CHECK(channel_var(ch, "hidden") == NULL);
	CHECK(channel_var(ch, "gone") == NULL);
	g = vars_global_dup("dp_test_global");
	CHECK_STR(g, "42");
	mem_deref(g);
	CHECK(last_custom != NULL);
	if (last_custom) {
		CHECK_STR(event_get_subclass(last_custom), "dp::test");
		CHECK_STR(event_header(last_custom, "X-Flag"), "on,off");
		CHECK_STR(event_header(last_custom, "Unique-ID"), channel_uuid(ch));
	}
	/* respond 404: the call ends with the cause SIP 404 maps to. */
	CHECK_STR(channel_var(ch, "respond_code"), "404");
	CHECK_INT(channel_cause(ch), CAUSE_UNALLOCATED_NUMBER);
	CHECK(channel_var(ch, "after") == NULL);
	mem_deref(ch);
	last_custom = event_deref(last_custom);
	mem_deref(sub);
}

/* test_later <ms>: an application that finishes on a timer, like sleep. */
static struct tmr later_tmr;

static void later_done(void *arg)
{
	app_exec_done(arg, "later");
}

static void later_cancel(void *data)
{
	tmr_cancel(&later_tmr);
}

static int app_test_later(struct channel *ch, const char *args, struct app_exec *x)
{
	tmr_start(&later_tmr, (uint64_t)atoi(args), later_done, x);
	app_exec_on_cancel(x, later_cancel, NULL);
	return EINPROGRESS;
}

static void test_async(void)
{
	struct channel *sleepy = new_channel("4005", "1000");
	struct channel *sched = call("4006", "1000");

	channel_start(sleepy);
	settle();

	CHECK(channel_up(sleepy));
	CHECK(channel_var(sleepy, "slept") == NULL);
	check_run_loop(400);
	CHECK_STR(channel_var(sleepy, "slept"), "yes");
	CHECK_INT(channel_cause(sleepy), CAUSE_NORMAL_CLEARING);
	CHECK(!channel_up(sched));
	CHECK_INT(channel_cause(sched), CAUSE_USER_BUSY);
	mem_deref(sleepy);
	mem_deref(sched);
}

static void test_reload(void)
{
	char err[512] = "";
	struct config *bad = cfg_file("bad_regex.xml", err, sizeof(err));
	struct dialplan *before = dialplan_current();
	struct channel *ch;

	CHECK(bad != NULL);
	CHECK(dialplan_reload(bad, err, sizeof(err)) != 0);
	CHECK(dialplan_current() == before);
	CHECK(!strncmp(err, "bad_regex.xml:5:", 16));
	mem_deref(bad);

	/* A parked call keeps routing as before after a good reload. */
	ch = call("4003", "1000");
	{
		struct config *again = cfg_file("basic.xml", err, sizeof(err));

		CHECK_INT(dialplan_reload(again, err, sizeof(err)), 0);
		CHECK(dialplan_current() != before);
		CHECK_INT(dialplan_reload(again, err, sizeof(err)), 0);   /* same: no-op */
		mem_deref(again);
	}
	CHECK(channel_up(ch));
	channel_transfer(ch, "2007", NULL, "default");
	settle_ch(ch);
	CHECK_STR(channel_var(ch, "checked"), "yes");
	mem_deref(ch);
}

int main(void)
{
	struct event_identity id = {"00000000-0000-0000-0000-000000000000", "test",
				    "test", "127.0.0.1", "::1"};
	struct config *cfg;
	char err[512] = "";

	libre_init();
	vars_init();
	api_init();
	bus_init();
	loop_init();
	event_identity_set(&id);
	if (!getenv("TEST_VERBOSE"))
		log_set_console(false);
	channel_init();
	channel_ep_register("error", originate_error_ep);
	app_init();
	tmr_init(&later_tmr);
	app_register("test_later", "<ms>", app_test_later);

	test_load_errors();
	cfg = cfg_file("basic.xml", err, sizeof(err));
	CHECK(cfg != NULL);
	if (!cfg || dialplan_init(cfg, err, sizeof(err))) {
		fprintf(stderr, "cannot load basic.xml: %s\n", err);
		return 1;
	}
	test_hunt(dialplan_current());
	test_wrapped_context(dialplan_current());
	test_route_basic();
	test_transfer();
	test_break_among_many();
	test_execute_extension();
	test_flow_apps();
	test_async();
	test_reload();

	channel_close();
	dialplan_close();
	app_close();
	mem_deref(cfg);
	loop_close();
	bus_close();
	api_close();
	vars_close();
	libre_close();
	return check_done();
}
