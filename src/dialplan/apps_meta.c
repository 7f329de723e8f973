/*
 * apps_meta.c - bind_meta_app and unbind_meta_app: DTMF feature codes (the
 * meta key, then a digit) that run an application on this leg or its partner,
 * as FreeSWITCH's switch_ivr_bind_dtmf_meta_session does.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <re.h>
#include "channel/channel.h"
#include "core/log.h"
#include "dialplan/app.h"
#include "dialplan/apps.h"
#include "dialplan/dialplan_int.h"

/* The keys by index (switch_itodtmf). */
static const char KEYS[] = "0123456789ABCD";

/* A meta key not followed by a digit within this long is forgotten. */
#define META_TIMEOUT_MS 5000

/* FreeSWITCH's texts (mod_dptools.c dtmf_bind_function, switch_ivr_async.c). */
#define BIND_SYNTAX    "<key> [a|b|ab] [a|b|o|s|i|1] <app>"
#define MSG_USAGE      "Usage: " BIND_SYNTAX
#define MSG_MULTI      "Cannot bind execute to multiple legs"
#define MSG_BAD_KEY    "Invalid key"
#define MSG_SAME_META  "Invalid key, same as META CHAR"
#define MSG_BAD_META   "Invalid META KEY %c\n"
#define MSG_BOUND      "Bound %s-Leg: %c%c %s\n"
#define MSG_UNBOUND    "UnBound A-Leg: %s\n"
#define MSG_PROCESS    "%s Processing meta digit '%c' [%s]\n"
#define MSG_UNMAPPED   "%s Ignoring meta digit '%c' not mapped\n"
#define MSG_TIMEOUT    "%s Meta digit timeout parsing %c\n"

/* The channel's two listeners: [0] hears its phone, [1] what goes to it. */
struct meta {
	struct dp_meta_dir dir[2];
};

/* A bound application waiting for the loop to run it. */
struct meta_run {
	struct le le;
	struct tmr tmr;
	struct channel *ch;
	char *name, *args;
};

static struct list runs;

/* switch_dtmftoi for a key: 0-9, A-D (either case) are 0-13; -1 otherwise. */
int dp_meta_key(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'd')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'D')
		return c - 'A' + 10;
	return -1;
}

static bool is_dtmf(char c)
{
	return dp_meta_key(c) >= 0 || c == '*' || c == '#';
}

/* Respond-on letters; the first of a, b, o, s wins, as in mod_dptools. */
static void parse_respond(const char *s, struct dp_meta_spec *sp)
{
	static const struct { char c; enum dp_meta_leg on; } legs[] = {
		{'a', DP_META_ALEG}, {'b', DP_META_BLEG},
		{'o', DP_META_OPPOSITE}, {'s', DP_META_SAME},
	};
	bool set = false;
	size_t i;

	sp->bind.on = DP_META_ALEG;
	for (i = 0; i < sizeof(legs) / sizeof(legs[0]); i++) {
		if (!strchr(s, legs[i].c))
			continue;
		if (set)
			sp->multi = true;
		else
			sp->bind.on = legs[i].on;
		set = true;
	}
	sp->bind.inline_exec = strchr(s, 'i') != NULL;
	sp->bind.once = strchr(s, '1') != NULL;
}

int dp_meta_parse(const char *args, char meta, struct dp_meta_spec *sp, const char **why)
{
	char key[8] = "", listen[8] = "", respond[16] = "";
	int n = 0;

	memset(sp, 0, sizeof(*sp));
	if (!args || sscanf(args, "%7s %7s %15s %n", key, listen, respond, &n) < 3 || !n ||
	    !args[n]) {
		*why = MSG_USAGE;
		return EINVAL;
	}
	sp->key = strlen(key) == 1 ? dp_meta_key(key[0]) : -1;
	if (sp->key < 0) {
		*why = MSG_BAD_KEY;
		return EINVAL;
	}
	if (key[0] == meta) {
		*why = MSG_SAME_META;
		return EINVAL;
	}
	sp->listen_a = strchr(listen, 'a') != NULL;
	sp->listen_b = strchr(listen, 'b') != NULL;
	parse_respond(respond, sp);
	sp->bind.app = (char *)args + n;
	return 0;
}

/* switch_ivr_async.c meta_on_dtmf, one direction. */
enum dp_meta_verdict dp_meta_digit(struct dp_meta_dir *d, char digit, uint64_t now_ms,
				   struct dp_meta_bind **bp)
{
	int k;

	if (!d->meta)
		return DP_META_PASS;
	if (d->armed && now_ms - d->last_ms > META_TIMEOUT_MS) {
		d->armed = false;
		return DP_META_TIMEOUT;
	}
	d->last_ms = now_ms;
	if (digit == d->meta) {
		/* The meta key twice sends it on once. */
		d->armed = !d->armed;
		return d->armed ? DP_META_ARMED : DP_META_PASS;
	}
	if (!d->armed)
		return DP_META_PASS;
	d->armed = false;
	k = dp_meta_key(digit);
	if (k < 0 || !d->map[k].app)
		return DP_META_UNMAPPED;
	*bp = &d->map[k];
	return DP_META_RUN;
}

static void bind_clear(struct dp_meta_bind *b)
{
	b->app = mem_deref(b->app);
}

static void meta_destructor(void *data)
{
	struct meta *m = data;
	unsigned d, k;

	for (d = 0; d < 2; d++)
		for (k = 0; k < DP_META_KEYS; k++)
			bind_clear(&m->dir[d].map[k]);
}

static void run_destructor(void *data)
{
	struct meta_run *r = data;

	tmr_cancel(&r->tmr);
	list_unlink(&r->le);
	mem_deref(r->ch);
	mem_deref(r->name);
	mem_deref(r->args);
}

static void run_now(struct channel *ch, const char *name, const char *args)
{
	if (channel_up(ch))
		(void)app_execute(ch, name, args, NULL, NULL, NULL);
}

static void run_timer(void *arg)
{
	struct meta_run *r = arg;

	list_unlink(&r->le);
	run_now(r->ch, r->name, r->args);
	mem_deref(r);
}

/* switch_ivr_broadcast: "app::args" runs app with args, anything else is played. */
static int split_app(const char *spec, char **namep, char **argsp)
{
	const char *sep = strstr(spec, "::");

	if (sep)
		return re_sdprintf(namep, "%b", spec, (size_t)(sep - spec)) ||
			str_dup(argsp, sep + 2) ? ENOMEM : 0;
	return str_dup(namep, "playback") || str_dup(argsp, spec) ? ENOMEM : 0;
}

/* Run the binding's application on the leg it names; heard_b: the partner pressed it. */
static void meta_exec(struct channel *ch, const struct dp_meta_bind *b, bool heard_b)
{
	struct channel *target = ch;
	char *name = NULL, *args = NULL;
	struct meta_run *r;

	if (b->on == DP_META_BLEG || (b->on == DP_META_OPPOSITE && !heard_b) ||
	    (b->on == DP_META_SAME && heard_b))
		target = channel_partner(ch);
	if (!target) {
		log_warn("%s: meta application %s: no B-leg present\n", channel_name(ch), b->app);
		return;
	}
	if (split_app(b->app, &name, &args))
		goto out;
	if (b->inline_exec) {
		run_now(target, name, args);
		goto out;
	}
	/* Like a queued execute: after the DTMF is handled, from the loop. */
	r = mem_zalloc(sizeof(*r), run_destructor);
	if (!r)
		goto out;
	tmr_init(&r->tmr);
	r->ch = mem_ref(target);
	r->name = name;
	r->args = args;
	name = args = NULL;
	list_append(&runs, &r->le, r);
	tmr_start(&r->tmr, 0, run_timer, r);
 out:
	mem_deref(name);
	mem_deref(args);
}

/* The channel's DTMF filter: true swallows the digit. */
static bool meta_filter(struct channel *ch, char digit, bool to_phone, void *arg)
{
	struct meta *m = arg;
	struct dp_meta_bind *b = NULL, run;

	switch (dp_meta_digit(&m->dir[to_phone ? 1 : 0], digit, tmr_jiffies(), &b)) {
	case DP_META_PASS:
		return false;
	case DP_META_TIMEOUT:
		log_info(MSG_TIMEOUT, channel_name(ch), digit);
		return false;
	case DP_META_ARMED:
		return true;
	case DP_META_UNMAPPED:
		log_warn(MSG_UNMAPPED, channel_name(ch), digit);
		return true;
	case DP_META_RUN:
		break;
	}
	log_info(MSG_PROCESS, channel_name(ch), digit, b->app);
	/* The application may unbind (or replace) this very binding as it runs. */
	run = *b;
	run.app = mem_ref(b->app);
	if (b->once)
		bind_clear(b);
	mem_ref(m);
	meta_exec(ch, &run, to_phone);
	mem_deref(run.app);
	mem_deref(m);
	return true;
}

static struct meta *meta_of(struct channel *ch)
{
	struct meta *m = channel_dtmf_filter_arg(ch, meta_filter);

	if (m)
		return m;
	m = mem_zalloc(sizeof(*m), meta_destructor);
	if (!m)
		return NULL;
	channel_set_dtmf_filter(ch, meta_filter, m);
	mem_deref(m);                 /* the channel holds it */
	return m;
}

/* bind_meta_app's meta key: the channel's bind_meta_key, '*' by default. */
static char meta_key(struct channel *ch)
{
	const char *v = channel_var(ch, "bind_meta_key");

	if (v && *v && !is_dtmf(*v)) {
		log_warn(MSG_BAD_META, *v);
		return '*';
	}
	return v && *v ? *v : '*';
}

static int bind_dir(struct dp_meta_dir *d, int k, char meta, const struct dp_meta_bind *b)
{
	bind_clear(&d->map[k]);
	d->map[k] = *b;
	d->map[k].app = NULL;
	d->meta = meta;
	return str_dup(&d->map[k].app, b->app);
}

/* bind_meta_app <key> <a|b|ab> <a|b|o|s|i|1> <application[::parameters]> */
static int app_bind_meta(struct channel *ch, const char *args, struct app_exec *x)
{
	char meta = meta_key(ch);
	struct dp_meta_spec sp;
	const char *why = NULL;
	struct meta *m;
	int err = 0;

	(void)x;
	if (dp_meta_parse(args, meta, &sp, &why)) {
		log_err("%s: bind_meta_app '%s': %s\n", channel_name(ch), args, why);
		return EINVAL;
	}
	if (sp.multi)
		log_err("%s: bind_meta_app '%s': " MSG_MULTI "\n", channel_name(ch), args);
	if (!sp.listen_a && !sp.listen_b)
		log_warn("%s: bind_meta_app '%s': listens to neither a nor b\n",
			 channel_name(ch), args);
	m = meta_of(ch);
	if (!m)
		return ENOMEM;
	if (sp.listen_a) {
		err |= bind_dir(&m->dir[0], sp.key, meta, &sp.bind);
		log_info(MSG_BOUND, "A", meta, KEYS[sp.key], sp.bind.app);
	}
	if (sp.listen_b) {
		err |= bind_dir(&m->dir[1], sp.key, meta, &sp.bind);
		log_info(MSG_BOUND, "B", meta, KEYS[sp.key], sp.bind.app);
	}
	return err ? ENOMEM : 0;
}

/*
 * unbind_meta_app [<key>]: that key, or every binding (the meta key is then
 * free again). Key 0 means all, as switch_dtmftoi gives 0 for "no key".
 */
static int app_unbind_meta(struct channel *ch, const char *args, struct app_exec *x)
{
	struct meta *m = channel_dtmf_filter_arg(ch, meta_filter);
	int k;

	(void)x;
	while (*args == ' ')
		args++;
	k = !*args ? 0 : args[1] && args[1] != ' ' ? -1 : dp_meta_key(*args);
	if (!k) {
		log_info(MSG_UNBOUND, "ALL");
		if (m)
			channel_set_dtmf_filter(ch, NULL, NULL);
		return 0;
	}
	if (k < 0 || !m) {
		log_err("%s: unbind_meta_app '%s': " MSG_BAD_KEY "\n", channel_name(ch), args);
		return EINVAL;
	}
	bind_clear(&m->dir[0].map[k]);
	bind_clear(&m->dir[1].map[k]);
	log_info(MSG_UNBOUND, args);
	return 0;
}

int apps_meta_init(void)
{
	int err = 0;

	list_init(&runs);
	err |= app_register("bind_meta_app", BIND_SYNTAX, app_bind_meta);
	err |= app_register("unbind_meta_app", "[<key>]", app_unbind_meta);
	return err ? EINVAL : 0;
}

void apps_meta_close(void)
{
	list_flush(&runs);
}
