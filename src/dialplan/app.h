/*
 * app.h - the application registry: one place where answer, park, bridge ...
 * live, used by originate's &app(), sendmsg execute, the dialplan and scripts.
 * Every execution fires CHANNEL_EXECUTE and CHANNEL_EXECUTE_COMPLETE.
 * Signalling thread only.
 */
#ifndef CONFAB_APP_H
#define CONFAB_APP_H

struct channel;
struct app_exec;

/*
 * An application. Returns 0 when finished, EINPROGRESS when it will finish later
 * through app_exec_done() (or when the channel hangs up), another errno on
 * failure (logged; the execution still completes).
 */
typedef int (app_h)(struct channel *ch, const char *args, struct app_exec *x);

/* Called once when the execution finished (also when the channel hung up). */
typedef void (app_done_h)(struct channel *ch, int err, void *arg);

int  app_init(void);          /* registers the built-in applications */
void app_close(void);
int  app_register(const char *name, const char *syntax, app_h *h);
int  app_exists(const char *name);

/*
 * Run `name` with `args` (expanded with the channel's variables first) on `ch`.
 * `uuid` is the Application-UUID (event-uuid of sendmsg), may be NULL. An
 * ${api(args)} in the data that finishes later (${lua(script)} of a script
 * that waits) is waited for, at most 30 s, before CHANNEL_EXECUTE; the
 * execution is then pending (EINPROGRESS) like a running application, and
 * `done` runs when it ends (also on hangup or app_break() meanwhile).
 */
int  app_execute(struct channel *ch, const char *name, const char *args,
		 const char *uuid, app_done_h *done, void *arg);
/*
 * The same, for inline dialplan actions that run while the hunt decides: the
 * data is expanded at once, a command that would finish later expands to "".
 */
int  app_execute_now(struct channel *ch, const char *name, const char *args);

/* For asynchronous applications: finish with this Application-Response. */
void app_exec_done(struct app_exec *x, const char *response);
struct channel *app_exec_channel(const struct app_exec *x);
/*
 * What a pending application must undo when the channel hangs up first: `cancel`
 * is called with `data` before the execution completes.
 */
void app_exec_on_cancel(struct app_exec *x, void (*cancel)(void *data), void *data);

/*
 * Stop every application still running on `ch` (a transfer moves the call on):
 * each is cancelled and completes with ECANCELED.
 */
void app_break(struct channel *ch);

/* "&park()" / "&bridge(user/1000)" -> name and arguments. EINVAL if malformed. */
int  app_parse_inline(const char *s, char **namep, char **argsp);

#endif
