/*
 * phrase.c - FreeSWITCH's phrase macros (<section name="languages">): compiled
 * at (re)load with their patterns checked, run into one playable source.
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
#include "dialplan/dialplan_int.h"
#include "dialplan/say.h"

#define SAY_SCHEME     "say:"
#define PHRASE_SCHEME  "phrase:"
#define DEFAULT_LANG   "en"
/* Macros calling macros (phrase: inside play-file) stop this deep. */
#define MAX_DEPTH      8

enum act_kind { ACT_FILE, ACT_SAY, ACT_SPEAK, ACT_SLEEP, ACT_PLAYBACK, ACT_BREAK };

struct action {
	struct le le;
	enum act_kind kind;
	char *data, *type, *method, *gender;
};

struct input {
	struct le le;
	pcre2_code *re;
	bool break_on_match;
	struct list match, nomatch;
};

struct macro {
	struct le le;
	char *name;
	struct list inputs;
};

struct lang {
	struct le le;
	char *name, *say_module, *tts_engine, *tts_voice;
	struct list macros;
};

struct phrases {
	struct list langs;
	unsigned nmacro;
};

static struct phrases *P;

static void action_destructor(void *data)
{
	struct action *a = data;

	mem_deref(a->data);
	mem_deref(a->type);
	mem_deref(a->method);
	mem_deref(a->gender);
}

static void input_destructor(void *data)
{
	struct input *in = data;

	pcre2_code_free(in->re);
	list_flush(&in->match);
	list_flush(&in->nomatch);
}

static void macro_destructor(void *data)
{
	struct macro *m = data;

	mem_deref(m->name);
	list_flush(&m->inputs);
}

static void lang_destructor(void *data)
{
	struct lang *l = data;

	mem_deref(l->name);
	mem_deref(l->say_module);
	mem_deref(l->tts_engine);
	mem_deref(l->tts_voice);
	list_flush(&l->macros);
}

static void phrases_destructor(void *data)
{
	list_flush(&((struct phrases *)data)->langs);
}

static int fail(const struct xml_node *n, char *err, size_t errsz, const char *fmt,
		const char *what)
{
	char msg[256];

	(void)snprintf(msg, sizeof(msg), fmt, what ? what : "");
	(void)snprintf(err, errsz, "%s:%u: %s", n->file ? n->file : "?", n->line, msg);
	return EINVAL;
}

static int dup_attr(char **outp, const struct xml_node *n, const char *name)
{
	const char *v = xml_attr(n, name);

	return v ? str_dup(outp, v) : 0;
}

/* "sleep(500)" -> ACT_SLEEP "500"; "playback(file)" -> ACT_PLAYBACK "file". */
static int execute_compile(struct action *a, const struct xml_node *n, char *err,
			   size_t errsz)
{
	const char *d = a->data, *open = strchr(d, '('), *close = strrchr(d, ')');
	size_t len = open ? (size_t)(open - d) : strcspn(d, " ");
	const char *args = open ? open + 1 : d + len + (d[len] == ' ');
	size_t alen = open ? (close && close > open ? (size_t)(close - args) : 0)
			   : strlen(args);
	char *tmp = NULL;
	int e;

	if (len == 5 && !strncasecmp(d, "sleep", 5))
		a->kind = ACT_SLEEP;
	else if (len == 8 && !strncasecmp(d, "playback", 8))
		a->kind = ACT_PLAYBACK;
	else
		return fail(n, err, errsz, "phrase: execute of '%s': only sleep and playback "
			    "can run inside a phrase", d);
	e = re_sdprintf(&tmp, "%b", args, alen);
	if (e)
		return e;
	mem_deref(a->data);
	a->data = tmp;
	if (a->kind == ACT_SLEEP && strspn(tmp, "0123456789") != strlen(tmp))
		return fail(n, err, errsz, "phrase: sleep wants milliseconds, not '%s'", tmp);
	return 0;
}

static int action_compile(struct list *to, const struct xml_node *n, char *err, size_t errsz)
{
	const char *fn = xml_attr(n, "function");
	struct action *a;
	int e;

	if (!fn)
		return fail(n, err, errsz, "phrase: <action> without function%s", NULL);
	a = mem_zalloc(sizeof(*a), action_destructor);
	if (!a)
		return ENOMEM;
	list_append(to, &a->le, a);
	e = str_dup(&a->data, xml_attr(n, "data") ? xml_attr(n, "data") : "");
	e = e ? e : dup_attr(&a->type, n, "type");
	e = e ? e : dup_attr(&a->method, n, "method");
	e = e ? e : dup_attr(&a->gender, n, "gender");
	if (e)
		return e;
	if (!strcasecmp(fn, "play-file")) {
		a->kind = ACT_FILE;
	} else if (!strcasecmp(fn, "say")) {
		a->kind = ACT_SAY;
		if (!a->type)
			return fail(n, err, errsz, "phrase: say without type%s", NULL);
	} else if (!strcasecmp(fn, "speak-text")) {
		a->kind = ACT_SPEAK;
	} else if (!strcasecmp(fn, "break")) {
		a->kind = ACT_BREAK;
	} else if (!strcasecmp(fn, "execute")) {
		return execute_compile(a, n, err, errsz);
	} else {
		return fail(n, err, errsz, "phrase: unknown action function '%s'", fn);
	}
	if (a->kind != ACT_BREAK && !*a->data)
		return fail(n, err, errsz, "phrase: action %s without data", fn);
	return 0;
}

static int actions_compile(struct list *to, const struct xml_node *parent, char *err,
			   size_t errsz)
{
	const struct xml_node *n;
	int e = 0;

	for (n = parent ? parent->child : NULL; n && !e; n = n->next)
		if (!strcmp(n->name, "action"))
			e = action_compile(to, n, err, errsz);
	return e;
}

static int input_compile(struct macro *m, const struct xml_node *n, char *err, size_t errsz)
{
	const char *pat = xml_attr(n, "pattern");
	char rerr[256];
	struct input *in;
	int e;

	if (!pat)
		return fail(n, err, errsz, "phrase: <input> without pattern%s", NULL);
	in = mem_zalloc(sizeof(*in), input_destructor);
	if (!in)
		return ENOMEM;
	list_append(&m->inputs, &in->le, in);
	if (dp_regex_compile(&in->re, pat, rerr, sizeof(rerr)))
		return fail(n, err, errsz, "phrase: bad pattern: %.200s", rerr);
	/* switch_ivr_phrase_macro: break_on_match defaults to false. */
	in->break_on_match = config_true(xml_attr(n, "break_on_match")) ||
			     config_true(xml_attr(n, "break-on-match"));
	e = actions_compile(&in->match, xml_child(n, "match"), err, errsz);
	return e ? e : actions_compile(&in->nomatch, xml_child(n, "nomatch"), err, errsz);
}

static int macro_compile(struct lang *l, const struct xml_node *n, char *err, size_t errsz)
{
	const char *name = xml_attr(n, "name");
	const struct xml_node *c;
	struct macro *m;
	int e = 0;

	if (!name || !*name)
		return fail(n, err, errsz, "phrase: <macro> without name%s", NULL);
	m = mem_zalloc(sizeof(*m), macro_destructor);
	if (!m)
		return ENOMEM;
	list_append(&l->macros, &m->le, m);
	e = str_dup(&m->name, name);
	for (c = n->child; c && !e; c = c->next)
		if (!strcmp(c->name, "input"))
			e = input_compile(m, c, err, errsz);
	return e;
}

/* <macros> (nested <macros name=".."> groups too, and <include> wrappers). */
static int macros_compile(struct lang *l, const struct xml_node *parent, char *err,
			  size_t errsz, unsigned *count)
{
	const struct xml_node *n;
	int e = 0;

	for (n = parent ? parent->child : NULL; n && !e; n = n->next) {
		if (!strcmp(n->name, "macro")) {
			e = macro_compile(l, n, err, errsz);
			++*count;
		} else if (!strcmp(n->name, "macros") || !strcmp(n->name, "include") ||
			   !strcmp(n->name, "phrases")) {
			e = macros_compile(l, n, err, errsz, count);
		}
	}
	return e;
}

static int lang_compile(struct phrases *ph, const struct xml_node *n, char *err,
			size_t errsz)
{
	const char *name = xml_attr(n, "name");
	struct lang *l;
	int e;

	if (!name || !*name)
		return fail(n, err, errsz, "phrase: <language> without name%s", NULL);
	l = mem_zalloc(sizeof(*l), lang_destructor);
	if (!l)
		return ENOMEM;
	list_append(&ph->langs, &l->le, l);
	e = str_dup(&l->name, name);
	e = e ? e : dup_attr(&l->say_module, n, "say-module");
	e = e ? e : dup_attr(&l->tts_engine, n, "tts-engine");
	e = e ? e : dup_attr(&l->tts_voice, n, "tts-voice");
	return e ? e : macros_compile(l, n, err, errsz, &ph->nmacro);
}

static int langs_compile(struct phrases *ph, const struct xml_node *parent, char *err,
			 size_t errsz)
{
	const struct xml_node *n;
	int e = 0;

	for (n = parent ? parent->child : NULL; n && !e; n = n->next) {
		if (!strcmp(n->name, "language"))
			e = lang_compile(ph, n, err, errsz);
		else if (!strcmp(n->name, "include"))
			e = langs_compile(ph, n, err, errsz);
	}
	return e;
}

int phrase_load(const struct config *cfg, char *err, size_t errsz)
{
	struct phrases *ph;
	int e;

	if (!err || !errsz)
		return EINVAL;
	err[0] = '\0';
	ph = mem_zalloc(sizeof(*ph), phrases_destructor);
	if (!ph)
		return ENOMEM;
	e = langs_compile(ph, config_section(cfg, "languages"), err, errsz);
	if (e) {
		if (!err[0])
			snprintf(err, errsz, "phrase: %s", strerror(e));
		mem_deref(ph);
		return e;
	}
	mem_deref(P);
	P = ph;
	log_info("phrase: %u macro%s in %u language%s\n", ph->nmacro,
		 ph->nmacro == 1 ? "" : "s", list_count(&ph->langs),
		 list_count(&ph->langs) == 1 ? "" : "s");
	return 0;
}

int phrase_reload(const struct config *cfg, char *err, size_t errsz)
{
	return phrase_load(cfg, err, errsz);
}

void phrase_close(void)
{
	P = mem_deref(P);
}

unsigned phrase_count(void)
{
	return P ? P->nmacro : 0;
}

/* ---- running a macro ---------------------------------------------------------- */

struct run {
	struct channel *ch;
	const struct lang *lang;
	struct mbuf *mb;
	unsigned n;
};

/* Macros now running (one inside another through phrase: files). */
static unsigned nesting;

static const struct lang *lang_find(const char *name)
{
	struct le *le;

	for (le = P ? P->langs.head : NULL; le; le = le->next) {
		const struct lang *l = le->data;

		if (!strcasecmp(l->name, name))
			return l;
	}
	return NULL;
}

static const struct macro *macro_find(const struct lang *l, const char *name)
{
	struct le *le;

	for (le = l ? l->macros.head : NULL; le; le = le->next) {
		const struct macro *m = le->data;

		if (!strcasecmp(m->name, name))
			return m;
	}
	return NULL;
}

static int emit(struct run *r, const char *src)
{
	static const char list[] = "file_string://";

	/* A list inside the list: its items join ours. */
	if (!strncasecmp(src, list, strlen(list)))
		src += strlen(list);
	r->n++;
	return mbuf_printf(r->mb, "%s%s", r->mb->end ? "!" : "", src);
}

static int run_macro(struct run *r, const char *name, const char *data);

static int run_action(struct run *r, const struct action *a, const char *subject,
		      pcre2_match_data *md, int rc)
{
	char *d = NULL, *x = NULL, *src = NULL;
	int e;

	e = dp_substitute(&d, a->data, subject, md, rc);
	if (!e && r->ch)
		e = channel_expand(r->ch, d, &x);
	if (e)
		goto out;
	if (x) {
		mem_deref(d);
		d = x;
	}
	switch (a->kind) {
	case ACT_FILE:
	case ACT_PLAYBACK:
		if (!strncasecmp(d, PHRASE_SCHEME, strlen(PHRASE_SCHEME)) ||
		    !strncasecmp(d, SAY_SCHEME, strlen(SAY_SCHEME))) {
			e = say_expand(&src, r->ch, d);
		} else {
			e = str_dup(&src, d);
		}
		break;
	case ACT_SAY:
		e = say_source(&src, r->lang->say_module ? r->lang->say_module : r->lang->name,
			       a->type, a->method, a->gender, d);
		if (e)
			log_warn("phrase: cannot say '%s' as %s %s: %s\n", d, a->type,
				 a->method ? a->method : "", strerror(e));
		break;
	case ACT_SPEAK:
		e = say_tts_source(&src, r->ch, r->lang->tts_engine, r->lang->tts_voice, d);
		break;
	case ACT_SLEEP:
		e = re_sdprintf(&src, "silence_stream://%s", d);
		break;
	case ACT_BREAK:
		break;
	}
	if (!e && src)
		e = emit(r, src);
 out:
	mem_deref(d);
	mem_deref(src);
	return e;
}

/* Returns 1 when a break action or a break_on_match input ends the macro. */
static int run_actions(struct run *r, const struct list *acts, const char *subject,
		       pcre2_match_data *md, int rc)
{
	struct le *le;
	int e;

	for (le = acts->head; le; le = le->next) {
		const struct action *a = le->data;

		if (a->kind == ACT_BREAK)
			return 1;
		e = run_action(r, a, subject, md, rc);
		if (e)
			return -e;
	}
	return 0;
}

static int run_macro(struct run *r, const char *name, const char *data)
{
	const struct macro *m = macro_find(r->lang, name);
	struct le *le;
	int rc = 0;

	if (!m)
		return ENOENT;
	for (le = m->inputs.head; le && !rc; le = le->next) {
		const struct input *in = le->data;
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(in->re, NULL);
		int mrc;

		if (!md)
			return ENOMEM;
		mrc = pcre2_match(in->re, (PCRE2_SPTR)data, strlen(data), 0, 0, md, NULL);
		if (mrc >= 0)
			rc = run_actions(r, &in->match, data, md, mrc);
		else
			rc = run_actions(r, &in->nomatch, data, NULL, 0);
		pcre2_match_data_free(md);
		if (!rc && mrc >= 0 && in->break_on_match)
			rc = 1;
	}
	return rc < 0 ? -rc : 0;
}

int phrase_source(char **sourcep, struct channel *ch, const char *name, const char *data,
		  const char *lang)
{
	struct run r = {.ch = ch};
	int e;

	if (!sourcep || !name || !*name)
		return EINVAL;
	if (!lang || !*lang)
		lang = ch ? channel_var(ch, "default_language") : NULL;
	if (!lang || !*lang)
		lang = DEFAULT_LANG;
	r.lang = lang_find(lang);
	if (!r.lang || !macro_find(r.lang, name)) {
		log_warn("phrase: no macro '%s' in language '%s'\n", name, lang);
		return ENOENT;
	}
	if (nesting >= MAX_DEPTH) {
		log_warn("phrase: macro '%s' nested deeper than %u\n", name, MAX_DEPTH);
		return ELOOP;
	}
	r.mb = mbuf_alloc(256);
	if (!r.mb)
		return ENOMEM;
	nesting++;
	e = run_macro(&r, name, data ? data : "");
	nesting--;
	if (!e && !r.n)
		e = ENOENT;
	if (!e) {
		r.mb->pos = 0;
		e = r.n == 1 && !memchr(r.mb->buf, '!', r.mb->end)
			? mbuf_strdup(r.mb, sourcep, r.mb->end)
			: re_sdprintf(sourcep, "file_string://%b", r.mb->buf, r.mb->end);
	}
	mem_deref(r.mb);
	return e;
}

/* ---- sources beyond media_play's ------------------------------------------------ */

int say_tts_source(char **outp, struct channel *ch, const char *engine, const char *voice,
		   const char *text)
{
	const char *ce = ch ? channel_var(ch, "tts_engine") : NULL;
	const char *cv = ch ? channel_var(ch, "tts_voice") : NULL;

	/* The channel's choice wins over the language's, as set_tts_params does. */
	if (ce && *ce) {
		engine = ce;
		voice = cv;
	}
	if (!engine || !*engine)
		return ENOTSUP;
	return re_sdprintf(outp, "tts://%s|%s|%s", engine, voice ? voice : "", text);
}

int say_expand(char **outp, struct channel *ch, const char *source)
{
	char *buf = NULL, *data;
	int e;

	if (!outp || !source)
		return EINVAL;
	if (!strncasecmp(source, SAY_SCHEME, strlen(SAY_SCHEME))) {
		e = say_tts_source(outp, ch, NULL, NULL, source + strlen(SAY_SCHEME));
		if (e == ENOTSUP)
			log_warn("%s: say: needs tts_engine (and tts_voice) set\n",
				 ch ? channel_name(ch) : "phrase");
		return e;
	}
	if (strncasecmp(source, PHRASE_SCHEME, strlen(PHRASE_SCHEME)))
		return str_dup(outp, source);
	e = str_dup(&buf, source + strlen(PHRASE_SCHEME));
	if (e)
		return e;
	data = strchr(buf, ':');
	if (data)
		*data++ = '\0';
	e = phrase_source(outp, ch, buf, data, NULL);
	mem_deref(buf);
	return e;
}
