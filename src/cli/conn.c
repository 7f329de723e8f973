/*
 * conn.c - the client side of one event-socket connection (spec §3): connect with a
 * timeout, buffer what the server sends, authenticate, and match replies to commands.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

/* Free space wanted before each recv(). */
#define READ_CHUNK ((size_t)64 * 1024)

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 0 means "no deadline" (timeout_ms 0 waits forever). */
static int64_t deadline(const struct cli_conn *c)
{
	return c->timeout_ms > 0 ? now_ms() + c->timeout_ms : 0;
}

/* Waits until fd has `events`; 0, ETIMEDOUT, EINTR (cancelled) or errno. */
static int wait_fd(const struct cli_conn *c, int fd, short events, int64_t until)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left;
	int n;

	for (;;) {
		left = until ? until - now_ms() : -1;
		if (until && left <= 0)
			return ETIMEDOUT;
		n = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return errno;
		if (n < 0 && c->cancel && *c->cancel)
			return EINTR;
	}
}

static void trace_frame(const struct cli_frame *f)
{
	for (size_t i = 0; i < f->hdrc; i++)
		fprintf(stderr, "<<< %s: %s\n", f->hdrv[i].name, f->hdrv[i].value);
	if (f->body)
		fprintf(stderr, "<<< (body, %zu bytes)\n", f->bodylen);
	fprintf(stderr, "<<<\n");
}

/* Takes the next complete frame out of the buffer: 0, EAGAIN or a framing error. */
static int next_frame(struct cli_conn *c, struct cli_frame *f)
{
	size_t used = 0;
	int err = cli_frame_parse(f, c->buf + c->start, c->end - c->start, &used);

	if (err)
		return err;
	c->start += used;
	if (c->start == c->end)
		c->start = c->end = 0;
	if (c->debug)
		trace_frame(f);
	return 0;
}

static void deliver(struct cli_conn *c, const struct cli_frame *f)
{
	if (c->async_h)
		c->async_h(f, c->arg);
}

int cli_conn_fill(struct cli_conn *c)
{
	ssize_t n;

	if (c->start > 0 && c->cap - c->end < READ_CHUNK) {
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	}
	if (c->cap - c->end < READ_CHUNK) {
		size_t cap = c->cap * 2 > c->end + READ_CHUNK ? c->cap * 2 : c->end + READ_CHUNK;
		char *buf = realloc(c->buf, cap);

		if (!buf)
			return ENOMEM;
		c->buf = buf;
		c->cap = cap;
	}
	n = recv(c->fd, c->buf + c->end, c->cap - c->end, 0);
	if (n > 0) {
		c->end += (size_t)n;
		return 0;
	}
	if (n == 0)
		return ENOTCONN;
	return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : errno;
}

/* Next frame, reading from the socket as needed until `until`. */
static int wait_frame(struct cli_conn *c, struct cli_frame *f, int64_t until)
{
	int err;

	for (;;) {
		err = next_frame(c, f);
		if (err != EAGAIN)
			return err;
		err = wait_fd(c, c->fd, POLLIN, until);
		if (!err)
			err = cli_conn_fill(c);
		if (err)
			return err;
	}
}

int cli_conn_dispatch(struct cli_conn *c)
{
	struct cli_frame f = { 0 };
	int err;

	while ((err = next_frame(c, &f)) == 0) {
		if (cli_frame_is_reply(&f) && c->stale > 0)
			c->stale--;
		deliver(c, &f);
		cli_frame_reset(&f);
	}
	return err == EAGAIN ? 0 : err;
}

static int send_all(struct cli_conn *c, const char *p, size_t len, int64_t until)
{
	ssize_t n;
	int err;

	while (len > 0) {
		n = send(c->fd, p, len, 0);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return errno;
		err = wait_fd(c, c->fd, POLLOUT, until);
		if (err)
			return err;
	}
	return 0;
}

/* A command is its line and the blank line that ends it (spec §2.1). */
static int send_command(struct cli_conn *c, const char *verb, const char *args,
			int64_t until)
{
	size_t len = strlen(verb) + (args ? 1 + strlen(args) : 0) + 2;
	char *cmd = malloc(len + 1);
	int err;

	if (!cmd)
		return ENOMEM;
	snprintf(cmd, len + 1, "%s%s%s\n\n", verb, args ? " " : "", args ? args : "");
	if (c->debug)
		fprintf(stderr, ">>> %s%s%s\n", verb, args ? " " : "",
			!args ? "" : strcmp(verb, "auth") ? args : "********");
	err = send_all(c, cmd, len, until);
	free(cmd);
	return err;
}

int cli_conn_request(struct cli_conn *c, const char *verb, const char *args,
		     struct cli_frame *reply)
{
	int64_t until = deadline(c);
	int err = send_command(c, verb, args, until);

	if (err)
		return err;
	/* ESL replies carry no id: the first reply after our command is ours, except
	 * that replies owed to requests we stopped waiting for come first. */
	while ((err = wait_frame(c, reply, until)) == 0) {
		if (cli_frame_is_reply(reply) && c->stale == 0)
			return 0;
		if (cli_frame_is_reply(reply))
			c->stale--;
		deliver(c, reply);
		cli_frame_reset(reply);
	}
	if (err == ETIMEDOUT || err == EINTR)
		c->stale++;
	return err;
}

static int check_greeting(struct cli_conn *c, const struct cli_frame *f)
{
	size_t n = f->bodylen;

	if (cli_frame_is(f, "auth/request"))
		return 0;
	if (cli_frame_is(f, "text/rude-rejection")) {
		while (n > 0 && (f->body[n - 1] == '\n' || f->body[n - 1] == '\r'))
			n--;
		cli_error("%s refused the connection: %.*s", c->label, (int)n,
			  f->body ? f->body : "");
		return EACCES;
	}
	cli_error("%s did not greet with auth/request (Content-Type: %s); "
		  "is it an event socket?", c->label,
		  cli_frame_header(f, "Content-Type") ? cli_frame_header(f, "Content-Type")
						      : "none");
	return EPROTO;
}

int cli_conn_auth(struct cli_conn *c, const char *password)
{
	struct cli_frame f = { 0 };
	const char *text;
	int err;

	err = wait_frame(c, &f, deadline(c));
	if (err) {
		cli_error("no greeting from %s: %s", c->label, cli_conn_strerror(err));
		return err;
	}
	err = check_greeting(c, &f);
	cli_frame_reset(&f);
	if (err)
		return err;
	err = cli_conn_request(c, "auth", password, &f);
	if (err) {
		cli_error("authentication failed: %s", cli_conn_strerror(err));
		return err;
	}
	text = cli_frame_header(&f, "Reply-Text");
	if (!text || strncmp(text, "+OK", 3) != 0) {
		cli_error("authentication failed");
		err = EACCES;
	}
	cli_frame_reset(&f);
	return err;
}

void cli_conn_bye(struct cli_conn *c)
{
	struct cli_frame f = { 0 };
	int64_t until;

	if (cli_conn_request(c, "exit", NULL, &f) != 0)
		return;
	cli_frame_reset(&f);
	/* The disconnect notice follows "+OK bye"; then the server closes (spec §3). */
	until = deadline(c);
	while (wait_frame(c, &f, until) == 0) {
		deliver(c, &f);
		cli_frame_reset(&f);
	}
}

static void make_label(struct cli_conn *c, const char *host, const char *port)
{
	const char *fmt = strchr(host, ':') ? "[%s]:%s" : "%s:%s";

	snprintf(c->label, sizeof(c->label), fmt, host, port);
}

static int connect_one(struct cli_conn *c, const struct addrinfo *ai, int64_t until)
{
	int fd, err = 0, one = 1;
	socklen_t len = sizeof(err);

	fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd < 0)
		return errno;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		err = errno;
		goto out;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		err = errno;
		if (err != EINPROGRESS)
			goto out;
		err = wait_fd(c, fd, POLLOUT, until);
		if (!err && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err)
			goto out;
	}
	/* Commands are small and interactive: do not let Nagle hold them back. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
out:
	if (err)
		close(fd);
	return err;
}

int cli_conn_open(struct cli_conn *c, const char *host, const char *port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL, *ai;
	char bare[256];
	int64_t until = deadline(c);
	int rc, err = ECONNREFUSED;

	c->fd = -1;
	/* Accept "[::1]" as well as "::1". */
	if (host[0] == '[' && strlen(host) >= 2 && strlen(host) < sizeof(bare) &&
	    host[strlen(host) - 1] == ']') {
		snprintf(bare, sizeof(bare), "%.*s", (int)strlen(host) - 2, host + 1);
		host = bare;
	}
	make_label(c, host, port);
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		cli_error("cannot resolve %s: %s", host,
			  rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return EHOSTUNREACH;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		err = connect_one(c, ai, until);
		if (!err || err == EINTR)
			break;
	}
	freeaddrinfo(res);
	if (err)
		cli_error("cannot connect to %s: %s", c->label, strerror(err));
	return err;
}

void cli_conn_close(struct cli_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->start = c->end = c->cap = 0;
}

const char *cli_conn_strerror(int err)
{
	switch (err) {
	case ENOTCONN:  return "connection closed by server";
	case EBADMSG:   return "malformed frame from server (bad Content-Length)";
	case EMSGSIZE:  return "frame from server too large (header over 1 MiB or body over 64 MiB)";
	case ETIMEDOUT: return "timed out waiting for the server";
	case EINTR:     return "interrupted";
	default:        return strerror(err);
	}
}
