/*
 * sip_out.c - outgoing calls for dial strings: sofia/<profile>/<user@host>,
 * sofia/<profile>/sip:..., sofia/gateway/<gw>/<number> and user/<ext>[@domain],
 * which rings every registered contact at once (first answer wins, the others
 * are cancelled).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "channel/channel.h"
#include "core/config.h"
#include "core/log.h"
#include "event/event.h"
#include "sip/sip_int.h"

#define MAX_FORKS 16
#define CTYPE_SDP "application/sdp"
#define DEFAULT_CID "0000000000"

/* --- fork callbacks ------------------------------------------------------ */

static void fork_destructor(void *data)
{
	struct sipep_fork *f = data;

	list_unlink(&f->le);
	mem_deref(f->sess);
	mem_deref(f->uri);
}

static void leg_name_of(const char *uri, char *buf, size_t sz);

/* Of several contacts, the one that answered names the channel (as its own leg would). */
static void name_after(struct sipep_call *call, const struct sipep_fork *f)
{
	char leg[400], name[600];

	if (list_count(&call->forks) < 2 || !f->uri)
		return;
	leg_name_of(f->uri, leg, sizeof(leg));
	snprintf(name, sizeof(name), "sofia/%s/%s", f->prof->cfg.name, leg);
	channel_set_name(call->ch, name);
}

static bool call_live(const struct sipep_call *call)
{
	return call->ch && channel_up(call->ch);
}

static void progr_h(const struct sip_msg *msg, void *arg)
{
	struct sipep_fork *f = arg;
	struct sipep_call *call = f->call;
	const char *why;
	uint16_t scode;

	if (!call_live(call) || call->winner || msg->scode <= 100)
		return;
	channel_var_setf(call->ch, "sip_term_status", "%u", msg->scode);
	if (mbuf_get_left(msg->mb) && !call->early &&
	    !sipep_call_remote_sdp(call, msg, false, &scode, &why)) {
		/* Early media: the first fork that sends it is heard. */
		call->early = f;
		sipep_call_apply_remote(call);
		channel_mark_pre_answered(call->ch);
		return;
	}
	channel_mark_ringing(call->ch);
}

static int answer_h(const struct sip_msg *msg, void *arg)
{
	struct sipep_fork *f = arg;
	struct sipep_call *call = f->call;
	const char *why;
	uint16_t scode;

	if (!call_live(call) || (call->winner && call->winner != f))
		return 0;
	if (!mbuf_get_left(msg->mb))
		return call->early == f ? 0 : EPROTO;
	if (sipep_call_remote_sdp(call, msg, false, &scode, &why))
		return EPROTO;
	sipep_call_apply_remote(call);
	return 0;
}

static int offer_h(struct mbuf **descp, const struct sip_msg *msg, void *arg)
{
	struct sipep_fork *f = arg;

	return sipep_call_offer(f->call, descp, msg);
}

static void estab_h(const struct sip_msg *msg, void *arg)
{
	struct sipep_fork *f = arg;
	struct sipep_call *call = f->call;
	struct le *le;

	(void)msg;
	if (!call_live(call) || (call->winner && call->winner != f)) {
		/* A second answer: hang it up at once. */
		f->sess = mem_deref(f->sess);
		return;
	}
	call->winner = f;
	LIST_FOREACH(&call->forks, le) {
		struct sipep_fork *o = le->data;

		if (o != f)
			o->sess = mem_deref(o->sess);     /* CANCEL */
	}
	call->answered = true;
	name_after(call, f);
	channel_var_set(call->ch, "sip_term_status", "200");
	/* Last: an originator may bridge or hang up this channel right here. */
	channel_mark_answered(call->ch);
}

static void info_h(struct sip *sip, const struct sip_msg *msg, void *arg)
{
	struct sipep_fork *f = arg;

	(void)sip;
	sipep_call_info(f->call, msg);
}

/* Which outcome of several forks to report: a decline beats a timeout. */
static bool cause_better(enum hangup_cause a, enum hangup_cause b)
{
	static const enum hangup_cause rank[] = {
		CAUSE_CALL_REJECTED, CAUSE_DECLINE, CAUSE_USER_BUSY,
		CAUSE_INCOMPATIBLE_DESTINATION, CAUSE_NO_USER_RESPONSE,
	};
	size_t i, ra = 99, rb = 99;

	for (i = 0; i < sizeof(rank) / sizeof(*rank); i++) {
		if (rank[i] == a)
			ra = i;
		if (rank[i] == b)
			rb = i;
	}
	return ra < rb;
}

void sipep_fork_close(struct sipep_fork *f, int err, const struct sip_msg *msg)
{
	struct sipep_call *call = f->call;
	enum hangup_cause cause;
	struct le *le;

	f->failed = true;
	if (!call_live(call))
		return;
	if (call->winner == f) {
		call->remote_gone = true;
		cause = err == ECONNRESET ? CAUSE_NORMAL_CLEARING :
			err == ETIMEDOUT ? CAUSE_RECOVERY_ON_TIMER_EXPIRE :
			CAUSE_NORMAL_TEMPORARY_FAILURE;
		channel_var_set(call->ch, SIPEP_DISP_VAR,
				err == ECONNRESET ? SIPEP_RECV_BYE : SIPEP_SEND_BYE);
		channel_hangup(call->ch, cause);
		return;
	}
	if (call->winner)
		return;
	if (msg && msg->scode >= 300) {
		cause = cause_from_sip(msg->scode);
		channel_var_setf(call->ch, "sip_term_status", "%u", msg->scode);
	} else if (msg && msg->scode >= 200) {
		cause = CAUSE_INCOMPATIBLE_DESTINATION;    /* 200 with an unusable answer */
	} else if (err == ETIMEDOUT) {
		cause = cause_from_sip(408);
	} else {
		cause = CAUSE_DESTINATION_OUT_OF_ORDER;
	}
	if (call->fork_cause == CAUSE_NONE || cause_better(cause, call->fork_cause))
		call->fork_cause = cause;
	LIST_FOREACH(&call->forks, le) {
		if (!((struct sipep_fork *)le->data)->failed)
			return;
	}
	call->remote_gone = true;
	call->prof->failed_out++;
	channel_var_set(call->ch, SIPEP_DISP_VAR, SIPEP_RECV_REFUSE);
	channel_hangup(call->ch, call->fork_cause);
}

static void close_h(int err, const struct sip_msg *msg, void *arg)
{
	sipep_fork_close(arg, err, msg);
}

void sipep_out_end(struct sipep_call *call, enum hangup_cause cause)
{
	struct le *le;

	if (!call->remote_gone)
		channel_var_set(call->ch, SIPEP_DISP_VAR,
				call->answered ? SIPEP_SEND_BYE : SIPEP_SEND_CANCEL);
	LIST_FOREACH(&call->forks, le) {
		struct sipep_fork *f = le->data;

		if (f == call->winner && f->sess && !call->remote_gone)
			(void)sipsess_set_close_headers(f->sess,
							"Reason: Q.850;cause=%d;text=\"%s\"\r\n",
							(int)(cause > 127 ? 16 : cause),
							cause_name(cause));
		/* Unanswered: CANCEL; answered: BYE; over: nothing. */
		f->sess = mem_deref(f->sess);
	}
}

/* --- building the INVITE ------------------------------------------------- */

struct out_req {
	struct sipep_profile *prof;
	struct sipep_gateway *gw;
	char name[600];
	char dest_number[128];
	const char *uris[MAX_FORKS];
	struct sipep_profile *profs[MAX_FORKS];
	size_t n;
	const struct sipep_user *user;     /* user/ endpoint: directory user */
	const char *dialed_user, *dialed_domain;
};

static bool hname_ok(const char *s)
{
	static const char *const reserved[] = {
		"Via", "From", "To", "Call-ID", "CSeq", "Contact", "Content-Length",
		"Content-Type", "Max-Forwards", "Route", "Record-Route",
	};
	size_t i;

	if (!*s || strlen(s) > 64)
		return false;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr("-_.!%*+`'~", s[i])))
			return false;
	for (i = 0; i < sizeof(reserved) / sizeof(*reserved); i++)
		if (!strcasecmp(s, reserved[i]))
			return false;
	return true;
}

/*
 * sip_h_<Name> variables become <Name>: headers. The channel API has no
 * variable iterator, so read them back from a CHANNEL_DATA event.
 */
static int extra_headers(struct channel *ch, struct mbuf *mb)
{
	struct event *ev;
	size_t i, n;

	if (channel_event_alloc(ch, EVENT_CHANNEL_DATA, NULL, &ev))
		return ENOMEM;
	n = event_header_count(ev);
	for (i = 0; i < n; i++) {
		const char *name, *value;

		event_header_at(ev, i, &name, &value);
		if (strncmp(name, "variable_sip_h_", 15) || !hname_ok(name + 15) ||
		    strpbrk(value, "\r\n"))
			continue;
		mbuf_printf(mb, "%s: %s\r\n", name + 15, value);
	}
	event_deref(ev);
	return 0;
}

static void user_var_h(const char *name, const char *value, void *arg)
{
	channel_var_set(arg, name, value);
}

/* A display name goes between quotes; a number into a URI user part. */
static void clean_name(char *dst, size_t sz, const char *s)
{
	size_t j = 0;

	for (; s && *s && j + 1 < sz; s++)
		if (*s != '"' && *s != '\\' && *s != '\r' && *s != '\n')
			dst[j++] = *s;
	dst[j] = '\0';
}

static void clean_user(char *dst, size_t sz, const char *s)
{
	size_t j = 0;

	for (; s && *s && j + 1 < sz; s++)
		if ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= 'A' && *s <= 'Z') || strchr("+-_.*#!~", *s))
			dst[j++] = *s;
	dst[j] = '\0';
	if (!j)
		snprintf(dst, sz, "%s", DEFAULT_CID);
}

static const char *first_of(const char *a, const char *b, const char *c, const char *d)
{
	if (a && *a)
		return a;
	if (b && *b)
		return b;
	if (c && *c)
		return c;
	return d;
}

/* Strip "sip:" and anything after the host[:port] of a proxy setting. */
static void host_of(const char *proxy, char *buf, size_t sz)
{
	const char *s = proxy;
	size_t l;

	if (!strncasecmp(s, "sips:", 5))
		s += 5;
	else if (!strncasecmp(s, "sip:", 4))
		s += 4;
	l = strcspn(s, ";>?");
	snprintf(buf, sz, "%.*s", (int)l, s);
}

/* Who the INVITE is from: caller ID, From URI and Contact user. */
struct leg_id {
	char cid_name[128], cid_num[128], from_uri[300], cuser[64];
};

static void leg_identity(struct channel *ch, const struct out_req *r, struct leg_id *id)
{
	const struct sipep_pcfg *pc = &r->prof->cfg;
	struct caller_profile *cp = channel_profile(ch);
	char from_host[200];

	/* origination_*, then effective_*, then what the originator set. */
	clean_name(id->cid_name, sizeof(id->cid_name),
		   first_of(channel_var(ch, "origination_caller_id_name"),
			    channel_var(ch, "effective_caller_id_name"), cp->caller_id_name,
			    NULL));
	clean_user(id->cid_num, sizeof(id->cid_num),
		   first_of(channel_var(ch, "origination_caller_id_number"),
			    channel_var(ch, "effective_caller_id_number"),
			    cp->caller_id_number, DEFAULT_CID));
	if (!id->cid_name[0])
		snprintf(id->cid_name, sizeof(id->cid_name), "%s", id->cid_num);
	if (!cp->caller_id_number)
		channel_profile_set(&cp->caller_id_number, id->cid_num);
	if (!cp->caller_id_name)
		channel_profile_set(&cp->caller_id_name, id->cid_name);
	channel_profile_set(&cp->destination_number, r->dest_number);
	channel_profile_set(&cp->callee_id_number, r->dest_number);
	if (r->gw) {
		/* A provider knows us by the account, not by the caller. */
		host_of(r->gw->from_domain ? r->gw->from_domain : r->gw->realm, from_host,
			sizeof(from_host));
		snprintf(id->from_uri, sizeof(id->from_uri), "sip:%s@%s",
			 r->gw->from_user ? r->gw->from_user : r->gw->username, from_host);
	} else {
		char ip[64];
		bool v6;

		sipep_advertised_ip(pc->sip_ip, ip, sizeof(ip));
		v6 = strchr(ip, ':') != NULL;
		snprintf(id->from_uri, sizeof(id->from_uri), "sip:%s@%s%s%s:%u", id->cid_num,
			 v6 ? "[" : "", ip, v6 ? "]" : "", pc->sip_port);
	}
	clean_user(id->cuser, sizeof(id->cuser), first_of(channel_var(ch, "sip_contact_user"),
							  "mod_sofia", NULL, NULL));
}

/* One INVITE per contact; returns how many went out. */
static size_t send_forks(struct sipep_call *call, const struct out_req *r,
			 const struct leg_id *id, struct mbuf *desc, const char *hdrs)
{
	size_t i, started = 0;

	for (i = 0; i < r->n; i++) {
		struct sipep_fork *f = mem_zalloc(sizeof(*f), fork_destructor);
		int e;

		if (!f)
			break;
		f->call = call;
		f->prof = r->profs[i];
		list_append(&call->forks, &f->le, f);
		(void)str_dup(&f->uri, r->uris[i]);
		e = sipsess_connect(&f->sess, f->prof->sock, r->uris[i], id->cid_name,
				    id->from_uri, id->cuser, NULL, 0, CTYPE_SDP, desc,
				    r->gw ? sipep_gw_auth : NULL, r->gw, false, offer_h,
				    answer_h, progr_h, estab_h, info_h, NULL, close_h, f,
				    "%s", hdrs);
		if (e) {
			log_warn("%s: cannot send INVITE to %s: %s\n", r->name, r->uris[i],
				 strerror(e));
			f->failed = true;
			continue;
		}
		started++;
	}
	return started;
}

static enum hangup_cause out_start(struct channel **chp, struct out_req *r,
				   void (*setup)(struct channel *ch, void *arg),
				   void *setup_arg)
{
	struct sipep_profile *p = r->prof;
	struct mbuf *desc = NULL, *hdrs = NULL;
	struct sipep_call *call;
	struct channel *ch;
	struct leg_id id;
	size_t started = 0;
	int err;

	*chp = NULL;
	call = sipep_call_alloc(p, CHANNEL_OUTBOUND);
	if (!call)
		return CAUSE_CRASH;
	call->gw = r->gw;
	err = sipep_call_media(call);
	if (err) {
		log_err("sofia %s: no RTP port for %s: %s\n", p->cfg.name, r->name,
			strerror(err));
		mem_deref(call);
		return CAUSE_NORMAL_TEMPORARY_FAILURE;
	}
	err = channel_alloc(&ch, &sipep_call_ops, call, CHANNEL_OUTBOUND, r->name, NULL);
	if (err) {
		mem_deref(call);
		return CAUSE_CRASH;
	}
	call->ch = mem_ref(ch);
	if (r->user)
		sipep_dir_dial_vars(r->user, user_var_h, ch);
	if (r->dialed_user) {
		channel_var_set(ch, "dialed_user", r->dialed_user);
		channel_var_set(ch, "dialed_domain", r->dialed_domain);
		channel_var_setf(ch, "presence_id", "%s@%s", r->dialed_user, r->dialed_domain);
	}
	if (setup)
		setup(ch, setup_arg);
	channel_var_set(ch, "sofia_profile_name", p->cfg.name);
	if (r->gw)
		channel_var_set(ch, "sip_gateway_name", r->gw->name);
	leg_identity(ch, r, &id);
	hdrs = mbuf_alloc(256);
	err = hdrs ? extra_headers(ch, hdrs) : ENOMEM;
	if (!err)
		err = mbuf_write_u8(hdrs, 0);
	if (!err)
		err = sipep_call_local_sdp(call, true, &desc);
	channel_start(ch);
	if (!err)
		started = send_forks(call, r, &id, desc, (const char *)hdrs->buf);
	mem_deref(desc);
	mem_deref(hdrs);
	if (!started) {
		p->failed_out++;
		channel_var_set(ch, SIPEP_DISP_VAR, SIPEP_SEND_REFUSE);
		call->remote_gone = true;
		channel_hangup(ch, CAUSE_DESTINATION_OUT_OF_ORDER);
		return CAUSE_DESTINATION_OUT_OF_ORDER;
	}
	p->calls_out++;
	if (r->user) {
		/*
		 * As mod_dptools' user endpoint: the directory user's variables land on
		 * the new leg once it is placed (they do not change the INVITE), and
		 * user_context becomes its context.
		 */
		sipep_dir_vars(r->user, user_var_h, ch);
		if (channel_var(ch, "user_context"))
			channel_profile_set(&channel_profile(ch)->context,
					    channel_var(ch, "user_context"));
	}
	*chp = ch;
	return CAUSE_NONE;
}

/* "sofia/internal/sip:1000@127.0.0.1:5070;transport=udp" -> "1000@127.0.0.1:5070". */
static void leg_name_of(const char *uri, char *buf, size_t sz)
{
	const char *s = uri;

	if (!strncasecmp(s, "sips:", 5))
		s += 5;
	else if (!strncasecmp(s, "sip:", 4))
		s += 4;
	snprintf(buf, sz, "%.*s", (int)strcspn(s, ";>?"), s);
}

static void user_part(const char *dest, char *buf, size_t sz)
{
	const char *s = dest;

	if (!strncasecmp(s, "sips:", 5))
		s += 5;
	else if (!strncasecmp(s, "sip:", 4))
		s += 4;
	if (!strchr(s, '@')) {
		buf[0] = '\0';
		return;
	}
	snprintf(buf, sz, "%.*s", (int)strcspn(s, "@"), s);
}

/* Live bindings of user@domain, each with the profile it registered on. */
static size_t bindings(const char *user, const char *domain, struct out_req *r,
		       char uris[][512])
{
	struct sipep_reg *v[MAX_FORKS];
	size_t n = sipep_loc_lookup(sipep_location(), user, domain, sipep_now(), v, MAX_FORKS);
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		struct sipep_profile *p = sipep_profile_find(v[i]->profile);

		if (!p || !p->running)
			continue;
		snprintf(uris[k], 512, "%s", v[i]->uri);
		r->uris[k] = uris[k];
		r->profs[k] = p;
		if (!r->prof)
			r->prof = p;
		k++;
	}
	r->n = k;
	return k;
}

/* sofia/gateway/<gw>/<number>: sip:<number>@<proxy> through the gateway's profile. */
static bool gateway_req(const struct sipep_target *t, struct out_req *r, char uris[][512])
{
	char host[256];

	r->gw = sipep_gateway_find(t->gateway);
	if (!r->gw)
		return false;
	r->prof = r->gw->prof;
	host_of(r->gw->proxy, host, sizeof(host));
	snprintf(uris[0], 512, "sip:%.200s@%.250s%s", t->dest, host,
		 r->gw->transport && !strcasecmp(r->gw->transport, "tcp") ?
		 ";transport=tcp" : "");
	snprintf(r->name, sizeof(r->name), "sofia/gateway/%s/%s", r->gw->name, t->dest);
	snprintf(r->dest_number, sizeof(r->dest_number), "%.127s", t->dest);
	r->uris[0] = uris[0];
	r->profs[0] = r->prof;
	r->n = 1;
	return true;
}

enum hangup_cause sipep_sofia_call(struct channel **chp, const char *target,
				   void (*setup)(struct channel *ch, void *arg),
				   void *setup_arg)
{
	struct out_req *r;
	struct sipep_target t;
	char (*uris)[512];
	enum hangup_cause cause;

	*chp = NULL;
	if (sipep_target_parse(target, &t))
		return CAUSE_INVALID_URL;
	r = mem_zalloc(sizeof(*r), NULL);
	uris = mem_zalloc(MAX_FORKS * 512, NULL);
	if (!r || !uris) {
		mem_deref(r);
		mem_deref(uris);
		return CAUSE_CRASH;
	}
	if (t.kind == SIPEP_TARGET_GATEWAY) {
		if (!gateway_req(&t, r, uris)) {
			cause = CAUSE_INVALID_GATEWAY;
			goto out;
		}
	} else if (t.registered) {
		char user[128], domain[256];
		char *pct = strchr(t.dest, '%');

		snprintf(user, sizeof(user), "%.*s", (int)(pct - t.dest), t.dest);
		snprintf(domain, sizeof(domain), "%s", pct + 1);
		if (!sipep_profile_find(t.profile)) {
			cause = CAUSE_INVALID_PROFILE;
			goto out;
		}
		if (!bindings(user, domain, r, uris)) {
			cause = CAUSE_USER_NOT_REGISTERED;
			goto out;
		}
		snprintf(r->name, sizeof(r->name), "sofia/%s/%s", t.profile, t.dest);
		snprintf(r->dest_number, sizeof(r->dest_number), "%s", user);
	} else {
		r->prof = sipep_profile_find(t.profile);
		if (!r->prof || !r->prof->running) {
			cause = CAUSE_INVALID_PROFILE;
			goto out;
		}
		if (snprintf(uris[0], 512, "%s%s", t.is_uri ? "" : "sip:", t.dest) >= 512) {
			cause = CAUSE_INVALID_NUMBER_FORMAT;
			goto out;
		}
		r->uris[0] = uris[0];
		r->profs[0] = r->prof;
		r->n = 1;
		{
			char leg[400];

			leg_name_of(t.dest, leg, sizeof(leg));
			snprintf(r->name, sizeof(r->name), "sofia/%s/%s", r->prof->cfg.name, leg);
		}
		user_part(t.dest, r->dest_number, sizeof(r->dest_number));
	}
	cause = out_start(chp, r, setup, setup_arg);
 out:
	mem_deref(uris);
	mem_deref(r);
	return cause;
}

enum hangup_cause sipep_user_call(struct channel **chp, const char *target,
				  void (*setup)(struct channel *ch, void *arg),
				  void *setup_arg)
{
	char user[128], domain[256], leg[400];
	struct config *cfg = mem_ref(config_current());
	struct sipep_user u;
	struct out_req *r = NULL;
	char (*uris)[512] = NULL;
	enum hangup_cause cause;

	*chp = NULL;
	if (sipep_user_target_parse(target, user, sizeof(user), domain, sizeof(domain))) {
		cause = CAUSE_INVALID_URL;
		goto out;
	}
	if (!domain[0])
		sipep_dir_default_domain(cfg, domain, sizeof(domain));
	/* spec/core.md 1: an unknown user is SUBSCRIBER_ABSENT. */
	if (sipep_dir_user(cfg, domain, user, &u)) {
		log_info("user/%s: no such user in domain %s\n", user, domain);
		cause = CAUSE_SUBSCRIBER_ABSENT;
		goto out;
	}
	r = mem_zalloc(sizeof(*r), NULL);
	uris = mem_zalloc(MAX_FORKS * 512, NULL);
	if (!r || !uris) {
		cause = CAUSE_CRASH;
		goto out;
	}
	/* mod_dptools: a user without a dial-string cannot be called. */
	if (!sipep_dir_param(&u, "dial-string")) {
		log_err("user/%s@%s: no dial-string available, please check your user "
			"directory\n", u.id, u.domain_name);
		cause = CAUSE_MANDATORY_IE_MISSING;
		goto out;
	}
	if (!bindings(u.id, u.domain_name, r, uris)) {
		log_info("user/%s@%s: not registered\n", u.id, u.domain_name);
		cause = CAUSE_USER_NOT_REGISTERED;
		goto out;
	}
	r->user = &u;
	r->dialed_user = u.id;
	r->dialed_domain = u.domain_name;
	leg_name_of(r->uris[0], leg, sizeof(leg));
	snprintf(r->name, sizeof(r->name), "sofia/%s/%s", r->prof->cfg.name, leg);
	snprintf(r->dest_number, sizeof(r->dest_number), "%s", u.id);
	cause = out_start(chp, r, setup, setup_arg);
 out:
	mem_deref(uris);
	mem_deref(r);
	mem_deref(cfg);
	return cause;
}
