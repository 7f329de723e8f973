/*
 * esl_outbound.c - outbound event socket: the `socket` application connects the
 * channel to an application server, which then drives the call with the
 * event-socket protocol (spec/event-socket.md 7): connect, myevents, sendmsg,
 * getvar, resume, linger; `full` opens the whole command set.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include "channel/channel.h"
#include "dialplan/app.h"
#include "event/bus.h"
#include "esl/esl_int.h"
#include "esl/esl_outbound.h"

#define DEFAULT_PORT 8084
#define CONNECT_TIMEOUT_MS 5000
#define MAX_TARGETS 8

/* One run of the socket application. */
struct sockapp {
	struct app_exec *x;
	char targets[MAX_TARGETS][256];
	size_t n, next;
	bool async, full;
	int fd;
	struct sa peer;
	struct tmr tmr;
	struct esl_conn *conn;       /* while connected; not a reference */
};

static void try_next(struct sockapp *sa);

static void sockapp_destructor(void *data)
{
	struct sockapp *sa = data;

	tmr_cancel(&sa->tmr);
	if (sa->fd >= 0) {
		fd_close(sa->fd);
		close(sa->fd);
	}
	if (sa->conn)
		sa->conn->gone_h = NULL;
}

static void finish(struct sockapp *sa, const char *response)
{
	struct app_exec *x = sa->x;

	app_exec_on_cancel(x, NULL, NULL);
	mem_deref(sa);
	app_exec_done(x, response);
}

/* The connection was freed: the application is done with the call. */
static void conn_gone(void *arg)
{
	struct sockapp *sa = arg;

	sa->conn = NULL;
	finish(sa, NULL);
}

static void connected(struct sockapp *sa)
{
	struct channel *ch = app_exec_channel(sa->x);
	int fd = sa->fd, one = 1;

	fd_close(fd);
	tmr_cancel(&sa->tmr);
	sa->fd = -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (esl_conn_outbound(&sa->conn, fd, &sa->peer, ch, sa->async, sa->full)) {
		close(fd);
		log_err("socket: cannot serve %s: out of memory\n", sa->targets[sa->next - 1]);
		finish(sa, "-ERR memory");
		return;
	}
	sa->conn->gone_h = conn_gone;
	sa->conn->gone_arg = sa;
	log_info("%s: socket connected to %s (%s%s)\n", channel_name(ch),
		 sa->targets[sa->next - 1], sa->async ? "async" : "static",
		 sa->full ? ", full" : "");
}

static void connect_failed(struct sockapp *sa, int err)
{
	log_warn("%s: socket: cannot connect to %s: %s\n",
		 channel_name(app_exec_channel(sa->x)), sa->targets[sa->next - 1],
		 strerror(err));
	fd_close(sa->fd);
	close(sa->fd);
	sa->fd = -1;
	try_next(sa);
}

static void on_writable(int flags, void *arg)
{
	struct sockapp *sa = arg;
	socklen_t len = sizeof(int);
	int err = 0;

	(void)flags;
	if (getsockopt(sa->fd, SOL_SOCKET, SO_ERROR, &err, &len))
		err = errno;
	if (err)
		connect_failed(sa, err);
	else
		connected(sa);
}

static void on_timeout(void *arg)
{
	connect_failed(arg, ETIMEDOUT);
}

/* Length of the host part of host[:port][/path] or [v6][:port][/path]. */
static size_t host_len(const char *t)
{
	if (t[0] == '[')
		return strcspn(t, "]") + (strchr(t, ']') ? 1 : 0);
	return strcspn(t, ":/");
}

/* host, host:port, [v6]:port, or host:port/path (socket_path). */
static int parse_target(const char *t, struct sa *sa, char *path, size_t psz)
{
	char host[256];
	const char *slash = strchr(t, '/');
	size_t n = slash ? (size_t)(slash - t) : strlen(t);

	*path = '\0';
	if (slash)
		snprintf(path, psz, "%s", slash + 1);
	if (n >= sizeof(host))
		return EINVAL;
	memcpy(host, t, n);
	host[n] = '\0';
	if (!sa_decode(sa, host, n))
		return 0;
	return sa_set_str(sa, host, DEFAULT_PORT);
}

static void try_next(struct sockapp *sa)
{
	struct channel *ch = app_exec_channel(sa->x);

	while (sa->next < sa->n) {
		const char *t = sa->targets[sa->next++];
		char path[128];
		int err;

		if (parse_target(t, &sa->peer, path, sizeof(path))) {
			log_warn("%s: socket: '%s' is not host[:port]\n", channel_name(ch), t);
			continue;
		}
		channel_var_setf(ch, "socket_host", "%.*s", (int)host_len(t), t);
		channel_var_set(ch, "socket_path", path);
		sa->fd = socket(sa_af(&sa->peer), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (sa->fd < 0)
			continue;
		if (!connect(sa->fd, &sa->peer.u.sa, sa->peer.len)) {
			connected(sa);
			return;
		}
		err = errno;
		if (err == EINPROGRESS && !fd_listen(sa->fd, FD_WRITE, on_writable, sa)) {
			tmr_start(&sa->tmr, CONNECT_TIMEOUT_MS, on_timeout, sa);
			return;
		}
		connect_failed(sa, err);
		return;
	}
	/* Nobody answered: the dialplan goes on after the socket action. */
	log_err("%s: socket: no application server could be reached\n", channel_name(ch));
	finish(sa, "-ERR connect failed");
}

static void sockapp_cancel(void *data)
{
	struct sockapp *sa = data;

	if (sa->conn)
		sa->conn->gone_h = NULL;
	mem_deref(sa);
}

/* socket <host>[:<port>][|<host2>...] [async] [full] */
static int app_socket(struct channel *ch, const char *args, struct app_exec *x)
{
	struct sockapp *sa = mem_zalloc(sizeof(*sa), sockapp_destructor);
	char word[1024];
	const char *p = args;
	int n;

	if (!sa)
		return ENOMEM;
	sa->fd = -1;
	sa->x = x;
	tmr_init(&sa->tmr);
	while (p && sscanf(p, "%1023s%n", word, &n) == 1) {
		p += n;
		if (!strcasecmp(word, "async")) {
			sa->async = true;
		} else if (!strcasecmp(word, "full")) {
			sa->full = true;
		} else {
			char *save = NULL, *t;

			for (t = strtok_r(word, "|", &save); t && sa->n < MAX_TARGETS;
			     t = strtok_r(NULL, "|", &save))
				snprintf(sa->targets[sa->n++], sizeof(sa->targets[0]), "%s", t);
		}
	}
	if (!sa->n) {
		mem_deref(sa);
		return EINVAL;
	}
	app_exec_on_cancel(x, sockapp_cancel, sa);
	try_next(sa);
	return EINPROGRESS;
}

/* The connect reply: the channel's data as a CHANNEL_DATA event (7.2). */
static void send_channel_data(struct esl_conn *c, struct channel *ch)
{
	struct mbuf *mb = mbuf_alloc(4096);
	struct event *ev;

	if (!mb || event_alloc(&ev, EVENT_CHANNEL_DATA, NULL)) {
		mem_deref(mb);
		esl_conn_reply(c, "-ERR memory error");
		return;
	}
	channel_event_add_profile(ch, ev, "Channel");
	channel_event_add_data(ch, ev);
	event_add_header(ev, "Content-Type", "command/reply");
	event_add_header(ev, "Reply-Text", "+OK\n");
	event_add_header(ev, "Socket-Mode", c->async ? "async" : "static");
	event_add_header(ev, "Control", c->full ? "full" : "single-channel");
	if (!event_serialize(ev, EVENT_FMT_PLAIN, mb))
		esl_conn_send(c, (const char *)mb->buf, mb->end);
	event_deref(ev);
	mem_deref(mb);
}

bool esl_outbound_cmd(struct esl_conn *c, const char *cmd, const char *args)
{
	struct channel *ch;
	char reply[600];

	if (!c->outbound)
		return false;
	ch = channel_find(c->session_uuid);
	if (!strncasecmp(cmd, "connect", 7)) {
		tmr_cancel(&c->auth_tmr);
		c->connected = true;
		if (ch)
			send_channel_data(c, ch);
		else
			esl_conn_reply(c, "-ERR invalid session id");
	} else if (!strncasecmp(cmd, "resume", 6)) {
		if (ch)
			channel_var_set(ch, "socket_resume", "true");
		esl_conn_reply(c, "+OK");
	} else if (!strncasecmp(cmd, "getvar", 6)) {
		const char *v = ch ? channel_var_lookup(ch, args) : NULL;

		if (!v || !*v) {
			esl_conn_reply(c, "-ERR command not found");
			return true;
		}
		snprintf(reply, sizeof(reply), "%s", v);
		esl_conn_reply(c, reply);
	} else {
		return false;
	}
	return true;
}

int esl_outbound_init(void)
{
	return app_register("socket", "<ip>[:<port>] [async] [full]", app_socket);
}
