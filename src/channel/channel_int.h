/*
 * channel_int.h - the channel object's layout and the calls the channel
 * subsystem's own files (events, originate, bridge, API) share.
 */
#ifndef CONFAB_CHANNEL_INT_H
#define CONFAB_CHANNEL_INT_H

#include <re.h>
#include "channel/channel.h"
#include "core/uuid.h"

struct channel_var {
	char *name;
	char *value;
};

struct channel {
	struct le le;                /* registry list */
	struct le hle;               /* registry hash */
	char uuid[UUID_STRLEN + 1];
	char *name;
	const struct channel_ops *ops;
	void *arg;
	enum channel_dir dir;
	enum channel_state state;
	enum callstate callstate;
	enum hangup_cause cause;
	bool hanging;
	bool ep_gone;                /* the endpoint's hangup ran: ops and arg unusable */
	bool held;
	struct caller_profile profile;
	unsigned profile_index;
	struct channel_var *vars;
	size_t nvars, cap;
	struct list watches;
	char *other_uuid;            /* bridged or originated peer */
	bool originator;
	bool xfer_pending;           /* transfer -both: moves next, keep it up */
	channel_dtmf_filter_h *dtmf_filter;
	void *dtmf_filter_arg;
	char dtmfq[CHANNEL_DTMF_QUEUE + 1];  /* type-ahead, oldest first */
	size_t dtmfq_n;
	bool dtmfq_full_logged;      /* overflow said once until the queue empties */
	bool dtmf_taken;             /* a watcher consumed the digit being told */
	char *read_codec;
	unsigned codec_rate;
	uint64_t created_us, answered_us, progress_us, progress_media_us, hangup_us;
	uint64_t transfer_us, bridged_us, last_hold_us, hold_accum_us;
};

uint64_t channel_now_us(void);
void channel_notify(struct channel *ch, enum channel_note note, const char *data);
void channel_set_callstate(struct channel *ch, enum callstate cs);
void channel_park(struct channel *ch);
void channel_set_other(struct channel *ch, const char *uuid, bool originator);
/* channel_dtmf.c: a received digit nobody took goes to the queue. */
void channel_dtmf_queue(struct channel *ch, char digit);

#endif
