/*
 * test_lua_run.c - runs on the real loop (script.c, bind_core.c): busy scripts
 * are preempted so timers still fire on time, msleep lets runs overtake each
 * other, API:execute waits for a command that finishes later, errors end a run
 * with ok=false, loads fail before anything runs, os.exit is harmless, a loop
 * that cannot be preempted is stopped, and stream:write reaches its buffer.
 */
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "check.h"
#include "core/api.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/vars.h"
#include "event/bus.h"
#include "event/event.h"
#include "lua/lua_int.h"
#include "lua/script.h"

static struct {
	unsigned ended, failed;
	unsigned want;               /* stop the loop after this many ends */
	unsigned exit_logged, stuck_logged;
} R;

static void on_log(const struct log_line *ll, void *arg)
{
	(void)arg;
	if (strstr(ll->text, "Surely you jest!"))
		R.exit_logged++;
	if (strstr(ll->text, "without a point where it could wait"))
		R.stuck_logged++;
}

static void run_end(struct script *s, const struct script_end *e, void *arg)
{
	(void)s;
	(void)arg;
	R.ended++;
	if (!e->ok)
		R.failed++;
	if (R.ended >= R.want)
		re_cancel();
}

static void guard(void *arg)
{
	(void)arg;
	re_cancel();
}

static int start(const char *code, struct mbuf *stream)
{
	struct script_start st = {.name = "~", .code = code, .stream = stream};

	return script_start(&st, run_end, NULL);
}

/* Run the loop until `n` more runs ended (or a guard of `ms` fires). */
static void loop_for(unsigned n, uint64_t ms)
{
	struct tmr g;

	tmr_init(&g);
	R.want = R.ended + n;
	tmr_start(&g, ms, guard, NULL);
	re_main(NULL);
	tmr_cancel(&g);
}

/* Two scripts spin until a timer says stop; the timer must fire on time. */
static uint64_t stop_at;

static void set_stop(void *arg)
{
	(void)arg;
	stop_at = tmr_jiffies();
	vars_global_set("t_stop", "1");
}

static void test_preemption(void)
{
	static const char spin[] =
		"while freeswitch.getGlobalVariable('t_stop') ~= '1' do end\n";
	struct tmr t;
	uint64_t t0 = tmr_jiffies();

	tmr_init(&t);
	tmr_start(&t, 50, set_stop, NULL);
	CHECK_INT(start(spin, NULL), 0);
	CHECK_INT(start(spin, NULL), 0);
	CHECK_INT(script_count(), 2);
	loop_for(2, 3000);
	CHECK_INT(R.failed, 0);
	CHECK_INT(script_count(), 0);
	CHECK(stop_at >= t0 + 50 && stop_at < t0 + 150);
	tmr_cancel(&t);
}

static void test_msleep(void)
{
	static const char slow[] =
		"freeswitch.msleep(120)\n"
		"freeswitch.setGlobalVariable('t_order', "
		"(freeswitch.getGlobalVariable('t_order') or '') .. 'slow')\n";
	static const char quick[] =
		"freeswitch.msleep(20)\n"
		"freeswitch.setGlobalVariable('t_order', "
		"(freeswitch.getGlobalVariable('t_order') or '') .. 'quick')\n";
	uint64_t t0 = tmr_jiffies();
	char *order;

	CHECK_INT(start(slow, NULL), 0);
	CHECK_INT(start(quick, NULL), 0);
	loop_for(2, 3000);
	order = vars_global_dup("t_order");
	CHECK_STR(order, "quickslow");
	mem_deref(order);
	CHECK(tmr_jiffies() >= t0 + 120);
	CHECK_INT(R.failed, 0);
}

/* A command that answers 30 ms later, as originate does. */
struct later {
	struct api_call *call;
	struct tmr tmr;
	char arg[32];
};

static void later_fire(void *arg)
{
	struct later *l = arg;

	api_printf(l->call, "done %s\n", l->arg);
	api_finish(l->call);
	mem_deref(l);
}

static int cmd_later(struct api_call *call, const char *args)
{
	struct later *l = mem_zalloc(sizeof(*l), NULL);

	if (!l)
		return ENOMEM;
	l->call = call;
	str_ncpy(l->arg, args, sizeof(l->arg));
	tmr_init(&l->tmr);
	tmr_start(&l->tmr, 30, later_fire, l);
	return EINPROGRESS;
}

static void test_api(void)
{
	static const char code[] =
		"local api = freeswitch.API()\n"
		"assert(api:execute('later', 'x') == 'done x\\n')\n"
		"assert(api:executeString('later y z') == 'done y z\\n')\n"
		"assert(api:execute('no_such_cmd') == 'INVALID COMMAND!\\n')\n"
		"assert(api:execute('') == '-ERR No application specified')\n"
		"assert(tonumber(api:getTime()) > 1600000000000)\n"
		"stream:write('api ok')\n";
	struct mbuf *out = mbuf_alloc(64);

	CHECK_INT(api_register("later", "<x>", "answers later", cmd_later), 0);
	CHECK_INT(start(code, out), 0);
	loop_for(1, 3000);
	CHECK_INT(R.failed, 0);
	CHECK_INT(out->end, 6);
	CHECK(!memcmp(out->buf, "api ok", 6));
	mem_deref(out);
	api_unregister("later");
}

static void test_errors(void)
{
	struct script_start st = {.name = "missing", .file = "/nonexistent/x.lua"};
	unsigned ended = R.ended;

	/* Load failures are returned, and the end handler never runs. */
	CHECK_INT(start("this is not lua", NULL), EINVAL);
	CHECK_INT(script_start(&st, run_end, NULL), ENOENT);
	CHECK_INT(R.ended, ended);

	CHECK_INT(start("error('boom')", NULL), 0);
	loop_for(1, 3000);
	CHECK_INT(R.failed, 1);

	/* os.exit only logs; the script goes on to its end. */
	CHECK_INT(start("os.exit(1) freeswitch.setGlobalVariable('t_after_exit', 'yes')",
			NULL), 0);
	loop_for(1, 3000);
	CHECK_INT(R.failed, 1);
	CHECK_INT(R.exit_logged, 1);
	{
		char *v = vars_global_dup("t_after_exit");

		CHECK_STR(v, "yes");
		mem_deref(v);
	}

	/* A plain coroutine.yield() at the top just resumes on the next turn. */
	CHECK_INT(start("coroutine.yield() coroutine.yield(1, 2)", NULL), 0);
	loop_for(1, 3000);
	CHECK_INT(R.failed, 1);
}

/* Spinning inside a gsub callback cannot be preempted: stopped after 5 s. */
static void test_stuck(void)
{
	static const char code[] =
		"string.gsub('a', 'a', function() while true do end end)\n";
	uint64_t t0 = tmr_jiffies();

	CHECK_INT(start(code, NULL), 0);
	loop_for(1, 10000);
	CHECK_INT(R.failed, 2);
	CHECK_INT(R.stuck_logged, 1);
	CHECK(tmr_jiffies() - t0 >= 5000 && tmr_jiffies() - t0 < 8000);
}

/* Shutdown ends runs that wait, and their end handlers still run. */
static void test_stop_all(void)
{
	unsigned ended = R.ended;

	CHECK_INT(start("freeswitch.msleep(60000)", NULL), 0);
	loop_for(1, 100);
	CHECK_INT(script_count(), 1);
	script_stop_all();
	CHECK_INT(script_count(), 0);
	CHECK_INT(R.ended, ended + 1);
}

int main(void)
{
	struct event_identity id = {"5a1e2a5c-0000-4000-8000-000000000002", "test",
				    "test", "127.0.0.1", "::1"};
	struct log_sub *ls = NULL;

	CHECK_INT(libre_init(), 0);
	CHECK_INT(loop_init(), 0);
	vars_init();
	api_init();
	CHECK_INT(bus_init(), 0);
	CHECK_INT(event_identity_set(&id), 0);
	if (!getenv("TEST_VERBOSE"))
		log_set_console(false);
	CHECK_INT(log_subscribe(&ls, LOGL_DEBUG, on_log, NULL), 0);

	test_preemption();
	test_msleep();
	test_api();
	test_errors();
	test_stuck();
	test_stop_all();

	mem_deref(ls);
	bus_close();
	api_close();
	vars_close();
	loop_close();
	libre_close();
	return check_done();
}
