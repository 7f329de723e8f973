/*
 * esl_int.h - what the event socket's files share: the connection object and the
 * functions esl_conn.c (I/O) offers esl_cmd.c (commands).
 */
#ifndef CONFAB_ESL_INT_H
#define CONFAB_ESL_INT_H

#include <re.h>
#include "core/log.h"
#include "esl/esl.h"
#include "esl/esl_frame.h"
#include "esl/esl_sub.h"

struct api_call;
struct bus_sub;
struct channel;
struct log_sub;

struct esl_conn {
	struct le le;                /* in the server's client list */
	int fd;
	struct sa peer;
	char peer_str[64];
	const struct esl_cfg *cfg;

	char *in;                    /* unparsed input; parsed in place */
	size_t in_len, in_cap;
	struct mbuf *out;            /* bytes not yet written */

	bool authed;
	bool closing;                /* flush what is queued, then close */
	bool closed;                 /* socket gone, object about to be freed */
	bool reading_paused;
	bool in_io;                   /* handling a batch of input: hold writes */
	bool rejecting;               /* a failed login's delayed answer is pending */
	struct api_call *api;        /* `api` command in progress */

	struct esl_sub *sub;
	struct bus_sub *bus;
	enum event_format fmt;
	bool drain_pending;
	bool listening;               /* an `event` command succeeded (LFLAG_EVENTS) */
	struct tmr drain_tmr, auth_tmr, reply_tmr;

	struct log_sub *log;

	/* myevents <uuid>: the channel this connection follows (esl_session.c) */
	char session_uuid[64];
	char session_name[160];
	struct channel_watch *session;
	int linger;                  /* seconds; -1 until the client closes; 0 none */
	struct tmr linger_tmr;
	struct list msgq;            /* sendmsg executes waiting (event-lock) */

	/* Outbound (socket application) connections: esl_outbound.c */
	bool outbound;
	bool full;                   /* `full`: the whole command set */
	bool async;
	bool connected;              /* the application sent `connect` */
	void (*gone_h)(void *arg);   /* told when the connection is freed */
	void *gone_arg;
	bool exec_busy;
	bool myevents;               /* myevents was used (once per connection) */
	bool exec_starting;          /* inside app_execute for a queued message */
	uint64_t lost_logged_ms;
};

/* esl_conn.c */
int  esl_conn_accept(int fd, const struct sa *peer, const struct esl_cfg *cfg,
		     struct list *clients);
/* An outbound connection to an application server, bound to `ch`. */
int  esl_conn_outbound(struct esl_conn **cp, int fd, const struct sa *peer,
		       struct channel *ch, bool async, bool full);
void esl_conn_send(struct esl_conn *c, const char *buf, size_t len);
void esl_conn_printf(struct esl_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void esl_conn_reply(struct esl_conn *c, const char *text);
void esl_conn_disconnect(struct esl_conn *c, const char *msg);
void esl_conn_resume(struct esl_conn *c);      /* after an async command */
void esl_conn_events_on(struct esl_conn *c);   /* subscribe to the bus */
void esl_conn_flush_events(struct esl_conn *c);
void esl_conn_log_on(struct esl_conn *c, enum log_level level);
void esl_conn_log_off(struct esl_conn *c);

/* esl_session.c: myevents, divert_events, sendmsg, linger, nolinger. */
bool esl_session_cmd(struct esl_conn *c, const char *cmd, const char *args,
		     const struct esl_frame *f);
/* Follow `ch`: its hangup ends (or lingers) the connection. */
int  esl_session_bind(struct esl_conn *c, struct channel *ch);

/* esl_outbound.c: connect, resume, getvar; false if not an outbound command. */
bool esl_outbound_cmd(struct esl_conn *c, const char *cmd, const char *args);

/* esl_server.c: what outbound connections share with inbound ones. */
const struct esl_cfg *esl_server_cfg(void);
struct list *esl_server_clients(void);

/* esl_cmd.c: handle one complete frame. */
void esl_cmd_handle(struct esl_conn *c, const struct esl_frame *f);
void esl_cmd_auth_failed(const struct sa *peer);
unsigned esl_cmd_auth_delay_ms(const struct sa *peer);

/* The texts FreeSWITCH sends (spec/event-socket.md 3, reference transcripts). */
#define ESL_BYE_MSG      "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
#define ESL_SHUTDOWN_MSG "The system is being shut down.\n"
#define ESL_ACL_MSG      "Access Denied, go away.\n"

#endif
