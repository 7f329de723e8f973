/*
 * conf_int.h - what the conference files share: profiles and caller-control
 * groups (conf_cfg.c), rooms and members (conference.c), the application
 * (conf_app.c), the API (conf_api.c), outcalls (conf_dial.c), music on
 * hold (conf_moh.c) and relationships (conf_relate.c).
 * Not for use outside src/conference. Signalling thread only.
 */
#ifndef CONFAB_CONF_INT_H
#define CONFAB_CONF_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <re.h>
#include "channel/channel.h"
#include "event/event.h"

struct media_stream;
struct app_exec;
struct config;

/* ---- configuration (conf_cfg.c) --------------------------------------------- */

struct conf_control {
	struct le le;
	char *digits;
	char *action;               /* "mute", "vol talk up" ... lower case */
	char *data;                 /* transfer / execute_application / event data */
};

struct conf_group {
	struct le le;
	char *name;
	struct list controls;
};

/* A <profile>: every param kept (names lower case, '_' as '-'), the usual ones typed. */
struct conf_profile {
	struct le le;
	char *name;
	struct list params;         /* struct conf_param */
	unsigned rate, interval;
	unsigned energy_level;
	unsigned comfort_noise;     /* FreeSWITCH's divisor, 0 off */
	unsigned max_members, announce_count, pin_retries, max_talkers;
	bool verbose_events;
};

struct conf_param {
	struct le le;
	char *name, *value;
};

/* One file the room records to (of at most MEDIA_REC_MAX); unlinks itself when freed. */
struct conf_rec {
	struct le le;
	struct conference *conf;
	char *path;
	bool paused;
	uint64_t started_us;
};

/* One loaded conference.conf; a reload replaces it, rooms keep theirs (refs). */
struct conf_cfg {
	struct list profiles;
	struct list groups;
};

int  conf_cfg_load(struct conf_cfg **cfgp, const struct config *cfg, char *err,
		   size_t errsz);
struct conf_profile *conf_profile_find(const struct conf_cfg *cc, const char *name);
struct conf_group *conf_group_find(const struct conf_cfg *cc, const char *name);
/* A name/value pair (value may be NULL), for profiles, room variables, lists. */
int  conf_param_alloc(struct conf_param **pp, const char *name, const char *value);
/* Is `flag` in a '|' or ',' separated list (case-insensitive)? list may be NULL. */
bool conf_flag_in(const char *list, const char *flag);
/* A profile parameter or NULL; prof may be NULL (no profile: defaults). */
const char *conf_param(const struct conf_profile *prof, const char *name);

/* ---- rooms and members (conference.c) --------------------------------------- */

enum conf_play_target { CONF_PLAY_ROOM, CONF_PLAY_MEMBER };

struct conf_member;

/* A file queued for the room. */
struct conf_file {
	struct le le;
	char *path;
	bool async;
	bool speech;                        /* conf_say: no play-file-done */
};

struct conference {
	struct le le;
	char *name;
	char uuid[37];
	char *prof_name;                    /* "none" when the profile is missing */
	struct conf_profile *prof;          /* ref, may be NULL */
	unsigned rate;                      /* Hz the room mixes at: the profile's rate */
	struct conf_cfg *cfg;               /* ref: the controls and profile live in it */
	struct media_stream *room;
	struct list members;                /* join order */
	unsigned count, ghosts;
	uint64_t start_us;

	bool locked, wait_mod, audio_always, dynamic, enforce_min, destroying;
	bool enter_sound_on, exit_sound_on;
	char *enter_sound, *exit_sound;     /* NULL: the profile's */
	char *pin, *mpin;
	unsigned max_members;
	char *cid_name, *cid_num, *sound_prefix;
	unsigned min;                       /* mintwo: 2 once reached */
	unsigned end_count;                 /* endconf members in the room */
	int grace;                          /* endconf-grace-time, s */
	struct tmr grace_tmr;               /* the last endconf member left: ends it */
	struct conf_member *floor;

	struct list vars;                   /* struct conf_param: conference variables */
	struct list files;                  /* queued room playback */
	bool playing;
	char *moh_sound;                    /* conference_moh_sound, else the profile's */
	char *tmp_moh;                      /* `moh <file>`: over both */
	bool moh_off;                       /* `moh off` (FreeSWITCH's CFLAG_NO_MOH) */
	bool moh_playing;                   /* the room's player plays the music */
	uint64_t play_started_us;
	struct list recs;                   /* struct conf_rec, oldest first */
	unsigned pending_outcalls;
	unsigned pending_joins;             /* callers at the pin prompt */
};

/* `relate <id> <oid>`: held by the member <id>, FreeSWITCH's conference_relationship_t. */
struct conf_rel {
	struct le le;
	uint32_t oid;
	bool nospeak;                       /* <id> is not heard by <oid> */
	bool nohear;                        /* <id> does not hear <oid> */
	bool sendvideo;                     /* kept for the listing; no video here */
};

struct conf_member {
	struct le le;
	struct conference *conf;            /* NULL once it left */
	uint32_t id;
	struct channel *ch;
	struct channel_watch *watch;
	struct app_exec *x;                 /* the `conference` application */
	struct media_stream *ms;

	bool speak, hear, talking, moderator, ghost, endconf, mintwo, mute_detect;
	bool kicked, joined, hold, nomoh;
	bool leaving;                       /* playing its last sound (kicked, locked) */
	int vol_in, vol_out, energy;
	uint64_t join_us, last_talk_us;
	char *kick_sound;
	char *play_file;                    /* playing to this member */
	uint64_t play_started_us;
	struct list rels;                   /* struct conf_rel, newest first */

	struct conf_group *controls;
	char digits[32];
	struct tmr dtmf_tmr;

	/* pin entry before joining */
	bool pin_wait;
	char *pin_room;                     /* the room's name: it may end meanwhile */
	char *pin;                          /* the data's pin for this caller, else the room's */
	char pin_buf[32];
	unsigned pin_tries;
	struct tmr pin_tmr;
};

/* Registry. */
struct conference *conf_find(const char *name);
struct list *conf_list(void);
struct conf_cfg *conf_current_cfg(void);
uint32_t conf_next_member_id(void);

int  conf_create(struct conference **confp, const char *name, const char *prof_name,
		 struct channel *ch);
/* Put an allocated member in; fires add-member, plays the sounds. */
int  conf_member_add(struct conference *conf, struct conf_member *m);
/* Take a member out (kick, hup, hangup, transfer); the app ends when kicked/hup. */
void conf_member_del(struct conf_member *m, const char *why);
struct conf_member *conf_member_find(struct conference *conf, uint32_t id);
/* Push speak/hear/volume/energy to the mixer. */
void conf_member_apply(struct conf_member *m);
void conf_member_play(struct conf_member *m, const char *file);
void conf_set_floor(struct conference *conf, struct conf_member *m);
void conf_destroy(struct conference *conf);
/* A caller who never joined went: a dynamic room left empty ends. */
void conf_check_abandoned(const char *name);

/* Room playback, queued; async plays over. */
int  conf_play(struct conference *conf, const char *file, bool async);
/*
 * Speak `text` to the room (queued like a file) or over what one member
 * hears, with the profile's tts-engine and tts-voice. ENOTSUP: the profile
 * has no tts-engine (or one tts.c does not know), EINVAL: no text.
 */
int  conf_say(struct conference *conf, const char *text);
int  conf_member_say(struct conf_member *m, const char *text);
enum conf_stop_mode { CONF_STOP_ALL, CONF_STOP_CURRENT, CONF_STOP_ASYNC };
unsigned conf_stop(struct conference *conf, enum conf_stop_mode mode);
/* Stop the member's file, with its play-file-member-done; 1 if one played. */
unsigned conf_member_stop(struct conf_member *m);
/*
 * Record the room to one more file (start-recording). EALREADY: that path
 * records already, EBUSY: MEDIA_REC_MAX files record, else media_record's.
 */
int  conf_record(struct conference *conf, const char *path);
/* Stop recording `path`, NULL: every file (stop-recording each). How many stopped. */
unsigned conf_norecord(struct conference *conf, const char *path);
/* Pause or resume `path` ("all": every file), no event; how many it acted on. */
unsigned conf_record_pause(struct conference *conf, const char *path, bool pause);
struct conf_rec *conf_rec_find(const struct conference *conf, const char *path);

/*
 * Music on hold (conf_moh.c): start or stop it as the room now stands (after
 * a join, a leave, the end of the queued files, `moh`); `restart`: the sound
 * changed. conf_moh_yield: a queued file takes the room's player.
 */
void conf_moh_update(struct conference *conf, bool restart);
void conf_moh_yield(struct conference *conf);
const char *conf_moh_sound(const struct conference *conf);     /* NULL: none */

/*
 * Relationships (conf_relate.c). conf_relate_set makes or replaces m's
 * relationship to o and updates both mixes; E2BIG: a member would be kept
 * from hearing more than MEDIA_MIX_DEAF_MAX others. conf_relate_clear:
 * ENOENT when there is none. conf_relate_fill: the mixer's deaf_to for m.
 * conf_relate_gone: m leaves its room (before m->conf is cleared).
 */
struct media_mix_prm;
struct conf_rel *conf_relate_find(const struct conf_member *m, uint32_t oid);
int  conf_relate_set(struct conf_member *m, struct conf_member *o, bool nospeak,
		     bool nohear, bool sendvideo);
int  conf_relate_clear(struct conf_member *m, uint32_t oid);
void conf_relate_fill(const struct conf_member *m, struct media_mix_prm *prm);
void conf_relate_gone(struct conf_member *m);

/* Conference variables. */
const char *conf_var(const struct conference *conf, const char *name);
int  conf_var_set(struct conference *conf, const char *name, const char *value);

/* Events: conference::maintenance with the conference block (and the member's). */
int  conf_event(struct conference *conf, struct conf_member *m, const char *action,
		struct event **evp);
void conf_event_fire(struct event *ev, const char *action);
/* The conference's suppress-events says no to this action's name. */
bool conf_suppressed(const struct conference *conf, const char *name);
void conf_event_simple(struct conference *conf, struct conf_member *m, const char *action,
		       const char *gate);

/* DTMF caller-controls. */
void conf_member_dtmf(struct conf_member *m, char digit);
/* Run one control action; `data` for transfer/execute_application/event. */
void conf_control_run(struct conf_member *m, const char *action, const char *data);

/* Sounds: resolve against the room's sound prefix. */
const char *conf_sound(const struct conference *conf, const char *param, const char *dflt);

/* Small views shared by the API and the listings. */
const char *conf_member_cid_name(struct conf_member *m);
const char *conf_member_cid_num(struct conf_member *m);
const char *conf_prefix(const struct conference *conf);    /* sound prefix, may be NULL */
int  conf_grace_time(const struct conference *conf);       /* endconf-grace-time, s */
void conf_set_grace_time(struct conference *conf, int s);
uint64_t conf_now_us(void);
unsigned long long conf_secs_since(uint64_t us);

/* ---- the API (conf_api.c) and its listings (conf_list.c) --------------------- */

struct api_call;
/* argv[0] is the room's name ("" for all rooms: conf NULL), argv[1] the sub-command. */
int  conf_api_list(struct api_call *call, struct conference *conf, int argc, char **argv);
int  conf_api_count(struct api_call *call, struct conference *conf, int argc, char **argv);
int  conf_api_xml_list(struct api_call *call, struct conference *conf, int argc,
		       char **argv);
int  conf_api_json_list(struct api_call *call, struct conference *conf, int argc,
			char **argv);

/* ---- application (conf_app.c) and outcalls (conf_dial.c) -------------------- */

int  conf_app_init(void);
/*
 * End the member's `conference` application (the dialplan goes on) once
 * `sound` (may be NULL) has played; drops the application's reference.
 */
void conf_member_finish(struct conf_member *m, const char *sound);
/* Move a member to room `name` (made with `profile` if it must), same application. */
int  conf_member_transfer(struct conf_member *m, const char *name, const char *profile);
int  conf_outcall_app_init(void);      /* conf_dial.c: conference_set_auto_outcall */
int  conf_api_init(void);
void conf_api_close(void);

/*
 * Place a call into a room. `dialstring` may list fallbacks with '|': each is
 * tried in turn until one answers; every try is reported with a
 * conference::maintenance "outcall-result" event naming the room, the
 * destination and the cause. `job` (may be NULL) makes it a bgdial: the
 * bgdial-result event carries it. done (may be NULL) gets the final cause.
 */
struct conf_dial_opts {
	const char *profile;
	const char *flags;
	const char *cid_name, *cid_num;
	unsigned timeout_s;
	const char *job;
	struct channel *aleg;               /* auto-outcall: its hangup cancels */
	const char *export_vars;            /* "a,b": copied from aleg */
	const char *announce;
};
typedef void (conf_dial_h)(enum hangup_cause cause, const char *dest, void *arg);
int  conf_dial(const char *room, const char *dialstring, const struct conf_dial_opts *o,
	       conf_dial_h *done, void *arg);
/* Auto-outcall on a member that just joined (its channel's stored list). */
void conf_auto_outcall(struct conf_member *m);
void conf_dial_close(void);

#endif
