/*
 * test_lua_event.c - freeswitch.Event and freeswitch.EventConsumer driven from
 * Lua chunks (spec/lua.md 5, 6): headers, body, names, the serialisations,
 * fire and pop through the real bus, binds, copy-on-write of shared events,
 * argument errors, and pops that wait inside real runs on the loop.
 */
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include <lualib.h>
#include "check.h"
#include "lua_check.h"
#include "core/log.h"
#include "core/loop.h"
#include "event/bus.h"
#include "event/event.h"
#include "lua/lua_int.h"
#include "lua/script.h"

/* Log lines seen, to check the texts FreeSWITCH logs. */
static struct {
	unsigned not_mine, queue_full, to_custom;
} seen;

static void on_log(const struct log_line *ll, void *arg)
{
	(void)arg;
	if (strstr(ll->text, "Not My event!"))
		seen.not_mine++;
	if (strstr(ll->text, "Cannot queue any more events..... (3 lost)"))
		seen.queue_full++;
	if (strstr(ll->text, "Changing event type to custom"))
		seen.to_custom++;
	/* A run's error, with its traceback: say why a run below failed. */
	if (!strncmp(ll->text, "lua: ", 5))
		fputs(ll->text, stderr);
}

static lua_State *new_state(void)
{
	static lua_check_bind *const binds[] = {script_bind_event, NULL};

	return lua_check_state(binds);
}

static void test_headers(lua_State *L)
{
	static const char headers_lua[] =
		"local e = freeswitch.Event('custom', 'my::test')\n"
		"assert(e:getType() == 'CUSTOM')\n"
		"assert(e:getHeader('Event-Subclass') == 'my::test')\n"
		"assert(e:getHeader('event-name') == 'CUSTOM')\n"
		"assert(e:getHeader('Core-UUID') == '5a1e2a5c-0000-4000-8000-000000000001')\n"
		"assert(e:getHeader('Event-Sequence'))\n"
		"assert(e:addHeader('X-Foo', 'bar') == true)\n"
		"assert(e:addHeader('X-Foo', 'baz') == true)\n"
		"assert(e:getHeader('x-foo') == 'bar')\n"
		"assert(select(2, e:serialize():gsub('X%-Foo: ', '')) == 2)\n"
		"assert(e:addHeader('X-Empty', '') == false)\n"
		"assert(e:addHeader('X-Nil', nil) == false)\n"
		"assert(e:addHeader('', 'v') == false)\n"
		"assert(e:getHeader('X-Empty') == nil and e:getHeader('X-Nil') == nil)\n"
		"assert(e:addHeader('X-Num', 42) and e:getHeader('X-Num') == '42')\n"
		"assert(e:delHeader('X-FOO') == true)\n"
		"assert(e:getHeader('X-Foo') == nil)\n"
		"assert(e:delHeader('X-Foo') == false)\n"
		"assert(e:getHeader('') == nil and e:getHeader(nil) == nil)\n";

	CHECK(lua_check_run(L, "=headers", headers_lua));
}

static void test_body(lua_State *L)
{
	static const char body_lua[] =
		"local e = freeswitch.Event('CUSTOM', 'my::test')\n"
		"assert(e:getBody() == nil)\n"
		"assert(e:addBody('hello ') and e:addBody('world'))\n"
		"assert(e:getBody() == 'hello world')\n"
		"assert(e:addBody(nil) == false and e:getBody() == 'hello world')\n";

	CHECK(lua_check_run(L, "=body", body_lua));
}

static void test_names(lua_State *L)
{
	static const char names_lua[] =
		"local m = freeswitch.Event('NO_SUCH_EVENT')\n"
		"assert(m:getType() == 'MESSAGE' and m:getHeader('Event-Name') == 'MESSAGE')\n"
		"assert(m:getHeader('Event-Subclass') == nil)\n"
		/* MESSAGE keeps one header per name: an add replaces. */
		"assert(m:addHeader('K', '1') and m:addHeader('K', '2'))\n"
		"assert(m:getHeader('K') == '2')\n"
		"assert(select(2, m:serialize():gsub('\\nK: ', '')) == 1)\n"
		"local c = freeswitch.Event('CHANNEL_ANSWER', 'my::sub')\n"
		"assert(c:getType() == 'CUSTOM' and c:getHeader('Event-Name') == 'CUSTOM')\n"
		"assert(c:getHeader('Event-Subclass') == 'my::sub')\n"
		"assert(freeswitch.Event('heartbeat'):getType() == 'HEARTBEAT')\n"
		"assert(freeswitch.Event('CUSTOM', ''):getHeader('Event-Subclass') == nil)\n";
	unsigned warned = seen.to_custom;

	CHECK(lua_check_run(L, "=names", names_lua));
	CHECK_INT(seen.to_custom, warned + 1);
}

/* The Lua serialisations are the event socket's, byte for byte. */
static void test_serialize(lua_State *L)
{
	static const char serialize_lua[] =
		"ser = freeswitch.Event('CUSTOM', 'my::thing')\n"
		"ser:addHeader('Foo', 'a b:c')\n"
		"ser:addBody('hello world')\n"
		"local p = ser:serialize()\n"
		"assert(p:find('Event-Subclass: my%3A%3Athing\\n', 1, true))\n"
		"assert(p:find('Foo: a%20b%3Ac\\n', 1, true))\n"
		"local tail = 'Content-Length: 11\\n\\nhello world'\n"
		"assert(p:sub(-#tail) == tail)\n"
		"assert(ser:serialize('plain') == p and ser:serialize('bogus') == p)\n"
		"local j = ser:serialize('json')\n"
		"assert(j:find('\"Foo\":\"a b:c\"', 1, true))\n"
		"assert(j:find('\"_body\":\"hello world\"', 1, true))\n"
		"local x = ser:serialize('XML')\n"
		"assert(x:find('<Foo>a%20b%3Ac</Foo>', 1, true))\n"
		"assert(x:find('<body>hello world</body>', 1, true))\n";
	static const char *const fmts[] = {"plain", "json", "xml"};
	struct event *ev;
	size_t i;

	CHECK(lua_check_run(L, "=serialize", serialize_lua));

	lua_getglobal(L, "ser");
	ev = script_check_event(L, -1);
	CHECK(ev != NULL);
	for (i = 0; ev && i < EVENT_FMT_COUNT; i++) {
		struct mbuf *mb = mbuf_alloc(1024);
		size_t len;
		const char *s;

		lua_getfield(L, -1, "serialize");
		lua_pushvalue(L, -2);
		lua_pushstring(L, fmts[i]);
		CHECK_INT(lua_pcall(L, 2, 1, 0), LUA_OK);
		s = lua_tolstring(L, -1, &len);
		CHECK_INT(event_serialize(ev, (enum event_format)i, mb), 0);
		CHECK(s && len == mb->end && !memcmp(s, mb->buf, len));
		lua_pop(L, 1);
		mem_deref(mb);
	}
	lua_pop(L, 1);
}

static void test_priority(lua_State *L)
{
	static const char priority_lua[] =
		"local e = freeswitch.Event('CUSTOM', 'p::q')\n"
		"assert(e:setPriority() == true)\n"
		"assert(e:serialize():sub(1, 17) == 'priority: NORMAL\\n')\n"
		"assert(e:setPriority(2))\n"
		"assert(e:serialize():sub(1, 15) == 'priority: HIGH\\n')\n"
		"assert(e:setPriority(9) and e:getHeader('priority') == 'INVALID')\n"
		"assert(select(2, e:serialize():gsub('priority: ', '')) == 3)\n";

	CHECK(lua_check_run(L, "=priority", priority_lua));
}

static void test_fire_and_pop(lua_State *L)
{
	static const char fire_lua[] =
		"local con = freeswitch.EventConsumer('CUSTOM', 'lua::test')\n"
		"local other = freeswitch.EventConsumer('CUSTOM', 'lua::other')\n"
		"local all = freeswitch.EventConsumer('ALL')\n"
		"local any = freeswitch.EventConsumer('CUSTOM')\n"
		"local hb = freeswitch.EventConsumer('HEARTBEAT')\n"
		"local e = freeswitch.Event('CUSTOM', 'lua::test')\n"
		"e:addHeader('Seq', '1')\n"
		"assert(e:fire() == true)\n"
		"e:addHeader('Seq2', '2')\n"
		"assert(e:fire() == true)\n"
		"local a, b = con:pop(), con:pop(0)\n"
		"assert(a and b and con:pop() == nil)\n"
		"assert(a:getType() == 'CUSTOM')\n"
		"assert(a:getHeader('Event-Subclass') == 'lua::test')\n"
		"assert(a:getHeader('Seq') == '1' and a:getHeader('Seq2') == nil)\n"
		"assert(b:getHeader('Seq2') == '2')\n"
		"assert(other:pop() == nil and hb:pop() == nil)\n"
		"assert(any:pop() and any:pop() and any:pop() == nil)\n"
		"local a2 = all:pop()\n"
		"assert(a2 and all:pop() and all:pop() == nil)\n"
		/* Popped events are not the script's: they cannot be fired. */
		"assert(a:fire() == false)\n"
		/* a and a2 are one fired event: a change copies, a2 stays as fired. */
		"assert(a:addHeader('Local', 'x') and a:getHeader('Local') == 'x')\n"
		"assert(a2:getHeader('Local') == nil and a2:getHeader('Seq') == '1')\n"
		"assert(a:delHeader('Seq') and a2:getHeader('Seq') == '1')\n"
		"assert(a:fire() == false)\n"
		"assert(e:getHeader('Seq') == '1')\n";
	unsigned refused = seen.not_mine;

	CHECK(lua_check_run(L, "=fire", fire_lua));
	CHECK_INT(seen.not_mine, refused + 2);
}

static void test_binds(lua_State *L)
{
	static const char binds_lua[] =
		"local c = freeswitch.EventConsumer()\n"
		"assert(c:pop() == nil)\n"
		"assert(c:bind('NOPE') == 0)\n"
		"assert(c:bind('custom', 'x::y') == 1)\n"
		"assert(c:bind('HEARTBEAT') == 1)\n"
		"freeswitch.Event('HEARTBEAT'):fire()\n"
		"freeswitch.Event('CUSTOM', 'x::y'):fire()\n"
		"freeswitch.Event('CUSTOM', 'x::z'):fire()\n"
		"freeswitch.Event('CUSTOM'):fire()\n"
		"freeswitch.Event('TALK'):fire()\n"
		"assert(c:pop():getType() == 'HEARTBEAT')\n"
		"assert(c:pop():getHeader('Event-Subclass') == 'x::y')\n"
		"assert(c:pop() == nil)\n"
		/* ALL with a subclass: that subclass, whatever the name. */
		"local s = freeswitch.EventConsumer('ALL', 'x::z')\n"
		"freeswitch.Event('TALK'):fire()\n"
		"freeswitch.Event('CUSTOM', 'x::z'):fire()\n"
		"assert(s:pop():getHeader('Event-Subclass') == 'x::z' and s:pop() == nil)\n"
		/* cleanup drains, unbinds, and leaves a consumer that stays empty. */
		"freeswitch.Event('HEARTBEAT'):fire()\n"
		"c:cleanup()\n"
		"assert(c:pop() == nil)\n"
		"freeswitch.Event('HEARTBEAT'):fire()\n"
		"assert(c:pop() == nil and c:bind('ALL') == 0)\n"
		"c:cleanup()\n"
		/* A consumer collected with events queued releases them. */
		"local g = freeswitch.EventConsumer('ALL')\n"
		"freeswitch.Event('HEARTBEAT'):fire()\n"
		"g = nil\n"
		"collectgarbage()\n";

	CHECK(lua_check_run(L, "=binds", binds_lua));
}

static void test_queue_full(lua_State *L)
{
	static const char queue_lua[] =
		"local c = freeswitch.EventConsumer('CUSTOM', 'q::full', 2)\n"
		"for i = 1, 5 do\n"
		"  local e = freeswitch.Event('CUSTOM', 'q::full')\n"
		"  e:addHeader('N', i)\n"
		"  e:fire()\n"
		"end\n"
		"assert(c:pop():getHeader('N') == '1' and c:pop():getHeader('N') == '2')\n"
		"assert(c:pop() == nil)\n"
		"local e = freeswitch.Event('CUSTOM', 'q::full')\n"
		"e:addHeader('N', 6)\n"
		"e:fire()\n"
		"assert(c:pop():getHeader('N') == '6')\n";
	unsigned logged = seen.queue_full;

	CHECK(lua_check_run(L, "=queue", queue_lua));
	CHECK_INT(seen.queue_full, logged + 1);
}

static void test_json(lua_State *L)
{
	static const char json_lua[] =
		"local e = freeswitch.Event('json', '{\"Event-Name\":\"CUSTOM\",'..\n"
		"  '\"Event-Subclass\":\"j::s\",\"X\":\"1\",\"_body\":\"b\"}')\n"
		"assert(e:getType() == 'CUSTOM' and e:getHeader('X') == '1')\n"
		"assert(e:getBody() == 'b' and e:getHeader('Event-Subclass') == 'j::s')\n"
		"local con = freeswitch.EventConsumer('CUSTOM', 'j::s')\n"
		"assert(e:fire() and con:pop():getHeader('X') == '1')\n"
		"local h = freeswitch.Event('JSON', '{\"Event-Name\":\"HEARTBEAT\"}')\n"
		"assert(h:getType() == 'HEARTBEAT')\n"
		/* Bad JSON leaves an object without an event, as FreeSWITCH does. */
		"local bad = freeswitch.Event('json', '{nope')\n"
		"assert(bad:getType() == 'invalid' and bad:getHeader('X') == nil)\n"
		"assert(bad:addHeader('X', '1') == false and bad:fire() == false)\n"
		"assert(bad:serialize() == '' and bad:getBody() == nil)\n"
		"assert(e:merge(bad) == false and bad:merge(e) == false)\n";

	CHECK(lua_check_run(L, "=json", json_lua));
}

static void test_merge(lua_State *L)
{
	static const char merge_lua[] =
		"local a = freeswitch.Event('CUSTOM', 'm::a')\n"
		"local b = freeswitch.Event('CUSTOM', 'm::b')\n"
		"b:addHeader('From-B', 'yes')\n"
		"assert(a:merge(b) == true)\n"
		"assert(a:getHeader('From-B') == 'yes')\n"
		"assert(a:getHeader('Event-Subclass') == 'm::a')\n"
		"assert(select(2, a:serialize():gsub('Event%-Name: ', '')) == 2)\n"
		"assert(b:merge(b) == true)\n"
		"assert(select(2, b:serialize():gsub('From%-B: yes', '')) == 2)\n"
		/* no chat in confab: both fail with SWITCH_STATUS_FALSE */
		"assert(a:chat_execute('reply', 'hi') == 1 and a:chat_send('sip') == 1)\n"
		"assert(a:chat_send() == 1 and not pcall(a.chat_execute, a))\n";

	CHECK(lua_check_run(L, "=merge", merge_lua));
}

static void test_errors(lua_State *L)
{
	static const char errors_lua[] =
		"local function fails(f, ...)\n"
		"  local ok, msg = pcall(f, ...)\n"
		"  return not ok and type(msg) == 'string'\n"
		"end\n"
		"local e = freeswitch.Event('CUSTOM')\n"
		"local c = freeswitch.EventConsumer()\n"
		"assert(fails(freeswitch.Event))\n"
		"assert(fails(freeswitch.Event, {}))\n"
		"assert(fails(freeswitch.Event, 'CUSTOM', true))\n"
		"assert(fails(e.addHeader, e, {}, 'v'))\n"
		"assert(fails(e.addHeader, e, 'k', {}))\n"
		"assert(fails(e.addHeader, 'not an event', 'k', 'v'))\n"
		"assert(fails(e.getHeader, nil, 'k'))\n"
		"assert(fails(e.getHeader, c, 'k'))\n"
		"assert(fails(e.serialize, e, {}))\n"
		"assert(fails(e.merge, e, 'x'))\n"
		"assert(fails(e.merge, e))\n"
		"assert(fails(e.setPriority, e, 'high'))\n"
		"assert(fails(e.addBody, e, print))\n"
		"assert(fails(c.pop, c, {}))\n"
		"assert(fails(c.pop, c, 0, 'soon'))\n"
		"assert(fails(c.pop, e))\n"
		"assert(fails(c.bind, c))\n"
		"assert(fails(c.bind, c, {}))\n"
		"assert(fails(freeswitch.EventConsumer, 'ALL', '', 0))\n"
		"assert(fails(freeswitch.EventConsumer, 'ALL', '', 'many'))\n"
		"assert(fails(freeswitch.EventConsumer, {}))\n"
		"local ok, msg = pcall(c.pop, c, 1)\n"
		"assert(not ok and msg:find('blocking pop', 1, true), msg)\n"
		"assert(not pcall(c.pop, c, 1, 100))\n"
		/* Not even when an event is there: the same script works either way. */
		"c:bind('HEARTBEAT')\n"
		"freeswitch.Event('HEARTBEAT'):fire()\n"
		"assert(not pcall(c.pop, c, 1))\n"
		"assert(c:pop(0):getType() == 'HEARTBEAT')\n"
		/* The metatable's finaliser is not a method. */
		"assert(e.__gc == nil and c.__gc == nil)\n";

	CHECK(lua_check_run(L, "=errors", errors_lua));
}

static int check_first_arg(lua_State *L)
{
	script_check_event(L, 1);
	return 0;
}

/* Events a hook or another binding hands to a script (script_push_event). */
static void test_pushed(lua_State *L)
{
	struct event *ev = NULL, *got;
	unsigned refused = seen.not_mine;

	CHECK_INT(event_alloc(&ev, EVENT_CUSTOM, "hook::ev"), 0);
	CHECK_INT(event_add_header(ev, "Hook", "1"), 0);
	script_push_event(L, event_ref(ev), false);
	lua_setglobal(L, "hooked");
	script_push_event(L, event_ref(ev), true);
	lua_setglobal(L, "given");
	static const char pushed_lua[] =
		"local con = freeswitch.EventConsumer('CUSTOM', 'hook::ev')\n"
		"assert(hooked:getHeader('Hook') == '1')\n"
		"assert(hooked:fire() == false and con:pop() == nil)\n"
		"assert(hooked:addHeader('Script', 'x'))\n"
		"assert(hooked:getHeader('Script') == 'x')\n"
		"assert(given:getHeader('Script') == nil)\n"
		"assert(given:fire() == true and con:pop():getHeader('Hook') == '1')\n";

	CHECK(lua_check_run(L, "=pushed", pushed_lua));
	CHECK_INT(seen.not_mine, refused + 1);
	/* Neither object changed the caller's event. */
	CHECK(event_header(ev, "Script") == NULL);

	/* script_check_event hands out an event of the object's own. */
	lua_getglobal(L, "given");
	got = script_check_event(L, -1);
	CHECK(got != NULL && got != ev);
	CHECK_STR(event_header(got, "Hook"), "1");
	lua_pop(L, 1);

	lua_pushcfunction(L, check_first_arg);
	lua_pushinteger(L, 1);
	CHECK(lua_pcall(L, 1, 0, 0) != LUA_OK);
	lua_pop(L, 1);
	event_deref(ev);
}

/* Waiting pops, in real runs on the loop. */
static struct {
	struct tmr fire1, fire2, guard;
	struct bus_sub *mark;
	uint64_t start, marked;
	unsigned ended;
	bool ok;
} W;

static void fire_wait_me(void *arg)
{
	struct event *ev = NULL;

	CHECK_INT(event_alloc(&ev, EVENT_CUSTOM, "wait::me"), 0);
	CHECK_INT(event_add_header(ev, "N", arg), 0);
	bus_fire(ev);
}

static bool mark_match(const struct event *ev, void *arg)
{
	const char *sc = event_get_subclass(ev);

	(void)arg;
	return sc && !strcmp(sc, "wait::mark");
}

static void mark_wake(void *arg)
{
	(void)arg;
	W.marked = tmr_jiffies();
	bus_flush(W.mark);
}

static void wait_end(struct script *s, const struct script_end *e, void *arg)
{
	(void)s;
	(void)arg;
	W.ok = e->ok;
	W.ended++;
	re_cancel();
}

static void wait_guard(void *arg)
{
	(void)arg;
	re_cancel();
}

static void test_waiting_pop(void)
{
	/*
	 * The first pop times out before anything comes (the mark tells when), the
	 * second is woken by the event the loop fires at 150 ms, the third waits
	 * without a limit for the one at 250 ms; a coroutine of the script's own
	 * cannot wait.
	 */
	static const char wait_lua[] =
		"local con = freeswitch.EventConsumer('CUSTOM', 'wait::me')\n"
		"assert(con:pop(1, 50) == nil)\n"
		"freeswitch.Event('CUSTOM', 'wait::mark'):fire()\n"
		"local a = con:pop(1, 5000)\n"
		"assert(a and a:getHeader('N') == '1')\n"
		"local b = con:pop(1)\n"
		"assert(b and b:getHeader('N') == '2')\n"
		"local ok, msg = coroutine.wrap(function()\n"
		"  return pcall(con.pop, con, 1)\n"
		"end)()\n"
		"assert(ok == false and msg:find('blocking pop', 1, true))\n";
	/* Torn down while waiting, with and without a timeout running. */
	static const char forever_lua[] =
		"freeswitch.EventConsumer('CUSTOM', 'never::comes'):pop(1)\n";
	static const char timed_lua[] =
		"freeswitch.EventConsumer('CUSTOM', 'never::comes'):pop(1, 60000)\n";
	struct script_start st = {.name = "~", .code = wait_lua};
	struct event *ev = NULL;

	tmr_init(&W.fire1);
	tmr_init(&W.fire2);
	tmr_init(&W.guard);
	CHECK_INT(bus_subscribe(&W.mark, 0, mark_match, mark_wake, NULL), 0);
	W.start = tmr_jiffies();
	CHECK_INT(script_start(&st, wait_end, NULL), 0);
	tmr_start(&W.fire1, 150, fire_wait_me, "1");
	tmr_start(&W.fire2, 250, fire_wait_me, "2");
	tmr_start(&W.guard, 5000, wait_guard, NULL);
	re_main(NULL);
	CHECK_INT(W.ended, 1);
	CHECK(W.ok);
	CHECK(W.marked >= W.start + 50 && W.marked < W.start + 150);

	st = (struct script_start){.name = "~", .code = forever_lua, .now = true};
	CHECK_INT(script_start(&st, wait_end, NULL), 0);
	st.code = timed_lua;
	CHECK_INT(script_start(&st, wait_end, NULL), 0);
	CHECK_INT(script_count(), 2);
	script_stop_all();
	CHECK_INT(W.ended, 3);
	CHECK_INT(script_count(), 0);
	/* Their consumers left the bus: what they waited for touches nothing freed. */
	CHECK_INT(event_alloc(&ev, EVENT_CUSTOM, "never::comes"), 0);
	bus_fire(ev);

	tmr_cancel(&W.fire1);
	tmr_cancel(&W.fire2);
	tmr_cancel(&W.guard);
	W.mark = mem_deref(W.mark);
}

int main(void)
{
	struct event_identity id = {"5a1e2a5c-0000-4000-8000-000000000001", "test",
				    "test", "127.0.0.1", "::1"};
	struct log_sub *ls = NULL;
	lua_State *L;

	CHECK_INT(libre_init(), 0);
	CHECK_INT(loop_init(), 0);
	CHECK_INT(bus_init(), 0);
	CHECK_INT(event_identity_set(&id), 0);
	if (!getenv("TEST_VERBOSE"))
		log_set_console(false);
	CHECK_INT(log_subscribe(&ls, LOGL_DEBUG, on_log, NULL), 0);

	L = new_state();
	test_headers(L);
	test_body(L);
	test_names(L);
	test_serialize(L);
	test_priority(L);
	test_fire_and_pop(L);
	test_binds(L);
	test_queue_full(L);
	test_json(L);
	test_merge(L);
	test_errors(L);
	test_pushed(L);
	lua_close(L);
	test_waiting_pop();

	mem_deref(ls);
	bus_close();
	loop_close();
	libre_close();
	return check_done();
}
