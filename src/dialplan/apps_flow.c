/*
 * apps_flow.c - applications the dialplan leans on: export, unset, set_global,
 * log, info, event, sched_hangup, respond and eval (spec/core.md 6, with
 * FreeSWITCH's mod_dptools behaviour).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <re.h>
#include "channel/cause.h"
#include "channel/channel.h"
#include "core/log.h"
#include "core/vars.h"
#include "dialplan/app.h"
#include "dialplan/dialplan_int.h"
#include "event/bus.h"
#include "event/event.h"

/* Longest stretch of `info` output handed to the log in one line. */
#define INFO_CHUNK 3000

/* A copy of `s` without blanks around it (mem_deref). */
static int trim_dup(char **outp, const char *s, size_t len)
{
	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	return re_sdprintf(outp, "%b", s, len);
}

/* "name=value" -> name (trimmed, new string) and value (points into s, or NULL). */
static int split_assign(const char *s, char **namep, const char **valuep)
{
	const char *eq = strchr(s, '=');
	int err = trim_dup(namep, s, eq ? (size_t)(eq - s) : strlen(s));

	if (err)
		return err;
	if (!**namep) {
		*namep = mem_deref(*namep);
		return EINVAL;
	}
	*valuep = eq ? eq + 1 : NULL;
	return 0;
}

static bool list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len == n && !strncmp(p, name, n))
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

/*
 * export [nolocal:]<var>[=<value>]: set it here (not with nolocal:) and name it
 * in export_vars, which legs this channel originates copy (switch_channel.c
 * switch_channel_export_variable_var_check). A nolocal: variable is kept under
 * its prefixed name, only for the legs to come.
 */
static int app_export(struct channel *ch, const char *args, struct app_exec *x)
{
	const char *value, *bare, *list = channel_var(ch, "export_vars");
	char *name = NULL;
	int err;

	(void)x;
	err = split_assign(args, &name, &value);
	if (err)
		return err;
	bare = name;
	if (!strncasecmp(bare, "nolocal:", 8))
		bare += 8;
	else if (!strncasecmp(bare, "_nolocal_", 9))
		bare += 9;
	if (!*bare) {
		mem_deref(name);
		return EINVAL;
	}
	if (!list_has(list, name))
		err = list && *list ? channel_var_setf(ch, "export_vars", "%s,%s", list, name) :
			channel_var_set(ch, "export_vars", name);
	if (!err)
		err = channel_var_set(ch, name, value);
	mem_deref(name);
	return err;
}

static int app_unset(struct channel *ch, const char *args, struct app_exec *x)
{
	char *name = NULL;
	int err;

	(void)x;
	err = trim_dup(&name, args, strlen(args));
	if (!err)
		err = *name ? channel_var_set(ch, name, NULL) : EINVAL;
	mem_deref(name);
	return err;
}

static int app_set_global(struct channel *ch, const char *args, struct app_exec *x)
{
	const char *value;
	char *name = NULL;
	int err;

	(void)ch;
	(void)x;
	err = split_assign(args, &name, &value);
	if (!err)
		err = vars_global_set(name, value);
	mem_deref(name);
	return err;
}

/* log [<level>] <message>: without a known level the whole text logs at DEBUG. */
static int app_log(struct channel *ch, const char *args, struct app_exec *x)
{
	const char *sp = strchr(args, ' ');
	enum log_level level = LOGL_DEBUG;
	const char *msg = args;
	char word[16];

	(void)ch;
	(void)x;
	if (sp && (size_t)(sp - args) < sizeof(word)) {
		snprintf(word, sizeof(word), "%.*s", (int)(sp - args), args);
		if (!log_level_parse(word, &level))
			msg = sp + 1;
		else
			level = LOGL_DEBUG;
	} else if (!sp && !log_level_parse(args, &level)) {
		msg = "";
	}
	log_at(level, "%s\n", msg);
	return 0;
}

/* info: the channel's data, as FreeSWITCH prints it ("Name: [value]" lines). */
static int app_info(struct channel *ch, const char *args, struct app_exec *x)
{
	struct mbuf *mb;
	struct event *ev;
	size_t i, n;
	int err;

	(void)args;
	(void)x;
	err = channel_event_alloc(ch, EVENT_CHANNEL_DATA, NULL, &ev);
	if (err)
		return err;
	mb = mbuf_alloc(4096);
	if (!mb) {
		event_deref(ev);
		return ENOMEM;
	}
	err = mbuf_write_str(mb, "CHANNEL_DATA:\n");
	n = event_header_count(ev);
	for (i = 0; i < n && !err; i++) {
		const char *name, *value;

		event_header_at(ev, i, &name, &value);
		err = mbuf_printf(mb, "%s: [%s]\n", name, value);
		/* The log takes lines of a few KB; long dumps go out in pieces. */
		if (!err && (mb->end > INFO_CHUNK || i + 1 == n)) {
			log_info("%.*s", (int)mb->end, (const char *)mb->buf);
			mbuf_reset(mb);
		}
	}
	mem_deref(mb);
	event_deref(ev);
	return err;
}

/* Next comma-separated item of `*sp`; "\," is a literal comma. */
static int next_item(const char **sp, char **itemp)
{
	struct mbuf *mb;
	const char *s = *sp;
	int err = 0;

	mb = mbuf_alloc(64);
	if (!mb)
		return ENOMEM;
	for (; *s && *s != ',' && !err; s++) {
		if (*s == '\\' && s[1] == ',')
			s++;
		err = mbuf_write_u8(mb, (uint8_t)*s);
	}
	*sp = *s ? s + 1 : s;
	if (!err) {
		mb->pos = 0;
		err = mbuf_strdup(mb, itemp, mb->end);
	}
	mem_deref(mb);
	return err;
}

/*
 * event Event-Name=CUSTOM,Event-Subclass=x,Header=val,...: fire an event (by
 * default CHANNEL_APPLICATION) with these headers, then the channel's data
 * (mod_dptools event_function).
 */
struct event_item {
	struct le le;
	char *item;
	char *name;
	const char *value;          /* points into item */
};

static void event_item_destructor(void *data)
{
	struct event_item *it = data;

	list_unlink(&it->le);
	mem_deref(it->item);
	mem_deref(it->name);
}

static int app_event(struct channel *ch, const char *args, struct app_exec *x)
{
	enum event_id id = EVENT_CHANNEL_APPLICATION;
	const char *subclass = NULL;
	struct list items = LIST_INIT;
	const char *s = args;
	struct event *ev = NULL;
	struct le *le;
	int err = 0;

	(void)x;
	while (*s && !err) {
		struct event_item *it = mem_zalloc(sizeof(*it), event_item_destructor);

		if (!it) {
			err = ENOMEM;
			break;
		}
		list_append(&items, &it->le, it);
		err = next_item(&s, &it->item);
		if (err || split_assign(it->item, &it->name, &it->value) || !it->value) {
			mem_deref(it);     /* a blank or value-less item */
			continue;
		}
		while (*it->value == ' ')
			it->value++;
		if (!strcasecmp(it->name, "Event-Name")) {
			if (event_id_parse(it->value, &id))
				log_warn("%s: event: unknown Event-Name %s\n", channel_name(ch),
					 it->value);
		} else if (!strcasecmp(it->name, "Event-Subclass")) {
			subclass = it->value;
		}
	}
	if (!err)
		err = event_alloc(&ev, id, id == EVENT_CUSTOM ? subclass : NULL);
	for (le = items.head; le && !err; le = le->next) {
		const struct event_item *it = le->data;

		if (!strcasecmp(it->name, "Event-Name") ||
		    (!strcasecmp(it->name, "Event-Subclass") && id == EVENT_CUSTOM))
			continue;
		err = event_add_header(ev, it->name, it->value);
	}
	if (!err)
		err = channel_event_add_data(ch, ev);
	if (!err)
		bus_fire(ev);
	else if (ev)
		event_deref(ev);
	list_flush(&items);
	return err;
}

/* sched_hangup: one pending hangup, dropped when the channel goes first. */
struct sched {
	struct le le;
	struct tmr tmr;
	struct channel *ch;
	struct channel_watch *watch;
	enum hangup_cause cause;
};

static struct list scheds;

static void sched_destructor(void *data)
{
	struct sched *s = data;

	tmr_cancel(&s->tmr);
	list_unlink(&s->le);
	mem_deref(s->watch);
	mem_deref(s->ch);
}

static void sched_watch(struct channel *ch, enum channel_note note, const char *data,
			void *arg)
{
	(void)ch;
	(void)data;
	if (note == CHANNEL_NOTE_HANGUP)
		mem_deref(arg);
}

static void sched_fire(void *arg)
{
	struct sched *s = arg;

	log_info("%s: scheduled hangup: %s\n", channel_name(s->ch), cause_name(s->cause));
	channel_hangup(s->ch, s->cause);     /* sched_watch frees s */
}

/* sched_hangup +<secs> [<cause>] | <epoch> [<cause>]; default ALLOTTED_TIMEOUT. */
static int app_sched_hangup(struct channel *ch, const char *args, struct app_exec *x)
{
	enum hangup_cause cause = CAUSE_ALLOTTED_TIMEOUT;
	char when[32] = "", cname[64] = "";
	struct sched *s;
	long secs;
	char *end;
	int err;

	(void)x;
	if (sscanf(args, "%31s %63s", when, cname) < 1)
		return EINVAL;
	secs = strtol(when + (when[0] == '+'), &end, 10);
	if (*end || secs < 0)
		return EINVAL;
	if (when[0] != '+')
		secs = secs > (long)time(NULL) ? secs - (long)time(NULL) : 0;
	if (*cname && cause_parse(cname, &cause))
		cause = CAUSE_ALLOTTED_TIMEOUT;
	s = mem_zalloc(sizeof(*s), sched_destructor);
	if (!s)
		return ENOMEM;
	tmr_init(&s->tmr);
	s->ch = mem_ref(ch);
	s->cause = cause;
	err = channel_watch(&s->watch, ch, sched_watch, s);
	if (err) {
		mem_deref(s);
		return err;
	}
	list_append(&scheds, &s->le, s);
	tmr_start(&s->tmr, (uint64_t)secs * 1000, sched_fire, s);
	return 0;
}

/*
 * respond <code> [<reason>]: answer the call with a SIP status. The code is
 * left in respond_code for the endpoint; 1xx rings (183 with media), 2xx
 * answers, anything else ends the call with the cause that status maps to.
 */
static int app_respond(struct channel *ch, const char *args, struct app_exec *x)
{
	char *end;
	long code = strtol(args, &end, 10);
	const char *reason = end;

	(void)x;
	if (end == args || code < 100 || code > 699 || (*end && *end != ' '))
		return EINVAL;
	while (*reason == ' ')
		reason++;
	channel_var_setf(ch, "respond_code", "%ld", code);
	channel_var_set(ch, "respond_reason", *reason ? reason : NULL);
	if (code == 183)
		return channel_pre_answer(ch);
	if (code < 200)
		return channel_ring_ready(ch);
	if (code < 300)
		return channel_answer(ch);
	channel_hangup(ch, cause_from_sip((uint16_t)code));
	return 0;
}

/* eval: nothing beyond the expansion of its argument, which app_execute did. */
static int app_eval(struct channel *ch, const char *args, struct app_exec *x)
{
	(void)ch;
	(void)args;
	(void)x;
	return 0;
}

int apps_flow_init(void)
{
	static const struct {
		const char *name, *syntax;
		app_h *h;
	} apps[] = {
		{"export", "<varname>=<value>", app_export},
		{"unset", "<varname>", app_unset},
		{"set_global", "<varname>=<value>", app_set_global},
		{"log", "<log_level> <log_string>", app_log},
		{"info", "", app_info},
		{"event", "<event_data>", app_event},
		{"sched_hangup", "[+]<time> [<hangup_cause>]", app_sched_hangup},
		{"respond", "<respond_data>", app_respond},
		{"eval", "<expression>", app_eval},
	};
	size_t i;
	int err = 0;

	list_init(&scheds);
	for (i = 0; i < sizeof(apps) / sizeof(*apps) && !err; i++) {
		/* Already there after a close and a new init. */
		if (!app_exists(apps[i].name))
			err = app_register(apps[i].name, apps[i].syntax, apps[i].h);
	}
	return err;
}

void apps_flow_close(void)
{
	struct le *le;

	while ((le = scheds.head))
		mem_deref(le->data);
}
