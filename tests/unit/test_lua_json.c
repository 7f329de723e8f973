/*
 * test_lua_json.c - freeswitch.JSON driven from Lua chunks (spec/lua.md 9):
 * decode and encode of arrays, objects, nesting, numbers, booleans and null,
 * cJSON's two layouts, the empty-table switch, bad JSON, cycles, and the
 * JSON API (fsapi) through the real API registry.
 */
#include <string.h>
#include <re.h>
#include <lualib.h>
#include "check.h"
#include "lua_check.h"
#include "core/api.h"
#include "core/log.h"
#include "lua/lua_int.h"

static lua_State *new_state(void)
{
	static lua_check_bind *const binds[] = {script_bind_core, script_bind_json, NULL};

	return lua_check_state(binds);
}

static void test_decode(lua_State *L)
{
	static const char decode_lua[] =
		"local j = freeswitch.JSON()\n"
		"local t = j:decode('{\"a\":1,\"b\":\"x\",\"c\":[1,2.5,\"z\",true,false],"
		"\"d\":{\"e\":{\"f\":[[1,2],[3]]}},\"n\":null,\"t\":true}')\n"
		"assert(t.a == 1 and math.type(t.a) == 'integer')\n"
		"assert(t.b == 'x')\n"
		"assert(#t.c == 5 and t.c[2] == 2.5 and t.c[3] == 'z')\n"
		"assert(t.c[4] == true and t.c[5] == false)\n"
		"assert(t.d.e.f[1][2] == 2 and t.d.e.f[2][1] == 3)\n"
		"assert(t.n == nil and t.t == true)\n"
		/* null in an array is left out, as mod_lua does */
		"local a = j:decode('[1,null,3]')\n"
		"assert(#a == 2 and a[2] == 3)\n"
		"assert(next(j:decode('{}')) == nil)\n"
		/* a root that is no container: an empty table */
		"assert(type(j:decode('\"s\"')) == 'table')\n"
		"local bad, err = j:decode('{\"a\":')\n"
		"assert(bad == nil and type(err) == 'string' and err:find('line 1'))\n"
		"assert(j:decode('') == nil)\n"
		"assert(select('#', j:decode('nope')) == 2)\n"
		"assert(not pcall(j.decode, j, {}))\n"
		"assert(j:decode('{\"u\":\"\\\\u00e9\"}').u == '\\195\\169')\n";

	CHECK(lua_check_run(L, "=decode", decode_lua));
}

static void test_encode(lua_State *L)
{
	static const char encode_lua[] =
		"local j = freeswitch.JSON()\n"
		"assert(j:encode({1, 2, 3}) == '[1, 2, 3]')\n"
		"assert(j:encode({a = 'x'}) == '{\\n\\t\"a\":\\t\"x\"\\n}')\n"
		"assert(j:encode({}) == '{\\n}')\n"
		"j:return_unformatted_json(true)\n"
		"assert(j:encode({1, 'two', true, false, 2.5}) == '[1,\"two\",true,false,2.5]')\n"
		"assert(j:encode({a = {b = {c = {}}}}) == '{\"a\":{\"b\":{\"c\":{}}}}')\n"
		"j:encode_empty_table_as_object(false)\n"
		"assert(j:encode({}) == '[]')\n"
		"assert(j:encode({a = {}}) == '{\"a\":[]}')\n"
		"j:encode_empty_table_as_object(true)\n"
		/* keys that are not 1..n make an object; number keys become text */
		"assert(j:encode({[2] = 'b'}) == '{\"2\":\"b\"}')\n"
		"local s = j:encode({[1] = 'a', x = 1})\n"
		"assert(s == '{\"1\":\"a\",\"x\":1}' or s == '{\"x\":1,\"1\":\"a\"}')\n"
		"assert(j:encode({q = 'a\"b\\\\c\\n/'}) == '{\"q\":\"a\\\\\"b\\\\\\\\c\\\\n/\"}')\n"
		"assert(j:encode({f = print, n = 1}) == '{\"n\":1}')\n"
		"assert(j:encode({x = 0.1}) == '{\"x\":0.1}')\n"
		"assert(j:encode({x = 1/0}) == '{\"x\":null}')\n"
		/* round trip */
		"local t = j:decode(j:encode({list = {1, {k = 'v'}, {2, 3}}, s = 'é'}))\n"
		"assert(t.list[2].k == 'v' and t.list[3][2] == 3 and t.s == 'é')\n"
		/* cycles and bad arguments: errors, no crash */
		"local c = {}; c.self = c\n"
		"local ok, err = pcall(j.encode, j, c)\n"
		"assert(not ok and err:find('contains itself'))\n"
		"local d = {}; d[1] = {d}\n"
		"assert(not pcall(j.encode, j, d))\n"
		"local shared = {1}\n"
		"assert(j:encode({shared, shared}) == '[[1],[1]]')\n"
		"assert(not pcall(j.encode, j, 'text'))\n"
		"local deep = {}; local p = deep\n"
		"for i = 1, 1000 do p.x = {}; p = p.x end\n"
		"ok, err = pcall(j.encode, j, deep)\n"
		"assert(not ok and err:find('too deep'))\n";

	CHECK(lua_check_run(L, "=encode", encode_lua));
}

static int cmd_echo(struct api_call *call, const char *args)
{
	api_printf(call, "echo:%s", args ? args : "");
	return 0;
}

static int cmd_fail(struct api_call *call, const char *args)
{
	(void)args;
	api_printf(call, "-ERR no");
	return EINVAL;
}

static void test_execute(lua_State *L)
{
	static const char execute_lua[] =
		"local j = freeswitch.JSON()\n"
		"local r = j:execute('{\"command\":\"fsapi\",\"data\":{\"cmd\":\"jecho\","
		"\"arg\":\"a b\"}}')\n"
		"assert(r.message == 'echo:a b')\n"
		"r = j:execute({command = 'fsapi', data = {cmd = 'jecho'}})\n"
		"assert(r.message == 'echo:')\n"
		"assert(j:execute2({command = 'fsapi', data = {cmd = 'jecho', arg = 'x'}})"
		" == '{\\n\\t\"message\":\\t\"echo:x\"\\n}')\n"
		"j:return_unformatted_json(true)\n"
		"assert(j:execute2({command = 'fsapi', data = {cmd = 'jfail'}})"
		" == '{\"message\":\"INVALID CALL\"}')\n"
		"assert(j:execute({command = 'fsapi', data = {cmd = 'no_such'}}).message"
		" == 'INVALID CALL')\n"
		"assert(j:execute({command = 'fsapi', data = {}}).message == 'INVALID CALL')\n"
		"assert(j:execute({command = 'nope', data = {}}) == nil)\n"
		"assert(j:execute({command = 'fsapi'}) == nil)\n"
		"assert(j:execute('not json') == nil)\n"
		"assert(j:execute2({command = 'nope', data = ''}) == nil)\n";

	CHECK(lua_check_run(L, "=execute", execute_lua));
}

int main(void)
{
	lua_State *L;

	CHECK_INT(libre_init(), 0);
	CHECK_INT(api_init(), 0);
	CHECK_INT(api_register("jecho", "", "", cmd_echo), 0);
	CHECK_INT(api_register("jfail", "", "", cmd_fail), 0);
	log_set_console(false);

	L = new_state();
	test_decode(L);
	test_encode(L);
	test_execute(L);
	lua_close(L);

	api_close();
	libre_close();
	return check_done();
}
