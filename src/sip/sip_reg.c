/*
 * sip_reg.c - the registrar (RFC 3261 10.3): digest challenge and check
 * against the directory, bindings with expiry, un-registration, the expiry
 * sweep, and mod_sofia's CUSTOM sofia::register / unregister / expire events.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "core/config.h"
#include "core/log.h"
#include "event/bus.h"
#include "event/event.h"
#include "sip/sip_int.h"

#define MAX_CONTACTS 16

static void proto_lower(enum sip_transp tp, char *buf, size_t sz)
{
	const char *n = sip_transp_name(tp);
	size_t i;

	for (i = 0; n && n[i] && i + 1 < sz; i++)
		buf[i] = (char)(n[i] >= 'A' && n[i] <= 'Z' ? n[i] + 32 : n[i]);
	buf[i] = '\0';
}

void sipep_fire_reg_event(const char *subclass, const struct sipep_reg *reg,
			  const char *status)
{
	struct event *ev;

	if (event_alloc(&ev, EVENT_CUSTOM, subclass))
		return;
	/* mod_sofia's header names, lower-case as it sends them (sofia_reg.c). */
	event_add_header(ev, "profile-name", reg->profile);
	event_add_header(ev, "from-user", reg->user);
	event_add_header(ev, "from-host", reg->domain);
	event_add_header(ev, "presence-hosts", reg->domain);
	event_add_header(ev, "contact", reg->contact);
	event_add_header(ev, "call-id", reg->call_id);
	event_add_header(ev, "rpid", "unknown");
	event_add_header(ev, "status", status);
	event_add_headerf(ev, "expires", "%u", strcmp(subclass, SIPEP_EV_REGISTER) ? 0u :
			  reg->granted);
	event_add_header(ev, "to-user", reg->user);
	event_add_header(ev, "to-host", reg->domain);
	event_add_header(ev, "network-ip", reg->network_ip);
	event_add_headerf(ev, "network-port", "%u", reg->network_port);
	event_add_header(ev, "username", reg->user);
	event_add_header(ev, "realm", reg->realm);
	event_add_header(ev, "user-agent", reg->user_agent);
	event_add_header(ev, "network-proto", reg->proto);
	if (!strcmp(subclass, SIPEP_EV_EXPIRE)) {
		/* sofia_reg_del_callback names these user/host. */
		event_add_header(ev, "user", reg->user);
		event_add_header(ev, "host", reg->domain);
	}
	bus_fire(ev);
}

static void expired_h(struct sipep_reg *reg, void *arg)
{
	(void)arg;
	log_info("sofia: registration of %s@%s (%s) expired\n", reg->user, reg->domain,
		 reg->uri);
	sipep_fire_reg_event(SIPEP_EV_EXPIRE, reg, "Expired");
}

void sipep_reg_sweep(uint64_t now)
{
	sipep_loc_expire(sipep_location(), now, expired_h, NULL);
}

static const char *challenge_realm(const struct sipep_profile *p, const struct sip_msg *msg,
				   char *buf, size_t sz)
{
	const char *cr = p->cfg.challenge_realm;

	if (!strcasecmp(cr, "auto_from"))
		return sipep_pl_str(&msg->from.uri.host, buf, sz);
	if (!strcasecmp(cr, "auto_to") || !*cr)
		return sipep_pl_str(&msg->to.uri.host, buf, sz);
	snprintf(buf, sz, "%s", cr);
	return buf;
}

static void challenge(struct sipep_profile *p, const struct sip_msg *msg, bool proxy,
		      bool stale)
{
	char realm[128], hdr[512];

	challenge_realm(p, msg, realm, sizeof(realm));
	if (!realm[0] || sipep_challenge_print(hdr, sizeof(hdr), proxy, realm, sipep_now(),
					       stale)) {
		(void)sip_treply(NULL, p->sip, msg, 400, "Bad Request");
		return;
	}
	(void)sip_treplyf(NULL, NULL, p->sip, msg, false, proxy ? 407 : 401,
			  proxy ? "Proxy Authentication Required" : "Unauthorized",
			  "%sContent-Length: 0\r\n\r\n", hdr);
}

static void auth_failure(struct sipep_profile *p, const struct sip_msg *msg,
			 const char *user, const char *domain)
{
	char ip[64] = "";
	char met[32];

	sa_ntop(&msg->src, ip, sizeof(ip));
	log_warn(SIPEP_AUTH_FAILURE_FMT, sipep_pl_str(&msg->met, met, sizeof(met)),
		 p->cfg.name, user, domain, ip);
	(void)sip_treply(NULL, p->sip, msg, 403, "Forbidden");
}

struct find_auth {
	struct httpauth_digest_resp resp;
	bool found;
};

static bool auth_hdr_h(const struct sip_hdr *hdr, const struct sip_msg *msg, void *arg)
{
	struct find_auth *fa = arg;

	(void)msg;
	memset(&fa->resp, 0, sizeof(fa->resp));
	if (httpauth_digest_response_decode(&fa->resp, &hdr->val))
		return false;
	fa->found = true;
	return true;
}

int sipep_auth_request(struct sipep_profile *p, const struct sip_msg *msg, bool proxy,
		       struct sipep_user *u, char *user, size_t usz, char *realm, size_t rsz)
{
	enum sip_hdrid id = proxy ? SIP_HDR_PROXY_AUTHORIZATION : SIP_HDR_AUTHORIZATION;
	struct find_auth fa = {.found = false};
	char domain[128], met[32];
	const char *pw, *a1;
	uint8_t ha1[MD5_SIZE];
	int rc;

	if (!sip_msg_hdr(msg, id)) {
		challenge(p, msg, proxy, false);
		return EAUTH;
	}
	sip_msg_hdr_apply(msg, true, id, auth_hdr_h, &fa);
	if (!fa.found) {
		char src[80];

		sipep_addr_str(&msg->src, src, sizeof(src));
		log_warn("sofia %s: unreadable %s header from %s\n", p->cfg.name,
			 proxy ? "Proxy-Authorization" : "Authorization", src);
		(void)sip_treply(NULL, p->sip, msg, 400, "Bad Authorization Header");
		return EAUTH;
	}
	rc = sipep_nonce_check(&fa.resp.nonce, &fa.resp.realm, sipep_now(), p->cfg.nonce_ttl);
	if (rc) {
		/* Ours but old: stale=true lets the phone retry without asking anyone. */
		challenge(p, msg, proxy, rc == ETIMEDOUT);
		return EAUTH;
	}
	sipep_pl_str(&fa.resp.username, user, usz);
	sipep_pl_str(&fa.resp.realm, realm, rsz);
	sipep_domain_for(p, realm, domain, sizeof(domain));
	/* accept-blind-auth: any credentials will do; a known user keeps its variables. */
	if (p->cfg.accept_blind_auth) {
		if (sipep_dir_user(config_current(), domain, user, u))
			memset(u, 0, sizeof(*u));
		return 0;
	}
	if (sipep_dir_user(config_current(), domain, user, u)) {
		log_warn("sofia %s: can't find user [%s@%s]\n", p->cfg.name, user, domain);
		auth_failure(p, msg, user, domain);
		return EAUTH;
	}
	a1 = sipep_dir_param(u, "a1-hash");
	pw = sipep_dir_param(u, "password");
	if (a1 && strlen(a1) == 2 * MD5_SIZE && !str_hex(ha1, MD5_SIZE, a1)) {
		/* a1-hash: the directory keeps MD5(user:realm:password) only. */
	} else if (pw) {
		sipep_ha1(ha1, user, realm, pw);
	} else {
		auth_failure(p, msg, user, domain);
		return EAUTH;
	}
	rc = sipep_digest_verify(&fa.resp, sipep_pl_str(&msg->met, met, sizeof(met)), ha1);
	if (rc == EINVAL) {
		(void)sip_treply(NULL, p->sip, msg, 400, "Bad Authorization Header");
		return EAUTH;
	}
	if (rc) {
		auth_failure(p, msg, user, domain);
		return EAUTH;
	}
	return 0;
}

struct contact_list {
	struct sip_addr addr[MAX_CONTACTS];
	struct pl raw[MAX_CONTACTS];
	size_t n;
	bool star, bad, too_many;
};

static bool contact_h(const struct sip_hdr *hdr, const struct sip_msg *msg, void *arg)
{
	struct contact_list *cl = arg;

	(void)msg;
	if (!pl_strcmp(&hdr->val, "*")) {
		cl->star = true;
		return false;
	}
	if (cl->n >= MAX_CONTACTS) {
		cl->too_many = true;
		return true;
	}
	if (sip_addr_decode(&cl->addr[cl->n], &hdr->val) ||
	    !pl_isset(&cl->addr[cl->n].uri.host)) {
		cl->bad = true;
		return true;
	}
	cl->raw[cl->n++] = hdr->val;
	return false;
}

/* 200 OK lists every binding the user now has (RFC 3261 10.3 step 8). */
static void reply_bindings(struct sipep_profile *p, const struct sip_msg *msg,
			   const char *user, const char *domain)
{
	struct sipep_reg *v[MAX_CONTACTS];
	uint64_t now = sipep_now();
	size_t n = sipep_loc_lookup(sipep_location(), user, domain, now, v, MAX_CONTACTS), i;
	struct mbuf *mb = mbuf_alloc(256);

	if (!mb) {
		(void)sip_treply(NULL, p->sip, msg, 500, "Server Internal Error");
		return;
	}
	for (i = 0; i < n; i++)
		mbuf_printf(mb, "Contact: <%s>;expires=%u\r\n", v[i]->uri,
			    (unsigned)(v[i]->expires - now));
	mbuf_write_u8(mb, 0);
	(void)sip_treplyf(NULL, NULL, p->sip, msg, false, 200, "OK",
			  "%sDate: %H\r\nContent-Length: 0\r\n\r\n", (char *)mb->buf,
			  fmt_gmtime, NULL);
	mem_deref(mb);
}

static void fill_info(struct sipep_reg_info *in, struct sipep_profile *p,
		      const struct sip_msg *msg, const char *user, const char *domain,
		      const char *realm, char *bufs, size_t bsz)
{
	/* bufs holds: call-id, user-agent, from-host, network-ip, proto. */
	const struct sip_hdr *ua = sip_msg_hdr(msg, SIP_HDR_USER_AGENT);
	size_t part = bsz / 5;

	memset(in, 0, sizeof(*in));
	in->user = user;
	in->domain = domain;
	in->realm = realm;
	in->profile = p->cfg.name;
	in->call_id = sipep_pl_str(&msg->callid, bufs, part);
	in->user_agent = ua ? sipep_pl_str(&ua->val, bufs + part, part) : NULL;
	in->from_host = sipep_pl_str(&msg->from.uri.host, bufs + 2 * part, part);
	sa_ntop(&msg->src, bufs + 3 * part, (int)part);
	in->network_ip = bufs + 3 * part;
	in->network_port = sa_port(&msg->src);
	proto_lower(msg->tp, bufs + 4 * part, part);
	in->proto = bufs + 4 * part;
	in->cseq = msg->cseq.num;
}

static void status_text(const struct sipep_reg *r, char *buf, size_t sz, bool reg)
{
	char up[8];
	size_t i;

	for (i = 0; i + 1 < sizeof(up) && r->proto[i]; i++)
		up[i] = (char)(r->proto[i] >= 'a' ? r->proto[i] - 32 : r->proto[i]);
	up[i] = '\0';
	snprintf(buf, sz, "%s(%s)", reg ? "Registered" : "Unregistered", up);
}

static void unbind(struct sipep_reg *r)
{
	char st[32];

	status_text(r, st, sizeof(st), false);
	log_info("sofia: unregistered %s@%s (%s)\n", r->user, r->domain, r->uri);
	sipep_fire_reg_event(SIPEP_EV_UNREGISTER, r, st);
	mem_deref(r);
}

static void unbind_all(const char *user, const char *domain)
{
	struct sipep_reg *v[MAX_CONTACTS];
	size_t n, i;

	/* Expired ones too: lookup with now = 0 sees everything. */
	n = sipep_loc_lookup(sipep_location(), user, domain, 0, v, MAX_CONTACTS);
	for (i = 0; i < n; i++)
		unbind(v[i]);
}

/* Check every Contact before changing anything: the request is all or nothing. */
static int check_contacts(struct sipep_profile *p, const struct sip_msg *msg,
			  const struct contact_list *cl)
{
	size_t i;

	if (cl->bad) {
		log_warn("sofia %s: REGISTER with a malformed Contact\n", p->cfg.name);
		(void)sip_treply(NULL, p->sip, msg, 400, "Bad Contact Header");
		return EBADMSG;
	}
	if (cl->too_many) {
		(void)sip_treply(NULL, p->sip, msg, 403, "Too Many Contacts");
		return E2BIG;
	}
	if (cl->star) {
		/* RFC 3261 10.3 step 6: "*" only with Expires: 0 and alone. */
		if (cl->n || !pl_isset(&msg->expires) || pl_u32(&msg->expires)) {
			(void)sip_treply(NULL, p->sip, msg, 400, "Invalid Contact *");
			return EBADMSG;
		}
		return 0;
	}
	for (i = 0; i < cl->n; i++) {
		uint32_t e = sipep_contact_expires(&cl->addr[i], &msg->expires,
						   p->cfg.reg_default);

		if (e && p->cfg.reg_min && e < p->cfg.reg_min) {
			(void)sip_treplyf(NULL, NULL, p->sip, msg, false, 423,
					  "Interval Too Brief", "Min-Expires: %u\r\n"
					  "Content-Length: 0\r\n\r\n", p->cfg.reg_min);
			return ERANGE;
		}
	}
	return 0;
}

static void apply_contacts(struct sipep_profile *p, const struct sip_msg *msg,
			   const struct contact_list *cl, struct sipep_reg_info *in)
{
	uint64_t now = sipep_now();
	size_t i;

	for (i = 0; i < cl->n; i++) {
		uint32_t e = sipep_contact_expires(&cl->addr[i], &msg->expires,
						   p->cfg.reg_default);
		char uri[512], contact[600], st[32];
		struct sipep_reg *r;
		bool fresh;

		sipep_pl_str(&cl->addr[i].auri, uri, sizeof(uri));
		sipep_pl_str(&cl->raw[i], contact, sizeof(contact));
		if (!e) {
			r = sipep_loc_find(sipep_location(), in->user, in->domain, uri);
			if (r)
				unbind(r);
			continue;
		}
		if (p->cfg.reg_max && e > p->cfg.reg_max)
			e = p->cfg.reg_max;
		in->uri = uri;
		in->contact = contact;
		if (sipep_loc_bind(sipep_location(), in, e, now, &r, &fresh))
			continue;
		status_text(r, st, sizeof(st), true);
		if (fresh)
			log_info("sofia %s: registered %s@%s at %s for %us\n", p->cfg.name,
				 in->user, in->domain, uri, e);
		sipep_fire_reg_event(SIPEP_EV_REGISTER, r, st);
	}
}

void sipep_reg_handle(struct sipep_profile *p, const struct sip_msg *msg)
{
	char user[128], realm[128], domain[128], bufs[5 * 256];
	struct contact_list *cl;
	struct sipep_reg_info in;
	struct sipep_user u;

	if (!pl_isset(&msg->to.uri.user) || !pl_isset(&msg->to.uri.host)) {
		log_warn("sofia %s: REGISTER without a user in To\n", p->cfg.name);
		(void)sip_treply(NULL, p->sip, msg, 400, "Missing User In To Header");
		return;
	}
	if (p->cfg.accept_blind_reg) {
		sipep_pl_str(&msg->to.uri.user, user, sizeof(user));
		challenge_realm(p, msg, realm, sizeof(realm));
	} else if (sipep_auth_request(p, msg, false, &u, user, sizeof(user), realm,
				      sizeof(realm))) {
		return;
	} else if (pl_strcmp(&msg->to.uri.user, user)) {
		/* Credentials of one user may not bind another's address. */
		char to[128];

		log_warn("sofia %s: %s tried to register %s\n", p->cfg.name, user,
			 sipep_pl_str(&msg->to.uri.user, to, sizeof(to)));
		(void)sip_treply(NULL, p->sip, msg, 403, "Forbidden");
		return;
	}
	sipep_domain_for(p, realm, domain, sizeof(domain));
	cl = mem_zalloc(sizeof(*cl), NULL);
	if (!cl) {
		(void)sip_treply(NULL, p->sip, msg, 500, "Server Internal Error");
		return;
	}
	sip_msg_hdr_apply(msg, true, SIP_HDR_CONTACT, contact_h, cl);
	if (!check_contacts(p, msg, cl)) {
		if (cl->star) {
			unbind_all(user, domain);
		} else {
			fill_info(&in, p, msg, user, domain, realm, bufs, sizeof(bufs));
			apply_contacts(p, msg, cl, &in);
		}
		reply_bindings(p, msg, user, domain);
	}
	mem_deref(cl);
}
