/*
 * sip_cfg.c - sofia.conf: <profiles><profile name=..> with <settings> and
 * <gateways>, read with FreeSWITCH's parameter names and defaults (docs/sip.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "core/config.h"
#include "core/log.h"
#include "core/status.h"
#include "sip/sip_int.h"

static struct sipep_gateway *sipep_cfg_loading_gateway(const char *name);

void sipep_pcfg_defaults(struct sipep_pcfg *pc, const char *name)
{
	memset(pc, 0, sizeof(*pc));
	snprintf(pc->name, sizeof(pc->name), "%s", name ? name : "internal");
	snprintf(pc->sip_ip, sizeof(pc->sip_ip), "127.0.0.1");
	pc->sip_port = 5060;
	snprintf(pc->context, sizeof(pc->context), "default");
	snprintf(pc->dialplan, sizeof(pc->dialplan), "XML");
	pc->auth_calls = true;
	pc->codecs[0] = MEDIA_PCMU;
	pc->codecs[1] = MEDIA_PCMA;
	pc->ncodecs = 2;
	pc->dtmf = SIPEP_DTMF_RFC2833;
	pc->te_pt = 101;
	snprintf(pc->challenge_realm, sizeof(pc->challenge_realm), "auto_to");
	snprintf(pc->user_agent, sizeof(pc->user_agent), "%s-mod_sofia/%s",
		 CONFAB_PRODUCT, CONFAB_VERSION);
	pc->nonce_ttl = 60;
	pc->reg_max = 7200;
	pc->reg_default = 3600;
}

static int set_str(char *dst, size_t sz, const char *v, const char *name, char *err,
		   size_t errsz)
{
	if (strlen(v) >= sz) {
		snprintf(err, errsz, "sofia.conf: %s value too long", name);
		return EINVAL;
	}
	snprintf(dst, sz, "%s", v);
	return 0;
}

static int set_uint(uint32_t *dst, const char *v, uint32_t max, const char *name,
		    char *err, size_t errsz)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);

	if (!*v || *end || n > max) {
		snprintf(err, errsz, "sofia.conf: %s must be a number up to %u, not '%s'",
			 name, max, v);
		return EINVAL;
	}
	*dst = (uint32_t)n;
	return 0;
}

static int set_ip(char *dst, size_t sz, const char *v, const char *name, char *err,
		  size_t errsz)
{
	struct sa sa;

	if (sa_set_str(&sa, v, 0)) {
		snprintf(err, errsz, "sofia.conf: %s '%s' is not an IP address", name, v);
		return EINVAL;
	}
	return set_str(dst, sz, v, name, err, errsz);
}

static int set_codecs(struct sipep_pcfg *pc, const char *v, char *err, size_t errsz)
{
	char buf[256], *tok, *save = NULL;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", v);
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		enum media_codec c;
		char *at = strchr(tok, '@');
		size_t i;
		bool dup = false;

		if (at)
			*at = '\0';        /* PCMU@20i: rate/ptime suffixes */
		if (sipep_codec_parse(tok, &c)) {
			log_notice("sofia.conf: codec '%s' not supported, skipped\n", tok);
			continue;
		}
		for (i = 0; i < n; i++)
			dup |= pc->codecs[i] == c;
		if (!dup && n < SIPEP_MAX_CODECS)
			pc->codecs[n++] = c;
	}
	if (!n) {
		snprintf(err, errsz, "sofia.conf: codec-prefs '%s' names no supported codec "
			 "(PCMU, PCMA)", v);
		return EINVAL;
	}
	pc->ncodecs = n;
	return 0;
}

/* Parameters FreeSWITCH has that change nothing here; accepted silently. */
static bool quietly_ignored(const char *name)
{
	static const char *const names[] = {
		"debug", "sip-capture", "watchdog-enabled", "watchdog-step-timeout",
		"watchdog-event-timeout", "log-auth-failures", "forward-unsolicited-mwi-notify",
		"hold-music", "apply-nat-acl", "apply-inbound-acl", "local-network-acl",
		"record-path", "record-template", "manage-presence", "presence-hosts",
		"presence-privacy", "inbound-codec-prefs", "outbound-codec-prefs",
		"rtp-timer-name", "rtp-timeout-sec", "rtp-hold-timeout-sec", "ext-sip-ip",
		"tls", "tls-only", "tls-bind-params", "tls-sip-port", "tls-cert-dir",
		"tls-passphrase", "tls-verify-date", "tls-verify-policy", "tls-verify-depth",
		"tls-verify-in-subjects", "tls-version", "tls-ciphers", "inbound-late-negotiation",
		"inbound-zrtp-passthru", "auth-all-packets",
		"force-subscription-domain", "force-register-db-domain", "sip-options-respond-503-on-busy",
		"dtmf-duration", "vad", "liberal-dtmf", "media-option", "multiple-registrations",
		"rtp-ip-v6", "sip-ip-v6", "aggressive-nat-detection", "NDLB-force-rport",
		"NDLB-received-in-nat-reg-contact", "nat-options-ping", "all-reg-options-ping",
		"shutdown-on-fail", "enable-timer", "session-timeout", "minimum-session-expires",
		"enable-100rel", "disable-register", "challenge-realm-override",
		"unregister-on-options-fail", "user-agent-filter", "max-registrations-per-extension",
		"disable-transcoding", "outbound-proxy", "ws-binding", "wss-binding",
		"presence-probe-on-register", "send-message-query-on-register",
		"send-presence-on-register", "pass-rfc2833", "rtp-autoflush-during-bridge",
		"rtp-rewrite-timestamps", "inbound-bypass-media", "inbound-proxy-media",
		"disable-rtp-auto-adjust", "suppress-cng", "sip-subscription-max-deviation",
		"caller-id-type", "t38-passthru", "apply-register-acl", "apply-proxy-acl",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (!strcasecmp(name, names[i]))
			return true;
	return false;
}

int sipep_pcfg_param(struct sipep_pcfg *pc, const char *name, const char *v,
		     bool *unknown, char *err, size_t errsz)
{
	uint32_t n;
	int e;

	*unknown = false;
	if (!strcasecmp(name, "sip-ip"))
		return set_ip(pc->sip_ip, sizeof(pc->sip_ip), v, name, err, errsz);
	if (!strcasecmp(name, "rtp-ip"))
		return set_ip(pc->rtp_ip, sizeof(pc->rtp_ip), v, name, err, errsz);
	if (!strcasecmp(name, "ext-rtp-ip")) {
		/* auto-nat, stun:... and friends need NAT discovery we do not do. */
		if (!strncasecmp(v, "auto", 4) || !strncasecmp(v, "stun:", 5) || !*v)
			return 0;
		return set_ip(pc->ext_rtp_ip, sizeof(pc->ext_rtp_ip), v, name, err, errsz);
	}
	if (!strcasecmp(name, "sip-port")) {
		e = set_uint(&n, v, 65535, name, err, errsz);
		if (e)
			return e;
		if (!n) {
			snprintf(err, errsz, "sofia.conf: sip-port must not be 0");
			return EINVAL;
		}
		pc->sip_port = (uint16_t)n;
		return 0;
	}
	if (!strcasecmp(name, "context"))
		return set_str(pc->context, sizeof(pc->context), v, name, err, errsz);
	if (!strcasecmp(name, "dialplan"))
		return set_str(pc->dialplan, sizeof(pc->dialplan), v, name, err, errsz);
	if (!strcasecmp(name, "auth-calls")) {
		pc->auth_calls = config_true(v);
		return 0;
	}
	if (!strcasecmp(name, "accept-blind-reg")) {
		pc->accept_blind_reg = config_true(v);
		return 0;
	}
	if (!strcasecmp(name, "accept-blind-auth")) {
		pc->accept_blind_auth = config_true(v);
		return 0;
	}
	if (!strcasecmp(name, "codec-prefs"))
		return set_codecs(pc, v, err, errsz);
	if (!strcasecmp(name, "inbound-codec-negotiation")) {
		pc->greedy = !strcasecmp(v, "greedy") || !strcasecmp(v, "scrooge");
		return 0;
	}
	if (!strcasecmp(name, "dtmf-type")) {
		if (!strcasecmp(v, "rfc2833"))
			pc->dtmf = SIPEP_DTMF_RFC2833;
		else if (!strcasecmp(v, "info"))
			pc->dtmf = SIPEP_DTMF_INFO;
		else if (!strcasecmp(v, "none"))
			pc->dtmf = SIPEP_DTMF_NONE;
		else {
			snprintf(err, errsz, "sofia.conf: dtmf-type must be rfc2833, info or "
				 "none, not '%s'", v);
			return EINVAL;
		}
		return 0;
	}
	if (!strcasecmp(name, "rfc2833-pt")) {
		e = set_uint(&n, v, 127, name, err, errsz);
		if (e)
			return e;
		if (n < 96) {
			snprintf(err, errsz, "sofia.conf: rfc2833-pt must be 96..127");
			return EINVAL;
		}
		pc->te_pt = (uint8_t)n;
		return 0;
	}
	if (!strcasecmp(name, "force-register-domain"))
		return set_str(pc->force_domain, sizeof(pc->force_domain), v, name, err, errsz);
	if (!strcasecmp(name, "challenge-realm"))
		return set_str(pc->challenge_realm, sizeof(pc->challenge_realm), v, name, err,
			       errsz);
	if (!strcasecmp(name, "user-agent-string"))
		return set_str(pc->user_agent, sizeof(pc->user_agent), v, name, err, errsz);
	if (!strcasecmp(name, "nonce-ttl"))
		return set_uint(&pc->nonce_ttl, v, 86400, name, err, errsz);
	if (!strcasecmp(name, "min-register-expires"))
		return set_uint(&pc->reg_min, v, 86400 * 7, name, err, errsz);
	if (!strcasecmp(name, "max-register-expires"))
		return set_uint(&pc->reg_max, v, 86400 * 7, name, err, errsz);
	if (!strcasecmp(name, "sip-force-expires")) {
		e = set_uint(&pc->reg_default, v, 86400 * 7, name, err, errsz);
		if (!e && pc->reg_default)
			pc->reg_min = pc->reg_max = pc->reg_default;
		return e;
	}
	if (!strcasecmp(name, "sip-trace")) {
		pc->siptrace = config_true(v);
		return 0;
	}
	if (!quietly_ignored(name))
		*unknown = true;
	return 0;
}

static void gw_destructor(void *data)
{
	struct sipep_gateway *gw = data;

	list_unlink(&gw->le);
	mem_deref(gw->sipreg);
	mem_deref(gw->name);
	mem_deref(gw->username);
	mem_deref(gw->password);
	mem_deref(gw->realm);
	mem_deref(gw->proxy);
	mem_deref(gw->from_domain);
	mem_deref(gw->from_user);
	mem_deref(gw->extension);
	mem_deref(gw->transport);
}

struct gw_ctx {
	struct sipep_gateway *gw;
	int rc;
	char *err;
	size_t errsz;
};

static void gw_param(const char *name, const char *value, const struct xml_node *node,
		     void *arg)
{
	struct gw_ctx *c = arg;
	struct sipep_gateway *gw = c->gw;
	char **dst = NULL;

	if (c->rc)
		return;
	if (!strcasecmp(name, "username"))
		dst = &gw->username;
	else if (!strcasecmp(name, "password"))
		dst = &gw->password;
	else if (!strcasecmp(name, "realm"))
		dst = &gw->realm;
	else if (!strcasecmp(name, "proxy"))
		dst = &gw->proxy;
	else if (!strcasecmp(name, "from-domain"))
		dst = &gw->from_domain;
	else if (!strcasecmp(name, "from-user"))
		dst = &gw->from_user;
	else if (!strcasecmp(name, "extension"))
		dst = &gw->extension;
	else if (!strcasecmp(name, "register-transport"))
		dst = &gw->transport;
	else if (!strcasecmp(name, "register"))
		gw->reg = config_true(value);
	else if (!strcasecmp(name, "expire-seconds")) {
		uint32_t n;

		c->rc = set_uint(&n, value, 86400, name, c->err, c->errsz);
		gw->expires = n ? n : 3600;
	} else if (!strcasecmp(name, "retry-seconds")) {
		uint32_t n;

		c->rc = set_uint(&n, value, 86400, name, c->err, c->errsz);
		gw->retry = n ? n : 30;
	} else {
		log_notice("%s:%u: sofia.conf gateway parameter '%s' ignored\n", node->file,
			   node->line, name);
	}
	if (dst) {
		mem_deref(*dst);
		*dst = NULL;
		if (*value && str_dup(dst, value))
			c->rc = ENOMEM;
	}
}

static int load_gateway(struct sipep_profile *p, const struct xml_node *n, char *err,
			size_t errsz)
{
	const char *name = xml_attr(n, "name");
	struct sipep_gateway *gw;
	struct gw_ctx c;

	if (!name || !*name) {
		snprintf(err, errsz, "%s:%u: sofia.conf <gateway> needs a name", n->file,
			 n->line);
		return EINVAL;
	}
	if (sipep_cfg_loading_gateway(name)) {
		snprintf(err, errsz, "%s:%u: sofia.conf gateway '%s' defined twice", n->file,
			 n->line, name);
		return EINVAL;
	}
	gw = mem_zalloc(sizeof(*gw), gw_destructor);
	if (!gw)
		return ENOMEM;
	gw->prof = p;
	gw->reg = true;               /* FreeSWITCH registers unless told not to */
	gw->expires = 3600;
	gw->retry = 30;
	list_append(&p->gateways, &gw->le, gw);
	if (str_dup(&gw->name, name))
		return ENOMEM;
	c = (struct gw_ctx){gw, 0, err, errsz};
	config_params(n, gw_param, &c);
	if (c.rc)
		return c.rc;
	if (!gw->realm && !gw->proxy) {
		snprintf(err, errsz, "%s:%u: sofia.conf gateway '%s' needs a realm or a proxy",
			 n->file, n->line, name);
		return EINVAL;
	}
	if (!gw->proxy && str_dup(&gw->proxy, gw->realm))
		return ENOMEM;
	if (!gw->realm && str_dup(&gw->realm, gw->proxy))
		return ENOMEM;
	if (gw->reg && (!gw->username || !gw->password)) {
		snprintf(err, errsz, "%s:%u: sofia.conf gateway '%s' registers but has no "
			 "username/password (set register=false)", n->file, n->line, name);
		return EINVAL;
	}
	if (!gw->username && str_dup(&gw->username, "confab"))
		return ENOMEM;
	return 0;
}

struct prof_ctx {
	struct sipep_pcfg *pc;
	int rc;
	char *err;
	size_t errsz;
};

static void prof_param(const char *name, const char *value, const struct xml_node *node,
		       void *arg)
{
	struct prof_ctx *c = arg;
	bool unknown;

	if (c->rc)
		return;
	c->rc = sipep_pcfg_param(c->pc, name, value, &unknown, c->err, c->errsz);
	if (unknown)
		log_notice("%s:%u: sofia.conf parameter '%s' ignored\n", node->file,
			   node->line, name);
}

static void profile_destructor(void *data)
{
	struct sipep_profile *p = data;

	list_unlink(&p->le);
	list_flush(&p->gateways);
}

/* The profiles being loaded are visible to sipep_gateway_find() through this. */
static struct list *loading;

static int load_profile(struct list *profiles, const struct xml_node *n, char *err,
			size_t errsz)
{
	const char *name = xml_attr(n, "name");
	const struct xml_node *g;
	struct sipep_profile *p;
	struct prof_ctx c;
	struct le *le;
	int rc;

	if (!name || !*name) {
		snprintf(err, errsz, "%s:%u: sofia.conf <profile> needs a name", n->file,
			 n->line);
		return EINVAL;
	}
	LIST_FOREACH(profiles, le) {
		struct sipep_profile *o = le->data;

		if (!strcasecmp(o->cfg.name, name)) {
			snprintf(err, errsz, "%s:%u: sofia.conf profile '%s' defined twice",
				 n->file, n->line, name);
			return EINVAL;
		}
	}
	p = mem_zalloc(sizeof(*p), profile_destructor);
	if (!p)
		return ENOMEM;
	list_append(profiles, &p->le, p);
	sipep_pcfg_defaults(&p->cfg, name);
	c = (struct prof_ctx){&p->cfg, 0, err, errsz};
	config_params(xml_child(n, "settings"), prof_param, &c);
	if (c.rc)
		return c.rc;
	if (!p->cfg.rtp_ip[0])
		snprintf(p->cfg.rtp_ip, sizeof(p->cfg.rtp_ip), "%s", p->cfg.sip_ip);
	if (!strcasecmp(name, "gateway")) {
		snprintf(err, errsz, "%s:%u: sofia.conf: 'gateway' is reserved "
			 "(sofia/gateway/<name>/...)", n->file, n->line);
		return EINVAL;
	}
	for (g = xml_child(xml_child(n, "gateways"), "gateway"); g; g = xml_next(g)) {
		rc = load_gateway(p, g, err, errsz);
		if (rc)
			return rc;
	}
	return 0;
}

int sipep_cfg_load(struct list *profiles, const struct xml_node *sofia, char *err,
		   size_t errsz)
{
	const struct xml_node *n;
	struct list *prev = loading;
	int rc = 0;

	loading = profiles;
	for (n = xml_child(xml_child(sofia, "profiles"), "profile"); n && !rc;
	     n = xml_next(n))
		rc = load_profile(profiles, n, err, errsz);
	loading = prev;
	if (rc)
		return rc;
	/* Two profiles on one address and port would fight over the socket. */
	for (struct le *a = list_head(profiles); a; a = a->next) {
		for (struct le *b = a->next; b; b = b->next) {
			const struct sipep_pcfg *x = &((struct sipep_profile *)a->data)->cfg;
			const struct sipep_pcfg *y = &((struct sipep_profile *)b->data)->cfg;

			if (x->sip_port == y->sip_port && !strcmp(x->sip_ip, y->sip_ip)) {
				snprintf(err, errsz, "sofia.conf: profiles '%s' and '%s' both use "
					 "%s:%u", x->name, y->name, x->sip_ip, x->sip_port);
				return EADDRINUSE;
			}
		}
	}
	return 0;
}

/* A gateway of the profiles being loaded (names are global, as in FreeSWITCH). */
static struct sipep_gateway *sipep_cfg_loading_gateway(const char *name)
{
	return sipep_gateway_in(loading, name);
}

int sipep_cfg_check_exposure(const struct list *profiles, const char *default_password,
			     char *err, size_t errsz)
{
	struct le *le;

	if (!default_password || strcmp(default_password, "1234"))
		return 0;
	LIST_FOREACH(profiles, le) {
		const struct sipep_pcfg *pc = &((struct sipep_profile *)le->data)->cfg;
		struct sa sa;

		if (!sa_set_str(&sa, pc->sip_ip, 0) && sa_is_loopback(&sa))
			continue;
		/* Every directory user shares a published password: an open toll line. */
		snprintf(err, errsz, "sofia.conf: refusing to start profile '%s' on %s while "
			 "default_password is still 1234; set a strong default_password in "
			 "vars.xml (or per-user passwords) first", pc->name, pc->sip_ip);
		return EPERM;
	}
	return 0;
}

const char *sipep_gw_state_name(enum sipep_gw_state st)
{
	/* mod_sofia's gateway state names (sofia_state_names). */
	switch (st) {
	case SIPEP_GW_NOREG:     return "NOREG";
	case SIPEP_GW_TRYING:    return "TRYING";
	case SIPEP_GW_REGED:     return "REGED";
	case SIPEP_GW_FAILED:    return "FAILED";
	case SIPEP_GW_FAIL_WAIT: return "FAIL_WAIT";
	case SIPEP_GW_UNREGED:   return "UNREGED";
	}
	return "NOREG";
}
