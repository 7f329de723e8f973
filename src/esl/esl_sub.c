/*
 * esl_sub.c - event selection for one event-socket connection: an id bitmap, a
 * set of CUSTOM subclasses and an ordered filter list, matched on every fired
 * event during fan-out, so the common path is a bit test.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <pcre2.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "esl/esl_sub.h"

struct filter {
	struct le le;
	char *header;
	char *value;          /* as given, with its +/- and /regex/ */
	bool negative;
	const char *match;    /* points into value after the sign */
	pcre2_code *re;       /* when match is /regex/ */
};

struct esl_sub {
	bool ids[EVENT_ID_COUNT];      /* ids[EVENT_ALL]: everything */
	bool all_subclasses;           /* from ALL: every CUSTOM subclass */
	char session[64];              /* myevents: only this channel's events */
	struct list subclasses;        /* of struct subclass */
	struct list filters;
};

struct subclass {
	struct le le;
	char name[];
};

static void filter_destructor(void *data)
{
	struct filter *f = data;

	list_unlink(&f->le);
	mem_deref(f->header);
	mem_deref(f->value);
	if (f->re)
		pcre2_code_free(f->re);
}

static void subclass_destructor(void *data)
{
	struct subclass *sc = data;

	list_unlink(&sc->le);
}

static void sub_destructor(void *data)
{
	struct esl_sub *s = data;

	list_flush(&s->subclasses);
	list_flush(&s->filters);
}

int esl_sub_alloc(struct esl_sub **subp)
{
	struct esl_sub *s = mem_zalloc(sizeof(*s), sub_destructor);

	if (!s)
		return ENOMEM;
	*subp = s;
	return 0;
}

static struct subclass *find_subclass(const struct esl_sub *s, const char *name)
{
	struct le *le;

	for (le = s->subclasses.head; le; le = le->next) {
		struct subclass *sc = le->data;

		if (!strcmp(sc->name, name))
			return sc;
	}
	return NULL;
}

static int add_subclass(struct esl_sub *s, const char *name)
{
	size_t n = strlen(name) + 1;
	struct subclass *sc;

	if (find_subclass(s, name))
		return 0;
	sc = mem_zalloc(sizeof(*sc) + n, subclass_destructor);
	if (!sc)
		return ENOMEM;
	memcpy(sc->name, name, n);
	list_append(&s->subclasses, &sc->le, sc);
	return 0;
}

/* Calls h for each space-separated token of `tokens`. */
typedef bool (token_h)(const char *tok, void *arg);
static void each_token(const char *tokens, token_h *h, void *arg)
{
	char tok[256];
	const char *p = tokens;

	while (p && *p) {
		size_t n;

		while (*p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, " \t");
		if (!n)
			break;
		if (n < sizeof(tok)) {
			memcpy(tok, p, n);
			tok[n] = '\0';
			if (!h(tok, arg))
				return;
		}
		p += n;
	}
}

struct event_ctx {
	struct esl_sub *s;
	unsigned count;
	bool custom, first;
	enum event_format *fmtp;
	bool *fmt_given;
};

static bool event_token(const char *tok, void *arg)
{
	struct event_ctx *ctx = arg;
	enum event_id id;
	bool first = ctx->first;

	ctx->first = false;
	if (first && !event_format_parse(tok, ctx->fmtp)) {
		*ctx->fmt_given = true;
		return true;
	}
	/* After CUSTOM every token is a subclass (reference observed.md 3). */
	if (ctx->custom) {
		if (!add_subclass(ctx->s, tok))
			ctx->count++;
		return true;
	}
	if (event_id_parse(tok, &id))
		return true;        /* unknown names are silently ignored */
	ctx->count++;
	ctx->s->ids[id] = true;
	if (id == EVENT_ALL)
		ctx->s->all_subclasses = true;
	if (id == EVENT_CUSTOM)
		ctx->custom = true;
	return true;
}

unsigned esl_sub_event(struct esl_sub *s, const char *tokens, enum event_format *fmtp,
		       bool *fmt_given)
{
	struct event_ctx ctx = {s, 0, false, true, fmtp, fmt_given};

	*fmt_given = false;
	each_token(tokens, event_token, &ctx);
	return ctx.count;
}

struct nix_ctx {
	struct esl_sub *s;
	unsigned count;
	bool custom;
};

static bool nix_token(const char *tok, void *arg)
{
	struct nix_ctx *ctx = arg;
	enum event_id id;
	size_t i;

	if (ctx->custom) {
		struct subclass *sc = find_subclass(ctx->s, tok);

		if (sc) {
			mem_deref(sc);
			ctx->count++;
		}
		return true;
	}
	if (event_id_parse(tok, &id))
		return true;
	ctx->count++;
	/* As mod_event_socket: CUSTOM only switches to subclass names, ALL clears
	 * the ids (not the subclasses), and one id out of ALL leaves the others. */
	if (id == EVENT_CUSTOM) {
		ctx->custom = true;
		return true;
	}
	if (id == EVENT_ALL) {
		memset(ctx->s->ids, 0, sizeof(ctx->s->ids));
		ctx->s->all_subclasses = false;
		return true;
	}
	if (ctx->s->ids[EVENT_ALL]) {
		ctx->s->ids[EVENT_ALL] = false;
		for (i = 0; i < EVENT_ALL; i++)
			ctx->s->ids[i] = true;
	}
	ctx->s->ids[id] = false;
	return true;
}

unsigned esl_sub_nix(struct esl_sub *s, const char *tokens)
{
	struct nix_ctx ctx = {s, 0, false};

	each_token(tokens, nix_token, &ctx);
	return ctx.count;
}

bool esl_sub_any(const struct esl_sub *s)
{
	size_t i;

	for (i = 0; i < EVENT_ID_COUNT; i++) {
		if (s->ids[i])
			return true;
	}
	return s->subclasses.head != NULL;
}

bool esl_sub_clear(struct esl_sub *s)
{
	bool any = esl_sub_any(s);

	memset(s->ids, 0, sizeof(s->ids));
	s->all_subclasses = false;
	list_flush(&s->subclasses);
	return any;
}

static struct filter *find_filter(const struct esl_sub *s, const char *h, const char *v)
{
	struct le *le;

	for (le = s->filters.head; le; le = le->next) {
		struct filter *f = le->data;

		if (!strcasecmp(f->header, h) && (!v || !strcmp(f->value, v)))
			return f;
	}
	return NULL;
}

static int add_filter(struct esl_sub *s, const char *h, const char *v)
{
	struct filter *f = mem_zalloc(sizeof(*f), filter_destructor);
	const char *m;
	int err;

	if (!f)
		return ENOMEM;
	err = str_dup(&f->header, h);
	if (!err)
		err = str_dup(&f->value, v);
	if (err) {
		mem_deref(f);
		return err;
	}
	m = f->value;
	while (*m == ' ')
		m++;
	if (*m == '-' || *m == '+') {
		f->negative = *m == '-';
		m++;
	}
	while (*m == ' ')
		m++;
	f->match = m;
	if (m[0] == '/') {
		size_t n = strlen(m + 1);
		int ec;
		PCRE2_SIZE eo;

		/* "/re/" or "/re": an optional closing slash. */
		if (n && m[n] == '/')
			n--;
		f->re = pcre2_compile((PCRE2_SPTR)m + 1, n, 0, &ec, &eo, NULL);
		if (!f->re) {
			mem_deref(f);
			return EBADMSG;
		}
	}
	list_append(&s->filters, &f->le, f);
	return 0;
}

void esl_sub_filter(struct esl_sub *s, const char *spec, char *reply, size_t size)
{
	char h[256] = "";
	const char *v;
	int n = 0;

	if (!strncasecmp(spec, "delete ", 7)) {
		spec += 7;
		if (sscanf(spec, "%255s%n", h, &n) < 1) {
			snprintf(reply, size, "-ERR invalid syntax");
			return;
		}
		v = spec + n;
		while (*v == ' ')
			v++;
		if (!strcasecmp(h, "all")) {
			list_flush(&s->filters);
			snprintf(reply, size, "+OK filter deleted. [all][]");
			return;
		}
		/* Every filter on that header (with that value, if one is given). */
		for (struct filter *f; (f = find_filter(s, h, *v ? v : NULL));)
			mem_deref(f);
		snprintf(reply, size, "+OK filter deleted. [%s][%s]", h, v);
		return;
	}
	if (!strncasecmp(spec, "add ", 4))
		spec += 4;
	if (sscanf(spec, "%255s%n", h, &n) < 1) {
		snprintf(reply, size, "-ERR invalid syntax");
		return;
	}
	v = spec + n;
	while (*v == ' ')
		v++;
	if (!*v) {
		snprintf(reply, size, "-ERR invalid syntax");
		return;
	}
	switch (add_filter(s, h, v)) {
	case 0:
		break;
	case EBADMSG:
		snprintf(reply, size, "-ERR invalid regex [%s]", v);
		return;
	default:
		snprintf(reply, size, "-ERR memory error");
		return;
	}
	snprintf(reply, size, "+OK filter added. [%s]=[%s]", h, v);
}

static bool filter_hit(const struct filter *f, const char *value)
{
	pcre2_match_data *md;
	int rc;

	if (!f->re)
		return !strcasecmp(f->match, value);
	md = pcre2_match_data_create_from_pattern(f->re, NULL);
	if (!md)
		return false;
	rc = pcre2_match(f->re, (PCRE2_SPTR)value, strlen(value), 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

/* spec/event-socket.md 4.4: any filter makes delivery opt-in. */
static bool filters_pass(const struct esl_sub *s, const struct event *ev)
{
	bool send = false;
	struct le *le;

	for (le = s->filters.head; le; le = le->next) {
		const struct filter *f = le->data;
		const char *v = event_header(ev, f->header);

		if (!v || (send && !f->negative))
			continue;
		if (!filter_hit(f, v))
			continue;
		if (f->negative)
			return false;
		send = true;
	}
	return send;
}

void esl_sub_myevents(struct esl_sub *s, const char *uuid)
{
	/* spec/event-socket.md 4.8: the events a controlling socket follows. */
	static const enum event_id ids[] = {
		EVENT_CHANNEL_ANSWER, EVENT_CHANNEL_APPLICATION, EVENT_CHANNEL_BRIDGE,
		EVENT_CHANNEL_CREATE, EVENT_CHANNEL_DATA, EVENT_CHANNEL_DESTROY,
		EVENT_CHANNEL_EXECUTE, EVENT_CHANNEL_EXECUTE_COMPLETE, EVENT_CHANNEL_HANGUP,
		EVENT_CHANNEL_HANGUP_COMPLETE, EVENT_CHANNEL_ORIGINATE, EVENT_CHANNEL_UUID,
		EVENT_CHANNEL_OUTGOING, EVENT_CHANNEL_PARK, EVENT_CHANNEL_PROGRESS,
		EVENT_CHANNEL_PROGRESS_MEDIA, EVENT_CHANNEL_STATE, EVENT_CHANNEL_UNBRIDGE,
		EVENT_CHANNEL_UNPARK, EVENT_DETECTED_SPEECH, EVENT_DTMF, EVENT_NOTALK,
		EVENT_TALK, EVENT_BACKGROUND_JOB,
	};
	size_t i;

	for (i = 0; i < sizeof(ids) / sizeof(*ids); i++)
		s->ids[ids[i]] = true;
	snprintf(s->session, sizeof(s->session), "%s", uuid);
}

bool esl_sub_match(const struct esl_sub *s, const struct event *ev)
{
	enum event_id id = event_get_id(ev);
	const char *sc;

	if (!s->ids[EVENT_ALL]) {
		if ((unsigned)id >= EVENT_ID_COUNT || !s->ids[id])
			return false;
		sc = event_get_subclass(ev);
		if (id == EVENT_CUSTOM && sc && !s->all_subclasses && !find_subclass(s, sc))
			return false;
	}
	if (s->filters.head && !filters_pass(s, ev))
		return false;
	if (s->session[0]) {
		const char *owner = id == EVENT_BACKGROUND_JOB ?
			event_header(ev, "Job-Owner-UUID") : event_header(ev, "Unique-ID");

		return owner && !strcmp(owner, s->session);
	}
	return true;
}
