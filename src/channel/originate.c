/*
 * originate.c - runs a dial string: creates the legs of one group through their
 * endpoints, watches them, picks the first to answer, falls back to the next
 * group when all fail, and enforces originate_timeout and leg_timeout.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "channel/channel_int.h"
#include "channel/dialstring.h"
#include "channel/originate.h"
#include "core/log.h"
#include "event/bus.h"

struct leg {
	struct originate *o;
	const struct dial_leg *dl;
	struct channel *ch;
	struct channel_watch *watch;
	struct tmr timeout;
	bool done;
};

struct originate {
	struct dialstring *ds;
	struct originate_opts opts;
	char *cid_name, *cid_num;
	size_t group;
	struct leg *legs;
	size_t nlegs, pending;
	enum hangup_cause last_cause;
	struct tmr timer;
	struct channel_watch *aleg_watch;
	originate_done_h *doneh;
	void *arg;
	bool finished;
};

static void start_group(struct originate *o);

static void release_legs(struct originate *o, enum hangup_cause cause)
{
	size_t i;

	for (i = 0; i < o->nlegs; i++) {
		struct leg *l = &o->legs[i];

		tmr_cancel(&l->timeout);
		l->watch = mem_deref(l->watch);
		if (l->ch && !l->done)
			channel_hangup(l->ch, cause);
		l->ch = mem_deref(l->ch);
	}
	free(o->legs);
	o->legs = NULL;
	o->nlegs = o->pending = 0;
}

static void originate_destructor(void *data)
{
	struct originate *o = data;

	tmr_cancel(&o->timer);
	o->aleg_watch = mem_deref(o->aleg_watch);
	release_legs(o, CAUSE_ORIGINATOR_CANCEL);
	mem_deref(o->ds);
	mem_deref(o->cid_name);
	mem_deref(o->cid_num);
}

static void finish(struct originate *o, enum hangup_cause cause, struct channel *winner)
{
	if (o->finished)
		return;
	o->finished = true;
	tmr_cancel(&o->timer);
	o->aleg_watch = mem_deref(o->aleg_watch);
	if (winner) {
		size_t i;

		/* Keep the winner; everybody else lost the race. */
		for (i = 0; i < o->nlegs; i++) {
			if (o->legs[i].ch == winner)
				o->legs[i].done = true;
		}
		mem_ref(winner);
		release_legs(o, CAUSE_LOSE_RACE);
	} else {
		release_legs(o, cause);
	}
	o->doneh(cause, winner, o->arg);
	mem_deref(winner);
}

static void leg_failed(struct leg *l, enum hangup_cause cause)
{
	struct originate *o = l->o;

	if (l->done)
		return;
	l->done = true;
	tmr_cancel(&l->timeout);
	o->last_cause = cause;
	if (--o->pending)
		return;
	/* The whole group failed: next group, or give up. */
	if (++o->group < o->ds->ngroups) {
		release_legs(o, cause);
		start_group(o);
		return;
	}
	finish(o, cause, NULL);
}

static void leg_watch(struct channel *ch, enum channel_note note, const char *data,
		      void *arg)
{
	struct leg *l = arg;

	(void)data;
	if (note == CHANNEL_NOTE_ANSWER)
		finish(l->o, CAUSE_SUCCESS, ch);
	else if (note == CHANNEL_NOTE_HANGUP)
		leg_failed(l, channel_cause(ch));
}

static void leg_timeout(void *arg)
{
	struct leg *l = arg;

	if (l->ch && !l->done)
		channel_hangup(l->ch, CAUSE_NO_ANSWER);
}

/*
 * The caller's `export`ed variables go to every leg it dials: export_vars lists
 * their names, comma-separated, possibly with a nolocal: prefix.
 */
static void inherit_exports(struct channel *ch, struct channel *aleg)
{
	const char *list = channel_var(aleg, "export_vars");
	char *copy = NULL, *name, *save = NULL;

	if (!list || str_dup(&copy, list))
		return;
	/* A nolocal: variable is kept on the caller under its prefixed name. */
	for (name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		const char *v = channel_var(aleg, name), *bare = name;

		if (!strncasecmp(name, "nolocal:", 8))
			bare += 8;
		else if (!strncasecmp(name, "_nolocal_", 9))
			bare += 9;
		channel_var_set(ch, bare, v);
	}
	mem_deref(copy);
}

/* Runs inside the endpoint, before the new channel fires anything. */
static void leg_setup(struct channel *ch, void *arg)
{
	struct leg *l = arg;
	struct originate *o = l->o;
	struct caller_profile *p = channel_profile(ch);
	const char *name = dial_leg_var(l->dl, "origination_caller_id_name");
	const char *num = dial_leg_var(l->dl, "origination_caller_id_number");
	const char *uuid = dial_leg_var(l->dl, "origination_uuid");
	size_t i;

	if (uuid && channel_set_uuid(ch, uuid))
		log_warn("originate: origination_uuid '%s' is taken or malformed\n", uuid);
	if (o->opts.aleg)
		inherit_exports(ch, o->opts.aleg);
	for (i = 0; i < l->dl->nvars; i++)
		channel_var_set(ch, l->dl->vars[i].name, l->dl->vars[i].value);
	channel_profile_set(&p->caller_id_name, name ? name : o->cid_name);
	channel_profile_set(&p->caller_id_number, num ? num : o->cid_num);
	channel_profile_set(&p->orig_caller_id_name, p->caller_id_name);
	channel_profile_set(&p->orig_caller_id_number, p->caller_id_number);
	if (o->opts.aleg) {
		channel_set_other(ch, channel_uuid(o->opts.aleg), false);
		channel_var_set(ch, "originator", channel_uuid(o->opts.aleg));
	}
}

static void start_leg(struct originate *o, struct leg *l)
{
	const char *target = NULL;
	channel_ep_call_h *ep = channel_ep_find(l->dl->target, &target);
	const char *lt = dial_leg_var(l->dl, "leg_timeout");
	enum hangup_cause cause;
	struct channel *ch = NULL;

	if (!ep) {
		log_warn("originate: no endpoint for '%s'\n", l->dl->target);
		leg_failed(l, CAUSE_CHAN_NOT_IMPLEMENTED);
		return;
	}
	cause = ep(&ch, target, leg_setup, l);
	if (!ch) {
		leg_failed(l, cause == CAUSE_NONE ? CAUSE_DESTINATION_OUT_OF_ORDER : cause);
		return;
	}
	l->ch = mem_ref(ch);
	if (channel_watch(&l->watch, ch, leg_watch, l)) {
		channel_hangup(ch, CAUSE_CRASH);
		leg_failed(l, CAUSE_CRASH);
		return;
	}
	channel_fire(ch, EVENT_CHANNEL_ORIGINATE);
	if (lt && atoi(lt) > 0)
		tmr_start(&l->timeout, (uint64_t)atoi(lt) * 1000, leg_timeout, l);
	/* An endpoint may have failed or answered inside the call already. */
	if (!channel_up(ch))
		leg_failed(l, channel_cause(ch));
	else if (channel_answered(ch))
		finish(o, CAUSE_SUCCESS, ch);
}

static void start_group(struct originate *o)
{
	const struct dial_group *g = &o->ds->groups[o->group];
	size_t i;

	o->legs = calloc(g->nlegs, sizeof(*o->legs));
	if (!o->legs) {
		finish(o, CAUSE_CRASH, NULL);
		return;
	}
	o->nlegs = o->pending = g->nlegs;
	for (i = 0; i < g->nlegs; i++) {
		o->legs[i].o = o;
		o->legs[i].dl = &g->legs[i];
		tmr_init(&o->legs[i].timeout);
	}
	mem_ref(o);
	for (i = 0; i < g->nlegs && !o->finished && o->legs; i++)
		start_leg(o, &o->legs[i]);
	mem_deref(o);
}

static void on_timeout(void *arg)
{
	struct originate *o = arg;

	log_info("originate: no answer within %u s\n", o->opts.timeout_s);
	finish(o, CAUSE_NO_ANSWER, NULL);
}

static void aleg_watch(struct channel *ch, enum channel_note note, const char *data,
		       void *arg)
{
	(void)ch;
	(void)data;
	if (note == CHANNEL_NOTE_HANGUP)
		finish(arg, CAUSE_ORIGINATOR_CANCEL, NULL);
}

int originate_start(struct originate **op, const char *dialstring,
		    const struct originate_opts *opts, originate_done_h *doneh, void *arg)
{
	struct originate *o;
	const char *t;
	int err;

	if (!op || !dialstring || !doneh)
		return EINVAL;
	o = mem_zalloc(sizeof(*o), originate_destructor);
	if (!o)
		return ENOMEM;
	tmr_init(&o->timer);
	o->doneh = doneh;
	o->arg = arg;
	if (opts)
		o->opts = *opts;
	err = dialstring_parse(&o->ds, dialstring);
	if (!err && o->opts.cid_name)
		err = str_dup(&o->cid_name, o->opts.cid_name);
	if (!err && o->opts.cid_num)
		err = str_dup(&o->cid_num, o->opts.cid_num);
	if (!err && o->opts.aleg)
		err = channel_watch(&o->aleg_watch, o->opts.aleg, aleg_watch, o);
	if (err) {
		mem_deref(o);
		return err;
	}
	t = dial_leg_var(&o->ds->groups[0].legs[0], "originate_timeout");
	if (!o->opts.timeout_s)
		o->opts.timeout_s = t && atoi(t) > 0 ? (unsigned)atoi(t) : 60;
	tmr_start(&o->timer, o->opts.timeout_s * 1000ull, on_timeout, o);
	*op = o;
	start_group(o);
	return 0;
}

enum hangup_cause originate_error_ep(struct channel **chp, const char *target,
				     void (*setup)(struct channel *ch, void *arg),
				     void *setup_arg)
{
	enum hangup_cause cause;

	(void)setup;
	(void)setup_arg;
	*chp = NULL;
	/* spec/core.md 1: an unknown cause name is DESTINATION_OUT_OF_ORDER. */
	if (cause_parse(target, &cause))
		cause = CAUSE_DESTINATION_OUT_OF_ORDER;
	return cause;
}
