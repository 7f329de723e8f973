/*
 * conf_api.c - the `conference` API command: listings (plain, pretty, XML,
 * JSON), acting on members (mute, kick, energy ...) and on rooms (lock, play,
 * record, pins, variables), dial/bgdial and transfer, with mod_conference's
 * exact texts (spec/conference.md 6, reference conference-events.txt Part 1).
 *
 * Like FreeSWITCH, one table of sub-commands is the dispatcher, the `help`
 * text and the no-argument listing. Signalling thread only.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <re.h>
#include "channel/cause.h"
#include "channel/channel.h"
#include "core/api.h"
#include "core/log.h"
#include "core/uuid.h"
#include "dialplan/app.h"
#include "event/event.h"
#include "media/play.h"
#include "conference/conf_int.h"

#define MAX_ARGS 25          /* switch_separate_string(..., 25) in conference_api_main */
#define SUB_USAGE (-1)       /* a sub-command failed: its usage follows, no newline */
#define DIAL_TIMEOUT_S 60    /* conference_api_sub_dial/bgdial: conference_outcall(.., 60, ..) */
#define DTMF_MS 250          /* SWITCH_DEFAULT_DTMF_DURATION: 2000 samples at 8 kHz */
#define ENERGY_MAX 1800
#define ENERGY_STEP 200
#define VOL_MAX 4            /* switch_normalize_volume: -4..4 */

/*
 * Compatibility texts, FreeSWITCH 1.10 mod_conference (conference_api.c), as
 * recorded in reference conference-events.txt or listed in spec 6; the
 * misspellings are FreeSWITCH's. Texts only confab prints say so.
 */
#define T_NOT_FOUND      "-ERR Conference %s not found\n"
#define T_NOT_SPECIFIED  "Conference command, not specified.\nTry 'help'\n"
#define T_NO_SUBCMD      "-ERR Conference command '%s' not found.\n"
#define T_NO_ID          "-ERR Non-Existant ID %u\n"
#define T_NO_MEMBER_VAR  "-ERR Non-Existant member\n"
#define T_SKIP_MOD       "Skipping moderator (member id %u).\n"
#define T_BAD_ARGS       "-ERR Bad Args\n"
#define T_CALL_RESULT    "+OK Call Requested: result: [%s]\n"
#define T_JOB            "+OK Job-UUID: %s\n"
#define T_PLAY_NOFILE    "-ERR (play) File: %s not found.\n"
#define T_PLAY_NOMEMBER  "-ERR Member: %u not found.\n"      /* FS prints a pointer: spec 6.2 */
#define T_PAUSED         "+OK Pause\n"
#define T_RESUMED        "+OK Resume\n"
#define T_FVOL_OK        "+OK volume changed\n"
#define T_FVOL_NONE      "-ERR File not playing\n"
#define T_FVOL_ARGS      "-ERR missing args\n"
#define T_SAY_OK         "+OK (say) OK\n"
#define T_SAY_NOTEXT     "-ERR (say) Error! No text.\n"
#define T_SAY_ERR        "-ERR (say) Error!\n"           /* conference_say failed */
#define T_SAYM_OK        "+OK (saymember) OK\n"
#define T_SAYM_NOTEXT    "-ERR (saymember) No Text!\n"
#define T_SAYM_NOMEMBER  "-ERR (saymember) Unknown Member %u!\n"
#define T_SAYM_ERR       "-ERR (saymember) Error!\n"     /* conference_member_say failed */
#define T_REC_DUP        "-ERR file [%s] is already being used for recording.\n"
#define T_REC_NONE       "-ERR non-existant recording '%s'\n"
#define T_MOH_OK         "+OK moh\n"
#define T_REL_SET        "+OK %u->%u %s set\n"
#define T_REL_CLEARED    "+OK relationship %u->%u cleared.\n"
#define T_REL_NONE       "-ERR relationship %u->%u not found.\n"
#define T_REL_LINE       "%u -> %u %s %s %s \n"
#define T_REL_EMPTY      "+OK No relationships\n"
#define T_REL_ERR        "-ERR error!\n"
#define T_REC_NOTREC     "-ERR Conference is not being recorded.\n"
/* confab: FreeSWITCH records any number of files, conference.c MEDIA_REC_MAX at once. */
#define T_REC_FULL       "-ERR Conference is already being recorded to %u files.\n"
/* confab: FreeSWITCH answers +OK and fails in its record thread. */
#define T_REC_FAIL       "-ERR Cannot record to %s: %s\n"
/* confab: FreeSWITCH stores any atoi() value; we refuse what is not a level. */
#define T_BAD_ENERGY     "-ERR Invalid energy level\n"

/* ---- arguments --------------------------------------------------------------- */

/*
 * Split on blanks (runs count as one), as switch_separate_string does for
 * ' ': '..' and ".." group words and are dropped. {..} stays together too, so
 * a dial string's variables may hold blanks. The last word keeps the rest of
 * the line. Writes into buf; returns the number of words.
 */
static int split_args(char *buf, char **argv, int max)
{
	char *p = buf, *w;
	int argc = 0;

	while (*p && argc < max) {
		char quote = 0;
		int depth = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		argv[argc++] = w = p;
		if (argc == max)
			break;
		for (; *p; p++) {
			if (quote ? *p == quote : (*p == '\'' || *p == '"')) {
				quote = quote ? 0 : *p;
				continue;
			}
			if (!quote && *p == '{')
				depth++;
			else if (!quote && *p == '}' && depth)
				depth--;
			else if (!quote && !depth && (*p == ' ' || *p == '\t'))
				break;
			*w++ = *p;
		}
		if (*p)
			p++;
		*w = '\0';
	}
	return argc;
}

static bool parse_int(const char *s, int *vp)
{
	char *end;
	long v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < -1000000 || v > 1000000)
		return false;
	*vp = (int)v;
	return true;
}

static int clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* ---- members, newest first ------------------------------------------------ */

/*
 * FreeSWITCH keeps its member list newest first, so every listing and every
 * "all" runs that way. A command may make members leave, or end the room,
 * while we walk: walk a referenced copy.
 */
struct snapshot {
	size_t n;
	struct conf_member *v[];
};

static void snapshot_destructor(void *data)
{
	struct snapshot *s = data;
	size_t i;

	for (i = 0; i < s->n; i++)
		mem_deref(s->v[i]);
}

static struct snapshot *snapshot_take(struct conference *conf)
{
	size_t n = list_count(&conf->members);
	struct snapshot *s = mem_zalloc(sizeof(*s) + n * sizeof(s->v[0]),
					snapshot_destructor);
	struct le *le;

	if (!s)
		return NULL;
	for (le = list_tail(&conf->members); le && s->n < n; le = le->prev)
		s->v[s->n++] = mem_ref(le->data);
	return s;
}

/* ---- member commands ([M] in spec 6.2) ---------------------------------------- */

typedef void (member_fn)(struct api_call *call, struct conf_member *m, const char *data);

static bool quiet(const char *data)
{
	return data && strstr(data, "quiet");
}

static void set_speak(struct api_call *call, struct conf_member *m, bool speak,
		      const char *data)
{
	struct conference *conf = m->conf;

	/* conference_api_sub_mute/unmute: a held member is left alone. */
	if (m->hold) {
		api_printf(call, "-ERR %s %u\n", speak ? "unmute" : "mute", m->id);
		return;
	}
	m->speak = speak;
	if (!speak)
		m->talking = false;
	conf_member_apply(m);
	api_printf(call, "+OK %s %u\n", speak ? "unmute" : "mute", m->id);
	/* One suppress-events name gates both (spec 9). */
	conf_event_simple(conf, m, speak ? "unmute-member" : "mute-member", "mute-member");
	if (!quiet(data))
		conf_member_play(m, conf_sound(conf, speak ? "unmuted-sound" : "muted-sound",
					       NULL));
}

static void mem_mute(struct api_call *call, struct conf_member *m, const char *data)
{
	set_speak(call, m, false, data);
}

static void mem_unmute(struct api_call *call, struct conf_member *m, const char *data)
{
	set_speak(call, m, true, data);
}

static void mem_tmute(struct api_call *call, struct conf_member *m, const char *data)
{
	/* On hold it answers "-ERR mute" (conference_api_sub_tmute). */
	set_speak(call, m, !m->hold && !m->speak, data);
}

static void set_hear(struct api_call *call, struct conf_member *m, bool hear,
		     const char *data)
{
	struct conference *conf = m->conf;

	m->hear = hear;
	conf_member_apply(m);
	api_printf(call, "+OK %s %u\n", hear ? "undeaf" : "deaf", m->id);
	/* deaf-member has no suppress-events name (spec 9). */
	conf_event_simple(conf, m, hear ? "undeaf-member" : "deaf-member", NULL);
	if (!quiet(data))
		conf_member_play(m, conf_sound(conf, hear ? "undeaf-sound" : "deaf-sound", NULL));
}

static void mem_deaf(struct api_call *call, struct conf_member *m, const char *data)
{
	set_hear(call, m, false, data);
}

static void mem_undeaf(struct api_call *call, struct conf_member *m, const char *data)
{
	set_hear(call, m, true, data);
}

/* Stop what plays to the member; media_play_stop calls no handler, so forget it here. */
static unsigned member_stop(struct conf_member *m)
{
	if (!m->play_file || !m->ms)
		return 0;
	media_play_stop(m->ms);
	m->play_file = mem_deref(m->play_file);
	return 1;
}

static void mem_hold(struct api_call *call, struct conf_member *m, const char *data)
{
	struct conference *conf = m->conf;

	m->hold = true;
	m->talking = false;
	conf_member_apply(m);
	if (data && *data)
		conf_member_play(m, data);
	api_printf(call, "+OK hold %u\n", m->id);
	conf_event_simple(conf, m, "hold-member", "hold-member");
}

static void mem_unhold(struct api_call *call, struct conf_member *m, const char *data)
{
	struct conference *conf = m->conf;

	(void)data;
	m->hold = false;
	(void)member_stop(m);
	conf_member_apply(m);
	api_printf(call, "+OK unhold %u\n", m->id);
	conf_event_simple(conf, m, "unhold-member", "hold-member");
}

static void mem_kick(struct api_call *call, struct conf_member *m, const char *data)
{
	char *s = NULL;

	m->kicked = true;
	if (data && *data && !str_dup(&s, data)) {
		mem_deref(m->kick_sound);
		m->kick_sound = s;
	}
	api_printf(call, "+OK kicked %u\n", m->id);
	/*
	 * conf_member_del fires kick-member and plays the kick sound (this one,
	 * else the profile's kicked-sound) before the dialplan goes on.
	 */
	conf_member_del(m, "kick");
}

static void mem_hup(struct api_call *call, struct conf_member *m, const char *data)
{
	(void)data;
	api_printf(call, "+OK hup %u\n", m->id);
	conf_member_del(m, "hup");
}

static void mem_dtmf(struct api_call *call, struct conf_member *m, const char *data)
{
	struct conference *conf = m->conf;
	struct event *ev;
	int err;

	if (!data || !*data) {
		api_printf(call, "-ERR Invalid input!\n");
		return;
	}
	/* FreeSWITCH queues the digits to the member's phone; it answers +OK anyway. */
	err = channel_send_dtmf(m->ch, data, DTMF_MS);
	if (err)
		log_warn("conference %s: cannot send %s to member %u: %s\n", conf->name, data,
			 m->id, strerror(err));
	api_printf(call, "+OK sent %s to %u\n", data, m->id);
	if (conf_suppressed(conf, "dtmf-member") || conf_event(conf, m, "dtmf-member", &ev))
		return;
	event_add_header(ev, "Digits", data);
	conf_event_fire(ev, "dtmf-member");
}

/* energy-level-member / volume-*-member: Action, then the level (spec 9). */
static void level_event(struct conf_member *m, const char *action, const char *hdr,
			int level)
{
	struct event *ev;

	if (conf_suppressed(m->conf, action) || conf_event(m->conf, m, action, &ev))
		return;
	event_add_headerf(ev, hdr, "%d", level);
	conf_event_fire(ev, action);
}

static void mem_energy(struct api_call *call, struct conf_member *m, const char *data)
{
	int v;

	if (data) {
		if (!strcasecmp(data, "up")) {
			v = m->energy + ENERGY_STEP;
		} else if (!strcasecmp(data, "down")) {
			v = m->energy - ENERGY_STEP;
		} else if (!parse_int(data, &v) || v < 0) {
			api_printf(call, T_BAD_ENERGY);
			return;
		}
		m->energy = clamp(v, 0, ENERGY_MAX);
		conf_member_apply(m);
	}
	/* Sic: no +OK (reference: "Energy 4 = 300"). */
	api_printf(call, "Energy %u = %d\n", m->id, m->energy);
	/* The member block already has Energy-Level; FreeSWITCH adds a second one. */
	if (data)
		level_event(m, "energy-level-member", "Energy-Level", m->energy);
}

static void set_volume(struct api_call *call, struct conf_member *m, const char *data,
		       bool in)
{
	int *vol = in ? &m->vol_in : &m->vol_out;

	if (data) {
		if (!strcasecmp(data, "up"))
			*vol = clamp(*vol + 1, -VOL_MAX, VOL_MAX);
		else if (!strcasecmp(data, "down"))
			*vol = clamp(*vol - 1, -VOL_MAX, VOL_MAX);
		else
			*vol = clamp(atoi(data), -VOL_MAX, VOL_MAX);   /* atoi as FreeSWITCH */
		conf_member_apply(m);
	}
	api_printf(call, "+OK Volume %s %u = %d\n", in ? "IN" : "OUT", m->id, *vol);
	if (data)
		level_event(m, in ? "volume-in-member" : "volume-out-member", "Volume-Level",
			    *vol);
}

static void mem_volume_in(struct api_call *call, struct conf_member *m, const char *data)
{
	set_volume(call, m, data, true);
}

static void mem_volume_out(struct api_call *call, struct conf_member *m, const char *data)
{
	set_volume(call, m, data, false);
}

static void mem_floor(struct api_call *call, struct conf_member *m, const char *data)
{
	struct conference *conf = m->conf;

	(void)data;
	if (conf->floor == m) {
		conf_set_floor(conf, NULL);
		api_printf(call, "+OK floor none\n");
	} else if (!conf->floor) {
		conf_set_floor(conf, m);
		api_printf(call, "+OK floor %u\n", m->id);
	} else {
		api_printf(call, "-ERR floor is held by %u\n", conf->floor->id);
	}
}

static void mem_get_uuid(struct api_call *call, struct conf_member *m, const char *data)
{
	(void)data;
	api_printf(call, "%s", m->ch ? channel_uuid(m->ch) : "_undef_");
}

/* ---- member targeting (spec 6.1) ---------------------------------------------- */

static void run_on(struct api_call *call, struct conf_member *m, member_fn *fn,
		   const char *data)
{
	mem_ref(m);
	fn(call, m, data);
	mem_deref(m);
}

static int for_all(struct api_call *call, struct conference *conf, member_fn *fn,
		   bool non_mod, const char *data)
{
	struct snapshot *s = snapshot_take(conf);
	size_t i;

	if (!s)
		return ENOMEM;
	for (i = 0; i < s->n; i++) {
		struct conf_member *m = s->v[i];

		if (m->conf != conf)
			continue;       /* left meanwhile (kick all, the room ended) */
		if (non_mod && m->moderator)
			api_printf(call, T_SKIP_MOD, m->id);
		else if (m->ch)
			fn(call, m, data);
	}
	mem_deref(s);
	return 0;
}

static struct conf_member *newest(struct conference *conf)
{
	struct conf_member *best = NULL;
	struct le *le;

	for (le = list_head(&conf->members); le; le = le->next) {
		struct conf_member *m = le->data;

		if (!best || m->id > best->id)
			best = m;
	}
	return best;
}

/* `<var>=<value>`: the first member (newest first) whose channel has it. */
static struct conf_member *by_var(struct conference *conf, const char *spec)
{
	const char *eq = strchr(spec, '=');
	size_t n = (size_t)(eq - spec);
	char name[128];
	struct le *le;

	if (n >= sizeof(name))
		return NULL;
	memcpy(name, spec, n);
	name[n] = '\0';
	for (le = list_tail(&conf->members); le; le = le->prev) {
		struct conf_member *m = le->data;
		const char *v = m->ch ? channel_var(m->ch, name) : NULL;

		if (v && !strcmp(v, eq + 1))
			return m;
	}
	return NULL;
}

static int member_target(struct api_call *call, struct conference *conf, member_fn *fn,
			 int argc, char **argv, const char *usage_cmd, const char *syntax)
{
	const char *target = argc > 2 ? argv[2] : NULL;
	const char *data = argc > 3 ? argv[3] : NULL;
	/* atoi as FreeSWITCH: "4x" is member 4, "all" is 0 and looked at by name. */
	uint32_t id = target ? (uint32_t)atoi(target) : 0;
	struct conf_member *m;

	if (!id && target && (!strcasecmp(target, "all") ||
			      !strcasecmp(target, "non_moderator")))
		return for_all(call, conf, fn, !strcasecmp(target, "non_moderator"), data);
	if (!id && target && !strcasecmp(target, "last")) {
		m = newest(conf);
		if (m && m->ch)
			run_on(call, m, fn, data);
		return 0;
	}
	if (id) {
		m = conf_member_find(conf, id);
		if (m)
			run_on(call, m, fn, data);
		else
			api_printf(call, T_NO_ID, id);
		return 0;
	}
	if (target && *target && strchr(target, '=')) {
		m = by_var(conf, target);
		if (m)
			run_on(call, m, fn, data);
		else
			api_printf(call, T_NO_MEMBER_VAR);
		return 0;
	}
	return api_printf(call, "%s %s", usage_cmd, syntax);
}

/* ---- room commands ----------------------------------------------------------- */

/* relate [<id>]: every relationship (of that member), members newest first. */
static int relate_list(struct api_call *call, struct conference *conf, uint32_t lid)
{
	unsigned n = 0;
	struct le *le;
	int err = 0;

	for (le = list_tail(&conf->members); le; le = le->prev) {
		const struct conf_member *m = le->data;
		struct le *re;

		if (lid && m->id != lid)
			continue;
		for (re = list_head(&m->rels); re; re = re->next) {
			const struct conf_rel *r = re->data;

			err |= api_printf(call, T_REL_LINE, m->id, r->oid,
					  r->nospeak ? "NOSPEAK" : "SPEAK",
					  r->nohear ? "NOHEAR" : "HEAR",
					  r->sendvideo ? "SENDVIDEO" : "NOSENDVIDEO");
			n++;
		}
	}
	return n ? err : api_printf(call, T_REL_EMPTY);
}

/* One <id> <oid> pair of relate: its line of output. */
static int relate_one(struct api_call *call, struct conference *conf, uint32_t id,
		      uint32_t oid, const char *action)
{
	struct conf_member *m = id ? conf_member_find(conf, id) : NULL;
	struct conf_member *o = oid ? conf_member_find(conf, oid) : NULL;
	int err;

	if (!strcasecmp(action, "clear")) {
		if (!m || conf_relate_clear(m, oid))
			return api_printf(call, T_REL_NONE, id, oid);
		return api_printf(call, T_REL_CLEARED, id, oid);
	}
	if (!m || !o)
		return api_printf(call, T_REL_NONE, id, oid);
	/* conference_api_sub_relate looks for the words anywhere in the action. */
	err = conf_relate_set(m, o, strstr(action, "nospeak") != NULL,
			      strstr(action, "nohear") != NULL, strstr(action, "sendvideo") != NULL);
	if (err == ENOMEM)
		return err;
	if (err)
		return api_printf(call, T_REL_ERR);
	return api_printf(call, T_REL_SET, id, oid, action);
}

/*
 * relate <id>[,<id>] <oid>[,<oid>] nospeak|nohear|clear: each pair in turn;
 * with no more than one id, the listing.
 */
static int sub_relate(struct api_call *call, struct conference *conf, int argc, char **argv)
{
	char *ids, *oids, *a, *b, *sa = NULL, *sb = NULL;
	const char *action;
	int err = 0;

	if (argc <= 3)
		return relate_list(call, conf, argc == 3 ? (uint32_t)atoi(argv[2]) : 0);
	if (argc < 5)
		return SUB_USAGE;
	action = argv[4];
	if (strcasecmp(action, "clear") && !strstr(action, "nospeak") &&
	    !strstr(action, "nohear") && !strstr(action, "sendvideo"))
		return SUB_USAGE;
	ids = argv[2];
	for (a = strtok_r(ids, ",", &sa); a && !err; a = strtok_r(NULL, ",", &sa)) {
		char obuf[256];

		/* strtok_r of the other list needs its own copy per id. */
		if (strlen(argv[3]) >= sizeof(obuf))
			return api_printf(call, T_REL_ERR);
		str_ncpy(obuf, argv[3], sizeof(obuf));
		oids = obuf;
		for (b = strtok_r(oids, ",", &sb); b && !err; b = strtok_r(NULL, ",", &sb))
			err = relate_one(call, conf, (uint32_t)atoi(a), (uint32_t)atoi(b), action);
	}
	return err;
}

/*
 * moh <file>|toggle|on|off|reset: conference_api_sub_moh. on/off/toggle
 * allow or forbid the hold music (CFLAG_NO_MOH), a file replaces the
 * profile's (tmp_moh_sound) until `reset`.
 */
static int sub_moh(struct api_call *call, struct conference *conf, int argc, char **argv)
{
	bool restart = false;
	int err;

	if (argc != 3)
		return SUB_USAGE;
	if (!strcasecmp(argv[2], "toggle")) {
		conf->moh_off = !conf->moh_off;
	} else if (!strcasecmp(argv[2], "on")) {
		conf->moh_off = false;
	} else if (!strcasecmp(argv[2], "off")) {
		conf->moh_off = true;
	} else if (!strcasecmp(argv[2], "reset")) {
		conf->tmp_moh = mem_deref(conf->tmp_moh);
		restart = true;
	} else {
		conf->tmp_moh = mem_deref(conf->tmp_moh);
		err = str_dup(&conf->tmp_moh, argv[2]);
		if (err)
			return err;
		restart = true;
	}
	conf_moh_update(conf, restart);
	return api_printf(call, T_MOH_OK);
}

static int sub_lock(struct api_call *call, struct conference *conf, int argc, char **argv)
{
	bool lock = !strcasecmp(argv[1], "lock");
	const char *s = conf_sound(conf, lock ? "is-locked-sound" : "is-unlocked-sound", NULL);

	(void)argc;
	/* The room hears it first (reference: play-file, then lock). */
	if (s)
		(void)conf_play(conf, s, false);
	conf->locked = lock;
	api_printf(call, "+OK %s %s\n", argv[0], lock ? "locked" : "unlocked");
	conf_event_simple(conf, NULL, lock ? "lock" : "unlock", lock ? "lock" : "unlock");
	return 0;
}

static int play_member(struct api_call *call, struct conference *conf, const char *file,
		       const char *id_arg)
{
	uint32_t id = (uint32_t)atoi(id_arg);
	struct conf_member *m = id ? conf_member_find(conf, id) : NULL;
	struct event *ev;
	uint64_t len;

	if (!m)
		return api_printf(call, T_PLAY_NOMEMBER, id);
	/* conf_member_play says nothing of failure: refuse what cannot play now. */
	if (!m->ms || media_source_length(file, conf_prefix(conf), &len))
		return api_printf(call, T_PLAY_NOFILE, file);
	conf_member_play(m, file);
	api_printf(call, "+OK (play) Playing file %s to member %u\n", file, id);
	if (!conf_suppressed(conf, "play-file-member") &&
	    !conf_event(conf, m, "play-file-member", &ev)) {
		event_add_header(ev, "File", file);
		conf_event_fire(ev, "play-file-member");
	}
	return 0;
}

/* play <file> [async|<member_id> [nomux]]; conf_play fires play-file itself. */
static int sub_play(struct api_call *call, struct conference *conf, int argc, char **argv)
{
	bool async = false;

	if ((argc == 4 && !strcasecmp(argv[3], "async")) ||
	    (argc == 5 && !strcasecmp(argv[4], "async"))) {
		argc--;
		async = true;
	}
	if (argc == 3) {
		if (conf_play(conf, argv[2], async))
			return api_printf(call, T_PLAY_NOFILE, argv[2]);
		return api_printf(call, "+OK (play) Playing file %s\n", argv[2]);
	}
	if (argc >= 4)
		return play_member(call, conf, argv[2], argv[3]);   /* nomux: we always mix */
	return SUB_USAGE;
}

/* The room's player, or NULL when it plays nothing (a queued file or the music). */
static struct media_stream *room_player(struct conference *conf)
{
	return (conf->playing || conf->moh_playing) && media_playing(conf->room) ?
		conf->room : NULL;
}

/*
 * pause_play [<member_id>]: a toggle, as conference_fnode_toggle_pause; with
 * nothing playing the output is empty.
 */
static int sub_pause_play(struct api_call *call, struct conference *conf, int argc,
			  char **argv)
{
	static const struct media_fctl_cmd pause = {MEDIA_FCTL_PAUSE, 0};
	struct media_stream *ms;

	if (argc > 3)
		return SUB_USAGE;
	if (argc == 3) {
		uint32_t id = (uint32_t)atoi(argv[2]);
		struct conf_member *m = id ? conf_member_find(conf, id) : NULL;

		if (!m)
			return api_printf(call, T_PLAY_NOMEMBER, id);
		ms = m->ms && media_playing(m->ms) ? m->ms : NULL;
	} else {
		ms = room_player(conf);
	}
	if (!ms || media_play_control(ms, &pause))
		return 0;
	return api_printf(call, media_play_paused(ms) ? T_PAUSED : T_RESUMED);
}

/* file-vol <vol> [async]: the room's file; steps clamped to -4..4 as volume_in. */
static int sub_file_vol(struct api_call *call, struct conference *conf, int argc,
			char **argv)
{
	struct media_fctl_cmd vol = {MEDIA_FCTL_VOLUME_TO, 0};
	struct media_stream *ms = room_player(conf);

	if (argc < 3)
		return api_printf(call, T_FVOL_ARGS);
	vol.val = atoi(argv[2]);
	if (!ms || media_play_control(ms, &vol))
		return api_printf(call, T_FVOL_NONE);
	return api_printf(call, T_FVOL_OK);
}

/* say <text>: the text is the rest of the line (the table's `words`). */
static int sub_say(struct api_call *call, struct conference *conf, int argc, char **argv)
{
	struct event *ev;

	if (argc < 3 || !*argv[2])
		return api_printf(call, T_SAY_NOTEXT);
	if (conf_say(conf, argv[2]))
		return api_printf(call, T_SAY_ERR);
	if (!conf_suppressed(conf, "speak-text") && !conf_event(conf, NULL, "speak-text", &ev)) {
		event_add_header(ev, "Text", argv[2]);
		conf_event_fire(ev, "speak-text");
	}
	return api_printf(call, T_SAY_OK);
}

/* saymember <id> <text>: FreeSWITCH checks the text before the member. */
static int sub_saymember(struct api_call *call, struct conference *conf, int argc,
			 char **argv)
{
	uint32_t id = argc > 2 ? (uint32_t)atoi(argv[2]) : 0;
	struct conf_member *m;
	struct event *ev;

	if (argc < 4 || !*argv[3])
		return api_printf(call, T_SAYM_NOTEXT);
	m = id ? conf_member_find(conf, id) : NULL;
	if (!m)
		return api_printf(call, T_SAYM_NOMEMBER, id);
	if (conf_member_say(m, argv[3]))
		return api_printf(call, T_SAYM_ERR);
	if (!conf_suppressed(conf, "speak-text-member") &&
	    !conf_event(conf, m, "speak-text-member", &ev)) {
		event_add_header(ev, "Text", argv[3]);
		conf_event_fire(ev, "speak-text-member");
	}
	return api_printf(call, T_SAYM_OK);
}

/*
 * stop [current|all|async|last] [<member_id>]. The room's queue can only be
 * flushed whole (conf_stop), so every mode stops everything the room plays.
 */
static int sub_stop(struct api_call *call, struct conference *conf, int argc, char **argv)
{
	static const char *const modes[] = {"current", "all", "async", "last"};
	bool ok = argc <= 2;
	size_t i;

	for (i = 0; !ok && i < sizeof(modes) / sizeof(*modes); i++)
		ok = !strcasecmp(argv[2], modes[i]);
	if (!ok)
		return SUB_USAGE;
	if (argc == 4) {
		uint32_t id = (uint32_t)atoi(argv[3]);
		struct conf_member *m = id ? conf_member_find(conf, id) : NULL;

		if (!m)
			return api_printf(call, T_PLAY_NOMEMBER, id);
		return api_printf(call, "+OK Stopped %u files.\n", member_stop(m));
	}
	return api_printf(call, "+OK Stopped %u files.\n", conf_stop(conf));
}

/* record <file> [canvas]: the canvas means nothing to an audio room. */
static int sub_record(struct api_call *call, struct conference *conf, int argc, char **argv)
{
	int err;

	if (argc <= 2)
		return SUB_USAGE;
	err = conf_record(conf, argv[2]);
	if (err == EALREADY)
		return api_printf(call, T_REC_DUP, argv[2]);
	if (err == EBUSY)
		return api_printf(call, T_REC_FULL, MEDIA_REC_MAX);
	if (err == ENOMEM)
		return err;
	if (err)
		return api_printf(call, T_REC_FAIL, argv[2], strerror(err));
	return api_printf(call, "+OK Record file %s\n", argv[2]);
}

/* norecord <file|all>; conf_norecord fires stop-recording. */
static int sub_norecord(struct api_call *call, struct conference *conf, int argc,
			char **argv)
{
	bool all;
	unsigned n;

	if (argc <= 2)
		return SUB_USAGE;
	all = !strcasecmp(argv[2], "all");
	n = conf_norecord(conf, all ? NULL : argv[2]);
	if (!n && !all)
		api_printf(call, T_REC_NONE, argv[2]);
	return api_printf(call, "+OK Stopped recording %u file%s\n", n, n == 1 ? "" : "s");
}

/* pause|resume <file|all>: +OK first, then the complaint (conference_api_sub_pauserec). */
static int sub_pauserec(struct api_call *call, struct conference *conf, int argc,
			char **argv)
{
	bool pause = !strcasecmp(argv[1], "pause");
	struct event *ev;

	if (argc <= 2)
		return SUB_USAGE;
	api_printf(call, "+OK %s recording file %s\n", pause ? "Pause" : "Resume", argv[2]);
	if (!conf_record_pause(conf, argv[2], pause))
		return api_printf(call, T_REC_NONE, argv[2]);
	if (conf_suppressed(conf, "record") ||
	    conf_event(conf, NULL, pause ? "pause-recording" : "resume-recording", &ev))
		return 0;
	event_add_header(ev, "Path", argv[2]);
	/* Sic: FreeSWITCH's record_count still counts this recording. */
	event_add_header(ev, "Other-Recordings", "true");
	conf_event_fire(ev, pause ? "pause-recording" : "resume-recording");
	return 0;
}

static int sub_chkrecord(struct api_call *call, struct conference *conf, int argc,
			 char **argv)
{
	struct le *le;
	int err = 0;

	(void)argc;
	(void)argv;
	if (list_isempty(&conf->recs))
		return api_printf(call, T_REC_NOTREC);
	for (le = list_head(&conf->recs); le && !err; le = le->next) {
		const struct conf_rec *r = le->data;

		err = api_printf(call, "+OK Record file %s\n", r->path);
	}
	return err;
}

/*
 * recording [start|stop|check|pause|resume] <file|all>, by
 * conference_api_sub_recording's rules: one argument is a file to record,
 * except stop and check which mean "all".
 */
static int sub_recording(struct api_call *call, struct conference *conf, int argc,
			 char **argv)
{
	char *av[4];

	if (argc <= 2)
		return SUB_USAGE;
	if (argc == 3 && strcasecmp(argv[2], "stop") && strcasecmp(argv[2], "check"))
		return sub_record(call, conf, argc, argv);
	av[0] = argv[0];
	av[1] = argv[2];
	av[2] = argc > 3 ? argv[3] : "all";
	av[3] = NULL;
	if (!strcasecmp(av[1], "start"))
		return sub_record(call, conf, 3, av);
	if (!strcasecmp(av[1], "stop"))
		return sub_norecord(call, conf, 3, av);
	if (!strcasecmp(av[1], "check"))
		return sub_chkrecord(call, conf, 3, av);
	if (!strcasecmp(av[1], "pause") || !strcasecmp(av[1], "resume"))
		return sub_pauserec(call, conf, 3, av);
	return SUB_USAGE;
}

static int sub_getvar(struct api_call *call, struct conference *conf, int argc, char **argv)
{
	const char *v;

	if (argc < 3)
		return SUB_USAGE;
	v = conf_var(conf, argv[2]);
	return api_printf(call, "%s", v ? v : "");
}

static int sub_setvar(struct api_call *call, struct conference *conf, int argc, char **argv)
{
	int err;

	if (argc < 3 || !*argv[2])
		return SUB_USAGE;
	err = conf_var_set(conf, argv[2], argc > 3 ? argv[3] : NULL);
	if (err)
		return err;
	return api_printf(call, "+OK\n");
}

/* get <parameter-name>: the value, no newline; anything else shows the usage. */
static int sub_get(struct api_call *call, struct conference *conf, int argc, char **argv)
{
	const char *p = argc == 3 ? argv[2] : "";
	const char *prefix = conf_prefix(conf);

	if (!strcasecmp(p, "run_time"))
		return api_printf(call, "%llu", conf_secs_since(conf->start_us));
	if (!strcasecmp(p, "count"))
		return api_printf(call, "%u", conf->count);
	if (!strcasecmp(p, "count_ghosts"))
		return api_printf(call, "%u", conf->ghosts);
	if (!strcasecmp(p, "max_members"))
		return api_printf(call, "%u", conf->max_members);
	if (!strcasecmp(p, "rate"))
		return api_printf(call, "%u", conf->rate);
	if (!strcasecmp(p, "profile_name"))
		return api_printf(call, "%s", conf->prof_name);
	if (!strcasecmp(p, "sound_prefix"))
		return api_printf(call, "%s", prefix ? prefix : "");
	if (!strcasecmp(p, "caller_id_name"))
		return api_printf(call, "%s", conf->cid_name ? conf->cid_name : "");
	if (!strcasecmp(p, "caller_id_number"))
		return api_printf(call, "%s", conf->cid_num ? conf->cid_num : "");
	if (!strcasecmp(p, "is_locked"))
		return api_printf(call, "%s", conf->locked ? "locked" : "");
	if (!strcasecmp(p, "endconference_grace_time"))
		return api_printf(call, "%d", conf_grace_time(conf));
	if (!strcasecmp(p, "uuid"))
		return api_printf(call, "%s", conf->uuid);
	if (!strcasecmp(p, "wait_mod"))
		return api_printf(call, "%s", conf->wait_mod ? "true" : "");
	return SUB_USAGE;
}

/* Print the old string, keep a copy of the new one. */
static int swap_str(struct api_call *call, char **field, const char *old, const char *v)
{
	char *s = NULL;
	int err = str_dup(&s, v);

	if (err)
		return err;
	api_printf(call, "%s", old ? old : "");
	mem_deref(*field);
	*field = s;
	return 0;
}

/*
 * set <name> <value>: prints the old value. endconference_grace_time is
 * shown but not kept: conference.c has no grace time to set.
 */
static int sub_set(struct api_call *call, struct conference *conf, int argc, char **argv)
{
	const char *p, *v;
	int n;

	if (argc != 4 || !*argv[3])
		return SUB_USAGE;
	p = argv[2];
	v = argv[3];
	if (!strcasecmp(p, "max_members") || !strcasecmp(p, "endconference_grace_time")) {
		bool max = !strcasecmp(p, "max_members");

		if (!parse_int(v, &n) || n < 0)
			return SUB_USAGE;
		api_printf(call, "%d", max ? (int)conf->max_members : conf_grace_time(conf));
		if (max)
			conf->max_members = (unsigned)n;
		return 0;
	}
	if (!strcasecmp(p, "sound_prefix"))
		return swap_str(call, &conf->sound_prefix, conf_prefix(conf), v);
	if (!strcasecmp(p, "caller_id_name"))
		return swap_str(call, &conf->cid_name, conf->cid_name, v);
	if (!strcasecmp(p, "caller_id_number"))
		return swap_str(call, &conf->cid_num, conf->cid_num, v);
	return SUB_USAGE;
}

/*
 * exit_sound|enter_sound on|off|none|file <f>. The events go by the `lock`
 * suppress-events name (sic, spec 9).
 */
static int sub_sound(struct api_call *call, struct conference *conf, int argc, char **argv)
{
	bool enter = !strcasecmp(argv[1], "enter_sound");
	const char *what = enter ? "enter" : "exit";
	bool *on = enter ? &conf->enter_sound_on : &conf->exit_sound_on;
	char **file = enter ? &conf->enter_sound : &conf->exit_sound;
	const char *cur = *file ? *file : conf_sound(conf, enter ? "enter-sound" : "exit-sound",
						      "");
	char action[32];
	char *s = NULL;

	if (argc <= 2) {
		api_printf(call, "-ERR Not enough args\n");
		return SUB_USAGE;
	}
	if (!strcasecmp(argv[2], "on") || !strcasecmp(argv[2], "off") ||
	    !strcasecmp(argv[2], "none")) {
		*on = !strcasecmp(argv[2], "on");
		api_printf(call, "+OK %s %s sounds %s (%s)\n", argv[0], what, *on ? "on" : "off",
			   cur);
		snprintf(action, sizeof(action), "%s-sounds-%s", what, *on ? "on" : "off");
	} else if (!strcasecmp(argv[2], "file")) {
		if (argc < 4)
			return api_printf(call, "-ERR No filename specified\n");
		if (str_dup(&s, argv[3]))
			return ENOMEM;
		api_printf(call, "+OK Old %s sound: [%s]\n", what, cur);
		mem_deref(*file);
		*file = s;
		api_printf(call, "+OK %s %s sound file set to %s\n", argv[0], what, s);
		snprintf(action, sizeof(action), "%s-sound-file-changed", what);
	} else {
		api_printf(call, "-ERR Bad args\n");
		return SUB_USAGE;
	}
	conf_event_simple(conf, NULL, action, "lock");
	return 0;
}

static int set_pin(char **field, const char *v)
{
	char *s = NULL;

	if (v && str_dup(&s, v))
		return ENOMEM;
	mem_deref(*field);
	*field = s;
	return 0;
}

/* pin <pin> | pin mod <pin> | nopin */
static int sub_pin(struct api_call *call, struct conference *conf, int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[2], "mod")) {
		if (set_pin(&conf->mpin, argv[3]))
			return ENOMEM;
		return api_printf(call, "+OK Moderator Pin for conference %s set: %s\n",
				  argv[0], conf->mpin);
	}
	if (argc == 3 && !strcasecmp(argv[1], "pin")) {
		if (set_pin(&conf->pin, argv[2]))
			return ENOMEM;
		return api_printf(call, "+OK Pin for conference %s set: %s\n", argv[0],
				  conf->pin);
	}
	if (argc == 2 && !strcasecmp(argv[1], "nopin")) {
		(void)set_pin(&conf->pin, NULL);
		return api_printf(call, "+OK Pin for conference %s deleted\n", argv[0]);
	}
	api_printf(call, "-ERR Invalid parameters:\n");
	return SUB_USAGE;
}

/* ---- dial / bgdial (spec 8) -------------------------------------------------- */

/* May run before conf_dial returns (a dial string that fails at once). */
static void dial_done(enum hangup_cause cause, const char *dest, void *arg)
{
	struct api_call *call = arg;

	(void)dest;
	api_printf(call, T_CALL_RESULT, cause_name(cause));
	api_finish(call);
}

/*
 * dial|bgdial <endpoint>/<dest> [<cid_num> [<cid_name>]]: the room need not
 * exist (conf NULL: argv[0] is "<name>[@<profile>]"); the call creates it.
 * dial answers when the call has; api_finish before the handler returns is
 * allowed (api.c: finished_early).
 */
static int sub_dial(struct api_call *call, struct conference *conf, int argc, char **argv)
{
	bool bg = !strcasecmp(argv[1], "bgdial");
	struct conf_dial_opts o = {.timeout_s = DIAL_TIMEOUT_S};
	char job[UUID_STRLEN + 1], *room = NULL, *at;
	int err;

	if (argc <= 2) {
		api_printf(call, T_BAD_ARGS);
		return SUB_USAGE;
	}
	err = str_dup(&room, conf ? conf->name : argv[0]);
	if (err)
		return err;
	at = conf ? NULL : strrchr(room, '@');
	if (at) {
		*at = '\0';
		o.profile = at + 1;
	}
	o.cid_num = argc > 3 ? argv[3] : conf ? conf->cid_num : "0000000000";
	o.cid_name = argc > 4 ? argv[4] : conf ? conf->cid_name : "conference";
	if (bg) {
		cfuuid_generate(job);
		o.job = job;
		err = conf_dial(room, argv[2], &o, NULL, NULL);
		if (!err)
			err = api_printf(call, T_JOB, job);
	} else {
		err = conf_dial(room, argv[2], &o, dial_done, call);
		if (!err)
			err = EINPROGRESS;
	}
	mem_deref(room);
	return err;
}

/* ---- transfer ------------------------------------------------------------------ */

/*
 * The member moves within its running `conference` application, so the
 * dialplan goes on only when it leaves the new room (FreeSWITCH transfers to
 * the inline dialplan `conference:<conf>@<profile>` for the same effect).
 */
static void transfer_member(struct conference *conf, struct conf_member *m,
			    const char *name, const char *typed, const char *profile)
{
	struct event *ev;

	channel_var_set(m->ch, "last_transfered_conference", name);
	/* While it is still a member: the event carries its block. */
	if (!conf_suppressed(conf, "transfer") && !conf_event(conf, m, NULL, &ev)) {
		event_add_header(ev, "Old-Conference-Name", conf->name);
		event_add_header(ev, "New-Conference-Name", typed);
		event_add_header(ev, "Action", "transfer");
		conf_event_fire(ev, "transfer");
	}
	(void)conf_member_transfer(m, name, profile);
}

/* transfer <conf>[@<profile>] <id> [<id> ...] */
static int sub_transfer(struct api_call *call, struct conference *conf, int argc,
			char **argv)
{
	char *name = NULL, *at;
	const char *profile = "default";
	int i, err;

	if (argc <= 3 || !*argv[2])
		return SUB_USAGE;
	err = str_dup(&name, argv[2]);
	if (err)
		return err;
	at = strchr(name, '@');
	if (at) {
		*at = '\0';
		profile = at + 1;
	}
	/* Moving the last member out ends the room: hold it while we go on. */
	mem_ref(conf);
	for (i = 3; i < argc; i++) {
		uint32_t id = (uint32_t)atoi(argv[i]);
		struct conf_member *m = id ? conf_member_find(conf, id) : NULL;

		if (!m || !m->ch) {
			api_printf(call, "-ERR No Member %u in conference %s.\n", id, conf->name);
			continue;
		}
		transfer_member(conf, m, name, argv[2], profile);
		api_printf(call, "+OK Member '%u' sent to conference %s.\n", id, argv[2]);
	}
	mem_deref(conf);
	mem_deref(name);
	return err;
}

/* ---- the table ---------------------------------------------------------------- */

typedef int (room_fn)(struct api_call *call, struct conference *conf, int argc,
		      char **argv);

struct sub {
	const char *name;
	const char *syntax;       /* FreeSWITCH's psyntax, for help and usage */
	member_fn *member;        /* argv[2] names the members */
	room_fn *room;
	bool global;              /* also without a room: list, count, dial ... */
	int words;                /* > 0: the last of this many words is the rest of the line */
};

/* conference_api_sub_commands[] order, less the video ones. */
static const struct sub subs[] = {
	{"count", "", NULL, conf_api_count, true, 0},
	{"list", "[delim <string>]|[count]", NULL, conf_api_list, true, 0},
	{"xml_list", "", NULL, conf_api_xml_list, true, 0},
	{"json_list", "[compact]", NULL, conf_api_json_list, true, 0},
	{"energy", "<member_id|all|last|non_moderator> [<newval>]", mem_energy, NULL, false, 0},
	{"volume_in", "<member_id|all|last|non_moderator> [<newval>]", mem_volume_in, NULL,
	 false, 0},
	{"volume_out", "<member_id|all|last|non_moderator> [<newval>]", mem_volume_out, NULL,
	 false, 0},
	{"play", "<file_path> [async|<member_id> [nomux]]", NULL, sub_play, false, 0},
	{"moh", "<file_path>|toggle|[on|off]", NULL, sub_moh, false, 0},
	{"pause_play", "[<member_id>]", NULL, sub_pause_play, false, 0},
	{"say", "<text>", NULL, sub_say, false, 3},
	{"saymember", "<member_id> <text>", NULL, sub_saymember, false, 4},
	{"stop", "<[current|all|async|last]> [<member_id>]", NULL, sub_stop, false, 0},
	{"dtmf", "<[member_id|all|last|non_moderator]> <digits>", mem_dtmf, NULL, false, 0},
	{"kick", "<[member_id|all|last|non_moderator]> [<optional sound file>]", mem_kick,
	 NULL, false, 0},
	{"hup", "<[member_id|all|last|non_moderator]>", mem_hup, NULL, false, 0},
	{"hold", "<[member_id|all]|last|non_moderator> [file]", mem_hold, NULL, false, 0},
	{"unhold", "<[member_id|all]|last|non_moderator>", mem_unhold, NULL, false, 0},
	{"mute", "<[member_id|all]|last|non_moderator> [<quiet>]", mem_mute, NULL, false, 0},
	{"tmute", "<[member_id|all]|last|non_moderator> [<quiet>]", mem_tmute, NULL, false, 0},
	{"unmute", "<[member_id|all]|last|non_moderator> [<quiet>]", mem_unmute, NULL, false, 0},
	{"deaf", "<[member_id|all]|last|non_moderator>", mem_deaf, NULL, false, 0},
	{"undeaf", "<[member_id|all]|last|non_moderator>", mem_undeaf, NULL, false, 0},
	{"relate", "<member_id>[,<member_id>] <other_member_id>[,<other_member_id>] "
	 "[nospeak|nohear|clear]", NULL, sub_relate, false, 0},
	{"lock", "", NULL, sub_lock, false, 0},
	{"unlock", "", NULL, sub_lock, false, 0},
	{"dial", "<endpoint_module_name>/<destination> <callerid number> <callerid name>",
	 NULL, sub_dial, true, 0},
	{"bgdial", "<endpoint_module_name>/<destination> <callerid number> <callerid name>",
	 NULL, sub_dial, true, 0},
	{"transfer", "<conference_name> <member id> [...<member id>]", NULL, sub_transfer,
	 false, 0},
	{"record", "<filename>", NULL, sub_record, false, 0},
	{"chkrecord", "<confname>", NULL, sub_chkrecord, false, 0},
	{"norecord", "<[filename|all]>", NULL, sub_norecord, false, 0},
	{"pause", "<filename>", NULL, sub_pauserec, false, 0},
	{"resume", "<filename>", NULL, sub_pauserec, false, 0},
	{"recording", "[start|stop|check|pause|resume] [<filename>|all]", NULL, sub_recording,
	 false, 0},
	{"exit_sound", "on|off|none|file <filename>", NULL, sub_sound, false, 0},
	{"enter_sound", "on|off|none|file <filename>", NULL, sub_sound, false, 0},
	{"pin", "<pin#>", NULL, sub_pin, false, 0},
	{"nopin", "", NULL, sub_pin, false, 0},
	{"get", "<parameter-name>", NULL, sub_get, false, 0},
	{"set", "<max_members|sound_prefix|caller_id_name|caller_id_number|"
		"endconference_grace_time> <value>", NULL, sub_set, false, 0},
	{"file-vol", "<vol#>", NULL, sub_file_vol, false, 0},
	{"floor", "<member_id|last>", mem_floor, NULL, false, 0},
	{"getvar", "<var>", NULL, sub_getvar, false, 0},
	{"setvar", "<var> <value>", NULL, sub_setvar, false, 0},
	{"get-uuid", "<member_id|last>", mem_get_uuid, NULL, false, 0},
};

#define NSUBS (sizeof(subs) / sizeof(subs[0]))

/* The registered syntax (`show api`): FreeSWITCH's "\t\t<cmd> <syntax>" lines. */
static char api_syntax[4096];

static void build_syntax(void)
{
	size_t i, len = 0;

	api_syntax[0] = '\0';
	for (i = 0; i < NSUBS && len < sizeof(api_syntax); i++) {
		int n = snprintf(api_syntax + len, sizeof(api_syntax) - len, "\t\t%s%s%s%s",
				 subs[i].name, *subs[i].syntax ? " " : "", subs[i].syntax,
				 i + 1 < NSUBS ? "\n" : "");

		if (n < 0)
			break;
		len += (size_t)n;
	}
}

/*
 * FreeSWITCH prints api_syntax and a newline; the same text, line by line:
 * one write that fills the call's output buffer exactly makes api.c's
 * complete() hand out a pointer its NUL terminator has just moved.
 */
/* Help names pause_play "pause" (its pcommand in FreeSWITCH's table). */
static const char *sub_shown(const struct sub *s)
{
	return strcmp(s->name, "pause_play") ? s->name : "pause";
}

static int print_help(struct api_call *call)
{
	size_t i;
	int err = 0;

	for (i = 0; i < NSUBS; i++)
		err |= api_printf(call, "\t\t%s%s%s\n", sub_shown(&subs[i]),
				  *subs[i].syntax ? " " : "", subs[i].syntax);
	return err;
}

static const struct sub *sub_find(const char *name)
{
	size_t i;

	for (i = 0; i < NSUBS; i++)
		if (!strcasecmp(subs[i].name, name))
			return &subs[i];
	return NULL;
}

static int run_sub(struct api_call *call, const struct sub *s, struct conference *conf,
		   int argc, char **argv)
{
	int err;

	if (s->member)
		return member_target(call, conf, s->member, argc, argv, s->name, s->syntax);
	err = s->room(call, conf, argc, argv);
	if (err == SUB_USAGE)
		return api_printf(call, "%s %s", s->name, s->syntax);
	return err;
}

/* conference <name> <cmd> ...: the room is held, as a command may end it. */
static int dispatch(struct api_call *call, struct conference *conf, int argc, char **argv)
{
	const struct sub *s;
	int err;

	if (argc < 2)
		return api_printf(call, T_NOT_SPECIFIED);
	s = sub_find(argv[1]);
	if (!s)
		return api_printf(call, T_NO_SUBCMD, argv[1]);
	mem_ref(conf);
	err = run_sub(call, s, conf, argc, argv);
	mem_deref(conf);
	return err;
}

/*
 * No room of that name: list, count, xml_list, json_list and help stand
 * alone (argv[0] is the sub-command: shift it to argv[1] with an empty room
 * name, so each sees one layout); dial and bgdial create the room.
 */
static int no_room(struct api_call *call, int argc, char **argv)
{
	const struct sub *s = sub_find(argv[0]);
	char *av[MAX_ARGS + 1];
	char empty[1] = "";

	if (!strcasecmp(argv[0], "help") || !strcasecmp(argv[0], "commands"))
		return print_help(call);
	if (s && s->global && strcasecmp(s->name, "dial") && strcasecmp(s->name, "bgdial")) {
		av[0] = empty;
		memcpy(av + 1, argv, (size_t)argc * sizeof(*argv));
		return run_sub(call, s, NULL, argc + 1, av);
	}
	if (argc > 1 && (!strcasecmp(argv[1], "dial") || !strcasecmp(argv[1], "bgdial")))
		return run_sub(call, sub_find(argv[1]), NULL, argc, argv);
	return api_printf(call, T_NOT_FOUND, argv[0]);
}

static int cmd_conference(struct api_call *call, const char *args)
{
	char *buf = NULL, *argv[MAX_ARGS];
	struct conference *conf;
	int argc, err;
	size_t i;

	err = str_dup(&buf, args ? args : "");
	if (err)
		return err;
	argc = split_args(buf, argv, MAX_ARGS);
	if (!argc) {
		/* Sic: the literal "<conf name>" (conference_api_main). */
		for (i = 0; i < NSUBS; i++)
			api_printf(call, "<conf name> %s %s\n", sub_shown(&subs[i]),
				   subs[i].syntax);
		mem_deref(buf);
		return 0;
	}
	/* A room's name wins over a sub-command's, as in FreeSWITCH. */
	conf = conf_find(argv[0]);
	if (conf && argc > 1 && sub_find(argv[1]) && sub_find(argv[1])->words) {
		/* Text commands: split again, the text kept whole (ARGS_AS_ONE). */
		int words = sub_find(argv[1])->words;

		mem_deref(buf);
		buf = NULL;
		err = str_dup(&buf, args);
		if (err)
			return err;
		argc = split_args(buf, argv, words);
	}
	err = conf ? dispatch(call, conf, argc, argv) : no_room(call, argc, argv);
	mem_deref(buf);
	return err;
}

int conf_api_init(void)
{
	build_syntax();
	return api_register("conference", api_syntax, "Conference module commands",
			    cmd_conference);
}

void conf_api_close(void)
{
	api_unregister("conference");
}
