/*
 * bind_ivr.c - freeswitch.IVRMenu (mod_lua's IVRMenu): menus built in the
 * script, bound to actions, and run on a session by the dialplan's IVR engine.
 */
#include <errno.h>
#include <string.h>
#include <re.h>
#include "channel/channel.h"
#include "core/log.h"
#include "dialplan/ivr.h"
#include "lua/lua_int.h"

#define IVRMENU_MT "confab.IVRMenu"

/* A menu of the script: its set (shared with the menus built on it) and itself. */
struct lmenu {
	struct ivr_menus *ms;        /* a reference */
	struct ivr_menu *m;          /* NULL: could not be built (logged) */
};

/* execute() waiting for the menus to end. */
struct iop {
	struct script *s;
	bool done;
	bool cancelled;              /* the run went away: do not wake it */
};

static struct lmenu *check_menu(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, IVRMENU_MT);
}

static int m_gc(lua_State *L)
{
	struct lmenu *lm = check_menu(L, 1);

	lm->ms = mem_deref(lm->ms);
	lm->m = NULL;
	return 0;
}

/* Integer argument, 0 when absent or nil. */
static int opt_int(lua_State *L, int idx)
{
	return (int)luaL_optinteger(L, idx, 0);
}

/*
 * IVRMenu(main, name, greeting_sound, short_greeting_sound, invalid_sound,
 * exit_sound, transfer_sound, confirm_macro, confirm_key, tts_engine,
 * tts_voice, confirm_attempts, inter_timeout, digit_len, timeout,
 * max_failures, max_timeouts): with main, the menu joins main's set.
 */
static int f_ivrmenu(lua_State *L)
{
	struct lmenu *main_m = lua_isnoneornil(L, 1) ? NULL : check_menu(L, 1);
	struct ivr_menu_opts o = {
		.name = script_optstring(L, 2, NULL),
		.greet_long = script_optstring(L, 3, NULL),
		.greet_short = script_optstring(L, 4, NULL),
		.invalid_sound = script_optstring(L, 5, NULL),
		.exit_sound = script_optstring(L, 6, NULL),
		.transfer_sound = script_optstring(L, 7, NULL),
		.confirm_macro = script_optstring(L, 8, NULL),
		.confirm_key = script_optstring(L, 9, NULL),
		.tts_engine = script_optstring(L, 10, NULL),
		.tts_voice = script_optstring(L, 11, NULL),
		.confirm_attempts = opt_int(L, 12),
		.inter_timeout = opt_int(L, 13),
		.digit_len = opt_int(L, 14),
		.timeout = opt_int(L, 15),
		.max_failures = opt_int(L, 16),
		.max_timeouts = opt_int(L, 17),
	};
	struct lmenu *lm = lua_newuserdatauv(L, sizeof(*lm), 0);
	int err = 0;

	lm->ms = NULL;
	lm->m = NULL;
	luaL_setmetatable(L, IVRMENU_MT);
	if (!o.name || !*o.name)
		o.name = "no name";   /* mod_lua's IVRMenu constructor */
	if (main_m && main_m->ms)
		lm->ms = mem_ref(main_m->ms);
	else
		err = ivr_menus_alloc(&lm->ms);
	if (!err)
		err = ivr_menu_add(&lm->m, lm->ms, &o);
	if (err == EEXIST)
		log_err("lua: %s: IVRMenu: a menu named %s is already there\n",
			script_name(script_of(L)), o.name);
	else if (err)
		return luaL_error(L, "IVRMenu: %s", strerror(err));
	return 1;
}

/* bindAction(action, arg, digits) */
static int m_bind_action(lua_State *L)
{
	struct lmenu *lm = check_menu(L, 1);
	const char *action = luaL_checkstring(L, 2);
	const char *arg = script_optstring(L, 3, "");
	const char *bind = script_optstring(L, 4, "");
	enum ivr_action a;
	char err[200] = "";

	if (!lm->m)
		return 0;
	if (ivr_action_parse(&a, action)) {
		log_err("lua: %s: invalid action %s\n", script_name(script_of(L)), action);
		return 0;
	}
	if (ivr_menu_bind(lm->m, a, arg, bind, err, sizeof(err)))
		log_err("lua: %s: IVRMenu %s: cannot bind \"%s\": %s\n",
			script_name(script_of(L)), ivr_menu_name(lm->m), bind,
			err[0] ? err : "no digits");
	else
		log_debug("lua: bind %s to %s(%s)\n", bind, action, arg);
	return 0;
}

static void iop_done(struct channel *ch, int err, void *arg)
{
	struct iop *op = arg;

	(void)ch;
	(void)err;
	op->done = true;
	if (!op->cancelled)
		script_wake(op->s);
	mem_deref(op);               /* the execution's reference */
}

static void iop_cancel(void *data)
{
	struct iop *op = data;

	op->cancelled = true;
	mem_deref(op);               /* the wait's reference */
}

static int iop_resume(lua_State *L, void *data)
{
	struct iop *op = data;

	if (!op->done)
		return script_wait(L, iop_resume, iop_cancel, op);
	mem_deref(op);
	return 0;
}

/* execute(session, name): runs until the menus end (or the call moves on). */
static int m_execute(lua_State *L)
{
	struct lmenu *lm = check_menu(L, 1);
	struct lsession *ss = script_check_session(L, 2);
	const char *name = luaL_checkstring(L, 3);
	struct channel *ch = script_session_channel(ss);
	struct iop *op;
	int err;

	if (!lm->ms || !ch || !script_session_ready(L, ss, 2))
		return 0;
	if (!script_can_wait(L))
		return luaL_error(L, "IVRMenu:execute: cannot wait here");
	op = mem_zalloc(sizeof(*op), NULL);
	if (!op)
		return luaL_error(L, "IVRMenu: out of memory");
	op->s = script_of(L);
	mem_ref(op);                 /* held by the execution until it completes */
	err = ivr_menu_execute(ch, lm->ms, name, iop_done, op);
	if (err && err != EINPROGRESS && !op->done) {
		/* Refused before it ran: iop_done will not be called. */
		op->done = true;
		mem_deref(op);
	}
	return script_wait(L, iop_resume, iop_cancel, op);
}

void script_bind_ivr(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"bindAction", m_bind_action},
		{"execute", m_execute},
		{NULL, NULL},
	};

	luaL_newmetatable(L, IVRMENU_MT);
	lua_pushvalue(L, -1);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, m_gc);
	lua_setfield(L, -2, "__gc");
	luaL_setfuncs(L, methods, 0);
	lua_pop(L, 1);
	lua_pushcfunction(L, f_ivrmenu);
	lua_setfield(L, -2, "IVRMenu");
}
