/*
 * bridge.c - links two channels' media, relays DTMF from one to the other, and
 * ends when either leg hangs up, firing FreeSWITCH's bridge events.
 */
#include <errno.h>
#include <string.h>
#include <re.h>
#include "channel/bridge.h"
#include "channel/channel_int.h"
#include "core/log.h"
#include "event/bus.h"
#include "media/media.h"

struct bridge {
	struct channel *a, *b;
	struct channel_watch *wa, *wb;
	bridge_end_h *endh;
	void *arg;
	bool ended;
};

static void fire_bridge(struct bridge *br, enum event_id id)
{
	struct event *ev;

	if (channel_event_alloc(br->a, id, NULL, &ev))
		return;
	event_add_header(ev, "Bridge-A-Unique-ID", channel_uuid(br->a));
	event_add_header(ev, "Bridge-B-Unique-ID", channel_uuid(br->b));
	bus_fire(ev);
}

/* Undo the link; returns false if it was already undone. */
static bool unbridge(struct bridge *br)
{
	struct media_stream *ma, *mb;

	if (br->ended)
		return false;
	br->ended = true;
	br->wa = mem_deref(br->wa);
	br->wb = mem_deref(br->wb);
	ma = channel_media(br->a);
	mb = channel_media(br->b);
	if (ma)
		media_stream_unlink(ma);
	if (mb)
		media_stream_unlink(mb);
	fire_bridge(br, EVENT_CHANNEL_UNBRIDGE);
	channel_set_other(br->a, NULL, false);
	channel_set_other(br->b, NULL, false);
	return true;
}

static void bridge_destructor(void *data)
{
	struct bridge *br = data;

	unbridge(br);
	mem_deref(br->a);
	mem_deref(br->b);
}

static void watch_h(struct channel *ch, enum channel_note note, const char *data,
		    void *arg)
{
	struct bridge *br = arg;
	struct channel *other;

	if (note == CHANNEL_NOTE_DTMF) {
		/* In-band relay: what one side dials, the other side hears as DTMF. */
		other = ch == br->a ? br->b : br->a;
		channel_dtmf_take(ch);
		channel_send_dtmf(other, data, 100);
		return;
	}
	if (note != CHANNEL_NOTE_HANGUP && note != CHANNEL_NOTE_TRANSFER)
		return;
	other = ch == br->a ? br->b : br->a;
	/*
	 * A leg transferred away leaves the bridge as if it had hung up; the other
	 * leg stays when it is about to be transferred too (transfer -both).
	 */
	if (note == CHANNEL_NOTE_TRANSFER && other->xfer_pending)
		other = NULL;
	mem_ref(br);
	if (unbridge(br) && br->endh)
		br->endh(ch, other, note == CHANNEL_NOTE_TRANSFER ? CAUSE_NORMAL_CLEARING :
			 channel_cause(ch), br->arg);
	mem_deref(br);
}

struct channel *bridge_other(const struct bridge *br, const struct channel *ch)
{
	if (ch == br->a)
		return br->b;
	return ch == br->b ? br->a : NULL;
}

/* Typed ahead before the bridge: the other side hears it, as the bridge loop relays. */
static void relay_queued(struct channel *from, struct channel *to)
{
	char buf[CHANNEL_DTMF_QUEUE + 1];
	size_t n = 0;

	while (n < CHANNEL_DTMF_QUEUE && channel_dtmf_pop(from, &buf[n]))
		n++;
	buf[n] = '\0';
	if (n)
		channel_send_dtmf(to, buf, 100);
}

int channel_bridge(struct bridge **bp, struct channel *a, struct channel *b,
		   bridge_end_h *endh, void *arg)
{
	struct media_stream *ma, *mb;
	struct bridge *br;
	uint64_t now = channel_now_us();
	int err;

	if (!bp || !a || !b || a == b)
		return EINVAL;
	if (!channel_up(a) || !channel_up(b))
		return ENOTCONN;
	br = mem_zalloc(sizeof(*br), bridge_destructor);
	if (!br)
		return ENOMEM;
	br->a = mem_ref(a);
	br->b = mem_ref(b);
	br->endh = endh;
	br->arg = arg;
	err = channel_watch(&br->wa, a, watch_h, br);
	err |= channel_watch(&br->wb, b, watch_h, br);
	if (!err && !channel_answered(a))
		err = channel_answer(a);
	if (!err && !channel_answered(b))
		err = channel_answer(b);
	ma = channel_media(a);
	mb = channel_media(b);
	if (!err && ma && mb)
		err = media_stream_link(ma, mb);
	if (err) {
		br->ended = true;
		mem_deref(br);
		return err;
	}
	channel_set_other(a, channel_uuid(b), true);
	channel_set_other(b, channel_uuid(a), false);
	channel_var_set(a, "bridge_uuid", channel_uuid(b));
	channel_var_set(b, "bridge_uuid", channel_uuid(a));
	channel_var_set(a, "signal_bond", channel_uuid(b));
	channel_var_set(b, "signal_bond", channel_uuid(a));
	channel_var_set(a, "last_bridge_to", channel_uuid(b));
	a->bridged_us = b->bridged_us = now;
	channel_set_state(a, CS_EXCHANGE_MEDIA);
	channel_set_state(b, CS_EXCHANGE_MEDIA);
	fire_bridge(br, EVENT_CHANNEL_BRIDGE);
	relay_queued(a, b);
	relay_queued(b, a);
	log_info("bridged %s and %s\n", channel_name(a), channel_name(b));
	*bp = br;
	return 0;
}
