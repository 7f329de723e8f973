/*
 * conf_moh.c - music on hold: the room's hold music plays, looping, while a
 * member is alone or the members wait for the moderator, and yields to the
 * room's queued files. Signalling thread only.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <re.h>
#include "core/log.h"
#include "media/play.h"
#include "conference/conf_int.h"

const char *conf_moh_sound(const struct conference *conf)
{
	if (conf->tmp_moh)
		return conf->tmp_moh;
	if (conf->moh_sound)
		return conf->moh_sound;
	return conf_sound(conf, "moh-sound", NULL);
}

/*
 * FreeSWITCH's rule (conference_thread_run): one member and nobody with
 * `nomoh`, or the members waiting for a moderator (wait-mod). Ghosts do not
 * count, so a ghost alone hears none.
 */
static bool moh_wanted(const struct conference *conf)
{
	bool moderator = false;
	struct le *le;

	if (conf->destroying || conf->moh_off || !conf->count || !conf_moh_sound(conf))
		return false;
	for (le = list_head(&conf->members); le; le = le->next) {
		const struct conf_member *m = le->data;

		if (m->nomoh)
			return false;
		moderator |= m->moderator;
	}
	return conf->count == 1 || (conf->wait_mod && !moderator);
}

/* The loop ended by itself (nothing in it to play) or its speech failed. */
static void moh_done(int err, void *arg)
{
	struct conference *conf = arg;

	conf->moh_playing = false;
	log_warn("conference %s: hold music %s stopped: %s\n", conf->name,
		 conf_moh_sound(conf), err ? strerror(err) : "it makes no sound");
}

static void moh_stop(struct conference *conf)
{
	if (!conf->moh_playing)
		return;
	conf->moh_playing = false;
	media_play_stop(conf->room);
	log_info("conference %s: hold music off\n", conf->name);
}

void conf_moh_update(struct conference *conf, bool restart)
{
	struct media_play_opts o = {.prefix = conf_prefix(conf), .loop = true};
	int err;

	if (restart || !moh_wanted(conf))
		moh_stop(conf);
	/* A queued file has the room's player; the music comes back after it. */
	if (conf->moh_playing || conf->playing || !moh_wanted(conf))
		return;
	err = media_play_ex(conf->room, conf_moh_sound(conf), &o, moh_done, conf);
	if (err) {
		log_warn("conference %s: cannot play the hold music %s: %s\n", conf->name,
			 conf_moh_sound(conf), strerror(err));
		return;
	}
	conf->moh_playing = true;
	log_info("conference %s: hold music %s on\n", conf->name, conf_moh_sound(conf));
}

void conf_moh_yield(struct conference *conf)
{
	moh_stop(conf);
}
