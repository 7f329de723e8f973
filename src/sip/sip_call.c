/*
 * sip_call.c - SIP calls as channels: inbound INVITEs (challenge, offer/answer,
 * 100/180/183/200, CANCEL, BYE, re-INVITE hold, INFO DTMF) and what inbound
 * and outbound calls share (media, SDP, the channel ops).
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
#include "sip/sip_int.h"

#define CTYPE_SDP "application/sdp"
#define ALLOW_HDR "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO\r\n"

static void call_destructor(void *data)
{
	struct sipep_call *call = data;

	list_unlink(&call->le);
	tmr_cancel(&call->fail_tmr);
	list_flush(&call->forks);
	mem_deref(call->sess);
	if (call->st) {
		/* Never leave a transaction without a final answer. */
		(void)sip_treply(&call->st, call->prof->sip, call->msg, 500,
				 "Server Internal Error");
	}
	mem_deref(call->st);
	mem_deref(call->ms);
	mem_deref((void *)call->msg);
	mem_deref(call->ch);
}

struct sipep_call *sipep_call_alloc(struct sipep_profile *p, enum channel_dir dir)
{
	struct sipep_call *call = mem_zalloc(sizeof(*call), call_destructor);

	if (!call)
		return NULL;
	call->prof = p;
	call->dir = dir;
	call->sdp_id = rand_u32();
	call->sdp_ver = call->sdp_id;
	tmr_init(&call->fail_tmr);
	list_init(&call->forks);
	snprintf(call->cuser, sizeof(call->cuser), "mod_sofia");
	list_append(&p->calls, &call->le, call);
	return call;
}

/* --- media ------------------------------------------------------------- */

static void media_h(struct media_stream *ms, enum media_ev ev,
		    const struct media_ev_data *d, void *arg)
{
	struct sipep_call *call = arg;

	(void)ms;
	if (!call->ch || !channel_up(call->ch))
		return;
	if (ev == MEDIA_EV_DTMF && d)
		channel_dtmf_received(call->ch, d->digit, d->duration_ms, "RTP");
	else if (ev == MEDIA_EV_TIMEOUT)
		channel_hangup(call->ch, CAUSE_MEDIA_TIMEOUT);
}

int sipep_call_media(struct sipep_call *call)
{
	return media_stream_alloc(&call->ms, call->prof->cfg.rtp_ip, media_h, call);
}

static const char *sdp_addr(const struct sipep_call *call, char *buf, size_t sz)
{
	const struct sipep_pcfg *pc = &call->prof->cfg;

	return sipep_advertised_ip(pc->ext_rtp_ip[0] ? pc->ext_rtp_ip : pc->rtp_ip, buf, sz);
}

/* Apply what was agreed: where to send, the codec, hold. */
void sipep_call_apply_remote(struct sipep_call *call)
{
	const struct sipep_neg *n = &call->neg;
	struct media_params prm;
	struct sa sa;
	bool first = !call->have_remote;

	call->have_remote = true;
	prm = (struct media_params){
		.codec = n->codec, .pt = n->pt, .te_pt = n->te_pt, .ptime_ms = n->ptime,
		/* Our direction is the mirror of theirs; c=0.0.0.0 means "do not send". */
		.send = !call->remote.hold_addr && (n->remote_dir == SIPEP_SENDRECV ||
						    n->remote_dir == SIPEP_RECVONLY),
		.recv = n->remote_dir == SIPEP_SENDRECV || n->remote_dir == SIPEP_SENDONLY,
	};
	if (sa_set_str(&sa, call->remote.addr, call->remote.port))
		sa_init(&sa, AF_INET);
	if (call->ms && media_stream_set_remote(call->ms, &sa, &prm))
		log_warn("%s: cannot set the remote media address\n",
			 call->ch ? channel_name(call->ch) : "sofia");
	if (!call->ch)
		return;
	if (first) {
		channel_set_codec(call->ch, sipep_codec_name(n->codec), 8000);
		channel_var_set(call->ch, "rtp_use_codec_name", sipep_codec_name(n->codec));
		channel_var_set(call->ch, "rtp_use_codec_rate", "8000");
		channel_var_setf(call->ch, "rtp_use_codec_ptime", "%u", n->ptime);
		if (n->te_pt)
			channel_var_setf(call->ch, "rtp_remote_audio_te", "%u", n->te_pt);
	}
	channel_var_set(call->ch, "remote_media_ip", call->remote.addr);
	channel_var_setf(call->ch, "remote_media_port", "%u", call->remote.port);
	if (call->answered && n->hold != call->held) {
		call->held = n->hold;
		channel_mark_hold(call->ch, n->hold);
	}
}

int sipep_call_remote_sdp(struct sipep_call *call, const struct sip_msg *msg, bool offer,
			  uint16_t *scodep, const char **whyp)
{
	const struct sipep_pcfg *pc = &call->prof->cfg;
	static char why[160];
	struct sipep_sdp *sdp;
	struct sipep_neg neg;
	int err;

	*whyp = NULL;
	if (!msg_ctype_cmp(&msg->ctyp, "application", "sdp")) {
		*scodep = 415;
		*whyp = "Unsupported Media Type";
		return ENOTSUP;
	}
	sdp = mem_zalloc(sizeof(*sdp), NULL);
	if (!sdp)
		return ENOMEM;
	err = sipep_sdp_parse(sdp, (const char *)mbuf_buf(msg->mb), mbuf_get_left(msg->mb),
			      why, sizeof(why));
	if (err) {
		char src[80];

		*scodep = 400;
		*whyp = why;
		sipep_addr_str(&msg->src, src, sizeof(src));
		log_warn("sofia %s: bad SDP from %s: %s\n", pc->name, src, why);
		goto out;
	}
	err = offer ? sipep_sdp_negotiate(sdp, pc->codecs, pc->ncodecs, pc->greedy, &neg)
		: sipep_sdp_accept_answer(sdp, pc->codecs, pc->ncodecs, &neg);
	if (err) {
		char src[80];

		*scodep = 488;
		*whyp = "Not Acceptable Here";
		sipep_addr_str(&msg->src, src, sizeof(src));
		log_notice("sofia %s: no common codec with %s\n", pc->name, src);
		goto out;
	}
	/* dtmf-type info or none: do not agree to telephone-events. */
	if (pc->dtmf != SIPEP_DTMF_RFC2833)
		neg.te_pt = 0;
	call->remote = *sdp;
	call->neg = neg;
	if (call->ch) {
		struct pl body = {(const char *)mbuf_buf(msg->mb), mbuf_get_left(msg->mb)};
		char *txt = NULL;

		if (!pl_strdup(&txt, &body)) {
			channel_var_set(call->ch, "switch_r_sdp", txt);
			mem_deref(txt);
		}
	}
 out:
	mem_deref(sdp);
	return err;
}

int sipep_call_local_sdp(struct sipep_call *call, bool offer, struct mbuf **mbp)
{
	const struct sipep_pcfg *pc = &call->prof->cfg;
	enum media_codec chosen = call->neg.codec;
	char abuf[64];
	struct sipep_sdp_local l = {
		.addr = sdp_addr(call, abuf, sizeof(abuf)),
		.port = call->ms ? media_stream_port(call->ms) : 0,
		.sess_id = call->sdp_id,
		.sess_ver = ++call->sdp_ver,
		.ptime = 20,
		.dir = SIPEP_SENDRECV,
	};
	int err;

	if (offer) {
		l.codecs = pc->codecs;
		l.ncodecs = pc->ncodecs;
		l.te_pt = pc->dtmf == SIPEP_DTMF_RFC2833 ? pc->te_pt : 0;
	} else {
		l.codecs = &chosen;
		l.ncodecs = 1;
		l.answer_pt = call->neg.pt;
		l.te_pt = call->neg.te_pt;
		l.ptime = call->neg.ptime;
		l.dir = sipep_sdp_answer_dir(call->neg.remote_dir);
		l.mirror = &call->remote;
	}
	err = sipep_sdp_build(mbp, &l);
	if (!err && call->ch) {
		channel_var_set(call->ch, "local_media_ip", l.addr);
		channel_var_setf(call->ch, "local_media_port", "%u", l.port);
	}
	return err;
}

/* --- the channel ops ----------------------------------------------------- */

static void session_close_h(int err, const struct sip_msg *msg, void *arg);
static int session_offer_h(struct mbuf **descp, const struct sip_msg *msg, void *arg);
static int session_answer_h(const struct sip_msg *msg, void *arg);
static void session_estab_h(const struct sip_msg *msg, void *arg);
static void session_info_h(struct sip *sip, const struct sip_msg *msg, void *arg);

static void fail_h(void *arg)
{
	struct sipep_call *call = arg;

	if (call->ch && channel_up(call->ch))
		channel_hangup(call->ch, CAUSE_NORMAL_TEMPORARY_FAILURE);
}

/* Hand our transaction to a libre session with the first real response. */
static int session_create(struct sipep_call *call, uint16_t scode, const char *reason,
			  struct mbuf *desc)
{
	int err;

	call->st = mem_deref(call->st);
	err = sipsess_accept(&call->sess, call->prof->sock, call->msg, scode, reason,
			     call->cuser, CTYPE_SDP, desc, NULL, NULL, false, session_offer_h,
			     session_answer_h, session_estab_h, session_info_h, NULL,
			     session_close_h, call, ALLOW_HDR);
	if (err) {
		log_warn("%s: cannot send %u: %s\n", channel_name(call->ch), scode,
			 strerror(err));
		(void)sip_treply(NULL, call->prof->sip, call->msg, 500,
				 "Server Internal Error");
		call->remote_gone = true;
		/* Not from inside the channel's own request: hang up from the loop. */
		tmr_start(&call->fail_tmr, 0, fail_h, call);
	}
	return err;
}

static int op_ring_ready(struct channel *ch, void *arg)
{
	struct sipep_call *call = arg;

	(void)ch;
	if (call->dir != CHANNEL_INBOUND || call->answered)
		return 0;
	if (!call->sess)
		return session_create(call, 180, "Ringing", NULL);
	return sipsess_progress(call->sess, 180, "Ringing", NULL, ALLOW_HDR);
}

static int op_pre_answer(struct channel *ch, void *arg)
{
	struct sipep_call *call = arg;
	struct mbuf *desc = NULL;
	int err;

	(void)ch;
	if (call->dir != CHANNEL_INBOUND)
		return ENOTSUP;
	if (call->answered)
		return 0;
	/* Without an offer there is nothing to answer in a 183: ring instead. */
	if (call->late_offer)
		return op_ring_ready(ch, arg);
	err = sipep_call_local_sdp(call, false, &desc);
	if (err)
		return err;
	if (!call->sess)
		err = session_create(call, 183, "Session Progress", desc);
	else
		err = sipsess_progress(call->sess, 183, "Session Progress", desc, ALLOW_HDR);
	mem_deref(desc);
	return err;
}

static int op_answer(struct channel *ch, void *arg)
{
	struct sipep_call *call = arg;
	struct mbuf *desc = NULL;
	int err;

	(void)ch;
	if (call->dir != CHANNEL_INBOUND)
		return call->answered ? 0 : ENOTSUP;
	if (call->answered)
		return 0;
	err = sipep_call_local_sdp(call, call->late_offer, &desc);
	if (err)
		return err;
	if (!call->sess)
		err = session_create(call, 200, "OK", desc);
	else
		err = sipsess_answer(call->sess, 200, "OK", desc, ALLOW_HDR);
	mem_deref(desc);
	if (!err)
		call->answered = true;
	return err;
}

static void info_resp_h(int err, const struct sip_msg *msg, void *arg)
{
	(void)err;
	(void)msg;
	(void)arg;
}

/* The dialog's session: inbound, or the outbound fork that answered. */
static struct sipsess *call_sess(const struct sipep_call *call)
{
	if (call->dir == CHANNEL_INBOUND)
		return call->sess;
	return call->winner ? call->winner->sess : NULL;
}

static int op_send_dtmf(struct channel *ch, const char *digits, unsigned ms, void *arg)
{
	struct sipep_call *call = arg;
	const char *d;
	int err = 0;

	(void)ch;
	if (!ms)
		ms = 250;
	if (call->prof->cfg.dtmf == SIPEP_DTMF_RFC2833 && call->neg.te_pt && call->ms)
		return media_stream_send_dtmf(call->ms, digits, ms);
	if (!call_sess(call) || !call->answered)
		return ENOTCONN;
	/* SIP INFO, one request per digit (application/dtmf-relay). */
	for (d = digits; *d && !err; d++) {
		struct mbuf *body;

		if (!strchr("0123456789*#ABCDabcd", *d))
			continue;
		body = mbuf_alloc(64);
		if (!body)
			return ENOMEM;
		mbuf_printf(body, "Signal=%c\r\nDuration=%u\r\n", *d, ms);
		body->pos = 0;
		err = sipsess_info(call_sess(call), "application/dtmf-relay", body, info_resp_h,
				   call);
		mem_deref(body);
	}
	return err;
}

static struct media_stream *op_media(struct channel *ch, void *arg)
{
	struct sipep_call *call = arg;

	(void)ch;
	return call->ms;
}

static void set_reason_headers(struct sipep_call *call, enum hangup_cause cause)
{
	if (call->sess)
		(void)sipsess_set_close_headers(call->sess,
						"Reason: Q.850;cause=%d;text=\"%s\"\r\n",
						(int)(cause > 127 ? 16 : cause),
						cause_name(cause));
}

/*
 * The status refusing an unanswered call: the one the respond application
 * chose (with its reason phrase) when the cause is still the one it maps to,
 * otherwise the cause's own mapping.
 */
static uint16_t refuse_status(struct channel *ch, enum hangup_cause cause,
			      const char **reasonp)
{
	const char *code = channel_var(ch, "respond_code");
	const char *reason = channel_var(ch, "respond_reason");
	unsigned long scode = code ? strtoul(code, NULL, 10) : 0;

	if (scode >= 300 && scode <= 699 && cause_from_sip((uint16_t)scode) == cause) {
		*reasonp = reason ? reason : sipep_reason((uint16_t)scode);
		return (uint16_t)scode;
	}
	scode = cause_to_sip(cause);
	*reasonp = sipep_reason((uint16_t)scode);
	return (uint16_t)scode;
}

static void inbound_end(struct sipep_call *call, enum hangup_cause cause)
{
	const char *reason;
	uint16_t scode;

	if (call->remote_gone) {
		/* The far end ended it; the disposition is set already. */
	} else if (call->answered) {
		channel_var_set(call->ch, SIPEP_DISP_VAR, SIPEP_SEND_BYE);
		set_reason_headers(call, cause);
	} else {
		scode = refuse_status(call->ch, cause, &reason);
		channel_var_set(call->ch, SIPEP_DISP_VAR, SIPEP_SEND_REFUSE);
		channel_var_setf(call->ch, "sip_term_status", "%u", scode);
		if (call->sess)
			(void)sipsess_reject(call->sess, scode, reason,
					     "Reason: Q.850;cause=%d;text=\"%s\"\r\n"
					     "Content-Length: 0\r\n\r\n",
					     (int)(cause > 127 ? 16 : cause), cause_name(cause));
		else if (call->st)
			(void)sip_treplyf(&call->st, NULL, call->prof->sip, call->msg, false,
					  scode, reason,
					  "Reason: Q.850;cause=%d;text=\"%s\"\r\n"
					  "Content-Length: 0\r\n\r\n",
					  (int)(cause > 127 ? 16 : cause), cause_name(cause));
	}
	/* Dropping the session sends the BYE (or nothing, when already over). */
	call->sess = mem_deref(call->sess);
}

static void op_hangup(struct channel *ch, enum hangup_cause cause, void *arg)
{
	struct sipep_call *call = arg;

	(void)ch;
	if (call->dir == CHANNEL_INBOUND)
		inbound_end(call, cause);
	else
		sipep_out_end(call, cause);
	call->ms = mem_deref(call->ms);
	/* call->ch is dropped by the destructor, after everything that uses it. */
	mem_deref(call);
}

const struct channel_ops sipep_call_ops = {
	.source = SIPEP_SOURCE,
	.pre_answer = op_pre_answer,
	.ring_ready = op_ring_ready,
	.answer = op_answer,
	.hangup = op_hangup,
	.send_dtmf = op_send_dtmf,
	.media = op_media,
};

void sipep_calls_close(struct sipep_profile *p)
{
	struct le *le = list_head(&p->calls);

	while (le) {
		struct sipep_call *call = le->data;

		le = le->next;
		if (call->ch)
			channel_hangup(call->ch, CAUSE_SYSTEM_SHUTDOWN);
		else
			mem_deref(call);
	}
}

/* --- session callbacks (inbound) ----------------------------------------- */

static void session_close_h(int err, const struct sip_msg *msg, void *arg)
{
	struct sipep_call *call = arg;
	enum hangup_cause cause;
	const char *disp;

	(void)msg;
	if (!call->ch || !channel_up(call->ch))
		return;
	if (err == ECONNRESET) {
		/* BYE, or CANCEL before we answered. */
		call->remote_gone = true;
		disp = call->answered ? SIPEP_RECV_BYE : SIPEP_RECV_CANCEL;
		cause = call->answered ? CAUSE_NORMAL_CLEARING : CAUSE_ORIGINATOR_CANCEL;
	} else if (err == ETIMEDOUT) {
		/* No ACK for our 200: libre sends the BYE itself. */
		call->remote_gone = true;
		disp = SIPEP_SEND_BYE;
		cause = CAUSE_RECOVERY_ON_TIMER_EXPIRE;
	} else {
		call->remote_gone = true;
		disp = SIPEP_SEND_BYE;
		cause = err == EPROTO || err == EBADMSG || err == ENOENT ?
			CAUSE_INCOMPATIBLE_DESTINATION : CAUSE_NORMAL_TEMPORARY_FAILURE;
	}
	channel_var_set(call->ch, SIPEP_DISP_VAR, disp);
	channel_hangup(call->ch, cause);
}

/* re-INVITE: hold, unhold, a new address or codec. */
static int session_offer_h(struct mbuf **descp, const struct sip_msg *msg, void *arg)
{
	return sipep_call_offer(arg, descp, msg);
}

int sipep_call_offer(struct sipep_call *call, struct mbuf **descp, const struct sip_msg *msg)
{
	struct sipep_sdp saved = call->remote;
	struct sipep_neg saved_neg = call->neg;
	const char *why;
	uint16_t scode;
	int err;

	if (!mbuf_get_left(msg->mb)) {
		/* Offer-less re-INVITE: we offer, the ACK answers (session_answer_h). */
		return sipep_call_local_sdp(call, true, descp);
	}
	err = sipep_call_remote_sdp(call, msg, true, &scode, &why);
	if (err) {
		call->remote = saved;
		call->neg = saved_neg;
		return err == ENOENT ? ENOENT : EPROTO;
	}
	sipep_call_apply_remote(call);
	return sipep_call_local_sdp(call, false, descp);
}

/* The answer to an offer we made: in the ACK (late offer) or re-INVITE's ACK. */
static int session_answer_h(const struct sip_msg *msg, void *arg)
{
	struct sipep_call *call = arg;
	const char *why;
	uint16_t scode;
	int err;

	if (!mbuf_get_left(msg->mb))
		return call->have_remote ? 0 : EPROTO;
	err = sipep_call_remote_sdp(call, msg, false, &scode, &why);
	if (err)
		return EPROTO;
	call->late_offer = false;
	sipep_call_apply_remote(call);
	return 0;
}

static void session_estab_h(const struct sip_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
}

int sipep_call_info(struct sipep_call *call, const struct sip_msg *msg)
{
	struct sip *sip = call->prof->sip;
	size_t len = mbuf_get_left(msg->mb);
	char digit;
	unsigned ms;
	int err;

	if (!len) {
		(void)sip_treply(NULL, sip, msg, 200, "OK");
		return 0;
	}
	err = sipep_dtmf_info_parse(&msg->ctyp, (const char *)mbuf_buf(msg->mb), len, &digit,
				    &ms);
	if (err == ENOTSUP) {
		(void)sip_treplyf(NULL, NULL, sip, msg, false, 415, "Unsupported Media Type",
				  "Accept: application/dtmf-relay, application/dtmf\r\n"
				  "Content-Length: 0\r\n\r\n");
		return err;
	}
	if (err) {
		log_warn("%s: malformed DTMF INFO body\n",
			 call->ch ? channel_name(call->ch) : call->prof->cfg.name);
		(void)sip_treply(NULL, sip, msg, 400, "Bad DTMF Body");
		return err;
	}
	(void)sip_treply(NULL, sip, msg, 200, "OK");
	if (call->ch && channel_up(call->ch))
		channel_dtmf_received(call->ch, digit, ms, "INFO");
	return 0;
}

static void session_info_h(struct sip *sip, const struct sip_msg *msg, void *arg)
{
	(void)sip;
	sipep_call_info(arg, msg);
}

/* --- inbound INVITE ------------------------------------------------------ */

static void st_cancel_h(void *arg)
{
	struct sipep_call *call = arg;

	(void)sip_treply(&call->st, call->prof->sip, call->msg, 487, "Request Terminated");
	call->remote_gone = true;
	if (!call->ch || !channel_up(call->ch))
		return;
	channel_var_set(call->ch, SIPEP_DISP_VAR, SIPEP_RECV_CANCEL);
	channel_hangup(call->ch, CAUSE_ORIGINATOR_CANCEL);
}

static void var_pl(struct channel *ch, const char *name, const struct pl *pl)
{
	char buf[512];

	if (pl_isset(pl))
		channel_var_set(ch, name, sipep_pl_str(pl, buf, sizeof(buf)));
}

static void var_uri(struct channel *ch, const char *prefix, const struct uri *u)
{
	char name[64], buf[512];

	snprintf(name, sizeof(name), "%s_user", prefix);
	var_pl(ch, name, &u->user);
	snprintf(name, sizeof(name), "%s_host", prefix);
	var_pl(ch, name, &u->host);
	if (u->port) {
		snprintf(name, sizeof(name), "%s_port", prefix);
		channel_var_setf(ch, name, "%u", u->port);
	}
	snprintf(name, sizeof(name), "%s_uri", prefix);
	if (pl_isset(&u->user))
		snprintf(buf, sizeof(buf), "%.*s@%.*s", (int)u->user.l, u->user.p,
			 (int)u->host.l, u->host.p);
	else
		snprintf(buf, sizeof(buf), "%.*s", (int)u->host.l, u->host.p);
	channel_var_set(ch, name, buf);
}

/* Custom X- headers become sip_h_X-... as in mod_sofia. */
static void set_xhdr_vars(struct channel *ch, const struct sip_msg *msg)
{
	struct le *le;

	LIST_FOREACH(&msg->hdrl, le) {
		const struct sip_hdr *hdr = le->data;
		char name[160], val[512];

		if (hdr->name.l <= 2 || hdr->name.l >= 140 || strncasecmp(hdr->name.p, "X-", 2))
			continue;
		snprintf(name, sizeof(name), "sip_h_%.*s", (int)hdr->name.l, hdr->name.p);
		channel_var_set(ch, name, sipep_pl_str(&hdr->val, val, sizeof(val)));
	}
}

void sipep_call_set_sip_vars(struct sipep_call *call, const struct sip_msg *msg)
{
	struct channel *ch = call->ch;
	const struct sip_hdr *ua = sip_msg_hdr(msg, SIP_HDR_USER_AGENT);
	const struct sip_hdr *ct = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	char ip[64] = "", proto[8];
	struct sip_addr contact;
	size_t i;

	channel_var_set(ch, "sofia_profile_name", call->prof->cfg.name);
	channel_var_set(ch, "channel_name", channel_name(ch));
	var_uri(ch, "sip_from", &msg->from.uri);
	var_pl(ch, "sip_from_display", &msg->from.dname);
	var_pl(ch, "sip_from_tag", &msg->from.tag);
	var_uri(ch, "sip_to", &msg->to.uri);
	var_uri(ch, "sip_req", &msg->uri);
	var_pl(ch, "sip_call_id", &msg->callid);
	if (ua)
		var_pl(ch, "sip_user_agent", &ua->val);
	if (ct && !sip_addr_decode(&contact, &ct->val)) {
		var_uri(ch, "sip_contact", &contact.uri);
		var_pl(ch, "sip_full_contact", &ct->val);
	}
	snprintf(proto, sizeof(proto), "%s", sip_transp_name(msg->tp));
	for (i = 0; proto[i]; i++)
		proto[i] = (char)(proto[i] >= 'A' && proto[i] <= 'Z' ? proto[i] + 32 : proto[i]);
	channel_var_set(ch, "sip_via_protocol", proto);
	sa_ntop(&msg->src, ip, sizeof(ip));
	channel_var_set(ch, "sip_network_ip", ip);
	channel_var_setf(ch, "sip_network_port", "%u", sa_port(&msg->src));
	channel_var_set(ch, "sip_received_ip", ip);
	channel_var_setf(ch, "sip_received_port", "%u", sa_port(&msg->src));
	set_xhdr_vars(ch, msg);
	if (mbuf_get_left(msg->mb) && msg_ctype_cmp(&msg->ctyp, "application", "sdp")) {
		struct pl body = {(const char *)mbuf_buf(msg->mb), mbuf_get_left(msg->mb)};
		char *txt = NULL;

		if (!pl_strdup(&txt, &body)) {
			channel_var_set(ch, "switch_r_sdp", txt);
			mem_deref(txt);
		}
	}
}

static void user_var_h(const char *name, const char *value, void *arg)
{
	channel_var_set(arg, name, value);
}

/* The caller profile of an inbound call (spec/events.md 3.2). */
static void set_profile(struct sipep_call *call, const struct sip_msg *msg,
			const struct sipep_user *u, const char *auth_user,
			const char *auth_realm)
{
	struct caller_profile *cp = channel_profile(call->ch);
	char from_user[128], dname[128], dest[128], ip[64] = "";
	const char *ctx;

	sipep_pl_str(&msg->from.uri.user, from_user, sizeof(from_user));
	sipep_pl_str(&msg->from.dname, dname, sizeof(dname));
	/* Quotes around the display name are not part of it. */
	if (dname[0] == '"') {
		size_t l = strlen(dname);

		memmove(dname, dname + 1, l);
		if (l > 1 && dname[l - 2] == '"')
			dname[l - 2] = '\0';
	}
	sipep_pl_str(&msg->uri.user, dest, sizeof(dest));
	if (!dest[0])
		sipep_pl_str(&msg->to.uri.user, dest, sizeof(dest));
	sa_ntop(&msg->src, ip, sizeof(ip));
	channel_profile_set(&cp->username, auth_user && *auth_user ? auth_user : from_user);
	channel_profile_set(&cp->dialplan, call->prof->cfg.dialplan);
	channel_profile_set(&cp->caller_id_name, dname[0] ? dname : from_user);
	channel_profile_set(&cp->caller_id_number, from_user);
	channel_profile_set(&cp->orig_caller_id_name, cp->caller_id_name);
	channel_profile_set(&cp->orig_caller_id_number, cp->caller_id_number);
	channel_profile_set(&cp->network_addr, ip);
	channel_profile_set(&cp->ani, from_user);
	channel_profile_set(&cp->destination_number, dest);
	ctx = call->prof->cfg.context;
	if (u && u->user) {
		/* An authenticated caller brings its directory variables along. */
		sipep_dir_vars(u, user_var_h, call->ch);
		channel_var_set(call->ch, "sip_authorized", "true");
		channel_var_set(call->ch, "sip_auth_username", auth_user);
		channel_var_set(call->ch, "sip_auth_realm", auth_realm);
		channel_var_set(call->ch, "user_name", auth_user);
		channel_var_set(call->ch, "domain_name", u->domain_name);
		if (channel_var(call->ch, "user_context"))
			ctx = channel_var(call->ch, "user_context");
	}
	channel_profile_set(&cp->context, ctx);
}

static bool token_ok(const struct pl *pl)
{
	size_t i;

	if (!pl_isset(pl) || pl->l > 48)
		return false;
	for (i = 0; i < pl->l; i++) {
		char c = pl->p[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z') || strchr("+-_.*#", c)))
			return false;
	}
	return true;
}

/* Reject before a call exists: a final response on a transaction of its own. */
static void refuse(struct sipep_profile *p, const struct sip_msg *msg, uint16_t scode,
		   const char *reason)
{
	p->failed_in++;
	(void)sip_treply(NULL, p->sip, msg, scode, reason);
}

/* What we refuse before anything else: no usable From, required extensions. */
static bool incoming_ok(struct sipep_profile *p, const struct sip_msg *msg, const char *src)
{
	if (!pl_isset(&msg->from.uri.host) || !pl_isset(&msg->callid) ||
	    !pl_isset(&msg->from.tag)) {
		log_warn("sofia %s: INVITE from %s without a usable From/Call-ID\n",
			 p->cfg.name, src);
		refuse(p, msg, 400, "Bad From Header");
		return false;
	}
	/* No PRACK in libre: a peer that insists on 100rel cannot be served. */
	if (sip_msg_hdr_has_value(msg, SIP_HDR_REQUIRE, "100rel") ||
	    sip_msg_hdr_has_value(msg, SIP_HDR_REQUIRE, "precondition")) {
		p->failed_in++;
		(void)sip_treplyf(NULL, NULL, p->sip, msg, false, 420, "Bad Extension",
				  "Unsupported: 100rel, precondition\r\n"
				  "Content-Length: 0\r\n\r\n");
		return false;
	}
	return true;
}

void sipep_call_incoming(struct sipep_profile *p, const struct sip_msg *msg)
{
	char auser[128] = "", arealm[128] = "", name[300], fu[128], fh[128], src[80];
	struct sipep_user u = {0};
	struct sipep_call *call;
	struct channel *ch;
	bool incompatible = false;
	const char *why = NULL;
	uint16_t scode = 0;
	int err;

	sipep_addr_str(&msg->src, src, sizeof(src));
	if (!incoming_ok(p, msg, src))
		return;
	if (p->cfg.auth_calls &&
	    sipep_auth_request(p, msg, true, &u, auser, sizeof(auser), arealm,
			       sizeof(arealm)))
		return;
	call = sipep_call_alloc(p, CHANNEL_INBOUND);
	if (!call) {
		refuse(p, msg, 503, "Service Unavailable");
		return;
	}
	call->msg = mem_ref((void *)msg);
	if (token_ok(&msg->uri.user))
		sipep_pl_str(&msg->uri.user, call->cuser, sizeof(call->cuser));
	if (mbuf_get_left(msg->mb)) {
		err = sipep_call_remote_sdp(call, msg, true, &scode, &why);
		if (err && scode == 488) {
			incompatible = true;
		} else if (err) {
			char reason[200];

			snprintf(reason, sizeof(reason), "%s%s", scode == 400 ? "Bad SDP: " : "",
				 why ? why : "Server Internal Error");
			refuse(p, msg, scode ? scode : 500, reason);
			mem_deref(call);
			return;
		}
	} else {
		call->late_offer = true;
	}
	if (!incompatible && (err = sipep_call_media(call))) {
		log_err("sofia %s: no RTP port for a call from %s: %s\n", p->cfg.name, src,
			strerror(err));
		refuse(p, msg, 503, "Service Unavailable");
		mem_deref(call);
		return;
	}
	snprintf(name, sizeof(name), "sofia/%s/%s@%s", p->cfg.name,
		 sipep_pl_str(&msg->from.uri.user, fu, sizeof(fu)),
		 sipep_pl_str(&msg->from.uri.host, fh, sizeof(fh)));
	err = channel_alloc(&ch, &sipep_call_ops, call, CHANNEL_INBOUND, name, NULL);
	if (err) {
		refuse(p, msg, 503, "Service Unavailable");
		mem_deref(call);
		return;
	}
	call->ch = mem_ref(ch);
	/* Our own transaction absorbs retransmissions and CANCEL until we answer. */
	err = sip_strans_alloc(&call->st, p->sip, msg, st_cancel_h, call);
	if (!err)
		err = sip_treply(&call->st, p->sip, msg, 100, "Trying");
	if (err)
		log_warn("%s: cannot send 100 Trying: %s\n", name, strerror(err));
	p->calls_in++;
	sipep_call_set_sip_vars(call, msg);
	set_profile(call, msg, u.user ? &u : NULL, auser, arealm);
	if (incompatible) {
		p->failed_in++;
		channel_fire(ch, EVENT_CHANNEL_CREATE);
		channel_hangup(ch, CAUSE_INCOMPATIBLE_DESTINATION);
		return;
	}
	if (!call->late_offer)
		sipep_call_apply_remote(call);
	else
		channel_set_codec(ch, sipep_codec_name(p->cfg.codecs[0]), 8000);
	channel_start(ch);
}
