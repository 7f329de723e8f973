/*
 * conference.c - rooms and members: the registry, creation and destruction,
 * joining and leaving with their sounds, talk and floor, DTMF caller-controls,
 * room playback and recording, and the conference::maintenance events.
 *
 * A room's audio is a media mixer (media.h): this file decides who speaks and
 * who hears; the media worker does the sums. Signalling thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <re.h>
#include "core/config.h"
#include "core/log.h"
#include "core/uuid.h"
#include "core/vars.h"
#include "dialplan/app.h"
#include "event/bus.h"
#include "media/media.h"
#include "media/play.h"
#include "media/tts.h"
#include "conference/conference.h"
#include "conference/conf_int.h"

#define SUBCLASS "conference::maintenance"

static struct {
	struct list confs;
	struct conf_cfg *cfg;
	uint32_t next_member_id;
	bool running;
} C;

uint64_t conf_now_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

unsigned long long conf_secs_since(uint64_t us)
{
	uint64_t now = conf_now_us();

	return now > us ? (unsigned long long)((now - us) / 1000000u) : 0;
}

const char *conf_member_cid_name(struct conf_member *m)
{
	const struct caller_profile *p = m->ch ? channel_profile(m->ch) : NULL;

	return p && p->caller_id_name ? p->caller_id_name : "";
}

const char *conf_member_cid_num(struct conf_member *m)
{
	const struct caller_profile *p = m->ch ? channel_profile(m->ch) : NULL;

	return p && p->caller_id_number ? p->caller_id_number : "";
}

int conf_grace_time(const struct conference *conf)
{
	return conf->grace;
}

void conf_set_grace_time(struct conference *conf, int s)
{
	conf->grace = s < 0 ? 0 : s;
}

struct conference *conf_find(const char *name)
{
	struct le *le;

	for (le = list_head(&C.confs); le; le = le->next) {
		struct conference *conf = le->data;

		if (!strcmp(conf->name, name))
			return conf;
	}
	return NULL;
}

struct list *conf_list(void)
{
	return &C.confs;
}

struct conf_cfg *conf_current_cfg(void)
{
	return C.cfg;
}

uint32_t conf_next_member_id(void)
{
	return ++C.next_member_id;
}

/* ---- variables ---------------------------------------------------------------- */

const char *conf_var(const struct conference *conf, const char *name)
{
	struct le *le;

	for (le = list_head(&conf->vars); le; le = le->next) {
		struct conf_param *p = le->data;

		if (!strcmp(p->name, name))
			return p->value;
	}
	return NULL;
}

int conf_var_set(struct conference *conf, const char *name, const char *value)
{
	struct conf_param *p;
	struct le *le;

	for (le = list_head(&conf->vars); le; le = le->next) {
		p = le->data;
		if (strcmp(p->name, name))
			continue;
		if (!value) {
			list_unlink(&p->le);
			mem_deref(p);
			return 0;
		}
		p->value = mem_deref(p->value);
		return str_dup(&p->value, value);
	}
	if (!value)
		return 0;
	if (conf_param_alloc(&p, name, value))
		return ENOMEM;
	list_append(&conf->vars, &p->le, p);
	return 0;
}

/* ---- events --------------------------------------------------------------------- */

static const char *tf(bool b)
{
	return b ? "true" : "false";
}

static const char *domain_of(const struct conference *conf)
{
	const char *d = conf_param(conf->prof, "domain");

	return d ? d : conf_var(conf, "domain") ? conf_var(conf, "domain") : "cluecon.com";
}

static void add_conf_block(struct conference *conf, struct event *ev)
{
	struct le *le;

	event_add_header(ev, "Conference-Name", conf->name);
	event_add_header(ev, "Conference-Domain", domain_of(conf));
	event_add_headerf(ev, "Conference-Size", "%u", conf->count);
	event_add_headerf(ev, "Conference-Ghosts", "%u", conf->ghosts);
	event_add_header(ev, "Conference-Profile-Name", conf->prof_name);
	event_add_header(ev, "Conference-Unique-ID", conf->uuid);
	for (le = list_head(&conf->vars); le; le = le->next) {
		struct conf_param *p = le->data;

		event_add_header(ev, p->name, p->value);
	}
}

static void add_member_block(struct conference *conf, struct conf_member *m,
			     struct event *ev)
{
	add_conf_block(conf, ev);
	event_add_header(ev, "Floor", tf(conf->floor == m));
	if (m->ch)
		channel_event_add_data(m->ch, ev);
	event_add_header(ev, "Video", "false");
	event_add_header(ev, "Hear", tf(m->hear));
	event_add_header(ev, "See", "true");
	event_add_header(ev, "Speak", tf(m->speak));
	event_add_header(ev, "Talking", tf(m->talking));
	event_add_header(ev, "Mute-Detect", tf(m->mute_detect));
	event_add_header(ev, "Hold", tf(m->hold));
	event_add_headerf(ev, "Member-ID", "%u", m->id);
	event_add_header(ev, "Member-Type", m->moderator ? "moderator" : "member");
	event_add_header(ev, "Member-Ghost", tf(m->ghost));
	event_add_headerf(ev, "Energy-Level", "%d", m->energy);
	event_add_headerf(ev, "Current-Energy", "%u", m->ms ? media_mix_energy(m->ms) : 0);
}

int conf_event(struct conference *conf, struct conf_member *m, const char *action,
	       struct event **evp)
{
	struct event *ev;
	int err = event_alloc(&ev, EVENT_CUSTOM, SUBCLASS);

	if (err)
		return err;
	if (m)
		add_member_block(conf, m, ev);
	else
		add_conf_block(conf, ev);
	if (action)
		event_add_header(ev, "Action", action);
	*evp = ev;
	return 0;
}

void conf_event_fire(struct event *ev, const char *action)
{
	(void)action;
	bus_fire(ev);
}

bool conf_suppressed(const struct conference *conf, const char *name)
{
	const char *s = conf_param(conf->prof, "suppress-events");
	size_t n = strlen(name);

	while (s && *s) {
		size_t len = strcspn(s, ",");

		if (len == n && !strncmp(s, name, n))
			return true;
		s += len;
		s += *s == ',';
	}
	return false;
}

void conf_event_simple(struct conference *conf, struct conf_member *m, const char *action,
		       const char *gate)
{
	struct event *ev;

	if (gate && conf_suppressed(conf, gate))
		return;
	if (!conf_event(conf, m, action, &ev))
		bus_fire(ev);
}

/* ---- sounds --------------------------------------------------------------------- */

const char *conf_sound(const struct conference *conf, const char *param, const char *dflt)
{
	const char *v = conf_param(conf->prof, param);

	return v ? v : dflt;
}

const char *conf_prefix(const struct conference *conf)
{
	return conf->sound_prefix ? conf->sound_prefix : conf_param(conf->prof, "sound-prefix");
}

/*
 * play-file-done, or play-file-member-done with the member's block (m), as
 * conference_file_close fires them for a file that ended or was stopped:
 * seconds, milliseconds and samples (at 8 kHz) played so far.
 */
static void file_done_event(struct conference *conf, struct conf_member *m, const char *file,
			    uint64_t started_us, bool async, int err)
{
	uint64_t ms = started_us ? (conf_now_us() - started_us) / 1000 : 0;
	struct event *ev;

	if (conf_suppressed(conf, "play-file-done") || conf_event(conf, NULL, NULL, &ev))
		return;
	event_add_headerf(ev, "seconds", "%llu", (unsigned long long)(ms / 1000));
	event_add_headerf(ev, "milliseconds", "%llu", (unsigned long long)ms);
	event_add_headerf(ev, "samples", "%llu", (unsigned long long)(ms * 8));
	event_add_header(ev, "Action", m ? "play-file-member-done" : "play-file-done");
	if (m)
		add_member_block(conf, m, ev);
	event_add_header(ev, "File", file);
	if (async)
		event_add_header(ev, "Async", "true");
	if (err)
		event_add_header(ev, "Error", "File could not be played");
	bus_fire(ev);
}

static void member_play_done(int err, void *arg)
{
	struct conf_member *m = arg;

	if (!m->conf || !m->play_file)
		return;
	file_done_event(m->conf, m, m->play_file, m->play_started_us, false, err);
	m->play_file = mem_deref(m->play_file);
}

unsigned conf_member_stop(struct conf_member *m)
{
	if (!m->play_file || !m->ms)
		return 0;
	/* media_play_stop calls no handler: the event is fired here. */
	media_play_stop(m->ms);
	if (m->conf)
		file_done_event(m->conf, m, m->play_file, m->play_started_us, false, 0);
	m->play_file = mem_deref(m->play_file);
	return 1;
}

/* A prompt or a file to one member, over what it hears of the room. */
void conf_member_play(struct conf_member *m, const char *file)
{
	struct media_play_opts o = {.prefix = m->conf ? conf_prefix(m->conf) : NULL, .mix = true};
	int err;

	if (!file || !*file || !m->ms)
		return;
	err = media_play_ex(m->ms, file, &o, member_play_done, m);
	if (err) {
		log_warn("conference: cannot play %s to member %u: %s\n", file, m->id,
			 strerror(err));
		return;
	}
	mem_deref(m->play_file);
	if (str_dup(&m->play_file, file))
		m->play_file = NULL;
	m->play_started_us = conf_now_us();
}

/* ---- room playback --------------------------------------------------------------- */

static void file_destructor(void *data)
{
	struct conf_file *f = data;

	mem_deref(f->path);
}

static void play_next(struct conference *conf);

/* Out of the queue, with its play-file-done (none for speech); started_us 0: never played. */
static void file_end(struct conference *conf, struct conf_file *f, uint64_t started_us,
		     int err)
{
	if (!f->speech)
		file_done_event(conf, NULL, f->path, started_us, f->async, err);
	list_unlink(&f->le);
	mem_deref(f);
}

static void room_play_done(int err, void *arg)
{
	struct conference *conf = arg;
	struct conf_file *f = list_ledata(list_head(&conf->files));

	conf->playing = false;
	if (!f)
		return;
	file_end(conf, f, conf->play_started_us, err);
	play_next(conf);
}

static void play_next(struct conference *conf)
{
	struct media_play_opts o = {.prefix = conf_prefix(conf)};

	while (!conf->playing && !list_isempty(&conf->files)) {
		struct conf_file *f = list_ledata(list_head(&conf->files));
		int err;

		conf_moh_yield(conf);
		err = media_play_ex(conf->room, f->path, &o, room_play_done, conf);
		if (!err) {
			conf->playing = true;
			conf->play_started_us = conf_now_us();
			return;
		}
		log_warn("conference %s: cannot play %s: %s\n", conf->name, f->path,
			 strerror(err));
		list_unlink(&f->le);
		mem_deref(f);
	}
	/* The queue is done: the hold music, if it is due, comes back. */
	if (!conf->playing)
		conf_moh_update(conf, false);
}

static int queue_file(struct conference *conf, const char *file, bool async, bool speech)
{
	struct conf_file *f = mem_zalloc(sizeof(*f), file_destructor);

	if (!f || str_dup(&f->path, file)) {
		mem_deref(f);
		return ENOMEM;
	}
	f->async = async;
	f->speech = speech;
	list_append(&conf->files, &f->le, f);
	play_next(conf);
	return 0;
}

int conf_play(struct conference *conf, const char *file, bool async)
{
	struct media_play_opts o = {.prefix = conf_prefix(conf)};
	struct event *ev;
	uint64_t len;
	int err;

	/* Refuse now what cannot be played, as FreeSWITCH does. */
	err = media_source_length(file, o.prefix, &len);
	if (!conf_suppressed(conf, "play-file") && !conf_event(conf, NULL, "play-file", &ev)) {
		event_add_header(ev, "File", file);
		event_add_header(ev, "Async", tf(async));
		if (err)
			event_add_header(ev, "Error", "File could not be played");
		bus_fire(ev);
	}
	if (err)
		return err;
	return queue_file(conf, file, async, false);
}

/* tts://<engine>|<voice>|<text> with the profile's engine and voice. */
static int speech_source(struct conference *conf, const char *text, char **srcp)
{
	const char *engine = conf_param(conf->prof, "tts-engine");
	const char *voice = conf_param(conf->prof, "tts-voice");
	char *espeak = NULL;
	int err;

	if (!text || !*text)
		return EINVAL;
	if (!engine)
		return ENOTSUP;
	/* Refuse now an engine or voice that can never speak, not when it plays. */
	err = tts_voice(engine, voice ? voice : "", &espeak);
	mem_deref(espeak);
	if (err)
		return err;
	return re_sdprintf(srcp, "tts://%s|%s|%s", engine, voice ? voice : "", text);
}

int conf_say(struct conference *conf, const char *text)
{
	char *src = NULL;
	int err = speech_source(conf, text, &src);

	if (!err)
		err = queue_file(conf, src, false, true);
	mem_deref(src);
	return err;
}

int conf_member_say(struct conf_member *m, const char *text)
{
	struct media_play_opts o = {.mix = true};
	char *src = NULL;
	int err;

	if (!m->conf || !m->ms)
		return ENODEV;
	err = speech_source(m->conf, text, &src);
	/* Over what it hears of the room; member_play_done fires nothing for it. */
	if (!err)
		err = media_play_ex(m->ms, src, &o, member_play_done, m);
	if (!err)
		m->play_file = mem_deref(m->play_file);
	mem_deref(src);
	return err;
}

/*
 * conference_file_stop: CONF_STOP_ALL ends every queued file, CONF_STOP_ASYNC
 * the async ones, CONF_STOP_CURRENT the one playing (the next then starts).
 * Each gets its play-file-done. Returns how many.
 */
unsigned conf_stop(struct conference *conf, enum conf_stop_mode mode)
{
	struct conf_file *head = list_ledata(list_head(&conf->files));
	bool head_stops = head && (mode != CONF_STOP_ASYNC || head->async);
	struct le *le = list_head(&conf->files);
	bool stops = head_stops || mode == CONF_STOP_ALL || conf->moh_playing;
	unsigned n = 0;

	if (stops) {
		/* FreeSWITCH's stop ends the hold music too; it starts again while due. */
		media_play_stop(conf->room);
		conf->moh_playing = false;
	}
	if (head_stops) {
		uint64_t started = conf->playing ? conf->play_started_us : 0;

		conf->playing = false;
		le = le->next;
		file_end(conf, head, started, 0);
		n++;
	}
	while (le && mode != CONF_STOP_CURRENT) {
		struct conf_file *f = le->data;

		le = le->next;
		if (mode == CONF_STOP_ALL || f->async) {
			file_end(conf, f, 0, 0);
			n++;
		}
	}
	if (stops)
		play_next(conf);
	return n;
}

/* ---- recording ------------------------------------------------------------------- */

static void rec_destructor(void *data)
{
	struct conf_rec *r = data;

	list_unlink(&r->le);
	mem_deref(r->path);
}

struct conf_rec *conf_rec_find(const struct conference *conf, const char *path)
{
	struct le *le;

	for (le = list_head(&conf->recs); le; le = le->next) {
		struct conf_rec *r = le->data;

		if (!strcmp(r->path, path))
			return r;
	}
	return NULL;
}

/* The recording has ended: out of the list, stop-recording, freed. */
static void rec_ended(struct conf_rec *r, uint64_t samples, int err)
{
	struct conference *conf = r->conf;
	struct event *ev;

	list_unlink(&r->le);
	if (!conf_event(conf, NULL, "stop-recording", &ev)) {
		event_add_header(ev, "Path", r->path);
		/* FreeSWITCH: whether others still record, counted after this one left. */
		event_add_header(ev, "Other-Recordings", list_isempty(&conf->recs) ?
				 "false" : "true");
		event_add_headerf(ev, "Samples-Out", "%llu", (unsigned long long)samples);
		event_add_headerf(ev, "Samplerate", "%u", conf->rate);
		event_add_headerf(ev, "Milliseconds-Elapsed", "%llu",
				  (unsigned long long)((conf_now_us() - r->started_us) / 1000));
		if (err)
			event_add_header(ev, "Error", "File could not be written");
		bus_fire(ev);
	}
	mem_deref(r);
}

/* media: this file ended by itself (disk full, unwritable); the others go on. */
static void record_done(int err, uint64_t samples, void *arg)
{
	struct conf_rec *r = arg;

	if (err)
		log_err("conference %s: recording %s stopped: %s\n", r->conf->name,
			r->path, strerror(err));
	rec_ended(r, samples, err);
}

int conf_record(struct conference *conf, const char *path)
{
	struct conf_rec *r;
	struct event *ev;
	int err;

	if (conf_rec_find(conf, path))
		return EALREADY;
	if (list_count(&conf->recs) >= MEDIA_REC_MAX)
		return EBUSY;
	r = mem_zalloc(sizeof(*r), rec_destructor);
	if (!r)
		return ENOMEM;
	r->conf = conf;
	err = str_dup(&r->path, path);
	if (err)
		goto out;
	err = media_record_add(conf->room, path, 0, record_done, r);
	if (!conf_suppressed(conf, "record") && !conf_event(conf, NULL, "start-recording", &ev)) {
		event_add_header(ev, "Path", path);
		if (err)
			event_add_header(ev, "Error", "File could not be opened for recording");
		bus_fire(ev);
	}
	if (err) {
		log_err("conference %s: cannot record to %s: %s\n", conf->name, path,
			strerror(err));
		goto out;
	}
	r->started_us = conf_now_us();
	list_append(&conf->recs, &r->le, r);
	return 0;
 out:
	mem_deref(r);
	return err;
}

unsigned conf_record_pause(struct conference *conf, const char *path, bool pause)
{
	bool all = !strcasecmp(path, "all");
	unsigned n = 0;
	struct le *le;

	for (le = list_head(&conf->recs); le; le = le->next) {
		struct conf_rec *r = le->data;

		if ((all || !strcmp(r->path, path)) &&
		    !media_record_pause_file(conf->room, r->path, pause)) {
			r->paused = pause;
			n++;
		}
	}
	return n;
}

unsigned conf_norecord(struct conference *conf, const char *path)
{
	struct le *le = list_head(&conf->recs);
	unsigned n = 0;

	while (le) {
		struct conf_rec *r = le->data;
		uint64_t samples = 0;

		le = le->next;
		if (path && strcmp(r->path, path))
			continue;
		(void)media_record_stop_file(conf->room, r->path, &samples);
		rec_ended(r, samples, 0);
		n++;
	}
	return n;
}

/* ---- rooms ---------------------------------------------------------------------- */

static void conf_destructor(void *data)
{
	struct conference *conf = data;

	tmr_cancel(&conf->grace_tmr);
	list_flush(&conf->files);
	list_flush(&conf->vars);
	mem_deref(conf->room);
	list_flush(&conf->recs);          /* after the room: no handler runs now */
	mem_deref(conf->name);
	mem_deref(conf->prof_name);
	mem_deref(conf->prof);
	mem_deref(conf->cfg);
	mem_deref(conf->enter_sound);
	mem_deref(conf->exit_sound);
	mem_deref(conf->moh_sound);
	mem_deref(conf->tmp_moh);
	mem_deref(conf->pin);
	mem_deref(conf->mpin);
	mem_deref(conf->cid_name);
	mem_deref(conf->cid_num);
	mem_deref(conf->sound_prefix);
}

static int dup_opt(char **dst, const char *v)
{
	return v ? str_dup(dst, v) : 0;
}

int conf_create(struct conference **confp, const char *name, const char *prof_name,
		struct channel *ch)
{
	struct conference *conf = mem_zalloc(sizeof(*conf), conf_destructor);
	struct media_room_cfg rc = {0};
	const char *flags, *v;
	int err;

	if (!conf)
		return ENOMEM;
	conf->cfg = mem_ref(C.cfg);
	conf->prof = mem_ref(conf_profile_find(C.cfg, prof_name));
	err = str_dup(&conf->name, name);
	err |= str_dup(&conf->prof_name, conf->prof ? conf->prof->name : "none");
	if (!conf->prof)
		log_warn("conference %s: no profile %s, using the defaults\n", name, prof_name);
	cfuuid_generate(conf->uuid);
	conf->start_us = conf_now_us();
	conf->dynamic = true;
	conf->enter_sound_on = conf->exit_sound_on = true;
	v = conf_param(conf->prof, "endconf-grace-time");
	conf_set_grace_time(conf, v ? atoi(v) : 0);
	err |= dup_opt(&conf->pin, conf_param(conf->prof, "pin"));
	err |= dup_opt(&conf->mpin, conf_param(conf->prof, "moderator-pin"));
	err |= str_dup(&conf->cid_name, conf_param(conf->prof, "caller-id-name") ?
		       conf_param(conf->prof, "caller-id-name") : "conference");
	err |= str_dup(&conf->cid_num, conf_param(conf->prof, "caller-id-number") ?
		       conf_param(conf->prof, "caller-id-number") : "0000000000");
	conf->max_members = conf->prof ? conf->prof->max_members : 0;
	if (ch && (v = channel_var(ch, "conference_max_members")))
		conf->max_members = (unsigned)atoi(v);
	if (ch && (v = channel_var(ch, "sound_prefix")))
		err |= str_dup(&conf->sound_prefix, v);
	if (ch && (v = channel_var(ch, "conference_moh_sound")) && *v)
		err |= str_dup(&conf->moh_sound, v);
	flags = conf_param(conf->prof, "conference-flags");
	conf->wait_mod = conf_flag_in(flags, "wait-mod") ||
		(ch && conf_flag_in(channel_var(ch, "conference_flags"), "wait-mod"));
	conf->audio_always = conf_flag_in(flags, "audio-always") ||
		(ch && conf_flag_in(channel_var(ch, "conference_flags"), "audio-always"));
	if (ch && (v = channel_var(ch, "domain_name")))
		err |= conf_var_set(conf, "domain", v);
	if (err) {
		mem_deref(conf);
		return ENOMEM;
	}
	/* FreeSWITCH's comfort-noise is a divisor of full scale. */
	if (conf->prof && conf->prof->comfort_noise)
		rc.comfort_noise = 32767 / conf->prof->comfort_noise;
	rc.max_talkers = conf->prof ? conf->prof->max_talkers : 0;
	conf->rate = conf->prof ? conf->prof->rate : 8000;
	rc.rate = conf->rate;
	err = media_room_alloc(&conf->room, &rc);
	if (err) {
		log_err("conference %s: cannot create the room's mixer: %s\n", name,
			strerror(err));
		mem_deref(conf);
		return err;
	}
	list_append(&C.confs, &conf->le, conf);
	conf_event_simple(conf, NULL, "conference-create", NULL);
	log_info("conference %s created (profile %s)\n", name, conf->prof_name);
	v = conf_param(conf->prof, "auto-record");
	if (v) {
		char *path = NULL;

		if (ch ? channel_expand(ch, v, &path) : str_dup(&path, v))
			path = NULL;
		if (path)
			(void)conf_record(conf, path);
		mem_deref(path);
	}
	*confp = conf;
	return 0;
}

void conf_check_abandoned(const char *name)
{
	struct conference *conf = name ? conf_find(name) : NULL;

	if (conf && conf->dynamic && !conf->count && !conf->ghosts && !conf->pending_joins)
		conf_destroy(conf);
}

void conf_destroy(struct conference *conf)
{
	if (conf->destroying)
		return;
	conf->destroying = true;
	tmr_cancel(&conf->grace_tmr);
	/* Out of the registry first: a member's dialplan may join its name again. */
	list_unlink(&conf->le);
	while (!list_isempty(&conf->members)) {
		struct conf_member *m = mem_ref(list_ledata(list_head(&conf->members)));

		/*
		 * FreeSWITCH hangs the members of a room that ends up, unless
		 * hangup_after_conference=false: then their dialplan goes on.
		 */
		if (m->ch && channel_up(m->ch) &&
		    (!channel_var(m->ch, "hangup_after_conference") ||
		     channel_var_true(m->ch, "hangup_after_conference")))
			channel_hangup(m->ch, CAUSE_NORMAL_CLEARING);
		if (m->conf)
			conf_member_del(m, "conference ended");
		mem_deref(m);
	}
	(void)conf_norecord(conf, NULL);
	/* As FreeSWITCH's room thread closes what is left: play-file-done for each. */
	(void)conf_stop(conf, CONF_STOP_ALL);
	conf_event_simple(conf, NULL, "conference-destroy", NULL);
	log_info("conference %s destroyed\n", conf->name);
	mem_deref(conf);
}

/* ---- members ------------------------------------------------------------------- */

struct conf_member *conf_member_find(struct conference *conf, uint32_t id)
{
	struct le *le;

	for (le = list_head(&conf->members); le; le = le->next) {
		struct conf_member *m = le->data;

		if (m->id == id)
			return m;
	}
	return NULL;
}

static bool moderator_present(const struct conference *conf)
{
	struct le *le;

	for (le = list_head(&conf->members); le; le = le->next)
		if (((struct conf_member *)le->data)->moderator)
			return true;
	return false;
}

void conf_member_apply(struct conf_member *m)
{
	struct conference *conf = m->conf;
	bool waiting = conf && conf->wait_mod && !moderator_present(conf);
	/*
	 * Waiting for the moderator nobody speaks, so what a waiting member
	 * hears is the room's files alone: the hold music.
	 */
	struct media_mix_prm prm = {
		.speak = m->speak && !waiting && !m->hold,
		.hear = m->hear && !m->hold,
		.vol_in = m->vol_in, .vol_out = m->vol_out,
		.energy_level = m->energy > 0 && !(conf && conf->audio_always) ?
			(unsigned)m->energy : 0,
	};
	int err;

	if (!m->ms || !m->joined)
		return;
	conf_relate_fill(m, &prm);
	err = media_mix_set(m->ms, &prm);
	if (err)
		log_warn("conference: member %u: cannot update the mix: %s\n", m->id,
			 strerror(err));
}

void conf_set_floor(struct conference *conf, struct conf_member *m)
{
	struct conf_member *old = conf->floor;
	struct event *ev;

	if (old == m)
		return;
	conf->floor = m;
	if (conf_suppressed(conf, "floor-change") ||
	    conf_event(conf, NULL, "floor-change", &ev))
		return;
	if (old)
		event_add_headerf(ev, "Old-ID", "%u", old->id);
	else
		event_add_header(ev, "Old-ID", "none");
	if (m) {
		add_member_block(conf, m, ev);
		event_add_headerf(ev, "New-ID", "%u", m->id);
	} else {
		event_add_header(ev, "New-ID", "none");
	}
	bus_fire(ev);
}

/* A member other than `not` who talks and may speak, or NULL. */
static struct conf_member *next_talker(struct conference *conf, struct conf_member *not)
{
	struct le *le;

	for (le = list_head(&conf->members); le; le = le->next) {
		struct conf_member *o = le->data;

		if (o != not && o->talking && o->speak && !o->hold)
			return o;
	}
	return NULL;
}

static void talk_h(struct media_stream *ms, bool talking, unsigned energy, void *arg)
{
	struct conf_member *m = arg;
	struct conference *conf = m->conf;

	(void)ms;
	(void)energy;             /* events read the latest frame's, media_mix_energy */
	if (!conf)
		return;
	m->talking = talking;
	if (talking)
		m->last_talk_us = conf_now_us();
	if (talking && !m->speak) {
		if (m->mute_detect) {
			conf_event_simple(conf, m, "mute-detect", "mute-detect");
			conf_member_play(m, conf_sound(conf, "mute-detect-sound",
				conf_sound(conf, "muted-sound", NULL)));
		}
		return;
	}
	if (!m->speak || m->hold)
		return;
	conf_event_simple(conf, m, talking ? "start-talking" : "stop-talking",
			  talking ? "start-talking" : "stop-talking");
	/* The floor goes to whoever talks while its holder is silent. */
	if (talking && (!conf->floor || !conf->floor->talking))
		conf_set_floor(conf, m);
	else if (!talking && conf->floor == m && next_talker(conf, m))
		conf_set_floor(conf, next_talker(conf, m));
}

static void dtmf_watch(struct channel *ch, enum channel_note note, const char *data,
		       void *arg)
{
	struct conf_member *m = arg;

	if (note == CHANNEL_NOTE_DTMF && data && *data && m->conf) {
		/* A member's keys are caller controls, never typed ahead. */
		channel_dtmf_take(ch);
		conf_member_dtmf(m, *data);
	}
}

static void member_set_vars(struct conf_member *m)
{
	struct conference *conf = m->conf;

	channel_var_setf(m->ch, "conference_member_id", "%u", m->id);
	channel_var_set(m->ch, "conference_moderator", tf(m->moderator));
	channel_var_set(m->ch, "conference_ghost", tf(m->ghost));
	channel_var_set(m->ch, "conference_uuid", conf->uuid);
	channel_var_set(m->ch, "conference_name", conf->name);
	if (!list_isempty(&conf->recs))
		channel_var_set(m->ch, "conference_recording",
				((struct conf_rec *)list_ledata(list_head(&conf->recs)))->path);
}

int conf_member_add(struct conference *conf, struct conf_member *m)
{
	struct media_mix_prm prm = {.speak = false, .hear = false};
	const char *group;
	int err;

	m->conf = conf;
	err = media_mix_join(conf->room, m->ms, &prm, talk_h, m);
	if (err) {
		m->conf = NULL;
		return err;
	}
	err = channel_watch(&m->watch, m->ch, dtmf_watch, m);
	if (err) {
		media_mix_leave(m->ms);
		m->conf = NULL;
		return err;
	}
	m->joined = true;
	m->join_us = conf_now_us();
	list_append(&conf->members, &m->le, mem_ref(m));
	if (m->ghost)
		conf->ghosts++;
	else
		conf->count++;
	if (m->endconf) {
		conf->end_count++;
		if (tmr_isrunning(&conf->grace_tmr))
			log_info("conference %s: an endconf member joined in the grace time: "
				 "the room goes on\n", conf->name);
		tmr_cancel(&conf->grace_tmr);
	}
	if (m->moderator && conf->wait_mod) {
		struct le *le;

		/* The moderator is here: everyone starts hearing and speaking. */
		for (le = list_head(&conf->members); le; le = le->next)
			conf_member_apply(le->data);
	}
	conf_member_apply(m);
	/* The room's minimum counts once it was reached (FreeSWITCH's enforce_min). */
	if (m->mintwo)
		conf->min = 2;
	if (conf->count >= (conf->min ? conf->min : 1))
		conf->enforce_min = true;
	group = m->moderator && conf_param(conf->prof, "moderator-controls") ?
		conf_param(conf->prof, "moderator-controls") :
		conf_param(conf->prof, "caller-controls");
	if (channel_var(m->ch, "conference_controls"))
		group = channel_var(m->ch, "conference_controls");
	if (!group)
		group = "default";
	if (strcasecmp(group, "none")) {
		m->controls = conf_group_find(conf->cfg, group);
		if (!m->controls)
			log_err("conference %s: no caller-controls group %s: no digits bound\n",
				conf->name, group);
	}
	member_set_vars(m);
	if (!channel_var_true(m->ch, "conference_silent_entry"))
		conf_event_simple(conf, m, "add-member", NULL);
	if (!conf->floor && !m->ghost)
		conf_set_floor(conf, m);
	log_info("conference %s: member %u (%s) joined, %u members\n", conf->name, m->id,
		 channel_name(m->ch), conf->count);

	/* Sounds: to the joiner, then to the room. */
	if (channel_var(m->ch, "conference_enter_sound"))
		conf_member_play(m, channel_var(m->ch, "conference_enter_sound"));
	else
		conf_member_play(m, conf_param(conf->prof, "member-enter-sound"));
	if (conf->count == 1 && !m->ghost && !conf->wait_mod)
		conf_member_play(m, conf_sound(conf, "alone-sound", NULL));
	if (conf->count > 1 && conf->enter_sound_on && !m->ghost &&
	    !channel_var_true(m->ch, "conference_silent_entry")) {
		const char *s = conf->enter_sound ? conf->enter_sound :
			conf_sound(conf, "enter-sound", NULL);

		if (s)
			(void)conf_play(conf, s, false);
	}
	conf_moh_update(conf, false);
	return 0;
}

static void grace_over(void *arg)
{
	struct conference *conf = arg;

	log_info("conference %s: endconf grace time (%d s) over\n", conf->name, conf->grace);
	conf_destroy(conf);
}

/*
 * Whether the room ends now that `gone` left. The last endconf member's
 * leaving ends it, after endconf-grace-time when there is one (an endconf
 * member who comes meanwhile keeps it going).
 */
static bool should_end(struct conference *conf, const struct conf_member *gone)
{
	if (gone->endconf && conf->end_count && !--conf->end_count) {
		if (conf->grace <= 0)
			return true;
		log_info("conference %s: the last endconf member left: ending in %d s\n",
			 conf->name, conf->grace);
		tmr_start(&conf->grace_tmr, (uint64_t)conf->grace * 1000, grace_over, conf);
	}
	if (conf->min && conf->enforce_min && conf->count < conf->min)
		return true;
	return conf->dynamic && conf->count + conf->ghosts == 0;
}

void conf_member_del(struct conf_member *m, const char *why)
{
	struct conference *conf = m->conf;
	struct app_exec *x = m->x;
	const char *kick_sound;
	char *sound = NULL;

	if (!conf)
		return;
	tmr_cancel(&m->dtmf_tmr);
	m->watch = mem_deref(m->watch);
	if (m->ms)
		media_mix_leave(m->ms);
	/* Its file closes with it, with play-file-member-done, as conference_member_del's. */
	(void)conf_member_stop(m);
	m->play_file = mem_deref(m->play_file);
	list_unlink(&m->le);
	conf_relate_gone(m);
	if (m->ghost)
		conf->ghosts--;
	else
		conf->count--;
	if (conf->floor == m)
		conf_set_floor(conf, NULL);     /* until someone talks, as FreeSWITCH does */
	if (why && !strcmp(why, "kick"))
		conf_event_simple(conf, m, "kick-member", "kick-member");
	else if (why && !strcmp(why, "hup"))
		conf_event_simple(conf, m, "hup-member", NULL);
	conf_event_simple(conf, m, "del-member", "del-member");
	log_info("conference %s: member %u left (%s), %u members\n", conf->name, m->id,
		 why ? why : "hangup", conf->count);
	kick_sound = m->kicked ? (m->kick_sound ? m->kick_sound :
		conf_sound(conf, "kicked-sound", NULL)) : NULL;
	if (kick_sound && str_dup(&sound, kick_sound))
		sound = NULL;
	m->conf = NULL;
	m->joined = false;
	if (!conf->destroying && conf->exit_sound_on && !m->ghost && conf->count) {
		const char *s = conf->exit_sound ? conf->exit_sound :
			conf_sound(conf, "exit-sound", NULL);

		if (s)
			(void)conf_play(conf, s, false);
	}
	if (!conf->destroying && should_end(conf, m))
		conf_destroy(conf);
	else if (!conf->destroying)
		conf_moh_update(conf, false);
	/* The application ends and the dialplan goes on, after the kicked sound. */
	if (x)
		conf_member_finish(m, sound);
	mem_deref(sound);
	mem_deref(m);                    /* the room's */
}

/* ---- caller controls ------------------------------------------------------------ */

static int clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void level_event(struct conf_member *m, const char *action, int level)
{
	struct event *ev;

	if (conf_suppressed(m->conf, action) || conf_event(m->conf, m, action, &ev))
		return;
	event_add_headerf(ev, "New-Level", "%d", level);
	bus_fire(ev);
}

static void set_speak(struct conf_member *m, bool speak)
{
	struct conference *conf = m->conf;

	m->speak = speak;
	conf_member_apply(m);
	conf_event_simple(conf, m, speak ? "unmute-member" : "mute-member", "mute-member");
	conf_member_play(m, conf_sound(conf, speak ? "unmuted-sound" : "muted-sound", NULL));
}

static void set_hear(struct conf_member *m, bool hear)
{
	m->hear = hear;
	conf_member_apply(m);
	conf_event_simple(m->conf, m, hear ? "undeaf-member" : "deaf-member", NULL);
	conf_member_play(m, conf_sound(m->conf, hear ? "undeaf-sound" : "deaf-sound", NULL));
}

void conf_control_run(struct conf_member *m, const char *action, const char *data)
{
	struct conference *conf = m->conf;
	struct event *ev;

	if (!conf)
		return;
	if (!strcmp(action, "mute")) {
		if (!m->speak && !m->hear)
			set_hear(m, true);
		set_speak(m, !m->speak);
	} else if (!strcmp(action, "mute on")) {
		set_speak(m, false);
	} else if (!strcmp(action, "mute off")) {
		set_speak(m, true);
	} else if (!strcmp(action, "deaf mute")) {
		bool on = m->speak || m->hear;

		set_speak(m, !on);
		set_hear(m, !on);
	} else if (!strcmp(action, "deaf")) {
		set_hear(m, !m->hear);
	} else if (!strcmp(action, "deaf on")) {
		set_hear(m, false);
	} else if (!strcmp(action, "deaf off")) {
		set_hear(m, true);
	} else if (!strncmp(action, "energy ", 7)) {
		if (!strcmp(action + 7, "up"))
			m->energy = clamp(m->energy + 200, 0, 1800);
		else if (!strcmp(action + 7, "dn"))
			m->energy = clamp(m->energy - 200, 0, 1800);
		else
			m->energy = conf->prof ? (int)conf->prof->energy_level : 0;
		conf_member_apply(m);
		level_event(m, "energy-level", m->energy);
	} else if (!strncmp(action, "vol talk ", 9)) {
		const char *d = action + 9;

		m->vol_out = !strcmp(d, "zero") ? 0 :
			clamp(m->vol_out + (!strcmp(d, "up") ? 1 : -1), -4, 4);
		conf_member_apply(m);
		level_event(m, "volume-level", m->vol_out);
	} else if (!strncmp(action, "vol listen ", 11)) {
		const char *d = action + 11;

		m->vol_in = !strcmp(d, "zero") ? 0 :
			clamp(m->vol_in + (!strcmp(d, "up") ? 1 : -1), -4, 4);
		conf_member_apply(m);
		level_event(m, "gain-level", m->vol_in);
	} else if (!strcmp(action, "hangup")) {
		conf_member_del(m, "dtmf");
	} else if (!strcmp(action, "lock")) {
		if (conf->wait_mod && !m->moderator)
			return;
		conf->locked = !conf->locked;
		conf_event_simple(conf, NULL, conf->locked ? "lock" : "unlock",
				  conf->locked ? "lock" : "unlock");
		conf_member_play(m, conf_sound(conf, conf->locked ? "is-locked-sound" :
					       "is-unlocked-sound", NULL));
	} else if (!strcmp(action, "floor")) {
		conf_set_floor(conf, conf->floor == m ? NULL : m);
	} else if (!strcmp(action, "moh toggle")) {
		/* conference_loop_moh_toggle: the API's `moh toggle` */
		conf->moh_off = !conf->moh_off;
		conf_moh_update(conf, false);
	} else if (!strcmp(action, "event")) {
		if (conf_suppressed(conf, "dtmf") || conf_event(conf, m, "dtmf", &ev))
			return;
		event_add_header(ev, "DTMF-Key", m->digits);
		event_add_header(ev, "Data", data ? data : "");
		bus_fire(ev);
	} else if (!strcmp(action, "transfer")) {
		char ext[128] = "", dp[32] = "XML", ctx[64] = "default";
		struct channel *ch = m->ch;

		if (!data || sscanf(data, "%127s %31s %63s", ext, dp, ctx) < 1)
			return;
		if (!conf_suppressed(conf, "dtmf") && !conf_event(conf, m, "transfer", &ev)) {
			event_add_header(ev, "Dialplan", dp);
			bus_fire(ev);
		}
		/* The transfer breaks the application: its cancel takes the member out. */
		channel_transfer(ch, ext, dp, ctx);
	} else if (!strcmp(action, "execute_application")) {
		char app[64] = "";
		const char *args = "";

		if (!data || sscanf(data, "%63s", app) != 1)
			return;
		args = data + strlen(app);
		args += strspn(args, " ");
		if (!conf_suppressed(conf, "dtmf") && !conf_event(conf, m, "execute_app", &ev)) {
			event_add_header(ev, "Application", app);
			bus_fire(ev);
		}
		(void)app_execute(m->ch, app, args, NULL, NULL, NULL);
	}
}

static bool run_match(struct conf_member *m, bool final)
{
	struct le *le;
	bool prefix = false;
	size_t n = strlen(m->digits);

	for (le = m->controls ? list_head(&m->controls->controls) : NULL; le; le = le->next) {
		struct conf_control *c = le->data;

		if (!strcmp(c->digits, m->digits)) {
			channel_var_set(m->ch, "conference_last_matching_digits", m->digits);
			conf_control_run(m, c->action, c->data);
			return true;
		}
		if (!strncmp(c->digits, m->digits, n))
			prefix = true;
	}
	return !prefix || final;
}

static void dtmf_timeout(void *arg)
{
	struct conf_member *m = arg;

	if (m->conf)
		run_match(m, true);
	m->digits[0] = '\0';
}

/* A digit machine: a sequence that starts a longer binding waits ivr-dtmf-timeout. */
void conf_member_dtmf(struct conf_member *m, char digit)
{
	size_t n = strlen(m->digits);
	const char *t = conf_param(m->conf->prof, "ivr-dtmf-timeout");
	unsigned timeout = t ? (unsigned)atoi(t) : 500;

	tmr_cancel(&m->dtmf_tmr);
	if (n + 1 >= sizeof(m->digits))
		n = 0;
	m->digits[n] = digit;
	m->digits[n + 1] = '\0';
	mem_ref(m);
	if (run_match(m, false)) {
		m->digits[0] = '\0';
	} else {
		tmr_start(&m->dtmf_tmr, timeout < 500 ? 500 : timeout, dtmf_timeout, m);
	}
	mem_deref(m);
}

/* ---- life of the module ------------------------------------------------------ */

static int reload(const struct config *cfg, char *err, size_t errsz)
{
	struct conf_cfg *cc;
	int rc = conf_cfg_load(&cc, cfg, err, errsz);

	if (rc)
		return rc;
	mem_deref(C.cfg);
	C.cfg = cc;
	return 0;
}

int conference_init(const struct config *cfg, char *err, size_t errsz)
{
	int rc;

	if (C.running)
		return EALREADY;
	rc = conf_cfg_load(&C.cfg, cfg, err, errsz);
	if (rc)
		return rc;
	rc = conf_app_init();
	if (!rc)
		rc = conf_api_init();
	if (!rc)
		rc = config_on_reload(reload);
	if (rc) {
		if (!err[0])
			snprintf(err, errsz, "conference: cannot start: %s", strerror(rc));
		C.cfg = mem_deref(C.cfg);
		return rc;
	}
	C.running = true;
	log_info("conference: %u profiles, %u caller-controls groups\n",
		 list_count(&C.cfg->profiles), list_count(&C.cfg->groups));
	return 0;
}

void conference_close(void)
{
	if (!C.running)
		return;
	conf_dial_close();
	while (!list_isempty(&C.confs))
		conf_destroy(list_ledata(list_head(&C.confs)));
	conf_api_close();
	C.cfg = mem_deref(C.cfg);
	C.running = false;
}
