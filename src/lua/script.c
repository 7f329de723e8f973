/*
 * script.c - one run of one script: its own Lua state, the coroutine that runs
 * the chunk on the signalling thread, waiting and waking, preemption of a
 * script that computes for long, and the end of the run (errors with their
 * traceback, the caller told).
 *
 * A run never blocks the thread. Bindings that wait yield the coroutine
 * (script_wait) and are resumed from a zero timer when their operation
 * completes (script_wake), never from inside the completing module's call
 * chain. A count hook measures how long the coroutine has run since it was last
 * resumed and yields it after a slice, so two busy scripts and the signalling
 * work share the thread.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <re.h>
#include <lualib.h>
#include "channel/channel.h"
#include "core/log.h"
#include "lua/lua_int.h"
#include "lua/script.h"

enum {
	SLICE_US      = 1000,        /* run this long, then let the loop turn */
	STUCK_US      = 5000000,     /* this long where it cannot yield: stop it */
	HOOK_COUNT    = 1000,        /* instructions between clock checks */
};

struct script {
	struct le le;                /* in the list of runs */
	lua_State *L;                /* the run's own state */
	lua_State *co;               /* the coroutine running the chunk */
	char *name;
	struct channel *ch;          /* the session's channel (a reference), or NULL */
	struct tmr tmr;              /* the next step */
	struct {
		script_resume_h *resumeh;
		script_cancel_h *cancelh;
		void *data;
		bool active;
	} w;
	uint64_t slice_start;
	bool preempted;
	bool running;                /* inside lua_resume */
	bool early_wake;             /* woken before it could wait */
	bool moved;                  /* ch was transferred away from the run */
	bool ended;
	script_end_h *endh;
	void *arg;
};

static struct list runs;

static void step(void *arg);

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct script *script_of(lua_State *L)
{
	struct script *s;

	memcpy(&s, lua_getextraspace(L), sizeof(s));
	return s;
}

struct channel *script_channel(const struct script *s)
{
	return s ? s->ch : NULL;
}

const char *script_name(const struct script *s)
{
	return s ? s->name : "lua";
}

bool script_moved(const struct script *s)
{
	return s && s->moved;
}

void script_channel_moved(struct channel *ch)
{
	struct le *le;

	for (le = list_head(&runs); le; le = le->next) {
		struct script *s = le->data;

		if (ch && s->ch == ch)
			s->moved = true;
	}
	/*
	 * Only a wait on the session ends; a run that is executing now (it
	 * transferred its own channel) sees the flag at its next session call.
	 */
	script_sessions_moved(ch);
}

size_t script_count(void)
{
	return list_count(&runs);
}

/*
 * Yield from the count hook after a slice. Only the run's own coroutine is
 * yielded: a coroutine of the script's own belongs to the script's resume.
 */
static void count_hook(lua_State *L, lua_Debug *ar)
{
	struct script *s = script_of(L);
	uint64_t ran = now_us() - s->slice_start;

	(void)ar;
	if (ran < SLICE_US)
		return;
	if (L == s->co && lua_isyieldable(L)) {
		s->preempted = true;
		lua_yield(L, 0);
		return;
	}
	if (ran > STUCK_US)
		luaL_error(L, "ran %d s without a point where it could wait; stopped",
			   STUCK_US / 1000000);
}

static void end_run(struct script *s, int status)
{
	script_cancel_h *cancelh = s->w.active ? s->w.cancelh : NULL;
	void *data = s->w.data;
	struct script_end e = {.ok = status == LUA_OK};

	if (s->ended)
		return;
	s->ended = true;
	memset(&s->w, 0, sizeof(s->w));
	tmr_cancel(&s->tmr);
	list_unlink(&s->le);
	if (cancelh)
		cancelh(data);
	if (status != LUA_OK && status != LUA_YIELD) {
		const char *msg = lua_tostring(s->co, -1);

		/* Lua's message already starts with file:line. */
		luaL_traceback(s->L, s->co, msg ? msg : "(error object is not a string)", 0);
		log_err("lua: %s\n", lua_tostring(s->L, -1));
		lua_pop(s->L, 1);
	}
	if (s->endh)
		s->endh(s, &e, s->arg);
	/* Closing runs the objects' finalisers: sessions' auto-hangup, consumers. */
	lua_close(s->L);
	s->L = s->co = NULL;
	mem_deref(s);
}

static void step(void *arg)
{
	struct script *s = arg;
	int nres = 0, status;

	s->slice_start = now_us();
	s->running = true;
	status = lua_resume(s->co, s->L, 0, &nres);
	s->running = false;
	if (status != LUA_YIELD) {
		end_run(s, status);
		return;
	}
	lua_pop(s->co, nres);
	if (s->preempted) {
		s->preempted = false;
		tmr_start(&s->tmr, 0, step, s);
	} else if (!s->w.active) {
		/* coroutine.yield() at the top level: nothing will wake it but time. */
		tmr_start(&s->tmr, 0, step, s);
	}
}

static int wait_k(lua_State *L, int status, lua_KContext ctx)
{
	struct script *s = script_of(L);
	script_resume_h *resumeh = s->w.resumeh;
	void *data = s->w.data;

	(void)status;
	(void)ctx;
	memset(&s->w, 0, sizeof(s->w));
	return resumeh(L, data);
}

bool script_can_wait(lua_State *L)
{
	struct script *s = script_of(L);

	return s && L == s->co && lua_isyieldable(L) && !s->ended;
}

int script_wait(lua_State *L, script_resume_h *resumeh, script_cancel_h *cancelh,
		void *data)
{
	struct script *s = script_of(L);

	if (!script_can_wait(L)) {
		if (cancelh)
			cancelh(data);
		return luaL_error(L, "cannot wait here (inside a coroutine of the "
				  "script's own or a metamethod)");
	}
	s->w.resumeh = resumeh;
	s->w.cancelh = cancelh;
	s->w.data = data;
	s->w.active = true;
	if (s->early_wake) {
		s->early_wake = false;
		tmr_start(&s->tmr, 0, step, s);
	}
	return lua_yieldk(L, 0, 0, wait_k);
}

void script_wake(struct script *s)
{
	if (!s || s->ended)
		return;
	if (s->w.active)
		tmr_start(&s->tmr, 0, step, s);
	else
		s->early_wake = true;   /* completed at once, before script_wait */
}

/* os.exit would take the whole server down. */
static int no_exit(lua_State *L)
{
	log_warn("lua: %s: Surely you jest! exiting is a bad plan....\n",
		 script_name(script_of(L)));
	return 0;
}

static void destructor(void *data)
{
	struct script *s = data;

	if (s->L)
		lua_close(s->L);
	mem_deref(s->ch);
	mem_deref(s->name);
}

static void prepare_state(struct script *s, const struct script_start *st)
{
	lua_State *L = s->L;
	int i;

	memcpy(lua_getextraspace(L), &s, sizeof(s));
	luaL_openlibs(L);

	lua_getglobal(L, "os");
	lua_pushcfunction(L, no_exit);
	lua_setfield(L, -2, "exit");
	lua_pop(L, 1);

	/* lua.conf's patterns come first; Lua's own defaults stay behind them. */
	lua_getglobal(L, "package");
	if (st->path) {
		lua_getfield(L, -1, "path");
		lua_pushfstring(L, "%s;%s", st->path, lua_tostring(L, -1));
		lua_setfield(L, -3, "path");
		lua_pop(L, 1);
	}
	if (st->cpath) {
		lua_getfield(L, -1, "cpath");
		lua_pushfstring(L, "%s;%s", st->cpath, lua_tostring(L, -1));
		lua_setfield(L, -3, "cpath");
		lua_pop(L, 1);
	}
	lua_pop(L, 1);

	lua_newtable(L);
	script_bind_core(L);
	script_bind_event(L);
	script_bind_session(L);
	script_bind_dbh(L);
	script_bind_json(L);
	script_bind_ivr(L);
	lua_setglobal(L, "freeswitch");

	if (st->argc > 0) {
		lua_createtable(L, st->argc, 1);
		for (i = 0; i < st->argc; i++) {
			lua_pushstring(L, st->argv[i]);
			lua_rawseti(L, -2, i);
		}
		lua_setglobal(L, "argv");
	}
	if (st->ch) {
		script_push_session(L, st->ch);
		lua_setglobal(L, "session");
	}
	if (st->stream) {
		script_push_stream(L, st->stream);
		lua_setglobal(L, "stream");
	}
	if (st->env) {
		script_push_event(L, event_ref(st->env), false);
		lua_setglobal(L, "env");
	}
	if (st->event) {
		script_push_event(L, event_ref(st->event), false);
		lua_setglobal(L, "event");
	}
}

int script_start(const struct script_start *st, script_end_h *endh, void *arg)
{
	struct script *s;
	int err, rc;

	if (!st || !st->name || (!st->code && !st->file))
		return EINVAL;
	s = mem_zalloc(sizeof(*s), destructor);
	if (!s)
		return ENOMEM;
	tmr_init(&s->tmr);
	err = str_dup(&s->name, st->name);
	if (err)
		goto fail;
	s->L = luaL_newstate();
	if (!s->L) {
		err = ENOMEM;
		goto fail;
	}
	s->ch = mem_ref(st->ch);
	s->endh = endh;
	s->arg = arg;
	prepare_state(s, st);

	if (st->code)
		rc = luaL_loadbufferx(s->L, st->code, strlen(st->code), "=~", "t");
	else
		rc = luaL_loadfilex(s->L, st->file, "t");
	if (rc != LUA_OK) {
		/* Lua's message names the file already ("cannot open <path>", "<path>:2:"). */
		log_err("lua: %s\n", lua_tostring(s->L, -1));
		err = rc == LUA_ERRFILE ? ENOENT : EINVAL;
		goto fail;
	}
	s->co = lua_newthread(s->L);
	/* The thread stays referenced from the main stack for the whole run. */
	lua_insert(s->L, -2);
	lua_xmove(s->L, s->co, 1);
	lua_sethook(s->co, count_hook, LUA_MASKCOUNT, HOOK_COUNT);

	list_append(&runs, &s->le, s);
	if (st->now)
		step(s);
	else
		tmr_start(&s->tmr, 0, step, s);
	return 0;

 fail:
	mem_deref(s);
	return err;
}

void script_stop_all(void)
{
	struct le *le;

	while ((le = list_head(&runs)) != NULL) {
		struct script *s = le->data;

		if (s->running)
			break;
		end_run(s, LUA_OK);
	}
}
