/*
 * lua_check.h - Lua states and chunks for the binding tests: a state that no
 * run owns with some bindings under `freeswitch`, and chunks whose errors print.
 */
#ifndef CONFAB_LUA_CHECK_H
#define CONFAB_LUA_CHECK_H

#include <stdio.h>
#include <string.h>
#include <lualib.h>
#include "lua/lua_int.h"

typedef void lua_check_bind(lua_State *L);

/* A fresh state with the standard libraries and `binds` (NULL-terminated). */
static lua_State *lua_check_state(lua_check_bind *const *binds)
{
	lua_State *L = luaL_newstate();

	/* No run owns this state: script_of() must find none. */
	memset(lua_getextraspace(L), 0, LUA_EXTRASPACE);
	luaL_openlibs(L);
	lua_newtable(L);
	for (; *binds; binds++)
		(*binds)(L);
	lua_setglobal(L, "freeswitch");
	return L;
}

/* Run a chunk; a failed assert prints Lua's message with the chunk's line. */
static bool lua_check_run(lua_State *L, const char *name, const char *code)
{
	if (luaL_loadbuffer(L, code, strlen(code), name) == LUA_OK &&
	    lua_pcall(L, 0, 0, 0) == LUA_OK)
		return true;
	fprintf(stderr, "%s\n", lua_tostring(L, -1));
	lua_pop(L, 1);
	return false;
}

#endif
