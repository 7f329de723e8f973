/*
 * dialplan.c - the router and the runner: every channel entering CS_ROUTING is
 * hunted through the current dialplan, then its actions run one at a time, each
 * waiting for the previous one; transfer re-routes, execute_extension nests.
 * Also (re)loading, swapping compiled dialplans on reloadxml.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "channel/channel.h"
#include "core/config.h"
#include "core/log.h"
#include "dialplan/app.h"
#include "dialplan/dialplan.h"
#include "dialplan/dialplan_int.h"

/*
 * Transfers a channel may make before it is hung up EXCHANGE_ROUTING_ERROR
 * (FreeSWITCH's max_session_transfers variable), so a dialplan that transfers
 * in a circle cannot spin for ever.
 */
#define MAX_SESSION_TRANSFERS 1000

/*
 * One routing pass of a channel: the dialplan it hunted in and a stack of
 * frames, the hunted actions at the bottom and one frame per execute_extension
 * above. Registered by channel UUID until it ends, is replaced by a transfer,
 * or the channel hangs up.
 *
 * It moves on from its own timer (`kick`), never inside the call that routed
 * the channel or completed an application: channel_start() and
 * channel_transfer() return before the hunt, as FreeSWITCH's state machine
 * does, so an endpoint never sees its channel end under it; and the code that
 * completed an application (a failed bridge hanging up with its cause) finishes
 * before the next action starts.
 */
struct dp_run {
	struct le hle;
	struct channel *ch;
	struct channel_watch *watch;
	struct dialplan *dp;
	struct list frames;            /* struct dp_frame, innermost last */
	struct tmr kick;
	bool registered;
	bool hunted;
	bool busy;                     /* inside run_kick */
	bool cancelled;
	bool standalone;               /* execute_extension outside any routing */
};

struct dp_frame {
	struct le le;
	struct dp_run *run;
	struct list steps;             /* struct dp_step */
	struct le *next;               /* next step to run */
	struct app_exec *x;            /* the execute_extension this frame finishes */
	bool waiting;                  /* one of its steps is executing */
};

static struct {
	bool active;
	struct dialplan *dp;
	struct config *src;            /* the configuration dp was compiled from */
	struct hash *runs;
} D;

static void run_kick(void *arg);

/* Routing */

static void frame_destructor(void *data)
{
	struct dp_frame *f = data;

	if (f->x)
		app_exec_on_cancel(f->x, NULL, NULL);
	list_flush(&f->steps);
	mem_deref(f->run);
}

static void run_destructor(void *data)
{
	struct dp_run *r = data;

	tmr_cancel(&r->kick);
	list_flush(&r->frames);
	mem_deref(r->watch);
	mem_deref(r->dp);
	mem_deref(r->ch);
}

static bool run_cmp(struct le *le, void *arg)
{
	const struct dp_run *r = le->data;

	return r->ch == arg;
}

static struct dp_run *run_find(struct channel *ch)
{
	struct le *le;

	if (!D.runs)
		return NULL;
	le = hash_lookup(D.runs, hash_joaat_str(channel_uuid(ch)), run_cmp, ch);
	return le ? le->data : NULL;
}

static void run_unregister(struct dp_run *r)
{
	if (!r->registered)
		return;
	r->registered = false;
	hash_unlink(&r->hle);
	r->watch = mem_deref(r->watch);
	mem_deref(r);
}

/*
 * Forget the frames. On hangup the applications still pending are completed by
 * the application layer itself; on a transfer the execute_extension calls the
 * frames belong to complete here.
 */
static void run_cancel(struct dp_run *r, bool hanging)
{
	struct le *le;

	if (r->cancelled)
		return;
	r->cancelled = true;
	tmr_cancel(&r->kick);
	mem_ref(r);
	while ((le = list_tail(&r->frames))) {
		struct dp_frame *f = le->data;
		struct app_exec *x = f->x;

		list_unlink(&f->le);
		f->x = NULL;
		if (x) {
			app_exec_on_cancel(x, NULL, NULL);
			if (!hanging)
				app_exec_done(x, NULL);
		}
		mem_deref(f);
	}
	mem_deref(r);
}

static void run_watch(struct channel *ch, enum channel_note note, const char *data,
		      void *arg)
{
	struct dp_run *r = arg;

	(void)ch;
	(void)data;
	if (note != CHANNEL_NOTE_HANGUP)
		return;
	mem_ref(r);
	run_cancel(r, true);
	run_unregister(r);
	mem_deref(r);
}

static int run_alloc(struct dp_run **rp, struct channel *ch, struct dialplan *dp)
{
	struct dp_run *r = mem_zalloc(sizeof(*r), run_destructor);
	int err;

	if (!r)
		return ENOMEM;
	tmr_init(&r->kick);
	r->ch = mem_ref(ch);
	r->dp = mem_ref(dp);
	err = channel_watch(&r->watch, ch, run_watch, r);
	if (err) {
		mem_deref(r);
		return err;
	}
	/* The registry's reference. */
	hash_append(D.runs, hash_joaat_str(channel_uuid(ch)), &r->hle, mem_ref(r));
	r->registered = true;
	*rp = r;
	return 0;
}

/* Push the steps (taken over) as the innermost frame. */
static struct dp_frame *frame_push(struct dp_run *r, struct list *steps, struct app_exec *x)
{
	struct dp_frame *f = mem_zalloc(sizeof(*f), frame_destructor);

	if (!f) {
		list_flush(steps);
		return NULL;
	}
	f->run = mem_ref(r);
	f->steps = *steps;
	list_init(steps);
	f->next = f->steps.head;
	f->x = x;
	list_append(&r->frames, &f->le, f);
	return f;
}

static void frame_x_cancel(void *data)
{
	struct dp_frame *f = data;

	f->x = NULL;
}

/* The innermost frame ran out of steps: done with it, tell its caller. */
static void frame_pop(struct dp_run *r, struct dp_frame *f)
{
	struct app_exec *x = f->x;

	list_unlink(&f->le);
	f->x = NULL;
	if (x) {
		app_exec_on_cancel(x, NULL, NULL);
		app_exec_done(x, NULL);
	}
	mem_deref(f);
}

static void step_done(struct channel *ch, int err, void *arg)
{
	struct dp_frame *f = arg;
	struct dp_run *r = f->run;

	(void)ch;
	(void)err;
	f->waiting = false;
	if (!r->cancelled && !r->busy)
		tmr_start(&r->kick, 0, run_kick, r);
	mem_deref(f);
}

static void step_exec(struct dp_run *r, struct dp_frame *f, const struct dp_step *s)
{
	int err;

	if (!app_exists(s->app)) {
		/* FreeSWITCH's words and cause for a missing application. */
		log_err("%s: Invalid Application %s\n", channel_name(r->ch), s->app);
		channel_hangup(r->ch, CAUSE_DESTINATION_OUT_OF_ORDER);
		return;
	}
	/* One reference for step_done, one to look at f afterwards. */
	f->waiting = true;
	mem_ref(f);
	mem_ref(f);
	err = app_execute(r->ch, s->app, s->data, NULL, step_done, f);
	/* Failing before it started, app_execute never calls step_done. */
	if (err && err != EINPROGRESS && f->waiting) {
		f->waiting = false;
		mem_deref(f);
	}
	mem_deref(f);
}

/* All frames done: the extension ran out of actions. */
static void run_finished(struct dp_run *r)
{
	r->cancelled = true;
	if (r->standalone) {
		run_unregister(r);
		return;
	}
	/* park, conference and a bridge that hangs up after itself never get here. */
	if (channel_up(r->ch)) {
		log_debug("%s: no more actions, hanging up\n", channel_name(r->ch));
		channel_hangup(r->ch, CAUSE_NORMAL_CLEARING);
	}
	run_unregister(r);
}

static void run_hunt(struct dp_run *r)
{
	struct caller_profile *p = channel_profile(r->ch);
	struct list steps = LIST_INIT;
	int err;

	r->hunted = true;
	if (p->dialplan && strcasecmp(p->dialplan, "XML"))
		log_warn("%s: dialplan '%s' is not supported, hunting in XML\n",
			 channel_name(r->ch), p->dialplan);
	err = dp_hunt(r->dp, r->ch, NULL, NULL, &steps, &r->cancelled);
	if (err || r->cancelled) {
		list_flush(&steps);
		if (err == ENOENT && !r->cancelled) {
			log_warn("%s: No Route, Aborting (%s in context %s)\n",
				 channel_name(r->ch),
				 p->destination_number ? p->destination_number : "",
				 p->context ? p->context : "default");
			channel_hangup(r->ch, CAUSE_NO_ROUTE_DESTINATION);
		}
		return;
	}
	if (!frame_push(r, &steps, NULL)) {
		channel_hangup(r->ch, CAUSE_DESTINATION_OUT_OF_ORDER);
		return;
	}
	channel_set_state(r->ch, CS_EXECUTE);
}

static void run_steps(struct dp_run *r)
{
	if (!r->hunted && !r->cancelled)
		run_hunt(r);
	while (!r->cancelled) {
		struct le *tail = list_tail(&r->frames);
		struct dp_frame *f = tail ? tail->data : NULL;
		const struct dp_step *s;

		if (!channel_up(r->ch)) {
			run_cancel(r, true);     /* run_watch unregisters it */
			break;
		}
		if (!f) {
			run_finished(r);
			break;
		}
		if (f->waiting)
			break;
		if (!f->next) {
			frame_pop(r, f);
			continue;
		}
		s = f->next->data;
		f->next = f->next->next;
		step_exec(r, f, s);
	}
}

/* Execute until an application has to be waited for. */
static void run_kick(void *arg)
{
	struct dp_run *r = arg;

	if (r->busy)
		return;
	mem_ref(r);
	r->busy = true;
	run_steps(r);
	r->busy = false;
	mem_deref(r);
}

/* A transfer counts against max_session_transfers; false when used up. */
static bool transfer_allowed(struct channel *ch)
{
	const char *v = channel_var(ch, "max_session_transfers");
	long left = (v && *v ? atol(v) : MAX_SESSION_TRANSFERS) - 1;

	if (left <= 0) {
		log_err("%s: too many transfers (max_session_transfers)\n", channel_name(ch));
		channel_hangup(ch, CAUSE_EXCHANGE_ROUTING_ERROR);
		return false;
	}
	channel_var_setf(ch, "max_session_transfers", "%ld", left);
	return true;
}

/* CS_ROUTING: replace whatever routing the channel had and hunt from the timer. */
static void dp_router(struct channel *ch, void *arg)
{
	struct dp_run *old = run_find(ch), *r = NULL;

	(void)arg;
	/*
	 * A transfer ends whatever the call was doing (park, echo, a bridge). What
	 * ran may hang the channel up as it ends: then there is nothing to route.
	 */
	mem_ref(ch);
	app_break(ch);
	if (!channel_up(ch))
		goto out;
	if (old) {
		mem_ref(old);
		run_cancel(old, false);
		run_unregister(old);
		mem_deref(old);
		if (!transfer_allowed(ch))
			goto out;
	}
	if (run_alloc(&r, ch, D.dp)) {
		log_err("%s: cannot route: out of memory\n", channel_name(ch));
		channel_hangup(ch, CAUSE_DESTINATION_OUT_OF_ORDER);
		goto out;
	}
	tmr_start(&r->kick, 0, run_kick, r);
	mem_deref(r);         /* the registry keeps it */
 out:
	mem_deref(ch);
}

/* Applications that need the runner */

/* "<exten> [<dialplan> [<context>]]"; the strings point into buf. */
static int split_target(char *buf, char **exten, char **dialplan, char **context)
{
	char *save = NULL;

	*exten = strtok_r(buf, " \t", &save);
	*dialplan = *exten ? strtok_r(NULL, " \t", &save) : NULL;
	*context = *dialplan ? strtok_r(NULL, " \t", &save) : NULL;
	return *exten ? 0 : EINVAL;
}

/*
 * transfer [-bleg|-both] <exten> [<dialplan> [<context>]]: route again; the
 * current actions stop. -bleg moves the bridged leg instead, -both that leg
 * and then this one (mod_dptools transfer_function).
 */
static int app_transfer(struct channel *ch, const char *args, struct app_exec *x)
{
	char buf[512], *exten, *dialplan, *context, *target = buf;
	struct channel *partner;
	bool bleg, both;

	(void)x;
	if (snprintf(buf, sizeof(buf), "%s", args) >= (int)sizeof(buf))
		return EINVAL;
	bleg = !strncasecmp(buf, "-bleg ", 6);
	both = !strncasecmp(buf, "-both ", 6);
	if (bleg || both)
		target += 6;
	if (split_target(target, &exten, &dialplan, &context))
		return EINVAL;
	if (!bleg && !both) {
		channel_transfer(ch, exten, dialplan, context);
		return 0;
	}
	partner = channel_partner(ch);
	if (!partner)
		log_warn("%s: No B-leg present.\n", channel_name(ch));
	if (both)
		channel_transfer_both(ch, partner, exten, dialplan, context);
	else if (partner)
		channel_transfer(partner, exten, dialplan, context);
	return 0;
}

/*
 * execute_extension <exten> [<dialplan> [<context>]]: hunt that extension with
 * this channel and run its actions, then carry on after this one.
 */
static int app_execute_extension(struct channel *ch, const char *args, struct app_exec *x)
{
	struct list steps = LIST_INIT;
	char buf[512], *exten, *dialplan, *context;
	struct dp_run *r = run_find(ch);
	struct dp_frame *f;
	int err;

	if (snprintf(buf, sizeof(buf), "%s", args) >= (int)sizeof(buf))
		return EINVAL;
	if (split_target(buf, &exten, &dialplan, &context))
		return EINVAL;
	if (r && r->cancelled)
		return 0;
	err = dp_hunt(r ? r->dp : D.dp, ch, context, exten, &steps,
		      r ? &r->cancelled : NULL);
	if (err) {
		list_flush(&steps);
		if (err == ENOENT)
			log_warn("%s: execute_extension: nothing matched %s in context %s\n",
				 channel_name(ch), exten,
				 context ? context : channel_profile(ch)->context);
		return 0;
	}
	if (!r) {
		err = run_alloc(&r, ch, D.dp);
		if (err) {
			list_flush(&steps);
			return err;
		}
		r->hunted = true;
		r->standalone = true;
	} else {
		mem_ref(r);
	}
	f = frame_push(r, &steps, x);
	if (f)
		app_exec_on_cancel(x, frame_x_cancel, f);
	/* Inside the run, its loop takes the new frame next; otherwise kick it. */
	if (!r->busy)
		tmr_start(&r->kick, 0, run_kick, r);
	mem_deref(r);
	return f ? EINPROGRESS : ENOMEM;
}

int dp_apps_register(void)
{
	int err = 0;

	if (!app_exists("transfer"))
		err |= app_register("transfer", "[-bleg|-both] <exten> [<dialplan> <context>]",
				    app_transfer);
	if (!app_exists("execute_extension"))
		err |= app_register("execute_extension", "<extension> <dialplan> <context>",
				    app_execute_extension);
	return err ? EINVAL : 0;
}

/* Loading */

static void log_loaded(const char *what)
{
	log_info("dialplan %s: %zu contexts, %zu extensions\n", what,
		 dialplan_context_count(D.dp), dialplan_extension_count(D.dp));
}

int dialplan_reload(const struct config *cfg, char *err, size_t errsz)
{
	struct dialplan *dp = NULL;
	int e;

	if (!cfg || !err || !errsz)
		return EINVAL;
	err[0] = '\0';
	if (!D.active || cfg == D.src)
		return 0;
	e = dialplan_compile(&dp, cfg, err, errsz);
	if (e)
		return e;
	mem_deref(D.dp);
	D.dp = dp;
	mem_deref(D.src);
	D.src = mem_ref((void *)cfg);
	log_loaded("reloaded");
	return 0;
}

int dialplan_init(const struct config *cfg, char *err, size_t errsz)
{
	int e;

	if (!err || !errsz)
		return EINVAL;
	err[0] = '\0';
	if (D.active)
		return EALREADY;
	e = hash_alloc(&D.runs, 256);
	if (!e)
		e = dp_apps_register();
	if (!e)
		e = apps_flow_init();
	if (e) {
		snprintf(err, errsz, "dialplan: cannot register applications: %s",
			 strerror(e));
		goto out;
	}
	e = dialplan_compile(&D.dp, cfg, err, errsz);
	if (e) {
		if (!err[0])
			snprintf(err, errsz, "dialplan: %s", strerror(e));
		goto out;
	}
	D.src = mem_ref((void *)cfg);
	D.active = true;
	channel_set_router(dp_router, NULL);
	log_loaded("loaded");
 out:
	if (e) {
		apps_flow_close();
		D.dp = mem_deref(D.dp);
		D.runs = mem_deref(D.runs);
	}
	return e;
}

static bool first_run(struct le *le, void *arg)
{
	(void)le;
	(void)arg;
	return true;
}

void dialplan_close(void)
{
	struct le *le;

	if (!D.active)
		return;
	D.active = false;
	channel_set_router(NULL, NULL);
	/* Channels still routing keep their applications; the runs let go. */
	while ((le = hash_apply(D.runs, first_run, NULL))) {
		struct dp_run *r = mem_ref(le->data);

		run_cancel(r, true);
		run_unregister(r);
		mem_deref(r);
	}
	apps_flow_close();
	D.runs = mem_deref(D.runs);
	D.dp = mem_deref(D.dp);
	D.src = mem_deref(D.src);
}

struct dialplan *dialplan_current(void)
{
	return D.dp;
}
