/*
 * sip_loc.c - the location service: which contacts each directory user has
 * registered, until when. Several contacts per user (one per device); a
 * binding is identified by user, domain and contact URI (RFC 3261 10.3).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "sip/sip_int.h"

static void reg_destructor(void *data)
{
	struct sipep_reg *r = data;

	list_unlink(&r->le);
	mem_deref(r->user);
	mem_deref(r->domain);
	mem_deref(r->realm);
	mem_deref(r->profile);
	mem_deref(r->uri);
	mem_deref(r->contact);
	mem_deref(r->call_id);
	mem_deref(r->user_agent);
	mem_deref(r->from_host);
}

void sipep_loc_init(struct sipep_loc *loc)
{
	list_init(&loc->regs);
}

void sipep_loc_flush(struct sipep_loc *loc)
{
	list_flush(&loc->regs);
}

static bool same(const char *a, const char *b)
{
	return a && b && !strcasecmp(a, b);
}

struct sipep_reg *sipep_loc_find(const struct sipep_loc *loc, const char *user,
				 const char *domain, const char *uri)
{
	struct le *le;

	LIST_FOREACH(&loc->regs, le) {
		struct sipep_reg *r = le->data;

		/* User parts are case-sensitive, hosts and our domains are not. */
		if (user && !strcmp(r->user, user) && same(r->domain, domain) &&
		    same(r->uri, uri))
			return r;
	}
	return NULL;
}

static int set(char **dst, const char *v)
{
	char *n = NULL;

	if (v && str_dup(&n, v))
		return ENOMEM;
	mem_deref(*dst);
	*dst = n;
	return 0;
}

int sipep_loc_bind(struct sipep_loc *loc, const struct sipep_reg_info *in,
		   uint32_t expires, uint64_t now, struct sipep_reg **regp, bool *newp)
{
	struct sipep_reg *r;
	bool fresh = false;
	int err = 0;

	if (!loc || !in || !in->user || !in->domain || !in->uri || !expires)
		return EINVAL;
	r = sipep_loc_find(loc, in->user, in->domain, in->uri);
	if (!r) {
		r = mem_zalloc(sizeof(*r), reg_destructor);
		if (!r)
			return ENOMEM;
		err |= set(&r->user, in->user);
		err |= set(&r->domain, in->domain);
		err |= set(&r->uri, in->uri);
		if (err) {
			mem_deref(r);
			return ENOMEM;
		}
		list_append(&loc->regs, &r->le, r);
		fresh = true;
	}
	err |= set(&r->realm, in->realm);
	err |= set(&r->profile, in->profile);
	err |= set(&r->contact, in->contact ? in->contact : in->uri);
	err |= set(&r->call_id, in->call_id);
	err |= set(&r->user_agent, in->user_agent);
	err |= set(&r->from_host, in->from_host);
	snprintf(r->network_ip, sizeof(r->network_ip), "%s", in->network_ip ? in->network_ip : "");
	snprintf(r->proto, sizeof(r->proto), "%s", in->proto ? in->proto : "udp");
	r->network_port = in->network_port;
	r->cseq = in->cseq;
	r->granted = expires;
	r->expires = now + expires;
	if (err) {
		mem_deref(r);
		return ENOMEM;
	}
	if (regp)
		*regp = r;
	if (newp)
		*newp = fresh;
	return 0;
}

size_t sipep_loc_lookup(const struct sipep_loc *loc, const char *user, const char *domain,
			uint64_t now, struct sipep_reg **v, size_t max)
{
	struct le *le;
	size_t n = 0;

	LIST_FOREACH(&loc->regs, le) {
		struct sipep_reg *r = le->data;

		if (n < max && user && !strcmp(r->user, user) &&
		    (!domain || !*domain || same(r->domain, domain)) && r->expires > now)
			v[n++] = r;
	}
	return n;
}

size_t sipep_loc_expire(struct sipep_loc *loc, uint64_t now, sipep_reg_h *h, void *arg)
{
	struct le *le = list_head(&loc->regs);
	size_t n = 0;

	while (le) {
		struct sipep_reg *r = le->data;

		le = le->next;
		if (r->expires > now)
			continue;
		if (h)
			h(r, arg);
		mem_deref(r);
		n++;
	}
	return n;
}

void sipep_loc_foreach(const struct sipep_loc *loc, sipep_reg_h *h, void *arg)
{
	struct le *le = list_head(&loc->regs);

	while (le) {
		struct sipep_reg *r = le->data;

		le = le->next;
		h(r, arg);
	}
}
