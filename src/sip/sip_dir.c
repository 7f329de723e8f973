/*
 * sip_dir.c - directory lookups (spec/core.md 8): domains, users by id or
 * number-alias, and params and variables merged domain -> group -> user.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <re.h>
#include "core/config.h"
#include "core/vars.h"
#include "sip/sip_int.h"

const struct xml_node *sipep_dir_domain(const struct config *cfg, const char *name)
{
	const struct xml_node *d;

	if (!name || !*name)
		return NULL;
	for (d = xml_child(config_section(cfg, "directory"), "domain"); d; d = xml_next(d)) {
		const char *n = xml_attr(d, "name");

		if (n && !strcasecmp(n, name))
			return d;
	}
	return NULL;
}

const char *sipep_dir_default_domain(const struct config *cfg, char *buf, size_t sz)
{
	char *v = vars_global_dup("domain");
	const struct xml_node *d;

	if (v && *v) {
		snprintf(buf, sz, "%s", v);
		mem_deref(v);
		return buf;
	}
	mem_deref(v);
	d = xml_child(config_section(cfg, "directory"), "domain");
	snprintf(buf, sz, "%s", d && xml_attr(d, "name") ? xml_attr(d, "name") : "");
	return buf;
}

static bool user_matches(const struct xml_node *u, const char *id)
{
	const char *uid = xml_attr(u, "id"), *alias = xml_attr(u, "number-alias");
	const char *type = xml_attr(u, "type");

	/* A pointer entry only lists a user defined elsewhere in the domain. */
	if (type && !strcasecmp(type, "pointer"))
		return false;
	return (uid && !strcasecmp(uid, id)) || (alias && !strcmp(alias, id));
}

static const struct xml_node *find_in_users(const struct xml_node *users, const char *id)
{
	const struct xml_node *u;

	for (u = xml_child(users, "user"); u; u = xml_next(u))
		if (user_matches(u, id))
			return u;
	return NULL;
}

int sipep_dir_user(const struct config *cfg, const char *domain, const char *id,
		   struct sipep_user *u)
{
	const struct xml_node *d = sipep_dir_domain(cfg, domain), *g, *found;

	memset(u, 0, sizeof(*u));
	if (!d || !id || !*id)
		return ENOENT;
	u->domain = d;
	u->domain_name = xml_attr(d, "name");
	found = find_in_users(xml_child(d, "users"), id);
	for (g = xml_child(xml_child(d, "groups"), "group"); g && !found; g = xml_next(g)) {
		found = find_in_users(xml_child(g, "users"), id);
		if (found)
			u->group = g;
	}
	if (!found)
		return ENOENT;
	u->user = found;
	u->id = xml_attr(found, "id");
	return 0;
}

static const char *param_of(const struct xml_node *n, const char *name)
{
	const struct xml_node *p = xml_child_by_attr(xml_child(n, "params"), "param", "name",
						     name);

	return p ? xml_attr(p, "value") : NULL;
}

const char *sipep_dir_param(const struct sipep_user *u, const char *name)
{
	const char *v = param_of(u->user, name);

	if (!v)
		v = param_of(u->group, name);
	if (!v)
		v = param_of(u->domain, name);
	return v;
}

static void vars_of(const struct xml_node *n, sipep_var_h *h, void *arg)
{
	const struct xml_node *v;

	for (v = xml_child(xml_child(n, "variables"), "variable"); v; v = xml_next(v)) {
		const char *name = xml_attr(v, "name"), *value = xml_attr(v, "value");

		if (name && *name)
			h(name, value ? value : "", arg);
	}
}

void sipep_dir_vars(const struct sipep_user *u, sipep_var_h *h, void *arg)
{
	vars_of(u->domain, h, arg);
	vars_of(u->group, h, arg);
	vars_of(u->user, h, arg);
}

/* dial-var-<name> params of domain, group and user: leg variables. */
static void dial_vars_of(const struct xml_node *n, sipep_var_h *h, void *arg)
{
	const struct xml_node *p;

	for (p = xml_child(xml_child(n, "params"), "param"); p; p = xml_next(p)) {
		const char *name = xml_attr(p, "name"), *value = xml_attr(p, "value");

		if (name && !strncasecmp(name, "dial-var-", 9) && name[9])
			h(name + 9, value ? value : "", arg);
	}
}

void sipep_dir_dial_vars(const struct sipep_user *u, sipep_var_h *h, void *arg)
{
	dial_vars_of(u->domain, h, arg);
	dial_vars_of(u->group, h, arg);
	dial_vars_of(u->user, h, arg);
}
