/*
 * channel_event.c - the channel headers of FreeSWITCH's events: basic data,
 * the caller profile block, the other leg's block and the variable_* headers
 * (spec/events.md 3), added in FreeSWITCH's order.
 */
#include <stdio.h>
#include <string.h>
#include "channel/channel_int.h"
#include "event/bus.h"

/* Events that carry every channel variable (spec/events.md 3.3). */
static bool wants_vars(enum event_id id)
{
	switch (id) {
	case EVENT_CHANNEL_CREATE: case EVENT_CHANNEL_ORIGINATE: case EVENT_CHANNEL_UUID:
	case EVENT_CHANNEL_ANSWER: case EVENT_CHANNEL_PARK: case EVENT_CHANNEL_UNPARK:
	case EVENT_CHANNEL_BRIDGE: case EVENT_CHANNEL_UNBRIDGE: case EVENT_CHANNEL_PROGRESS:
	case EVENT_CHANNEL_PROGRESS_MEDIA: case EVENT_CHANNEL_HANGUP:
	case EVENT_CHANNEL_HANGUP_COMPLETE: case EVENT_REQUEST_PARAMS:
	case EVENT_CHANNEL_DATA: case EVENT_CHANNEL_EXECUTE:
	case EVENT_CHANNEL_EXECUTE_COMPLETE: case EVENT_CHANNEL_DESTROY:
	case EVENT_SESSION_HEARTBEAT: case EVENT_API: case EVENT_RECORD_START:
	case EVENT_RECORD_STOP: case EVENT_PLAYBACK_START: case EVENT_PLAYBACK_STOP:
	case EVENT_CALL_UPDATE: case EVENT_MEDIA_BUG_START: case EVENT_MEDIA_BUG_STOP:
	case EVENT_CHANNEL_HOLD: case EVENT_CHANNEL_UNHOLD: case EVENT_TEXT:
	case EVENT_CUSTOM:
		return true;
	default:
		return false;
	}
}

static void add_time(struct event *ev, const char *prefix, const char *name, uint64_t us)
{
	char h[96];

	snprintf(h, sizeof(h), "%s-%s", prefix, name);
	event_add_headerf(ev, h, "%llu", (unsigned long long)us);
}

static void add_str(struct event *ev, const char *prefix, const char *name, const char *v)
{
	char h[96];

	snprintf(h, sizeof(h), "%s-%s", prefix, name);
	event_add_header(ev, h, v);
}

/* The caller profile block (spec/events.md 3.2); empty values are left out. */
void channel_event_add_profile(struct channel *ch, struct event *ev, const char *prefix)
{
	const struct caller_profile *p = &ch->profile;
	const char *dir = ch->dir == CHANNEL_INBOUND ? "inbound" : "outbound";
	char idx[16];

	add_str(ev, prefix, "Direction", dir);
	add_str(ev, prefix, "Logical-Direction", dir);
	add_str(ev, prefix, "Username", p->username);
	add_str(ev, prefix, "Dialplan", p->dialplan);
	add_str(ev, prefix, "Caller-ID-Name", p->caller_id_name);
	add_str(ev, prefix, "Caller-ID-Number", p->caller_id_number);
	add_str(ev, prefix, "Orig-Caller-ID-Name", p->orig_caller_id_name);
	add_str(ev, prefix, "Orig-Caller-ID-Number", p->orig_caller_id_number);
	add_str(ev, prefix, "Callee-ID-Name", p->callee_id_name);
	add_str(ev, prefix, "Callee-ID-Number", p->callee_id_number);
	add_str(ev, prefix, "Network-Addr", p->network_addr);
	add_str(ev, prefix, "ANI", p->ani);
	add_str(ev, prefix, "ANI-II", p->aniii);
	add_str(ev, prefix, "Destination-Number", p->destination_number);
	add_str(ev, prefix, "Unique-ID", ch->uuid);
	add_str(ev, prefix, "Source", ch->ops->source);
	add_str(ev, prefix, "Transfer-Source", p->transfer_source);
	add_str(ev, prefix, "Context", p->context);
	add_str(ev, prefix, "RDNIS", p->rdnis);
	add_str(ev, prefix, "Channel-Name", ch->name);
	snprintf(idx, sizeof(idx), "%u", ch->profile_index);
	add_str(ev, prefix, "Profile-Index", idx);
	add_time(ev, prefix, "Profile-Created-Time", ch->created_us);
	add_time(ev, prefix, "Channel-Created-Time", ch->created_us);
	add_time(ev, prefix, "Channel-Answered-Time", ch->answered_us);
	add_time(ev, prefix, "Channel-Progress-Time", ch->progress_us);
	add_time(ev, prefix, "Channel-Progress-Media-Time", ch->progress_media_us);
	add_time(ev, prefix, "Channel-Hangup-Time", ch->hangup_us);
	add_time(ev, prefix, "Channel-Transfer-Time", ch->transfer_us);
	add_time(ev, prefix, "Channel-Resurrect-Time", 0);
	add_time(ev, prefix, "Channel-Bridged-Time", ch->bridged_us);
	add_time(ev, prefix, "Channel-Last-Hold", ch->last_hold_us);
	add_time(ev, prefix, "Channel-Hold-Accum", ch->hold_accum_us);
	add_str(ev, prefix, "Screen-Bit", "true");
	add_str(ev, prefix, "Privacy-Hide-Name", "false");
	add_str(ev, prefix, "Privacy-Hide-Number", "false");
}

static const char *answer_state(const struct channel *ch)
{
	if (ch->hanging)
		return "hangup";
	if (ch->answered_us)
		return "answered";
	if (ch->progress_media_us)
		return "early";
	return "ringing";
}

int channel_event_add_data(struct channel *ch, struct event *ev)
{
	const char *dir = ch->dir == CHANNEL_INBOUND ? "inbound" : "outbound";
	const char *call_uuid = channel_var(ch, "call_uuid");
	struct channel *other;
	size_t i;

	event_add_header(ev, "Channel-State", channel_state_name(ch->state));
	event_add_header(ev, "Channel-Call-State", callstate_name(ch->callstate));
	event_add_headerf(ev, "Channel-State-Number", "%d", (int)ch->state);
	event_add_header(ev, "Channel-Name", ch->name);
	event_add_header(ev, "Unique-ID", ch->uuid);
	event_add_header(ev, "Call-Direction", dir);
	event_add_header(ev, "Presence-Call-Direction", dir);
	event_add_header(ev, "Channel-HIT-Dialplan",
			 ch->dir == CHANNEL_INBOUND ? "true" : "false");
	event_add_header(ev, "Channel-Presence-ID", channel_var(ch, "presence_id"));
	event_add_header(ev, "Channel-Presence-Data", channel_var(ch, "presence_data"));
	event_add_header(ev, "Channel-Call-UUID", call_uuid ? call_uuid : ch->uuid);
	event_add_header(ev, "Answer-State", answer_state(ch));
	if (ch->hanging)
		event_add_header(ev, "Hangup-Cause", cause_name(ch->cause));
	if (ch->read_codec) {
		event_add_header(ev, "Channel-Read-Codec-Name", ch->read_codec);
		event_add_headerf(ev, "Channel-Read-Codec-Rate", "%u", ch->codec_rate);
		event_add_header(ev, "Channel-Read-Codec-Bit-Rate", "64000");
		event_add_header(ev, "Channel-Write-Codec-Name", ch->read_codec);
		event_add_headerf(ev, "Channel-Write-Codec-Rate", "%u", ch->codec_rate);
		event_add_header(ev, "Channel-Write-Codec-Bit-Rate", "64000");
	}
	channel_event_add_profile(ch, ev, "Caller");
	other = ch->other_uuid ? channel_find(ch->other_uuid) : NULL;
	if (other) {
		/* The other leg's role: on the originator's events it is the originatee. */
		event_add_header(ev, "Other-Type", ch->originator ? "originatee" : "originator");
		channel_event_add_profile(other, ev, "Other-Leg");
	}
	if (!wants_vars(event_get_id(ev)))
		return 0;
	for (i = 0; i < ch->nvars; i++) {
		char h[300];

		snprintf(h, sizeof(h), "variable_%s", ch->vars[i].name);
		event_add_header(ev, h, ch->vars[i].value);
	}
	return 0;
}

int channel_event_alloc(struct channel *ch, enum event_id id, const char *subclass,
			struct event **evp)
{
	struct event *ev;
	int err = event_alloc(&ev, id, subclass);

	if (err)
		return err;
	channel_event_add_data(ch, ev);
	*evp = ev;
	return 0;
}

void channel_fire(struct channel *ch, enum event_id id)
{
	struct event *ev;

	if (!channel_event_alloc(ch, id, NULL, &ev))
		bus_fire(ev);
}
