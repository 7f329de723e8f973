/*
 * conf_cfg.c - autoload_configs/conference.conf.xml: <profiles> and
 * <caller-controls> groups. Everything is checked at load: a bad value names
 * the file, the line and the parameter, and the load (or the reload) fails.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "core/config.h"
#include "core/log.h"
#include "conference/conf_int.h"
#include "media/media.h"

static const char *const actions[] = {
	"mute", "mute on", "mute off", "deaf mute", "deaf", "deaf on", "deaf off",
	"energy up", "energy dn", "energy equ", "vol talk up", "vol talk zero",
	"vol talk dn", "vol listen up", "vol listen zero", "vol listen dn", "hangup",
	"event", "lock", "transfer", "execute_application", "floor", "moh toggle",
	/* video: accepted, nothing to do in an audio room */
	"vid-floor", "vid-floor-force", "vmute", "vmute on", "vmute off", "vmute snap",
	"vmute snapoff", "border",
};

static void param_destructor(void *data)
{
	struct conf_param *p = data;

	mem_deref(p->name);
	mem_deref(p->value);
}

int conf_param_alloc(struct conf_param **pp, const char *name, const char *value)
{
	struct conf_param *p = mem_zalloc(sizeof(*p), param_destructor);

	if (!p || str_dup(&p->name, name) || (value && str_dup(&p->value, value))) {
		mem_deref(p);
		return ENOMEM;
	}
	*pp = p;
	return 0;
}

bool conf_flag_in(const char *list, const char *flag)
{
	size_t n = strlen(flag);

	while (list && *list) {
		size_t len = strcspn(list, "|,");

		if (len == n && !strncasecmp(list, flag, n))
			return true;
		list += len;
		list += *list == '|' || *list == ',';
	}
	return false;
}

static void profile_destructor(void *data)
{
	struct conf_profile *p = data;

	list_flush(&p->params);
	mem_deref(p->name);
}

static void control_destructor(void *data)
{
	struct conf_control *c = data;

	mem_deref(c->digits);
	mem_deref(c->action);
	mem_deref(c->data);
}

static void group_destructor(void *data)
{
	struct conf_group *g = data;

	list_flush(&g->controls);
	mem_deref(g->name);
}

static void cfg_destructor(void *data)
{
	struct conf_cfg *cc = data;

	list_flush(&cc->profiles);
	list_flush(&cc->groups);
}

/* FreeSWITCH reads parameter names case-insensitively and '_' as '-'. */
static void norm_param(char *s)
{
	for (; *s; s++)
		*s = *s == '_' ? '-' : (char)tolower((unsigned char)*s);
}

static int to_uint(const char *v, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < (long)lo || n > (long)hi)
		return EINVAL;
	*out = (unsigned)n;
	return 0;
}

struct parse {
	struct conf_profile *prof;
	char *err;
	size_t errsz;
	int rc;
};

static void bad(struct parse *ps, const struct xml_node *n, const char *what,
		const char *value)
{
	if (ps->rc)
		return;
	snprintf(ps->err, ps->errsz, "%s:%u: conference profile %s: bad %s \"%s\"",
		 n->file ? n->file : "conference.conf", n->line, ps->prof->name, what, value);
	ps->rc = EINVAL;
}

static void unsupported(struct parse *ps, const struct xml_node *n, const char *what,
			const char *value, const char *supported)
{
	if (ps->rc)
		return;
	snprintf(ps->err, ps->errsz, "%s:%u: conference profile %s: %s \"%s\" is not "
		 "supported (only %s)", n->file ? n->file : "conference.conf", n->line,
		 ps->prof->name, what, value, supported);
	ps->rc = EINVAL;
}

static void typed(struct parse *ps, const char *name, const char *v,
		  const struct xml_node *n)
{
	struct conf_profile *p = ps->prof;
	static const unsigned rates[] = {8000, 12000, 16000, 24000, 32000, 44100, 48000};
	unsigned u, i;

	if (!strcmp(name, "rate")) {
		if (!strcmp(v, "auto"))
			return;
		for (i = 0; i < sizeof(rates) / sizeof(*rates); i++)
			if (!to_uint(v, 0, 48000, &u) && u == rates[i])
				break;
		if (i == sizeof(rates) / sizeof(*rates))
			return bad(ps, n, name, v);
		/* FreeSWITCH's rates that are no multiple of 8 kHz: not mixed here. */
		if (!media_room_rate_ok(u))
			return unsupported(ps, n, name, v,
					   "8000, 16000, 24000, 32000 or 48000");
		p->rate = u;
	} else if (!strcmp(name, "interval")) {
		if (!strcmp(v, "auto"))
			return;
		if (to_uint(v, 10, 120, &u) || u % 10)
			return bad(ps, n, name, v);
		/* The media workers tick every 20 ms: rooms mix on that tick. */
		if (u != 20)
			return unsupported(ps, n, name, v, "20");
		p->interval = u;
	} else if (!strcmp(name, "energy-level")) {
		if (to_uint(v, 0, 1800, &p->energy_level))
			return bad(ps, n, name, v);
	} else if (!strcmp(name, "comfort-noise")) {
		/* A number is the level (0 off, 2..9999); a yes-word is 1400. */
		if (!to_uint(v, 0, 9999, &u)) {
			if (u == 1)
				return bad(ps, n, name, v);
			p->comfort_noise = u;
		} else if (config_true(v)) {
			p->comfort_noise = 1400;
		} else if (strcasecmp(v, "false") && strcasecmp(v, "no") &&
			   strcasecmp(v, "off")) {
			return bad(ps, n, name, v);
		}
	} else if (!strcmp(name, "max-members")) {
		if (to_uint(v, 0, 100000, &p->max_members))
			return bad(ps, n, name, v);
		if (p->max_members == 1)
			p->max_members = 0;      /* FreeSWITCH: 1 is invalid, unlimited */
	} else if (!strcmp(name, "announce-count")) {
		if (to_uint(v, 0, 100000, &p->announce_count))
			return bad(ps, n, name, v);
	} else if (!strcmp(name, "pin-retries")) {
		if (to_uint(v, 1, 100, &p->pin_retries))
			return bad(ps, n, name, v);
	} else if (!strcmp(name, "max-talkers")) {
		if (to_uint(v, 0, 100000, &p->max_talkers))
			return bad(ps, n, name, v);
	} else if (!strcmp(name, "verbose-events")) {
		p->verbose_events = config_true(v);
	}
}

static void on_param(const char *name, const char *value, const struct xml_node *n,
		     void *arg)
{
	struct parse *ps = arg;
	struct conf_param *p;

	if (ps->rc || !*value)
		return;                      /* empty values are ignored, as FreeSWITCH does */
	if (conf_param_alloc(&p, name, value)) {
		ps->rc = ENOMEM;
		return;
	}
	norm_param(p->name);
	list_append(&ps->prof->params, &p->le, p);
	typed(ps, p->name, p->value, n);
}

static int load_profiles(struct conf_cfg *cc, const struct xml_node *top, char *err,
			 size_t errsz)
{
	const struct xml_node *n;

	for (n = xml_child(xml_child(top, "profiles"), "profile"); n; n = xml_next(n)) {
		struct parse ps = {.err = err, .errsz = errsz};
		const char *name = xml_attr(n, "name");

		if (!name || !*name) {
			snprintf(err, errsz, "%s:%u: conference <profile> without a name",
				 n->file ? n->file : "conference.conf", n->line);
			return EINVAL;
		}
		ps.prof = mem_zalloc(sizeof(*ps.prof), profile_destructor);
		if (!ps.prof || str_dup(&ps.prof->name, name)) {
			mem_deref(ps.prof);
			return ENOMEM;
		}
		ps.prof->rate = 8000;
		ps.prof->interval = 20;
		ps.prof->pin_retries = 3;
		list_append(&cc->profiles, &ps.prof->le, ps.prof);
		config_params(n, on_param, &ps);
		if (ps.rc)
			return ps.rc;
	}
	return 0;
}

static bool known_action(const char *a)
{
	size_t i;

	for (i = 0; i < sizeof(actions) / sizeof(*actions); i++)
		if (!strcasecmp(a, actions[i]))
			return true;
	return false;
}

static int load_group(struct conf_group *g, const struct xml_node *gn, char *err,
		      size_t errsz)
{
	const struct xml_node *n;

	for (n = xml_child(gn, "control"); n; n = xml_next(n)) {
		const char *action = xml_attr(n, "action"), *digits = xml_attr(n, "digits");
		const char *data = xml_attr(n, "data");
		struct conf_control *c;

		if (!action || !digits || !*digits || strlen(digits) >= 16 ||
		    strspn(digits, "0123456789*#ABCDabcd") != strlen(digits) ||
		    !known_action(action)) {
			snprintf(err, errsz, "%s:%u: conference caller-controls group %s: bad "
				 "control (action \"%s\", digits \"%s\")",
				 n->file ? n->file : "conference.conf", n->line, g->name,
				 action ? action : "", digits ? digits : "");
			return EINVAL;
		}
		c = mem_zalloc(sizeof(*c), control_destructor);
		if (!c || str_dup(&c->action, action) || str_dup(&c->digits, digits) ||
		    (data && str_dup(&c->data, data))) {
			mem_deref(c);
			return ENOMEM;
		}
		/* Action names are case-insensitive. */
		for (char *p = c->action; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		list_append(&g->controls, &c->le, c);
	}
	return 0;
}

static int load_groups(struct conf_cfg *cc, const struct xml_node *top, char *err,
		       size_t errsz)
{
	const struct xml_node *n;
	int rc;

	for (n = xml_child(xml_child(top, "caller-controls"), "group"); n; n = xml_next(n)) {
		const char *name = xml_attr(n, "name");
		struct conf_group *g;

		if (!name || !*name) {
			snprintf(err, errsz, "%s:%u: conference caller-controls <group> "
				 "without a name", n->file ? n->file : "conference.conf",
				 n->line);
			return EINVAL;
		}
		g = mem_zalloc(sizeof(*g), group_destructor);
		if (!g || str_dup(&g->name, name)) {
			mem_deref(g);
			return ENOMEM;
		}
		list_append(&cc->groups, &g->le, g);
		rc = load_group(g, n, err, errsz);
		if (rc)
			return rc;
	}
	return 0;
}

int conf_cfg_load(struct conf_cfg **cfgp, const struct config *cfg, char *err,
		  size_t errsz)
{
	const struct xml_node *top = config_module(cfg, "conference.conf");
	struct conf_cfg *cc = mem_zalloc(sizeof(*cc), cfg_destructor);
	int rc;

	if (!cc)
		return ENOMEM;
	if (!top)
		log_notice("conference: no conference.conf, rooms use the defaults\n");
	rc = load_profiles(cc, top, err, errsz);
	if (!rc)
		rc = load_groups(cc, top, err, errsz);
	if (rc) {
		mem_deref(cc);
		return rc;
	}
	*cfgp = cc;
	return 0;
}

struct conf_profile *conf_profile_find(const struct conf_cfg *cc, const char *name)
{
	struct le *le;

	for (le = cc ? list_head(&cc->profiles) : NULL; le; le = le->next) {
		struct conf_profile *p = le->data;

		if (!strcasecmp(p->name, name))
			return p;
	}
	return NULL;
}

struct conf_group *conf_group_find(const struct conf_cfg *cc, const char *name)
{
	struct le *le;

	for (le = cc ? list_head(&cc->groups) : NULL; le; le = le->next) {
		struct conf_group *g = le->data;

		if (!strcasecmp(g->name, name))
			return g;
	}
	return NULL;
}

const char *conf_param(const struct conf_profile *prof, const char *name)
{
	struct le *le;

	for (le = prof ? list_head(&prof->params) : NULL; le; le = le->next) {
		struct conf_param *p = le->data;

		if (!strcmp(p->name, name))
			return p->value;
	}
	return NULL;
}
