/*
 * lua_int.h - inside the Lua subsystem: the run (struct script) that owns a Lua
 * state, how bindings wait without blocking the signalling thread, and the
 * pieces the bindings share.
 */
#ifndef CONFAB_LUA_INT_H
#define CONFAB_LUA_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <lua.h>
#include <lauxlib.h>

struct script;
struct channel;
struct event;
struct mbuf;

/* The run a Lua state (or any of its coroutines) belongs to. */
struct script *script_of(lua_State *L);
/* The run's channel (a dialplan or API `session`), NULL when none. */
struct channel *script_channel(const struct script *s);
/* Name used in log lines and errors: the script's path, or "~" for inline code. */
const char *script_name(const struct script *s);

/*
 * The dialplan moved `ch` on (a transfer) under the lua application: every run
 * started with `ch` as its session goes on without it. Its session objects on
 * `ch` then say so as mod_lua's do (ready() false, the hangup hook runs with
 * "transfer"), and a run waiting on one of them is woken to find out.
 */
void script_channel_moved(struct channel *ch);
/* True once the run's channel was moved on (script_channel_moved). */
bool script_moved(const struct script *s);

/*
 * Waiting. A binding that starts something finishing later ends with
 *
 *	return script_wait(L, resumeh, cancelh, data);
 *
 * which suspends the run. When the operation completes, the binding calls
 * script_wake(); on the next loop turn the run resumes, `resumeh` pushes the
 * binding's results onto L and returns how many it pushed. If the run is torn
 * down before it resumes (shutdown), `cancelh` runs instead and must stop the
 * operation so that it never calls script_wake() again (it may already have).
 * script_wait raises a Lua error when the run cannot wait here (inside a
 * coroutine of the script's own, or a metamethod).
 */
typedef int  (script_resume_h)(lua_State *L, void *data);
typedef void (script_cancel_h)(void *data);
int  script_wait(lua_State *L, script_resume_h *resumeh, script_cancel_h *cancelh,
		 void *data);
void script_wake(struct script *s);
/* True when the calling binding may wait (see script_wait). */
bool script_can_wait(lua_State *L);

/*
 * Bindings: each adds its members to the `freeswitch` table on top of the
 * stack and its metatables to the registry.
 */
void script_bind_core(lua_State *L);      /* consoleLog, API, getGlobalVariable, msleep ... */
void script_bind_event(lua_State *L);     /* Event, EventConsumer */
void script_bind_session(lua_State *L);   /* Session */
void script_bind_dbh(lua_State *L);       /* Dbh */
void script_bind_json(lua_State *L);      /* JSON */
void script_bind_ivr(lua_State *L);       /* IVRMenu */
/* The Session methods of bind_channel.c, into the metatable on top of the stack. */
void script_bind_session_more(lua_State *L);

/* Wake the session waits of runs moved off `ch` (script_channel_moved). */
void script_sessions_moved(struct channel *ch);

/* An Event object for `ev` (takes a reference). `mine`: the script may fire it. */
void script_push_event(lua_State *L, struct event *ev, bool mine);
/* The event behind the Event at `idx`; raises a Lua error when it is not one. */
struct event *script_check_event(lua_State *L, int idx);

/* A Session object for `ch`, without auto-hangup (the dialplan's `session`). */
void script_push_session(lua_State *L, struct channel *ch);

/*
 * Run an API command as API:execute does (the run waits for a command that
 * finishes later), but `h` pushes the results: err 0 on success, ENOENT for
 * an unknown command, EWOULDBLOCK when the command did not finish at once
 * where the run cannot wait, another errno when it failed; out is its output.
 * Returns what h returns (or the wait).
 */
typedef int (script_api_h)(lua_State *L, int err, const char *out, size_t len, int flags);
int  script_api_run(lua_State *L, const char *cmd, const char *args, script_api_h *h,
		    int flags);

/*
 * Session objects for the methods outside bind_session.c (bind_channel.c):
 * the object at idx (a Lua error if it is none), its channel (NULL: empty),
 * whether it is ready (runs a due hangup hook first, the object at sidx), and
 * queueing an event for its input callback (takes a reference; EOVERFLOW when
 * the queue is full).
 */
struct lsession;
struct lsession *script_check_session(lua_State *L, int idx);
struct channel *script_session_channel(const struct lsession *ss);
bool script_session_ready(lua_State *L, struct lsession *ss, int sidx);
int  script_session_send_event(struct lsession *ss, struct event *ev);

/* A `stream` object (API scripts): write() appends to mb, which the caller owns. */
void script_push_stream(lua_State *L, struct mbuf *mb);

/* Arguments: the string at idx, or def when absent/nil (numbers are converted). */
const char *script_optstring(lua_State *L, int idx, const char *def);

/*
 * Starting runs (entry.c). Exactly one of `file` (a path) and `code` (inline
 * source) is set; the globals are set when their field is: argv (argc > 0,
 * argv[0] the script), session (ch), stream, env, event. `now` runs the first
 * step before script_start returns (the `lua` API command, so ${lua(...)}
 * expands at once); otherwise it starts on the next loop turn.
 */
struct script_start {
	const char *name;
	const char *file;
	const char *code;
	int argc;
	char **argv;
	struct channel *ch;
	struct mbuf *stream;
	struct event *env;
	struct event *event;
	const char *path;            /* package.path, NULL: Lua's default */
	const char *cpath;
	bool now;
};

/* How a run ended; passed to its end handler, just before its state closes. */
struct script_end {
	bool ok;                     /* false: load or runtime error (logged) */
};
typedef void (script_end_h)(struct script *s, const struct script_end *e, void *arg);

/*
 * Start a run. A missing file (ENOENT) or a syntax error (EINVAL) is logged
 * and returned, and endh is not called. Otherwise endh runs once when the run
 * ends (possibly before this returns, with `now`).
 */
int  script_start(const struct script_start *st, script_end_h *endh, void *arg);
/* End every run that is not executing right now (shutdown). */
void script_stop_all(void);

#endif
