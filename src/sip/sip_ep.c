/*
 * sip_ep.c - the endpoint's life: profiles (one libre SIP stack each, UDP and
 * TCP on sip-ip:sip-port), requests outside dialogs, the expiry sweep, and
 * start-up and shutdown.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <re.h>
#include "channel/channel.h"
#include "core/config.h"
#include "core/log.h"
#include "core/vars.h"
#include "sip/sip_ep.h"
#include "sip/sip_int.h"

#define SWEEP_MS 1000
/*
 * Bucket counts of libre's transaction and session tables (powers of two).
 * Over UDP every answered INVITE and every BYE keeps its server transaction
 * for 64*T1 (32 s): at 500 calls/s that is 32000 of them, so a small table
 * turns each request's lookup into a walk of a long bucket.
 */
#define SIP_CTRANS_BUCKETS 4096
#define SIP_STRANS_BUCKETS 16384
#define SIP_TCP_BUCKETS    256
#define SIP_SESS_BUCKETS   4096

/* The methods we answer, for Allow headers (RFC 3261 20.5). */
#define ALLOW "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REGISTER"

static struct {
	struct list profiles;
	struct sipep_loc loc;
	struct tmr sweep;
	struct dnsc *dnsc;
	bool up;
} E;

uint64_t sipep_now(void)
{
	return (uint64_t)time(NULL);
}

struct list *sipep_profiles(void)
{
	return &E.profiles;
}

struct sipep_loc *sipep_location(void)
{
	return &E.loc;
}

struct sipep_profile *sipep_profile_find(const char *name)
{
	struct le *le;

	if (!name)
		return NULL;
	LIST_FOREACH(&E.profiles, le) {
		struct sipep_profile *p = le->data;

		if (!strcasecmp(p->cfg.name, name))
			return p;
	}
	return NULL;
}

struct sipep_gateway *sipep_gateway_in(const struct list *profiles, const char *name)
{
	struct le *le, *ge;

	if (!profiles || !name)
		return NULL;
	LIST_FOREACH(profiles, le) {
		struct sipep_profile *p = le->data;

		LIST_FOREACH(&p->gateways, ge) {
			struct sipep_gateway *gw = ge->data;

			if (!strcasecmp(gw->name, name))
				return gw;
		}
	}
	return NULL;
}

struct sipep_gateway *sipep_gateway_find(const char *name)
{
	return sipep_gateway_in(&E.profiles, name);
}

const char *sipep_advertised_ip(const char *ip, char *buf, size_t sz)
{
	struct sa sa;
	char *v;

	/* A wildcard bind cannot go into SDP or a URI: use the host's own address. */
	if (sa_set_str(&sa, ip, 0) || !sa_is_any(&sa)) {
		snprintf(buf, sz, "%s", ip);
		return buf;
	}
	v = vars_global_dup(sa_af(&sa) == AF_INET6 ? "local_ip_v6" : "local_ip_v4");
	snprintf(buf, sz, "%s", v && *v ? v : "127.0.0.1");
	mem_deref(v);
	return buf;
}

const char *sipep_domain_for(const struct sipep_profile *p, const char *host, char *buf,
			     size_t sz)
{
	snprintf(buf, sz, "%s", p->cfg.force_domain[0] ? p->cfg.force_domain : host);
	return buf;
}

/* libre's %J is not printf's; format the address ourselves for the log. */
void sipep_addr_str(const struct sa *sa, char *buf, size_t sz)
{
	char ip[64] = "?";

	sa_ntop(sa, ip, sizeof(ip));
	snprintf(buf, sz, "%s:%u", ip, sa_port(sa));
}

/* `sofia global siptrace on`: every message in and out, on the log. */
static void trace_h(bool tx, enum sip_transp tp, const struct sa *src,
		    const struct sa *dst, const uint8_t *pkt, size_t len, void *arg)
{
	struct sipep_profile *p = arg;
	char peer[80];

	if (!p || !p->cfg.siptrace)
		return;
	sipep_addr_str(tx ? dst : src, peer, sizeof(peer));
	log_write(LOGL_CONSOLE, __FILE__, __func__, __LINE__,
		  "%s: %s %zu bytes %s %s/%s:\n%.*s\n", p->cfg.name, tx ? "send" : "recv",
		  len, tx ? "to" : "from", peer, sip_transp_name(tp), (int)len,
		  (const char *)pkt);
}

static void reply_options(struct sipep_profile *p, const struct sip_msg *msg)
{
	(void)sip_treplyf(NULL, NULL, p->sip, msg, false, 200, "OK",
			  "Allow: " ALLOW "\r\n"
			  "Accept: application/sdp\r\n"
			  "Accept-Language: en\r\n"
			  "Supported: path, replaces\r\n"
			  "Content-Length: 0\r\n\r\n");
}

/* Requests no dialog claimed (the session layer saw them first). */
static bool request_h(const struct sip_msg *msg, void *arg)
{
	struct sipep_profile *p = arg;

	if (!pl_strcmp(&msg->met, "REGISTER")) {
		sipep_reg_handle(p, msg);
	} else if (!pl_strcmp(&msg->met, "OPTIONS")) {
		reply_options(p, msg);
	} else if (!pl_strcmp(&msg->met, "ACK")) {
		/* An ACK matching nothing is dropped (RFC 3261 17.2.3). */
	} else if (!pl_strcmp(&msg->met, "CANCEL")) {
		(void)sip_reply(p->sip, msg, 481, "Call/Transaction Does Not Exist");
	} else if (!pl_strcmp(&msg->met, "SUBSCRIBE") || !pl_strcmp(&msg->met, "PUBLISH")) {
		(void)sip_treplyf(NULL, NULL, p->sip, msg, false, 489, "Bad Event",
				  "Allow-Events: \r\nContent-Length: 0\r\n\r\n");
	} else {
		(void)sip_treplyf(NULL, NULL, p->sip, msg, false, 405, "Method Not Allowed",
				  "Allow: " ALLOW "\r\nContent-Length: 0\r\n\r\n");
	}
	return true;
}

static void invite_h(const struct sip_msg *msg, void *arg)
{
	sipep_call_incoming(arg, msg);
}

static void profile_stop(struct sipep_profile *p)
{
	struct le *le;

	LIST_FOREACH(&p->gateways, le)
		sipep_gw_stop(le->data);
	sipep_calls_close(p);
	p->lsnr = mem_deref(p->lsnr);
	p->sock = mem_deref(p->sock);
	if (p->sip) {
		sip_close(p->sip, true);
		p->sip = mem_deref(p->sip);
	}
	p->running = false;
}

static int profile_start(struct sipep_profile *p, char *err, size_t errsz)
{
	struct sa laddr;
	struct le *le;
	int rc;

	rc = sa_set_str(&laddr, p->cfg.sip_ip, p->cfg.sip_port);
	if (!rc)
		rc = sip_alloc(&p->sip, E.dnsc, SIP_CTRANS_BUCKETS, SIP_STRANS_BUCKETS,
			       SIP_TCP_BUCKETS, p->cfg.user_agent, NULL, p);
	if (!rc && (rc = sip_transp_add(p->sip, SIP_TRANSP_UDP, &laddr)))
		snprintf(err, errsz, "sofia profile '%s': cannot bind UDP %s:%u: %s",
			 p->cfg.name, p->cfg.sip_ip, p->cfg.sip_port, strerror(rc));
	if (!rc && (rc = sip_transp_add(p->sip, SIP_TRANSP_TCP, &laddr)))
		snprintf(err, errsz, "sofia profile '%s': cannot bind TCP %s:%u: %s",
			 p->cfg.name, p->cfg.sip_ip, p->cfg.sip_port, strerror(rc));
	/* The session layer listens first: in-dialog requests and new INVITEs. */
	if (!rc)
		rc = sipsess_listen(&p->sock, p->sip, SIP_SESS_BUCKETS, invite_h, p);
	if (!rc)
		rc = sip_listen(&p->lsnr, p->sip, true, request_h, p);
	if (rc) {
		if (!err[0])
			snprintf(err, errsz, "sofia profile '%s': %s", p->cfg.name, strerror(rc));
		profile_stop(p);
		return rc;
	}
	sip_set_trace_handler(p->sip, trace_h);
	p->running = true;
	p->started = sipep_now();
	log_notice("sofia profile '%s' listening on %s:%u (udp, tcp)\n", p->cfg.name,
		   p->cfg.sip_ip, p->cfg.sip_port);
	LIST_FOREACH(&p->gateways, le) {
		struct sipep_gateway *gw = le->data;

		if (sipep_gw_start(gw))
			log_warn("sofia gateway '%s' could not start registering\n", gw->name);
	}
	return 0;
}

static void sweep_h(void *arg)
{
	(void)arg;
	sipep_reg_sweep(sipep_now());
	tmr_start(&E.sweep, SWEEP_MS, sweep_h, NULL);
}

static int dns_start(void)
{
	struct sa ns[8];
	uint32_t n = 8;
	char domain[64] = "";

	if (dns_srv_get(domain, sizeof(domain), ns, &n) || !n) {
		/* No resolv.conf: only numeric hosts work, which loopback setups use. */
		sa_set_str(&ns[0], "127.0.0.1", 53);
		n = 1;
	}
	return dnsc_alloc(&E.dnsc, NULL, ns, n);
}

int sipep_init(const struct config *cfg, char *err, size_t errsz)
{
	const struct xml_node *sofia = config_module(cfg, "sofia.conf");
	char *defpw = vars_global_dup("default_password");
	struct le *le;
	int rc;

	if (!err || !errsz)
		return EINVAL;
	err[0] = '\0';
	if (E.up)
		return EALREADY;
	list_init(&E.profiles);
	sipep_loc_init(&E.loc);
	tmr_init(&E.sweep);
	sipep_auth_init();
	if (!sofia)
		log_notice("sofia.conf not found: no SIP profiles\n");
	rc = sipep_cfg_load(&E.profiles, sofia, err, errsz);
	if (!rc)
		rc = sipep_cfg_check_exposure(&E.profiles, defpw, err, errsz);
	mem_deref(defpw);
	if (!rc && (rc = dns_start()))
		snprintf(err, errsz, "sofia: cannot start the DNS client: %s", strerror(rc));
	for (le = list_head(&E.profiles); le && !rc; le = le->next)
		rc = profile_start(le->data, err, errsz);
	if (!rc)
		rc = channel_ep_register("sofia", sipep_sofia_call);
	if (!rc)
		rc = channel_ep_register("user", sipep_user_call);
	if (!rc)
		rc = sipep_api_init();
	if (rc) {
		if (!err[0])
			snprintf(err, errsz, "sofia: start-up failed: %s", strerror(rc));
		E.up = true;
		sipep_close();
		return rc;
	}
	tmr_start(&E.sweep, SWEEP_MS, sweep_h, NULL);
	E.up = true;
	return 0;
}

void sipep_close(void)
{
	struct le *le;

	if (!E.up)
		return;
	E.up = false;
	tmr_cancel(&E.sweep);
	sipep_api_close();
	channel_ep_unregister("sofia");
	channel_ep_unregister("user");
	LIST_FOREACH(&E.profiles, le)
		profile_stop(le->data);
	list_flush(&E.profiles);
	sipep_loc_flush(&E.loc);
	E.dnsc = mem_deref(E.dnsc);
}
