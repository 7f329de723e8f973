/*
 * app.c - the application registry and one execution's life: its data expanded
 * (waiting for ${api} calls that finish later), variables, CHANNEL_EXECUTE /
 * CHANNEL_EXECUTE_COMPLETE, and completion now, later, or on hangup.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "channel/channel.h"
#include "core/log.h"
#include "core/vars.h"
#include "dialplan/app.h"
#include "dialplan/apps.h"
#include "dialplan/ivr.h"
#include "event/bus.h"

struct app {
	struct le le;
	const char *name;
	const char *syntax;
	app_h *h;
};

/*
 * How long application data waits for an ${api} call (a script querying a
 * database ...) before going on with nothing in its place.
 */
#define EXPAND_WAIT_MS 30000

struct app_exec {
	struct le le;                /* in `running` while it waits */
	struct channel *ch;
	const struct app *app;
	char *raw;                   /* the data before expansion, while expanding */
	struct vars_replay *replay;  /* its ${api} outputs so far, while expanding */
	char *args;
	char *uuid;
	app_done_h *done;
	void *arg;
	struct channel_watch *watch;
	void (*cancel)(void *data);
	void *cancel_data;
	bool started;                /* CHANNEL_EXECUTE fired: the handler runs */
	bool finished;
};

static struct list apps;
/*
 * Executions waiting to finish, by channel: app_break() runs on every
 * routing, and a walk of all of them made call setup cost grow with the
 * number of parked calls.
 */
static struct hash *running;

static uint32_t ch_key(const struct channel *ch)
{
	return hash_joaat((const uint8_t *)&ch, sizeof(ch));
}

static bool running_cmp(struct le *le, void *arg)
{
	const struct app_exec *x = le->data;

	return x->ch == arg;
}

static const struct app *find(const char *name)
{
	struct le *le;

	for (le = apps.head; le; le = le->next) {
		const struct app *a = le->data;

		if (!strcasecmp(a->name, name))
			return a;
	}
	return NULL;
}

int app_register(const char *name, const char *syntax, app_h *h)
{
	struct app *a;

	if (!name || !h || find(name))
		return EINVAL;
	a = mem_zalloc(sizeof(*a), NULL);
	if (!a)
		return ENOMEM;
	a->name = name;
	a->syntax = syntax ? syntax : "";
	a->h = h;
	list_append(&apps, &a->le, a);
	return 0;
}

int app_exists(const char *name)
{
	return find(name) != NULL;
}

int app_init(void)
{
	list_init(&apps);
	if (!running && hash_alloc(&running, 1024))
		return ENOMEM;
	return apps_basic_init() || apps_media_init() || apps_speech_init() ||
	       apps_ivr_init() || apps_meta_init() ? EINVAL : 0;
}

void app_close(void)
{
	apps_meta_close();
	list_flush(&apps);
	/* Executions still waiting keep their element; unlinking it is then a no-op. */
	hash_clear(running);
	running = mem_deref(running);
}

static void exec_destructor(void *data)
{
	struct app_exec *x = data;

	mem_deref(x->watch);
	mem_deref(x->replay);
	mem_deref(x->raw);
	mem_deref(x->args);
	mem_deref(x->uuid);
	mem_deref(x->ch);
}

static void fire_exec(struct app_exec *x, enum event_id id, const char *response)
{
	struct event *ev;

	if (channel_event_alloc(x->ch, id, NULL, &ev))
		return;
	event_add_header(ev, "Application", x->app->name);
	event_add_header(ev, "Application-Data", x->args);
	if (id == EVENT_CHANNEL_EXECUTE_COMPLETE)
		event_add_header(ev, "Application-Response", response ? response : "_none_");
	event_add_header(ev, "Application-UUID", x->uuid);
	bus_fire(ev);
}

static void complete(struct app_exec *x, int err, const char *response)
{
	if (x->finished)
		return;
	x->finished = true;
	list_unlink(&x->le);
	x->watch = mem_deref(x->watch);
	/* Ended while its data was expanding: the command it waits for is dropped. */
	x->replay = mem_deref(x->replay);
	if (response)
		channel_var_set(x->ch, "current_application_response", response);
	if (x->started)
		fire_exec(x, EVENT_CHANNEL_EXECUTE_COMPLETE,
			  channel_var(x->ch, "current_application_response"));
	if (x->done)
		x->done(x->ch, err, x->arg);
	mem_deref(x);
}

void app_exec_done(struct app_exec *x, const char *response)
{
	if (x)
		complete(x, 0, response);
}

struct channel *app_exec_channel(const struct app_exec *x)
{
	return x ? x->ch : NULL;
}

void app_exec_on_cancel(struct app_exec *x, void (*cancel)(void *data), void *data)
{
	x->cancel = cancel;
	x->cancel_data = data;
}

static void exec_watch(struct channel *ch, enum channel_note note, const char *data,
		       void *arg)
{
	struct app_exec *x = arg;

	(void)ch;
	(void)data;
	if (note != CHANNEL_NOTE_HANGUP)
		return;
	if (x->cancel)
		x->cancel(x->cancel_data);
	complete(x, ECONNRESET, NULL);
}

/* The data is expanded: fire CHANNEL_EXECUTE and run the handler. */
static int run(struct app_exec *x)
{
	struct channel *ch = x->ch;
	const struct app *a = x->app;
	int err;

	x->started = true;
	channel_var_set(ch, "current_application", a->name);
	channel_var_set(ch, "current_application_data", x->args);
	channel_var_set(ch, "current_application_response", NULL);
	channel_var_set(ch, "app_uuid", x->uuid);
	fire_exec(x, EVENT_CHANNEL_EXECUTE, NULL);

	/* Our own reference: the handler may finish (and free) the execution. */
	mem_ref(x);
	err = a->h(ch, x->args, x);
	if (err == EINPROGRESS && !x->finished && channel_up(ch) &&
	    !channel_watch(&x->watch, ch, exec_watch, x)) {
		hash_append(running, ch_key(ch), &x->le, x);
		mem_deref(x);
		return EINPROGRESS;
	}
	if (err && err != EINPROGRESS)
		log_warn("%s: %s(%s) failed: %s\n", channel_name(ch), a->name, x->args,
			 strerror(err));
	if (x->finished)
		err = 0;
	else if (err == EINPROGRESS && x->cancel)
		x->cancel(x->cancel_data);       /* the channel is already gone */
	complete(x, err == EINPROGRESS ? 0 : err, NULL);
	mem_deref(x);
	return err == EINPROGRESS ? 0 : err;
}

/* A command in the data finished (or timed out): expand again from the record. */
static void expand_ready(void *arg)
{
	struct app_exec *x = arg;
	int err = channel_expand_replay(x->ch, x->raw, x->replay, &x->args);

	if (err == EINPROGRESS)
		return;                  /* the next command waits: keep waiting */
	list_unlink(&x->le);
	x->watch = mem_deref(x->watch);
	x->replay = mem_deref(x->replay);
	if (err) {
		log_warn("%s: %s: expanding '%s' failed: %s\n", channel_name(x->ch),
			 x->app->name, x->raw, strerror(err));
		complete(x, err, NULL);
		return;
	}
	(void)run(x);
}

/*
 * Wait for the data's command, as a running application waits: a hangup or
 * app_break() ends the execution (without CHANNEL_EXECUTE, which never fired).
 */
static int expand_wait(struct app_exec *x)
{
	int err = channel_up(x->ch) ? channel_watch(&x->watch, x->ch, exec_watch, x) :
		  ECONNRESET;

	if (err) {
		complete(x, err, NULL);
		return err;
	}
	hash_append(running, ch_key(x->ch), &x->le, x);
	return EINPROGRESS;
}

static int exec_start(struct channel *ch, const char *name, const char *args,
		      const char *uuid, app_done_h *done, void *arg, bool wait)
{
	const struct app *a = name ? find(name) : NULL;
	struct app_exec *x;
	int err;

	if (!a) {
		log_warn("%s: no application named '%s'\n", channel_name(ch), name ? name : "");
		return ENOENT;
	}
	x = mem_zalloc(sizeof(*x), exec_destructor);
	if (!x)
		return ENOMEM;
	x->ch = mem_ref(ch);
	x->app = a;
	x->done = done;
	x->arg = arg;
	err = uuid ? str_dup(&x->uuid, uuid) : 0;
	if (!err && wait)
		err = vars_replay_alloc(&x->replay, EXPAND_WAIT_MS, expand_ready, x);
	if (!err && wait)
		err = str_dup(&x->raw, args ? args : "");
	if (!err)
		err = wait ? channel_expand_replay(ch, x->raw, x->replay, &x->args) :
			     channel_expand(ch, args ? args : "", &x->args);
	if (err == EINPROGRESS)
		return expand_wait(x);
	if (err) {
		mem_deref(x);
		return err;
	}
	x->replay = mem_deref(x->replay);
	return run(x);
}

int app_execute(struct channel *ch, const char *name, const char *args,
		const char *uuid, app_done_h *done, void *arg)
{
	return exec_start(ch, name, args, uuid, done, arg, true);
}

int app_execute_now(struct channel *ch, const char *name, const char *args)
{
	return exec_start(ch, name, args, NULL, NULL, NULL, false);
}

void app_break(struct channel *ch)
{
	struct le *le;

	/* The cancel hook may finish other executions: look up afresh each time. */
	while ((le = hash_lookup(running, ch_key(ch), running_cmp, ch))) {
		struct app_exec *x = le->data;

		mem_ref(x);
		if (x->cancel)
			x->cancel(x->cancel_data);
		complete(x, ECANCELED, NULL);
		mem_deref(x);
	}
}

int app_parse_inline(const char *s, char **namep, char **argsp)
{
	const char *open, *close;
	char *name = NULL, *args = NULL;
	int err;

	if (!s || *s != '&')
		return EINVAL;
	s++;
	open = strchr(s, '(');
	close = open ? strrchr(open, ')') : NULL;
	if (!open)
		return str_dup(namep, s) ? ENOMEM : (*argsp = NULL, 0);
	if (!close || close[1] || open == s)
		return EINVAL;
	err = re_sdprintf(&name, "%b", s, (size_t)(open - s));
	if (!err)
		err = re_sdprintf(&args, "%b", open + 1, (size_t)(close - open - 1));
	if (err) {
		mem_deref(name);
		return err;
	}
	*namep = name;
	*argsp = args;
	return 0;
}
