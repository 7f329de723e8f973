/*
 * dialplan_hunt.c - finds what a channel executes: extensions of its context top
 * to bottom, conditions with break, regex all/any/xor and nesting, captures
 * substituted into action data, anti-actions, continue, inline actions
 * (FreeSWITCH's mod_dialplan_xml parse_exten and dialplan_hunt, spec/core.md 5).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <re.h>
#include "channel/channel.h"
#include "core/log.h"
#include "dialplan/app.h"
#include "dialplan/dialplan_int.h"
#include "event/event.h"

/*
 * The debug lines an admin greps for when a call does not go where expected;
 * FreeSWITCH's wording (mod_dialplan_xml.c), so its how-tos still apply.
 */
#define TXT_PROCESSING "Processing %s <%s>->%s in context %s\n"
#define TXT_PARSING    "Dialplan: %s parsing [%s->%s] continue=%s\n"
#define TXT_REGEX      "Dialplan: %s Regex (%s) [%s] %s(%s) =~ /%s/ break=%s\n"
#define TXT_ABSOLUTE   "Dialplan: %s Absolute Condition [%s]\n"
#define TXT_TIME       "Dialplan: %s Date/Time Match (%s) [%s] break=%s\n"
#define TXT_ACTION     "Dialplan: %s %s %s(%s) %s\n"
#define TXT_NO_CONTEXT "Context %s not found\n"

static const char *const break_names[] = {"on-false", "on-true", "always", "never"};

struct hunt {
	struct channel *ch;
	struct caller_profile *p;
	const char *context;        /* what `context` and `destination_number` read */
	const char *dest;
	struct list *steps;
	const bool *stop;
	time_t now;
	bool found;                 /* some action or anti-action applied */
	bool aborted;
};

/* Where $N comes from: the subject and the match of the last capturing test. */
struct capture {
	bool subst;                 /* substitute $N (the test has a field and a group) */
	pcre2_match_data *md;       /* NULL: every $N is empty */
	pcre2_code *own_re;         /* compiled for this call (expression with ${}) */
	char *subject;
	int rc;
};

static void capture_reset(struct capture *c)
{
	pcre2_match_data_free(c->md);
	pcre2_code_free(c->own_re);
	mem_deref(c->subject);
	memset(c, 0, sizeof(*c));
}

static void capture_move(struct capture *to, struct capture *from)
{
	capture_reset(to);
	*to = *from;
	memset(from, 0, sizeof(*from));
}

/* switch_caller_get_field_by_name's names. */
static const char *const profile_fields[] = {
	"username", "dialplan", "caller_id_name", "caller_id_number", "orig_caller_id_name",
	"orig_caller_id_number", "callee_id_name", "callee_id_number", "network_addr",
	"ani", "aniii", "destination_number", "context", "rdnis", "transfer_source",
	"uuid", "chan_name", "source",
};

bool dp_profile_field_known(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(profile_fields) / sizeof(*profile_fields); i++) {
		if (!strcasecmp(name, profile_fields[i]))
			return true;
	}
	return false;
}

/* Caller-Source lives with the endpoint; the channel's events carry it. */
static int source_dup(struct channel *ch, char **outp)
{
	struct event *ev;
	int err;

	err = channel_event_alloc(ch, EVENT_CHANNEL_STATE, NULL, &ev);
	if (err)
		return err;
	err = str_dup(outp, event_header(ev, "Caller-Source") ?
		      event_header(ev, "Caller-Source") : "");
	event_deref(ev);
	return err;
}

static int profile_field(const struct hunt *h, const char *name, char **outp)
{
	const struct caller_profile *p = h->p;
	const char *v = NULL;

	if (!strcasecmp(name, "source"))
		return source_dup(h->ch, outp);
	if (!strcasecmp(name, "destination_number"))
		v = h->dest;
	else if (!strcasecmp(name, "context"))
		v = h->context;
	else if (!strcasecmp(name, "uuid"))
		v = channel_uuid(h->ch);
	else if (!strcasecmp(name, "chan_name"))
		v = channel_name(h->ch);
	else if (!strcasecmp(name, "username"))
		v = p->username;
	else if (!strcasecmp(name, "dialplan"))
		v = p->dialplan;
	else if (!strcasecmp(name, "caller_id_name"))
		v = p->caller_id_name;
	else if (!strcasecmp(name, "caller_id_number"))
		v = p->caller_id_number;
	else if (!strcasecmp(name, "orig_caller_id_name"))
		v = p->orig_caller_id_name;
	else if (!strcasecmp(name, "orig_caller_id_number"))
		v = p->orig_caller_id_number;
	else if (!strcasecmp(name, "callee_id_name"))
		v = p->callee_id_name;
	else if (!strcasecmp(name, "callee_id_number"))
		v = p->callee_id_number;
	else if (!strcasecmp(name, "network_addr"))
		v = p->network_addr;
	else if (!strcasecmp(name, "ani"))
		v = p->ani;
	else if (!strcasecmp(name, "aniii"))
		v = p->aniii;
	else if (!strcasecmp(name, "rdnis"))
		v = p->rdnis;
	else if (!strcasecmp(name, "transfer_source"))
		v = p->transfer_source;
	return str_dup(outp, v ? v : "");
}

/*
 * One `field =~ expression` test plus its time attributes (both must hold).
 * On a match of a test with a capturing group, `cap` keeps what $N needs.
 */
static bool test_eval(struct hunt *h, const struct dp_test *t, const char *xname,
		      enum dp_break brk, struct capture *cap)
{
	const char *chn = channel_name(h->ch);
	struct capture c = {0};
	pcre2_code *re = t->re;
	char *expr = NULL;
	bool ok;
	int rc;

	if (t->time && !dp_time_match(t->time, h->now, h->ch)) {
		log_debug(TXT_TIME, chn, "FAIL", xname, break_names[brk]);
		return false;
	}
	if (t->kind == DP_FIELD_NONE) {
		if (t->time)
			log_debug(TXT_TIME, chn, "PASS", xname, break_names[brk]);
		else
			log_debug(TXT_ABSOLUTE, chn, xname);
		return true;
	}
	if (t->kind == DP_FIELD_EXPAND ? channel_expand(h->ch, t->field, &c.subject) :
	    profile_field(h, t->field, &c.subject))
		return false;
	if (!re) {
		char msg[320];

		if (channel_expand(h->ch, t->expr, &expr) ||
		    dp_regex_compile(&c.own_re, expr, msg, sizeof(msg))) {
			log_err("%s: extension %s: %s\n", chn, xname, expr ? msg : "no memory");
			mem_deref(expr);
			capture_reset(&c);
			return false;
		}
		re = c.own_re;
	}
	c.md = pcre2_match_data_create_from_pattern(re, NULL);
	rc = c.md ? pcre2_match(re, (PCRE2_SPTR)c.subject, strlen(c.subject), 0, 0, c.md,
				NULL) : PCRE2_ERROR_NOMEMORY;
	ok = rc >= 0;
	if (rc < 0 && rc != PCRE2_ERROR_NOMATCH)
		log_err("%s: extension %s: matching /%s/ failed (%d)\n", chn, xname,
			expr ? expr : t->expr, rc);
	log_debug(TXT_REGEX, chn, ok ? "PASS" : "FAIL", xname, t->field, c.subject,
		  expr ? expr : t->expr, break_names[brk]);
	mem_deref(expr);
	if (!ok) {
		pcre2_match_data_free(c.md);
		c.md = NULL;
	}
	c.rc = ok ? rc : 0;
	c.subst = t->captures;
	if (t->captures)
		capture_move(cap, &c);
	capture_reset(&c);
	return ok;
}

static bool cond_eval(struct hunt *h, const struct dp_cond *c, const char *xname,
		      struct capture *cap)
{
	unsigned pass = 0, fail = 0;
	struct le *le;

	if (c->mode == DP_REGEX_SINGLE)
		return test_eval(h, &c->t, xname, c->brk, cap);
	if (c->t.time && !dp_time_match(c->t.time, h->now, h->ch))
		return false;
	for (le = c->regexes.head; le; le = le->next) {
		const struct dp_regex *r = le->data;
		bool ok = test_eval(h, &r->t, xname, c->brk, cap);

		if (ok)
			pass++;
		else
			fail++;
		if (ok && c->mode == DP_REGEX_ANY)
			break;
		if (!ok && c->mode == DP_REGEX_ALL)
			break;
	}
	switch (c->mode) {
	case DP_REGEX_XOR: return pass == 1;
	case DP_REGEX_ALL: return fail == 0;
	default:           return pass > 0;
	}
}

int dp_substitute(char **outp, const char *data, const char *subject, pcre2_match_data *md,
		  int rc)
{
	PCRE2_SIZE *ov = md ? pcre2_get_ovector_pointer(md) : NULL;
	struct mbuf *mb = mbuf_alloc(strlen(data) + 32);
	const char *s = data;
	int err = 0;

	if (!mb)
		return ENOMEM;
	while (*s && !err) {
		const char *d = s + 1;
		bool brace;
		long num = 0;
		int ndig = 0;

		if (*s != '$') {
			err = mbuf_write_u8(mb, (uint8_t)*s++);
			continue;
		}
		brace = *d == '{';
		d += brace;
		while (*d >= '0' && *d <= '9' && ndig < 9) {
			num = num * 10 + (*d++ - '0');
			ndig++;
		}
		if (!ndig || (brace && *d != '}')) {
			err = mbuf_write_u8(mb, '$');
			s++;
			continue;
		}
		s = d + brace;
		if (ov && num < rc && ov[2 * num] != PCRE2_UNSET)
			err = mbuf_write_mem(mb, (const uint8_t *)subject + ov[2 * num],
					     ov[2 * num + 1] - ov[2 * num]);
	}
	if (!err) {
		mb->pos = 0;
		err = mbuf_strdup(mb, outp, mb->end);
	}
	mem_deref(mb);
	return err;
}

static int substitute(char **outp, const char *data, const struct capture *cap)
{
	return dp_substitute(outp, data, cap->subject, cap->md, cap->rc);
}

static void step_destructor(void *data)
{
	struct dp_step *s = data;

	mem_deref(s->app);
	mem_deref(s->data);
}

int dp_step_add(struct list *steps, const char *app, const char *data)
{
	struct dp_step *s = mem_zalloc(sizeof(*s), step_destructor);

	if (!s)
		return ENOMEM;
	if (str_dup(&s->app, app) || str_dup(&s->data, data ? data : "")) {
		mem_deref(s);
		return ENOMEM;
	}
	list_append(steps, &s->le, s);
	return 0;
}

/* Apply a condition's actions or anti-actions: run inline ones, collect the rest. */
static int apply(struct hunt *h, const struct list *actions, bool anti,
		 const struct capture *cap)
{
	struct le *le;
	int err = 0;

	for (le = actions->head; le && !err; le = le->next) {
		const struct dp_action *a = le->data;
		char *data = NULL;
		unsigned i;

		h->found = true;
		/* Anti-actions never see captures: their condition did not match. */
		err = !anti && cap->subst ? substitute(&data, a->data, cap) :
			str_dup(&data, a->data);
		for (i = 0; i < a->loop && !err; i++) {
			log_debug(TXT_ACTION, channel_name(h->ch), anti ? "ANTI-Action" : "Action",
				  a->app, data, a->inl ? "INLINE" : "");
			if (!a->inl) {
				err = dp_step_add(h->steps, a->app, data);
				continue;
			}
			app_execute_now(h->ch, a->app, data);
			if ((h->stop && *h->stop) || !channel_up(h->ch)) {
				h->aborted = true;
				err = ECANCELED;
			}
		}
		mem_deref(data);
	}
	return err;
}

/*
 * The conditions of an extension, or the nested ones of a condition. Returns
 * whether the extension counts as matched ("proceed" in FreeSWITCH), which
 * stops the hunt unless the extension has continue="true".
 */
static bool conds_run(struct hunt *h, const struct list *conds, const char *xname,
		      bool require_nested)
{
	bool proceed = false;
	struct le *le;

	for (le = conds->head; le && !h->aborted; le = le->next) {
		const struct dp_cond *c = le->data;
		struct capture cap = {0};
		bool truth = cond_eval(h, c, xname, &cap);

		proceed = truth;
		if (truth) {
			apply(h, &c->actions, false, &cap);
		} else if (!list_isempty(&c->anti)) {
			/* Anti-actions make the extension the one that runs. */
			apply(h, &c->anti, true, &cap);
			proceed = true;
		}
		capture_reset(&cap);
		if (h->aborted)
			return false;
		if ((truth && c->brk == DP_BREAK_ON_TRUE) ||
		    (!truth && c->brk == DP_BREAK_ON_FALSE) || c->brk == DP_BREAK_ALWAYS)
			break;
		if (proceed && !list_isempty(&c->nested)) {
			proceed = conds_run(h, &c->nested, xname, c->require_nested);
			if (!proceed && c->brk != DP_BREAK_NEVER)
				break;
		}
	}
	return require_nested ? proceed : true;
}

int dp_hunt(const struct dialplan *dp, struct channel *ch, const char *context,
	    const char *exten, struct list *steps, const bool *stop)
{
	struct hunt h = {ch, channel_profile(ch), NULL, NULL, steps, stop, time(NULL),
			 false, false};
	const struct dp_context *ctx;
	struct le *le;

	h.context = context ? context : h.p->context ? h.p->context : "default";
	h.dest = exten ? exten : h.p->destination_number ? h.p->destination_number : "";
	log_info("%s: " TXT_PROCESSING, channel_name(ch),
		 h.p->caller_id_name ? h.p->caller_id_name : "",
		 h.p->caller_id_number ? h.p->caller_id_number : "", h.dest, h.context);
	ctx = dp ? dp_context_find(dp, h.context) : NULL;
	if (!ctx && dp)
		ctx = dp_context_find(dp, "global");
	if (!ctx) {
		log_warn("%s: " TXT_NO_CONTEXT, channel_name(ch), h.context);
		return ENOENT;
	}
	le = ctx->extens.head;
	/* auto_hunt: start at the extension named like the destination. */
	if (channel_var_true(ch, "auto_hunt")) {
		struct le *a;

		for (a = ctx->extens.head; a; a = a->next) {
			const struct dp_exten *x = a->data;

			if (!strcasecmp(x->name, h.dest)) {
				le = a;
				break;
			}
		}
	}
	for (; le; le = le->next) {
		const struct dp_exten *x = le->data;
		bool proceed;

		log_debug(TXT_PARSING, channel_name(ch), h.context, x->name,
			  x->cont ? "true" : "false");
		proceed = conds_run(&h, &x->conds, x->name, true);
		if (h.aborted)
			return ECANCELED;
		if (proceed && !x->cont)
			break;
	}
	return h.found ? 0 : ENOENT;
}

int dialplan_hunt_text(struct dialplan *dp, struct channel *ch, const char *context,
		       const char *exten, char **textp)
{
	struct list steps = LIST_INIT;
	struct mbuf *mb;
	struct le *le;
	int err;

	if (!ch || !textp)
		return EINVAL;
	err = dp_hunt(dp, ch, context, exten, &steps, NULL);
	if (err) {
		list_flush(&steps);
		return err;
	}
	mb = mbuf_alloc(256);
	if (!mb) {
		list_flush(&steps);
		return ENOMEM;
	}
	for (le = steps.head; le && !err; le = le->next) {
		const struct dp_step *s = le->data;

		err = mbuf_printf(mb, "%s(%s)\n", s->app, s->data);
	}
	if (!err) {
		mb->pos = 0;
		err = mbuf_strdup(mb, textp, mb->end);
	}
	mem_deref(mb);
	list_flush(&steps);
	return err;
}
