/*
 * bridge.h - two channels exchanging audio and DTMF until one of them hangs up
 * (CHANNEL_BRIDGE / CHANNEL_UNBRIDGE). Signalling thread only.
 */
#ifndef CONFAB_BRIDGE_H
#define CONFAB_BRIDGE_H

#include "channel/channel.h"

struct bridge;

/*
 * Called once when the bridge ends: `gone` is the leg that hung up or was
 * transferred away, `other` the leg left over, which the caller hangs up or
 * keeps (hangup_after_bridge); NULL when it is being transferred as well.
 */
typedef void (bridge_end_h)(struct channel *gone, struct channel *other,
			    enum hangup_cause cause, void *arg);

/* The leg bridged with `ch` (borrowed), NULL if ch is in neither place. */
struct channel *bridge_other(const struct bridge *br, const struct channel *ch);

/* Answers whichever leg is not answered yet. Free with mem_deref to unbridge. */
int channel_bridge(struct bridge **bp, struct channel *a, struct channel *b,
		   bridge_end_h *endh, void *arg);

#endif
