/*
 * channel.h - a call leg: UUID, FreeSWITCH channel and call states, variables,
 * caller profile, hangup cause, and the channel events clients read
 * (spec/events.md 3). Endpoints (SIP, loopback, error) drive a channel through
 * the channel_mark_* calls and implement struct channel_ops.
 *
 * Signalling thread only. Channels are reference-counted (mem_ref/mem_deref);
 * the registry holds one reference from channel_alloc until CHANNEL_DESTROY.
 */
#ifndef CONFAB_CHANNEL_H
#define CONFAB_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "channel/cause.h"
#include "event/event.h"

struct channel;
struct media_stream;
struct mbuf;
struct vars_replay;

/* FreeSWITCH's switch_channel_state_t, in order (Channel-State-Number). */
enum channel_state {
	CS_NEW, CS_INIT, CS_ROUTING, CS_SOFT_EXECUTE, CS_EXECUTE, CS_EXCHANGE_MEDIA,
	CS_PARK, CS_CONSUME_MEDIA, CS_HIBERNATE, CS_RESET, CS_HANGUP, CS_REPORTING,
	CS_DESTROY, CS_NONE,
};

/* switch_channel_callstate_t (Channel-Call-State). */
enum callstate {
	CCS_DOWN, CCS_DIALING, CCS_RINGING, CCS_EARLY, CCS_ACTIVE, CCS_HELD,
	CCS_RING_WAIT, CCS_HANGUP, CCS_UNHELD,
};

enum channel_dir { CHANNEL_INBOUND, CHANNEL_OUTBOUND };

/* What an endpoint does for its channels; any hook may be NULL. */
struct channel_ops {
	const char *source;    /* Caller-Source, e.g. "mod_sofia" */
	int  (*pre_answer)(struct channel *ch, void *arg);     /* 183 + SDP */
	int  (*ring_ready)(struct channel *ch, void *arg);     /* 180 */
	int  (*answer)(struct channel *ch, void *arg);         /* 200 + SDP */
	/*
	 * End the leg's signalling (BYE, CANCEL or a final error response). Called
	 * once, from channel_hangup(); also when the far end hung up first, which
	 * the endpoint knows and then only cleans up.
	 */
	void (*hangup)(struct channel *ch, enum hangup_cause cause, void *arg);
	int  (*send_dtmf)(struct channel *ch, const char *digits, unsigned ms, void *arg);
	struct media_stream *(*media)(struct channel *ch, void *arg);
};

/* Caller profile (the Caller-* headers); strings owned by the channel. */
struct caller_profile {
	char *username, *dialplan, *caller_id_name, *caller_id_number;
	char *orig_caller_id_name, *orig_caller_id_number;
	char *callee_id_name, *callee_id_number;
	char *network_addr, *ani, *aniii, *destination_number, *context, *rdnis;
	char *transfer_source;
};

/*
 * Create a channel; the endpoint passes its ops and argument. `name` is the
 * Channel-Name ("sofia/internal/1000@127.0.0.1"). A NULL uuid makes a new one
 * (the endpoint's own). Fires nothing yet: the endpoint fills the caller
 * profile and variables, then calls channel_start().
 */
int  channel_alloc(struct channel **chp, const struct channel_ops *ops, void *arg,
		   enum channel_dir dir, const char *name, const char *uuid);
/* CHANNEL_CREATE, then CS_INIT; inbound channels go on to routing. */
void channel_start(struct channel *ch);

struct channel *channel_find(const char *uuid);    /* borrowed; NULL if gone */
size_t channel_count(void);
typedef void (channel_each_h)(struct channel *ch, void *arg);
void channel_foreach(channel_each_h *h, void *arg);   /* creation order */

const char *channel_uuid(const struct channel *ch);
const char *channel_name(const struct channel *ch);
void channel_set_name(struct channel *ch, const char *name);
/* Before channel_start() only (origination_uuid); EINVAL if taken or malformed. */
int  channel_set_uuid(struct channel *ch, const char *uuid);
enum channel_dir channel_dir(const struct channel *ch);
enum channel_state channel_state(const struct channel *ch);
enum callstate channel_callstate(const struct channel *ch);
const char *channel_state_name(enum channel_state st);
const char *callstate_name(enum callstate cs);
struct caller_profile *channel_profile(struct channel *ch);
void channel_profile_set(char **field, const char *value);
bool channel_answered(const struct channel *ch);
bool channel_up(const struct channel *ch);     /* not hanging up or gone */
enum hangup_cause channel_cause(const struct channel *ch);
void *channel_ep_arg(const struct channel *ch);   /* NULL after the hangup */
/* The endpoint's media stream, borrowed; NULL without one or after the hangup. */
struct media_stream *channel_media(struct channel *ch);
uint64_t channel_created_us(const struct channel *ch);

/* Variables, kept in insertion order; NULL or "" unsets. */
int  channel_var_set(struct channel *ch, const char *name, const char *value);
int  channel_var_setf(struct channel *ch, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *channel_var(const struct channel *ch, const char *name);
bool channel_var_true(const struct channel *ch, const char *name);
/* A variable, else the caller-profile field of that name ("ani", "destination_number"). */
const char *channel_var_lookup(const struct channel *ch, const char *name);
/* Every variable in insertion order; the handler must not change variables. */
typedef void (channel_var_h)(const char *name, const char *value, void *arg);
void channel_var_foreach(const struct channel *ch, channel_var_h *h, void *arg);
/* Expand ${var} (channel, then global), ${api(args)}, $${global}. mem_deref. */
int  channel_expand(struct channel *ch, const char *in, char **outp);
/* The same, waiting for commands that finish later (vars_expand_replay). */
int  channel_expand_replay(struct channel *ch, const char *in, struct vars_replay *r,
			   char **outp);

/* State changes reported by the endpoint; each fires its events. */
void channel_set_state(struct channel *ch, enum channel_state st);
void channel_mark_ringing(struct channel *ch);          /* CHANNEL_PROGRESS */
void channel_mark_pre_answered(struct channel *ch);     /* CHANNEL_PROGRESS_MEDIA */
void channel_mark_answered(struct channel *ch);         /* CHANNEL_ANSWER */
void channel_mark_hold(struct channel *ch, bool held);  /* CHANNEL_HOLD/UNHOLD */
void channel_set_codec(struct channel *ch, const char *name, unsigned rate);
void channel_dtmf_received(struct channel *ch, char digit, unsigned duration_ms,
			   const char *source);

/* Ask the endpoint to act (API commands, applications). */
int  channel_answer(struct channel *ch);
int  channel_pre_answer(struct channel *ch);
int  channel_ring_ready(struct channel *ch);
int  channel_send_dtmf(struct channel *ch, const char *digits, unsigned ms);

/*
 * Hang up with a cause: CHANNEL_HANGUP, the endpoint's hangup, then
 * CHANNEL_HANGUP_COMPLETE and CHANNEL_DESTROY. Idempotent.
 */
void channel_hangup(struct channel *ch, enum hangup_cause cause);

/* Events: common headers + this channel's data (spec/events.md 3.1-3.3). */
int  channel_event_alloc(struct channel *ch, enum event_id id, const char *subclass,
			 struct event **evp);
int  channel_event_add_data(struct channel *ch, struct event *ev);
/* The caller-profile block alone, with a prefix: "Caller", "Other-Leg", "Channel". */
void channel_event_add_profile(struct channel *ch, struct event *ev, const char *prefix);
void channel_fire(struct channel *ch, enum event_id id);

/*
 * Watchers (originate, bridge, applications) hear about answer, hangup and DTMF
 * without being endpoints. Free the watch with mem_deref.
 */
enum channel_note { CHANNEL_NOTE_PROGRESS, CHANNEL_NOTE_ANSWER, CHANNEL_NOTE_HANGUP,
		    CHANNEL_NOTE_DTMF,
		    CHANNEL_NOTE_TRANSFER };   /* before the channel is routed again */
typedef void (channel_watch_h)(struct channel *ch, enum channel_note note,
			       const char *data, void *arg);
struct channel_watch;
int  channel_watch(struct channel_watch **wp, struct channel *ch, channel_watch_h *h,
		   void *arg);

/*
 * Where inbound channels go after CS_ROUTING. Until the dialplan exists the
 * default parks them (CS_PARK, unanswered).
 */
typedef void (channel_router_h)(struct channel *ch, void *arg);
void channel_set_router(channel_router_h *h, void *arg);

/*
 * Send the channel to `exten` in `dialplan`/`context` (NULL: keep the current
 * ones): sets the caller profile and routes it again (uuid_transfer, originate
 * to an extension).
 */
void channel_transfer(struct channel *ch, const char *exten, const char *dialplan,
		      const char *context);

/*
 * transfer -both: the partner first, then `ch`; a bridge between the two ends
 * without hanging either up.
 */
void channel_transfer_both(struct channel *ch, struct channel *other, const char *exten,
			   const char *dialplan, const char *context);
/* The leg `ch` is bridged with (borrowed), NULL if none. */
struct channel *channel_partner(const struct channel *ch);

/*
 * A DTMF filter (bind_meta_app) sees each digit the channel's phone sends
 * (`to_phone` false) and each digit about to be sent to the phone (true)
 * before anything else; returning true swallows it (no DTMF event, no relay,
 * nothing sent). `arg` is a mem object the channel holds a reference to until
 * it is replaced or the channel is freed; NULL h removes the filter.
 */
typedef bool (channel_dtmf_filter_h)(struct channel *ch, char digit, bool to_phone,
				     void *arg);
void channel_set_dtmf_filter(struct channel *ch, channel_dtmf_filter_h *h, void *arg);
void *channel_dtmf_filter_arg(const struct channel *ch, channel_dtmf_filter_h *h);

/*
 * Type-ahead, as FreeSWITCH's per-channel DTMF queue: a digit the phone sends
 * that no watcher takes while it is told (CHANNEL_NOTE_DTMF) waits here for
 * the next reader (read, play_and_get_digits, ivr, getDigits). Digits the
 * filter swallows never arrive. A full queue keeps its oldest digits.
 */
#define CHANNEL_DTMF_QUEUE 128
/* Inside a CHANNEL_NOTE_DTMF watcher: this digit is consumed, do not queue it. */
void   channel_dtmf_take(struct channel *ch);
/* The oldest queued digit into *digit; false when none is queued. */
bool   channel_dtmf_pop(struct channel *ch, char *digit);
size_t channel_dtmf_pending(const struct channel *ch);
void   channel_dtmf_flush(struct channel *ch);

/* Outgoing endpoints for dial strings: "sofia/...", "user/...", "loopback/...". */
struct originate_leg;
/*
 * Start an outgoing call to `target` (the dial string part after "<prefix>/"),
 * allocating the channel with channel_alloc() and the leg's variables already
 * set by the caller through `setup` before channel_start(). Progress arrives as
 * channel_mark_*; failure as channel_hangup(cause). Returns a cause on
 * immediate failure (CAUSE_NONE on success) with *chp NULL.
 */
typedef enum hangup_cause (channel_ep_call_h)(struct channel **chp, const char *target,
					      void (*setup)(struct channel *ch, void *arg),
					      void *setup_arg);
int  channel_ep_register(const char *prefix, channel_ep_call_h *h);
void channel_ep_unregister(const char *prefix);
channel_ep_call_h *channel_ep_find(const char *dialstring, const char **targetp);

int  channel_init(void);
void channel_close(void);      /* hangs up everything (SYSTEM_SHUTDOWN) */

#endif
