/*
 * dialplan_int.h - the compiled dialplan's layout and the calls the dialplan's
 * own files (loader, time conditions, hunter, runner, flow applications) share.
 */
#ifndef CONFAB_DIALPLAN_INT_H
#define CONFAB_DIALPLAN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <re.h>
#include "dialplan/dialplan.h"
#include "media/play.h"

struct channel;
struct xml_node;

/* <condition break="...">; on-false is FreeSWITCH's default. */
enum dp_break { DP_BREAK_ON_FALSE, DP_BREAK_ON_TRUE, DP_BREAK_ALWAYS, DP_BREAK_NEVER };

/* <condition regex="...">: SINGLE is a condition without the attribute. */
enum dp_regex_mode { DP_REGEX_SINGLE, DP_REGEX_ALL, DP_REGEX_ANY, DP_REGEX_XOR };

/* Where a condition's field comes from. */
enum dp_field_kind {
	DP_FIELD_NONE,       /* no field: the test is only the time, or always true */
	DP_FIELD_PROFILE,    /* a caller-profile field name */
	DP_FIELD_EXPAND,     /* contains '$': expanded with the channel's variables */
};

/* Time-of-call attributes (wday, hour, time-of-day ...), compiled. */
struct dp_time;

/* One `field =~ expression` test, with the time attributes of its element. */
struct dp_test {
	enum dp_field_kind kind;
	char *field;             /* as written; NULL for DP_FIELD_NONE */
	char *expr;              /* as written ("" when absent) */
	pcre2_code *re;          /* NULL when expr holds ${} and compiles per hunt */
	bool captures;           /* expr has '(': actions get $N substituted */
	struct dp_time *time;    /* NULL: no time attributes */
};

struct dp_action {
	struct le le;
	char *app;
	char *data;              /* "" when none */
	bool inl;                /* inline="true": runs while hunting */
	unsigned loop;           /* loop="N": added N times */
};

struct dp_regex {
	struct le le;
	struct dp_test t;
};

struct dp_cond {
	struct le le;
	struct dp_test t;
	enum dp_break brk;
	enum dp_regex_mode mode;
	struct list regexes;     /* struct dp_regex, for regex="all|any|xor" */
	struct list actions;     /* struct dp_action */
	struct list anti;        /* struct dp_action */
	struct list nested;      /* struct dp_cond */
	bool require_nested;     /* require-nested (default true) */
};

struct dp_exten {
	struct le le;
	char *name;
	bool cont;               /* continue="true" */
	struct list conds;       /* struct dp_cond */
};

struct dp_context {
	struct le le;
	char *name;
	struct list extens;      /* struct dp_exten */
};

struct dialplan {
	struct list contexts;    /* struct dp_context */
	size_t nexten;
};

/* One action a hunt collected: what the runner executes. */
struct dp_step {
	struct le le;
	char *app;
	char *data;              /* $N substituted; ${vars} still to expand */
};

/* dialplan_load.c */
int  dp_regex_compile(pcre2_code **rep, const char *expr, char *err, size_t errsz);
bool dp_app_inline_ok(const char *app);
const struct dp_context *dp_context_find(const struct dialplan *dp, const char *name);

/* dialplan_time.c: NULL *tp when `n` has no time attributes. */
int  dp_time_compile(struct dp_time **tp, const struct xml_node *n, char *err,
		     size_t errsz);
/* 1 when `now` (in the channel's tod_tz_offset, or local time) matches. */
bool dp_time_match(const struct dp_time *t, time_t now, struct channel *ch);

/*
 * dialplan_hunt.c: hunt `exten` in `context` of `dp` for `ch`, appending
 * struct dp_step to `steps`. Inline actions run on `ch` during the hunt; a
 * hunt aborts early (ECANCELED) when `stop` becomes true under it. Returns 0
 * when an extension matched, ENOENT when none did.
 */
int  dp_hunt(const struct dialplan *dp, struct channel *ch, const char *context,
	     const char *exten, struct list *steps, const bool *stop);
int  dp_step_add(struct list *steps, const char *app, const char *data);
/*
 * FreeSWITCH's switch_perform_substitution: $N and ${N} in `data` become
 * capture N of `md` over `subject` (rc: pcre2_match's result; empty when it
 * did not participate, or md is NULL); a '$' not followed by a number stays.
 */
int  dp_substitute(char **outp, const char *data, const char *subject,
		   pcre2_match_data *md, int rc);
/* A caller-profile field name a condition may test (case-insensitive). */
bool dp_profile_field_known(const char *name);

/*
 * apps_media.c: what playback does with `source` (terminators, playback_ms,
 * current_application_response), for the speech applications.
 */
struct app_exec;
int  dp_playback_start(struct channel *ch, const char *source, struct app_exec *x);
/*
 * Play `file` (a path under the sound prefix, say:, phrase:, tone_stream://,
 * tts:// ...) on `ch`, pre-answering it; `h` runs when it ends, never after
 * media_play_stop(). A failure is logged and returned; `h` is not called then.
 */
int  dp_play(struct channel *ch, const char *file, media_play_done_h *h, void *arg);

/* apps_flow.c */
int  apps_flow_init(void);
void apps_flow_close(void);

/*
 * apps_meta.c: bind_meta_app's listener for one direction of a channel's DTMF
 * (what its phone sends, or what is sent to it from the partner), as
 * FreeSWITCH's switch_ivr_async.c keeps it. Keys 0-9 and A-D index `map`.
 */
#define DP_META_KEYS 14
enum dp_meta_leg { DP_META_ALEG, DP_META_BLEG, DP_META_SAME, DP_META_OPPOSITE };

struct dp_meta_bind {
	char *app;               /* "application::parameters", or a file to play */
	enum dp_meta_leg on;
	bool inline_exec;        /* flag i */
	bool once;               /* flag 1 */
};

struct dp_meta_dir {
	char meta;               /* '\0': not listening */
	bool armed;              /* the meta key was pressed */
	uint64_t last_ms;
	struct dp_meta_bind map[DP_META_KEYS];
};

/* What one digit does: PASS and TIMEOUT let it through, the others swallow it. */
enum dp_meta_verdict { DP_META_PASS, DP_META_TIMEOUT, DP_META_ARMED, DP_META_RUN,
		       DP_META_UNMAPPED };

/* A parsed "<key> <listen> <respond> <app>"; app points into the arguments. */
struct dp_meta_spec {
	int key;
	bool listen_a, listen_b;
	bool multi;              /* respond-on named two legs: the first is used */
	struct dp_meta_bind bind;
};

int  dp_meta_key(char c);
/* EINVAL with *why one of the texts FreeSWITCH logs for the mistake. */
int  dp_meta_parse(const char *args, char meta, struct dp_meta_spec *s, const char **why);
/* With DP_META_RUN, *bp is the binding to run (its `once` is for the caller). */
enum dp_meta_verdict dp_meta_digit(struct dp_meta_dir *d, char digit, uint64_t now_ms,
				   struct dp_meta_bind **bp);

/* dialplan.c: the transfer and execute_extension applications. */
int  dp_apps_register(void);

#endif
