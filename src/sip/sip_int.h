/*
 * sip_int.h - what the SIP endpoint's files share: profile and gateway
 * configuration, the location service (registrations), digest helpers, SDP
 * offer/answer, directory lookups and the small parsers of request content.
 * The pure parts (no sockets, no channels) are unit-tested and fuzzed.
 */
#ifndef CONFAB_SIP_INT_H
#define CONFAB_SIP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <re.h>
#include "channel/channel.h"
#include "media/media.h"

struct config;
struct xml_node;

/*
 * --- FreeSWITCH's words, kept verbatim -----------------------------------
 * Event subclasses (mod_sofia.h MY_EVENT_*), sip_hangup_disposition values
 * (sofia.c / mod_sofia.c) and the auth failure log line that fail2ban filters
 * match (sofia_reg.c). Do not "fix" them.
 */
#define SIPEP_EV_REGISTER      "sofia::register"
#define SIPEP_EV_UNREGISTER    "sofia::unregister"
#define SIPEP_EV_EXPIRE        "sofia::expire"
#define SIPEP_EV_GATEWAY_STATE "sofia::gateway_state"
#define SIPEP_DISP_VAR         "sip_hangup_disposition"
#define SIPEP_RECV_BYE         "recv_bye"
#define SIPEP_SEND_BYE         "send_bye"
#define SIPEP_RECV_CANCEL      "recv_cancel"
#define SIPEP_SEND_CANCEL      "send_cancel"
#define SIPEP_RECV_REFUSE      "recv_refuse"
#define SIPEP_SEND_REFUSE      "send_refuse"
#define SIPEP_AUTH_FAILURE_FMT "SIP auth failure (%s) on sofia profile '%s' for [%s@%s] from ip %s\n"

/* --- configuration (sip_cfg.c) ------------------------------------------ */

#define SIPEP_MAX_CODECS 4
#define SIPEP_SOURCE "mod_sofia"

enum sipep_dtmf { SIPEP_DTMF_RFC2833, SIPEP_DTMF_INFO, SIPEP_DTMF_NONE };

/* One <profile>'s <settings>, with FreeSWITCH's defaults (docs/sip.md). */
struct sipep_pcfg {
	char name[64];
	char sip_ip[64];
	uint16_t sip_port;
	char rtp_ip[64];
	char ext_rtp_ip[64];           /* address written into SDP, when set */
	char context[128];
	char dialplan[64];
	bool auth_calls;
	bool accept_blind_reg;
	bool accept_blind_auth;
	enum media_codec codecs[SIPEP_MAX_CODECS];
	size_t ncodecs;
	bool greedy;                   /* inbound-codec-negotiation=greedy */
	enum sipep_dtmf dtmf;
	uint8_t te_pt;                 /* rfc2833-pt */
	char force_domain[128];        /* force-register-domain */
	char challenge_realm[128];     /* auto_to, auto_from or a literal realm */
	char user_agent[128];
	uint32_t nonce_ttl;            /* seconds */
	uint32_t reg_min, reg_max;     /* clamps on granted expiry; 0 = none */
	uint32_t reg_default;          /* when the REGISTER names none */
	bool siptrace;
};

enum sipep_gw_state {
	SIPEP_GW_NOREG, SIPEP_GW_TRYING, SIPEP_GW_REGED, SIPEP_GW_FAILED,
	SIPEP_GW_FAIL_WAIT, SIPEP_GW_UNREGED,
};

struct sipep_profile;

struct sipep_gateway {
	struct le le;                  /* in profile->gateways */
	struct sipep_profile *prof;    /* borrowed: the profile owns its gateways */
	char *name, *username, *password, *realm, *proxy, *from_domain;
	char *from_user, *extension, *transport;
	bool reg;
	uint32_t expires;
	uint32_t retry;                /* retry-seconds */
	struct sipreg *sipreg;
	enum sipep_gw_state state;
	uint16_t last_scode;
};

struct sipep_profile {
	struct le le;                  /* in the endpoint's profile list */
	struct sipep_pcfg cfg;
	struct list gateways;          /* struct sipep_gateway */
	struct list calls;             /* struct sipep_call (sip_call.c) */
	struct sip *sip;
	struct sipsess_sock *sock;
	struct sip_lsnr *lsnr;
	bool running;
	uint64_t started;              /* epoch seconds */
	unsigned calls_in, calls_out, failed_in, failed_out;
};

/* Defaults for a profile called `name`. */
void sipep_pcfg_defaults(struct sipep_pcfg *pc, const char *name);
/* One <param>; unknown names are reported through *unknown. EINVAL on a bad value. */
int  sipep_pcfg_param(struct sipep_pcfg *pc, const char *name, const char *value,
		      bool *unknown, char *err, size_t errsz);
/* Every <profile> of sofia.conf, not started, appended to `profiles`. */
int  sipep_cfg_load(struct list *profiles, const struct xml_node *sofia,
		    char *err, size_t errsz);
/* EPERM when a profile listens beyond loopback and default_password is "1234". */
int  sipep_cfg_check_exposure(const struct list *profiles, const char *default_password,
			      char *err, size_t errsz);
const char *sipep_gw_state_name(enum sipep_gw_state st);

/* --- directory (sip_dir.c) ---------------------------------------------- */

/* A directory user; nodes borrowed from the configuration that was searched. */
struct sipep_user {
	const struct xml_node *domain, *group, *user;
	const char *id;
	const char *domain_name;
};

/* Domain by name (case-insensitive); NULL when absent. */
const struct xml_node *sipep_dir_domain(const struct config *cfg, const char *name);
/* User by id or number-alias in `domain`; ENOENT when absent. */
int  sipep_dir_user(const struct config *cfg, const char *domain, const char *id,
		    struct sipep_user *u);
/* A <param> of the user, else its group, else its domain; NULL when none. */
const char *sipep_dir_param(const struct sipep_user *u, const char *name);
/* <variables> of domain, group, then user (later ones override earlier ones). */
typedef void (sipep_var_h)(const char *name, const char *value, void *arg);
void sipep_dir_vars(const struct sipep_user *u, sipep_var_h *h, void *arg);
/* dial-var-<name> params (domain, group, user): variables for a call to the user. */
void sipep_dir_dial_vars(const struct sipep_user *u, sipep_var_h *h, void *arg);
/* The default domain: global var "domain", else the first <domain>. */
const char *sipep_dir_default_domain(const struct config *cfg, char *buf, size_t sz);

/* --- digest authentication (sip_auth.c) --------------------------------- */

void sipep_auth_init(void);                          /* fresh random secret */
void sipep_auth_set_secret(const char *secret);      /* tests */
/* Nonce bound to realm and time: 8 hex digits of time, 24 of MAC. */
int  sipep_nonce_make(char *buf, size_t sz, const char *realm, uint64_t now);
/* 0 valid, ETIMEDOUT stale (older than ttl), EINVAL forged or malformed. */
int  sipep_nonce_check(const struct pl *nonce, const struct pl *realm, uint64_t now,
		       uint32_t ttl);
void sipep_ha1(uint8_t ha1[16], const char *user, const char *realm, const char *pw);
/*
 * Check a decoded Authorization against HA1 (RFC 2617 3.2.2, with or without
 * qop=auth). 0 when it matches, EACCES when not, EINVAL when malformed.
 */
int  sipep_digest_verify(const struct httpauth_digest_resp *resp, const char *method,
			 const uint8_t ha1[16]);
/* "WWW-Authenticate: Digest realm=..., nonce=..., algorithm=MD5, qop=\"auth\"\r\n" */
int  sipep_challenge_print(char *buf, size_t sz, bool proxy, const char *realm,
			   uint64_t now, bool stale);

/* --- location service (sip_loc.c) --------------------------------------- */

struct sipep_reg {
	struct le le;
	char *user, *domain, *realm, *profile;
	char *uri;                     /* contact URI alone */
	char *contact;                 /* Contact header value as received */
	char *call_id, *user_agent, *from_host;
	char network_ip[64];
	uint16_t network_port;
	char proto[8];                 /* "udp", "tcp" */
	uint32_t cseq;
	uint32_t granted;              /* seconds granted by the last REGISTER */
	uint64_t expires;              /* epoch seconds */
};

/* What a REGISTER binds; every string is copied. */
struct sipep_reg_info {
	const char *user, *domain, *realm, *profile, *uri, *contact, *call_id;
	const char *user_agent, *from_host, *network_ip, *proto;
	uint16_t network_port;
	uint32_t cseq;
};

struct sipep_loc { struct list regs; };

void sipep_loc_init(struct sipep_loc *loc);
void sipep_loc_flush(struct sipep_loc *loc);
/* Add or refresh the binding (user, domain, uri). *newp tells which. */
int  sipep_loc_bind(struct sipep_loc *loc, const struct sipep_reg_info *in,
		    uint32_t expires, uint64_t now, struct sipep_reg **regp, bool *newp);
struct sipep_reg *sipep_loc_find(const struct sipep_loc *loc, const char *user,
				 const char *domain, const char *uri);
/* Live bindings of a user, oldest first; returns how many (up to max). */
size_t sipep_loc_lookup(const struct sipep_loc *loc, const char *user, const char *domain,
			uint64_t now, struct sipep_reg **v, size_t max);
typedef void (sipep_reg_h)(struct sipep_reg *reg, void *arg);
/* Calls h for every binding expired at `now`, then removes it. */
size_t sipep_loc_expire(struct sipep_loc *loc, uint64_t now, sipep_reg_h *h, void *arg);
void sipep_loc_foreach(const struct sipep_loc *loc, sipep_reg_h *h, void *arg);

/* --- SDP (sip_sdp.c) ---------------------------------------------------- */

enum sipep_mdir { SIPEP_SENDRECV, SIPEP_SENDONLY, SIPEP_RECVONLY, SIPEP_INACTIVE };

#define SIPEP_SDP_MAXFMT 32
#define SIPEP_SDP_MAXM   8

struct sipep_sdp_fmt {
	uint8_t pt;
	char name[32];
	unsigned rate;
};

/* The first usable audio stream of a session description, and the m= lines. */
struct sipep_sdp {
	char addr[64];                 /* c= of the audio stream (or session) */
	bool hold_addr;                /* c=IN IP4 0.0.0.0 */
	uint16_t port;
	char proto[24];
	struct sipep_sdp_fmt fmts[SIPEP_SDP_MAXFMT];
	size_t nfmts;
	enum sipep_mdir dir;
	unsigned ptime;
	bool has_audio;                /* an audio m= line with a non-zero port */
	size_t audio_idx;              /* its index among the m= lines */
	size_t nm;                     /* m= lines seen (answer mirrors them) */
	char mtype[SIPEP_SDP_MAXM][16];
	char mproto[SIPEP_SDP_MAXM][24];
	char mfmt[SIPEP_SDP_MAXM][8];
};

/* What was agreed for the audio stream. */
struct sipep_neg {
	enum media_codec codec;
	uint8_t pt;
	uint8_t te_pt;                 /* 0: no telephone-event */
	unsigned ptime;
	enum sipep_mdir remote_dir;
	bool hold;                     /* remote put us on hold */
};

/* EBADMSG with a reason in `why` for a description we cannot read. */
int  sipep_sdp_parse(struct sipep_sdp *sdp, const char *buf, size_t len,
		     char *why, size_t whysz);
/* ENOENT when no codec in `prefs` is offered (488). */
int  sipep_sdp_negotiate(const struct sipep_sdp *offer, const enum media_codec *prefs,
			 size_t nprefs, bool greedy, struct sipep_neg *neg);
/* Read an answer to our offer: same rules, the answerer's choice wins. */
int  sipep_sdp_accept_answer(const struct sipep_sdp *ans, const enum media_codec *prefs,
			     size_t nprefs, struct sipep_neg *neg);

struct sipep_sdp_local {
	const char *addr;              /* c= and o= address */
	uint16_t port;
	uint64_t sess_id, sess_ver;
	const enum media_codec *codecs;   /* offer: all; answer: the chosen one */
	size_t ncodecs;
	uint8_t answer_pt;             /* answer: the peer's payload type for it */
	uint8_t te_pt;                 /* 0: none */
	unsigned ptime;
	enum sipep_mdir dir;
	const struct sipep_sdp *mirror;   /* answer: reject the other m= lines */
};
int  sipep_sdp_build(struct mbuf **mbp, const struct sipep_sdp_local *l);
/* Our direction for an answer to a remote direction. */
enum sipep_mdir sipep_sdp_answer_dir(enum sipep_mdir remote);
const char *sipep_codec_name(enum media_codec c);
int  sipep_codec_parse(const char *name, enum media_codec *c);

/* --- parsers of request content (sip_parse.c) --------------------------- */

/*
 * INFO bodies: application/dtmf-relay ("Signal=5\r\nDuration=160") and
 * application/dtmf ("5"). EINVAL when malformed, ENOTSUP for another type.
 */
int  sipep_dtmf_info_parse(const struct msg_ctype *ctype, const char *body, size_t len,
			   char *digit, unsigned *ms);

enum sipep_target_kind { SIPEP_TARGET_PROFILE, SIPEP_TARGET_GATEWAY };

/* "internal/1000@host:5070", "internal/sip:1000@host", "gateway/gw/5551234". */
struct sipep_target {
	enum sipep_target_kind kind;
	char profile[64];
	char gateway[64];
	char dest[512];                /* user@host[:port][;params] or a sip: URI */
	bool is_uri;
	bool registered;               /* "internal/1000%domain": ring its bindings */
};
int  sipep_target_parse(const char *s, struct sipep_target *t);
/* "1000", "1000@example.com": user and domain (empty when none). */
int  sipep_user_target_parse(const char *s, char *user, size_t usz, char *domain,
			     size_t dsz);
/* Expiry asked for one Contact: its expires param, else Expires, else dflt. */
uint32_t sipep_contact_expires(const struct sip_addr *contact, const struct pl *expires_hdr,
			       uint32_t dflt);
/* Reason phrase for a status code. */
const char *sipep_reason(uint16_t scode);
/* Copy a pl into buf (truncating); returns buf. */
char *sipep_pl_str(const struct pl *pl, char *buf, size_t sz);

/* --- the running endpoint (sip_ep.c, sip_reg.c, sip_call.c, sip_out.c) --- */

struct sipep_profile *sipep_profile_find(const char *name);
struct sipep_gateway *sipep_gateway_find(const char *name);
/* A gateway by name among `profiles` (the running ones, or those being loaded). */
struct sipep_gateway *sipep_gateway_in(const struct list *profiles, const char *name);
struct list *sipep_profiles(void);
struct sipep_loc *sipep_location(void);
uint64_t sipep_now(void);                 /* epoch seconds */
void sipep_addr_str(const struct sa *sa, char *buf, size_t sz);   /* "ip:port" */
/* `ip`, or the host's address when `ip` is 0.0.0.0 / :: (for SDP and URIs). */
const char *sipep_advertised_ip(const char *ip, char *buf, size_t sz);
/* Directory domain a request for `host` belongs to (force-register-domain ...). */
const char *sipep_domain_for(const struct sipep_profile *p, const char *host,
			     char *buf, size_t sz);

/* Registrar. */
void sipep_reg_handle(struct sipep_profile *p, const struct sip_msg *msg);
void sipep_reg_sweep(uint64_t now);

/*
 * Authenticate a request against the directory. Returns 0 and fills `u` when
 * the credentials are good; otherwise it has already replied (401/407 challenge
 * or 403) and returns EAUTH.
 */
int  sipep_auth_request(struct sipep_profile *p, const struct sip_msg *msg, bool proxy,
			struct sipep_user *u, char *user, size_t usz, char *realm,
			size_t rsz);

/* Calls: one per channel; an outbound call may ring several contacts (forks). */
struct sipep_fork {
	struct le le;                  /* in call->forks */
	struct sipep_call *call;
	struct sipep_profile *prof;
	struct sipsess *sess;
	char *uri;                     /* the contact it rings */
	bool failed;
};

struct sipep_call {
	struct le le;                  /* in prof->calls */
	struct sipep_profile *prof;    /* borrowed: profiles outlive their calls */
	struct sipep_gateway *gw;      /* outbound through a gateway */
	struct channel *ch;            /* reference, dropped by the hangup op */
	enum channel_dir dir;
	const struct sip_msg *msg;     /* inbound: the INVITE */
	struct sip_strans *st;         /* inbound: our transaction until a session exists */
	struct sipsess *sess;          /* inbound session, or the answering fork's */
	struct list forks;             /* outbound */
	struct sipep_fork *winner, *early;
	enum hangup_cause fork_cause;
	struct media_stream *ms;
	struct sipep_sdp remote;
	struct sipep_neg neg;
	bool have_remote, late_offer;
	uint64_t sdp_id, sdp_ver;
	bool answered, held, remote_gone;
	struct tmr fail_tmr;           /* deferred hangup after a failed response */
	char cuser[64];
};

extern const struct channel_ops sipep_call_ops;
struct sipep_call *sipep_call_alloc(struct sipep_profile *p, enum channel_dir dir);
/* Media: RTP stream on the profile's rtp-ip, events into the channel. */
int  sipep_call_media(struct sipep_call *call);
/* Parse a body as SDP; `offer`: we answer it, else it answers our offer. */
int  sipep_call_remote_sdp(struct sipep_call *call, const struct sip_msg *msg, bool offer,
			   uint16_t *scodep, const char **whyp);
/* Our description: an offer (no remote yet, or late offer) or an answer. */
int  sipep_call_local_sdp(struct sipep_call *call, bool offer, struct mbuf **mbp);
void sipep_call_apply_remote(struct sipep_call *call);
int  sipep_call_offer(struct sipep_call *call, struct mbuf **descp, const struct sip_msg *msg);
void sipep_call_set_sip_vars(struct sipep_call *call, const struct sip_msg *msg);
int  sipep_call_info(struct sipep_call *call, const struct sip_msg *msg);
void sipep_fork_close(struct sipep_fork *f, int err, const struct sip_msg *msg);
void sipep_out_end(struct sipep_call *call, enum hangup_cause cause);

void sipep_call_incoming(struct sipep_profile *p, const struct sip_msg *msg);
void sipep_calls_close(struct sipep_profile *p);
enum hangup_cause sipep_sofia_call(struct channel **chp, const char *target,
				   void (*setup)(struct channel *ch, void *arg),
				   void *setup_arg);
enum hangup_cause sipep_user_call(struct channel **chp, const char *target,
				  void (*setup)(struct channel *ch, void *arg),
				  void *setup_arg);

/* Gateways. */
int  sipep_gw_start(struct sipep_gateway *gw);
void sipep_gw_stop(struct sipep_gateway *gw);
int  sipep_gw_auth(char **username, char **password, const char *realm, void *arg);

/* API commands. */
int  sipep_api_init(void);
void sipep_api_close(void);

/* CUSTOM sofia::<subclass> about a binding (register, unregister, expire). */
void sipep_fire_reg_event(const char *subclass, const struct sipep_reg *reg,
			  const char *status);

#endif
