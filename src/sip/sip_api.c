/*
 * sip_api.c - the endpoint's commands: `sofia status ...`, `sofia ... siptrace`,
 * `sofia_contact` and the rows of `show registrations`, in mod_sofia's layouts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <re.h>
#include "core/api.h"
#include "core/api_core.h"
#include "core/config.h"
#include "sip/sip_int.h"

/* mod_sofia's table rule (sofia_glue.c, "line"). */
static const char line[] =
	"=================================================================================================";

#define SOFIA_SYNTAX "status|status profile <name> [reg [<user>]]|status gateway <name>|" \
	"global siptrace <on|off>|profile <name> siptrace <on|off>"
#define CONTACT_SYNTAX "[profile/]<user>@<domain>"

static void profile_url(const struct sipep_profile *p, char *buf, size_t sz)
{
	snprintf(buf, sz, "sip:mod_sofia@%s:%u", p->cfg.sip_ip, p->cfg.sip_port);
}

static int status_all(struct api_call *call)
{
	struct le *le, *ge;
	unsigned n = 0;
	char url[160];

	api_printf(call, "%25s\t%s\t  %40s\t%s\n", "Name", "   Type", "Data", "State");
	api_printf(call, "%s\n", line);
	LIST_FOREACH(sipep_profiles(), le) {
		struct sipep_profile *p = le->data;

		profile_url(p, url, sizeof(url));
		api_printf(call, "%25s\t%s\t  %40s\t%s (%u)\n", p->cfg.name, "profile", url,
			   p->running ? "RUNNING" : "DOWN", list_count(&p->calls));
		n++;
		LIST_FOREACH(&p->gateways, ge) {
			struct sipep_gateway *gw = ge->data;
			char name[160], data[300];

			snprintf(name, sizeof(name), "%s::%s", p->cfg.name, gw->name);
			snprintf(data, sizeof(data), "sip:%s@%s", gw->username, gw->realm);
			api_printf(call, "%25s\t%s\t  %40s\t%s\n", name, "gateway", data,
				   sipep_gw_state_name(gw->state));
		}
	}
	api_printf(call, "%s\n", line);
	return api_printf(call, "%u profile%s %d alias%s\n", n, n == 1 ? "" : "s", 0, "es");
}

static const char *codec_list(const struct sipep_pcfg *pc, char *buf, size_t sz)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < pc->ncodecs && o < sz; i++)
		o += (size_t)snprintf(buf + o, sz - o, "%s%s", i ? "," : "",
				      sipep_codec_name(pc->codecs[i]));
	return buf;
}

struct reg_walk {
	struct api_call *call;
	const char *profile, *user;
	unsigned n;
	uint64_t now;
};

static void reg_row(struct sipep_reg *r, void *arg)
{
	struct reg_walk *w = arg;
	char host[256] = "", exp[64], up[8];
	time_t t = (time_t)r->expires;
	struct tm tm;
	size_t i;

	if (strcasecmp(r->profile, w->profile) || (w->user && strcmp(w->user, r->user)))
		return;
	gethostname(host, sizeof(host) - 1);
	localtime_r(&t, &tm);
	strftime(exp, sizeof(exp), "%Y-%m-%d %H:%M:%S", &tm);
	for (i = 0; i + 1 < sizeof(up) && r->proto[i]; i++)
		up[i] = (char)(r->proto[i] >= 'a' ? r->proto[i] - 32 : r->proto[i]);
	up[i] = '\0';
	/* sofia_reg.c show_reg_callback, field for field. */
	api_printf(w->call, "Call-ID:    \t%s\nUser:       \t%s@%s\nContact:    \t%s\n"
		   "Agent:      \t%s\nStatus:     \tRegistered(%s)(unknown) EXP(%s) EXPSECS(%lld)\n"
		   "Ping-Status:\tReachable\nPing-Time:\t0.00\nHost:       \t%s\n"
		   "IP:         \t%s\nPort:       \t%u\nAuth-User:  \t%s\nAuth-Realm: \t%s\n"
		   "MWI-Account:\t%s@%s\n\n", r->call_id ? r->call_id : "", r->user, r->domain,
		   r->contact, r->user_agent ? r->user_agent : "", up, exp,
		   (long long)r->expires - (long long)w->now, host, r->network_ip,
		   r->network_port, r->user, r->realm ? r->realm : r->domain, r->user,
		   r->domain);
	w->n++;
}

static unsigned reg_count(const char *profile)
{
	struct reg_walk w = {.profile = profile};
	struct le *le;

	LIST_FOREACH(&sipep_location()->regs, le) {
		if (!strcasecmp(((struct sipep_reg *)le->data)->profile, profile))
			w.n++;
	}
	return w.n;
}

static int status_profile(struct api_call *call, struct sipep_profile *p, const char *what,
			  const char *user)
{
	const struct sipep_pcfg *pc = &p->cfg;
	char url[160], codecs[64];

	if (what && !strcasecmp(what, "reg")) {
		struct reg_walk w = {call, pc->name, user && *user ? user : NULL, 0,
				     sipep_now()};

		api_printf(call, "\nRegistrations:\n%s\n", line);
		sipep_loc_foreach(sipep_location(), reg_row, &w);
		api_printf(call, "Total items returned: %u\n", w.n);
		return api_printf(call, "%s\n", line);
	}
	profile_url(p, url, sizeof(url));
	codec_list(pc, codecs, sizeof(codecs));
	api_printf(call, "%s\n", line);
	api_printf(call, "%-17s\t%s\n", "Name", pc->name);
	api_printf(call, "%-17s\t%s\n", "Domain Name", pc->force_domain[0] ?
		   pc->force_domain : "N/A");
	api_printf(call, "%-17s\t%s\n", "Auto-NAT", "false");
	api_printf(call, "%-17s\t%s\n", "Dialplan", pc->dialplan);
	api_printf(call, "%-17s\t%s\n", "Context", pc->context);
	api_printf(call, "%-17s\t%s\n", "Challenge Realm", pc->challenge_realm);
	api_printf(call, "%-17s\t%s\n", "RTP-IP", pc->rtp_ip);
	if (pc->ext_rtp_ip[0])
		api_printf(call, "%-17s\t%s\n", "Ext-RTP-IP", pc->ext_rtp_ip);
	api_printf(call, "%-17s\t%s\n", "SIP-IP", pc->sip_ip);
	api_printf(call, "%-17s\t%s\n", "URL", url);
	api_printf(call, "%-17s\t%s;maddr=%s\n", "BIND-URL", url, pc->sip_ip);
	api_printf(call, "%-17s\t%s\n", "HOLD-MUSIC", "N/A");
	api_printf(call, "%-17s\t%s\n", "OUTBOUND-PROXY", "N/A");
	api_printf(call, "%-17s\t%s\n", "CODECS IN", codecs);
	api_printf(call, "%-17s\t%s\n", "CODECS OUT", codecs);
	api_printf(call, "%-17s\t%u\n", "TEL-EVENT", pc->te_pt);
	api_printf(call, "%-17s\t%s\n", "DTMF-MODE", pc->dtmf == SIPEP_DTMF_RFC2833 ?
		   "rfc2833" : pc->dtmf == SIPEP_DTMF_INFO ? "info" : "none");
	api_printf(call, "%-17s\t%s\n", "NOMEDIA", "false");
	api_printf(call, "%-17s\t%s\n", "LATE-NEG", "false");
	api_printf(call, "%-17s\t%s\n", "PROXY-MEDIA", "false");
	api_printf(call, "%-17s\t%s\n", "ZRTP-PASSTHRU", "false");
	api_printf(call, "%-17s\t%s\n", "AGGRESSIVENAT", "false");
	api_printf(call, "%-17s\t%u\n", "CALLS-IN", p->calls_in);
	api_printf(call, "%-17s\t%u\n", "FAILED-CALLS-IN", p->failed_in);
	api_printf(call, "%-17s\t%u\n", "CALLS-OUT", p->calls_out);
	api_printf(call, "%-17s\t%u\n", "FAILED-CALLS-OUT", p->failed_out);
	api_printf(call, "%-17s\t%u\n", "REGISTRATIONS", reg_count(pc->name));
	return api_printf(call, "%s\n", line);
}

static int status_gateway(struct api_call *call, struct sipep_gateway *gw)
{
	api_printf(call, "%s\n", line);
	api_printf(call, "Name    \t%s\n", gw->name);
	api_printf(call, "Profile \t%s\n", gw->prof->cfg.name);
	api_printf(call, "Scheme  \tDigest\n");
	api_printf(call, "Realm   \t%s\n", gw->realm);
	api_printf(call, "Username\t%s\n", gw->username);
	api_printf(call, "Password\t%s\n", gw->password ? "yes" : "no");
	api_printf(call, "From    \t<sip:%s@%s>\n", gw->from_user ? gw->from_user :
		   gw->username, gw->from_domain ? gw->from_domain : gw->realm);
	api_printf(call, "Contact \t<sip:%s@%s:%u>\n", gw->extension ? gw->extension :
		   gw->username, gw->prof->cfg.sip_ip, gw->prof->cfg.sip_port);
	api_printf(call, "Exten   \t%s\n", gw->extension ? gw->extension : gw->username);
	api_printf(call, "To      \tsip:%s@%s\n", gw->username, gw->realm);
	api_printf(call, "Proxy   \tsip:%s\n", gw->proxy);
	api_printf(call, "Expires \t%u\n", gw->expires);
	api_printf(call, "Status  \t%s\n", gw->state == SIPEP_GW_REGED ? "UP" : "DOWN");
	api_printf(call, "State   \t%s\n", sipep_gw_state_name(gw->state));
	return api_printf(call, "%s\n", line);
}

static int siptrace(struct api_call *call, struct sipep_profile *only, const char *onoff)
{
	bool on;
	struct le *le;

	if (!onoff || (strcasecmp(onoff, "on") && strcasecmp(onoff, "off")))
		return api_printf(call, "-ERR Usage: siptrace <on|off>\n");
	on = !strcasecmp(onoff, "on");
	LIST_FOREACH(sipep_profiles(), le) {
		struct sipep_profile *p = le->data;

		if (!only || only == p)
			p->cfg.siptrace = on;
	}
	return api_printf(call, "+OK %s sip debugging\n", on ? "Enabled" : "Disabled");
}

static int cmd_sofia(struct api_call *call, const char *args)
{
	char a[5][128] = {{0}};
	int n = args ? sscanf(args, "%127s %127s %127s %127s %127s", a[0], a[1], a[2], a[3],
			      a[4]) : 0;

	if (n < 1 || !strcasecmp(a[0], "help"))
		return api_usage(call);
	if (!strcasecmp(a[0], "status")) {
		if (n == 1)
			return status_all(call);
		if (!strcasecmp(a[1], "profile") && n >= 3) {
			struct sipep_profile *p = sipep_profile_find(a[2]);

			if (!p)
				return api_printf(call, "Invalid Profile [%s]\n", a[2]);
			return status_profile(call, p, n >= 4 ? a[3] : NULL, n >= 5 ? a[4] : NULL);
		}
		if (!strcasecmp(a[1], "gateway") && n >= 3) {
			struct sipep_gateway *gw = sipep_gateway_find(a[2]);

			if (!gw)
				return api_printf(call, "Invalid Gateway!\n");
			return status_gateway(call, gw);
		}
		return api_usage(call);
	}
	if (!strcasecmp(a[0], "global") && !strcasecmp(a[1], "siptrace"))
		return siptrace(call, NULL, n >= 3 ? a[2] : NULL);
	if (!strcasecmp(a[0], "profile") && n >= 3 && !strcasecmp(a[2], "siptrace")) {
		struct sipep_profile *p = sipep_profile_find(a[1]);

		if (!p)
			return api_printf(call, "-ERR Invalid Profile [%s]\n", a[1]);
		return siptrace(call, p, n >= 4 ? a[3] : NULL);
	}
	return api_usage(call);
}

/* sofia_contact [profile/]user@domain: where to INVITE a registered user. */
static int cmd_sofia_contact(struct api_call *call, const char *args)
{
	char buf[400], user[128], domain[256];
	const char *target = buf, *slash;
	const char *profile = NULL;
	struct sipep_reg *v[16];
	size_t n, i, shown = 0;

	if (!args || sscanf(args, "%399s", buf) != 1)
		return api_usage(call);
	slash = strchr(buf, '/');
	if (slash) {
		buf[slash - buf] = '\0';
		profile = strcmp(buf, "*") ? buf : NULL;
		target = slash + 1;
	}
	if (sipep_user_target_parse(target, user, sizeof(user), domain, sizeof(domain)))
		return api_usage(call);
	if (!domain[0])
		sipep_dir_default_domain(config_current(), domain, sizeof(domain));
	/* "*" or a missing profile: any profile (mod_sofia's select_from_profile). */
	n = sipep_loc_lookup(sipep_location(), user, domain, sipep_now(), v, 16);
	for (i = 0; i < n; i++) {
		if (profile && strcasecmp(profile, v[i]->profile))
			continue;
		api_printf(call, "%ssofia/%s/%s", shown++ ? "," : "", v[i]->profile, v[i]->uri);
	}
	if (!shown)
		return api_printf(call, "error/user_not_registered");
	return 0;
}

static const char *const reg_cols[] = {
	"reg_user", "realm", "token", "url", "expires", "network_ip", "network_port",
	"network_proto", "hostname", "metadata",
};
#define NREGCOL (sizeof(reg_cols) / sizeof(*reg_cols))

static int show_registrations(struct api_call *call, const struct show_req *req)
{
	struct list *regs = &sipep_location()->regs;
	size_t nrows = list_count(regs), r = 0, c;
	char host[256] = "", **cells;
	struct le *le;
	int err = 0;

	gethostname(host, sizeof(host) - 1);
	cells = mem_zalloc((nrows ? nrows : 1) * NREGCOL * sizeof(*cells), NULL);
	if (!cells)
		return ENOMEM;
	LIST_FOREACH(regs, le) {
		struct sipep_reg *g = le->data;
		char **row = &cells[r * NREGCOL];

		/* sip_registrations columns as mod_sofia fills them. */
		err = re_sdprintf(&row[0], "%s", g->user);
		err |= re_sdprintf(&row[1], "%s", g->realm ? g->realm : g->domain);
		err |= re_sdprintf(&row[2], "%s", g->call_id ? g->call_id : "");
		err |= re_sdprintf(&row[3], "sofia/%s/%s", g->profile, g->uri);
		err |= re_sdprintf(&row[4], "%llu", (unsigned long long)g->expires);
		err |= re_sdprintf(&row[5], "%s", g->network_ip);
		err |= re_sdprintf(&row[6], "%u", g->network_port);
		err |= re_sdprintf(&row[7], "%s", g->proto);
		err |= re_sdprintf(&row[8], "%s", host);
		err |= re_sdprintf(&row[9], "%s", "");
		r++;
		if (err)
			break;
	}
	if (!err)
		api_show_table(call, req, reg_cols, NREGCOL, (const char *const *)cells, r);
	for (c = 0; c < r * NREGCOL; c++)
		mem_deref(cells[c]);
	mem_deref(cells);
	return err ? ENOMEM : 0;
}

int sipep_api_init(void)
{
	int err;

	err = api_register("sofia", SOFIA_SYNTAX, "Sofia Commands", cmd_sofia);
	if (!err)
		err = api_register("sofia_contact", CONTACT_SYNTAX, "Sofia Contacts",
				   cmd_sofia_contact);
	if (!err)
		err = api_show_register("registrations", show_registrations);
	return err;
}

void sipep_api_close(void)
{
	api_unregister("sofia");
	api_unregister("sofia_contact");
	api_show_unregister("registrations");
}
