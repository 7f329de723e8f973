/*
 * say.h - FreeSWITCH's say engine (mod_say_en): a number, a date, an address
 * ... as the sound files that speak it, in FreeSWITCH's sound-pack names
 * (digits/1.wav, digits/hundred.wav, time/day-1.wav, ascii/97.wav ...), and
 * phrase macros (phrase.c) that combine files, say, speech and pauses.
 *
 * Modules: "en" (also "en:<lang>", "en-us"). Types: number, items, persons,
 * messages (methods pronounced, iterated, counted), telephone_number,
 * telephone_extension, account_number (digit by digit), ip_address,
 * name_spelled, name_phonetic, currency, time_measurement, current_date,
 * current_time, current_date_time, short_date_time (text: epoch seconds,
 * empty for now; in the server's local time zone).
 * Pure functions of their input except the dates (the clock). Any thread.
 */
#ifndef CONFAB_SAY_H
#define CONFAB_SAY_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The source that says `text`: "file_string://digits/1.wav!digits/hundred.wav"
 * (a single file alone), relative to the sound prefix; *sourcep (mem_deref).
 * ENOTSUP an unknown module, EINVAL an unknown type or method, or text the
 * type cannot say (not a number ...), ENOENT nothing to say.
 */
int  say_source(char **sourcep, const char *module, const char *type, const char *method,
		const char *gender, const char *text);

/*
 * The say application's argument, "<module> <type> <method> [<gender>] <text>"
 * (mod_dptools say), to a source as say_source. EINVAL when malformed.
 */
int  say_source_args(char **sourcep, const char *args);

/* ---- phrase macros (phrase.c) ------------------------------------------------- */

struct config;
struct channel;

/*
 * Compile every <language name=".."><phrases><macros><macro name=".."> of the
 * <section name="languages"> (or <phrases> directly under the root), checking
 * each pattern and action; on failure returns an errno value and writes
 * "file:line: problem" into err. Keeps the previous macros when it fails.
 * Signalling thread.
 */
int  phrase_load(const struct config *cfg, char *err, size_t errsz);
/* The reloadxml hook (config_on_reload). */
int  phrase_reload(const struct config *cfg, char *err, size_t errsz);
void phrase_close(void);
unsigned phrase_count(void);

/*
 * Run macro `name` of language `lang` (NULL: the channel's default_language,
 * else "en") on `data`: the first <input> whose pattern matches gives its
 * <match> actions ($1.. its captures), the others their <nomatch>; a
 * break="on-true" input that matched stops there. The result is one source
 * (file_string:// of files, say output, tts:// speech and silence for
 * sleep) for media_play; ENOENT no such macro, EINVAL an action that fails.
 * `ch` (may be NULL) gives tts_engine/tts_voice and expands ${vars}.
 */
int  phrase_source(char **sourcep, struct channel *ch, const char *name, const char *data,
		   const char *lang);

/*
 * What playback takes beyond media_play's sources, as FreeSWITCH's
 * switch_ivr_play_file does: "say:<text>" (speech with the channel's
 * tts_engine/tts_voice), "phrase:<macro>[:<data>]". *outp (mem_deref) is the
 * source to play; ENOENT/EINVAL as phrase_source, ENOTSUP no TTS engine set.
 */
int  say_expand(char **outp, struct channel *ch, const char *source);

/* "tts://<engine>|<voice>|<text>" with the channel's defaults (tts_engine, tts_voice). */
int  say_tts_source(char **outp, struct channel *ch, const char *engine, const char *voice,
		    const char *text);

#endif
