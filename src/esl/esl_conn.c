/*
 * esl_conn.c - one event-socket connection: non-blocking reads split into frames,
 * a write buffer with back-pressure, and delivery of queued events and log lines.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include "core/api.h"
#include "core/strfmt.h"
#include "event/bus.h"
#include "event/event.h"
#include "esl/esl_int.h"

/* Stop pulling events into the write buffer above this; resume when written. */
#define OUT_HIGH_WATER (256 * 1024)
/* A client that does not read its replies: stop reading its commands. */
#define OUT_PAUSE_READ (4 * 1024 * 1024)
#define IN_CHUNK       (64 * 1024)
#define IN_MAX         (ESL_FRAME_MAX_HEAD + ESL_FRAME_MAX_BODY + IN_CHUNK)

static void conn_io(int flags, void *arg);
static void conn_process(struct esl_conn *c);
static void conn_drain(void *arg);
static void conn_wake(void *arg);
static void auth_timeout(void *arg);

/*
 * The write buffer: bytes [pos, end) are waiting for the socket. mbuf's writes
 * move pos, so appends save and restore it.
 */
static int out_append(struct mbuf *out, const void *buf, size_t len)
{
	size_t rpos = out->pos;
	int err;

	out->pos = out->end;
	err = mbuf_write_mem(out, buf, len);
	out->pos = rpos;
	return err;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void conn_destructor(void *data)
{
	struct esl_conn *c = data;

	if (c->gone_h)
		c->gone_h(c->gone_arg);
	list_unlink(&c->le);
	tmr_cancel(&c->drain_tmr);
	tmr_cancel(&c->auth_tmr);
	tmr_cancel(&c->reply_tmr);
	tmr_cancel(&c->linger_tmr);
	list_flush(&c->msgq);
	mem_deref(c->session);
	api_call_abandon(c->api);
	mem_deref(c->log);
	mem_deref(c->bus);
	mem_deref(c->sub);
	if (c->fd >= 0) {
		fd_close(c->fd);
		close(c->fd);
	}
	free(c->in);
	mem_deref(c->out);
}

/* Close now: the object stays alive until the current handler returns. */
static void conn_close(struct esl_conn *c)
{
	if (c->closed)
		return;
	c->closed = true;
	mem_deref(c);
}

static void update_listen(struct esl_conn *c)
{
	int flags = 0;

	if (c->closed)
		return;
	if (!c->reading_paused && !c->closing && !c->rejecting)
		flags |= FD_READ;
	if (c->out->end > c->out->pos)
		flags |= FD_WRITE;
	if (flags)
		fd_listen(c->fd, flags, conn_io, c);
	else
		fd_close(c->fd);
}

/* Write what we can; returns false if the connection was closed. */
static bool conn_flush(struct esl_conn *c)
{
	struct mbuf *out = c->out;

	while (out->end > out->pos) {
		ssize_t n = send(c->fd, out->buf + out->pos, out->end - out->pos,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_info("esl: client %s went away while writing: %s\n", c->peer_str,
				 n < 0 ? strerror(errno) : "closed");
			conn_close(c);
			return false;
		}
		out->pos += (size_t)n;
	}
	if (out->pos == out->end) {
		mbuf_reset(out);
		if (c->closing) {
			conn_close(c);
			return false;
		}
	}
	return true;
}

void esl_conn_send(struct esl_conn *c, const char *buf, size_t len)
{
	bool was_empty;

	if (c->closed)
		return;
	was_empty = c->out->end == c->out->pos;
	if (out_append(c->out, buf, len)) {
		log_err("esl: out of memory queueing %zu bytes for %s\n", len, c->peer_str);
		conn_close(c);
		return;
	}
	/*
	 * While a batch of commands is being handled the replies collect and go out
	 * in one write at the end; otherwise try the socket at once.
	 */
	if (c->in_io)
		return;
	if (was_empty && !conn_flush(c))
		return;
	update_listen(c);
}

void esl_conn_printf(struct esl_conn *c, const char *fmt, ...)
{
	char buf[1024], *s;
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	s = strfmt_v(buf, sizeof(buf), &len, fmt, ap);
	va_end(ap);
	if (!s)
		return;
	esl_conn_send(c, s, len);
	strfmt_free(s, buf);
}

void esl_conn_reply(struct esl_conn *c, const char *text)
{
	/* Reply texts are capped at 511 bytes, as FreeSWITCH's buffer does (2.2). */
	esl_conn_printf(c, "Content-Type: command/reply\nReply-Text: %.511s\n\n", text);
}

void esl_conn_disconnect(struct esl_conn *c, const char *msg)
{
	if (c->closing || c->closed)
		return;
	/* Writing the notice may find the peer gone and close the connection. */
	mem_ref(c);
	/* An outbound socket's notice names its channel (spec/event-socket.md 2.2). */
	if (c->outbound)
		esl_conn_printf(c, "Content-Type: text/disconnect-notice\n"
				"Controlled-Session-UUID: %s\nContent-Disposition: disconnect\n"
				"Content-Length: %zu\n\n%s", c->session_uuid, strlen(msg), msg);
	else
		esl_conn_printf(c, "Content-Type: text/disconnect-notice\n"
				"Content-Length: %zu\n\n%s", strlen(msg), msg);
	c->closing = true;
	if (!c->closed && c->out->end == c->out->pos)
		conn_close(c);
	else
		update_listen(c);
	mem_deref(c);
}

/* Event frames: Content-Length first, as FreeSWITCH writes them (2.2). */
static void write_event(struct esl_conn *c, struct event *ev, uint64_t lost)
{
	size_t len;
	const char *ser = event_serialized(ev, c->fmt, &len);
	char head[160];
	int n;

	if (!ser)
		return;
	if (lost)
		n = snprintf(head, sizeof(head),
			     "Content-Length: %zu\nContent-Type: text/event-%s\n"
			     "Events-Lost: %llu\n\n", len, event_format_name(c->fmt),
			     (unsigned long long)lost);
	else
		n = snprintf(head, sizeof(head),
			     "Content-Length: %zu\nContent-Type: text/event-%s\n\n", len,
			     event_format_name(c->fmt));
	if (out_append(c->out, head, (size_t)n) || out_append(c->out, ser, len))
		log_err("esl: out of memory writing an event to %s\n", c->peer_str);
}

static void report_loss(struct esl_conn *c, uint64_t lost, uint64_t total)
{
	uint64_t now = mono_ms();

	/* Once a second at most, so a flood of losses does not flood the log. */
	if (now - c->lost_logged_ms < 1000)
		return;
	c->lost_logged_ms = now;
	log_warn("esl: client %s is too slow: %llu events lost (%llu in all)\n",
		 c->peer_str, (unsigned long long)lost, (unsigned long long)total);
}

/*
 * Move queued events into the write buffer and onto the socket, a bounded amount
 * per turn so one busy subscriber cannot hold the loop; the socket becoming
 * writable, or the next turn, continues.
 */
static void conn_drain(void *arg)
{
	struct esl_conn *c = arg;
	unsigned rounds = 4;

	c->drain_pending = false;
	if (c->closed || c->closing || !c->bus)
		return;
	mem_ref(c);
	while (rounds--) {
		while (c->out->end - c->out->pos < OUT_HIGH_WATER) {
			uint64_t lost;
			struct event *ev = bus_pop(c->bus, &lost);

			if (!ev)
				break;
			/* The first event after a gap says how many were lost in all. */
			if (lost) {
				uint64_t total = bus_lost_total(c->bus);

				report_loss(c, lost, total);
				write_event(c, ev, total);
			} else {
				write_event(c, ev, 0);
			}
			event_deref(ev);
		}
		if (!conn_flush(c))
			goto out;
		/* Socket full: wait for it to become writable. */
		if (c->out->end > c->out->pos || !bus_pending(c->bus))
			break;
	}
	if (c->out->end == c->out->pos && bus_pending(c->bus))
		conn_wake(c);
	update_listen(c);
 out:
	mem_deref(c);
}

static void conn_wake(void *arg)
{
	struct esl_conn *c = arg;

	if (c->drain_pending)
		return;
	c->drain_pending = true;
	/* Fan-out must stay cheap: deliver on the next loop turn. */
	tmr_start(&c->drain_tmr, 0, conn_drain, c);
}

static bool conn_match(const struct event *ev, void *arg)
{
	struct esl_conn *c = arg;

	return esl_sub_match(c->sub, ev);
}

/* Shutdown: no more loop turns, so queued events go out now, as far as they fit. */
void esl_conn_flush_events(struct esl_conn *c)
{
	/* conn_drain holds its own reference while it writes. */
	if (c->bus && !c->closed && !c->closing)
		conn_drain(c);
}

void esl_conn_events_on(struct esl_conn *c)
{
	if (c->bus)
		return;
	if (bus_subscribe(&c->bus, c->cfg->queue_size, conn_match, conn_wake, c))
		log_err("esl: cannot subscribe %s to events\n", c->peer_str);
}

static void conn_log(const struct log_line *ll, void *arg)
{
	struct esl_conn *c = arg;
	size_t len = strlen(ll->full);

	if (c->closed || c->closing || c->out->end - c->out->pos > OUT_PAUSE_READ)
		return;
	esl_conn_printf(c, "Content-Type: log/data\nContent-Length: %zu\nLog-Level: %d\n"
			"Text-Channel: 0\nLog-File: %s\nLog-Func: %s\nLog-Line: %u\n"
			"User-Data: \n\n", len, ll->level, ll->file, ll->func, ll->line);
	esl_conn_send(c, ll->full, len);
}

void esl_conn_log_on(struct esl_conn *c, enum log_level level)
{
	if (c->log) {
		log_sub_set_level(c->log, level);
		return;
	}
	if (log_subscribe(&c->log, level, conn_log, c))
		log_err("esl: cannot send log lines to %s\n", c->peer_str);
}

void esl_conn_log_off(struct esl_conn *c)
{
	c->log = mem_deref(c->log);
}

/* Parse and run every complete frame in the input buffer. */
static void conn_process(struct esl_conn *c)
{
	size_t off = 0;

	while (!c->closed && !c->closing && !c->rejecting && !c->api && off < c->in_len) {
		struct esl_frame f;
		size_t used = 0;
		int err = esl_frame_parse(c->in + off, c->in_len - off, &used, &f);

		if (err == EAGAIN) {
			off += used;     /* blank lines skipped */
			break;
		}
		if (err) {
			log_warn("esl: client %s sent a malformed frame (%s), disconnecting\n",
				 c->peer_str, err == E2BIG ? "head too long" :
				 "bad Content-Length or too many headers");
			esl_conn_reply(c, "-ERR command parse error.");
			esl_conn_disconnect(c, ESL_BYE_MSG);
			return;
		}
		off += used;
		esl_cmd_handle(c, &f);
	}
	if (c->closed)
		return;
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
}

void esl_conn_resume(struct esl_conn *c)
{
	mem_ref(c);
	conn_process(c);
	if (!c->closed) {
		c->reading_paused = c->out->end - c->out->pos > OUT_PAUSE_READ;
		update_listen(c);
	}
	mem_deref(c);
}

static bool conn_read(struct esl_conn *c)
{
	ssize_t n;

	if (c->in_cap - c->in_len < IN_CHUNK) {
		size_t ncap = c->in_cap + IN_CHUNK * 2;
		char *nin;

		if (ncap > IN_MAX) {
			log_warn("esl: client %s sent an oversized frame, disconnecting\n",
				 c->peer_str);
			esl_conn_reply(c, "-ERR command parse error.");
			esl_conn_disconnect(c, ESL_BYE_MSG);
			return false;
		}
		nin = realloc(c->in, ncap);
		if (!nin) {
			conn_close(c);
			return false;
		}
		c->in = nin;
		c->in_cap = ncap;
	}
	n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len - 1, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return true;
	if (n <= 0) {
		log_debug("esl: client %s disconnected%s%s\n", c->peer_str,
			  n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
		conn_close(c);
		return false;
	}
	c->in_len += (size_t)n;
	return true;
}

static void conn_io(int flags, void *arg)
{
	struct esl_conn *c = arg;

	mem_ref(c);
	if ((flags & FD_WRITE) && !conn_flush(c))
		goto out;
	if ((flags & FD_READ) && !c->reading_paused && !c->closing && !c->rejecting &&
	    conn_read(c)) {
		c->in_io = true;
		conn_process(c);
		c->in_io = false;
	}
	if (c->closed || !conn_flush(c))
		goto out;
	c->reading_paused = c->out->end - c->out->pos > OUT_PAUSE_READ;
	/* Room in the write buffer again: pull more queued events. */
	if (c->bus && !c->drain_pending && bus_pending(c->bus) &&
	    c->out->end - c->out->pos < OUT_HIGH_WATER)
		conn_wake(c);
	update_listen(c);
 out:
	mem_deref(c);
}

static void auth_timeout(void *arg)
{
	struct esl_conn *c = arg;

	log_warn("esl: client %s did not %s in %u s, disconnecting\n", c->peer_str,
		 c->outbound ? "send connect" : "authenticate", c->cfg->auth_timeout);
	esl_conn_disconnect(c, ESL_BYE_MSG);
}

static int conn_alloc(struct esl_conn **cp, int fd, const struct sa *peer,
		      const struct esl_cfg *cfg)
{
	struct esl_conn *c = mem_zalloc(sizeof(*c), conn_destructor);
	int err;

	if (!c)
		return ENOMEM;
	c->fd = fd;
	c->cfg = cfg;
	c->peer = *peer;
	re_snprintf(c->peer_str, sizeof(c->peer_str), "%J", peer);
	c->out = mbuf_alloc(4096);
	err = c->out ? esl_sub_alloc(&c->sub) : ENOMEM;
	if (err) {
		c->fd = -1;      /* the caller still owns the socket */
		mem_deref(c);
		return err;
	}
	*cp = c;
	return 0;
}

/*
 * Outbound connections are authenticated by being ours: no greeting, and the
 * application speaks first with `connect` (spec/event-socket.md 7.1).
 */
int esl_conn_outbound(struct esl_conn **cp, int fd, const struct sa *peer,
		      struct channel *ch, bool async, bool full)
{
	struct esl_conn *c;
	int err = conn_alloc(&c, fd, peer, esl_server_cfg());

	if (err)
		return err;
	c->authed = true;
	c->outbound = true;
	c->async = async;
	c->full = full;
	err = esl_session_bind(c, ch);
	if (err) {
		c->fd = -1;
		mem_deref(c);
		return err;
	}
	list_append(esl_server_clients(), &c->le, c);
	tmr_start(&c->auth_tmr, c->cfg->auth_timeout * 1000ull, auth_timeout, c);
	update_listen(c);
	*cp = c;
	return 0;
}

int esl_conn_accept(int fd, const struct sa *peer, const struct esl_cfg *cfg,
		    struct list *clients)
{
	struct esl_conn *c;
	int err = conn_alloc(&c, fd, peer, cfg);

	if (err)
		return err;
	list_append(clients, &c->le, c);
	tmr_start(&c->auth_tmr, cfg->auth_timeout * 1000ull, auth_timeout, c);
	/* The list holds the reference; a peer already gone is closed right here. */
	esl_conn_send(c, "Content-Type: auth/request\n\n", 28);
	return 0;
}
