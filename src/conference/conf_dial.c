/*
 * conf_dial.c - calls into rooms: `conference <room> dial|bgdial`, and
 * auto-outcall (conference_set_auto_outcall before `conference`).
 *
 * Beyond FreeSWITCH, every try is reported: a conference::maintenance event
 * with Action "outcall-result" names the room, the destination and the cause
 * (SUCCESS, USER_BUSY, NO_ANSWER ...), so a script can confirm who joined. A
 * destination may list fallbacks, "user/1005|user/1006|sofia/gateway/gw/555":
 * each is tried in turn until one answers, and each failure is reported.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "core/log.h"
#include "core/uuid.h"
#include "dialplan/app.h"
#include "event/bus.h"
#include "channel/cause.h"
#include "channel/originate.h"
#include "media/media.h"
#include "media/play.h"
#include "conference/conf_int.h"

#define MAX_TRIES 16

struct dial {
	struct le le;
	char *room, *profile, *flags, *job;
	char *cid_name, *cid_num, *export_vars, *announce;
	char *aleg_uuid;
	char *tries[MAX_TRIES];
	unsigned ntries, cur, timeout_s;
	struct originate *orig;
	conf_dial_h *done;
	void *arg;
};

static struct list dials;       /* in flight */

static void dial_destructor(void *data)
{
	struct dial *d = data;
	unsigned i;

	list_unlink(&d->le);
	mem_deref(d->orig);
	for (i = 0; i < d->ntries; i++)
		mem_deref(d->tries[i]);
	mem_deref(d->room);
	mem_deref(d->profile);
	mem_deref(d->flags);
	mem_deref(d->job);
	mem_deref(d->cid_name);
	mem_deref(d->cid_num);
	mem_deref(d->export_vars);
	mem_deref(d->announce);
	mem_deref(d->aleg_uuid);
}

/* Split on '|' outside {} and []: a try's own variables may hold a '|'. */
static int split_tries(struct dial *d, const char *s)
{
	while (*s && d->ntries < MAX_TRIES) {
		const char *p = s;
		int depth = 0;
		int err;

		for (; *p && (depth || *p != '|'); p++)
			depth += (*p == '{' || *p == '[') - ((*p == '}' || *p == ']') && depth);
		if (p > s) {
			err = re_sdprintf(&d->tries[d->ntries], "%b", s, (size_t)(p - s));
			if (err)
				return err;
			d->ntries++;
		}
		s = *p ? p + 1 : p;
	}
	return d->ntries ? 0 : EINVAL;
}

static void fire_result(struct dial *d, enum hangup_cause cause, struct channel *leg,
			bool final)
{
	struct conference *conf = conf_find(d->room);
	struct event *ev;
	int err;

	if (conf) {
		err = conf_event(conf, NULL, "outcall-result", &ev);
	} else {
		err = event_alloc(&ev, EVENT_CUSTOM, "conference::maintenance");
		if (!err) {
			event_add_header(ev, "Conference-Name", d->room);
			event_add_header(ev, "Action", "outcall-result");
		}
	}
	if (err)
		return;
	event_add_header(ev, "Destination", d->tries[d->cur]);
	event_add_header(ev, "Result", cause_name(cause));
	event_add_headerf(ev, "Attempt", "%u", d->cur + 1);
	event_add_headerf(ev, "Attempts", "%u", d->ntries);
	event_add_header(ev, "Final", final ? "true" : "false");
	if (leg)
		event_add_header(ev, "Peer-UUID", channel_uuid(leg));
	if (d->job)
		event_add_header(ev, "Job-UUID", d->job);
	bus_fire(ev);
	log_info("conference %s: outcall to %s: %s\n", d->room, d->tries[d->cur],
		 cause_name(cause));
}

/* FreeSWITCH's bgdial-result, when the room exists. */
static void fire_bgdial(struct dial *d, enum hangup_cause cause, struct channel *leg)
{
	struct conference *conf = conf_find(d->room);
	struct event *ev;

	if (!d->job || !conf || conf_suppressed(conf, "bgdial-result") ||
	    conf_event(conf, NULL, "bgdial-result", &ev))
		return;
	event_add_header(ev, "Result", cause_name(cause));
	event_add_header(ev, "Job-UUID", d->job);
	if (leg)
		event_add_header(ev, "Peer-UUID", channel_uuid(leg));
	bus_fire(ev);
}

/*
 * The new leg's only application: it hangs up when it leaves the room, unless
 * a transfer broke it off (ECANCELED): the dialplan has the leg now.
 */
static void leg_done(struct channel *ch, int err, void *arg)
{
	(void)arg;
	if (err != ECANCELED && channel_up(ch))
		channel_hangup(ch, CAUSE_NORMAL_CLEARING);
}

static void export_vars(struct dial *d, struct channel *leg)
{
	struct channel *aleg = d->aleg_uuid ? channel_find(d->aleg_uuid) : NULL;
	const char *s = d->export_vars;

	while (aleg && s && *s) {
		size_t n = strcspn(s, ",");
		char name[128];

		if (n && n < sizeof(name)) {
			memcpy(name, s, n);
			name[n] = '\0';
			if (channel_var(aleg, name))
				channel_var_set(leg, name, channel_var(aleg, name));
		}
		s += n;
		s += *s == ',';
	}
}

static void join_leg(struct dial *d, struct channel *leg)
{
	char *data = NULL;
	int err;

	if (d->job)
		channel_var_set(leg, "conference_bgdial_jobid", d->job);
	export_vars(d, leg);
	if (d->announce)
		channel_var_set(leg, "conference_enter_sound", d->announce);
	err = re_sdprintf(&data, "%s@%s%s%s%s", d->room, d->profile,
			  d->flags ? "+flags{" : "", d->flags ? d->flags : "",
			  d->flags ? "}" : "");
	if (!err)
		err = app_execute(leg, "conference", data, NULL, leg_done, NULL);
	if (err && err != EINPROGRESS) {
		log_err("conference %s: the answered leg cannot join: %s\n", d->room,
			strerror(err));
		channel_hangup(leg, CAUSE_NORMAL_TEMPORARY_FAILURE);
	}
	mem_deref(data);
}

static void finish(struct dial *d, enum hangup_cause cause, struct channel *leg)
{
	struct conference *conf = conf_find(d->room);

	fire_bgdial(d, cause, leg);
	if (conf && conf->pending_outcalls)
		conf->pending_outcalls--;
	if (d->done)
		d->done(cause, d->tries[d->cur], d->arg);
	mem_deref(d);
}

static int try_next(struct dial *d);

static void orig_done(enum hangup_cause cause, struct channel *leg, void *arg)
{
	struct dial *d = arg;
	bool last = d->cur + 1 >= d->ntries;

	d->orig = mem_deref(d->orig);
	fire_result(d, cause, leg, leg || last);
	if (leg) {
		join_leg(d, leg);
		finish(d, CAUSE_SUCCESS, leg);
		return;
	}
	/* A cancelled outcall (the caller left) tries nothing more. */
	if (last || cause == CAUSE_ORIGINATOR_CANCEL) {
		finish(d, cause, NULL);
		return;
	}
	d->cur++;
	if (try_next(d))
		finish(d, CAUSE_INVALID_NUMBER_FORMAT, NULL);
}

static int try_next(struct dial *d)
{
	struct channel *aleg = d->aleg_uuid ? channel_find(d->aleg_uuid) : NULL;
	struct originate_opts o = {.timeout_s = d->timeout_s, .cid_name = d->cid_name,
		.cid_num = d->cid_num, .aleg = aleg};
	int err;

	for (;;) {
		err = originate_start(&d->orig, d->tries[d->cur], &o, orig_done, d);
		if (!err)
			return 0;
		/* A malformed alternative is reported and skipped. */
		fire_result(d, CAUSE_INVALID_NUMBER_FORMAT, NULL, d->cur + 1 >= d->ntries);
		if (d->cur + 1 >= d->ntries)
			return err;
		d->cur++;
	}
}

int conf_dial(const char *room, const char *dialstring, const struct conf_dial_opts *o,
	      conf_dial_h *done, void *arg)
{
	struct conference *conf = conf_find(room);
	struct dial *d;
	int err;

	if (!room || !dialstring || !o)
		return EINVAL;
	d = mem_zalloc(sizeof(*d), dial_destructor);
	if (!d)
		return ENOMEM;
	list_append(&dials, &d->le, d);
	d->done = done;
	d->arg = arg;
	d->timeout_s = o->timeout_s ? o->timeout_s : 60;
	err = str_dup(&d->room, room);
	err |= str_dup(&d->profile, o->profile ? o->profile :
		       conf ? conf->prof_name : "default");
	if (o->flags && *o->flags)
		err |= str_dup(&d->flags, o->flags);
	if (o->job)
		err |= str_dup(&d->job, o->job);
	err |= str_dup(&d->cid_name, o->cid_name ? o->cid_name :
		       conf ? conf->cid_name : "conference");
	err |= str_dup(&d->cid_num, o->cid_num ? o->cid_num :
		       conf ? conf->cid_num : "0000000000");
	if (o->export_vars)
		err |= str_dup(&d->export_vars, o->export_vars);
	if (o->announce)
		err |= str_dup(&d->announce, o->announce);
	if (o->aleg)
		err |= str_dup(&d->aleg_uuid, channel_uuid(o->aleg));
	if (!err)
		err = split_tries(d, dialstring);
	if (err) {
		mem_deref(d);
		return err;
	}
	if (conf)
		conf->pending_outcalls++;
	err = try_next(d);
	if (err) {
		/* Each malformed try was reported; the whole call ends now. */
		finish(d, CAUSE_INVALID_NUMBER_FORMAT, NULL);
		return 0;
	}
	return 0;
}

/* ---- auto-outcall ------------------------------------------------------------- */

/* What conference_set_auto_outcall stored on a channel, until it joins or goes. */
struct outcall_list {
	struct le le;
	char uuid[37];
	struct list items;          /* struct conf_param (name: the dial string) */
	struct channel_watch *watch;
};

static struct list outcalls;

static void outcall_destructor(void *data)
{
	struct outcall_list *l = data;

	list_unlink(&l->le);
	list_flush(&l->items);
	mem_deref(l->watch);
}

static struct outcall_list *outcalls_of(const char *uuid)
{
	struct le *le;

	for (le = list_head(&outcalls); le; le = le->next) {
		struct outcall_list *l = le->data;

		if (!strcmp(l->uuid, uuid))
			return l;
	}
	return NULL;
}

static void outcall_watch(struct channel *ch, enum channel_note note, const char *data,
			  void *arg)
{
	(void)ch;
	(void)data;
	if (note == CHANNEL_NOTE_HANGUP)
		mem_deref(arg);
}

static int app_set_auto_outcall(struct channel *ch, const char *args, struct app_exec *x)
{
	struct outcall_list *l = outcalls_of(channel_uuid(ch));
	struct conf_param *p;
	int err;

	(void)x;
	if (!args || !*args) {
		mem_deref(l);
		return 0;
	}
	if (!l) {
		l = mem_zalloc(sizeof(*l), outcall_destructor);
		if (!l)
			return ENOMEM;
		str_ncpy(l->uuid, channel_uuid(ch), sizeof(l->uuid));
		list_append(&outcalls, &l->le, l);
		err = channel_watch(&l->watch, ch, outcall_watch, l);
		if (err) {
			mem_deref(l);
			return err;
		}
	}
	if (conf_param_alloc(&p, args, NULL))
		return ENOMEM;
	list_append(&l->items, &p->le, p);
	return 0;
}

/* The caller waits maxwait seconds (or until the calls are settled), then a beep. */
struct beep {
	struct le le;
	struct tmr tmr;
	char uuid[37];
	char room[128];
	unsigned left;              /* ticks of 100 ms */
};

static struct list beeps;

static void beep_timer(void *arg)
{
	struct beep *b = arg;
	struct channel *ch = channel_find(b->uuid);
	struct conference *conf = conf_find(b->room);
	struct media_play_opts o = {.mix = true};

	if (ch && conf && conf->pending_outcalls && b->left--) {
		tmr_start(&b->tmr, 100, beep_timer, b);
		return;
	}
	if (ch && channel_up(ch) && channel_media(ch))
		(void)media_play_ex(channel_media(ch), "tone_stream://%(500,0,640)", &o,
				    NULL, NULL);
	mem_deref(b);
}

static void beep_destructor(void *data)
{
	struct beep *b = data;

	list_unlink(&b->le);
	tmr_cancel(&b->tmr);
}

static unsigned var_uint(struct channel *ch, const char *name, unsigned dflt)
{
	const char *v = channel_var(ch, name);

	return v && *v ? (unsigned)strtoul(v, NULL, 10) : dflt;
}

void conf_auto_outcall(struct conf_member *m)
{
	struct outcall_list *l = outcalls_of(channel_uuid(m->ch));
	struct channel *ch = m->ch;
	const char *delim = channel_var(ch, "conference_auto_outcall_delimiter");
	const char *prefix = channel_var(ch, "conference_auto_outcall_prefix");
	struct conf_dial_opts o = {0};
	unsigned timeout = var_uint(ch, "conference_auto_outcall_timeout", 60);
	char sep = delim && strlen(delim) == 1 ? *delim : ',';
	struct le *le;
	struct beep *b;

	if (!l)
		return;
	o.profile = channel_var(ch, "conference_auto_outcall_profile");
	if (!o.profile)
		o.profile = m->conf->prof_name;
	/* FreeSWITCH reads the misnamed variable; both are honoured. */
	o.flags = channel_var(ch, "conference_utils_auto_outcall_flags");
	if (!o.flags)
		o.flags = channel_var(ch, "conference_auto_outcall_flags");
	o.cid_name = channel_var(ch, "conference_auto_outcall_caller_id_name");
	o.cid_num = channel_var(ch, "conference_auto_outcall_caller_id_number");
	o.timeout_s = timeout >= 10 && timeout <= 500 ? timeout : 60;
	o.export_vars = channel_var(ch, "conference_auto_outcall_export_vars");
	o.announce = channel_var(ch, "conference_auto_outcall_announce");
	o.aleg = ch;
	for (le = list_head(&l->items); le; le = le->next) {
		const char *s = ((struct conf_param *)le->data)->name;

		while (*s) {
			size_t n = strcspn(s, (char[]){sep, '\0'});
			char job[37], *dest = NULL;
			int err;

			cfuuid_generate(job);
			o.job = job;
			err = n ? re_sdprintf(&dest, "%s%b", prefix ? prefix : "", s, n) : 0;
			if (!err && dest) {
				err = conf_dial(m->conf->name, dest, &o, NULL, NULL);
				if (err)
					log_err("conference %s: auto-outcall %s: %s\n",
						m->conf->name, dest, strerror(err));
			}
			mem_deref(dest);
			s += n;
			s += *s == sep;
		}
	}
	mem_deref(l);
	if (channel_var_true(ch, "conference_auto_outcall_skip_member_beep"))
		return;
	b = mem_zalloc(sizeof(*b), beep_destructor);
	if (!b)
		return;
	tmr_init(&b->tmr);
	list_append(&beeps, &b->le, b);
	str_ncpy(b->uuid, channel_uuid(ch), sizeof(b->uuid));
	str_ncpy(b->room, m->conf->name, sizeof(b->room));
	b->left = var_uint(ch, "conference_auto_outcall_maxwait", 2) * 10;
	tmr_start(&b->tmr, 100, beep_timer, b);
}

int conf_outcall_app_init(void)
{
	list_init(&dials);
	list_init(&outcalls);
	list_init(&beeps);
	return app_register("conference_set_auto_outcall", "<dialstring>",
			    app_set_auto_outcall);
}

void conf_dial_close(void)
{
	while (!list_isempty(&dials))
		mem_deref(list_ledata(list_head(&dials)));
	while (!list_isempty(&outcalls))
		mem_deref(list_ledata(list_head(&outcalls)));
	while (!list_isempty(&beeps))
		mem_deref(list_ledata(list_head(&beeps)));
}
