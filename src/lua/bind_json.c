/*
 * bind_json.c - freeswitch.JSON (spec/lua.md 9): decode, encode, the JSON API
 * (execute, execute2) and the two output switches, as mod_lua's JSON class.
 *
 * Parsing is jansson's. Output is printed here in cJSON's two layouts, which
 * FreeSWITCH's scripts see: formatted (tabs, "key":<tab>value, arrays on one
 * line as [1, 2]) or unformatted ({"key":value}).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
/* Not <re.h>: libre's JSON names clash with jansson's. */
#include <re_types.h>
#include <re_fmt.h>
#include <re_mbuf.h>
#include <re_mem.h>
#include "lua/lua_int.h"

#define JSON_MT "confab.JSON"

enum {
	JSON_DEPTH = 256,            /* nesting deeper than this is refused */
	FL_STRING  = 1,              /* execute2: the reply as text */
	FL_COMPACT = 2,              /* return_unformatted_json */
};

/* The texts of FreeSWITCH's JSON API (switch_loadable_module.c, mod_commands.c). */
#define TXT_INVALID_CALL "INVALID CALL"

struct ljson {
	bool empty_as_object;        /* encode {} (default) or [] for an empty table */
	bool compact;
};

static struct ljson *check_json(lua_State *L)
{
	return luaL_checkudata(L, 1, JSON_MT);
}

/* ---- printing, as cJSON_Print / cJSON_PrintUnformatted -------------------------- */

static int print_string(struct mbuf *mb, const char *s, size_t len)
{
	int err = mbuf_write_u8(mb, '"');
	size_t i;

	for (i = 0; i < len && !err; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"':  err = mbuf_write_str(mb, "\\\""); break;
		case '\\': err = mbuf_write_str(mb, "\\\\"); break;
		case '\b': err = mbuf_write_str(mb, "\\b"); break;
		case '\f': err = mbuf_write_str(mb, "\\f"); break;
		case '\n': err = mbuf_write_str(mb, "\\n"); break;
		case '\r': err = mbuf_write_str(mb, "\\r"); break;
		case '\t': err = mbuf_write_str(mb, "\\t"); break;
		default:
			err = c < 0x20 ? mbuf_printf(mb, "\\u%04x", c) : mbuf_write_u8(mb, c);
			break;
		}
	}
	return err ? err : mbuf_write_u8(mb, '"');
}

/* Shortest of %.15g and %.17g that reads back the same. */
static int print_real(struct mbuf *mb, double d)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%1.15g", d);
	if (strtod(buf, NULL) != d)
		snprintf(buf, sizeof(buf), "%1.17g", d);
	return mbuf_write_str(mb, buf);
}

static int indent(struct mbuf *mb, unsigned depth)
{
	int err = 0;

	while (depth-- && !err)
		err = mbuf_write_u8(mb, '\t');
	return err;
}

static int print_value(struct mbuf *mb, const json_t *j, unsigned depth, bool fmt)
{
	const char *key;
	json_t *v;
	size_t i, n;
	int err = 0;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		n = json_object_size(j);
		err = mbuf_write_str(mb, fmt ? "{\n" : "{");
		i = 0;
		json_object_foreach((json_t *)j, key, v) {
			if (fmt)
				err |= indent(mb, depth + 1);
			err |= print_string(mb, key, strlen(key));
			err |= mbuf_write_str(mb, fmt ? ":\t" : ":");
			err |= print_value(mb, v, depth + 1, fmt);
			if (++i < n)
				err |= mbuf_write_u8(mb, ',');
			if (fmt)
				err |= mbuf_write_u8(mb, '\n');
		}
		if (fmt)
			err |= indent(mb, depth);
		return err | mbuf_write_u8(mb, '}');
	case JSON_ARRAY:
		err = mbuf_write_u8(mb, '[');
		json_array_foreach(j, i, v) {
			if (i)
				err |= mbuf_write_str(mb, fmt ? ", " : ",");
			err |= print_value(mb, v, depth, fmt);
		}
		return err | mbuf_write_u8(mb, ']');
	case JSON_STRING:
		return print_string(mb, json_string_value(j), json_string_length(j));
	case JSON_INTEGER:
		return mbuf_printf(mb, "%lld", (long long)json_integer_value(j));
	case JSON_REAL:
		return print_real(mb, json_real_value(j));
	case JSON_TRUE:
		return mbuf_write_str(mb, "true");
	case JSON_FALSE:
		return mbuf_write_str(mb, "false");
	default:
		return mbuf_write_str(mb, "null");
	}
}

static void push_printed(lua_State *L, const json_t *j, bool compact)
{
	struct mbuf *mb = mbuf_alloc(256);
	int err = mb ? print_value(mb, j, 0, !compact) : ENOMEM;

	if (!err)
		lua_pushlstring(L, (const char *)mb->buf, mb->end);
	mem_deref(mb);
	if (err)
		luaL_error(L, "JSON: out of memory");
}

/* ---- Lua -> JSON ---------------------------------------------------------------- */

/* A table is an array when its keys are exactly 1..n. */
static bool is_array(lua_State *L, int idx, size_t *np)
{
	size_t n = lua_rawlen(L, idx), count = 0;

	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		count++;
		if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 ||
		    (size_t)lua_tointeger(L, -1) > n) {
			lua_pop(L, 1);
			return false;
		}
	}
	*np = n;
	return count == n;
}

/* Encoding: the options, the table of tables on the way down (cycles), the error. */
struct enc {
	const struct ljson *o;
	int seen;
	const char *err;
};

static json_t *from_lua(lua_State *L, int idx, struct enc *en, unsigned depth);

static json_t *from_array(lua_State *L, int idx, struct enc *en, unsigned depth,
			  size_t n)
{
	json_t *j = json_array(), *v;
	size_t i;

	for (i = 1; j && i <= n; i++) {
		lua_rawgeti(L, idx, (lua_Integer)i);
		v = from_lua(L, lua_gettop(L), en, depth + 1);
		lua_pop(L, 1);
		if (en->err) {
			json_decref(j);
			return NULL;
		}
		if (v)
			json_array_append_new(j, v);
	}
	return j;
}

static json_t *from_object(lua_State *L, int idx, struct enc *en, unsigned depth)
{
	json_t *j = json_object(), *v;

	lua_pushnil(L);
	while (j && lua_next(L, idx)) {
		int kt = lua_type(L, -2);

		if (kt == LUA_TSTRING || kt == LUA_TNUMBER) {
			/* tostring on a copy: lua_next needs the key as it is. */
			lua_pushvalue(L, -2);
			v = from_lua(L, lua_gettop(L) - 1, en, depth + 1);
			if (en->err) {
				lua_pop(L, 3);
				json_decref(j);
				return NULL;
			}
			if (v)
				json_object_set_new_nocheck(j, lua_tostring(L, -1), v);
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
	}
	return j;
}

static json_t *from_table(lua_State *L, int idx, struct enc *en, unsigned depth)
{
	json_t *j;
	size_t n;
	bool empty;

	if (depth > JSON_DEPTH) {
		en->err = "the tables nest too deep";
		return NULL;
	}
	luaL_checkstack(L, 8, "JSON");
	lua_pushvalue(L, idx);
	if (lua_rawget(L, en->seen) != LUA_TNIL) {
		lua_pop(L, 1);
		en->err = "a table contains itself";
		return NULL;
	}
	lua_pop(L, 1);
	lua_pushvalue(L, idx);
	lua_pushboolean(L, 1);
	lua_rawset(L, en->seen);

	lua_pushnil(L);
	empty = !lua_next(L, idx);
	if (!empty)
		lua_pop(L, 2);
	if (empty)
		j = en->o->empty_as_object ? json_object() : json_array();
	else if (is_array(L, idx, &n))
		j = from_array(L, idx, en, depth, n);
	else
		j = from_object(L, idx, en, depth);

	lua_pushvalue(L, idx);
	lua_pushnil(L);
	lua_rawset(L, en->seen);
	if (!j && !en->err)
		en->err = "out of memory";
	return j;
}

/* Functions, userdata and threads have no JSON form: NULL, no error, skipped. */
static json_t *from_lua(lua_State *L, int idx, struct enc *en, unsigned depth)
{
	size_t len;
	const char *s;

	switch (lua_type(L, idx)) {
	case LUA_TTABLE:
		return from_table(L, idx, en, depth);
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx))
			return json_integer((json_int_t)lua_tointeger(L, idx));
		/* jansson holds finite reals only; cJSON prints the others as null. */
		if (!isfinite(lua_tonumber(L, idx)))
			return json_null();
		return json_real(lua_tonumber(L, idx));
	case LUA_TSTRING:
		s = lua_tolstring(L, idx, &len);
		return json_stringn_nocheck(s, len);
	case LUA_TBOOLEAN:
		return json_boolean(lua_toboolean(L, idx));
	case LUA_TNIL:
		return json_null();
	default:
		return NULL;
	}
}

/* The table at idx as JSON; a Lua error if it cannot be (a cycle ...). */
static json_t *check_table(lua_State *L, int idx, const struct ljson *o)
{
	struct enc en = {.o = o};
	json_t *j;

	luaL_checktype(L, idx, LUA_TTABLE);
	lua_newtable(L);
	en.seen = lua_gettop(L);
	j = from_table(L, idx, &en, 0);
	lua_pop(L, 1);
	if (!j)
		luaL_error(L, "JSON: cannot encode: %s", en.err);
	return j;
}

/* ---- JSON -> Lua ---------------------------------------------------------------- */

/*
 * As mod_lua: objects and arrays become tables, null is left out (an array
 * closes up over it). Integers stay integers. Other roots give an empty table.
 */
static void to_lua(lua_State *L, const json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;
	lua_Integer n = 1;

	luaL_checkstack(L, 4, "JSON");
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		lua_createtable(L, 0, (int)json_object_size(j));
		json_object_foreach((json_t *)j, key, v) {
			if (json_is_null(v))
				continue;
			to_lua(L, v);
			lua_setfield(L, -2, key);
		}
		return;
	case JSON_ARRAY:
		lua_createtable(L, (int)json_array_size(j), 0);
		json_array_foreach(j, i, v) {
			if (json_is_null(v))
				continue;
			to_lua(L, v);
			lua_rawseti(L, -2, n++);
		}
		return;
	case JSON_STRING:
		lua_pushlstring(L, json_string_value(j), json_string_length(j));
		return;
	case JSON_INTEGER:
		lua_pushinteger(L, (lua_Integer)json_integer_value(j));
		return;
	case JSON_REAL:
		lua_pushnumber(L, json_real_value(j));
		return;
	case JSON_TRUE:
	case JSON_FALSE:
		lua_pushboolean(L, json_is_true(j));
		return;
	default:
		lua_pushnil(L);
		return;
	}
}

static json_t *parse(const char *s, size_t len, json_error_t *e)
{
	return json_loadb(s, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, e);
}

/* decode(text): the table, or nil and why. */
static int j_decode(lua_State *L)
{
	size_t len;
	const char *s;
	json_error_t e;
	json_t *j;

	check_json(L);
	s = luaL_checklstring(L, 2, &len);
	j = parse(s, len, &e);
	if (!j) {
		lua_pushnil(L);
		lua_pushfstring(L, "line %d column %d: %s", e.line, e.column, e.text);
		return 2;
	}
	if (json_is_object(j) || json_is_array(j))
		to_lua(L, j);
	else
		lua_newtable(L);
	json_decref(j);
	return 1;
}

static int j_encode(lua_State *L)
{
	struct ljson *o = check_json(L);
	json_t *j = check_table(L, 2, o);

	push_printed(L, j, o->compact);
	json_decref(j);
	return 1;
}

static int j_set_empty_as_object(lua_State *L)
{
	struct ljson *o = check_json(L);

	o->empty_as_object = lua_toboolean(L, 2);
	return 0;
}

static int j_set_unformatted(lua_State *L)
{
	struct ljson *o = check_json(L);

	o->compact = lua_toboolean(L, 2);
	return 0;
}

/* ---- the JSON API --------------------------------------------------------------- */

/* fsapi's reply, as mod_commands builds it: {"message": output or "INVALID CALL"}. */
static int fsapi_done(lua_State *L, int err, const char *out, size_t len, int flags)
{
	json_t *reply = json_object();
	json_t *msg = err ? json_string(TXT_INVALID_CALL) : json_stringn_nocheck(out, len);

	if (!reply || !msg || json_object_set_new(reply, "message", msg)) {
		json_decref(reply);
		return luaL_error(L, "JSON: out of memory");
	}
	if (flags & FL_STRING)
		push_printed(L, reply, flags & FL_COMPACT);
	else
		to_lua(L, reply);
	json_decref(reply);
	return 1;
}

/*
 * execute(request) / execute2(request): request is JSON text or a table,
 * {"command": <JSON API>, "data": ...}. The one JSON API is "fsapi", whose
 * data is {"cmd": <API command>, "arg": <its arguments>}. Anything else is
 * refused as FreeSWITCH refuses it, and the reply is nil.
 */
static int run_request(lua_State *L, int flags)
{
	struct ljson *o = check_json(L);
	json_t *req, *cmd, *arg, *data;
	json_error_t e;
	char *c = NULL, *a = NULL;
	int n;

	if (o->compact)
		flags |= FL_COMPACT;
	if (lua_type(L, 2) == LUA_TTABLE) {
		req = check_table(L, 2, o);
	} else {
		size_t len;
		const char *s = luaL_checklstring(L, 2, &len);

		req = parse(s, len, &e);
		if (!req)
			return 0;
	}
	data = json_object_get(req, "data");
	if (!json_is_string(json_object_get(req, "command")) || !data ||
	    strcmp(json_string_value(json_object_get(req, "command")), "fsapi")) {
		json_decref(req);
		lua_pushnil(L);
		return 1;
	}
	cmd = json_object_get(data, "cmd");
	arg = json_object_get(data, "arg");
	if (json_is_string(cmd) && str_dup(&c, json_string_value(cmd)))
		c = NULL;
	if (json_is_string(arg) && str_dup(&a, json_string_value(arg)))
		a = NULL;
	json_decref(req);
	/* The strings go to Lua before anything can wait or raise. */
	lua_pushstring(L, c ? c : "");
	lua_pushstring(L, a ? a : "");
	mem_deref(c);
	mem_deref(a);
	if (!*lua_tostring(L, -2))
		return fsapi_done(L, EINVAL, "", 0, flags);
	n = script_api_run(L, lua_tostring(L, -2), lua_tostring(L, -1), fsapi_done, flags);
	return n;
}

static int j_execute(lua_State *L)
{
	return run_request(L, 0);
}

static int j_execute2(lua_State *L)
{
	return run_request(L, FL_STRING);
}

/* freeswitch.JSON() */
static int f_json(lua_State *L)
{
	struct ljson *o = lua_newuserdatauv(L, sizeof(*o), 0);

	o->empty_as_object = true;
	o->compact = false;
	luaL_setmetatable(L, JSON_MT);
	return 1;
}

void script_bind_json(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"decode", j_decode},
		{"encode", j_encode},
		{"execute", j_execute},
		{"execute2", j_execute2},
		{"encode_empty_table_as_object", j_set_empty_as_object},
		{"return_unformatted_json", j_set_unformatted},
		{NULL, NULL},
	};

	luaL_newmetatable(L, JSON_MT);
	lua_pushvalue(L, -1);
	lua_setfield(L, -2, "__index");
	luaL_setfuncs(L, methods, 0);
	lua_pop(L, 1);
	lua_pushcfunction(L, f_json);
	lua_setfield(L, -2, "JSON");
}
