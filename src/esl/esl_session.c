/*
 * esl_session.c - event-socket commands that act on a channel (spec/event-socket
 * .md 4.6, 4.8, 7.3): myevents binds a connection to a channel, sendmsg executes
 * applications or hangs up, divert_events, linger/nolinger, and what happens to
 * a bound connection when its channel hangs up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "channel/channel.h"
#include "dialplan/app.h"
#include "event/bus.h"
#include "esl/esl_int.h"

/*
 * One sendmsg execute. With event-lock it waits in the connection's queue for
 * the earlier ones; without, it runs at once on its own (its loops one after
 * another), as FreeSWITCH runs an unlocked message inside whatever is running.
 */
struct pending_msg {
	struct le le;
	char uuid[64];
	char *app, *arg, *event_uuid;
	int loops;
	bool busy, starting;         /* unlocked: an execution of it runs / is starting */
};

static void pending_destructor(void *data)
{
	struct pending_msg *m = data;

	list_unlink(&m->le);
	mem_deref(m->app);
	mem_deref(m->arg);
	mem_deref(m->event_uuid);
}

static void run_next(struct esl_conn *c);

static void exec_done(struct channel *ch, int err, void *arg)
{
	struct esl_conn *c = arg;

	(void)ch;
	(void)err;
	c->exec_busy = false;
	/* Finished inside app_execute: the loop in run_next goes on by itself. */
	if (!c->exec_starting)
		run_next(c);
	mem_deref(c);
}

/* Start queued messages in order until one is still running. */
static void run_next(struct esl_conn *c)
{
	struct le *le;

	while (!c->exec_busy && (le = c->msgq.head)) {
		struct pending_msg *m = le->data;
		struct channel *ch = channel_find(m->uuid);
		int err;

		if (!ch || m->loops <= 0) {
			mem_deref(m);
			continue;
		}
		m->loops--;
		c->exec_busy = true;
		c->exec_starting = true;
		mem_ref(c);
		err = app_execute(ch, m->app, m->arg, m->event_uuid, exec_done, c);
		c->exec_starting = false;
		/* Refused before it ran (no such application): exec_done never comes. */
		if (err == ENOENT || err == ENOMEM) {
			c->exec_busy = false;
			m->loops = 0;
			mem_deref(c);
		}
	}
}

static void fire_private_command(struct channel *ch, const struct esl_frame *f)
{
	struct event *ev;
	size_t i;

	if (channel_event_alloc(ch, EVENT_PRIVATE_COMMAND, NULL, &ev))
		return;
	for (i = 0; i < f->nhdrs; i++)
		event_add_header(ev, f->hdrs[i].name, f->hdrs[i].value);
	bus_fire(ev);
}

static void free_run(struct pending_msg *m);

static void free_done(struct channel *ch, int err, void *arg)
{
	struct pending_msg *m = arg;

	(void)ch;
	(void)err;
	m->busy = false;
	/* Finished inside app_execute: the loop in free_run goes on by itself. */
	if (!m->starting)
		free_run(m);
}

/* An unlocked message: run its loops; it frees itself when done. */
static void free_run(struct pending_msg *m)
{
	while (!m->busy) {
		struct channel *ch = channel_find(m->uuid);
		int err;

		if (!ch || m->loops <= 0) {
			mem_deref(m);
			return;
		}
		m->loops--;
		m->busy = true;
		m->starting = true;
		err = app_execute(ch, m->app, m->arg, m->event_uuid, free_done, m);
		m->starting = false;
		/* Refused before it ran: free_done never comes. */
		if (err == ENOENT || err == ENOMEM) {
			mem_deref(m);
			return;
		}
	}
}

static int queue_execute(struct esl_conn *c, struct channel *ch, const struct esl_frame *f)
{
	const char *app = esl_frame_header(f, "execute-app-name");
	const char *arg = esl_frame_header(f, "execute-app-arg");
	const char *loops = esl_frame_header(f, "loops");
	const char *ctype = esl_frame_header(f, "Content-Type");
	struct pending_msg *m;
	int err = 0;

	if (!app || !*app)
		return EINVAL;
	/* The argument may come as a text/plain body instead of a header. */
	if (!arg && f->body && ctype && !strcasecmp(ctype, "text/plain"))
		arg = f->body;
	m = mem_zalloc(sizeof(*m), pending_destructor);
	if (!m)
		return ENOMEM;
	snprintf(m->uuid, sizeof(m->uuid), "%s", channel_uuid(ch));
	m->loops = loops ? atoi(loops) : 1;
	if (m->loops < 0)
		m->loops = 1000000;     /* -1: for as long as the channel lives */
	if (m->loops == 0)
		m->loops = 1;
	err |= str_dup(&m->app, app);
	if (arg)
		err |= str_dup(&m->arg, arg);
	if (esl_frame_header(f, "event-uuid"))
		err |= str_dup(&m->event_uuid, esl_frame_header(f, "event-uuid"));
	if (err) {
		mem_deref(m);
		return ENOMEM;
	}
	/* spec/event-socket.md 4.6: event-lock (any value) runs it after the earlier ones. */
	if (!esl_frame_header(f, "event-lock")) {
		free_run(m);
		return 0;
	}
	list_append(&c->msgq, &m->le, m);
	run_next(c);
	return 0;
}

static void do_sendmsg(struct esl_conn *c, const char *args, const struct esl_frame *f)
{
	const char *uuid = *args ? args : esl_frame_header(f, "Session-ID");
	const char *cmd = esl_frame_header(f, "call-command");
	struct channel *ch;
	char reply[160];
	int err = 0;

	if (!uuid || !*uuid)
		uuid = c->session_uuid;
	ch = channel_find(uuid);
	if (!ch) {
		snprintf(reply, sizeof(reply), "-ERR invalid session id [%.64s]", uuid);
		esl_conn_reply(c, reply);
		return;
	}
	fire_private_command(ch, f);
	if (cmd && !strcasecmp(cmd, "execute")) {
		err = queue_execute(c, ch, f);
	} else if (cmd && !strcasecmp(cmd, "hangup")) {
		const char *hc = esl_frame_header(f, "hangup-cause");
		enum hangup_cause cause = CAUSE_NORMAL_CLEARING;

		if (hc && cause_parse(hc, &cause))
			cause = CAUSE_NORMAL_CLEARING;
		channel_hangup(ch, cause);
	} else {
		snprintf(reply, sizeof(reply), "-ERR unsupported call-command [%.64s]",
			 cmd ? cmd : "");
		esl_conn_reply(c, reply);
		return;
	}
	esl_conn_reply(c, err == ENOMEM ? "-ERR memory error" :
		       err ? "-ERR missing execute-app-name" : "+OK");
}

static void linger_over(void *arg)
{
	struct esl_conn *c = arg;

	esl_conn_flush_events(c);
	esl_conn_disconnect(c, ESL_BYE_MSG);
}

/* The bound channel is gone: linger if asked to, then say goodbye. */
static void session_ended(void *arg)
{
	struct esl_conn *c = arg;

	if (c->linger == 0) {
		linger_over(c);
		return;
	}
	esl_conn_printf(c, "Content-Type: text/disconnect-notice\nControlled-Session-UUID: %s\n"
			"Content-Disposition: linger\nChannel-Name: %s\nLinger-Time: %d\n"
			"Content-Length: 0\n\n", c->session_uuid, c->session_name, c->linger);
	if (c->linger > 0)
		tmr_start(&c->linger_tmr, (uint64_t)c->linger * 1000, linger_over, c);
}

static void session_watch(struct channel *ch, enum channel_note note, const char *data,
			  void *arg)
{
	struct esl_conn *c = arg;

	(void)ch;
	(void)data;
	if (note != CHANNEL_NOTE_HANGUP)
		return;
	/* Next turn, so the hangup events fired after this note are queued too. */
	tmr_start(&c->linger_tmr, 0, session_ended, c);
}

int esl_session_bind(struct esl_conn *c, struct channel *ch)
{
	struct channel_watch *w = NULL;
	int err = channel_watch(&w, ch, session_watch, c);

	if (err)
		return err;
	/* Following another channel now: the old one's hangup is none of ours. */
	mem_deref(c->session);
	tmr_cancel(&c->linger_tmr);
	c->session = w;
	snprintf(c->session_uuid, sizeof(c->session_uuid), "%s", channel_uuid(ch));
	snprintf(c->session_name, sizeof(c->session_name), "%s", channel_name(ch));
	return 0;
}

/*
 * Inbound: myevents <uuid> [format] binds the connection to that channel.
 * Outbound: myevents [format] follows the controlled channel.
 */
static void do_myevents(struct esl_conn *c, const char *args)
{
	char uuid[64] = "", fmt[16] = "";
	struct channel *ch;
	enum event_format f;

	if (c->myevents) {
		esl_conn_reply(c, "-ERR aready enabled.");   /* sic, FreeSWITCH's text */
		return;
	}
	if (c->outbound) {
		sscanf(args, "%15s", fmt);
	} else {
		sscanf(args, "%63s %15s", uuid, fmt);
		ch = channel_find(uuid);
		if (!ch || esl_session_bind(c, ch)) {
			esl_conn_reply(c, "-ERR invalid uuid");
			return;
		}
	}
	if (!event_format_parse(fmt, &f))
		c->fmt = f;
	esl_sub_myevents(c->sub, c->session_uuid);
	c->myevents = true;
	c->listening = true;
	esl_conn_events_on(c);
	esl_conn_reply(c, "+OK Events Enabled");
}

bool esl_session_cmd(struct esl_conn *c, const char *cmd, const char *args,
		     const struct esl_frame *f)
{
	char reply[64];

	if (!strncasecmp(cmd, "myevents", 8)) {
		do_myevents(c, args);
	} else if (!strncasecmp(cmd, "divert_events", 13)) {
		if (!c->session_uuid[0])
			esl_conn_reply(c, "-ERR not controlling a session.");
		else if (!*args)
			esl_conn_reply(c, "-ERR missing value.");
		else
			esl_conn_reply(c, strncasecmp(args, "on", 2) ? "+OK events not diverted" :
				       "+OK events diverted");
	} else if (!strncasecmp(cmd, "sendmsg", 7)) {
		do_sendmsg(c, args, f);
	} else if (!strncasecmp(cmd, "nolinger", 8)) {
		if (!c->session_uuid[0]) {
			esl_conn_reply(c, "-ERR not controlling a session");
		} else {
			c->linger = 0;
			esl_conn_reply(c, "+OK will not linger");
		}
	} else if (!strncasecmp(cmd, "linger", 6)) {
		if (!c->session_uuid[0]) {
			esl_conn_reply(c, "-ERR not controlling a session");
			return true;
		}
		c->linger = *args ? atoi(args) : -1;
		if (c->linger > 0)
			snprintf(reply, sizeof(reply), "+OK will linger %d seconds", c->linger);
		else
			snprintf(reply, sizeof(reply), "+OK will linger");
		esl_conn_reply(c, reply);
	} else {
		return false;
	}
	return true;
}
