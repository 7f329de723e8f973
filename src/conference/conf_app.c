/*
 * conf_app.c - the `conference` application: parse
 * name[@profile][+pin][+flags{a|b}], create the room if it must, check the
 * pin, the lock and max-members, and put the caller in; it returns when the
 * member leaves (kick, hup, transfer, the hangup control, the room ending).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "core/log.h"
#include "dialplan/app.h"
#include "media/media.h"
#include "media/play.h"
#include "conference/conf_int.h"

#define PIN_TIMEOUT_MS 10000

struct join_req {
	char *name, *profile, *pin, *flags;
};

static void req_reset(struct join_req *r)
{
	r->name = mem_deref(r->name);
	r->profile = mem_deref(r->profile);
	r->pin = mem_deref(r->pin);
	r->flags = mem_deref(r->flags);
}

/*
 * FreeSWITCH's order: "+flags{" cuts the rest off first; then the pin is what
 * follows the first '+', the profile what follows the last '@'. So
 * "3000@wideband+1234+flags{mute}" and "1005@simpleconf2++flags{mute}" both work.
 */
static int parse_data(const char *data, struct join_req *r)
{
	char *s, *p;
	int err;

	memset(r, 0, sizeof(*r));
	if (!data)
		return EINVAL;
	data += strspn(data, " ");
	err = str_dup(&s, data);
	if (err)
		return err;
	p = strstr(s, "+flags{");
	if (p) {
		char *end = strchr(p + 7, '}');

		*p = '\0';
		err = re_sdprintf(&r->flags, "%b", p + 7, end ? (size_t)(end - p - 7) :
				  strlen(p + 7));
	}
	p = strchr(s, '+');
	if (!err && p) {
		*p = '\0';
		if (p[1])
			err = str_dup(&r->pin, p + 1);
		if (r->pin && (p = strchr(r->pin, '+')))
			*p = '\0';
	}
	p = strrchr(s, '@');
	if (!err && p) {
		*p = '\0';
		err = str_dup(&r->profile, p + 1);
	}
	if (!err)
		err = str_dup(&r->name, s);
	if (!err && !r->profile)
		err = str_dup(&r->profile, "default");
	mem_deref(s);
	if (!err && (!r->name[0] || !strncmp(r->name, "bridge:", 7)))
		err = EINVAL;
	if (err)
		req_reset(r);
	return err;
}

static void member_destructor(void *data)
{
	struct conf_member *m = data;

	tmr_cancel(&m->dtmf_tmr);
	tmr_cancel(&m->pin_tmr);
	list_flush(&m->rels);
	mem_deref(m->watch);
	mem_deref(m->ms);
	mem_deref(m->kick_sound);
	mem_deref(m->play_file);
	mem_deref(m->pin_room);
	mem_deref(m->pin);
}

/* Profile member-flags, then the data's, then conference_member_flags. */
static int member_flags(struct channel *ch, const struct conf_profile *prof,
			const char *data_flags, char **outp)
{
	return re_sdprintf(outp, "%s|%s|%s", conf_param(prof, "member-flags") ?
			   conf_param(prof, "member-flags") : "", data_flags ? data_flags : "",
			   channel_var(ch, "conference_member_flags") ?
			   channel_var(ch, "conference_member_flags") : "");
}

static void apply_flags(struct conf_member *m, const char *f, const struct conference *conf)
{
	const char *v;

	m->speak = !conf_flag_in(f, "mute");
	m->hear = !conf_flag_in(f, "deaf");
	m->moderator = conf_flag_in(f, "moderator");
	m->endconf = conf_flag_in(f, "endconf");
	m->mintwo = conf_flag_in(f, "mintwo");
	m->ghost = conf_flag_in(f, "ghost");
	m->mute_detect = conf_flag_in(f, "mute-detect");
	m->nomoh = conf_flag_in(f, "nomoh");
	m->energy = conf->prof ? (int)conf->prof->energy_level : 0;
	if ((v = channel_var(m->ch, "conference_join_energy_level")))
		m->energy = atoi(v) < 0 ? 0 : atoi(v) > 1800 ? 1800 : atoi(v);
	if ((v = channel_var(m->ch, "conference_join_volume_in")))
		m->vol_in = atoi(v) < -4 ? -4 : atoi(v) > 4 ? 4 : atoi(v);
	if ((v = channel_var(m->ch, "conference_join_volume_out")))
		m->vol_out = atoi(v) < -4 ? -4 : atoi(v) > 4 ? 4 : atoi(v);
}

static void early_done(int err, void *arg)
{
	struct conf_member *m = arg;
	struct app_exec *x = m->x;

	(void)err;
	m->leaving = false;
	m->x = NULL;
	if (x) {
		app_exec_on_cancel(x, NULL, NULL);
		app_exec_done(x, NULL);
	}
	mem_deref(m);
}

void conf_member_finish(struct conf_member *m, const char *sound)
{
	struct media_play_opts o = {.prefix = NULL};

	m->watch = mem_deref(m->watch);
	tmr_cancel(&m->pin_tmr);
	if (sound && m->ms && channel_up(m->ch) &&
	    !media_play_ex(m->ms, sound, &o, early_done, m)) {
		m->leaving = true;
		return;
	}
	early_done(0, m);
}

static void leave_early(struct conf_member *m, const char *sound)
{
	conf_member_finish(m, sound);
}

static bool enforce_security(struct channel *ch)
{
	return channel_dir(ch) == CHANNEL_INBOUND ||
		channel_var_true(ch, "conference_enforce_security");
}

/* `moved`: a transfer from another room, which no lock keeps out. */
/* The caller does not get in: `sound`, the application ends, an empty room too. */
static void refuse(struct conf_member *m, struct conference *conf, const char *sound)
{
	char name[128];

	str_ncpy(name, conf->name, sizeof(name));
	leave_early(m, sound);
	conf_check_abandoned(name);
}

static void join(struct conf_member *m, struct conference *conf, bool moved)
{
	int err;

	/* A lock keeps callers out, not those the room invited (dial, outcalls). */
	if (conf->locked && !moved && enforce_security(m->ch)) {
		log_notice("conference %s is locked: %s refused\n", conf->name,
			   channel_name(m->ch));
		refuse(m, conf, conf_sound(conf, "locked-sound", NULL));
		return;
	}
	if (conf->max_members && conf->count >= conf->max_members) {
		refuse(m, conf, conf_sound(conf, "max-members-sound", NULL));
		return;
	}
	err = conf_member_add(conf, m);
	if (err) {
		log_err("conference %s: cannot add %s: %s\n", conf->name, channel_name(m->ch),
			strerror(err));
		refuse(m, conf, NULL);
		return;
	}
	conf_auto_outcall(m);
}

int conf_member_transfer(struct conf_member *m, const char *name, const char *profile)
{
	struct app_exec *x = m->x;
	struct conference *conf;
	int err;

	if (!m->conf || !x || !name || !*name)
		return EINVAL;
	/* Leaving without x keeps the application running: it goes on in the new room. */
	m->x = NULL;
	conf_member_del(m, "transfer");
	m->x = x;
	m->talking = m->kicked = false;
	conf = conf_find(name);
	err = conf ? 0 : conf_create(&conf, name, profile ? profile : "default", m->ch);
	if (err) {
		log_err("conference: cannot move %s to %s: %s\n", channel_name(m->ch), name,
			strerror(err));
		conf_member_finish(m, NULL);
		return err;
	}
	join(m, conf, true);
	return 0;
}

/* ---- pin entry ---------------------------------------------------------------- */

static void pin_check(struct conf_member *m);

static void pin_timeout(void *arg)
{
	pin_check(arg);
}

/* The prompt (after the bad-pin sound, when the last try was wrong). */
static void pin_prompt(struct conf_member *m, struct conference *conf, bool bad)
{
	const char *prompt = conf_sound(conf, "pin-sound", "conference/conf-pin.wav");
	struct media_play_opts o = {0};
	char *src = NULL;

	m->pin_buf[0] = '\0';
	if (bad && re_sdprintf(&src, "file_string://%s!%s", conf_sound(conf,
			       "bad-pin-sound", "conference/conf-bad-pin.wav"), prompt))
		src = NULL;
	if (media_play_ex(m->ms, src ? src : prompt, &o, NULL, NULL))
		log_warn("conference %s: cannot play the pin prompt\n", conf->name);
	mem_deref(src);
	tmr_start(&m->pin_tmr, PIN_TIMEOUT_MS, pin_timeout, m);
}

/* The caller is done with the prompt, in or out. */
static void pin_end(struct conf_member *m, struct conference *conf)
{
	m->pin_wait = false;
	m->watch = mem_deref(m->watch);
	tmr_cancel(&m->pin_tmr);
	if (conf && conf->pending_joins)
		conf->pending_joins--;
}

static void pin_check(struct conf_member *m)
{
	struct conference *conf = conf_find(m->pin_room);
	const char *pin, *mpin;

	if (!conf) {
		pin_end(m, NULL);
		leave_early(m, NULL);
		return;
	}
	pin = m->pin ? m->pin : conf->pin;
	mpin = conf->mpin;
	tmr_cancel(&m->pin_tmr);
	if (mpin && !strcmp(m->pin_buf, mpin))
		m->moderator = true;
	if ((pin && !strcmp(m->pin_buf, pin)) || m->moderator) {
		pin_end(m, conf);
		media_play_stop(m->ms);
		join(m, conf, false);
		return;
	}
	if (++m->pin_tries >= (conf->prof ? conf->prof->pin_retries : 3)) {
		log_notice("conference %s: %s failed the pin\n", conf->name,
			   channel_name(m->ch));
		pin_end(m, conf);
		refuse(m, conf, conf_sound(conf, "bad-pin-sound", "conference/conf-bad-pin.wav"));
		return;
	}
	pin_prompt(m, conf, true);
}

static void pin_dtmf(struct channel *ch, enum channel_note note, const char *data, void *arg)
{
	struct conf_member *m = arg;
	struct conference *conf = conf_find(m->pin_room);
	const char *pin = m->pin ? m->pin : conf ? conf->pin : NULL;
	size_t n = strlen(m->pin_buf), want;

	if (note != CHANNEL_NOTE_DTMF || !data || !*data || !m->pin_wait || !conf)
		return;
	channel_dtmf_take(ch);
	/* A '#' after a full-length entry (already checked) is not another try. */
	if (*data == '#' && !n)
		return;
	want = pin ? strlen(pin) : 0;
	if (conf->mpin && strlen(conf->mpin) > want)
		want = strlen(conf->mpin);
	if (*data != '#' && n + 1 < sizeof(m->pin_buf)) {
		m->pin_buf[n++] = *data;
		m->pin_buf[n] = '\0';
	}
	if (*data == '#' || n >= want)
		pin_check(m);
}

/* supplied_pin may carry the pin ("1234" or "X-ConfPin=1234"). */
static bool supplied_pin_ok(struct conf_member *m, const struct conference *conf)
{
	const char *s = channel_var(m->ch, "supplied_pin");
	const char *eq;

	if (!s)
		return false;
	eq = strchr(s, '=');
	s = eq ? eq + 1 : s;
	if (conf->mpin && !strcmp(s, conf->mpin)) {
		m->moderator = true;
		return true;
	}
	return (m->pin || conf->pin) && !strcmp(s, m->pin ? m->pin : conf->pin);
}

/* ---- the application ---------------------------------------------------------- */

static void app_cancel(void *data)
{
	struct conf_member *m = data;

	/* The channel hung up (or was transferred) while in the room or at the pin. */
	m->x = NULL;
	if (m->leaving)
		media_play_stop(m->ms);      /* its handler would outlive the member */
	if (m->conf)
		conf_member_del(m, channel_up(m->ch) ? "transfer" : NULL);
	if (m->pin_wait) {
		pin_end(m, conf_find(m->pin_room));
		media_play_stop(m->ms);
		conf_check_abandoned(m->pin_room);
	}
	mem_deref(m);
}

static int app_conference(struct channel *ch, const char *args, struct app_exec *x)
{
	struct conf_profile *prof;
	struct conference *conf;
	struct conf_member *m;
	struct join_req r;
	char *flags = NULL;
	bool created;
	int err;

	err = parse_data(args, &r);
	if (err) {
		log_err("conference: bad data \"%s\"\n", args ? args : "");
		return err;
	}
	if (!channel_media(ch)) {
		req_reset(&r);
		return ENOTSUP;
	}
	conf = conf_find(r.name);
	prof = conf ? conf->prof : conf_profile_find(conf_current_cfg(), r.profile);
	err = member_flags(ch, prof, r.flags, &flags);
	if (err)
		goto out;
	if (!conf && conf_flag_in(flags, "join-only")) {
		struct event *ev;

		if (!channel_event_alloc(ch, EVENT_CUSTOM, "conference::maintenance", &ev)) {
			event_add_header(ev, "Conference-Name", r.name);
			event_add_header(ev, "Conference-Profile-Name", r.profile);
			event_add_header(ev, "Action", "rejected-join-only");
			conf_event_fire(ev, "rejected-join-only");
		}
		log_notice("conference %s: %s may only join, the room does not exist\n",
			   r.name, channel_name(ch));
		if (!channel_var(ch, "hangup_after_conference") ||
		    channel_var_true(ch, "hangup_after_conference"))
			channel_hangup(ch, CAUSE_NORMAL_CLEARING);
		goto out;
	}
	err = channel_answer(ch);
	created = !conf;
	if (!err && !conf)
		err = conf_create(&conf, r.name, r.profile, ch);
	if (err)
		goto out;
	m = mem_zalloc(sizeof(*m), member_destructor);
	if (!m) {
		err = ENOMEM;
		goto out;
	}
	m->id = conf_next_member_id();
	m->ch = ch;
	m->x = x;
	m->ms = mem_ref(channel_media(ch));
	tmr_init(&m->dtmf_tmr);
	tmr_init(&m->pin_tmr);
	apply_flags(m, flags, conf);
	app_exec_on_cancel(x, app_cancel, m);
	/* The data's pin is this caller's; it becomes the room's when it made the room. */
	if (r.pin && (str_dup(&m->pin, r.pin) || (created && str_dup(&conf->pin, r.pin)))) {
		err = ENOMEM;
		app_exec_on_cancel(x, NULL, NULL);
		mem_deref(m);
		goto out;
	}
	if ((m->pin || conf->pin || conf->mpin) && enforce_security(ch) &&
	    !supplied_pin_ok(m, conf)) {
		/* Ask; the room may go meanwhile, so it is found again by name. */
		err = str_dup(&m->pin_room, conf->name);
		if (!err)
			err = channel_watch(&m->watch, ch, pin_dtmf, m);
		if (err) {
			app_exec_on_cancel(x, NULL, NULL);
			mem_deref(m);
			goto out;
		}
		m->pin_wait = true;
		conf->pending_joins++;
		pin_prompt(m, conf, false);
	} else {
		join(m, conf, false);
	}
	err = EINPROGRESS;
 out:
	mem_deref(flags);
	req_reset(&r);
	return err;
}

int conf_app_init(void)
{
	int err = app_register("conference", "<confname>[@<profile>][+<pin>][+flags{<flags>}]",
			       app_conference);

	if (!err)
		err = conf_outcall_app_init();
	return err;
}
