/*
 * apps_speech.c - the applications that talk: speak (text to speech), say
 * (mod_say) and phrase (phrase macros), played the way playback plays.
 */
#include <errno.h>
#include <string.h>
#include <re.h>
#include "channel/channel.h"
#include "core/log.h"
#include "dialplan/app.h"
#include "dialplan/apps.h"
#include "dialplan/dialplan_int.h"
#include "dialplan/say.h"
#include "media/tts.h"

/* speak <engine>|<voice>|<text>, <voice>|<text> or <text> (mod_dptools speak). */
static int app_speak(struct channel *ch, const char *args, struct app_exec *x)
{
	char *buf = NULL, *engine, *voice, *text, *src = NULL;
	int err;

	if (!args || !*args)
		return EINVAL;
	err = str_dup(&buf, args);
	if (err)
		return err;
	tts_split(buf, &engine, &voice, &text);
	if (engine)
		err = re_sdprintf(&src, "tts://%s|%s|%s", engine, voice, text);
	else if (voice)
		err = re_sdprintf(&src, "tts://%s|%s|%s", channel_var(ch, "tts_engine") ?
				  channel_var(ch, "tts_engine") : "", voice, text);
	else
		err = say_tts_source(&src, ch, NULL, NULL, text);
	if (err == ENOTSUP)
		log_warn("%s: speak: no TTS engine: set tts_engine (and tts_voice) or give "
			 "<engine>|<voice>|<text>\n", channel_name(ch));
	if (!err)
		err = dp_playback_start(ch, src, x);
	mem_deref(buf);
	mem_deref(src);
	return err;
}

/* say <module> <type> <method> [<gender>] <text> */
static int app_say(struct channel *ch, const char *args, struct app_exec *x)
{
	char *src = NULL;
	int err = say_source_args(&src, args);

	if (err) {
		log_warn("%s: say: cannot say '%s': %s\n", channel_name(ch), args ? args : "",
			 err == ENOTSUP ? "unknown module" : strerror(err));
		return err;
	}
	err = dp_playback_start(ch, src, x);
	mem_deref(src);
	return err;
}

/* phrase <macro_name>[,<data>] */
static int app_phrase(struct channel *ch, const char *args, struct app_exec *x)
{
	char *buf = NULL, *data, *src = NULL;
	int err;

	if (!args || !*args)
		return EINVAL;
	err = str_dup(&buf, args);
	if (err)
		return err;
	data = strchr(buf, ',');
	if (data)
		*data++ = '\0';
	err = phrase_source(&src, ch, buf, data, NULL);
	if (!err)
		err = dp_playback_start(ch, src, x);
	else
		log_warn("%s: phrase %s: %s\n", channel_name(ch), buf, strerror(err));
	mem_deref(buf);
	mem_deref(src);
	return err;
}

int apps_speech_init(void)
{
	int err = 0;

	err |= app_register("speak", "<engine>|<voice>|<text>", app_speak);
	err |= app_register("say", "<module_name>[:<lang>] <say_type> <say_method> "
			    "[<say_gender>] <text>", app_say);
	err |= app_register("phrase", "<macro_name>,<data>", app_phrase);
	return err ? EINVAL : 0;
}
