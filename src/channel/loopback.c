/*
 * loopback.c - the loopback endpoint. The two legs share one pair object; what
 * happens to one (answer, hangup) is mirrored on the other. No audio crosses
 * yet: the legs have no media stream.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <re.h>
#include "channel/channel_int.h"
#include "channel/loopback.h"
#include "core/log.h"

struct pair {
	struct channel *a, *b;          /* references, dropped on hangup */
	struct channel_watch *wb;
};

static void pair_destructor(void *data)
{
	struct pair *p = data;

	mem_deref(p->wb);
}

/* The -a leg is outbound: "answering" it means the -b side answers. */
static int a_answer(struct channel *ch, void *arg)
{
	struct pair *p = arg;

	return p->b ? channel_answer(p->b) : ENOTCONN;
}

static void leg_hangup(struct channel *ch, enum hangup_cause cause, void *arg)
{
	struct pair *p = arg;
	struct channel *other = ch == p->a ? p->b : p->a;

	if (ch == p->a)
		p->a = NULL;
	else
		p->b = NULL;
	if (other && channel_up(other))
		channel_hangup(other, cause);
	mem_deref(ch);
	mem_deref(p);
}

static int b_answer(struct channel *ch, void *arg)
{
	(void)ch;
	(void)arg;
	return 0;
}

static const struct channel_ops a_ops = {
	.source = "mod_loopback",
	.answer = a_answer,
	.hangup = leg_hangup,
};

static const struct channel_ops b_ops = {
	.source = "mod_loopback",
	.answer = b_answer,
	.pre_answer = b_answer,
	.ring_ready = b_answer,
	.hangup = leg_hangup,
};

/* The -b leg's progress shows on the -a leg, as a ringing phone would. */
static void b_watch(struct channel *ch, enum channel_note note, const char *data,
		    void *arg)
{
	struct pair *p = arg;

	if (!p->a)
		return;
	if (note == CHANNEL_NOTE_ANSWER)
		channel_mark_answered(p->a);
	else if (note == CHANNEL_NOTE_PROGRESS)
		(data ? channel_mark_pre_answered : channel_mark_ringing)(p->a);
}

enum hangup_cause loopback_call(struct channel **chp, const char *target,
				void (*setup)(struct channel *ch, void *arg), void *setup_arg)
{
	char exten[128] = "", ctx[128] = "", dp[32] = "", name[160];
	struct caller_profile *ap, *bp;
	struct pair *p;
	int err;

	*chp = NULL;
	if (sscanf(target, "%127[^/]/%127[^/]/%31s", exten, ctx, dp) < 1 || !*exten)
		return CAUSE_INVALID_NUMBER_FORMAT;
	p = mem_zalloc(sizeof(*p), pair_destructor);
	if (!p)
		return CAUSE_CRASH;
	/* Each leg holds the pair and itself; its hangup lets go of both. */
	snprintf(name, sizeof(name), "loopback/%s-a", exten);
	err = channel_alloc(&p->a, &a_ops, p, CHANNEL_OUTBOUND, name, NULL);
	if (!err) {
		mem_ref(p);
		mem_ref(p->a);
		snprintf(name, sizeof(name), "loopback/%s-b", exten);
		err = channel_alloc(&p->b, &b_ops, p, CHANNEL_INBOUND, name, NULL);
	}
	if (err) {
		if (p->a)
			channel_hangup(p->a, CAUSE_CRASH);
		mem_deref(p);
		return CAUSE_CRASH;
	}
	mem_ref(p);
	mem_ref(p->b);
	ap = channel_profile(p->a);
	bp = channel_profile(p->b);
	channel_profile_set(&ap->destination_number, exten);
	if (setup)
		setup(p->a, setup_arg);
	channel_profile_set(&bp->destination_number, exten);
	channel_profile_set(&bp->caller_id_name, ap->caller_id_name);
	channel_profile_set(&bp->caller_id_number, ap->caller_id_number);
	channel_profile_set(&bp->context, *ctx ? ctx : "default");
	channel_profile_set(&bp->dialplan, *dp ? dp : "XML");
	channel_var_set(p->b, "destination_number", exten);
	channel_var_set(p->a, "other_loopback_leg_uuid", channel_uuid(p->b));
	channel_var_set(p->b, "other_loopback_leg_uuid", channel_uuid(p->a));
	channel_watch(&p->wb, p->b, b_watch, p);
	*chp = p->a;
	channel_start(p->a);
	channel_start(p->b);
	mem_deref(p);
	return CAUSE_NONE;
}
