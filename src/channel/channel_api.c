/*
 * channel_api.c - the API commands that act on channels: originate, uuid_*,
 * hupall, and the rows of `show channels` / `show calls`, with FreeSWITCH's
 * output texts (spec/core.md 2, 4; reference observed.md 17).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <re.h>
#include "channel/bridge.h"
#include "channel/channel_api.h"
#include "channel/channel_int.h"
#include "channel/originate.h"
#include "core/api.h"
#include "core/api_core.h"
#include "core/log.h"
#include "dialplan/app.h"
#include "media/play.h"

#define NO_CHANNEL "-ERR No such channel!\n"
#define MAX_ARGS 8

/*
 * Split on blanks, keeping {..} [..] (..) and '..' together: a dial string may
 * hold blanks in its variables and &app(args) in its arguments. Writes NULs
 * into `buf` (and drops the quotes); returns the number of words.
 */
static int split_args(char *buf, char **argv, int max)
{
	int argc = 0;
	char *p = buf, *w;

	while (*p && argc < max) {
		int depth = 0;
		bool quoted = false;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		argv[argc++] = w = p;
		for (; *p; p++) {
			if (*p == '\'') {
				quoted = !quoted;
				continue;
			}
			if (!quoted && (*p == '{' || *p == '[' || *p == '('))
				depth++;
			else if (!quoted && (*p == '}' || *p == ']' || *p == ')') && depth)
				depth--;
			else if (!quoted && !depth && (*p == ' ' || *p == '\t'))
				break;
			*w++ = *p;
		}
		if (*p)
			p++;
		*w = '\0';
	}
	return argc;
}

/* One `originate` in flight: its API call finishes when the leg answers. */
struct orig_cmd {
	struct api_call *call;
	struct originate *orig;
	char *app, *app_args;
	char *exten, *dialplan, *context;
};

static void orig_cmd_destructor(void *data)
{
	struct orig_cmd *oc = data;

	mem_deref(oc->app);
	mem_deref(oc->app_args);
	mem_deref(oc->exten);
	mem_deref(oc->dialplan);
	mem_deref(oc->context);
}

/*
 * originate's &app(): nothing follows the application, so the leg ends with
 * it - unless a transfer broke it off (ECANCELED): the dialplan has the leg now.
 */
static void one_shot_done(struct channel *ch, int err, void *arg)
{
	(void)arg;
	if (err != ECANCELED && channel_up(ch))
		channel_hangup(ch, CAUSE_NORMAL_CLEARING);
}

static void orig_done(enum hangup_cause cause, struct channel *leg, void *arg)
{
	struct orig_cmd *oc = arg;

	oc->orig = mem_deref(oc->orig);
	if (!leg) {
		api_printf(oc->call, "-ERR %s\n", cause_name(cause));
	} else {
		api_printf(oc->call, "+OK %s\n", channel_uuid(leg));
		if (oc->app)
			app_execute(leg, oc->app, oc->app_args, NULL, one_shot_done, NULL);
		else
			channel_transfer(leg, oc->exten, oc->dialplan, oc->context);
	}
	api_finish(oc->call);
	mem_deref(oc);
}

static const char *opt_arg(char **argv, int argc, int i)
{
	return i < argc && strcmp(argv[i], "undef") ? argv[i] : NULL;
}

static int cmd_originate(struct api_call *call, const char *args)
{
	struct originate_opts opts = {0};
	struct orig_cmd *oc;
	char *buf = NULL, *argv[MAX_ARGS];
	int argc, err;

	if (str_dup(&buf, args))
		return ENOMEM;
	argc = split_args(buf, argv, MAX_ARGS);
	if (argc < 2 || argc > 7) {
		mem_deref(buf);
		return api_usage(call);
	}
	oc = mem_zalloc(sizeof(*oc), orig_cmd_destructor);
	if (!oc) {
		mem_deref(buf);
		return ENOMEM;
	}
	oc->call = call;
	if (argv[1][0] == '&')
		err = app_parse_inline(argv[1], &oc->app, &oc->app_args);
	else
		err = str_dup(&oc->exten, argv[1]);
	if (!err && opt_arg(argv, argc, 2))
		err = str_dup(&oc->dialplan, argv[2]);
	if (!err && opt_arg(argv, argc, 3))
		err = str_dup(&oc->context, argv[3]);
	opts.cid_name = opt_arg(argv, argc, 4);
	opts.cid_num = opt_arg(argv, argc, 5);
	opts.timeout_s = opt_arg(argv, argc, 6) ? (unsigned)atoi(argv[6]) : 0;
	if (!err && oc->app && !app_exists(oc->app)) {
		api_printf(call, "-ERR Invalid Application %s\n", oc->app);
		mem_deref(oc);
		mem_deref(buf);
		return 0;
	}
	if (!err)
		err = originate_start(&oc->orig, argv[0], &opts, orig_done, oc);
	mem_deref(buf);
	if (err == EINVAL) {
		mem_deref(oc);
		return api_usage(call);
	}
	if (err) {
		mem_deref(oc);
		return err;
	}
	/* orig_done may already have run (an error/ endpoint fails at once). */
	return EINPROGRESS;
}

static struct channel *find_arg(const char *args, char *rest, size_t restsz)
{
	char uuid[64] = "";
	int n = 0;

	if (!args || sscanf(args, "%63s%n", uuid, &n) < 1)
		return NULL;
	if (rest) {
		const char *r = args + n;

		while (*r == ' ')
			r++;
		snprintf(rest, restsz, "%s", r);
	}
	return channel_find(uuid);
}

static int cmd_uuid_kill(struct api_call *call, const char *args)
{
	char rest[64];
	struct channel *ch = find_arg(args, rest, sizeof(rest));
	enum hangup_cause cause = CAUSE_NORMAL_CLEARING;

	if (!args || !*args)
		return api_usage(call);
	if (!ch)
		return api_printf(call, NO_CHANNEL);
	if (*rest && cause_parse(rest, &cause))
		cause = CAUSE_NORMAL_CLEARING;
	channel_hangup(ch, cause);
	return api_printf(call, "+OK\n");
}

static int cmd_uuid_getvar(struct api_call *call, const char *args)
{
	char rest[256];
	struct channel *ch = find_arg(args, rest, sizeof(rest));
	const char *v;

	if (!args || !*args)
		return api_usage(call);
	if (!ch)
		return api_printf(call, NO_CHANNEL);
	/* As switch_channel_get_variable(): caller-profile fields ("ani") answer too. */
	v = channel_var_lookup(ch, rest);
	return api_printf(call, "%s", v ? v : "_undef_");
}

static int cmd_uuid_setvar(struct api_call *call, const char *args)
{
	char rest[1024], name[256] = "";
	struct channel *ch = find_arg(args, rest, sizeof(rest));
	int n = 0;

	if (!args || !*args || sscanf(rest, "%255s%n", name, &n) < 1)
		return api_usage(call);
	if (!ch)
		return api_printf(call, NO_CHANNEL);
	while (rest[n] == ' ')
		n++;
	channel_var_set(ch, name, rest + n);
	return api_printf(call, "+OK\n");
}

static int cmd_uuid_setvar_multi(struct api_call *call, const char *args)
{
	char rest[2048], *p, *save = NULL;
	struct channel *ch = find_arg(args, rest, sizeof(rest));

	if (!args || !*args || !*rest)
		return api_usage(call);
	if (!ch)
		return api_printf(call, NO_CHANNEL);
	for (p = strtok_r(rest, ";", &save); p; p = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(p, '=');

		if (eq) {
			*eq = '\0';
			channel_var_set(ch, p, eq + 1);
		}
	}
	return api_printf(call, "+OK\n");
}

static int cmd_uuid_exists(struct api_call *call, const char *args)
{
	return api_printf(call, "%s", find_arg(args, NULL, 0) ? "true" : "false");
}

static int cmd_uuid_answer(struct api_call *call, const char *args)
{
	struct channel *ch = find_arg(args, NULL, 0);

	if (!args || !*args)
		return api_usage(call);
	if (!ch)
		return api_printf(call, NO_CHANNEL);
	return api_printf(call, channel_answer(ch) ? "-ERR\n" : "+OK\n");
}

static void uuid_bridge_ended(struct channel *gone, struct channel *other,
			      enum hangup_cause cause, void *arg)
{
	struct bridge **brp = arg;

	/* Either side leaving ends the call for the other too. */
	if (other)
		channel_hangup(other, cause);
	*brp = mem_deref(*brp);
	free(brp);
}

static int cmd_uuid_bridge(struct api_call *call, const char *args)
{
	char rest[64] = "";
	struct channel *a = find_arg(args, rest, sizeof(rest));
	struct channel *b = channel_find(rest);
	struct bridge **brp;

	if (!args || !*rest)
		return api_usage(call);
	if (!a || !b || a == b)
		return api_printf(call, "-ERR Invalid uuid\n");
	brp = calloc(1, sizeof(*brp));
	if (!brp)
		return ENOMEM;
	if (channel_bridge(brp, a, b, uuid_bridge_ended, brp)) {
		free(brp);
		return api_printf(call, "-ERR Invalid uuid\n");
	}
	return api_printf(call, "+OK %s\n", channel_uuid(b));
}

static int cmd_uuid_transfer(struct api_call *call, const char *args)
{
	char rest[512], exten[128] = "", dp[64] = "", ctx[128] = "";
	struct channel *ch = find_arg(args, rest, sizeof(rest));
	struct channel *partner;
	const char *r = rest;

	if (!args || !*args || !*rest)
		return api_usage(call);
	if (!ch)
		return api_printf(call, NO_CHANNEL);
	if (!strncmp(r, "-bleg ", 6) || !strncmp(r, "-both ", 6)) {
		bool both = r[1] == 'b' && r[2] == 'o';

		r += 6;
		if (sscanf(r, "%127s %63s %127s", exten, dp, ctx) < 1)
			return api_usage(call);
		partner = channel_partner(ch);
		if (!partner && !both)
			return api_printf(call, "-ERR No B-leg present\n");
		if (both)
			channel_transfer_both(ch, partner, exten, *dp ? dp : NULL,
					      *ctx ? ctx : NULL);
		else
			channel_transfer(partner, exten, *dp ? dp : NULL, *ctx ? ctx : NULL);
		return api_printf(call, "+OK\n");
	}
	if (sscanf(r, "%127s %63s %127s", exten, dp, ctx) < 1)
		return api_usage(call);
	channel_transfer(ch, exten, *dp ? dp : NULL, *ctx ? ctx : NULL);
	return api_printf(call, "+OK\n");
}

static int cmd_uuid_send_dtmf(struct api_call *call, const char *args)
{
	char rest[128], digits[64] = "";
	struct channel *ch = find_arg(args, rest, sizeof(rest));
	unsigned ms = 100;
	char *at;

	if (!args || !*args || sscanf(rest, "%63s", digits) < 1)
		return api_usage(call);
	if (!ch)
		return api_printf(call, NO_CHANNEL);
	/* "123@200": digits with their duration in ms. */
	at = strchr(digits, '@');
	if (at) {
		*at = '\0';
		ms = (unsigned)atoi(at + 1);
	}
	return api_printf(call, channel_send_dtmf(ch, digits, ms ? ms : 100) ?
			  "-ERR\n" : "+OK Success\n");
}

/*
 * uuid_fileman <uuid> <cmd>:<val>: file control of what plays on the channel
 * (media_fctl_parse). As mod_commands, +OK once the channel is found: whether
 * anything plays, or the command meant anything, is not reported.
 */
static int cmd_uuid_fileman(struct api_call *call, const char *args)
{
	char rest[128], cmd[64] = "";
	struct channel *ch = find_arg(args, rest, sizeof(rest));
	struct media_fctl_cmd fc;

	if (!args || !*args || sscanf(rest, "%63s", cmd) < 1)
		return api_usage(call);
	if (!ch)
		return api_printf(call, NO_CHANNEL);
	if (!media_fctl_parse(cmd, &fc) && channel_media(ch)) {
		/* stop and truncate end it as if played out: the application goes on. */
		if (fc.op == MEDIA_FCTL_TRUNCATE)
			fc.op = MEDIA_FCTL_STOP;
		(void)media_play_control(channel_media(ch), &fc);
	}
	return api_printf(call, "+OK\n");
}

struct hupall_ctx {
	enum hangup_cause cause;
	const char *var, *val;
};

static void hup_one(struct channel *ch, void *arg)
{
	struct hupall_ctx *h = arg;
	const char *v;

	if (h->var) {
		v = channel_var_lookup(ch, h->var);
		if (!v || strcmp(v, h->val ? h->val : ""))
			return;
	}
	channel_hangup(ch, h->cause);
}

static int cmd_hupall(struct api_call *call, const char *args)
{
	char c[64] = "", var[128] = "", val[256] = "";
	struct hupall_ctx h = {CAUSE_MANAGER_REQUEST, NULL, NULL};
	int n = args ? sscanf(args, "%63s %127s %255s", c, var, val) : 0;

	if (n >= 1 && cause_parse(c, &h.cause))
		h.cause = CAUSE_MANAGER_REQUEST;
	if (n >= 2) {
		h.var = var;
		h.val = val;
	}
	channel_foreach(hup_one, &h);
	if (h.var)
		return api_printf(call, "+OK hangup all channels matching [%s]=[%s] with "
				  "cause: %s\n", var, val, cause_name(h.cause));
	return api_printf(call, "+OK hangup all channels with cause %s\n",
			  cause_name(h.cause));
}

static int uuid_expand(const char *uuid, const char *in, char **outp)
{
	struct channel *ch = channel_find(uuid);

	return ch ? channel_expand(ch, in, outp) : ENOENT;
}

int channel_api_init(void)
{
	static const struct api_def cmds[] = {
		{"originate", "<call url> <exten>|&<application_name>(<app_args>) "
			      "[<dialplan>] [<context>] [<cid_name>] [<cid_num>] "
			      "[<timeout_sec>]", "Originate a call", cmd_originate},
		{"uuid_kill", "<uuid> [cause]", "Kill channel", cmd_uuid_kill},
		{"uuid_getvar", "<uuid> <var>", "Get a variable from a channel",
		 cmd_uuid_getvar},
		{"uuid_setvar", "<uuid> <var> [value]", "Set a variable", cmd_uuid_setvar},
		{"uuid_setvar_multi", "<uuid> <var>=<value>;<var>=<value>...",
		 "Set multiple variables", cmd_uuid_setvar_multi},
		{"uuid_exists", "<uuid>", "Check if a uuid exists", cmd_uuid_exists},
		{"uuid_answer", "<uuid>", "answer", cmd_uuid_answer},
		{"uuid_bridge", "<uuid> <other_uuid>", "Bridge call legs", cmd_uuid_bridge},
		{"uuid_transfer", "<uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]",
		 "Transfer a session", cmd_uuid_transfer},
		{"uuid_send_dtmf", "<uuid> <dtmf_data>", "Send dtmf to uuid",
		 cmd_uuid_send_dtmf},
		{"uuid_fileman", "<uuid> <cmd>:<val>", "Manage session audio",
		 cmd_uuid_fileman},
		{"hupall", "<cause> [<var> <value>]", "hupall", cmd_hupall},
	};
	int err = api_register_table(cmds, sizeof(cmds) / sizeof(*cmds));

	if (err)
		return err;
	api_core_set_uuid_expand(uuid_expand);
	return channel_show_init();
}
