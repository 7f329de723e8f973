/*
 * api.h - the API command registry: every `api`/`bgapi` command, `${cmd args}`
 * expansion, Lua's API:execute and the console all run commands through here.
 * Signalling thread only.
 */
#ifndef CONFAB_API_H
#define CONFAB_API_H

#include <stdarg.h>
#include <stddef.h>

struct mbuf;
struct api_call;
struct event;

/*
 * A command handler. It writes its output with api_printf() and returns 0 when
 * finished, or EINPROGRESS when it will finish later by calling api_finish()
 * (originate, conference dial ...). Any other return value is a failure and the
 * caller sees FreeSWITCH's "-ERR <cmd> Command not found!" text.
 */
typedef int (api_cmd_h)(struct api_call *call, const char *args);

/* Called once with the complete output (NUL-terminated, may be empty). */
typedef void (api_done_h)(int err, const char *out, size_t len, void *arg);

int  api_init(void);
void api_close(void);

/* Names are unique and matched case-insensitively. Strings must be static. */
int  api_register(const char *name, const char *syntax, const char *desc,
		  api_cmd_h *handler);
void api_unregister(const char *name);

/* A subsystem's commands, registered in one call (stops at the first error). */
struct api_def {
	const char *name, *syntax, *desc;
	api_cmd_h *h;
};
int  api_register_table(const struct api_def *defs, size_t n);

/*
 * Run `cmd` with `args` (may be NULL). When the command finishes at once, doneh
 * runs before this returns and *callp (if given) is set to NULL; otherwise *callp
 * is the pending call, owned by this module, which the caller may abandon.
 * An unknown command completes with ENOENT and FreeSWITCH's error text.
 */
int  api_exec(struct api_call **callp, const char *cmd, const char *args,
	      api_done_h *doneh, void *arg);

/*
 * The same, with an event the command may read: the channel's data for
 * api_hangup_hook, which mod_lua's `lua` command shows its script as `env`.
 * The call takes its own reference.
 */
int  api_exec_env(struct api_call **callp, const char *cmd, const char *args,
		  struct event *env, api_done_h *doneh, void *arg);
/* That event, or NULL. */
struct event *api_call_env(const struct api_call *call);
/* Run a whole line "cmd args" (leading/trailing blanks trimmed). */
int  api_exec_line(struct api_call **callp, const char *line, api_done_h *doneh,
		   void *arg);

/* Forget the caller: doneh will not run. */
void api_call_abandon(struct api_call *call);

/*
 * Run a command to completion and append its output to `out`. A command that
 * would finish later is abandoned and EINPROGRESS returned; an unknown one
 * appends nothing and returns ENOENT.
 */
int  api_exec_sync(struct mbuf *out, const char *cmd, const char *args);

/* For handlers. */
int  api_printf(struct api_call *call, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int  api_write(struct api_call *call, const char *buf, size_t len);
const char *api_call_cmd(const struct api_call *call);
void api_finish(struct api_call *call);

/* Walk the registry in name order (for `show api` and `help`). */
typedef void (api_each_h)(const char *name, const char *syntax, const char *desc,
			  void *arg);
void api_foreach(api_each_h *h, void *arg);

/* Shared usage reply: "-USAGE: <syntax>\n". */
int  api_usage(struct api_call *call);

#endif
