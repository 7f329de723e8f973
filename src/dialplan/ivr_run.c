/*
 * ivr_run.c - the IVR engine (switch_ivr_menu_execute) as one asynchronous
 * application: greeting, digit collection, the selected action, invalid and
 * exit sounds, each step started from the previous one's completion.
 */
#include <errno.h>
#include <string.h>
#include <re.h>
#include "channel/channel.h"
#include "core/log.h"
#include "dialplan/app.h"
#include "dialplan/dialplan_int.h"
#include "dialplan/ivr.h"
#include "dialplan/ivr_int.h"
#include "media/play.h"

/* switch_ivr_menu_execute: "Too many levels of recursion" past this depth. */
#define MAX_DEPTH        12
/* The pause after an invalid answer (switch_ivr_sleep(session, 1000 ...)). */
#define INVALID_PAUSE_MS 1000
/* The terminator of an answer (switch_ivr_collect_digits_count's "#"). */
#define TERMINATOR       '#'
/* FreeSWITCH's words (switch_ivr_menu.c): its log lines and ivr_menu_status values. */
#define MSG_INVALID_MENU "Invalid Menu!"
#define MSG_RECURSION    "Too many levels of recursion."
#define STATUS_SUCCESS   "success"
#define STATUS_FAILURE   "failure"
#define STATUS_TIMEOUT   "timeout"

enum run_state { R_GREET, R_COLLECT, R_CONFIRM, R_INVALID, R_PAUSE, R_SOUND, R_APP, R_EXIT,
		 R_OVER };

/* One menu on the stack: FreeSWITCH's locals of one switch_ivr_menu_execute. */
struct frame {
	const struct ivr_menu *m;
	unsigned reps, errs, timeouts;
	bool limit_hit;              /* its limit's exec-on-max-* has been started */
};

struct ivr_run {
	struct app_exec *x;
	struct channel *ch;
	struct ivr_menus *ms;
	struct channel_watch *watch;
	struct tmr tmr;
	struct frame fr[MAX_DEPTH];
	unsigned depth;
	enum run_state st;
	bool playing;
	bool app_pending;            /* a menu-exec-app application holds a reference */
	unsigned confirm_left;       /* confirm-attempts still to make */
	char buf[IVR_MAX_DIGITS + 1];
	size_t n;
};

/* The menus ivr_menu_execute hands to the application it starts. */
static struct ivr_menus *handoff;

static void step(struct ivr_run *r);
static void finish(struct ivr_run *r);
static void leave(struct ivr_run *r);
static void confirm_wait(struct ivr_run *r);
static void confirmed(struct ivr_run *r, bool yes);

static void run_destructor(void *data)
{
	struct ivr_run *r = data;

	tmr_cancel(&r->tmr);
	mem_deref(r->watch);
	if (r->playing)
		media_play_stop(channel_media(r->ch));
	mem_deref(r->ms);
	mem_deref(r->ch);
}

static struct frame *top(struct ivr_run *r)
{
	return &r->fr[r->depth - 1];
}

/* Stop whatever the run does; it never calls back again. */
static void quiesce(struct ivr_run *r)
{
	r->st = R_OVER;
	tmr_cancel(&r->tmr);
	r->watch = mem_deref(r->watch);
	if (r->playing)
		media_play_stop(channel_media(r->ch));
	r->playing = false;
}

static void done(struct ivr_run *r)
{
	struct app_exec *x = r->x;

	quiesce(r);
	app_exec_on_cancel(x, NULL, NULL);
	mem_deref(r);                /* the execution's reference */
	app_exec_done(x, NULL);
}

static void kick_h(void *arg)
{
	step(arg);
}

/* Continue from a timer, never inside the call that completed something. */
static void kick(struct ivr_run *r, unsigned ms)
{
	tmr_start(&r->tmr, ms, kick_h, r);
}

static void played(int err, void *arg)
{
	struct ivr_run *r = arg;

	(void)err;
	r->playing = false;
	switch (r->st) {
	case R_CONFIRM:
		confirm_wait(r);
		return;
	case R_INVALID:
		r->st = R_PAUSE;
		kick(r, INVALID_PAUSE_MS);
		return;
	case R_SOUND:
		kick(r, 0);
		return;
	case R_EXIT:
		done(r);
		return;
	default:
		return;
	}
}

/* Play `file`; false when nothing plays (none, or it failed: logged). */
static bool play(struct ivr_run *r, const char *file)
{
	if (!file || !*file || !channel_up(r->ch))
		return false;
	if (dp_play(r->ch, file, played, r))
		return false;
	r->playing = true;
	return true;
}

static void answer(struct ivr_run *r, bool timeout);

static void collect_timer(void *arg)
{
	answer(arg, true);
}

static void arm(struct ivr_run *r)
{
	const struct ivr_menu *m = top(r)->m;

	tmr_start(&r->tmr, r->n ? m->inter_ms : m->timeout_ms, collect_timer, r);
}

static void greeted(int err, void *arg)
{
	struct ivr_run *r = arg;

	(void)err;
	r->playing = false;
	r->st = R_COLLECT;
	arm(r);
}

static void on_digit(struct ivr_run *r, char d)
{
	const struct ivr_menu *m = top(r)->m;

	if (r->st == R_CONFIRM) {
		if (r->playing)
			media_play_stop(channel_media(r->ch));
		r->playing = false;
		tmr_cancel(&r->tmr);
		confirmed(r, d == m->confirm_key[0]);
		return;
	}
	if (r->st != R_GREET && r->st != R_COLLECT)
		return;
	if (r->playing) {
		/* The greeting stops at the first key, as with args.buf set. */
		media_play_stop(channel_media(r->ch));
		r->playing = false;
	}
	r->st = R_COLLECT;
	if (d == TERMINATOR) {
		answer(r, false);
		return;
	}
	if (r->n < IVR_MAX_DIGITS)
		r->buf[r->n++] = d;
	if (r->n >= m->digit_len) {
		answer(r, false);
		return;
	}
	arm(r);
}

/* Listening: the greeting, the answer, the confirmation; else digits stay queued. */
static bool listening(const struct ivr_run *r)
{
	return r->st == R_GREET || r->st == R_COLLECT || r->st == R_CONFIRM;
}

static void watch_h(struct channel *ch, enum channel_note note, const char *data, void *arg)
{
	struct ivr_run *r = arg;

	if (note != CHANNEL_NOTE_DTMF || !data || !*data || !listening(r))
		return;
	channel_dtmf_take(ch);
	on_digit(r, *data);
}

/* Digits typed ahead (during an invalid sound, before the menu) answer first. */
static void take_queued(struct ivr_run *r)
{
	char d;

	mem_ref(r);
	while ((r->st == R_GREET || r->st == R_COLLECT) && channel_dtmf_pop(r->ch, &d))
		on_digit(r, d);
	mem_deref(r);
}

static void app_done(struct channel *ch, int err, void *arg)
{
	struct ivr_run *r = arg;

	(void)ch;
	(void)err;
	r->app_pending = false;
	/* Cancelled meanwhile (a transfer, a hangup): nothing to go on with. */
	if (r->st == R_APP)
		kick(r, 0);
	mem_deref(r);                /* the application's reference */
}

/*
 * menu-exec-app and exec-on-max-*: "<app> <args>"; the menu goes on when it is
 * done. An unknown application (logged) runs `fail` instead.
 */
static void exec_app(struct ivr_run *r, const char *param, void (*fail)(struct ivr_run *r))
{
	char *name = NULL;
	const char *sp = strchr(param, ' ');
	int err;

	err = sp ? re_sdprintf(&name, "%b", param, (size_t)(sp - param)) : str_dup(&name, param);
	if (err || !*name || !app_exists(name)) {
		log_warn("%s: ivr menu %s: no application in \"%s\"\n", channel_name(r->ch),
			 top(r)->m->name, param);
		mem_deref(name);
		fail(r);
		return;
	}
	/* Held across the call: a transfer there cancels the run under it. */
	mem_ref(r);
	r->st = R_APP;
	r->app_pending = true;
	mem_ref(r);
	err = app_execute(r->ch, name, sp ? sp + 1 : "", NULL, app_done, r);
	mem_deref(name);
	if (err && err != EINPROGRESS && r->app_pending) {
		/* Refused before it ran: app_done will not be called. */
		r->app_pending = false;
		mem_deref(r);
		if (r->st == R_APP)
			fail(r);
	}
	mem_deref(r);
}

static void enter(struct ivr_run *r, const char *name)
{
	const struct ivr_menu *m = ivr_menu_find(r->ms, name);

	if (!m) {
		log_err("%s: ivr: " MSG_INVALID_MENU " (%s)\n", channel_name(r->ch), name);
		finish(r);
		return;
	}
	if (r->depth == MAX_DEPTH) {
		log_err("%s: ivr: " MSG_RECURSION "\n", channel_name(r->ch));
		finish(r);
		return;
	}
	r->fr[r->depth++] = (struct frame){.m = m};
	log_debug("%s: Executing IVR menu %s\n", channel_name(r->ch), m->name);
	channel_var_set(r->ch, "ivr_menu_status", STATUS_SUCCESS);
	step(r);
}

static void act(struct ivr_run *r, enum ivr_action a, const char *param)
{
	struct frame *f = top(r);

	log_debug("%s: IVR action on menu '%s' matched '%s' param '%s'\n",
		  channel_name(r->ch), f->m->name, r->buf, param);
	f->errs = 0;
	switch (a) {
	case IVR_EXIT:
		finish(r);
		break;
	case IVR_SOUND:
		r->st = R_SOUND;
		if (!play(r, param))
			kick(r, 0);
		break;
	case IVR_SUB:
		/* A menu calling itself only repeats. */
		if (!strcmp(param, f->m->name)) {
			step(r);
			break;
		}
		/* Back here, the menu starts over with its long greeting. */
		f->reps = 0;
		enter(r, param);
		break;
	case IVR_APP:
		exec_app(r, param, finish);
		break;
	case IVR_BACK:
		if (r->depth == 1) {
			finish(r);
			break;
		}
		r->depth--;
		step(r);
		break;
	case IVR_TOP:
		r->depth = 1;
		step(r);
		break;
	}
}

/* The answer stands: run the entry it selects, or count a failure. */
static void decide(struct ivr_run *r)
{
	struct frame *f = top(r);
	enum ivr_action a;
	char *param = NULL;
	int err;

	err = r->n ? ivr_menu_match(f->m, r->buf, &a, &param) : ENOENT;
	if (!err) {
		act(r, a, param);
		mem_deref(param);
		return;
	}
	if (r->n)
		log_debug("%s: IVR menu '%s' caught invalid input '%s'\n",
			  channel_name(r->ch), f->m->name, r->buf);
	f->errs++;
	r->st = R_INVALID;
	if (r->n && play(r, f->m->invalid_sound))
		return;
	r->st = R_PAUSE;
	kick(r, INVALID_PAUSE_MS);
}

/*
 * confirm-macro with confirm-key: the macro says the answer (its data), the
 * caller confirms with the key; another key rejects it, silence for the
 * timeout asks again, confirm-attempts times. A rejected answer is an empty
 * one: a failure without the invalid sound (play_and_collect).
 */
static void confirm_play(struct ivr_run *r)
{
	const struct ivr_menu *m = top(r)->m;
	char *src = NULL;

	r->st = R_CONFIRM;
	if (!re_sdprintf(&src, "phrase:%s:%s", m->confirm_macro, r->buf) && play(r, src)) {
		mem_deref(src);
		return;
	}
	mem_deref(src);
	confirm_wait(r);
}

static void confirm_timer(void *arg)
{
	struct ivr_run *r = arg;

	if (r->confirm_left > 1) {
		r->confirm_left--;
		confirm_play(r);
		return;
	}
	confirmed(r, false);
}

static void confirm_wait(struct ivr_run *r)
{
	tmr_start(&r->tmr, top(r)->m->timeout_ms, confirm_timer, r);
}

static void confirmed(struct ivr_run *r, bool yes)
{
	log_debug("%s: %s digits '%s' via confirm key %s\n", channel_name(r->ch),
		  yes ? "approving" : "rejecting", r->buf, top(r)->m->confirm_key);
	if (!yes) {
		r->n = 0;
		r->buf[0] = '\0';
	}
	decide(r);
}

/* An answer is in: a terminator, enough digits, or the timer. */
static void answer(struct ivr_run *r, bool timeout)
{
	const struct ivr_menu *m = top(r)->m;

	tmr_cancel(&r->tmr);
	r->buf[r->n] = '\0';
	if (timeout && !r->n) {
		top(r)->timeouts++;
		step(r);
		return;
	}
	if (r->n && m->confirm_macro && m->confirm_key) {
		r->confirm_left = m->confirm_attempts;
		confirm_play(r);
		return;
	}
	decide(r);
}

/* The top of FreeSWITCH's loop: limits, then the greeting and the answer. */
static void step(struct ivr_run *r)
{
	struct frame *f = top(r);
	const struct ivr_menu *m = f->m;
	const char *greeting;

	if (!channel_up(r->ch)) {
		finish(r);
		return;
	}
	if (f->errs >= m->max_failures || f->timeouts >= m->max_timeouts) {
		bool failed = f->errs >= m->max_failures;
		const char *app = failed ? m->exec_on_max_fail : m->exec_on_max_timeout;

		if (f->limit_hit) {
			leave(r);            /* back from its exec-on-max-* */
			return;
		}
		f->limit_hit = true;
		log_debug("%s: ivr menu %s: maximum %s\n", channel_name(r->ch), m->name,
			  failed ? "failures" : "timeouts");
		channel_var_set(r->ch, "ivr_menu_status", failed ? STATUS_FAILURE
				: STATUS_TIMEOUT);
		/* The status is set first: the application can read it. */
		if (app)
			exec_app(r, app, leave);
		else
			leave(r);
		return;
	}
	if (m->tts_engine && m->tts_voice) {
		channel_var_set(r->ch, "tts_engine", m->tts_engine);
		channel_var_set(r->ch, "tts_voice", m->tts_voice);
	}
	greeting = f->reps > 0 && m->greet_short ? m->greet_short : m->greet_long;
	f->reps++;
	r->n = 0;
	r->buf[0] = '\0';
	r->st = R_GREET;
	if (greeting && *greeting && channel_up(r->ch) &&
	    !dp_play(r->ch, greeting, greeted, r))
		r->playing = true;
	else
		greeted(0, r);
	take_queued(r);
}

/* A menu ends; the one that called it goes on, as a return does. */
static void leave(struct ivr_run *r)
{
	if (r->depth == 1) {
		finish(r);
		return;
	}
	r->depth--;
	step(r);
}

/* The menus end: the top menu's exit sound, then the application completes. */
static void finish(struct ivr_run *r)
{
	const struct ivr_menu *m = r->fr[0].m;

	tmr_cancel(&r->tmr);
	r->st = R_EXIT;
	if (m && play(r, m->exit_sound))
		return;
	done(r);
}

static void run_cancel(void *data)
{
	struct ivr_run *r = data;

	quiesce(r);
	mem_deref(r);
}

/* ivr <menu name> */
static int app_ivr(struct channel *ch, const char *args, struct app_exec *x)
{
	struct ivr_menus *ms = handoff ? handoff : ivr_current();
	struct ivr_run *r;
	int err;

	handoff = NULL;
	if (!args || !*args) {
		log_warn("%s: ivr: usage: <menu name>\n", channel_name(ch));
		return EINVAL;
	}
	if (!ivr_menu_find(ms, args)) {
		log_err("%s: ivr: " MSG_INVALID_MENU " (%s)\n", channel_name(ch), args);
		channel_var_set(ch, "ivr_menu_status", STATUS_FAILURE);
		return ENOENT;
	}
	r = mem_zalloc(sizeof(*r), run_destructor);
	if (!r)
		return ENOMEM;
	tmr_init(&r->tmr);
	r->x = x;
	r->ch = mem_ref(ch);
	r->ms = mem_ref(ms);
	err = channel_watch(&r->watch, ch, watch_h, r);
	if (err) {
		mem_deref(r);
		return err;
	}
	/* mod_dptools ivr_application_function pre-answers. */
	if (!channel_answered(ch))
		(void)channel_pre_answer(ch);
	app_exec_on_cancel(x, run_cancel, r);
	enter(r, args);
	return EINPROGRESS;
}

int ivr_menu_execute(struct channel *ch, struct ivr_menus *ms, const char *name,
		     app_done_h *donefn, void *arg)
{
	int err;

	if (!ms || !name)
		return EINVAL;
	handoff = ms;
	err = app_execute(ch, "ivr", name, NULL, donefn, arg);
	handoff = NULL;
	return err;
}

int apps_ivr_init(void)
{
	return app_register("ivr", "<menu_name>", app_ivr);
}
