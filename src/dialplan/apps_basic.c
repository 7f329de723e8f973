/*
 * apps_basic.c - the first applications: answer, pre_answer, ring_ready,
 * hangup, park, echo, set, sleep and bridge (spec/core.md 6).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "channel/bridge.h"
#include "channel/channel.h"
#include "channel/originate.h"
#include "core/log.h"
#include "dialplan/app.h"
#include "dialplan/apps.h"
#include "media/media.h"

static int app_answer(struct channel *ch, const char *args, struct app_exec *x)
{
	return channel_answer(ch);
}

static int app_pre_answer(struct channel *ch, const char *args, struct app_exec *x)
{
	return channel_pre_answer(ch);
}

static int app_ring_ready(struct channel *ch, const char *args, struct app_exec *x)
{
	return channel_ring_ready(ch);
}

static int app_hangup(struct channel *ch, const char *args, struct app_exec *x)
{
	enum hangup_cause cause = CAUSE_NORMAL_CLEARING;

	if (args && *args && cause_parse(args, &cause))
		cause = CAUSE_NORMAL_CLEARING;
	channel_hangup(ch, cause);
	return 0;
}

/* park: wait, unanswered or not, until something else acts on the channel. */
static int app_park(struct channel *ch, const char *args, struct app_exec *x)
{
	channel_set_state(ch, CS_PARK);
	channel_fire(ch, EVENT_CHANNEL_PARK);
	return EINPROGRESS;
}

static void echo_cancel(void *data)
{
	media_stream_unlink(data);
}

static int app_echo(struct channel *ch, const char *args, struct app_exec *x)
{
	struct media_stream *ms = channel_media(ch);
	int err;

	if (!ms)
		return ENOTSUP;
	err = channel_answer(ch);
	if (!err)
		err = media_stream_link(ms, ms);
	if (err)
		return err;
	app_exec_on_cancel(x, echo_cancel, ms);
	return EINPROGRESS;
}

static int app_set(struct channel *ch, const char *args, struct app_exec *x)
{
	const char *eq = args ? strchr(args, '=') : NULL;
	char *name = NULL;
	int err;

	if (!eq || eq == args)
		return EINVAL;
	err = re_sdprintf(&name, "%b", args, (size_t)(eq - args));
	if (!err)
		err = channel_var_set(ch, name, eq + 1);
	mem_deref(name);
	return err;
}

struct sleeper {
	struct tmr tmr;
	struct app_exec *x;
};

static void sleep_cancel(void *data)
{
	struct sleeper *s = data;

	tmr_cancel(&s->tmr);
	mem_deref(s);
}

static void sleep_done(void *arg)
{
	struct sleeper *s = arg;
	struct app_exec *x = s->x;

	app_exec_on_cancel(x, NULL, NULL);
	mem_deref(s);
	app_exec_done(x, NULL);
}

static int app_sleep(struct channel *ch, const char *args, struct app_exec *x)
{
	struct sleeper *s;
	long ms = args ? strtol(args, NULL, 10) : 0;

	if (ms <= 0)
		return 0;
	s = mem_zalloc(sizeof(*s), NULL);
	if (!s)
		return ENOMEM;
	s->x = x;
	tmr_init(&s->tmr);
	tmr_start(&s->tmr, (uint64_t)ms, sleep_done, s);
	app_exec_on_cancel(x, sleep_cancel, s);
	return EINPROGRESS;
}

/* bridge <dialstring>: ring the B leg, bridge it, finish when the bridge ends. */
struct bridge_app {
	struct app_exec *x;
	struct originate *orig;
	struct bridge *br;
};

static void bridge_app_destructor(void *data)
{
	struct bridge_app *ba = data;

	mem_deref(ba->orig);
	mem_deref(ba->br);
}

/* Done with the bridge application: forget the cancel hook, then complete. */
static void bridge_app_finish(struct bridge_app *ba, const char *response)
{
	struct app_exec *x = ba->x;

	app_exec_on_cancel(x, NULL, NULL);
	mem_deref(ba);
	app_exec_done(x, response);
}

static void bridge_ended(struct channel *gone, struct channel *other,
			 enum hangup_cause cause, void *arg)
{
	struct bridge_app *ba = arg;
	struct channel *a = app_exec_channel(ba->x);
	/* The B leg always follows; the caller only with hangup_after_bridge. */
	bool follow = other != a || channel_var_true(a, "hangup_after_bridge");

	/* Complete first: hanging up the caller cancels a running app, freeing ba. */
	mem_ref(other);
	bridge_app_finish(ba, NULL);
	if (follow)
		channel_hangup(other, cause);
	mem_deref(other);
}

static void bridge_originated(enum hangup_cause cause, struct channel *leg, void *arg)
{
	struct bridge_app *ba = arg;
	struct channel *a = mem_ref(app_exec_channel(ba->x));

	ba->orig = mem_deref(ba->orig);
	channel_var_set(a, "originate_disposition", cause_name(cause));
	if (!leg) {
		channel_var_set(a, "bridge_hangup_cause", cause_name(cause));
		log_info("%s: bridge failed: %s\n", channel_name(a), cause_name(cause));
		bridge_app_finish(ba, cause_name(cause));
		if (!channel_var_true(a, "continue_on_fail"))
			channel_hangup(a, cause);
	} else if (channel_bridge(&ba->br, a, leg, bridge_ended, ba)) {
		channel_hangup(leg, CAUSE_NORMAL_TEMPORARY_FAILURE);
		bridge_app_finish(ba, "BRIDGE_FAILED");
	}
	mem_deref(a);
}

/* The caller hung up or was transferred: the B leg has nobody left to talk to. */
static void bridge_cancel(void *data)
{
	struct bridge_app *ba = data;
	struct channel *a = app_exec_channel(ba->x);
	struct channel *b = ba->br ? bridge_other(ba->br, a) : NULL;
	enum hangup_cause cause = channel_up(a) ? CAUSE_NORMAL_CLEARING : channel_cause(a);

	if (b)
		mem_ref(b);
	mem_deref(ba);
	if (b) {
		channel_hangup(b, cause);
		mem_deref(b);
	}
}

static int app_bridge(struct channel *ch, const char *args, struct app_exec *x)
{
	struct bridge_app *ba = mem_zalloc(sizeof(*ba), bridge_app_destructor);
	struct caller_profile *p = channel_profile(ch);
	struct originate_opts opts = {0};
	int err;

	if (!ba)
		return ENOMEM;
	ba->x = x;
	opts.aleg = ch;
	/* The B leg shows the caller's effective caller ID, as FreeSWITCH sends it. */
	opts.cid_name = channel_var(ch, "effective_caller_id_name");
	opts.cid_num = channel_var(ch, "effective_caller_id_number");
	if (!opts.cid_name)
		opts.cid_name = p->caller_id_name;
	if (!opts.cid_num)
		opts.cid_num = p->caller_id_number;
	app_exec_on_cancel(x, bridge_cancel, ba);
	err = originate_start(&ba->orig, args, &opts, bridge_originated, ba);
	if (err) {
		app_exec_on_cancel(x, NULL, NULL);
		mem_deref(ba);
		return err;
	}
	return EINPROGRESS;
}

int apps_basic_init(void)
{
	int err = 0;

	err |= app_register("answer", "", app_answer);
	err |= app_register("pre_answer", "", app_pre_answer);
	err |= app_register("ring_ready", "", app_ring_ready);
	err |= app_register("hangup", "[<cause>]", app_hangup);
	err |= app_register("park", "", app_park);
	err |= app_register("echo", "", app_echo);
	err |= app_register("set", "<varname>=<value>", app_set);
	err |= app_register("sleep", "<pause ms>", app_sleep);
	err |= app_register("bridge", "<channel_url>", app_bridge);
	return err ? EINVAL : 0;
}
