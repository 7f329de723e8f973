/*
 * esl_server.c - the event socket's configuration, listening socket, inbound
 * ACL check and the list of connected clients.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/socket.h>
#include <re.h>
#include "core/acl.h"
#include "core/config.h"
#include "esl/esl_int.h"

#define ESL_DEFAULT_PASSWORD "ClueCon"

static struct {
	int fd;
	struct esl_cfg cfg;
	struct list clients;
	struct tmr retry_tmr;
} SRV = {.fd = -1};

void esl_cfg_reset(struct esl_cfg *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nacls; i++)
		free(cfg->acls[i]);
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->listen_ip, sizeof(cfg->listen_ip), "127.0.0.1");
	cfg->listen_port = 8021;
	snprintf(cfg->password, sizeof(cfg->password), ESL_DEFAULT_PASSWORD);
	cfg->queue_size = 100000;
	cfg->auth_timeout = 25;
}

struct load_ctx {
	struct esl_cfg *cfg;
	char *err;
	size_t errsz;
	int rc;
};

static void load_param(const char *name, const char *value, const struct xml_node *n,
		       void *arg)
{
	struct load_ctx *ctx = arg;
	struct esl_cfg *cfg = ctx->cfg;
	char *end;
	long v;

	if (!strcmp(name, "listen-ip")) {
		snprintf(cfg->listen_ip, sizeof(cfg->listen_ip), "%s", value);
	} else if (!strcmp(name, "listen-port")) {
		v = strtol(value, &end, 10);
		if (*end || v < 1 || v > 65535) {
			snprintf(ctx->err, ctx->errsz, "%s:%u: listen-port '%s' is not a port",
				 n->file, n->line, value);
			ctx->rc = EINVAL;
		}
		cfg->listen_port = (uint16_t)v;
	} else if (!strcmp(name, "password")) {
		snprintf(cfg->password, sizeof(cfg->password), "%s", value);
	} else if (!strcasecmp(name, "apply-inbound-acl")) {
		if (cfg->nacls == ESL_MAX_ACLS) {
			snprintf(ctx->err, ctx->errsz, "%s:%u: more than %d apply-inbound-acl",
				 n->file, n->line, ESL_MAX_ACLS);
			ctx->rc = EINVAL;
			return;
		}
		cfg->acls[cfg->nacls++] = strdup(value);
	} else if (!strcasecmp(name, "stop-on-bind-error")) {
		cfg->stop_on_bind_error = config_true(value);
	} else if (!strcmp(name, "event-queue-size")) {
		v = strtol(value, &end, 10);
		if (*end || v < 16) {
			snprintf(ctx->err, ctx->errsz, "%s:%u: event-queue-size '%s' must be "
				 "a number >= 16", n->file, n->line, value);
			ctx->rc = EINVAL;
		}
		cfg->queue_size = (size_t)v;
	} else if (!strcmp(name, "auth-timeout")) {
		v = strtol(value, &end, 10);
		if (*end || v < 1 || v > 3600) {
			snprintf(ctx->err, ctx->errsz, "%s:%u: auth-timeout '%s' must be 1 to "
				 "3600 seconds", n->file, n->line, value);
			ctx->rc = EINVAL;
		}
		cfg->auth_timeout = (unsigned)v;
	} else if (strcmp(name, "nat-map") && strcmp(name, "debug")) {
		log_notice("%s:%u: event_socket.conf parameter '%s' ignored\n", n->file,
			   n->line, name);
	}
}

static bool is_loopback_ip(const char *ip)
{
	struct sa sa;

	/* The whole of loopback.auto: 127.0.0.0/8 and ::1. */
	return !sa_set_str(&sa, ip, 0) && acl_check("loopback.auto", &sa);
}

int esl_cfg_load(struct esl_cfg *cfg, const struct config *conf, char *err, size_t errsz)
{
	const struct xml_node *mod = config_module(conf, "event_socket.conf");
	struct load_ctx ctx = {cfg, err, errsz, 0};
	struct sa sa;
	size_t i;

	esl_cfg_reset(cfg);
	config_params(xml_child(mod, "settings"), load_param, &ctx);
	if (ctx.rc)
		return ctx.rc;
	if (sa_set_str(&sa, cfg->listen_ip, 0)) {
		snprintf(err, errsz, "event_socket.conf: listen-ip '%s' is not an IP address",
			 cfg->listen_ip);
		return EINVAL;
	}
	/* An open control port with a known password is a remote shell; refuse it. */
	if (!is_loopback_ip(cfg->listen_ip) &&
	    (!cfg->password[0] || !strcmp(cfg->password, ESL_DEFAULT_PASSWORD))) {
		snprintf(err, errsz, "event_socket.conf: refusing to listen on %s with %s "
			 "password; set a strong <param name=\"password\"> first",
			 cfg->listen_ip, cfg->password[0] ? "the default" : "an empty");
		return EPERM;
	}
	if (!cfg->nacls)
		cfg->acls[cfg->nacls++] = strdup("loopback.auto");
	for (i = 0; i < cfg->nacls; i++) {
		if (!cfg->acls[i])
			return ENOMEM;
		if (!acl_list_exists(cfg->acls[i])) {
			snprintf(err, errsz, "event_socket.conf: apply-inbound-acl '%s' is not "
				 "a known network list or CIDR", cfg->acls[i]);
			return EINVAL;
		}
	}
	return 0;
}

static bool acl_pass(const struct sa *peer)
{
	size_t i;

	/* A client must pass every listed ACL (spec/event-socket.md 1). */
	for (i = 0; i < SRV.cfg.nacls; i++) {
		if (!acl_check(SRV.cfg.acls[i], peer))
			return false;
	}
	return true;
}

static void reject(int fd, const struct sa *peer)
{
	static const char frame[] = "Content-Type: text/rude-rejection\nContent-Length: 24\n\n"
				    ESL_ACL_MSG;

	char who[64];

	re_snprintf(who, sizeof(who), "%J", peer);
	log_warn("esl: connection from %s denied by apply-inbound-acl\n", who);
	if (send(fd, frame, sizeof(frame) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("esl: could not tell %s it is denied: %s\n", who, strerror(errno));
	close(fd);
}

static void accept_one(int lfd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct sa peer;
	int one = 1, fd;

	fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			log_warn("esl: accept failed: %s\n", strerror(errno));
		return;
	}
	sa_set_sa(&peer, (struct sockaddr *)&ss);
	if (!acl_pass(&peer)) {
		reject(fd, &peer);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (esl_conn_accept(fd, &peer, &SRV.cfg, &SRV.clients)) {
		log_err("esl: cannot serve a client: out of memory\n");
		close(fd);
	}
}

static void listen_handler(int flags, void *arg)
{
	int i;

	(void)flags;
	(void)arg;
	/* Bounded so a connection storm cannot starve the rest of the loop. */
	for (i = 0; i < 64; i++)
		accept_one(SRV.fd);
}

static int try_listen(void)
{
	struct sa local;
	int one = 1, fd, err;

	err = sa_set_str(&local, SRV.cfg.listen_ip, SRV.cfg.listen_port);
	if (err)
		return err;
	fd = socket(sa_af(&local), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, &local.u.sa, local.len) || listen(fd, 128)) {
		err = errno;
		close(fd);
		return err;
	}
	err = fd_listen(fd, FD_READ, listen_handler, NULL);
	if (err) {
		close(fd);
		return err;
	}
	SRV.fd = fd;
	log_notice("esl: listening on %s port %u\n", SRV.cfg.listen_ip, SRV.cfg.listen_port);
	return 0;
}

static void retry_listen(void *arg)
{
	(void)arg;
	/* stop-on-bind-error=false: FreeSWITCH keeps trying, so do we (quietly). */
	if (try_listen())
		tmr_start(&SRV.retry_tmr, 1000, retry_listen, NULL);
}

int esl_start(struct esl_cfg *cfg)
{
	int err;

	/* Take over the strings the configuration owns. */
	SRV.cfg = *cfg;
	memset(cfg->acls, 0, sizeof(cfg->acls));
	cfg->nacls = 0;
	list_init(&SRV.clients);
	tmr_init(&SRV.retry_tmr);
	err = try_listen();
	if (!err)
		return 0;
	log_err("esl: cannot listen on %s port %u: %s\n", cfg->listen_ip, cfg->listen_port,
		strerror(err));
	if (cfg->stop_on_bind_error)
		return err;
	tmr_start(&SRV.retry_tmr, 1000, retry_listen, NULL);
	return 0;
}

void esl_stop(void)
{
	struct le *le = SRV.clients.head;

	tmr_cancel(&SRV.retry_tmr);
	if (SRV.fd >= 0) {
		fd_close(SRV.fd);
		close(SRV.fd);
		SRV.fd = -1;
	}
	while (le) {
		struct esl_conn *c = le->data;

		le = le->next;
		/* Subscribers get what was fired before the notice (SHUTDOWN above all).
		 * Either write may find the client gone and free it: hold it meanwhile. */
		mem_ref(c);
		esl_conn_flush_events(c);
		esl_conn_disconnect(c, ESL_SHUTDOWN_MSG);
		mem_deref(c);
	}
	/* Whoever did not take the notice at once is dropped now. */
	while ((le = SRV.clients.head))
		mem_deref(le->data);
	esl_cfg_reset(&SRV.cfg);
}

const struct esl_cfg *esl_server_cfg(void)
{
	return &SRV.cfg;
}

struct list *esl_server_clients(void)
{
	return &SRV.clients;
}

size_t esl_client_count(void)
{
	return list_count(&SRV.clients);
}
