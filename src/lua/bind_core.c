/*
 * bind_core.c - the `freeswitch` module's functions and the API and stream
 * objects: consoleLog and friends, global variables, msleep, running, email,
 * freeswitch.API (spec/lua.md 3-4, 9).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <re.h>
#include "core/api.h"
#include "core/log.h"
#include "core/vars.h"
#include "lua/lua_int.h"

#define API_MT    "confab.API"
#define STREAM_MT "confab.Stream"

const char *script_optstring(lua_State *L, int idx, const char *def)
{
	if (lua_isnoneornil(L, idx))
		return def;
	return luaL_checkstring(L, idx);
}

/* mod_lua logs an unknown level name at debug. */
static enum log_level level_arg(lua_State *L, int idx)
{
	enum log_level level;

	if (log_level_parse(luaL_optstring(L, idx, "debug"), &level))
		level = LOGL_DEBUG;
	return level;
}

/* Log lines from a script carry the script's file and line. */
static void log_from(lua_State *L, enum log_level level, const char *msg)
{
	lua_Debug ar;
	const char *file = script_name(script_of(L));
	unsigned line = 0;

	if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar)) {
		file = ar.short_src;
		line = ar.currentline > 0 ? (unsigned)ar.currentline : 0;
	}
	log_write(level, file, "lua", line, "%s", msg);
}

static int f_console_log(lua_State *L)
{
	enum log_level level = level_arg(L, 1);

	log_from(L, level, luaL_checkstring(L, 2));
	return 0;
}

static int f_console_log2(lua_State *L)
{
	enum log_level level = level_arg(L, 1);
	const char *file = luaL_checkstring(L, 2);
	const char *func = luaL_checkstring(L, 3);
	lua_Integer line = luaL_checkinteger(L, 4);
	const char *msg = luaL_checkstring(L, 5);

	log_write(level, file, func, line > 0 ? (unsigned)line : 0, "%s", msg);
	return 0;
}

static int f_console_clean_log(lua_State *L)
{
	log_from(L, LOGL_CONSOLE, luaL_checkstring(L, 1));
	return 0;
}

static int f_get_global(lua_State *L)
{
	char *v = vars_global_dup(luaL_checkstring(L, 1));

	if (v)
		lua_pushstring(L, v);
	else
		lua_pushnil(L);
	mem_deref(v);
	return 1;
}

static int f_set_global(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	const char *value = script_optstring(L, 2, NULL);

	lua_pushboolean(L, vars_global_set(name, value) == 0);
	return 1;
}

static int f_running(lua_State *L)
{
	lua_pushboolean(L, 1);
	return 1;
}

/* msleep: the run waits on a timer; the thread goes on. */
struct sleeper {
	struct script *s;
	struct tmr tmr;
};

static void sleeper_destructor(void *data)
{
	tmr_cancel(&((struct sleeper *)data)->tmr);
}

static void sleeper_fire(void *arg)
{
	script_wake(((struct sleeper *)arg)->s);
}

static int sleeper_resume(lua_State *L, void *data)
{
	mem_deref(data);
	return 0;
}

static void sleeper_cancel(void *data)
{
	mem_deref(data);
}

static int f_msleep(lua_State *L)
{
	lua_Integer ms = luaL_checkinteger(L, 1);
	struct sleeper *sl;

	if (ms <= 0)
		return 0;
	if (!script_can_wait(L))
		return luaL_error(L, "msleep: cannot wait here");
	sl = mem_zalloc(sizeof(*sl), sleeper_destructor);
	if (!sl)
		return luaL_error(L, "msleep: out of memory");
	sl->s = script_of(L);
	tmr_init(&sl->tmr);
	tmr_start(&sl->tmr, (uint64_t)ms, sleeper_fire, sl);
	return script_wait(L, sleeper_resume, sleeper_cancel, sl);
}

/*
 * freeswitch.email(to, from, headers, body, file, convert_cmd, convert_ext):
 * through the local sendmail. The attachment and conversion arguments are
 * accepted; only an attachment-free message is sent.
 */
static int f_email(lua_State *L)
{
	static const char *const sendmail[] = {"/usr/sbin/sendmail", "/usr/lib/sendmail"};
	const char *to = luaL_checkstring(L, 1), *from = luaL_checkstring(L, 2);
	const char *headers = luaL_optstring(L, 3, ""), *body = luaL_optstring(L, 4, "");
	const char *prog = NULL;
	char cmd[256];
	FILE *p;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(sendmail) / sizeof(sendmail[0]); i++) {
		if (access(sendmail[i], X_OK) == 0) {
			prog = sendmail[i];
			break;
		}
	}
	if (!prog) {
		log_err("lua: email to %s: no sendmail on this machine\n", to);
		lua_pushboolean(L, 0);
		return 1;
	}
	if (!lua_isnoneornil(L, 5))
		log_warn("lua: email to %s: attachments are not supported; sent without\n", to);
	snprintf(cmd, sizeof(cmd), "%s -t -i", prog);
	p = popen(cmd, "w");
	if (!p) {
		log_err("lua: email to %s: cannot run %s: %s\n", to, prog, strerror(errno));
		lua_pushboolean(L, 0);
		return 1;
	}
	fprintf(p, "To: %s\nFrom: %s\n%s%s\n%s\n", to, from, headers,
		*headers && headers[strlen(headers) - 1] != '\n' ? "\n" : "", body);
	rc = pclose(p);
	if (rc != 0)
		log_err("lua: email to %s: sendmail exited with %d\n", to, rc);
	lua_pushboolean(L, rc == 0);
	return 1;
}

/* freeswitch.API([session]) */
static int f_api(lua_State *L)
{
	lua_newuserdatauv(L, 0, 0);
	luaL_setmetatable(L, API_MT);
	return 1;
}

/* freeswitch.Stream(): a stream of the script's own, as the `stream` of API scripts. */
static int f_stream(lua_State *L)
{
	struct mbuf *mb = mbuf_alloc(256);

	if (!mb)
		return luaL_error(L, "freeswitch.Stream: out of memory");
	script_push_stream(L, mb);
	mem_deref(mb);
	return 1;
}

/*
 * freeswitch.DTMF(digit [, duration]): the table input callbacks get for a
 * digit. The duration is in samples; FreeSWITCH's default is 2000.
 */
static int f_dtmf(lua_State *L)
{
	size_t len;
	const char *digit = luaL_checklstring(L, 1, &len);
	lua_Integer duration = luaL_optinteger(L, 2, 2000);

	luaL_argcheck(L, len > 0, 1, "a digit");
	luaL_argcheck(L, duration > 0, 2, "a positive duration");
	lua_createtable(L, 0, 2);
	lua_pushlstring(L, digit, 1);
	lua_setfield(L, -2, "digit");
	lua_pushinteger(L, duration);
	lua_setfield(L, -2, "duration");
	return 1;
}

/* An API command in progress; the run waits for it when it does not finish at once. */
struct api_wait {
	struct script *s;
	struct api_call *call;
	struct mbuf *out;
	int err;
	bool done;
	script_api_h *h;             /* NULL: API:execute's text; else the caller pushes */
	int flags;
};

static void api_wait_destructor(void *data)
{
	mem_deref(((struct api_wait *)data)->out);
}

static void api_wait_done(int err, const char *out, size_t len, void *arg)
{
	struct api_wait *w = arg;

	w->err = err;
	w->done = true;
	w->call = NULL;
	mbuf_write_mem(w->out, (const uint8_t *)out, len);
	script_wake(w->s);
}

/* What mod_lua's API:execute returns, never nil (spec/lua.md 4). */
static int api_wait_push(lua_State *L, void *data)
{
	struct api_wait *w = data;
	int n;

	if (w->h) {
		n = w->h(L, w->err, (const char *)w->out->buf, w->out->end, w->flags);
		mem_deref(w);
		return n;
	}
	if (w->err == ENOENT) {
		lua_pushstring(L, "INVALID COMMAND!\n");
	} else {
		luaL_Buffer b;

		luaL_buffinit(L, &b);
		luaL_addlstring(&b, (const char *)w->out->buf, w->out->end);
		if (w->err)
			luaL_addstring(&b, "COMMAND RETURNED ERROR!\n");
		luaL_pushresult(&b);
	}
	mem_deref(w);
	return 1;
}

static void api_wait_cancel(void *data)
{
	struct api_wait *w = data;

	api_call_abandon(w->call);
	mem_deref(w);
}

static int api_start(lua_State *L, const char *cmd, const char *args, script_api_h *h,
		     int flags)
{
	struct api_wait *w;
	struct api_call *call = NULL;
	int rc;

	w = mem_zalloc(sizeof(*w), api_wait_destructor);
	if (w)
		w->out = mbuf_alloc(256);
	if (!w || !w->out) {
		mem_deref(w);
		return luaL_error(L, "API: out of memory");
	}
	w->s = script_of(L);
	w->h = h;
	w->flags = flags;
	rc = api_exec(&call, cmd, args, api_wait_done, w);
	if (!w->done && rc != EINPROGRESS) {
		w->err = rc;          /* failed before it ran (out of memory) */
		w->done = true;
	}
	if (w->done)
		return api_wait_push(L, w);
	w->call = call;
	if (!script_can_wait(L)) {
		/* A hook or metamethod cannot wait: the command goes on unheard. */
		api_wait_cancel(w);
		if (h)
			return h(L, EWOULDBLOCK, "", 0, flags);
		lua_pushstring(L, "-ERR command did not finish at once\n");
		return 1;
	}
	return script_wait(L, api_wait_push, api_wait_cancel, w);
}

static int api_run(lua_State *L, const char *cmd, const char *args)
{
	if (!*cmd) {
		lua_pushstring(L, "-ERR No application specified");
		return 1;
	}
	return api_start(L, cmd, args, NULL, 0);
}

int script_api_run(lua_State *L, const char *cmd, const char *args, script_api_h *h,
		   int flags)
{
	return api_start(L, cmd, args, h, flags);
}

static int api_execute(lua_State *L)
{
	luaL_checkudata(L, 1, API_MT);
	return api_run(L, luaL_checkstring(L, 2), script_optstring(L, 3, ""));
}

static int api_execute_string(lua_State *L)
{
	const char *line = luaL_checkstring(L, 2);
	const char *sp;
	int n;

	luaL_checkudata(L, 1, API_MT);
	while (*line == ' ')
		line++;
	sp = strchr(line, ' ');
	if (!sp)
		return api_run(L, line, "");
	lua_pushlstring(L, line, (size_t)(sp - line));
	n = api_run(L, lua_tostring(L, -1), sp + 1);
	return n;
}

static int api_get_time(lua_State *L)
{
	struct timeval tv;

	luaL_checkudata(L, 1, API_MT);
	gettimeofday(&tv, NULL);
	lua_pushfstring(L, "%I", (lua_Integer)tv.tv_sec * 1000 + tv.tv_usec / 1000);
	return 1;
}

/* stream: what a `lua` API script writes becomes the command's output. */
static int stream_write(lua_State *L)
{
	struct mbuf **mbp = luaL_checkudata(L, 1, STREAM_MT);
	size_t len;
	const char *s = luaL_checklstring(L, 2, &len);

	if (mbuf_write_mem(*mbp, (const uint8_t *)s, len))
		return luaL_error(L, "stream:write: out of memory");
	return 0;
}

static int stream_get_data(lua_State *L)
{
	struct mbuf **mbp = luaL_checkudata(L, 1, STREAM_MT);

	lua_pushlstring(L, (const char *)(*mbp)->buf, (*mbp)->end);
	return 1;
}

static int stream_gc(lua_State *L)
{
	struct mbuf **mbp = luaL_checkudata(L, 1, STREAM_MT);

	*mbp = mem_deref(*mbp);
	return 0;
}

void script_push_stream(lua_State *L, struct mbuf *mb)
{
	struct mbuf **mbp = lua_newuserdatauv(L, sizeof(*mbp), 0);

	/* Its own reference: a script's finaliser may still write at close. */
	*mbp = mem_ref(mb);
	luaL_setmetatable(L, STREAM_MT);
}

static void new_class(lua_State *L, const char *name, const luaL_Reg *methods)
{
	luaL_newmetatable(L, name);
	lua_pushvalue(L, -1);
	lua_setfield(L, -2, "__index");
	luaL_setfuncs(L, methods, 0);
	lua_pop(L, 1);
}

void script_bind_core(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"consoleLog", f_console_log},
		{"console_log", f_console_log},
		{"consoleLog2", f_console_log2},
		{"console_log2", f_console_log2},
		{"consoleCleanLog", f_console_clean_log},
		{"console_clean_log", f_console_clean_log},
		{"getGlobalVariable", f_get_global},
		{"setGlobalVariable", f_set_global},
		{"msleep", f_msleep},
		{"running", f_running},
		{"email", f_email},
		{"API", f_api},
		{"Stream", f_stream},
		{"DTMF", f_dtmf},
		{NULL, NULL},
	};
	static const luaL_Reg api_methods[] = {
		{"execute", api_execute},
		{"executeString", api_execute_string},
		{"getTime", api_get_time},
		{NULL, NULL},
	};
	static const luaL_Reg stream_methods[] = {
		{"write", stream_write},
		{"get_data", stream_get_data},
		{"__gc", stream_gc},
		{NULL, NULL},
	};

	luaL_setfuncs(L, funcs, 0);
	lua_pushinteger(L, 1);
	lua_setfield(L, -2, "S_HUP");
	lua_pushinteger(L, 2);
	lua_setfield(L, -2, "S_FREE");
	lua_pushinteger(L, 4);
	lua_setfield(L, -2, "S_RDLOCK");
	new_class(L, API_MT, api_methods);
	new_class(L, STREAM_MT, stream_methods);
}
