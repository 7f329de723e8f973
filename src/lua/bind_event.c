/*
 * bind_event.c - mod_lua's freeswitch.Event and freeswitch.EventConsumer
 * (spec/lua.md 5, 6): events a script builds, reads and fires, and consumers
 * that queue bus events for the script, whose pop waits without blocking the
 * thread. Signalling thread only, like every Lua run.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "core/log.h"
#include "event/bus.h"
#include "event/event.h"
#include "lua/lua_int.h"

#define EVENT_MT    "confab.Event"
#define CONSUMER_MT "confab.EventConsumer"

/* freeswitch.EventConsumer's default queue length (switch_cpp.h, spec/lua.md 6). */
#define CONSUMER_QUEUE_DEFAULT 5000

/*
 * FreeSWITCH's log texts for these objects (switch_cpp.cpp), kept verbatim so
 * that whoever watches the log keeps matching them.
 */
#define TXT_NOT_MINE   "Not My event!"
#define TXT_TO_CUSTOM  "Changing event type to custom because you specified a subclass name!"
#define TXT_NO_CREATE  "Failed to create event!"
#define TXT_NO_EVENT   "Trying to %s an event that does not exist!"
#define TXT_BAD_HEADER "Trying to %s an invalid header!"
#define TXT_NO_MERGE   "Trying to merge from an event that does not exist!"
#define TXT_NO_DUP     "Failed to dup the event!"
#define TXT_NO_BIND    "Can't bind to %s, event not found"
#define TXT_BIND_FAIL  "Cannot bind to %s %s"
#define TXT_QUEUE_FULL "Cannot queue any more events....."

/* switch_priority_name(), indexed by switch_priority_t; anything else is INVALID. */
static const char *const priority_names[] = {"NORMAL", "LOW", "HIGH"};

/*
 * An Event object. A fired event is shared between threads and immutable, and
 * so is any event this object did not build itself (a consumer's, a hook's, or
 * one handed to another binding): such an event is copied before its first
 * change, so the script still sees its own changes and nobody else does.
 */
struct levent {
	struct event *ev;    /* NULL when construction failed, as FreeSWITCH allows */
	bool mine;           /* the script may fire it */
	bool writable;       /* ev is this object's alone: change it in place */
};

/* One bind, as one of FreeSWITCH's event nodes (switch_events_match). */
struct bind {
	enum event_id id;    /* EVENT_ALL: every id */
	char *subclass;      /* NULL: any subclass, and events without one */
};

/*
 * An EventConsumer. The Lua object holds one reference and a pop that waits
 * holds another, so a run torn down mid-wait never cancels into freed memory;
 * the destructor stops the bus subscription and the timer, the only callers of
 * its callbacks.
 */
struct consumer {
	struct bus_sub *sub;         /* NULL once cleaned up: nothing is queued */
	/* EventConsumer has room for SWITCH_EVENT_ALL + 1 binds (switch_cpp.h). */
	struct bind binds[EVENT_ID_COUNT];
	size_t nbinds;
	struct tmr tmr;              /* the waiting pop's timeout */
	struct script *waiter;       /* the run waiting in pop(), until woken */
};

/* A string argument, NULL when absent or nil (numbers are converted). */
static const char *opt_str(lua_State *L, int idx, size_t *lenp)
{
	if (lua_isnoneornil(L, idx))
		return NULL;
	return luaL_checklstring(L, idx, lenp);
}

/* An int argument as SWIG's wrapper takes one: any number, truncated. */
static int opt_int(lua_State *L, int idx, int def)
{
	lua_Number n = luaL_optnumber(L, idx, def);

	if (isnan(n))
		return def;
	if (n >= (lua_Number)INT_MAX)
		return INT_MAX;
	if (n <= (lua_Number)INT_MIN)
		return INT_MIN;
	return (int)n;
}

static struct levent *push_levent(lua_State *L, struct event *ev, bool mine,
				  bool writable)
{
	struct levent *le = lua_newuserdatauv(L, sizeof(*le), 0);

	*le = (struct levent){ev, mine, writable};
	luaL_setmetatable(L, EVENT_MT);
	return le;
}

void script_push_event(lua_State *L, struct event *ev, bool mine)
{
	/* The caller may keep its own reference: never change ev in place. */
	push_levent(L, ev, mine, false);
}

/* Give le an event of its own before a change (see struct levent). */
static int make_writable(struct levent *le)
{
	struct event *copy;
	int err;

	if (le->writable)
		return 0;
	err = event_dup(&copy, le->ev);
	if (err)
		return err;
	event_deref(le->ev);
	le->ev = copy;
	le->writable = true;
	return 0;
}

struct event *script_check_event(lua_State *L, int idx)
{
	struct levent *le = luaL_checkudata(L, idx, EVENT_MT);
	int err;

	if (!le->ev)
		luaL_argerror(L, idx, "the Event holds no event");
	/* The caller may change it now, and may keep a reference: then we copy. */
	err = make_writable(le);
	if (err)
		luaL_error(L, "Event: %s", strerror(err));
	le->writable = false;
	return le->ev;
}

/* The method's Event (argument 1) and its event: NULL, logged, when it has none. */
static struct event *self_event(lua_State *L, const char *method, struct levent **lep)
{
	struct levent *le = luaL_checkudata(L, 1, EVENT_MT);

	if (lep)
		*lep = le;
	if (!le->ev)
		log_err(TXT_NO_EVENT, method);
	return le->ev;
}

/* The same, ready to be changed. */
static struct event *self_writable(lua_State *L, const char *method)
{
	struct levent *le;
	int err;

	if (!self_event(L, method, &le))
		return NULL;
	err = make_writable(le);
	if (err)
		luaL_error(L, "%s: %s", method, strerror(err));
	return le->ev;
}

/* A header name argument: NULL, logged as FreeSWITCH does, when nil or empty. */
static const char *header_name(lua_State *L, int idx, const char *method)
{
	const char *name = opt_str(L, idx, NULL);

	if (!name || !*name) {
		log_err(TXT_BAD_HEADER, method);
		return NULL;
	}
	return name;
}

/*
 * Add a header at the bottom or the top. REQUEST_PARAMS, CHANNEL_DATA and
 * MESSAGE events keep one header per name, so there an add replaces
 * (EF_UNIQ_HEADERS in switch_event.c, spec/events.md 2). An empty value adds
 * nothing and is EINVAL: the methods then return false.
 */
static int add_header(struct event *ev, const char *name, const char *value, bool top)
{
	enum event_id id = event_get_id(ev);

	if (!value || !*value)
		return EINVAL;
	if (id == EVENT_REQUEST_PARAMS || id == EVENT_CHANNEL_DATA || id == EVENT_MESSAGE)
		event_del_header(ev, name);
	return top ? event_add_header_top(ev, name, value) :
		event_add_header(ev, name, value);
}

/* freeswitch.Event(name [, subclass]) and freeswitch.Event("json", text). */
static int event_new(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	size_t sublen = 0;
	const char *subclass = opt_str(L, 2, &sublen);
	/* The object first, so that an error below leaks nothing. */
	struct levent *le = push_levent(L, NULL, true, true);
	enum event_id id;
	int err;

	if (!strcasecmp(name, "json") && sublen) {
		err = event_from_json(&le->ev, subclass, sublen);
		if (err)
			log_err("freeswitch.Event: cannot build an event from that JSON "
				"(%s)\n", strerror(err));
		return 1;
	}
	if (event_id_parse(name, &id))
		id = EVENT_MESSAGE;
	if (sublen && id != EVENT_CUSTOM) {
		log_warn(TXT_TO_CUSTOM);
		id = EVENT_CUSTOM;
	}
	err = event_alloc(&le->ev, id, subclass);
	if (err)
		log_err(TXT_NO_CREATE);
	return 1;
}

static int event_gc(lua_State *L)
{
	struct levent *le = luaL_checkudata(L, 1, EVENT_MT);

	le->ev = event_deref(le->ev);
	return 0;
}

/*
 * The methods that change the event check their arguments first, so that a
 * call that can only fail copies nothing.
 */
static int event_add_header_l(lua_State *L)
{
	const char *name = header_name(L, 2, "addHeader");
	const char *value = opt_str(L, 3, NULL);
	struct event *ev;

	luaL_checkudata(L, 1, EVENT_MT);
	if (!name || !value || !*value) {
		lua_pushboolean(L, 0);
		return 1;
	}
	ev = self_writable(L, "addHeader");
	lua_pushboolean(L, ev && !add_header(ev, name, value, false));
	return 1;
}

static int event_del_header_l(lua_State *L)
{
	const char *name = header_name(L, 2, "delHeader");
	struct event *ev = self_event(L, "delHeader", NULL);

	if (!ev || !name || !event_header(ev, name)) {
		lua_pushboolean(L, 0);
		return 1;
	}
	ev = self_writable(L, "delHeader");
	lua_pushboolean(L, event_del_header(ev, name) > 0);
	return 1;
}

static int event_get_header_l(lua_State *L)
{
	const char *name = header_name(L, 2, "getHeader");
	struct event *ev = self_event(L, "getHeader", NULL);
	const char *value = ev && name ? event_header(ev, name) : NULL;

	if (value)
		lua_pushstring(L, value);
	else
		lua_pushnil(L);
	return 1;
}

/* spec/lua.md 5: addBody appends to the body there is. */
static int event_add_body_l(lua_State *L)
{
	size_t len = 0;
	const char *text = opt_str(L, 2, &len);
	struct event *ev = self_event(L, "addBody", NULL);
	const char *body;
	luaL_Buffer b;

	if (!ev || !text) {
		lua_pushboolean(L, 0);
		return 1;
	}
	ev = self_writable(L, "addBody");
	luaL_buffinit(L, &b);
	luaL_addlstring(&b, event_get_body(ev) ? event_get_body(ev) : "",
			event_body_len(ev));
	luaL_addlstring(&b, text, len);
	luaL_pushresult(&b);
	body = lua_tolstring(L, -1, &len);
	lua_pushboolean(L, !event_set_body(ev, body, len));
	return 1;
}

static int event_get_body_l(lua_State *L)
{
	struct event *ev = self_event(L, "getBody", NULL);
	const char *body = ev ? event_get_body(ev) : NULL;

	if (body)
		lua_pushlstring(L, body, event_body_len(ev));
	else
		lua_pushnil(L);
	return 1;
}

static int event_get_type_l(lua_State *L)
{
	struct event *ev = self_event(L, "getType", NULL);

	lua_pushstring(L, ev ? event_name(event_get_id(ev)) : "invalid");
	return 1;
}

/* serialize([fmt]): "json", "xml", anything else plain, as the event socket sends. */
static int event_serialize_l(lua_State *L)
{
	struct event *ev = self_event(L, "serialize", NULL);
	const char *fmt = opt_str(L, 2, NULL);
	enum event_format f;
	struct mbuf *mb;
	int err;

	if (!ev) {
		lua_pushliteral(L, "");
		return 1;
	}
	if (!fmt || event_format_parse(fmt, &f))
		f = EVENT_FMT_PLAIN;
	mb = mbuf_alloc(2048);
	if (!mb)
		return luaL_error(L, "serialize: %s", strerror(ENOMEM));
	err = event_serialize(ev, f, mb);
	if (!err)
		lua_pushlstring(L, (const char *)mb->buf, mb->end);
	mem_deref(mb);
	if (err)
		return luaL_error(L, "serialize: %s", strerror(err));
	return 1;
}

/* setPriority([prio]): a "priority" header on top, as switch_event_set_priority. */
static int event_set_priority_l(lua_State *L)
{
	int prio = opt_int(L, 2, 0);
	const char *name = prio >= 0 && (size_t)prio < ARRAY_SIZE(priority_names) ?
		priority_names[prio] : "INVALID";
	struct event *ev = self_writable(L, "setPriority");

	lua_pushboolean(L, ev && !add_header(ev, "priority", name, true));
	return 1;
}

/* fire(): fires a copy, so the object stays usable and may be fired again. */
static int event_fire_l(lua_State *L)
{
	struct levent *le = luaL_checkudata(L, 1, EVENT_MT);
	struct event *copy;

	if (!le->mine) {
		log_err(TXT_NOT_MINE);
		lua_pushboolean(L, 0);
		return 1;
	}
	if (!self_event(L, "fire", NULL)) {
		lua_pushboolean(L, 0);
		return 1;
	}
	if (event_dup(&copy, le->ev)) {
		log_err(TXT_NO_DUP);
		lua_pushboolean(L, 0);
		return 1;
	}
	bus_fire(copy);
	lua_pushboolean(L, 1);
	return 1;
}

/* merge(other): other's headers appended, as switch_event_merge. */
static int event_merge_l(lua_State *L)
{
	struct levent *other = luaL_checkudata(L, 2, EVENT_MT);
	struct event *ev, *src;
	const char *name, *value;
	size_t i, n;
	int err = 0;

	if (!self_event(L, "merge to", NULL)) {
		lua_pushboolean(L, 0);
		return 1;
	}
	if (!other->ev) {
		log_err(TXT_NO_MERGE);
		lua_pushboolean(L, 0);
		return 1;
	}
	ev = self_writable(L, "merge");
	/*
	 * A writable event belongs to one object, so the two are the same only in
	 * e:merge(e); there copy from a snapshot, not from the list being grown.
	 */
	if (other->ev == ev)
		err = event_dup(&src, ev);
	else
		src = event_ref(other->ev);
	if (err)
		return luaL_error(L, "merge: %s", strerror(err));
	n = event_header_count(src);
	for (i = 0; i < n && !err; i++) {
		event_header_at(src, i, &name, &value);
		err = add_header(ev, name, value, false);
	}
	event_deref(src);
	lua_pushboolean(L, !err);
	return 1;
}

/* Does one of the consumer's binds take this event? (switch_events_match) */
static bool consumer_match(const struct event *ev, void *arg)
{
	const struct consumer *c = arg;
	enum event_id id = event_get_id(ev);
	const char *sc = event_get_subclass(ev);
	size_t i;

	for (i = 0; i < c->nbinds; i++) {
		const struct bind *b = &c->binds[i];

		if (b->id != EVENT_ALL && b->id != id)
			continue;
		if (!b->subclass || (sc && !strcmp(sc, b->subclass)))
			return true;
	}
	return false;
}

/* The event arrived or the time is up: resume the waiting run, once. */
static void consumer_wake_waiter(struct consumer *c)
{
	struct script *s = c->waiter;

	if (!s)
		return;
	c->waiter = NULL;
	tmr_cancel(&c->tmr);
	script_wake(s);
}

/* bus_wake_h: the queue went from empty to non-empty. */
static void consumer_wake(void *arg)
{
	consumer_wake_waiter(arg);
}

static void consumer_timeout(void *arg)
{
	consumer_wake_waiter(arg);
}

/* Unbind and drain; pop() then returns nil and bind() 0, as after cleanup(). */
static void consumer_stop(struct consumer *c)
{
	size_t i;

	c->sub = mem_deref(c->sub);
	for (i = 0; i < c->nbinds; i++)
		c->binds[i].subclass = mem_deref(c->binds[i].subclass);
	c->nbinds = 0;
	tmr_cancel(&c->tmr);
	c->waiter = NULL;
}

static void consumer_destructor(void *data)
{
	consumer_stop(data);
}

/* EventConsumer::bind: 1 when bound, 0 for an unknown name or no room. */
static int consumer_bind(struct consumer *c, const char *name, const char *subclass)
{
	struct bind *b = &c->binds[c->nbinds];
	enum event_id id;

	if (!c->sub)
		return 0;
	if (event_id_parse(name, &id)) {
		log_warn(TXT_NO_BIND, name);
		return 0;
	}
	if (subclass && !*subclass)
		subclass = NULL;
	if (c->nbinds == ARRAY_SIZE(c->binds) ||
	    (subclass && str_dup(&b->subclass, subclass))) {
		log_err(TXT_BIND_FAIL, name, subclass ? subclass : "");
		return 0;
	}
	b->id = id;
	c->nbinds++;
	log_debug("bound to %s %s\n", name, subclass ? subclass : "");
	return 1;
}

static struct consumer *check_consumer(lua_State *L)
{
	struct consumer **cp = luaL_checkudata(L, 1, CONSUMER_MT);

	if (!*cp)
		luaL_error(L, "EventConsumer: the consumer is gone");
	return *cp;
}

/* freeswitch.EventConsumer([event_name [, subclass [, queue_len]]]) */
static int consumer_new(lua_State *L)
{
	const char *name = opt_str(L, 1, NULL);
	const char *subclass = opt_str(L, 2, NULL);
	int len = opt_int(L, 3, CONSUMER_QUEUE_DEFAULT);
	struct consumer **cp, *c;
	int err;

	luaL_argcheck(L, len > 0, 3, "the queue length must be positive");
	/* The object first, so that an error below leaks nothing. */
	cp = lua_newuserdatauv(L, sizeof(*cp), 0);
	*cp = NULL;
	luaL_setmetatable(L, CONSUMER_MT);
	c = mem_zalloc(sizeof(*c), consumer_destructor);
	if (!c)
		return luaL_error(L, "EventConsumer: %s", strerror(ENOMEM));
	tmr_init(&c->tmr);
	*cp = c;
	err = bus_subscribe(&c->sub, (size_t)len, consumer_match, consumer_wake, c);
	if (err)
		return luaL_error(L, "EventConsumer: %s", strerror(err));
	if (name && *name)
		consumer_bind(c, name, subclass);
	return 1;
}

static int consumer_gc(lua_State *L)
{
	struct consumer **cp = luaL_checkudata(L, 1, CONSUMER_MT);

	if (*cp) {
		consumer_stop(*cp);
		*cp = mem_deref(*cp);
	}
	return 0;
}

static int consumer_bind_l(lua_State *L)
{
	struct consumer *c = check_consumer(L);
	const char *name = luaL_checkstring(L, 2);
	const char *subclass = opt_str(L, 3, NULL);

	lua_pushinteger(L, consumer_bind(c, name, subclass));
	return 1;
}

static int consumer_cleanup_l(lua_State *L)
{
	consumer_stop(check_consumer(L));
	return 0;
}

/* The next queued event, or nil; a gap before it (the queue was full) is logged. */
static int push_popped(lua_State *L, struct consumer *c)
{
	uint64_t lost = 0;
	struct event *ev = c->sub ? bus_pop(c->sub, &lost) : NULL;

	if (lost)
		log_err(TXT_QUEUE_FULL " (%llu lost)\n", (unsigned long long)lost);
	if (ev)
		script_push_event(L, ev, false);
	else
		lua_pushnil(L);
	return 1;
}

static int pop_resume(lua_State *L, void *data)
{
	struct consumer *c = data;

	/* The Lua object, an argument of the suspended pop(), still holds c. */
	mem_deref(c);
	return push_popped(L, c);
}

static void pop_cancel(void *data)
{
	struct consumer *c = data;

	c->waiter = NULL;
	tmr_cancel(&c->tmr);
	mem_deref(c);
}

/*
 * pop([block [, timeout_ms]]). block=0 never waits; block=1 waits for an event,
 * at most timeout_ms when that is positive, by suspending the run: the bus's
 * wake handler or the timer resumes it.
 */
static int consumer_pop_l(lua_State *L)
{
	struct consumer *c = check_consumer(L);
	int block = opt_int(L, 2, 0);
	int timeout = opt_int(L, 3, 0);

	if (!c->sub)
		return push_popped(L, c);
	if (block && !script_can_wait(L))
		return luaL_error(L, "EventConsumer:pop(): a blocking pop can only "
				  "wait in a script's own run, not in a coroutine "
				  "or a metamethod");
	if (!block || bus_pending(c->sub))
		return push_popped(L, c);
	c->waiter = script_of(L);
	if (timeout > 0)
		tmr_start(&c->tmr, (uint64_t)timeout, consumer_timeout, c);
	return script_wait(L, pop_resume, pop_cancel, mem_ref(c));
}

static void new_class(lua_State *L, const char *mt, const luaL_Reg *methods,
		      lua_CFunction gc)
{
	luaL_newmetatable(L, mt);
	lua_pushcfunction(L, gc);
	lua_setfield(L, -2, "__gc");
	/* Methods live apart from the metatable: e:__gc() is not one of them. */
	lua_newtable(L);
	luaL_setfuncs(L, methods, 0);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
}

/*
 * chat_execute(app [, data]) and chat_send([proto]): confab has no chat
 * endpoints (no SIP MESSAGE, no chat applications), so both fail the way
 * FreeSWITCH's do without the module: SWITCH_STATUS_FALSE (1), and a log line.
 */
static int event_chat_execute_l(lua_State *L)
{
	const char *app = luaL_checkstring(L, 2);

	luaL_optstring(L, 3, NULL);
	if (self_event(L, "chat_execute", NULL))
		log_warn("lua: no chat application %s (confab has no chat)\n", app);
	lua_pushinteger(L, 1);
	return 1;
}

static int event_chat_send_l(lua_State *L)
{
	struct event *ev = self_event(L, "chat_send", NULL);
	const char *proto = luaL_optstring(L, 2, NULL);

	if (ev && !proto)
		proto = event_header(ev, "proto");
	if (ev)
		log_warn("lua: no chat interface %s (confab has no chat)\n", proto ? proto : "");
	lua_pushinteger(L, 1);
	return 1;
}

void script_bind_event(lua_State *L)
{
	static const luaL_Reg event_methods[] = {
		{"addHeader",   event_add_header_l},
		{"delHeader",   event_del_header_l},
		{"getHeader",   event_get_header_l},
		{"addBody",     event_add_body_l},
		{"getBody",     event_get_body_l},
		{"getType",     event_get_type_l},
		{"serialize",   event_serialize_l},
		{"setPriority", event_set_priority_l},
		{"fire",        event_fire_l},
		{"merge",       event_merge_l},
		{"chat_execute", event_chat_execute_l},
		{"chat_send",   event_chat_send_l},
		{NULL, NULL}
	};
	static const luaL_Reg consumer_methods[] = {
		{"bind",    consumer_bind_l},
		{"pop",     consumer_pop_l},
		{"cleanup", consumer_cleanup_l},
		{NULL, NULL}
	};

	new_class(L, EVENT_MT, event_methods, event_gc);
	new_class(L, CONSUMER_MT, consumer_methods, consumer_gc);
	lua_pushcfunction(L, event_new);
	lua_setfield(L, -2, "Event");
	lua_pushcfunction(L, consumer_new);
	lua_setfield(L, -2, "EventConsumer");
}
