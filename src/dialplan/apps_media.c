/*
 * apps_media.c - applications that play, listen and record: playback, read,
 * play_and_get_digits, flush_dtmf and record (spec/core.md 6, with FreeSWITCH's
 * mod_dptools and switch_ivr_play_say.c behaviour).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "channel/channel.h"
#include "core/log.h"
#include "core/vars.h"
#include "dialplan/app.h"
#include "dialplan/apps.h"
#include "dialplan/dialplan_int.h"
#include "dialplan/say.h"
#include "media/play.h"

/*
 * FreeSWITCH's words (mod_dptools.c playback_function, switch_ivr_read):
 * current_application_response of playback and read_result's values.
 */
#define RESP_PLAYED        "FILE PLAYED"
#define RESP_NOT_FOUND     "FILE NOT FOUND"
#define RESP_ERROR         "PLAYBACK ERROR"
#define READ_SUCCESS       "success"
#define READ_TIMEOUT       "timeout"
#define READ_FAILURE       "failure"
/* mod_dptools on_dtmf: playback_terminators unset means '*'; "any", "none". */
#define TERMS_DEFAULT      "*"
#define TERMS_ANY          "1234567890*#"
#define MAX_ARGS           12
#define MAX_DIGITS         128
#define DEFAULT_TIMEOUT_MS 5000

/* ---- helpers ------------------------------------------------------------------ */

/* sound_prefix (channel, then global), else sounds_dir. *tmp: mem_deref. */
static const char *prefix_of(struct channel *ch, char **tmp)
{
	const char *v = channel_var(ch, "sound_prefix");

	*tmp = NULL;
	if (v && *v)
		return v;
	*tmp = vars_global_dup("sound_prefix");
	if (!*tmp || !**tmp) {
		*tmp = mem_deref(*tmp);
		*tmp = vars_global_dup("sounds_dir");
	}
	return *tmp;
}

static const char *playback_terms(struct channel *ch)
{
	const char *t = channel_var(ch, "playback_terminators");

	if (!t)
		return TERMS_DEFAULT;
	if (!strcasecmp(t, "none"))
		return "";
	if (!strcasecmp(t, "any"))
		return TERMS_ANY;
	return t;
}

/*
 * Digits typed ahead reach playback and record as they reach FreeSWITCH's
 * on_dtmf: each is consumed, the first terminator stops (true, with
 * playback_terminator_used set) and leaves the rest queued.
 */
static bool queued_terminator(struct channel *ch)
{
	char d, t[2] = {0, 0};

	while (channel_dtmf_pop(ch, &d)) {
		if (strchr(playback_terms(ch), d)) {
			t[0] = d;
			channel_var_set(ch, "playback_terminator_used", t);
			return true;
		}
	}
	return false;
}

/* Play on the channel's stream, pre-answering it first as switch_ivr_play_file does. */
int dp_play(struct channel *ch, const char *file, media_play_done_h *h, void *arg)
{
	struct media_play_opts o = {0};
	char *tmp, *src = NULL;
	int err;

	if (!channel_answered(ch))
		(void)channel_pre_answer(ch);
	/* say:<text> and phrase:<macro>:<data>, as switch_ivr_play_file takes them. */
	err = say_expand(&src, ch, file);
	if (err) {
		log_warn("%s: cannot play %s: %s\n", channel_name(ch), file, strerror(err));
		return err;
	}
	o.prefix = prefix_of(ch, &tmp);
	err = media_play_ex(channel_media(ch), src, &o, h, arg);
	mem_deref(tmp);
	mem_deref(src);
	if (err == ENOENT)
		log_warn("%s: file not found: %s\n", channel_name(ch), file);
	else if (err)
		log_warn("%s: cannot play %s: %s\n", channel_name(ch), file, strerror(err));
	return err;
}

/*
 * Split in place on blanks; '...' and "..." group (the quotes go), as
 * switch_separate_string does. Returns the number of arguments.
 */
static int split_args(char *s, char **argv, int max)
{
	int argc = 0;

	while (*s && argc < max) {
		char *out;

		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		argv[argc++] = out = s;
		while (*s && *s != ' ' && *s != '\t') {
			if (*s == '\'' || *s == '"') {
				char q = *s++;

				while (*s && *s != q)
					*out++ = *s++;
				if (*s)
					s++;
			} else {
				*out++ = *s++;
			}
		}
		if (*s)
			s++;
		*out = '\0';
	}
	return argc;
}

/* ---- playback ------------------------------------------------------------------ */

struct playback {
	struct app_exec *x;
	struct channel *ch;
	struct channel_watch *watch;
	uint64_t start;              /* ms */
	bool playing;
};

static void playback_destructor(void *data)
{
	struct playback *pb = data;

	mem_deref(pb->watch);
	if (pb->playing)
		media_play_stop(channel_media(pb->ch));
}

static void playback_finish(struct playback *pb, bool to_end, uint64_t len_ms,
			    const char *resp)
{
	struct app_exec *x = pb->x;
	uint64_t ms = to_end ? len_ms : tmr_jiffies() - pb->start;

	/* switch_ivr_play_file's accounting, in samples of 8 kHz. */
	channel_var_setf(pb->ch, "playback_ms", "%llu", (unsigned long long)ms);
	channel_var_setf(pb->ch, "playback_samples", "%llu", (unsigned long long)ms * 8);
	channel_var_setf(pb->ch, "playback_seconds", "%llu", (unsigned long long)ms / 1000);
	app_exec_on_cancel(x, NULL, NULL);
	mem_deref(pb);
	app_exec_done(x, resp);
}

/* Stopped by a queued terminator before it played: nothing was heard. */
static void playback_finish_now(struct playback *pb)
{
	channel_var_set(pb->ch, "playback_ms", "0");
	channel_var_set(pb->ch, "playback_samples", "0");
	channel_var_set(pb->ch, "playback_seconds", "0");
	channel_var_set(pb->ch, "current_application_response", RESP_PLAYED);
	mem_deref(pb);
}

static void playback_done(int err, void *arg)
{
	struct playback *pb = arg;

	pb->playing = false;
	/* Speech that could not be synthesised: the call goes on. */
	playback_finish(pb, false, 0, err ? RESP_ERROR : RESP_PLAYED);
}

static void playback_watch(struct channel *ch, enum channel_note note, const char *data,
			   void *arg)
{
	struct playback *pb = arg;

	if (note != CHANNEL_NOTE_DTMF || !data || !*data)
		return;
	/* mod_dptools playback: every digit is read; only terminators stop it. */
	channel_dtmf_take(ch);
	if (!strchr(playback_terms(ch), *data))
		return;
	channel_var_set(ch, "playback_terminator_used", data);
	media_play_stop(channel_media(ch));
	pb->playing = false;
	playback_finish(pb, false, 0, RESP_PLAYED);
}

static void playback_cancel(void *data)
{
	mem_deref(data);
}

int dp_playback_start(struct channel *ch, const char *args, struct app_exec *x)
{
	struct playback *pb;
	int err;

	if (!args || !*args)
		return EINVAL;
	pb = mem_zalloc(sizeof(*pb), playback_destructor);
	if (!pb)
		return ENOMEM;
	pb->x = x;
	pb->ch = ch;
	pb->start = tmr_jiffies();
	channel_var_set(ch, "playback_terminator_used", NULL);
	if (queued_terminator(ch)) {
		playback_finish_now(pb);
		return 0;
	}
	err = dp_play(ch, args, playback_done, pb);
	if (err) {
		mem_deref(pb);
		/* The call goes on; the response says what happened. */
		channel_var_set(ch, "current_application_response",
				err == ENOENT ? RESP_NOT_FOUND : RESP_ERROR);
		return 0;
	}
	pb->playing = true;
	err = channel_watch(&pb->watch, ch, playback_watch, pb);
	if (err) {
		mem_deref(pb);
		return err;
	}
	app_exec_on_cancel(x, playback_cancel, pb);
	return EINPROGRESS;
}

static int app_playback(struct channel *ch, const char *args, struct app_exec *x)
{
	return dp_playback_start(ch, args, x);
}

/* ---- read and play_and_get_digits --------------------------------------------- */

enum collect_state { C_PROMPT, C_WAIT, C_INVALID, C_OVER };

struct collect {
	struct app_exec *x;
	struct channel *ch;
	struct channel_watch *watch;
	struct tmr tmr;
	bool pagd;
	unsigned min, max, tries;
	unsigned timeout_ms, digit_timeout_ms;
	char *buf;                   /* the arguments, split; the pointers below go in */
	const char *terms, *file, *invalid, *var;
	char *transfer;
	char *var_invalid;
	pcre2_code *re;
	enum collect_state st;
	bool playing;
	char digits[MAX_DIGITS + 1];
	size_t n;
	char term;
};

static void collect_destructor(void *data)
{
	struct collect *c = data;

	tmr_cancel(&c->tmr);
	mem_deref(c->watch);
	if (c->playing)
		media_play_stop(channel_media(c->ch));
	pcre2_code_free(c->re);
	mem_deref(c->buf);
	mem_deref(c->transfer);
	mem_deref(c->var_invalid);
}

static void collect_finish(struct collect *c, bool failed)
{
	struct app_exec *x = c->x;
	struct channel *ch = mem_ref(c->ch);
	char *transfer = failed && c->transfer ? mem_ref(c->transfer) : NULL;

	c->st = C_OVER;
	app_exec_on_cancel(x, NULL, NULL);
	mem_deref(c);
	app_exec_done(x, NULL);
	/* After completing: a transfer stops whatever runs on the channel. */
	if (transfer) {
		char *argv[3] = {NULL, NULL, NULL};

		split_args(transfer, argv, 3);
		if (argv[0]) {
			log_info("%s: play_and_get_digits failed, transfer to %s\n",
				 channel_name(ch), argv[0]);
			channel_transfer(ch, argv[0], argv[1], argv[2]);
		}
		mem_deref(transfer);
	}
	mem_deref(ch);
}

static void start_try(struct collect *c);
static void collect_timer(void *arg);

static void arm(struct collect *c)
{
	tmr_start(&c->tmr, c->n ? c->digit_timeout_ms : c->timeout_ms, collect_timer, c);
}

static void invalid_played(int err, void *arg)
{
	struct collect *c = arg;

	c->playing = false;
	if (c->tries)
		start_try(c);
	else
		collect_finish(c, true);
}

static bool regex_ok(const struct collect *c)
{
	pcre2_match_data *md;
	int rc;

	if (!c->re)
		return true;
	md = pcre2_match_data_create_from_pattern(c->re, NULL);
	if (!md)
		return false;
	/* switch_regex_match_partial: a match anywhere; anchors are the pattern's. */
	rc = pcre2_match(c->re, (PCRE2_SPTR)c->digits, c->n, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

/* One attempt ended: by a terminator, enough digits, or the timer. */
static void end_try(struct collect *c, bool timeout)
{
	const char *result;
	bool ok;

	tmr_cancel(&c->tmr);
	c->digits[c->n] = '\0';
	/* switch_ivr_read: too few digits fail; nothing at all before the timer is a timeout. */
	ok = c->n >= c->min;
	result = ok ? READ_SUCCESS : timeout && !c->n ? READ_TIMEOUT : READ_FAILURE;
	channel_var_set(c->ch, "read_result", result);
	if (c->term) {
		char t[2] = {c->term, '\0'};

		channel_var_set(c->ch, "read_terminator_used", t);
	}
	if (c->var)
		channel_var_set(c->ch, c->var, c->n ? c->digits : NULL);
	if (!c->pagd) {
		collect_finish(c, false);
		return;
	}
	/* switch_play_and_get_digits: an empty answer closed by a terminator is one. */
	if (!c->min && !c->n && c->term) {
		collect_finish(c, false);
		return;
	}
	if (ok && c->n) {
		if (regex_ok(c)) {
			collect_finish(c, false);
			return;
		}
		log_debug("%s: play_and_get_digits: %s does not match\n",
			  channel_name(c->ch), c->digits);
	}
	/* A failed try leaves no half answer behind; <var>_invalid has it. */
	if (c->var)
		channel_var_set(c->ch, c->var, NULL);
	if (c->var && c->n)
		channel_var_set(c->ch, c->var_invalid, c->digits);
	c->tries--;
	c->st = C_INVALID;
	if (c->invalid && *c->invalid && !dp_play(c->ch, c->invalid, invalid_played, c)) {
		c->playing = true;
		return;
	}
	invalid_played(0, c);
}

static void collect_timer(void *arg)
{
	end_try(arg, true);
}

static void prompt_played(int err, void *arg)
{
	struct collect *c = arg;

	c->playing = false;
	c->st = C_WAIT;
	arm(c);
}

static void start_try(struct collect *c)
{
	c->n = 0;
	c->term = 0;
	c->st = C_PROMPT;
	if (c->file && *c->file && !dp_play(c->ch, c->file, prompt_played, c)) {
		c->playing = true;
		return;
	}
	prompt_played(0, c);
}

static void collect_digit(struct collect *c, char d)
{
	/* After the last try the invalid prompt plays out, then the application ends. */
	if (c->st == C_INVALID && !c->tries)
		return;
	if (c->playing) {
		/* The caller knows what to dial: the prompt stops at the first key. */
		media_play_stop(channel_media(c->ch));
		c->playing = false;
	}
	if (c->st == C_INVALID) {
		/* A key during the invalid prompt starts the next try. */
		c->n = 0;
		c->term = 0;
	}
	c->st = C_WAIT;
	if (strchr(c->terms, d)) {
		c->term = d;
		end_try(c, false);
		return;
	}
	if (c->n < c->max)
		c->digits[c->n++] = d;
	if (c->n >= c->max) {
		end_try(c, false);
		return;
	}
	arm(c);
}

static void collect_watch(struct channel *ch, enum channel_note note, const char *data,
			  void *arg)
{
	struct collect *c = arg;

	if (note == CHANNEL_NOTE_DTMF && data && *data && c->st != C_OVER) {
		channel_dtmf_take(ch);
		collect_digit(c, *data);
	}
}

/*
 * Typed ahead: the queued digits answer first, as switch_ivr_read takes them
 * from the channel's queue; what is left after the answer stays queued.
 */
static void collect_queued(struct collect *c)
{
	char d;

	mem_ref(c);
	while (c->st != C_OVER && channel_dtmf_pop(c->ch, &d))
		collect_digit(c, d);
	mem_deref(c);
}

static void collect_cancel(void *data)
{
	mem_deref(data);
}

static unsigned arg_uint(const char *s, unsigned dflt)
{
	long v = s && *s ? strtol(s, NULL, 10) : -1;

	return v < 0 ? dflt : (unsigned)v;
}

static int collect_start(struct channel *ch, struct collect *c, struct app_exec *x)
{
	int err;

	c->x = x;
	c->ch = ch;
	if (!c->terms || !*c->terms)
		c->terms = "#";
	else if (!strcasecmp(c->terms, "none"))
		c->terms = "";
	if (!c->timeout_ms)
		c->timeout_ms = DEFAULT_TIMEOUT_MS;
	if (!c->digit_timeout_ms)
		c->digit_timeout_ms = c->timeout_ms;
	if (c->max > MAX_DIGITS)
		c->max = MAX_DIGITS;
	if (c->max < c->min)
		c->max = c->min;
	if (!c->max)
		c->max = 1;
	if (c->var && !*c->var)
		c->var = NULL;
	if (c->var)
		err = re_sdprintf(&c->var_invalid, "%s_invalid", c->var);
	else
		err = 0;
	if (!err)
		err = channel_watch(&c->watch, ch, collect_watch, c);
	if (err)
		return err;
	channel_var_set(ch, "read_terminator_used", NULL);
	app_exec_on_cancel(x, collect_cancel, c);
	start_try(c);
	collect_queued(c);
	return EINPROGRESS;
}

/* read <min> <max> <sound> <var> <timeout_ms> <terminators> */
static int app_read(struct channel *ch, const char *args, struct app_exec *x)
{
	struct collect *c = mem_zalloc(sizeof(*c), collect_destructor);
	char *argv[MAX_ARGS] = {0};
	int argc, err;

	if (!c)
		return ENOMEM;
	tmr_init(&c->tmr);
	err = str_dup(&c->buf, args ? args : "");
	if (err)
		goto fail;
	argc = split_args(c->buf, argv, MAX_ARGS);
	if (argc < 1) {
		log_warn("%s: read: usage: <min> <max> <file> <var> <timeout> <terminators>\n",
			 channel_name(ch));
		err = EINVAL;
		goto fail;
	}
	c->min = arg_uint(argv[0], 0);
	if (c->min < 1)
		c->min = 1;            /* mod_dptools read_function */
	c->max = arg_uint(argv[1], c->min);
	c->file = argv[2];
	c->var = argv[3];
	c->timeout_ms = arg_uint(argv[4], 0);
	c->terms = argv[5];
	c->digit_timeout_ms = arg_uint(argv[6], 0);
	err = collect_start(ch, c, x);
	if (err == EINPROGRESS)
		return err;
 fail:
	mem_deref(c);
	return err;
}

/*
 * play_and_get_digits <min> <max> <tries> <timeout_ms> <terminators> <file>
 *   <invalid_file> <var> <regex> [<digit_timeout> [<transfer_on_fail>]]
 */
static int app_pagd(struct channel *ch, const char *args, struct app_exec *x)
{
	struct collect *c = mem_zalloc(sizeof(*c), collect_destructor);
	char *argv[MAX_ARGS] = {0};
	char errbuf[256];
	int argc, err;

	if (!c)
		return ENOMEM;
	tmr_init(&c->tmr);
	c->pagd = true;
	err = str_dup(&c->buf, args ? args : "");
	if (err)
		goto fail;
	argc = split_args(c->buf, argv, MAX_ARGS);
	if (argc < 8) {
		log_warn("%s: play_and_get_digits: usage: <min> <max> <tries> <timeout> "
			 "<terminators> <file> <invalid_file> <var> <regex> [<digit_timeout>] "
			 "['<failure_ext> [failure_dp [failure_context]]']\n", channel_name(ch));
		err = EINVAL;
		goto fail;
	}
	c->min = arg_uint(argv[0], 0);
	c->max = arg_uint(argv[1], c->min);
	c->tries = arg_uint(argv[2], 1);
	if (!c->tries)
		c->tries = 1;
	c->timeout_ms = arg_uint(argv[3], 0);
	c->terms = argv[4];
	c->file = argv[5];
	c->invalid = argv[6];
	c->var = argv[7];
	c->digit_timeout_ms = arg_uint(argv[9], 0);
	if (argv[10] && *argv[10])
		err = str_dup(&c->transfer, argv[10]);
	if (!err && argv[8] && *argv[8] && dp_regex_compile(&c->re, argv[8], errbuf,
							    sizeof(errbuf))) {
		log_warn("%s: play_and_get_digits: bad regex %s: %s\n", channel_name(ch),
			 argv[8], errbuf);
		err = EINVAL;
	}
	if (err)
		goto fail;
	err = collect_start(ch, c, x);
	if (err == EINPROGRESS)
		return err;
 fail:
	mem_deref(c);
	return err;
}

/* ---- record --------------------------------------------------------------------- */

struct recorder {
	struct app_exec *x;
	struct channel *ch;
	struct channel_watch *watch;
	bool recording;
};

static void recorder_destructor(void *data)
{
	struct recorder *r = data;

	mem_deref(r->watch);
	if (r->recording)
		media_record_stop(channel_media(r->ch));
}

static void recorder_finish(struct recorder *r, uint64_t samples)
{
	struct app_exec *x = r->x;

	r->recording = false;
	channel_var_setf(r->ch, "record_samples", "%llu", (unsigned long long)samples);
	channel_var_setf(r->ch, "record_ms", "%llu", (unsigned long long)samples / 8);
	channel_var_setf(r->ch, "record_seconds", "%llu", (unsigned long long)samples / 8000);
	app_exec_on_cancel(x, NULL, NULL);
	mem_deref(r);
	app_exec_done(x, NULL);
}

static void recorder_done(int err, uint64_t samples, void *arg)
{
	struct recorder *r = arg;

	r->recording = false;
	/* The silence ended it: FreeSWITCH says so in this variable. */
	if (err == ENODATA)
		channel_var_set(r->ch, "silence_hits_exhausted", "true");
	else if (err)
		channel_var_set(r->ch, "record_error", strerror(err));
	recorder_finish(r, samples);
}

static void recorder_watch(struct channel *ch, enum channel_note note, const char *data,
			   void *arg)
{
	struct recorder *r = arg;
	uint64_t n;

	if (note != CHANNEL_NOTE_DTMF || !data || !*data)
		return;
	channel_dtmf_take(ch);
	if (!strchr(playback_terms(ch), *data))
		return;
	channel_var_set(ch, "playback_terminator_used", data);
	n = media_record_stop(channel_media(ch));
	r->recording = false;
	recorder_finish(r, n);
}

static void recorder_cancel(void *data)
{
	mem_deref(data);
}

/* record <path> [<time_limit_secs> [<silence_thresh> [<silence_hits>]]] */
static int app_record(struct channel *ch, const char *args, struct app_exec *x)
{
	char buf[1024], *argv[4] = {0}, *path = NULL, *dir = NULL;
	struct recorder *r;
	unsigned limit, thresh, hits;
	int err;

	if (!args || snprintf(buf, sizeof(buf), "%s", args) >= (int)sizeof(buf) ||
	    split_args(buf, argv, 4) < 1)
		return EINVAL;
	limit = arg_uint(argv[1], 0);
	thresh = arg_uint(argv[2], 0);
	hits = arg_uint(argv[3], 0);
	if (argv[0][0] == '/') {
		err = str_dup(&path, argv[0]);
	} else {
		dir = vars_global_dup("recordings_dir");
		err = re_sdprintf(&path, "%s/%s", dir ? dir : ".", argv[0]);
		mem_deref(dir);
	}
	if (err)
		return err;
	r = mem_zalloc(sizeof(*r), recorder_destructor);
	if (!r) {
		mem_deref(path);
		return ENOMEM;
	}
	r->x = x;
	r->ch = ch;
	if (!channel_answered(ch))
		(void)channel_pre_answer(ch);
	channel_var_set(ch, "record_error", NULL);
	channel_var_set(ch, "silence_hits_exhausted", NULL);
	err = media_record(channel_media(ch), path, limit * 1000, recorder_done, r);
	if (err) {
		/* A recording that cannot be made never ends the call. */
		log_warn("%s: record: cannot record to %s: %s\n", channel_name(ch), path,
			 strerror(err));
		channel_var_set(ch, "record_error", strerror(err));
		mem_deref(path);
		mem_deref(r);
		return 0;
	}
	mem_deref(path);
	r->recording = true;
	/* Cannot fail: the recording just started runs on this stream. */
	if (thresh)
		(void)media_record_silence(channel_media(ch), thresh, hits);
	err = channel_watch(&r->watch, ch, recorder_watch, r);
	if (err) {
		mem_deref(r);
		return err;
	}
	app_exec_on_cancel(x, recorder_cancel, r);
	return EINPROGRESS;
}

/* ---- flush_dtmf ----------------------------------------------------------------- */

/* flush_dtmf: the digits typed ahead go (mod_dptools flush_dtmf_function). */
static int app_flush_dtmf(struct channel *ch, const char *args, struct app_exec *x)
{
	(void)args;
	(void)x;
	channel_dtmf_flush(ch);
	return 0;
}

int apps_media_init(void)
{
	int err = 0;

	err |= app_register("playback", "<path>", app_playback);
	err |= app_register("read", "<min> <max> <file> <var_name> <timeout> <terminators> "
			    "<digit_timeout>", app_read);
	err |= app_register("play_and_get_digits", "<min> <max> <tries> <timeout> "
			    "<terminators> <file> <invalid_file> <var_name> <regexp> "
			    "[<digit_timeout>] ['<failure_ext> [failure_dp [failure_context]]']",
			    app_pagd);
	err |= app_register("flush_dtmf", "", app_flush_dtmf);
	err |= app_register("record", "<path> [<time_limit_secs>] [<silence_thresh>] "
			    "[<silence_hits>]", app_record);
	return err ? EINVAL : 0;
}
