/*
 * tts.h - text to speech: engines and voices as FreeSWITCH scripts name them,
 * synthesised by the espeak-ng program into a WAV file, asynchronously.
 *
 * Engines: "espeak" and "espeak-ng" take espeak-ng voice names (en-us,
 * en-gb, en-us+f3 ...; empty or "default": en-us); "flite" maps flite's voices
 * onto espeak-ng ones (kal, kal16: en-us; slt: en-us+f3; rms: en-us+m3; awb:
 * en-gb-scotland), so FreeSWITCH's set_tts_params("flite", "kal") speaks.
 * A synthesis is a child process whose end the signalling loop learns from a
 * pidfd: nothing waits for it, neither the loop nor the media workers.
 * Threads: signalling thread only; the handler runs on it too.
 */
#ifndef CONFAB_TTS_H
#define CONFAB_TTS_H

struct tts_job;

/*
 * err 0: `path` is a WAV file (espeak-ng's 22050 Hz; media_play resamples it),
 * valid until the job is freed. EIO: the synthesiser failed (logged with its
 * own words). Called once; the handler may free the job.
 */
typedef void (tts_done_h)(int err, const char *path, void *arg);

/*
 * The espeak-ng voice for an engine's voice: *outp (mem_deref). ENOTSUP an
 * unknown engine, ENOENT a flite voice that has no counterpart.
 */
int  tts_voice(const char *engine, const char *voice, char **outp);

/*
 * Synthesise `text` with engine/voice (as tts_voice); the job (mem_deref)
 * kills the synthesiser if it still runs and removes the file. Errors now:
 * ENOTSUP, ENOENT (tts_voice, logged), EINVAL no text, EBUSY too many at once,
 * or what starting the program failed with.
 */
int  tts_synth(struct tts_job **jobp, const char *engine, const char *voice,
	       const char *text, tts_done_h *h, void *arg);

/*
 * "engine|voice|text" (the part after tts:// and the speak application's
 * argument) split: the pointers go into `buf`, which is changed. Without a
 * '|' it is all text and engine/voice are NULL (the caller's defaults).
 */
void tts_split(char *buf, char **enginep, char **voicep, char **textp);

#endif
