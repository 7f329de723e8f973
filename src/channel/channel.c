/*
 * channel.c - the channel object: registry by UUID, variables, caller profile,
 * FreeSWITCH's states and call states, watchers, and the hangup sequence.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <re.h>
#include "channel/channel.h"
#include "channel/channel_int.h"
#include "core/api.h"
#include "core/log.h"
#include "core/status.h"
#include "core/strfmt.h"
#include "core/uuid.h"
#include "core/vars.h"
#include "event/bus.h"
#include "media/media.h"

struct channel_watch {
	struct le le;
	struct channel *ch;
	channel_watch_h *h;
	void *arg;
	unsigned holds;              /* references channel_notify calls hold */
};

struct ep_entry {
	struct le le;
	char prefix[32];
	channel_ep_call_h *h;
};

static struct {
	struct list channels;        /* creation order */
	struct hash *by_uuid;
	struct list eps;
	channel_router_h *router;
	void *router_arg;
} C;

static const char *const state_names[] = {
	"CS_NEW", "CS_INIT", "CS_ROUTING", "CS_SOFT_EXECUTE", "CS_EXECUTE",
	"CS_EXCHANGE_MEDIA", "CS_PARK", "CS_CONSUME_MEDIA", "CS_HIBERNATE", "CS_RESET",
	"CS_HANGUP", "CS_REPORTING", "CS_DESTROY", "CS_NONE",
};

static const char *const callstate_names[] = {
	"DOWN", "DIALING", "RINGING", "EARLY", "ACTIVE", "HELD", "RING_WAIT", "HANGUP",
	"UNHELD",
};

uint64_t channel_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

const char *channel_state_name(enum channel_state st)
{
	return (unsigned)st <= CS_NONE ? state_names[st] : "CS_NONE";
}

const char *callstate_name(enum callstate cs)
{
	return (unsigned)cs <= CCS_UNHELD ? callstate_names[cs] : "DOWN";
}

static void park_router(struct channel *ch, void *arg)
{
	(void)arg;
	channel_park(ch);
}

int channel_init(void)
{
	int err = hash_alloc(&C.by_uuid, 256);

	if (err)
		return err;
	list_init(&C.channels);
	list_init(&C.eps);
	C.router = park_router;
	return 0;
}

void channel_close(void)
{
	struct le *le;

	while ((le = C.channels.head))
		channel_hangup(le->data, CAUSE_SYSTEM_SHUTDOWN);
	list_flush(&C.eps);
	C.by_uuid = mem_deref(C.by_uuid);
}

void channel_set_router(channel_router_h *h, void *arg)
{
	C.router = h ? h : park_router;
	C.router_arg = h ? arg : NULL;
}

static void profile_free(struct caller_profile *p)
{
	char **fields[] = {&p->username, &p->dialplan, &p->caller_id_name,
			   &p->caller_id_number, &p->orig_caller_id_name,
			   &p->orig_caller_id_number, &p->callee_id_name,
			   &p->callee_id_number, &p->network_addr, &p->ani, &p->aniii,
			   &p->destination_number, &p->context, &p->rdnis,
			   &p->transfer_source};
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(*fields); i++)
		*fields[i] = mem_deref(*fields[i]);
}

static void channel_destructor(void *data)
{
	struct channel *ch = data;
	size_t i;

	list_flush(&ch->watches);
	for (i = 0; i < ch->nvars; i++) {
		mem_deref(ch->vars[i].name);
		mem_deref(ch->vars[i].value);
	}
	free(ch->vars);
	profile_free(&ch->profile);
	mem_deref(ch->name);
	mem_deref(ch->other_uuid);
	mem_deref(ch->read_codec);
	mem_deref(ch->dtmf_filter_arg);
}

int channel_alloc(struct channel **chp, const struct channel_ops *ops, void *arg,
		  enum channel_dir dir, const char *name, const char *uuid)
{
	struct channel *ch;
	int err;

	if (!chp || !ops || !name)
		return EINVAL;
	if (uuid && (!*uuid || channel_find(uuid)))
		return EEXIST;
	ch = mem_zalloc(sizeof(*ch), channel_destructor);
	if (!ch)
		return ENOMEM;
	if (uuid)
		snprintf(ch->uuid, sizeof(ch->uuid), "%s", uuid);
	else
		cfuuid_generate(ch->uuid);
	ch->ops = ops;
	ch->arg = arg;
	ch->dir = dir;
	ch->state = CS_NEW;
	ch->callstate = CCS_DOWN;
	ch->created_us = channel_now_us();
	ch->profile_index = 1;
	err = str_dup(&ch->name, name);
	err |= str_dup(&ch->profile.dialplan, "XML");
	err |= str_dup(&ch->profile.context, "default");
	if (err) {
		mem_deref(ch);
		return ENOMEM;
	}
	channel_var_set(ch, "uuid", ch->uuid);
	channel_var_set(ch, "channel_name", name);
	channel_var_set(ch, "direction", dir == CHANNEL_INBOUND ? "inbound" : "outbound");
	/* The registry's reference, dropped after CHANNEL_DESTROY. */
	list_append(&C.channels, &ch->le, ch);
	hash_append(C.by_uuid, hash_joaat_str(ch->uuid), &ch->hle, ch);
	status_session_created();
	*chp = ch;
	return 0;
}

static bool uuid_cmp(struct le *le, void *arg)
{
	struct channel *ch = le->data;

	return !strcmp(ch->uuid, arg);
}

struct channel *channel_find(const char *uuid)
{
	struct le *le;

	if (!uuid || !C.by_uuid)
		return NULL;
	le = hash_lookup(C.by_uuid, hash_joaat_str(uuid), uuid_cmp, (void *)uuid);
	return le ? le->data : NULL;
}

size_t channel_count(void)
{
	return list_count(&C.channels);
}

/*
 * The handler may hang up channels, and a hangup takes partners with it
 * (bridges, loopback pairs): walk a held copy and skip the ones already gone.
 */
void channel_foreach(channel_each_h *h, void *arg)
{
	size_t n = list_count(&C.channels), i = 0;
	struct channel **all;
	struct le *le;

	if (!n || !(all = calloc(n, sizeof(*all))))
		return;
	for (le = C.channels.head; le && i < n; le = le->next)
		all[i++] = mem_ref(le->data);
	n = i;
	for (i = 0; i < n; i++) {
		if (all[i]->le.list)
			h(all[i], arg);
	}
	for (i = 0; i < n; i++)
		mem_deref(all[i]);
	free(all);
}

const char *channel_uuid(const struct channel *ch) { return ch->uuid; }
const char *channel_name(const struct channel *ch) { return ch->name; }
enum channel_dir channel_dir(const struct channel *ch) { return ch->dir; }
enum channel_state channel_state(const struct channel *ch) { return ch->state; }
enum callstate channel_callstate(const struct channel *ch) { return ch->callstate; }
struct caller_profile *channel_profile(struct channel *ch) { return &ch->profile; }
bool channel_answered(const struct channel *ch) { return ch->answered_us != 0; }
bool channel_up(const struct channel *ch) { return !ch->hanging; }
enum hangup_cause channel_cause(const struct channel *ch) { return ch->cause; }
void *channel_ep_arg(const struct channel *ch) { return ch->ep_gone ? NULL : ch->arg; }
uint64_t channel_created_us(const struct channel *ch) { return ch->created_us; }

int channel_set_uuid(struct channel *ch, const char *uuid)
{
	if (!uuid || !*uuid || strlen(uuid) > UUID_STRLEN || channel_find(uuid))
		return EINVAL;
	if (ch->state != CS_NEW)
		return EBUSY;
	hash_unlink(&ch->hle);
	snprintf(ch->uuid, sizeof(ch->uuid), "%s", uuid);
	hash_append(C.by_uuid, hash_joaat_str(ch->uuid), &ch->hle, ch);
	channel_var_set(ch, "uuid", ch->uuid);
	return 0;
}

void channel_set_name(struct channel *ch, const char *name)
{
	char *n = NULL;

	if (!str_dup(&n, name)) {
		mem_deref(ch->name);
		ch->name = n;
		channel_var_set(ch, "channel_name", name);
	}
}

void channel_profile_set(char **field, const char *value)
{
	char *v = NULL;

	if (value && *value && str_dup(&v, value))
		return;
	mem_deref(*field);
	*field = v;
}

/*
 * The endpoint's stream, borrowed. Once the endpoint's hangup has run, its call
 * (and the stream it owned) may be gone: there is no media any more.
 */
struct media_stream *channel_media(struct channel *ch)
{
	if (!ch || ch->ep_gone || !ch->ops->media)
		return NULL;
	return ch->ops->media(ch, ch->arg);
}

static ssize_t var_index(const struct channel *ch, const char *name)
{
	size_t i;

	for (i = 0; i < ch->nvars; i++) {
		if (!strcmp(ch->vars[i].name, name))
			return (ssize_t)i;
	}
	return -1;
}

int channel_var_set(struct channel *ch, const char *name, const char *value)
{
	ssize_t i;
	char *v = NULL;

	if (!ch || !name || !*name)
		return EINVAL;
	i = var_index(ch, name);
	if (!value || !*value) {
		if (i < 0)
			return 0;
		mem_deref(ch->vars[i].name);
		mem_deref(ch->vars[i].value);
		memmove(&ch->vars[i], &ch->vars[i + 1],
			(ch->nvars - (size_t)i - 1) * sizeof(*ch->vars));
		ch->nvars--;
		return 0;
	}
	if (str_dup(&v, value))
		return ENOMEM;
	if (i >= 0) {
		mem_deref(ch->vars[i].value);
		ch->vars[i].value = v;
		return 0;
	}
	if (ch->nvars == ch->cap) {
		size_t ncap = ch->cap ? ch->cap * 2 : 32;
		struct channel_var *nv = realloc(ch->vars, ncap * sizeof(*nv));

		if (!nv) {
			mem_deref(v);
			return ENOMEM;
		}
		ch->vars = nv;
		ch->cap = ncap;
	}
	ch->vars[ch->nvars].value = v;
	if (str_dup(&ch->vars[ch->nvars].name, name)) {
		mem_deref(v);
		return ENOMEM;
	}
	ch->nvars++;
	return 0;
}

int channel_var_setf(struct channel *ch, const char *name, const char *fmt, ...)
{
	char buf[256], *s;
	size_t len;
	va_list ap;
	int err;

	va_start(ap, fmt);
	s = strfmt_v(buf, sizeof(buf), &len, fmt, ap);
	va_end(ap);
	if (!s)
		return ENOMEM;
	err = channel_var_set(ch, name, s);
	strfmt_free(s, buf);
	return err;
}

const char *channel_var(const struct channel *ch, const char *name)
{
	ssize_t i = ch && name ? var_index(ch, name) : -1;

	return i >= 0 ? ch->vars[i].value : NULL;
}

void channel_var_foreach(const struct channel *ch, channel_var_h *h, void *arg)
{
	size_t i;

	for (i = 0; i < ch->nvars; i++)
		h(ch->vars[i].name, ch->vars[i].value, arg);
}

bool channel_var_true(const struct channel *ch, const char *name)
{
	const char *v = channel_var(ch, name);

	return v && (!strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
		     !strcasecmp(v, "on") || !strcmp(v, "1"));
}

/* A caller-profile field by its variable name, as FreeSWITCH falls back to them. */
static const char *profile_field(const struct channel *ch, const char *name)
{
	const struct caller_profile *p = &ch->profile;
	const struct { const char *name; const char *value; } f[] = {
		{"caller_id_name", p->caller_id_name}, {"caller_id_number", p->caller_id_number},
		{"destination_number", p->destination_number}, {"ani", p->ani},
		{"aniii", p->aniii}, {"network_addr", p->network_addr}, {"rdnis", p->rdnis},
		{"context", p->context}, {"dialplan", p->dialplan}, {"username", p->username},
		{"callee_id_name", p->callee_id_name}, {"callee_id_number", p->callee_id_number},
		{"chan_name", ch->name}, {"source", ch->ops->source},
	};
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(*f); i++) {
		if (!strcmp(f[i].name, name))
			return f[i].value;
	}
	return NULL;
}

const char *channel_var_lookup(const struct channel *ch, const char *name)
{
	const char *v = channel_var(ch, name);

	return v ? v : profile_field(ch, name);
}

static const char *expand_lookup(const char *name, void *arg, char **tmp)
{
	(void)tmp;
	return channel_var_lookup(arg, name);
}

int channel_expand(struct channel *ch, const char *in, char **outp)
{
	return vars_expand(outp, in, expand_lookup, ch);
}

int channel_expand_replay(struct channel *ch, const char *in, struct vars_replay *r,
			  char **outp)
{
	return vars_expand_replay(outp, in, expand_lookup, ch, r);
}

static void watch_destructor(void *data)
{
	struct channel_watch *w = data;

	list_unlink(&w->le);
}

int channel_watch(struct channel_watch **wp, struct channel *ch, channel_watch_h *h,
		  void *arg)
{
	struct channel_watch *w;

	if (!wp || !ch || !h)
		return EINVAL;
	w = mem_zalloc(sizeof(*w), watch_destructor);
	if (!w)
		return ENOMEM;
	w->ch = ch;
	w->h = h;
	w->arg = arg;
	list_append(&ch->watches, &w->le, w);
	*wp = w;
	return 0;
}

/*
 * Tell every watcher. A watcher may free itself or any other watcher while being
 * told, so the list is copied first (holding each watch). A watch whose owner
 * let go meanwhile is skipped: it is unlinked, or (when a notification runs
 * inside another one) only notifications still hold it.
 */
void channel_notify(struct channel *ch, enum channel_note note, const char *data)
{
	struct channel_watch *stack[16], **ws = stack;
	size_t n = list_count(&ch->watches), i = 0;
	struct le *le;

	if (!n)
		return;
	if (n > 16 && !(ws = calloc(n, sizeof(*ws))))
		return;
	mem_ref(ch);
	for (le = ch->watches.head; le && i < n; le = le->next) {
		ws[i] = mem_ref(le->data);
		ws[i++]->holds++;
	}
	n = i;
	for (i = 0; i < n; i++) {
		if (ws[i]->le.list && mem_nrefs(ws[i]) > ws[i]->holds)
			ws[i]->h(ch, note, data, ws[i]->arg);
	}
	for (i = 0; i < n; i++) {
		ws[i]->holds--;
		mem_deref(ws[i]);
	}
	if (ws != stack)
		free(ws);
	mem_deref(ch);
}

void channel_set_state(struct channel *ch, enum channel_state st)
{
	if (ch->state == st)
		return;
	ch->state = st;
	channel_fire(ch, EVENT_CHANNEL_STATE);
}

void channel_set_callstate(struct channel *ch, enum callstate cs)
{
	struct event *ev;
	enum callstate old = ch->callstate;

	if (old == cs)
		return;
	ch->callstate = cs;
	if (event_alloc(&ev, EVENT_CHANNEL_CALLSTATE, NULL))
		return;
	/* The state it left comes first (spec/events.md 3.4). */
	event_add_header(ev, "Original-Channel-Call-State", callstate_name(old));
	event_add_headerf(ev, "Channel-Call-State-Number", "%d", (int)cs);
	channel_event_add_data(ch, ev);
	bus_fire(ev);
}

void channel_start(struct channel *ch)
{
	/* FreeSWITCH's ANI is the caller ID number unless the endpoint knows better. */
	if (!ch->profile.ani || !*ch->profile.ani)
		channel_profile_set(&ch->profile.ani, ch->profile.caller_id_number);
	channel_fire(ch, EVENT_CHANNEL_CREATE);
	channel_set_state(ch, CS_INIT);
	if (ch->dir == CHANNEL_OUTBOUND) {
		channel_set_callstate(ch, CCS_DIALING);
		channel_fire(ch, EVENT_CHANNEL_OUTGOING);
		channel_set_state(ch, CS_CONSUME_MEDIA);
		return;
	}
	channel_set_state(ch, CS_ROUTING);
	C.router(ch, C.router_arg);
}

void channel_transfer(struct channel *ch, const char *exten, const char *dialplan,
		      const char *context)
{
	struct caller_profile *p = &ch->profile;

	if (ch->hanging)
		return;
	ch->xfer_pending = false;
	channel_profile_set(&p->transfer_source, p->destination_number);
	channel_profile_set(&p->destination_number, exten);
	if (dialplan && *dialplan)
		channel_profile_set(&p->dialplan, dialplan);
	if (context && *context)
		channel_profile_set(&p->context, context);
	channel_var_set(ch, "destination_number", exten);
	ch->transfer_us = channel_now_us();
	ch->profile_index++;
	channel_set_state(ch, CS_ROUTING);
	mem_ref(ch);
	channel_notify(ch, CHANNEL_NOTE_TRANSFER, exten);
	if (!ch->hanging)
		C.router(ch, C.router_arg);
	mem_deref(ch);
}

void channel_transfer_both(struct channel *ch, struct channel *other, const char *exten,
			   const char *dialplan, const char *context)
{
	mem_ref(ch);
	if (other && other != ch) {
		ch->xfer_pending = true;
		channel_transfer(other, exten, dialplan, context);
	}
	channel_transfer(ch, exten, dialplan, context);
	ch->xfer_pending = false;
	mem_deref(ch);
}

struct channel *channel_partner(const struct channel *ch)
{
	return ch->other_uuid ? channel_find(ch->other_uuid) : NULL;
}

void channel_set_dtmf_filter(struct channel *ch, channel_dtmf_filter_h *h, void *arg)
{
	void *old = ch->dtmf_filter_arg;

	ch->dtmf_filter = h;
	ch->dtmf_filter_arg = h ? mem_ref(arg) : NULL;
	mem_deref(old);
}

void *channel_dtmf_filter_arg(const struct channel *ch, channel_dtmf_filter_h *h)
{
	return ch->dtmf_filter == h ? ch->dtmf_filter_arg : NULL;
}

/* True if the filter swallowed the digit; the filter may act on the channel. */
static bool dtmf_filtered(struct channel *ch, char digit, bool to_phone)
{
	bool eaten;

	if (!ch->dtmf_filter)
		return false;
	mem_ref(ch);
	eaten = ch->dtmf_filter(ch, digit, to_phone, ch->dtmf_filter_arg);
	mem_deref(ch);
	return eaten;
}

void channel_park(struct channel *ch)
{
	if (ch->hanging)
		return;
	channel_set_state(ch, CS_PARK);
	channel_fire(ch, EVENT_CHANNEL_PARK);
}

void channel_mark_ringing(struct channel *ch)
{
	if (ch->hanging || ch->progress_us)
		return;
	ch->progress_us = channel_now_us();
	channel_set_callstate(ch, CCS_RINGING);
	channel_fire(ch, EVENT_CHANNEL_PROGRESS);
	channel_notify(ch, CHANNEL_NOTE_PROGRESS, NULL);
}

void channel_mark_pre_answered(struct channel *ch)
{
	if (ch->hanging || ch->progress_media_us || ch->answered_us)
		return;
	ch->progress_media_us = channel_now_us();
	channel_set_callstate(ch, CCS_EARLY);
	channel_fire(ch, EVENT_CHANNEL_PROGRESS_MEDIA);
	channel_notify(ch, CHANNEL_NOTE_PROGRESS, "media");
}

void channel_mark_answered(struct channel *ch)
{
	if (ch->hanging || ch->answered_us)
		return;
	ch->answered_us = channel_now_us();
	channel_set_callstate(ch, CCS_ACTIVE);
	channel_fire(ch, EVENT_CHANNEL_ANSWER);
	channel_notify(ch, CHANNEL_NOTE_ANSWER, NULL);
}

void channel_mark_hold(struct channel *ch, bool held)
{
	if (ch->hanging || ch->held == held)
		return;
	ch->held = held;
	if (held)
		ch->last_hold_us = channel_now_us();
	else if (ch->last_hold_us)
		ch->hold_accum_us += channel_now_us() - ch->last_hold_us;
	channel_set_callstate(ch, held ? CCS_HELD : CCS_ACTIVE);
	channel_fire(ch, held ? EVENT_CHANNEL_HOLD : EVENT_CHANNEL_UNHOLD);
}

void channel_set_codec(struct channel *ch, const char *name, unsigned rate)
{
	channel_profile_set(&ch->read_codec, name);
	ch->codec_rate = rate;
	channel_var_set(ch, "read_codec", name);
	channel_var_set(ch, "write_codec", name);
	channel_var_setf(ch, "read_rate", "%u", rate);
	channel_var_setf(ch, "write_rate", "%u", rate);
}

void channel_dtmf_received(struct channel *ch, char digit, unsigned duration_ms,
			   const char *source)
{
	struct event *ev;
	char d[2] = {digit, '\0'};
	bool taken;

	if (ch->hanging || dtmf_filtered(ch, digit, false) || ch->hanging)
		return;
	if (!channel_event_alloc(ch, EVENT_DTMF, NULL, &ev)) {
		event_add_header(ev, "DTMF-Digit", d);
		/* FreeSWITCH reports the duration in samples at 8 kHz. */
		event_add_headerf(ev, "DTMF-Duration", "%u", duration_ms * 8);
		event_add_header(ev, "DTMF-Source", source);
		bus_fire(ev);
	}
	/* A digit no watcher takes (a running read, a bridge) waits for the next reader. */
	taken = ch->dtmf_taken;
	ch->dtmf_taken = false;
	mem_ref(ch);
	channel_notify(ch, CHANNEL_NOTE_DTMF, d);
	if (!ch->dtmf_taken && !ch->hanging)
		channel_dtmf_queue(ch, digit);
	ch->dtmf_taken = taken;
	mem_deref(ch);
}

int channel_answer(struct channel *ch)
{
	int err;

	if (ch->hanging)
		return ENOTCONN;
	if (ch->answered_us)
		return 0;
	err = ch->ops->answer ? ch->ops->answer(ch, ch->arg) : ENOTSUP;
	if (!err)
		channel_mark_answered(ch);
	return err;
}

int channel_pre_answer(struct channel *ch)
{
	int err;

	if (ch->hanging)
		return ENOTCONN;
	if (ch->answered_us || ch->progress_media_us)
		return 0;
	err = ch->ops->pre_answer ? ch->ops->pre_answer(ch, ch->arg) : ENOTSUP;
	if (!err)
		channel_mark_pre_answered(ch);
	return err;
}

int channel_ring_ready(struct channel *ch)
{
	int err;

	if (ch->hanging)
		return ENOTCONN;
	err = ch->ops->ring_ready ? ch->ops->ring_ready(ch, ch->arg) : ENOTSUP;
	if (!err)
		channel_mark_ringing(ch);
	return err;
}

int channel_send_dtmf(struct channel *ch, const char *digits, unsigned ms)
{
	char pass[64];
	size_t n = 0;

	if (ch->hanging)
		return ENOTCONN;
	if (ch->dtmf_filter && digits) {
		/* What the filter lets through goes out; a long string in pieces. */
		for (; *digits && !ch->hanging; digits++) {
			if (!dtmf_filtered(ch, *digits, true))
				pass[n++] = *digits;
			if (n == sizeof(pass) - 1 || (n && !digits[1])) {
				pass[n] = '\0';
				n = 0;
				if (ch->hanging || !ch->ops->send_dtmf)
					break;
				ch->ops->send_dtmf(ch, pass, ms, ch->arg);
			}
		}
		return ch->hanging ? ENOTCONN : 0;
	}
	return ch->ops->send_dtmf ? ch->ops->send_dtmf(ch, digits, ms, ch->arg) : ENOTSUP;
}

/* RTP counters as FreeSWITCH reports them, read before the endpoint frees media. */
static void set_media_vars(struct channel *ch)
{
	struct media_stream *ms = channel_media(ch);
	struct media_stats st;

	if (!ms)
		return;
	media_stream_stats(ms, &st);
	channel_var_setf(ch, "rtp_audio_in_packet_count", "%llu",
			 (unsigned long long)st.in_packets);
	channel_var_setf(ch, "rtp_audio_out_packet_count", "%llu",
			 (unsigned long long)st.out_packets);
	channel_var_setf(ch, "rtp_audio_in_media_bytes", "%llu",
			 (unsigned long long)st.in_bytes);
	channel_var_setf(ch, "rtp_audio_out_media_bytes", "%llu",
			 (unsigned long long)st.out_bytes);
	channel_var_setf(ch, "rtp_audio_in_skip_packet_count", "%llu",
			 (unsigned long long)st.in_skipped);
}

/* The accounting variables FreeSWITCH puts on CHANNEL_HANGUP_COMPLETE. */
static void set_cdr_vars(struct channel *ch)
{
	uint64_t end = ch->hangup_us;
	uint64_t dur = end - ch->created_us;
	uint64_t bill = ch->answered_us ? end - ch->answered_us : 0;
	uint64_t prog = ch->progress_us ? ch->progress_us - ch->created_us : 0;
	uint64_t ans = ch->answered_us ? ch->answered_us - ch->created_us : 0;

	channel_var_setf(ch, "start_epoch", "%llu",
			 (unsigned long long)(ch->created_us / 1000000));
	channel_var_setf(ch, "start_uepoch", "%llu", (unsigned long long)ch->created_us);
	channel_var_setf(ch, "answer_epoch", "%llu",
			 (unsigned long long)(ch->answered_us / 1000000));
	channel_var_setf(ch, "end_epoch", "%llu", (unsigned long long)(end / 1000000));
	channel_var_setf(ch, "duration", "%llu", (unsigned long long)(dur / 1000000));
	channel_var_setf(ch, "mduration", "%llu", (unsigned long long)(dur / 1000));
	channel_var_setf(ch, "billsec", "%llu", (unsigned long long)(bill / 1000000));
	channel_var_setf(ch, "billmsec", "%llu", (unsigned long long)(bill / 1000));
	channel_var_setf(ch, "progresssec", "%llu", (unsigned long long)(prog / 1000000));
	channel_var_setf(ch, "answersec", "%llu", (unsigned long long)(ans / 1000000));
	channel_var_setf(ch, "hold_accum_seconds", "%llu",
			 (unsigned long long)(ch->hold_accum_us / 1000000));
}

static void run_hangup_hook(struct channel *ch);

void channel_hangup(struct channel *ch, enum hangup_cause cause)
{
	if (!ch || ch->hanging)
		return;
	mem_ref(ch);
	ch->hanging = true;
	ch->cause = cause;
	ch->hangup_us = channel_now_us();
	channel_var_set(ch, "hangup_cause", cause_name(cause));
	/* Causes past Q.850's range (confab's own, 487 and up) report 16, as FreeSWITCH. */
	channel_var_setf(ch, "hangup_cause_q850", "%d",
			 (int)cause <= CAUSE_INTERWORKING ? (int)cause : CAUSE_NORMAL_CLEARING);
	set_media_vars(ch);
	log_info("%s: hangup %s [%s]\n", ch->name, ch->uuid, cause_name(cause));

	channel_set_callstate(ch, CCS_HANGUP);
	channel_set_state(ch, CS_HANGUP);
	channel_fire(ch, EVENT_CHANNEL_HANGUP);
	channel_notify(ch, CHANNEL_NOTE_HANGUP, cause_name(cause));
	if (ch->ops->hangup)
		ch->ops->hangup(ch, cause, ch->arg);
	/* The endpoint may have freed what ch->arg points to (sip_call.c does). */
	ch->ep_gone = true;
	ch->arg = NULL;

	set_cdr_vars(ch);
	channel_set_state(ch, CS_REPORTING);
	channel_fire(ch, EVENT_CHANNEL_HANGUP_COMPLETE);
	run_hangup_hook(ch);
	channel_set_state(ch, CS_DESTROY);
	channel_fire(ch, EVENT_CHANNEL_DESTROY);

	list_unlink(&ch->le);
	hash_unlink(&ch->hle);
	status_session_destroyed();
	mem_deref(ch);         /* the registry's reference */
	mem_deref(ch);
}

static void hangup_hook_done(int err, const char *out, size_t len, void *arg)
{
	char *cmd = arg;

	log_info("api_hangup_hook %s: %.*s", cmd, (int)len, out);
	mem_deref(cmd);
}

/*
 * api_hangup_hook=<command> [<args>]: run once the call is over, with the
 * channel's data as the command's event (mod_lua's `env`).
 */
static void run_hangup_hook(struct channel *ch)
{
	const char *hook = channel_var(ch, "api_hangup_hook");
	struct event *env = NULL;
	char *line = NULL, *sp;
	int err;

	if (!hook || !*hook)
		return;
	err = channel_expand(ch, hook, &line);
	if (!err)
		err = channel_event_alloc(ch, EVENT_CHANNEL_DATA, NULL, &env);
	if (err) {
		log_err("%s: api_hangup_hook '%s': %s\n", ch->name, hook, strerror(err));
		mem_deref(line);
		return;
	}
	sp = strchr(line, ' ');
	if (sp)
		*sp++ = '\0';
	/* The command's name stays alive for the log line, whenever it finishes. */
	api_exec_env(NULL, line, sp ? sp : "", env, hangup_hook_done, line);
	event_deref(env);
}

void channel_set_other(struct channel *ch, const char *uuid, bool originator)
{
	char *u = NULL;

	if (uuid && str_dup(&u, uuid))
		return;
	mem_deref(ch->other_uuid);
	ch->other_uuid = u;
	ch->originator = originator;
}

static void ep_destructor(void *data)
{
	struct ep_entry *e = data;

	list_unlink(&e->le);
}

int channel_ep_register(const char *prefix, channel_ep_call_h *h)
{
	struct ep_entry *e;

	if (!prefix || !h || strlen(prefix) >= sizeof(e->prefix))
		return EINVAL;
	e = mem_zalloc(sizeof(*e), ep_destructor);
	if (!e)
		return ENOMEM;
	snprintf(e->prefix, sizeof(e->prefix), "%s", prefix);
	e->h = h;
	list_append(&C.eps, &e->le, e);
	return 0;
}

void channel_ep_unregister(const char *prefix)
{
	struct le *le;

	for (le = C.eps.head; le; le = le->next) {
		struct ep_entry *e = le->data;

		if (!strcmp(e->prefix, prefix)) {
			mem_deref(e);
			return;
		}
	}
}

channel_ep_call_h *channel_ep_find(const char *dialstring, const char **targetp)
{
	struct le *le;

	for (le = C.eps.head; le; le = le->next) {
		struct ep_entry *e = le->data;
		size_t n = strlen(e->prefix);

		if (!strncasecmp(dialstring, e->prefix, n) && dialstring[n] == '/') {
			*targetp = dialstring + n + 1;
			return e->h;
		}
	}
	return NULL;
}
