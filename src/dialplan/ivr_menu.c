/*
 * ivr_menu.c - IVR menus as data: building them (ivr.conf or freeswitch.IVRMenu),
 * binding digits to actions, choosing the entry some digits select, and the
 * menus of ivr.conf that the `ivr` application runs, swapped on reloadxml.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "core/config.h"
#include "core/log.h"
#include "dialplan/dialplan_int.h"
#include "dialplan/ivr.h"
#include "dialplan/ivr_int.h"

/* switch_ivr_menu_init's defaults. */
#define DEFAULT_TIMEOUT_MS   10000
#define DEFAULT_MAX          3
#define DEFAULT_CONFIRM      3

/* FreeSWITCH's action names (switch_ivr_menu.c, iam[]). */
static const struct {
	const char *name;
	enum ivr_action act;
} ACTIONS[] = {
	{"menu-exit", IVR_EXIT},
	{"menu-sub", IVR_SUB},
	{"menu-exec-app", IVR_APP},
	{"menu-play-sound", IVR_SOUND},
	{"menu-back", IVR_BACK},
	{"menu-top", IVR_TOP},
};

static struct ivr_menus *CUR;

static void entry_destructor(void *data)
{
	struct ivr_entry *e = data;

	pcre2_code_free(e->re);
	mem_deref(e->digits);
	mem_deref(e->param);
}

static void menu_destructor(void *data)
{
	struct ivr_menu *m = data;

	list_flush(&m->entries);
	mem_deref(m->name);
	mem_deref(m->greet_long);
	mem_deref(m->greet_short);
	mem_deref(m->invalid_sound);
	mem_deref(m->exit_sound);
	mem_deref(m->confirm_macro);
	mem_deref(m->confirm_key);
	mem_deref(m->tts_engine);
	mem_deref(m->tts_voice);
	mem_deref(m->exec_on_max_fail);
	mem_deref(m->exec_on_max_timeout);
}

static void menus_destructor(void *data)
{
	struct ivr_menus *ms = data;

	list_flush(&ms->menus);
}

int ivr_menus_alloc(struct ivr_menus **msp)
{
	struct ivr_menus *ms = mem_zalloc(sizeof(*ms), menus_destructor);

	if (!ms)
		return ENOMEM;
	list_init(&ms->menus);
	*msp = ms;
	return 0;
}

/* NULL or "" stays NULL. */
static int dup_opt(char **outp, const char *s)
{
	return s && *s ? str_dup(outp, s) : 0;
}

int ivr_menu_add(struct ivr_menu **mp, struct ivr_menus *ms, const struct ivr_menu_opts *o)
{
	struct ivr_menu *m;
	int err;

	if (!ms || !o || !o->name || !*o->name)
		return EINVAL;
	if (ivr_menu_find(ms, o->name))
		return EEXIST;
	m = mem_zalloc(sizeof(*m), menu_destructor);
	if (!m)
		return ENOMEM;
	list_init(&m->entries);
	err = str_dup(&m->name, o->name);
	err |= dup_opt(&m->greet_long, o->greet_long);
	err |= dup_opt(&m->greet_short, o->greet_short);
	err |= dup_opt(&m->invalid_sound, o->invalid_sound);
	err |= dup_opt(&m->exit_sound, o->exit_sound);
	err |= dup_opt(&m->confirm_macro, o->confirm_macro);
	err |= dup_opt(&m->confirm_key, o->confirm_key);
	err |= dup_opt(&m->tts_engine, o->tts_engine);
	err |= dup_opt(&m->tts_voice, o->tts_voice);
	err |= dup_opt(&m->exec_on_max_fail, o->exec_on_max_failures);
	err |= dup_opt(&m->exec_on_max_timeout, o->exec_on_max_timeouts);
	if (err) {
		mem_deref(m);
		return ENOMEM;
	}
	m->timeout_ms = o->timeout > 0 ? (unsigned)o->timeout : DEFAULT_TIMEOUT_MS;
	m->inter_ms = o->inter_timeout > 0 ? (unsigned)o->inter_timeout : m->timeout_ms / 2;
	m->max_failures = o->max_failures > 0 ? (unsigned)o->max_failures : DEFAULT_MAX;
	m->max_timeouts = o->max_timeouts > 0 ? (unsigned)o->max_timeouts : DEFAULT_MAX;
	m->confirm_attempts = o->confirm_attempts > 0 ? (unsigned)o->confirm_attempts
						       : DEFAULT_CONFIRM;
	m->digit_len = o->digit_len > 0 ? (unsigned)o->digit_len : 0;
	if (m->digit_len > IVR_MAX_DIGITS)
		m->digit_len = IVR_MAX_DIGITS;
	list_append(&ms->menus, &m->le, m);
	if (mp)
		*mp = m;
	return 0;
}

const struct ivr_menu *ivr_menu_find(const struct ivr_menus *ms, const char *name)
{
	struct le *le;

	for (le = ms && name ? ms->menus.head : NULL; le; le = le->next) {
		const struct ivr_menu *m = le->data;

		if (!strcmp(m->name, name))
			return m;
	}
	return NULL;
}

size_t ivr_menu_count(const struct ivr_menus *ms)
{
	return ms ? list_count(&ms->menus) : 0;
}

const char *ivr_menu_name(const struct ivr_menu *m)
{
	return m ? m->name : NULL;
}

int ivr_action_parse(enum ivr_action *ap, const char *name)
{
	size_t i;

	for (i = 0; name && i < sizeof(ACTIONS) / sizeof(ACTIONS[0]); i++) {
		if (!strcasecmp(ACTIONS[i].name, name)) {
			*ap = ACTIONS[i].act;
			return 0;
		}
	}
	return EINVAL;
}

int ivr_menu_bind(struct ivr_menu *m, enum ivr_action act, const char *param,
		  const char *digits, char *err, size_t errsz)
{
	struct ivr_entry *e;
	int rc;

	if (!m || !digits || !*digits)
		return EINVAL;
	e = mem_zalloc(sizeof(*e), entry_destructor);
	if (!e)
		return ENOMEM;
	e->act = act;
	rc = str_dup(&e->digits, digits);
	if (!rc)
		rc = str_dup(&e->param, param ? param : "");
	if (rc) {
		mem_deref(e);
		return rc;
	}
	if (*digits == '/') {
		rc = dp_regex_compile(&e->re, digits, err, errsz);
		if (rc) {
			mem_deref(e);
			return rc;
		}
	} else if (strlen(digits) > m->digit_len) {
		m->digit_len = strlen(digits) > IVR_MAX_DIGITS ? IVR_MAX_DIGITS
							       : (unsigned)strlen(digits);
	}
	list_append(&m->entries, &e->le, e);
	return 0;
}

int ivr_menu_match(const struct ivr_menu *m, const char *digits, enum ivr_action *actp,
		   char **paramp)
{
	struct le *le;

	for (le = m && digits ? m->entries.head : NULL; le; le = le->next) {
		const struct ivr_entry *e = le->data;
		pcre2_match_data *md;
		int rc;

		if (!e->re) {
			if (strcmp(e->digits, digits))
				continue;
			*actp = e->act;
			return str_dup(paramp, e->param);
		}
		md = pcre2_match_data_create_from_pattern(e->re, NULL);
		if (!md)
			return ENOMEM;
		rc = pcre2_match(e->re, (PCRE2_SPTR)digits, strlen(digits), 0, 0, md, NULL);
		if (rc >= 0) {
			*actp = e->act;
			rc = dp_substitute(paramp, e->param, digits, md, rc);
			pcre2_match_data_free(md);
			return rc;
		}
		pcre2_match_data_free(md);
	}
	return ENOENT;
}

/* ---- ivr.conf ---------------------------------------------------------------- */

static int fail(const struct xml_node *n, char *err, size_t errsz, const char *fmt,
		const char *what)
{
	char msg[256];

	(void)snprintf(msg, sizeof(msg), fmt, what ? what : "");
	(void)snprintf(err, errsz, "%s:%u: %s", n->file ? n->file : "?", n->line, msg);
	return EINVAL;
}

/* An optional whole number attribute; 0 when absent or empty. */
static int num_attr(int *vp, const struct xml_node *n, const char *name, char *err,
		    size_t errsz)
{
	const char *s = xml_attr(n, name);
	char *end;
	long v;

	*vp = 0;
	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < -1 || v > 3600000) {
		char what[128];

		(void)snprintf(what, sizeof(what), "%s=\"%.80s\"", name, s);
		return fail(n, err, errsz, "ivr menu: %s is not a number", what);
	}
	*vp = (int)v;
	return 0;
}

static int menu_compile(struct ivr_menus *ms, const struct xml_node *n, char *err,
			size_t errsz)
{
	struct ivr_menu_opts o = {0};
	const struct xml_node *en;
	struct ivr_menu *m;
	int rc;

	o.name = xml_attr(n, "name");
	if (!o.name || !*o.name)
		return fail(n, err, errsz, "ivr menu without a name%s", NULL);
	o.greet_long = xml_attr(n, "greet-long");
	o.greet_short = xml_attr(n, "greet-short");
	o.invalid_sound = xml_attr(n, "invalid-sound");
	o.exit_sound = xml_attr(n, "exit-sound");
	o.confirm_macro = xml_attr(n, "confirm-macro");
	o.confirm_key = xml_attr(n, "confirm-key");
	o.tts_engine = xml_attr(n, "tts-engine");
	o.tts_voice = xml_attr(n, "tts-voice");
	o.exec_on_max_failures = xml_attr(n, "exec-on-max-failures");
	o.exec_on_max_timeouts = xml_attr(n, "exec-on-max-timeouts");
	rc = num_attr(&o.confirm_attempts, n, "confirm-attempts", err, errsz);
	rc = rc ? rc : num_attr(&o.inter_timeout, n, "inter-digit-timeout", err, errsz);
	rc = rc ? rc : num_attr(&o.digit_len, n, "digit-len", err, errsz);
	rc = rc ? rc : num_attr(&o.timeout, n, "timeout", err, errsz);
	rc = rc ? rc : num_attr(&o.max_failures, n, "max-failures", err, errsz);
	rc = rc ? rc : num_attr(&o.max_timeouts, n, "max-timeouts", err, errsz);
	if (rc)
		return rc;
	/* switch_ivr_menu_stack_xml_build: no max-timeouts means max-failures. */
	if (!xml_attr(n, "max-timeouts") || !*xml_attr(n, "max-timeouts"))
		o.max_timeouts = o.max_failures;
	rc = ivr_menu_add(&m, ms, &o);
	if (rc == EEXIST)
		return fail(n, err, errsz, "ivr menu %s is defined twice", o.name);
	if (rc)
		return rc;
	for (en = xml_child(n, "entry"); en; en = xml_next(en)) {
		const char *action = xml_attr(en, "action");
		const char *digits = xml_attr(en, "digits");
		enum ivr_action act;
		char rerr[200] = "";

		if (ivr_action_parse(&act, action))
			return fail(en, err, errsz, "ivr menu entry: unknown action \"%s\"",
				    action ? action : "");
		if (!digits || !*digits)
			return fail(en, err, errsz, "ivr menu entry %s without digits", action);
		rc = ivr_menu_bind(m, act, xml_attr(en, "param"), digits, rerr, sizeof(rerr));
		if (rc == EINVAL)
			return fail(en, err, errsz, "ivr menu entry: %s", rerr);
		if (rc)
			return rc;
	}
	return 0;
}

/* Every menu-sub must name a menu of the same file set. */
static int subs_check(const struct ivr_menus *ms, const struct xml_node *menus, char *err,
		      size_t errsz)
{
	const struct xml_node *n, *en;

	for (n = xml_child(menus, "menu"); n; n = xml_next(n)) {
		for (en = xml_child(n, "entry"); en; en = xml_next(en)) {
			enum ivr_action act;
			const char *param = xml_attr(en, "param");

			if (ivr_action_parse(&act, xml_attr(en, "action")) || act != IVR_SUB)
				continue;
			if (!ivr_menu_find(ms, param))
				return fail(en, err, errsz,
					    "ivr menu entry: menu-sub to unknown menu \"%s\"",
					    param ? param : "");
		}
	}
	return 0;
}

int ivr_menus_compile(struct ivr_menus **msp, const struct xml_node *conf, char *err,
		      size_t errsz)
{
	const struct xml_node *menus = xml_child(conf, "menus"), *n;
	struct ivr_menus *ms;
	int rc;

	if (!err || !errsz)
		return EINVAL;
	err[0] = '\0';
	rc = ivr_menus_alloc(&ms);
	if (rc)
		return rc;
	for (n = xml_child(menus, "menu"); n && !rc; n = xml_next(n))
		rc = menu_compile(ms, n, err, errsz);
	if (!rc)
		rc = subs_check(ms, menus, err, errsz);
	if (rc) {
		if (!err[0])
			snprintf(err, errsz, "ivr.conf: %s", strerror(rc));
		mem_deref(ms);
		return rc;
	}
	*msp = ms;
	return 0;
}

int ivr_load(const struct config *cfg, char *err, size_t errsz)
{
	struct ivr_menus *ms;
	int rc = ivr_menus_compile(&ms, config_module(cfg, "ivr.conf"), err, errsz);

	if (rc)
		return rc;
	mem_deref(CUR);
	CUR = ms;
	log_info("ivr: %zu menu%s\n", ivr_menu_count(ms), ivr_menu_count(ms) == 1 ? "" : "s");
	return 0;
}

int ivr_reload(const struct config *cfg, char *err, size_t errsz)
{
	return ivr_load(cfg, err, errsz);
}

void ivr_close(void)
{
	CUR = mem_deref(CUR);
}

struct ivr_menus *ivr_current(void)
{
	return CUR;
}
