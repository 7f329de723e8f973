/*
 * test_lua_core.c - the freeswitch.Stream and freeswitch.DTMF constructors
 * driven from Lua (spec/lua.md 3): a stream of one's own collects writes, a
 * DTMF table has the digit and a duration, and bad arguments raise errors.
 */
#include <re.h>
#include <lualib.h>
#include "check.h"
#include "lua_check.h"
#include "lua/lua_int.h"

static void test_stream(lua_State *L)
{
	static const char stream_lua[] =
		"local s = freeswitch.Stream()\n"
		"assert(s:get_data() == '')\n"
		"s:write('+OK ')\n"
		"s:write('two\\n')\n"
		"assert(s:get_data() == '+OK two\\n')\n"
		"local t = freeswitch.Stream()\n"
		"assert(t:get_data() == '', 'each stream is its own')\n"
		"assert(not pcall(s.write, s, {}))\n"
		"s = nil; t = nil; collectgarbage()\n";

	CHECK(lua_check_run(L, "=stream", stream_lua));
}

static void test_dtmf(lua_State *L)
{
	static const char dtmf_lua[] =
		"local d = freeswitch.DTMF('5')\n"
		"assert(d.digit == '5' and d.duration == 2000)\n"
		"d = freeswitch.DTMF('#9', 800)\n"
		"assert(d.digit == '#' and d.duration == 800)\n"
		"assert(not pcall(freeswitch.DTMF, ''))\n"
		"assert(not pcall(freeswitch.DTMF, '1', 0))\n"
		"assert(not pcall(freeswitch.DTMF))\n";

	CHECK(lua_check_run(L, "=dtmf", dtmf_lua));
}

int main(void)
{
	static lua_check_bind *const binds[] = {script_bind_core, NULL};
	lua_State *L;

	CHECK_INT(libre_init(), 0);
	L = lua_check_state(binds);
	test_stream(L);
	test_dtmf(L);
	lua_close(L);
	libre_close();
	return check_done();
}
