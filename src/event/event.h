/*
 * event.h - the event object: an id, an ordered list of headers and a body, with
 * FreeSWITCH's common headers and its plain, JSON and XML serialisations
 * (spec/events.md, reference/freeswitch/esl-transcripts.txt).
 *
 * An event is built by one thread, then fired (bus.h) and from then on immutable
 * and shared: references are counted atomically and serialisations are cached.
 */
#ifndef CONFAB_EVENT_H
#define CONFAB_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mbuf;

/* FreeSWITCH's switch_event_types_t, in its order (spec/events.md 1.1). */
#define EVENT_IDS(X) \
	X(CUSTOM) X(CLONE) X(CHANNEL_CREATE) X(CHANNEL_DESTROY) X(CHANNEL_STATE) \
	X(CHANNEL_CALLSTATE) X(CHANNEL_ANSWER) X(CHANNEL_HANGUP) \
	X(CHANNEL_HANGUP_COMPLETE) X(CHANNEL_EXECUTE) X(CHANNEL_EXECUTE_COMPLETE) \
	X(CHANNEL_HOLD) X(CHANNEL_UNHOLD) X(CHANNEL_BRIDGE) X(CHANNEL_UNBRIDGE) \
	X(CHANNEL_PROGRESS) X(CHANNEL_PROGRESS_MEDIA) X(CHANNEL_OUTGOING) \
	X(CHANNEL_PARK) X(CHANNEL_UNPARK) X(CHANNEL_APPLICATION) \
	X(CHANNEL_ORIGINATE) X(CHANNEL_UUID) X(API) X(LOG) X(INBOUND_CHAN) \
	X(OUTBOUND_CHAN) X(STARTUP) X(SHUTDOWN) X(PUBLISH) X(UNPUBLISH) X(TALK) \
	X(NOTALK) X(SESSION_CRASH) X(MODULE_LOAD) X(MODULE_UNLOAD) X(DTMF) \
	X(MESSAGE) X(PRESENCE_IN) X(NOTIFY_IN) X(PRESENCE_OUT) X(PRESENCE_PROBE) \
	X(MESSAGE_WAITING) X(MESSAGE_QUERY) X(ROSTER) X(CODEC) X(BACKGROUND_JOB) \
	X(DETECTED_SPEECH) X(DETECTED_TONE) X(PRIVATE_COMMAND) X(HEARTBEAT) \
	X(TRAP) X(ADD_SCHEDULE) X(DEL_SCHEDULE) X(EXE_SCHEDULE) X(RE_SCHEDULE) \
	X(RELOADXML) X(NOTIFY) X(PHONE_FEATURE) X(PHONE_FEATURE_SUBSCRIBE) \
	X(SEND_MESSAGE) X(RECV_MESSAGE) X(REQUEST_PARAMS) X(CHANNEL_DATA) \
	X(GENERAL) X(COMMAND) X(SESSION_HEARTBEAT) X(CLIENT_DISCONNECTED) \
	X(SERVER_DISCONNECTED) X(SEND_INFO) X(RECV_INFO) X(RECV_RTCP_MESSAGE) \
	X(SEND_RTCP_MESSAGE) X(CALL_SECURE) X(NAT) X(RECORD_START) X(RECORD_STOP) \
	X(PLAYBACK_START) X(PLAYBACK_STOP) X(CALL_UPDATE) X(FAILURE) \
	X(SOCKET_DATA) X(MEDIA_BUG_START) X(MEDIA_BUG_STOP) \
	X(CONFERENCE_DATA_QUERY) X(CONFERENCE_DATA) X(CALL_SETUP_REQ) \
	X(CALL_SETUP_RESULT) X(CALL_DETAIL) X(DEVICE_STATE) X(TEXT) \
	X(SHUTDOWN_REQUESTED) X(CERT_RELOAD) X(ALL)

#define EVENT_ENUM_(n) EVENT_##n,
enum event_id { EVENT_IDS(EVENT_ENUM_) EVENT_ID_COUNT };
#undef EVENT_ENUM_

enum event_format { EVENT_FMT_PLAIN = 0, EVENT_FMT_JSON, EVENT_FMT_XML, EVENT_FMT_COUNT };

struct event;

/* Process identity used in every event's common headers. Call before any event. */
struct event_identity {
	const char *core_uuid;
	const char *hostname;
	const char *switchname;
	const char *ipv4;
	const char *ipv6;
};
int  event_identity_set(const struct event_identity *id);
const char *event_core_uuid(void);

/*
 * Create an event with the common headers (spec/events.md 2). For CUSTOM the
 * subclass becomes the first header, as the real FreeSWITCH sends it
 * (reference/freeswitch/observed.md 1). A subclass on any other id is EINVAL.
 */
int  event_alloc_at(struct event **evp, enum event_id id, const char *subclass,
		    const char *file, const char *func, unsigned line);
#define event_alloc(evp, id, subclass) \
	event_alloc_at((evp), (id), (subclass), __FILE__, __func__, __LINE__)

/* An event without common headers (parsed client input; add them later). */
int  event_alloc_bare(struct event **evp, enum event_id id);
int  event_add_common_at(struct event *ev, const char *file, const char *func,
			 unsigned line);
#define event_add_common(ev) event_add_common_at((ev), __FILE__, __func__, __LINE__)

/*
 * A new, unfired event with ev's id, subclass, sequence, headers (in order) and
 * body; ev may be fired (it is only read). How a fired event is changed or
 * fired again.
 */
int  event_dup(struct event **dupp, const struct event *ev);

struct event *event_ref(struct event *ev);
/* Drops one reference; always returns NULL so callers can write p = event_deref(p). */
struct event *event_deref(struct event *ev);

/*
 * Headers are appended in order; duplicates are kept. A NULL or empty value adds
 * nothing (FreeSWITCH never sends an empty header). Before firing only.
 */
int  event_add_header(struct event *ev, const char *name, const char *value);
int  event_add_headerf(struct event *ev, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int  event_add_header_len(struct event *ev, const char *name, size_t nlen,
			  const char *value, size_t vlen);
/* Insert before every other header (FreeSWITCH's SWITCH_STACK_TOP); same rules. */
int  event_add_header_top(struct event *ev, const char *name, const char *value);
/* Replace the first header of that name, or append it. */
int  event_set_header(struct event *ev, const char *name, const char *value);
/* Remove every header of that name. Returns the number removed. */
unsigned event_del_header(struct event *ev, const char *name);
int  event_set_body(struct event *ev, const char *body, size_t len);
int  event_set_subclass(struct event *ev, const char *subclass);
void event_set_id(struct event *ev, enum event_id id);

/* Readers. Header names match case-insensitively; the first match wins. */
const char *event_header(const struct event *ev, const char *name);
size_t event_header_count(const struct event *ev);
void event_header_at(const struct event *ev, size_t i, const char **namep,
		     const char **valuep);
enum event_id event_get_id(const struct event *ev);
const char *event_get_subclass(const struct event *ev);
const char *event_get_body(const struct event *ev);   /* NULL when none */
size_t event_body_len(const struct event *ev);
uint64_t event_sequence(const struct event *ev);

/* Names. Lookup is case-insensitive and accepts a SWITCH_EVENT_ prefix. */
const char *event_name(enum event_id id);
int  event_id_parse(const char *name, enum event_id *idp);
int  event_format_parse(const char *s, enum event_format *fmtp);
const char *event_format_name(enum event_format fmt);   /* "plain" ... */

/* Serialise into `mb`, exactly as the event socket sends it. */
int  event_serialize(const struct event *ev, enum event_format fmt, struct mbuf *mb);

/*
 * The cached serialisation of a fired (immutable) event; built once per format,
 * shared by every subscriber, freed with the event. Thread-safe.
 */
const char *event_serialized(struct event *ev, enum event_format fmt, size_t *lenp);

/* Parse the JSON form back into a new event (sendevent json, Lua). */
int  event_from_json(struct event **evp, const char *json, size_t len);

/* FreeSWITCH's URL encoding (switch_url_encode) of `s` appended to `mb`. */
int  event_urlencode(struct mbuf *mb, const char *s, size_t len);

#endif
