/*
 * script.h - Lua scripting compatible with FreeSWITCH's mod_lua: the `lua` and
 * `luarun` API commands, the `lua` dialplan application, startup scripts and
 * event hooks from autoload_configs/lua.conf.xml, and the `freeswitch` module
 * (spec/lua.md).
 *
 * Every run has a Lua state of its own and runs as a coroutine on the
 * signalling thread: a binding that waits (sleep, execute, getDigits, pop ...)
 * suspends it, and a script that computes for long is preempted, so no script
 * ever stalls signalling or another script. Signalling thread only.
 */
#ifndef CONFAB_SCRIPT_H
#define CONFAB_SCRIPT_H

#include <stddef.h>

struct config;

/*
 * Read lua.conf, register the commands, the application and the hooks, and
 * start the startup scripts. A malformed lua.conf fails with "file:line:
 * problem" in err; a hook on an unknown event is logged and skipped.
 */
int  script_init(const struct config *cfg, char *err, size_t errsz);
/* Stop every run (their sessions' auto-hangup applies) and drop the hooks. */
void script_close(void);
/* Runs in progress (for status output and tests). */
size_t script_count(void);

#endif
