/*
 * esl_cmd.c - the inbound event-socket commands, in FreeSWITCH's order of
 * matching and with its exact replies (spec/event-socket.md 4, reference
 * transcripts): auth, exit, filter, event/nixevent/noevents, api, bgapi,
 * sendevent, log/nolog, linger/nolinger, myevents, divert_events, sendmsg.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "core/api.h"
#include "core/uuid.h"
#include "event/bus.h"
#include "event/event.h"
#include "esl/esl_int.h"

/* Recent failed logins per source address, to slow down password guessing. */
#define FAIL_SLOTS 64
static struct {
	struct sa addr;
	unsigned count;
	time_t last;
} fails[FAIL_SLOTS];

static unsigned *fail_slot(const struct sa *peer, bool create)
{
	time_t now = time(NULL);
	size_t i, oldest = 0;

	for (i = 0; i < FAIL_SLOTS; i++) {
		if (fails[i].count && sa_cmp(&fails[i].addr, peer, SA_ADDR)) {
			/* Forget after ten quiet minutes. */
			if (now - fails[i].last > 600)
				fails[i].count = 0;
			fails[i].last = now;
			return &fails[i].count;
		}
		if (fails[i].last < fails[oldest].last)
			oldest = i;
	}
	if (!create)
		return NULL;
	fails[oldest].addr = *peer;
	fails[oldest].count = 0;
	fails[oldest].last = now;
	return &fails[oldest].count;
}

void esl_cmd_auth_failed(const struct sa *peer)
{
	unsigned *n = fail_slot(peer, true);

	if (n)
		(*n)++;
}

/* 0 for a first failure, then doubling from 250 ms up to 8 s. */
unsigned esl_cmd_auth_delay_ms(const struct sa *peer)
{
	unsigned *n = fail_slot(peer, false);
	unsigned d;

	if (!n || *n == 0)
		return 0;
	d = 250u << (*n > 6 ? 5 : *n - 1);
	return d > 8000 ? 8000 : d;
}

static bool cmd_is(const char *cmd, const char *word)
{
	return !strncasecmp(cmd, word, strlen(word));
}

/* What follows the command word and its blanks. */
static const char *cmd_args(const char *cmd, size_t wordlen)
{
	cmd += wordlen;
	while (*cmd == ' ' || *cmd == '\t')
		cmd++;
	return cmd;
}

static void reject_login(void *arg)
{
	struct esl_conn *c = arg;

	esl_conn_reply(c, "-ERR invalid");
	esl_conn_disconnect(c, ESL_BYE_MSG);
}

static void do_auth(struct esl_conn *c, const char *password)
{
	unsigned delay;

	if (!strcmp(password, c->cfg->password)) {
		c->authed = true;
		tmr_cancel(&c->auth_tmr);
		log_debug("esl: client %s authenticated\n", c->peer_str);
		esl_conn_reply(c, "+OK accepted");
		return;
	}
	delay = esl_cmd_auth_delay_ms(&c->peer);
	esl_cmd_auth_failed(&c->peer);
	log_warn("esl: failed login from %s\n", c->peer_str);
	if (!delay) {
		reject_login(c);
		return;
	}
	/* Repeat offenders wait for their answer; reading stops meanwhile. */
	c->rejecting = true;
	tmr_start(&c->reply_tmr, delay, reject_login, c);
}

static void api_done(int err, const char *out, size_t len, void *arg)
{
	struct esl_conn *c = arg;
	bool finished_later = c->api != NULL;

	(void)err;
	c->api = NULL;
	if (!len) {
		out = "-ERR no reply\n";
		len = strlen(out);
	}
	esl_conn_printf(c, "Content-Type: api/response\nContent-Length: %zu\n\n", len);
	esl_conn_send(c, out, len);
	if (finished_later)
		esl_conn_resume(c);
}

static void do_api(struct esl_conn *c, const char *line)
{
	struct api_call *call = NULL;

	/* Like FreeSWITCH, the connection runs nothing else until the command returns. */
	if (api_exec_line(&call, line, api_done, c) == EINPROGRESS)
		c->api = call;
}

/* A background job outlives the connection that asked for it. */
struct bgjob {
	char uuid[256];          /* a client's own Job-UUID is kept as given */
	char owner[64];          /* the channel a bound connection follows */
	char *line;
	char *cmd;
	char *args;
	struct tmr tmr;
};

static void bgjob_destructor(void *data)
{
	struct bgjob *j = data;

	tmr_cancel(&j->tmr);
	mem_deref(j->line);
}

static void bgjob_done(int err, const char *out, size_t len, void *arg)
{
	struct bgjob *j = arg;
	struct event *ev;

	(void)err;
	if (!event_alloc(&ev, EVENT_BACKGROUND_JOB, NULL)) {
		event_add_header(ev, "Job-UUID", j->uuid);
		event_add_header(ev, "Job-Owner-UUID", j->owner);
		event_add_header(ev, "Job-Command", j->cmd);
		event_add_header(ev, "Job-Command-Arg", j->args);
		event_set_body(ev, out, len);
		bus_fire(ev);
	}
	mem_deref(j);
}

static void bgjob_run(void *arg)
{
	struct bgjob *j = arg;

	/* api_exec always calls bgjob_done, now or later, which frees the job. */
	api_exec(NULL, j->cmd, j->args, bgjob_done, j);
}

static void split_line(char *line, char **cmdp, char **argsp)
{
	char *p = line;

	while (*p && *p != ' ' && *p != '\t')
		p++;
	if (*p) {
		*p++ = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
	}
	*cmdp = line;
	*argsp = *p ? p : NULL;
}

static void do_bgapi(struct esl_conn *c, const char *line, const struct esl_frame *f)
{
	const char *given = esl_frame_header(f, "Job-UUID");
	struct bgjob *j = mem_zalloc(sizeof(*j), bgjob_destructor);
	char *end;

	if (!j || str_dup(&j->line, line)) {
		mem_deref(j);
		esl_conn_reply(c, "-ERR memory error");
		return;
	}
	end = j->line + strlen(j->line);
	while (end > j->line && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	split_line(j->line, &j->cmd, &j->args);
	snprintf(j->owner, sizeof(j->owner), "%s", c->session_uuid);
	if (given && *given)
		snprintf(j->uuid, sizeof(j->uuid), "%s", given);
	else
		cfuuid_generate(j->uuid);
	esl_conn_printf(c, "Content-Type: command/reply\nReply-Text: +OK Job-UUID: %s\n"
			"Job-UUID: %s\n\n", j->uuid, j->uuid);
	/* Run after the reply is out, so the job's event can never overtake it. */
	tmr_start(&j->tmr, 0, bgjob_run, j);
}

static void do_sendevent(struct esl_conn *c, const char *name, const struct esl_frame *f)
{
	const char *subclass = esl_frame_header(f, "Event-Subclass");
	char uuid[UUID_STRLEN + 1], command[600];
	struct event *ev;
	enum event_id id = EVENT_CLONE;
	size_t i;
	int err;

	if (*name && event_id_parse(name, &id))
		id = EVENT_CLONE;
	err = event_alloc_bare(&ev, id);
	if (err) {
		esl_conn_reply(c, "-ERR memory error");
		return;
	}
	/* Order as the real server sends it (reference observed.md 1). */
	if (subclass && *subclass) {
		event_set_subclass(ev, subclass);
		event_add_header(ev, "Event-Subclass", subclass);
	}
	snprintf(command, sizeof(command), "%s", f->cmd);
	event_add_header(ev, "Command", command);
	for (i = 0; i < f->nhdrs; i++) {
		if (strcasecmp(f->hdrs[i].name, "Event-Subclass"))
			event_add_header(ev, f->hdrs[i].name, f->hdrs[i].value);
	}
	cfuuid_generate(uuid);
	event_add_header(ev, "Event-UUID", uuid);
	if (f->body)
		event_set_body(ev, f->body, f->body_len);
	event_add_common(ev);
	bus_fire(ev);
	esl_conn_printf(c, "Content-Type: command/reply\nReply-Text: +OK %s\n\n", uuid);
}

static void do_event(struct esl_conn *c, const char *tokens)
{
	enum event_format fmt = c->fmt;
	bool fmt_given;
	char reply[64];

	if (!esl_sub_event(c->sub, tokens, &fmt, &fmt_given)) {
		if (fmt_given)
			c->fmt = fmt;
		esl_conn_reply(c, "-ERR no keywords supplied");
		return;
	}
	c->fmt = fmt;
	c->listening = true;
	esl_conn_events_on(c);
	snprintf(reply, sizeof(reply), "+OK event listener enabled %s",
		 event_format_name(c->fmt));
	esl_conn_reply(c, reply);
}

static void do_log(struct esl_conn *c, const char *arg)
{
	enum log_level level = LOGL_DEBUG;
	char word[32] = "", reply[128];

	/* As mod_event_socket: the first word is the level, echoed as typed. */
	sscanf(arg, "%31s", word);
	if (*word && log_level_parse(word, &level)) {
		esl_conn_reply(c, "-ERR invalid log level");
		return;
	}
	esl_conn_log_on(c, level);
	snprintf(reply, sizeof(reply), "+OK log level %s [%d]", word, (int)level);
	esl_conn_reply(c, reply);
}

/*
 * Outbound connections without `full` know only these (spec/event-socket.md 7.1);
 * everything else is "command not found", as in FreeSWITCH.
 */
static bool single_channel_cmd(const char *cmd)
{
	static const char *const allowed[] = {"exit", "filter", "resume", "connect", "getvar",
					      "myevents", "divert_events", "sendmsg"};
	size_t i;

	for (i = 0; i < sizeof(allowed) / sizeof(*allowed); i++) {
		if (cmd_is(cmd, allowed[i]))
			return true;
	}
	return false;
}

static void handle_authed(struct esl_conn *c, const char *cmd, const struct esl_frame *f)
{
	const char *args = cmd_args(cmd, strcspn(cmd, " "));
	char reply[600];

	if (c->outbound && !c->full && !single_channel_cmd(cmd)) {
		esl_conn_reply(c, "-ERR command not found");
	} else if (cmd_is(cmd, "filter")) {
		esl_sub_filter(c->sub, cmd_args(cmd, 6), reply, sizeof(reply));
		esl_conn_reply(c, reply);
	} else if (esl_outbound_cmd(c, cmd, args) || esl_session_cmd(c, cmd, args, f)) {
		return;
	} else if (cmd_is(cmd, "sendevent")) {
		do_sendevent(c, cmd_args(cmd, 9), f);
	} else if (cmd_is(cmd, "api ")) {
		do_api(c, cmd_args(cmd, 4));
	} else if (cmd_is(cmd, "bgapi ")) {
		do_bgapi(c, cmd_args(cmd, 6), f);
	} else if (cmd_is(cmd, "log")) {
		do_log(c, cmd_args(cmd, 3));
	} else if (cmd_is(cmd, "nolog")) {
		esl_conn_reply(c, c->log ? "+OK no longer logging" : "-ERR not loging");
		esl_conn_log_off(c);
	} else if (cmd_is(cmd, "event")) {
		do_event(c, cmd_args(cmd, strcspn(cmd, " ")));
	} else if (cmd_is(cmd, "nixevent")) {
		esl_conn_reply(c, esl_sub_nix(c->sub, cmd_args(cmd, 8)) ?
			       "+OK events nixed" : "-ERR no keywords supplied");
	} else if (cmd_is(cmd, "noevents")) {
		if (c->bus)
			bus_flush(c->bus);
		esl_sub_clear(c->sub);
		esl_conn_reply(c, c->listening ? "+OK no longer listening for events" :
			       "-ERR not listening for events");
		c->listening = false;
	} else {
		esl_conn_reply(c, "-ERR command not found");
	}
}

void esl_cmd_handle(struct esl_conn *c, const struct esl_frame *f)
{
	const char *cmd = f->cmd;

	if (cmd_is(cmd, "exit") || cmd_is(cmd, "...")) {
		esl_conn_reply(c, "+OK bye");
		esl_conn_disconnect(c, ESL_BYE_MSG);
		return;
	}
	if (!c->authed) {
		if (cmd_is(cmd, "auth "))
			do_auth(c, cmd_args(cmd, 5));
		else
			esl_conn_reply(c, "-ERR command not found");
		return;
	}
	handle_authed(c, cmd, f);
}
