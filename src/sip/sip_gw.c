/*
 * sip_gw.c - gateways: outbound registration to a provider (libre's sipreg
 * keeps it fresh and retries), credentials for calls through it, and
 * mod_sofia's CUSTOM sofia::gateway_state event.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "core/log.h"
#include "event/bus.h"
#include "event/event.h"
#include "sip/sip_int.h"

int sipep_gw_auth(char **username, char **password, const char *realm, void *arg)
{
	struct sipep_gateway *gw = arg;
	int err;

	(void)realm;
	if (!gw || !gw->password)
		return EAUTH;
	err = str_dup(username, gw->username);
	if (!err)
		err = str_dup(password, gw->password);
	return err;
}

static void set_state(struct sipep_gateway *gw, enum sipep_gw_state st, uint16_t scode,
		      const struct pl *phrase)
{
	struct event *ev;
	char ph[128];

	gw->last_scode = scode;
	if (gw->state == st)
		return;
	gw->state = st;
	log_notice("sofia gateway '%s' is %s\n", gw->name, sipep_gw_state_name(st));
	if (event_alloc(&ev, EVENT_CUSTOM, SIPEP_EV_GATEWAY_STATE))
		return;
	event_add_header(ev, "Gateway", gw->name);
	event_add_header(ev, "State", sipep_gw_state_name(st));
	event_add_header(ev, "Ping-Status", st == SIPEP_GW_REGED ? "UP" : "DOWN");
	if (scode) {
		event_add_headerf(ev, "Status", "%u", scode);
		event_add_header(ev, "Phrase", sipep_pl_str(phrase, ph, sizeof(ph)));
	}
	bus_fire(ev);
}

static void reg_resp_h(int err, const struct sip_msg *msg, void *arg)
{
	struct sipep_gateway *gw = arg;

	if (err || !msg) {
		log_warn("sofia gateway '%s': registration failed: %s\n", gw->name,
			 strerror(err ? err : EPROTO));
		set_state(gw, SIPEP_GW_FAIL_WAIT, 0, NULL);
		return;
	}
	if (msg->scode >= 200 && msg->scode < 300)
		set_state(gw, SIPEP_GW_REGED, msg->scode, &msg->reason);
	else if (msg->scode >= 300)
		set_state(gw, SIPEP_GW_FAILED, msg->scode, &msg->reason);
}

static void strip_sip(const char *s, char *buf, size_t sz)
{
	if (!strncasecmp(s, "sip:", 4))
		s += 4;
	snprintf(buf, sz, "%s", s);
}

int sipep_gw_start(struct sipep_gateway *gw)
{
	char reg_uri[300], aor[300], proxy[256], domain[256];
	bool tcp = gw->transport && !strcasecmp(gw->transport, "tcp");
	int err;

	if (!gw->reg) {
		gw->state = SIPEP_GW_NOREG;
		return 0;
	}
	strip_sip(gw->proxy, proxy, sizeof(proxy));
	strip_sip(gw->from_domain ? gw->from_domain : gw->realm, domain, sizeof(domain));
	snprintf(reg_uri, sizeof(reg_uri), "sip:%s%s", proxy, tcp ? ";transport=tcp" : "");
	snprintf(aor, sizeof(aor), "sip:%s@%s", gw->from_user ? gw->from_user : gw->username,
		 domain);
	gw->state = SIPEP_GW_TRYING;
	err = sipreg_register(&gw->sipreg, gw->prof->sip, reg_uri, aor, NULL, aor,
			      gw->expires, gw->extension ? gw->extension : gw->username,
			      NULL, 0, 0, sipep_gw_auth, gw, false, reg_resp_h, gw, NULL,
			      NULL);
	if (err) {
		gw->state = SIPEP_GW_FAILED;
		return err;
	}
	return 0;
}

void sipep_gw_stop(struct sipep_gateway *gw)
{
	/* Dropping the registration sends REGISTER with Expires: 0 when registered. */
	gw->sipreg = mem_deref(gw->sipreg);
	if (gw->reg)
		gw->state = SIPEP_GW_UNREGED;
}
