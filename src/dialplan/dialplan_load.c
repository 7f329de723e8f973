/*
 * dialplan_load.c - compiles <section name="dialplan"> into contexts, extensions
 * and conditions: regular expressions compiled once with PCRE2, every attribute
 * checked, mistakes reported as "file:line: problem" (spec/core.md 5).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "core/config.h"
#include "core/log.h"
#include "dialplan/app.h"
#include "dialplan/dialplan_int.h"

/* An extension's actions may repeat at most this often (loop="N"). */
#define MAX_LOOP 1000

/*
 * Applications that may run inline, while the dialplan is still hunting: the
 * ones FreeSWITCH flags SAF_ROUTING_EXEC among those confab has. They finish
 * at once and only touch variables, logs and events.
 */
static const char *const inline_apps[] = {
	"set", "unset", "export", "eval", "set_global", "log", "info", "event",
	"sched_hangup",
};

bool dp_app_inline_ok(const char *app)
{
	size_t i;

	for (i = 0; i < sizeof(inline_apps) / sizeof(*inline_apps); i++) {
		if (!strcasecmp(app, inline_apps[i]))
			return true;
	}
	return false;
}

/* Where a node came from, for messages. */
#define FILE_OF(n) ((n)->file ? (n)->file : "?")

static int fail(char *err, size_t errsz, const struct xml_node *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errsz, const struct xml_node *n, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errsz, "%s:%u: %s", n ? FILE_OF(n) : "?", n ? n->line : 0, msg);
	return EINVAL;
}

/*
 * FreeSWITCH's switch_ast2regex: "_NXXX." is an Asterisk pattern. N, X and Z are
 * digit classes, '.' is anything; the result is anchored at both ends.
 */
static int ast2regex(char **outp, const char *pat)
{
	struct mbuf *mb = mbuf_alloc(64);
	int err;

	if (!mb)
		return ENOMEM;
	err = mbuf_write_u8(mb, '^');
	for (; *pat && !err; pat++) {
		switch (*pat) {
		case 'N': err = mbuf_write_str(mb, "[2-9]"); break;
		case 'X': err = mbuf_write_str(mb, "[0-9]"); break;
		case 'Z': err = mbuf_write_str(mb, "[1-9]"); break;
		case '.': err = mbuf_write_str(mb, ".*"); break;
		default:  err = mbuf_write_u8(mb, (uint8_t)*pat); break;
		}
	}
	if (!err)
		err = mbuf_write_u8(mb, '$');
	if (!err) {
		mb->pos = 0;
		err = mbuf_strdup(mb, outp, mb->end);
	}
	mem_deref(mb);
	return err;
}

/*
 * Compile one expression the way FreeSWITCH's switch_regex_perform reads it:
 * "/re/flags" (i: caseless, s: dot matches newline), "_pattern" (Asterisk), or
 * a plain PCRE.
 */
int dp_regex_compile(pcre2_code **rep, const char *expr, char *err, size_t errsz)
{
	char *tmp = NULL;
	const char *pattern = expr;
	uint32_t opts = 0;
	PCRE2_SIZE off = 0;
	int code = 0, e = 0;

	if (expr[0] == '_' && expr[1]) {
		e = ast2regex(&tmp, expr + 1);
		pattern = tmp;
	} else if (expr[0] == '/') {
		const char *end = strrchr(expr + 1, '/');

		if (!end) {
			snprintf(err, errsz, "regular expression /%s lacks its closing '/'",
				 expr + 1);
			return EINVAL;
		}
		e = re_sdprintf(&tmp, "%b", expr + 1, (size_t)(end - expr - 1));
		if (strchr(end + 1, 'i'))
			opts |= PCRE2_CASELESS;
		if (strchr(end + 1, 's'))
			opts |= PCRE2_DOTALL;
		pattern = tmp;
	}
	if (e)
		return e;
	*rep = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opts, &code, &off,
			     NULL);
	if (!*rep) {
		PCRE2_UCHAR msg[160];

		pcre2_get_error_message(code, msg, sizeof(msg));
		snprintf(err, errsz, "bad regular expression \"%s\": %s at offset %zu", expr,
			 (const char *)msg, (size_t)off);
		e = EINVAL;
	}
	mem_deref(tmp);
	return e;
}

static void test_reset(struct dp_test *t)
{
	mem_deref(t->field);
	mem_deref(t->expr);
	pcre2_code_free(t->re);
	mem_deref(t->time);
	memset(t, 0, sizeof(*t));
}

static void action_destructor(void *data)
{
	struct dp_action *a = data;

	mem_deref(a->app);
	mem_deref(a->data);
}

static void regex_destructor(void *data)
{
	struct dp_regex *r = data;

	test_reset(&r->t);
}

static void cond_destructor(void *data)
{
	struct dp_cond *c = data;

	test_reset(&c->t);
	list_flush(&c->regexes);
	list_flush(&c->actions);
	list_flush(&c->anti);
	list_flush(&c->nested);
}

static void exten_destructor(void *data)
{
	struct dp_exten *x = data;

	mem_deref(x->name);
	list_flush(&x->conds);
}

static void context_destructor(void *data)
{
	struct dp_context *c = data;

	mem_deref(c->name);
	list_flush(&c->extens);
}

static void dialplan_destructor(void *data)
{
	struct dialplan *dp = data;

	list_flush(&dp->contexts);
}

/* Character data of an element without the blanks around it; NULL when empty. */
static int text_dup(char **outp, const char *s)
{
	size_t len;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	len = strlen(s);
	while (len && strchr(" \t\r\n", s[len - 1]))
		len--;
	*outp = NULL;
	return len ? re_sdprintf(outp, "%b", s, len) : 0;
}

/*
 * The test of a <condition> or <regex>: field, expression (attribute or an
 * <expression> child, for CDATA), and time attributes.
 */
static int test_compile(struct dp_test *t, const struct xml_node *n, char *err,
			size_t errsz)
{
	const char *field = xml_attr(n, "field");
	const struct xml_node *xe = xml_child(n, "expression");
	char msg[320];
	int e;

	e = xe ? text_dup(&t->expr, xe->text) : str_dup(&t->expr, xml_attr(n, "expression") ?
						       xml_attr(n, "expression") : "");
	if (!e && !t->expr)
		e = str_dup(&t->expr, "");
	if (e)
		return e;
	if (field) {
		e = str_dup(&t->field, field);
		if (e)
			return e;
		if (strchr(field, '$')) {
			t->kind = DP_FIELD_EXPAND;
		} else {
			t->kind = DP_FIELD_PROFILE;
			if (!dp_profile_field_known(field))
				log_warn("%s:%u: condition field '%s' is not a caller-profile "
					 "field; it is always empty (write ${%s} for a "
					 "variable)\n", FILE_OF(n), n->line, field, field);
		}
		t->captures = strchr(t->expr, '(') != NULL;
		/* ${var} in an expression is expanded per call (FreeSWITCH does). */
		if (!strstr(t->expr, "${") &&
		    dp_regex_compile(&t->re, t->expr, msg, sizeof(msg)))
			return fail(err, errsz, n, "%s", msg);
	} else if (*t->expr) {
		log_warn("%s:%u: expression without field is ignored\n", FILE_OF(n), n->line);
	}
	return dp_time_compile(&t->time, n, err, errsz);
}

static int actions_compile(struct list *out, const struct xml_node *cond,
			   const char *elem, char *err, size_t errsz)
{
	const struct xml_node *n;

	for (n = xml_child(cond, elem); n; n = xml_next(n)) {
		const char *app = xml_attr(n, "application");
		const char *data = xml_attr(n, "data");
		const char *loop = xml_attr(n, "loop");
		struct dp_action *a;
		char *txt = NULL;
		int e;

		if (!app || !*app)
			return fail(err, errsz, n, "<%s> without application", elem);
		a = mem_zalloc(sizeof(*a), action_destructor);
		if (!a)
			return ENOMEM;
		list_append(out, &a->le, a);
		/* Character data wins over the data attribute, as in FreeSWITCH. */
		e = text_dup(&txt, n->text);
		if (e)
			return e;
		if (txt)
			a->data = txt;
		else if (str_dup(&a->data, data ? data : ""))
			return ENOMEM;
		if (str_dup(&a->app, app))
			return ENOMEM;
		a->inl = config_true(xml_attr(n, "inline"));
		a->loop = 1;
		if (loop) {
			char *end;
			long v = strtol(loop, &end, 10);

			if (*end || v < 0 || v > MAX_LOOP)
				return fail(err, errsz, n, "loop=\"%s\" is not a count from 0 "
					    "to %d", loop, MAX_LOOP);
			a->loop = (unsigned)v;
		}
		if (a->inl && !dp_app_inline_ok(app))
			return fail(err, errsz, n, "application '%s' cannot run inline "
				    "(only set, unset, export, eval, set_global, log, info, "
				    "event, sched_hangup)", app);
		if (!a->inl && !app_exists(app))
			log_notice("%s:%u: no application named '%s' (yet)\n", FILE_OF(n),
				   n->line, app);
	}
	return 0;
}

static int cond_compile(struct list *out, const struct xml_node *n, char *err,
			size_t errsz);

static int conds_compile(struct list *out, const struct xml_node *parent, char *err,
			 size_t errsz)
{
	const struct xml_node *n;
	int e = 0;

	for (n = xml_child(parent, "condition"); n && !e; n = xml_next(n))
		e = cond_compile(out, n, err, errsz);
	return e;
}

static int parse_break(enum dp_break *b, const char *v)
{
	static const struct { const char *name; enum dp_break b; } map[] = {
		{"on-false", DP_BREAK_ON_FALSE}, {"on-true", DP_BREAK_ON_TRUE},
		{"always", DP_BREAK_ALWAYS}, {"never", DP_BREAK_NEVER},
	};
	size_t i;

	*b = DP_BREAK_ON_FALSE;
	if (!v)
		return 0;
	for (i = 0; i < sizeof(map) / sizeof(*map); i++) {
		if (!strcasecmp(v, map[i].name)) {
			*b = map[i].b;
			return 0;
		}
	}
	return EINVAL;
}

static int cond_compile(struct list *out, const struct xml_node *n, char *err,
			size_t errsz)
{
	const char *brk = xml_attr(n, "break");
	const char *mode = xml_attr(n, "regex");
	const char *rn = xml_attr(n, "require-nested");
	const struct xml_node *r;
	struct dp_cond *c = mem_zalloc(sizeof(*c), cond_destructor);
	int e;

	if (!c)
		return ENOMEM;
	list_append(out, &c->le, c);
	if (parse_break(&c->brk, brk))
		return fail(err, errsz, n, "unknown break=\"%s\" (on-false, on-true, always "
			    "or never)", brk);
	c->require_nested = rn ? config_true(rn) : true;
	if (!mode)
		c->mode = DP_REGEX_SINGLE;
	else if (!strcasecmp(mode, "all"))
		c->mode = DP_REGEX_ALL;
	else if (!strcasecmp(mode, "any"))
		c->mode = DP_REGEX_ANY;
	else if (!strcasecmp(mode, "xor"))
		c->mode = DP_REGEX_XOR;
	else
		return fail(err, errsz, n, "unknown regex=\"%s\" (all, any or xor)", mode);

	if (c->mode == DP_REGEX_SINGLE) {
		e = test_compile(&c->t, n, err, errsz);
		if (!e && xml_child(n, "regex"))
			log_warn("%s:%u: <regex> children need regex=\"all|any|xor\" on the "
				 "condition; ignored\n", FILE_OF(n), n->line);
	} else {
		/* Only the time attributes of the condition itself count here. */
		e = dp_time_compile(&c->t.time, n, err, errsz);
		if (!e && xml_attr(n, "field"))
			log_warn("%s:%u: field on a regex=\"%s\" condition is ignored; the "
				 "<regex> children are tested\n", FILE_OF(n), n->line, mode);
		for (r = xml_child(n, "regex"); r && !e; r = xml_next(r)) {
			struct dp_regex *dr = mem_zalloc(sizeof(*dr), regex_destructor);

			if (!dr)
				return ENOMEM;
			list_append(&c->regexes, &dr->le, dr);
			e = test_compile(&dr->t, r, err, errsz);
		}
	}
	if (!e)
		e = actions_compile(&c->actions, n, "action", err, errsz);
	if (!e)
		e = actions_compile(&c->anti, n, "anti-action", err, errsz);
	if (!e)
		e = conds_compile(&c->nested, n, err, errsz);
	return e;
}

/* Children named `name`, looking through <include> wrappers. */
typedef int (child_h)(const struct xml_node *n, void *arg, char *err, size_t errsz);

static int each_child(const struct xml_node *parent, const char *name, child_h *h,
		      void *arg, char *err, size_t errsz)
{
	const struct xml_node *n;
	int e = 0;

	for (n = parent ? parent->child : NULL; n && !e; n = n->next) {
		if (!strcmp(n->name, name))
			e = h(n, arg, err, errsz);
		else if (!strcmp(n->name, "include"))
			e = each_child(n, name, h, arg, err, errsz);
	}
	return e;
}

struct ctx_build {
	struct dialplan *dp;
	struct dp_context *ctx;
};

static int exten_compile(const struct xml_node *n, void *arg, char *err, size_t errsz)
{
	struct ctx_build *b = arg;
	const char *name = xml_attr(n, "name");
	struct dp_exten *x = mem_zalloc(sizeof(*x), exten_destructor);

	if (!x)
		return ENOMEM;
	list_append(&b->ctx->extens, &x->le, x);
	b->dp->nexten++;
	/* FreeSWITCH calls a nameless extension UNKNOWN in its logs. */
	if (str_dup(&x->name, name && *name ? name : "UNKNOWN"))
		return ENOMEM;
	x->cont = config_true(xml_attr(n, "continue"));
	return conds_compile(&x->conds, n, err, errsz);
}

static int context_compile(const struct xml_node *n, void *arg, char *err, size_t errsz)
{
	struct ctx_build b = {arg, NULL};
	const char *name = xml_attr(n, "name");

	if (!name || !*name)
		return fail(err, errsz, n, "<context> without name");
	/* FreeSWITCH finds the first context of a name; later ones never run. */
	if (dp_context_find(b.dp, name)) {
		log_warn("%s:%u: a context named '%s' exists already; this one is "
			 "ignored\n", FILE_OF(n), n->line, name);
		return 0;
	}
	b.ctx = mem_zalloc(sizeof(*b.ctx), context_destructor);
	if (!b.ctx)
		return ENOMEM;
	list_append(&b.dp->contexts, &b.ctx->le, b.ctx);
	if (str_dup(&b.ctx->name, name))
		return ENOMEM;
	return each_child(n, "extension", exten_compile, &b, err, errsz);
}

const struct dp_context *dp_context_find(const struct dialplan *dp, const char *name)
{
	struct le *le;

	for (le = dp->contexts.head; le; le = le->next) {
		const struct dp_context *c = le->data;

		if (!strcasecmp(c->name, name))
			return c;
	}
	return NULL;
}

int dialplan_compile(struct dialplan **dpp, const struct config *cfg, char *err,
		     size_t errsz)
{
	struct dialplan *dp;
	int e;

	if (!dpp || !err || !errsz)
		return EINVAL;
	err[0] = '\0';
	dp = mem_zalloc(sizeof(*dp), dialplan_destructor);
	if (!dp)
		return ENOMEM;
	e = each_child(config_section(cfg, "dialplan"), "context", context_compile, dp, err,
		       errsz);
	if (e) {
		if (!err[0])
			snprintf(err, errsz, "dialplan: %s", strerror(e));
		mem_deref(dp);
		return e;
	}
	*dpp = dp;
	return 0;
}

size_t dialplan_context_count(const struct dialplan *dp)
{
	return dp ? list_count(&dp->contexts) : 0;
}

size_t dialplan_extension_count(const struct dialplan *dp)
{
	return dp ? dp->nexten : 0;
}
