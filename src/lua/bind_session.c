/*
 * bind_session.c - freeswitch.Session, the `session` global and
 * freeswitch.bridge (spec/lua.md 7).
 *
 * A session object wraps a channel (a reference) and watches it: digits wait
 * in the channel's queue for getDigits and the input callback (during
 * recordFile, whose application takes them, in the object), a hangup arms
 * the hangup hook.
 * Methods that take time (execute, sleep, streamFile, getDigits, originating
 * constructors, bridge) start an operation and wait for it (script_wait); the
 * resume handler runs inside the script again, so the input callback is
 * called from there, and may decide to stop what is playing. The methods
 * that play and collect digits are in bind_play.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "channel/bridge.h"
#include "channel/channel.h"
#include "channel/originate.h"
#include "core/log.h"
#include "core/vars.h"
#include "dialplan/app.h"
#include "event/event.h"
#include "lua/lua_int.h"
#include "lua/session_int.h"
#include "media/play.h"

#define SESSION_MT "confab.Session"

/* Every session object of every run, for script_sessions_moved. */
static struct list sessions;


static void sop_destructor(void *data)
{
	struct sop *op = data;

	tmr_cancel(&op->tmr);
	tmr_cancel(&op->tmr_abs);
	mem_deref(op->result_var);
	mem_deref(op->orig);
	mem_deref(op->leg);
	mem_deref(op->other_watch);
	mem_deref(op->br);
}

struct sop *sop_alloc(lua_State *L, struct lsession *ss, enum sop_kind kind)
{
	struct sop *op = mem_zalloc(sizeof(*op), sop_destructor);

	if (!op) {
		luaL_error(L, "session: out of memory");
		return NULL;
	}
	op->kind = kind;
	op->s = script_of(L);
	op->ss = ss;
	tmr_init(&op->tmr);
	tmr_init(&op->tmr_abs);
	return op;
}

void sop_wake(struct sop *op)
{
	if (!op->cancelled)
		script_wake(op->s);
}

/* The channel is there and not hanging up: its media may be asked for. */
bool lsess_chan_up(const struct lsession *ss)
{
	return ss->ch && channel_up(ss->ch);
}

/* The dialplan transferred the run's own channel away from it (script_moved). */
static bool sess_moved(const struct lsession *ss)
{
	return ss->ch && script_channel(ss->s) == ss->ch && script_moved(ss->s);
}

/*
 * Ready for the script: up, and still the script's. After a transfer mod_lua's
 * session is not ready either (switch_channel_ready() is false with
 * CF_TRANSFER): media methods return at once and the script is expected to end.
 */
bool lsess_up(const struct lsession *ss)
{
	return lsess_chan_up(ss) && !sess_moved(ss);
}

/* The run is torn down while waiting: stop what can be stopped. */
void sop_cancel(void *data)
{
	struct sop *op = data;

	op->cancelled = true;
	if (op->ss && op->ss->op == op)
		op->ss->op = NULL;
	if (op->kind == SOP_PLAY && !op->done) {
		/* A channel that is down has no media to ask for (see play_resume). */
		if (!op->stopped && op->ss && lsess_chan_up(op->ss))
			media_play_stop(channel_media(op->ss->ch));
		/*
		 * A player stopped here, or gone with its stream at the hangup, never
		 * calls play_done: its reference goes now, as in play_resume.
		 */
		mem_deref(op);
	}
	op->orig = mem_deref(op->orig);
	op->br = mem_deref(op->br);
	op->other_watch = mem_deref(op->other_watch);
	tmr_cancel(&op->tmr);
	tmr_cancel(&op->tmr_abs);
	mem_deref(op);
}

/* Finished waiting: the session forgets the operation, the caller pushes. */
void sop_end(struct sop *op)
{
	if (op->ss && op->ss->op == op)
		op->ss->op = NULL;
	tmr_cancel(&op->tmr);
	tmr_cancel(&op->tmr_abs);
}

struct lsession *lsess_check(lua_State *L, int idx)
{
	struct lsession **ssp = luaL_checkudata(L, idx, SESSION_MT);

	if (!*ssp)
		luaL_error(L, "session: the object was destroyed");
	return *ssp;
}

static void session_watch(struct channel *ch, enum channel_note note, const char *data,
			  void *arg)
{
	struct lsession *ss = arg;

	switch (note) {
	case CHANNEL_NOTE_DTMF:
		/* The record application takes digits; the input callback hears them. */
		if (data && *data && ss->op && ss->op->record && ss->cb_fn &&
		    ss->ndtmf < DTMF_MAX) {
			ss->dtmf[ss->ndtmf++] = *data;
			ss->dtmf[ss->ndtmf] = '\0';
		}
		break;
	case CHANNEL_NOTE_HANGUP:
		ss->cause = channel_cause(ch);
		if (ss->hook_fn && !ss->hook_ran) {
			ss->hook_due = true;
			ss->hook_why = "hangup";
		}
		break;
	default:
		break;
	}
	if (ss->op)
		sop_wake(ss->op);
}

/* The next digit for the script: heard during recordFile, else typed ahead. */
bool lsess_next_digit(struct lsession *ss, char *d)
{
	if (ss->ndtmf) {
		*d = ss->dtmf[0];
		memmove(ss->dtmf, ss->dtmf + 1, ss->ndtmf--);
		return true;
	}
	return channel_dtmf_pop(ss->ch, d);
}

bool lsess_has_digit(const struct lsession *ss)
{
	return ss->ndtmf || channel_dtmf_pending(ss->ch);
}

void lsess_flush_events(struct lsession *ss)
{
	while (ss->nev)
		event_deref(ss->evq[--ss->nev]);
}

static void lsession_destructor(void *data)
{
	struct lsession *ss = data;

	lsess_flush_events(ss);
	list_unlink(&ss->le);
	ss->watch = mem_deref(ss->watch);
	if (ss->ch && ss->autohangup && channel_up(ss->ch))
		channel_hangup(ss->ch, CAUSE_NORMAL_CLEARING);
	mem_deref(ss->ch);
	mem_deref(ss->hook_fn);
	mem_deref(ss->hook_arg);
	mem_deref(ss->cb_fn);
	mem_deref(ss->cb_arg);
}

static int attach(struct lsession *ss, struct channel *ch)
{
	ss->watch = mem_deref(ss->watch);
	ss->ch = mem_deref(ss->ch);
	if (!ch)
		return 0;
	ss->ch = mem_ref(ch);
	return channel_watch(&ss->watch, ch, session_watch, ss);
}

static struct lsession *push_new(lua_State *L)
{
	struct lsession **ssp = lua_newuserdatauv(L, sizeof(*ssp), 0);

	*ssp = NULL;
	luaL_setmetatable(L, SESSION_MT);
	*ssp = mem_zalloc(sizeof(**ssp), lsession_destructor);
	if (!*ssp)
		luaL_error(L, "session: out of memory");
	(*ssp)->s = script_of(L);
	list_append(&sessions, &(*ssp)->le, *ssp);
	return *ssp;
}

/*
 * Wake what the runs moved off `ch` wait for on their sessions there; the
 * resume handlers find the session no longer ready. Other waits (msleep, an
 * API command, a pop) are left alone: they are not done yet.
 */
void script_sessions_moved(struct channel *ch)
{
	struct le *le;

	for (le = list_head(&sessions); le; le = le->next) {
		struct lsession *ss = le->data;

		struct sop *op = ss->op;

		if (ss->ch != ch || !op || !sess_moved(ss))
			continue;
		/* Stop it now: the new extension may play on the same stream next. */
		if (op->kind == SOP_PLAY && !op->done && !op->stopped && lsess_chan_up(ss)) {
			media_play_stop(channel_media(ch));
			op->stopped = true;
		}
		sop_wake(op);
	}
}

void script_push_session(lua_State *L, struct channel *ch)
{
	struct lsession *ss = push_new(L);

	if (attach(ss, ch))
		log_err("lua: %s: cannot watch the channel\n", channel_name(ch));
}

static int session_gc(lua_State *L)
{
	struct lsession **ssp = luaL_checkudata(L, 1, SESSION_MT);

	*ssp = mem_deref(*ssp);
	return 0;
}

/*
 * The hangup hook runs the next time the script calls into its session, as
 * mod_lua does: on_hangup(session, "hangup"|"transfer" [, arg]). "exit" or
 * "die" ends the script.
 */
void lsess_run_hook(lua_State *L, struct lsession *ss, int sidx)
{
	const char *ret;
	int nargs = 2;

	/* A transfer arms it as a hangup does (the CS_ROUTING state handler). */
	if (!ss->hook_due && !ss->hook_ran && ss->hook_fn && sess_moved(ss)) {
		ss->hook_due = true;
		ss->hook_why = "transfer";
	}
	if (!ss->hook_due || ss->hook_ran)
		return;
	ss->hook_due = false;
	ss->hook_ran = true;
	lua_getglobal(L, ss->hook_fn);
	if (!lua_isfunction(L, -1)) {
		log_err("lua: %s: hangup hook '%s' is not a function\n",
			script_name(ss->s), ss->hook_fn);
		lua_pop(L, 1);
		return;
	}
	lua_pushvalue(L, sidx);
	lua_pushstring(L, ss->hook_why ? ss->hook_why : "hangup");
	if (ss->hook_arg) {
		lua_getglobal(L, ss->hook_arg);
		nargs++;
	}
	if (lua_pcall(L, nargs, 1, 0) != LUA_OK) {
		log_err("lua: %s: hangup hook: %s\n", script_name(ss->s),
			lua_tostring(L, -1));
		lua_pop(L, 1);
		return;
	}
	ret = lua_tostring(L, -1);
	if (ret && ss->ch)
		channel_var_set(ss->ch, "lua_hangup_hook_return_val", ret);
	if (ret && (!strcasecmp(ret, "exit") || !strcasecmp(ret, "die"))) {
		lua_pop(L, 1);
		luaL_error(L, "hangup hook returned '%s': script ended", ret);
	}
	lua_pop(L, 1);
}

/* File-control replies keep playing; anything else but "true" stops. */
static bool cb_says_stop(const char *ret)
{
	static const char *const go_on[] = {"", "true", "undefined", "pause", "restart",
					    "truncate"};
	size_t i;

	if (!ret)
		return false;
	for (i = 0; i < sizeof(go_on) / sizeof(go_on[0]); i++) {
		if (!strcasecmp(ret, go_on[i]))
			return false;
	}
	return strncasecmp(ret, "speed:", 6) && strncasecmp(ret, "volume:", 7) &&
	       strncasecmp(ret, "seek:", 5);
}

/*
 * A reply during streamFile: file commands act on the player and it goes on;
 * "stop", "truncate" and anything else stop it (switch_ivr_process_fh).
 */
static bool cb_play(struct lsession *ss, const struct media_fctl_cmd *fc, int perr)
{
	if (perr || fc->op == MEDIA_FCTL_STOP || fc->op == MEDIA_FCTL_TRUNCATE)
		return true;
	if (lsess_chan_up(ss))
		(void)media_play_control(channel_media(ss->ch), fc);
	return false;
}

/*
 * A reply during recordFile: "pause" toggles the recording, "truncate"
 * empties the file and ends it, what would stop a playback ends it; the other
 * file commands mean nothing to a recording. The record application then
 * completes as at its time limit, and recordFile returns when it has.
 */
static bool cb_record(struct lsession *ss, const struct media_fctl_cmd *fc, int perr)
{
	struct media_stream *ms = lsess_chan_up(ss) ? channel_media(ss->ch) : NULL;

	if (!ms)
		return false;
	if (perr || fc->op == MEDIA_FCTL_STOP || fc->op == MEDIA_FCTL_TRUNCATE)
		(void)media_record_end(ms, !perr && fc->op == MEDIA_FCTL_TRUNCATE);
	else if (fc->op == MEDIA_FCTL_PAUSE)
		(void)media_record_pause(ms, !media_record_paused(ms));
	return false;
}

/* What the callback's reply does to the operation waited for; true: stop it. */
static bool cb_result(struct lsession *ss, const char *ret)
{
	struct media_fctl_cmd fc;
	struct sop *op = ss->op;
	int perr;

	if (!op || (op->kind != SOP_PLAY && !op->record))
		return cb_says_stop(ret);
	perr = media_fctl_parse(ret, &fc);
	return op->kind == SOP_PLAY ? cb_play(ss, &fc, perr) : cb_record(ss, &fc, perr);
}

/*
 * Hand the queued digits to the input callback, one by one. True when it
 * said to stop. A callback that fails counts as "SCRIPT_ERROR": stop.
 */
static bool call_callback(lua_State *L, struct lsession *ss, int nargs)
{
	bool stop;

	if (ss->cb_arg) {
		lua_getglobal(L, ss->cb_arg);
		nargs++;
	}
	if (lua_pcall(L, nargs, 1, 0) != LUA_OK) {
		log_err("lua: %s: input callback: %s\n", script_name(ss->s),
			lua_tostring(L, -1));
		lua_pop(L, 1);
		return true;
	}
	stop = cb_result(ss, lua_tostring(L, -1));
	lua_pop(L, 1);
	return stop;
}

/* Queued events go to the callback as on_input(session, "event", event [, arg]). */
static bool feed_events(lua_State *L, struct lsession *ss, int sidx)
{
	while (ss->cb_fn && ss->nev) {
		struct event *ev = ss->evq[0];

		memmove(ss->evq, ss->evq + 1, --ss->nev * sizeof(ss->evq[0]));
		lua_getglobal(L, ss->cb_fn);
		if (!lua_isfunction(L, -1)) {
			event_deref(ev);
			lua_pop(L, 1);
			return false;
		}
		lua_pushvalue(L, sidx);
		lua_pushstring(L, "event");
		script_push_event(L, ev, false);         /* takes our reference */
		if (call_callback(L, ss, 3))
			return true;
	}
	return false;
}

bool lsess_feed_callback(lua_State *L, struct lsession *ss, int sidx)
{
	if (feed_events(L, ss, sidx))
		return true;
	char digit[2] = {0, 0};

	while (ss->cb_fn && lsess_next_digit(ss, &digit[0])) {
		int nargs = 3;

		lua_getglobal(L, ss->cb_fn);
		if (!lua_isfunction(L, -1)) {
			log_err("lua: %s: input callback '%s' is not a function\n",
				script_name(ss->s), ss->cb_fn);
			lua_pop(L, 1);
			return false;
		}
		lua_pushvalue(L, sidx);
		lua_pushstring(L, "dtmf");
		lua_createtable(L, 0, 2);
		lua_pushstring(L, digit);
		lua_setfield(L, -2, "digit");
		lua_pushinteger(L, 100);
		lua_setfield(L, -2, "duration");
		if (call_callback(L, ss, nargs))
			return true;
	}
	return false;
}

/* ---- answer, hangup, state -------------------------------------------------- */

static int s_answer(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);

	lsess_run_hook(L, ss, 1);
	lua_pushinteger(L, lsess_up(ss) ? channel_answer(ss->ch) == 0 : ss->ch ? 0 : -1);
	return 1;
}

static int s_pre_answer(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);

	lsess_run_hook(L, ss, 1);
	lua_pushinteger(L, lsess_up(ss) ? channel_pre_answer(ss->ch) == 0 : ss->ch ? 0 : -1);
	return 1;
}

static int s_answered(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);

	lua_pushboolean(L, ss->ch && channel_answered(ss->ch));
	return 1;
}

static int s_media_ready(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);

	lua_pushboolean(L, lsess_up(ss) && channel_media(ss->ch) != NULL);
	return 1;
}

static int s_bridged(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);

	lua_pushboolean(L, lsess_up(ss) && channel_state(ss->ch) == CS_EXCHANGE_MEDIA);
	return 1;
}

static int s_ready(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);

	lsess_run_hook(L, ss, 1);
	lua_pushboolean(L, lsess_up(ss));
	return 1;
}

static int s_hangup(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);
	const char *name = script_optstring(L, 2, "normal_clearing");
	enum hangup_cause cause;

	if (cause_parse(name, &cause))
		cause = CAUSE_NORMAL_CLEARING;
	/* As CoreSession::hangup, also a channel transferred away. */
	if (lsess_chan_up(ss))
		channel_hangup(ss->ch, cause);
	lsess_run_hook(L, ss, 1);
	return 0;
}

static int s_hangup_cause(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);
	enum hangup_cause cause = ss->cause;

	if (ss->ch && !channel_up(ss->ch))
		cause = channel_cause(ss->ch);
	lua_pushstring(L, cause_name(cause));
	return 1;
}

static int s_hangup_state(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);

	lsess_run_hook(L, ss, 1);
	return 0;
}

static int s_get_state(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);

	lua_pushstring(L, ss->ch ? channel_state_name(channel_state(ss->ch)) : "ERROR");
	return 1;
}

static int s_get_uuid(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);

	lua_pushstring(L, ss->ch ? channel_uuid(ss->ch) : "uninitialized");
	return 1;
}

/* ---- variables ------------------------------------------------------------- */

/* Channel variable, caller-profile field, then global, as switch_channel does. */
static int s_get_variable(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);
	const char *name = luaL_checkstring(L, 2);
	const char *v = ss->ch ? channel_var_lookup(ss->ch, name) : NULL;
	char *g;

	if (v) {
		lua_pushstring(L, v);
		return 1;
	}
	g = ss->ch ? vars_global_dup(name) : NULL;
	if (g)
		lua_pushstring(L, g);
	else
		lua_pushnil(L);
	mem_deref(g);
	return 1;
}

static int s_set_variable(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);
	const char *name = luaL_checkstring(L, 2);
	const char *value = script_optstring(L, 3, NULL);

	if (ss->ch)
		channel_var_set(ss->ch, name, value);
	return 0;
}

/* ---- applications ------------------------------------------------------------ */

static void app_op_done(struct channel *ch, int err, void *arg)
{
	struct sop *op = arg;

	op->done = true;
	op->result = err;
	sop_wake(op);
	mem_deref(op);               /* the application's reference */
}

static int record_resume(lua_State *L, void *data);

static int app_op_resume(lua_State *L, void *data)
{
	struct sop *op = data;
	int n = 0;

	/*
	 * The session wakes its operation on every digit and at a transfer; an
	 * application still running on a ready session is waited for again.
	 */
	if (!op->done && lsess_up(op->ss))
		return script_wait(L, op->record ? record_resume : app_op_resume, sop_cancel,
				   op);
	/* Left running (a transfer): its completion must not wake a later wait. */
	op->cancelled = !op->done;
	sop_end(op);
	if (op->result_var) {
		const char *v = op->ss && op->ss->ch ? channel_var(op->ss->ch, op->result_var)
						   : NULL;

		lua_pushstring(L, v ? v : "");
		n = 1;
	}
	mem_deref(op);
	return n;
}

/* recordFile: digits go to the input callback while the record application runs. */
static int record_resume(lua_State *L, void *data)
{
	struct sop *op = data;

	/* A failing callback (cb_record decides the rest) ends the recording too. */
	if (lsess_feed_callback(L, op->ss, 1) && lsess_chan_up(op->ss))
		(void)media_record_end(channel_media(op->ss->ch), false);
	return app_op_resume(L, data);
}

/*
 * Run an application on the session's channel and wait for it. With
 * result_var, the method returns that variable's value afterwards; with
 * `record`, the input callback hears digits meanwhile (recordFile).
 */
static int run_app_ex(lua_State *L, struct lsession *ss, const char *app,
		      const char *data, const char *result_var, bool record)
{
	struct sop *op;
	int err;

	lsess_run_hook(L, ss, 1);
	if (!lsess_up(ss)) {
		if (result_var)
			lua_pushstring(L, "");
		return result_var ? 1 : 0;
	}
	op = sop_alloc(L, ss, SOP_APP);
	if (result_var && str_dup(&op->result_var, result_var)) {
		mem_deref(op);
		return luaL_error(L, "session: out of memory");
	}
	if (!script_can_wait(L)) {
		mem_deref(op);
		return luaL_error(L, "session:execute: cannot wait here");
	}
	mem_ref(op);                 /* held by the application until it completes */
	err = app_execute(ss->ch, app, data, NULL, app_op_done, op);
	if (err && err != EINPROGRESS && !op->done) {
		/* Refused before it ran: nothing will call app_op_done. */
		mem_deref(op);
		op->done = true;
	}
	ss->op = op->done ? NULL : op;
	op->record = record;
	if (record && ss->op && ss->cb_fn && (lsess_has_digit(ss) || ss->nev))
		sop_wake(op);
	return script_wait(L, record ? record_resume : app_op_resume, sop_cancel, op);
}

static int run_app(lua_State *L, struct lsession *ss, const char *app, const char *data,
		   const char *result_var)
{
	return run_app_ex(L, ss, app, data, result_var, false);
}

static int s_execute(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);
	const char *app = luaL_checkstring(L, 2);
	const char *data = script_optstring(L, 3, "");

	return run_app(L, ss, app, data, NULL);
}

/* read(min, max, prompt, timeout, terminators [, digit_timeout]) */
static int s_read(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);
	lua_Integer min = luaL_checkinteger(L, 2), max = luaL_checkinteger(L, 3);
	const char *file = luaL_checkstring(L, 4);
	lua_Integer timeout = luaL_checkinteger(L, 5);
	const char *terms = luaL_checkstring(L, 6);
	lua_Integer dto = luaL_optinteger(L, 7, timeout);
	const char *args = lua_pushfstring(L, "%I %I '%s' lua_read_digits %I '%s' %I", min,
					   max, file, timeout, *terms ? terms : "none", dto);

	return run_app(L, ss, "read", args, "lua_read_digits");
}

/*
 * playAndGetDigits(min, max, tries, timeout, terminators, file, invalid_file,
 * regex [, var_name [, digit_timeout [, transfer_on_failure]]])
 */
static int s_play_and_get_digits(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);
	lua_Integer min = luaL_checkinteger(L, 2), max = luaL_checkinteger(L, 3);
	lua_Integer tries = luaL_checkinteger(L, 4), timeout = luaL_checkinteger(L, 5);
	const char *terms = luaL_checkstring(L, 6), *file = luaL_checkstring(L, 7);
	const char *invalid = luaL_checkstring(L, 8), *regex = luaL_checkstring(L, 9);
	const char *var = script_optstring(L, 10, NULL);
	lua_Integer dto = luaL_optinteger(L, 11, timeout);
	const char *tof = script_optstring(L, 12, NULL);
	const char *args;

	if (!var || !*var)
		var = "lua_pagd_digits";
	args = lua_pushfstring(L, "%I %I %I %I '%s' '%s' '%s' %s '%s' %I%s%s", min, max,
			       tries, timeout, *terms ? terms : "none", file,
			       *invalid ? invalid : "silence_stream://0", var,
			       *regex ? regex : ".*", dto, tof ? " " : "", tof ? tof : "");
	return run_app(L, ss, "play_and_get_digits", args, var);
}

/* recordFile(file [, time_limit_s [, silence_thresh [, silence_hits]]]) */
static int s_record_file(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);
	const char *file = luaL_checkstring(L, 2);
	lua_Integer limit = luaL_optinteger(L, 3, 0);
	lua_Integer thresh = luaL_optinteger(L, 4, 0), hits = luaL_optinteger(L, 5, 0);
	const char *args = lua_pushfstring(L, "%s %I %I %I", file, limit, thresh, hits);

	run_app_ex(L, ss, "record", args, NULL, true);
	lua_pushinteger(L, 1);
	return 1;
}

static int s_transfer(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);
	const char *exten = luaL_checkstring(L, 2);
	const char *dialplan = script_optstring(L, 3, NULL);
	const char *context = script_optstring(L, 4, NULL);

	if (!lsess_up(ss)) {
		lua_pushinteger(L, 0);
		return 1;
	}
	if (ss->hook_fn && !ss->hook_ran) {
		ss->hook_due = true;
		ss->hook_why = "transfer";
	}
	/* The dialplan has the leg now: the object no longer hangs it up. */
	ss->autohangup = false;
	channel_transfer(ss->ch, exten, dialplan, context);
	lua_pushinteger(L, 1);
	return 1;
}

/* ---- hooks and callbacks ----------------------------------------------------- */

static int set_names(lua_State *L, char **fnp, char **argp)
{
	const char *fn = luaL_checkstring(L, 2);
	const char *arg = script_optstring(L, 3, NULL);

	*fnp = mem_deref(*fnp);
	*argp = mem_deref(*argp);
	if (str_dup(fnp, fn) || (arg && *arg && str_dup(argp, arg)))
		return luaL_error(L, "session: out of memory");
	return 0;
}

static int s_set_hangup_hook(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);

	set_names(L, &ss->hook_fn, &ss->hook_arg);
	ss->hook_ran = false;
	/* Already down: it runs at the next session call. */
	if (ss->ch && !channel_up(ss->ch)) {
		ss->hook_due = true;
		ss->hook_why = "hangup";
	}
	return 0;
}

static int s_set_input_callback(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);

	set_names(L, &ss->cb_fn, &ss->cb_arg);
	return 0;
}

static int s_unset_input_callback(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);

	ss->cb_fn = mem_deref(ss->cb_fn);
	ss->cb_arg = mem_deref(ss->cb_arg);
	return 0;
}

static int s_set_auto_hangup(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);

	luaL_checkany(L, 2);
	ss->autohangup = lua_toboolean(L, 2);
	lua_pushinteger(L, 0);
	return 1;
}

static int s_console_log(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);
	enum log_level level;

	if (log_level_parse(luaL_checkstring(L, 2), &level))
		level = LOGL_DEBUG;
	log_write(level, script_name(ss->s), "lua", 0, "%s %s",
		  ss->ch ? channel_uuid(ss->ch) : "", luaL_checkstring(L, 3));
	return 0;
}

/* destroy([err]): the object lets go of the channel now (auto-hangup applies). */
static int s_destroy(lua_State *L)
{
	struct lsession **ssp = luaL_checkudata(L, 1, SESSION_MT);
	const char *err = script_optstring(L, 2, NULL);

	*ssp = mem_deref(*ssp);
	if (err)
		return luaL_error(L, "%s", err);
	return 0;
}

/* ---- originate, waitForAnswer, bridge --------------------------------------- */

static void orig_done(enum hangup_cause cause, struct channel *leg, void *arg)
{
	struct sop *op = arg;

	op->orig = mem_deref(op->orig);
	op->cause = cause;
	op->leg = mem_ref(leg);
	op->done = true;
	/* Nothing runs on the leg but the script; it says so as FreeSWITCH does. */
	if (leg)
		channel_set_state(leg, CS_SOFT_EXECUTE);
	sop_wake(op);
}

/* Attach the answered leg to the object, or remember why there is none. */
static void orig_apply(struct sop *op, struct lsession *ss)
{
	if (op->leg) {
		if (attach(ss, op->leg))
			log_err("lua: %s: cannot watch the channel\n", channel_name(op->leg));
		ss->autohangup = true;
		ss->cause = CAUSE_NONE;
	} else {
		ss->cause = op->cause != CAUSE_NONE ? op->cause
						    : CAUSE_DESTINATION_OUT_OF_ORDER;
	}
}

static int ctor_resume(lua_State *L, void *data)
{
	struct sop *op = data;
	struct lsession **ssp = luaL_checkudata(L, op->ud, SESSION_MT);

	if (*ssp)
		orig_apply(op, *ssp);
	lua_pushvalue(L, op->ud);
	mem_deref(op);
	return 1;
}

static int method_resume(lua_State *L, void *data)
{
	struct sop *op = data;
	struct lsession **ssp = luaL_checkudata(L, 1, SESSION_MT);

	if (*ssp)
		orig_apply(op, *ssp);
	lua_pushinteger(L, op->leg ? 0 : 1);   /* SWITCH_STATUS_SUCCESS / FALSE */
	mem_deref(op);
	return 1;
}

/* Start ringing `dial`; the leg (if any) comes to orig_done. */
static int start_originate(lua_State *L, struct sop *op, const char *dial,
			   struct lsession *aleg, unsigned timeout_s)
{
	struct originate_opts o = {.timeout_s = timeout_s};
	int err;

	if (aleg && aleg->ch) {
		o.aleg = aleg->ch;
		o.cid_name = channel_profile(aleg->ch)->caller_id_name;
		o.cid_num = channel_profile(aleg->ch)->caller_id_number;
	}
	err = originate_start(&op->orig, dial, &o, orig_done, op);
	if (err) {
		log_err("lua: %s: cannot originate '%s': %s\n", script_name(op->s), dial,
			strerror(err));
		op->done = true;
		op->cause = CAUSE_DESTINATION_OUT_OF_ORDER;
	}
	return err;
}

/* freeswitch.Session([uuid | dialstring [, a_leg]]) */
static int f_session(lua_State *L)
{
	const char *arg = script_optstring(L, 1, NULL);
	struct lsession *aleg = NULL, *ss;
	struct channel *ch;
	struct sop *op;

	if (!lua_isnoneornil(L, 2))
		aleg = lsess_check(L, 2);
	lua_settop(L, 2);
	ss = push_new(L);
	if (!arg || !*arg)
		return 1;
	if (!strchr(arg, '/') && (ch = channel_find(arg)) != NULL) {
		if (attach(ss, ch))
			log_err("lua: %s: cannot watch the channel\n", channel_name(ch));
		return 1;
	}
	if (!script_can_wait(L))
		return luaL_error(L, "freeswitch.Session: cannot originate here");
	op = sop_alloc(L, NULL, SOP_ORIGINATE);
	op->ud = lua_gettop(L);
	start_originate(L, op, arg, aleg, ORIGINATE_TIMEOUT);
	if (op->done)
		sop_wake(op);
	return script_wait(L, ctor_resume, sop_cancel, op);
}

/* session:originate(a_leg, dest [, timeout]): 0 on success, as mod_lua. */
static int s_originate(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);
	struct lsession *aleg = lua_isnoneornil(L, 2) ? NULL : lsess_check(L, 2);
	const char *dest = luaL_checkstring(L, 3);
	lua_Integer timeout = luaL_optinteger(L, 4, ORIGINATE_TIMEOUT);
	struct sop *op;

	(void)ss;
	if (!script_can_wait(L))
		return luaL_error(L, "session:originate: cannot wait here");
	op = sop_alloc(L, NULL, SOP_ORIGINATE);
	start_originate(L, op, dest, aleg, timeout > 0 ? (unsigned)timeout : 60);
	if (op->done)
		sop_wake(op);
	return script_wait(L, method_resume, sop_cancel, op);
}

static void answer_watch(struct channel *ch, enum channel_note note, const char *data,
			 void *arg)
{
	if (note == CHANNEL_NOTE_ANSWER || note == CHANNEL_NOTE_HANGUP)
		sop_wake(arg);
}

static int answer_resume(lua_State *L, void *data)
{
	struct sop *op = data;
	struct lsession **ssp = luaL_checkudata(L, 2, SESSION_MT);
	struct lsession *other = *ssp;

	if (other && lsess_up(other) && !channel_answered(other->ch) && !op->done)
		return script_wait(L, answer_resume, sop_cancel, op);
	mem_deref(op);
	return 0;
}

/* waitForAnswer(other): until the other leg answers or goes. */
static int s_wait_for_answer(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1), *other = lsess_check(L, 2);
	struct sop *op;

	lsess_run_hook(L, ss, 1);
	if (!lsess_up(other) || channel_answered(other->ch))
		return 0;
	op = sop_alloc(L, NULL, SOP_ANSWER);
	if (channel_watch(&op->other_watch, other->ch, answer_watch, op)) {
		mem_deref(op);
		return luaL_error(L, "session:waitForAnswer: cannot watch the channel");
	}
	return script_wait(L, answer_resume, sop_cancel, op);
}

static void bridge_end(struct channel *gone, struct channel *other,
		       enum hangup_cause cause, void *arg)
{
	struct sop *op = arg;

	op->done = true;
	sop_wake(op);
}

static int bridge_resume(lua_State *L, void *data)
{
	mem_deref(data);
	return 0;
}

/* freeswitch.bridge(a, b): returns when the bridge ends. */
static int f_bridge(lua_State *L)
{
	struct lsession *a = lsess_check(L, 1), *b = lsess_check(L, 2);
	struct sop *op;
	int err;

	if (!lsess_up(a) || !lsess_up(b)) {
		log_err("lua: %s: Channels not ready\n", script_name(script_of(L)));
		return 0;
	}
	if (!script_can_wait(L))
		return luaL_error(L, "freeswitch.bridge: cannot wait here");
	if (channel_dir(a->ch) == CHANNEL_INBOUND && !channel_answered(a->ch))
		(void)channel_pre_answer(a->ch);
	op = sop_alloc(L, NULL, SOP_BRIDGE);
	err = channel_bridge(&op->br, a->ch, b->ch, bridge_end, op);
	if (err) {
		log_err("lua: %s: cannot bridge %s and %s: %s\n", script_name(op->s),
			channel_name(a->ch), channel_name(b->ch), strerror(err));
		mem_deref(op);
		return 0;
	}
	return script_wait(L, bridge_resume, sop_cancel, op);
}

/* session.uuid, the SWIG member, next to the methods. */
static int session_index(lua_State *L)
{
	const char *key = luaL_checkstring(L, 2);

	if (!strcmp(key, "uuid")) {
		struct lsession **ssp = luaL_checkudata(L, 1, SESSION_MT);

		lua_pushstring(L, *ssp && (*ssp)->ch ? channel_uuid((*ssp)->ch)
						     : "uninitialized");
		return 1;
	}
	luaL_getmetatable(L, SESSION_MT);
	lua_getfield(L, -1, key);
	return 1;
}

/* ---- for the methods of bind_channel.c -------------------------------------- */

struct lsession *script_check_session(lua_State *L, int idx)
{
	return lsess_check(L, idx);
}

struct channel *script_session_channel(const struct lsession *ss)
{
	return ss->ch;
}

bool script_session_ready(lua_State *L, struct lsession *ss, int sidx)
{
	lsess_run_hook(L, ss, sidx);
	return lsess_up(ss);
}

int script_session_send_event(struct lsession *ss, struct event *ev)
{
	if (ss->nev >= EVENTS_MAX)
		return EOVERFLOW;
	ss->evq[ss->nev++] = event_ref(ev);
	if (ss->op)
		sop_wake(ss->op);
	return 0;
}

void script_bind_session(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"answer", s_answer},
		{"preAnswer", s_pre_answer},
		{"answered", s_answered},
		{"mediaReady", s_media_ready},
		{"bridged", s_bridged},
		{"ready", s_ready},
		{"hangup", s_hangup},
		{"hangupCause", s_hangup_cause},
		{"hangupState", s_hangup_state},
		{"getState", s_get_state},
		{"get_uuid", s_get_uuid},
		{"getVariable", s_get_variable},
		{"setVariable", s_set_variable},
		{"execute", s_execute},
		{"read", s_read},
		{"playAndGetDigits", s_play_and_get_digits},
		{"recordFile", s_record_file},
		{"transfer", s_transfer},
		{"setHangupHook", s_set_hangup_hook},
		{"setInputCallback", s_set_input_callback},
		{"unsetInputCallback", s_unset_input_callback},
		{"setAutoHangup", s_set_auto_hangup},
		{"consoleLog", s_console_log},
		{"destroy", s_destroy},
		{"originate", s_originate},
		{"waitForAnswer", s_wait_for_answer},
		{"__gc", session_gc},
		{NULL, NULL},
	};

	luaL_newmetatable(L, SESSION_MT);
	luaL_setfuncs(L, methods, 0);
	script_bind_session_play(L);
	script_bind_session_more(L);
	lua_pushcfunction(L, session_index);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	lua_pushcfunction(L, f_session);
	lua_setfield(L, -2, "Session");
	lua_pushcfunction(L, f_bridge);
	lua_setfield(L, -2, "bridge");
}
