/*
 * originate.h - placing calls from a dial string: legs of a group ring at once
 * (first answer wins, the rest get LOSE_RACE), groups are tried in order, the
 * whole attempt is bounded by originate_timeout. Signalling thread only.
 */
#ifndef CONFAB_ORIGINATE_H
#define CONFAB_ORIGINATE_H

#include "channel/channel.h"

struct originate;

struct originate_opts {
	unsigned timeout_s;          /* 0: originate_timeout from the dial string, or 60 */
	const char *cid_name;        /* caller ID for the new legs, may be NULL */
	const char *cid_num;
	struct channel *aleg;        /* the caller, if any: its hangup cancels */
};

/*
 * Called once: SUCCESS with the answered leg (the caller takes it from there),
 * or the failure cause with leg NULL.
 */
typedef void (originate_done_h)(enum hangup_cause cause, struct channel *leg, void *arg);

/*
 * Start. A malformed dial string fails at once (EINVAL). Freeing the originate
 * with mem_deref before it finished hangs up its legs (ORIGINATOR_CANCEL) and
 * calls nothing.
 */
int originate_start(struct originate **op, const char *dialstring,
		    const struct originate_opts *opts, originate_done_h *doneh, void *arg);

/* The error/<cause> endpoint, registered by channel_init's caller. */
channel_ep_call_h originate_error_ep;

#endif
