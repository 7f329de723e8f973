/*
 * play.h - playing sounds into a media stream and recording what it receives.
 *
 * A player sends its source to the phone instead of (or mixed over) what the
 * linked partner says; when it has played to the end the handler runs. Sources,
 * as FreeSWITCH names them:
 *   tone_stream://<TGML>          e.g. %(1000,0,1000) or L=3;%(100,100,350,440)
 *   silence_stream://<ms>         -1 for ever
 *   file_string://<a>!<b>!<c>     each of these in turn
 *   tts://<engine>|<voice>|<text>  speech (tts.h), synthesised first; also as
 *                                 a file_string:// item. Errors of synthesis
 *                                 come later, through the handler (EIO)
 *   <path>                        any file libsndfile reads, at any rate; relative
 *                                 paths are under the prefix
 * Files are decoded whole here, resampled to the stream's rate (8 kHz, a
 * room's media_stream_rate), before the worker gets the player:
 * the worker only copies frames. A recorder writes the stream's decoded audio
 * (8 kHz mono 16-bit WAV) from a ring the worker fills; the file is written
 * here, on the signalling thread, a few times a second.
 *
 * Threads: signalling thread only. Handlers run on it too.
 */
#ifndef CONFAB_PLAY_H
#define CONFAB_PLAY_H

#include <stdbool.h>
#include <stdint.h>

struct media_stream;

/* err 0: played to the end. */
typedef void (media_play_done_h)(int err, void *arg);

struct media_play_opts {
	const char *prefix;      /* directory of relative paths; NULL: sound_prefix, sounds_dir */
	bool mix;                /* mix over the partner's audio instead of replacing it */
	bool loop;               /* from the start again at the end, until stopped (hold music) */
};

/*
 * Start playing `source` on `ms`, replacing what it played before (whose
 * handler is then never called). Errors come now, before anything plays:
 * ENOENT a file is missing, EINVAL a malformed source, ENOTSUP a file
 * libsndfile cannot read or an unknown scheme, ENODEV the stream is gone.
 */
int  media_play(struct media_stream *ms, const char *source, media_play_done_h *h,
		void *arg);
int  media_play_ex(struct media_stream *ms, const char *source,
		   const struct media_play_opts *opts, media_play_done_h *h, void *arg);
/* Stop playing now; the handler is not called. Harmless when nothing plays. */
void media_play_stop(struct media_stream *ms);
bool media_playing(struct media_stream *ms);

/*
 * File control, the commands FreeSWITCH's switch_ivr_process_fh takes from an
 * input callback or uuid_fileman: "pause" (toggle), "seek:+N" / "seek:-N"
 * (ms from here; a bare sign is 1000), "seek:N" (ms from the start of the
 * current source), "restart", "volume:+N" / "volume:-N" / "volume:N" (steps,
 * -4..4, 0 is as recorded), "speed:..." (accepted, not supported: a logged
 * no-op), "stop" and "truncate" (end the playback as if it reached its end:
 * the handler runs with 0). Seeks act on the current item of a file_string://
 * list, as FreeSWITCH plays those one file at a time.
 */
enum media_fctl {
	MEDIA_FCTL_NONE,             /* "", "true", "undefined": nothing to do */
	MEDIA_FCTL_PAUSE,
	MEDIA_FCTL_SEEK,             /* val: ms, relative */
	MEDIA_FCTL_SEEK_TO,          /* val: ms from the start */
	MEDIA_FCTL_RESTART,
	MEDIA_FCTL_VOLUME,           /* val: steps, relative */
	MEDIA_FCTL_VOLUME_TO,
	MEDIA_FCTL_SPEED,            /* val: steps, relative */
	MEDIA_FCTL_SPEED_TO,
	MEDIA_FCTL_STOP,
	MEDIA_FCTL_TRUNCATE,
};

#define MEDIA_FCTL_VOL_MAX 4

struct media_fctl_cmd {
	enum media_fctl op;
	int val;
};

/*
 * Parse a command as switch_ivr_process_fh does. EINVAL for anything else
 * (which an input callback's caller takes as "stop"), and for "speed" or
 * "volume" without ":<value>". Any thread.
 */
int  media_fctl_parse(const char *cmd, struct media_fctl_cmd *fc);
/*
 * Apply fc to what plays on ms. ENOENT: nothing plays (or speech is still
 * being synthesised); ENOTSUP: speed, which is logged and ignored.
 */
int  media_play_control(struct media_stream *ms, const struct media_fctl_cmd *fc);
/* Whether "pause" has left what plays on ms paused. */
bool media_play_paused(struct media_stream *ms);

/*
 * Where a sound file is: absolute paths as they are, others under `prefix`;
 * failing that FreeSWITCH's layout with the rate directory (dir/8000/file),
 * and ".wav" added to a name without an extension. *pathp (mem_deref) is the
 * first candidate when nothing exists (ENOENT).
 */
int  media_sound_path(char **pathp, const char *file, const char *prefix);

/*
 * The length of `source` in ms once decoded, UINT64_MAX for ever; prefix as
 * media_play. Speech (tts://) is 0 once its engine and voice can speak.
 */
int  media_source_length(const char *source, const char *prefix, uint64_t *msp);

/*
 * err 0: the time limit was reached; EIO: writing failed (disk full ...): the
 * file holds what was written before, with a valid header.
 */
typedef void (media_record_done_h)(int err, uint64_t samples, void *arg);

/* Recordings one stream can run at once (a room's several files; each its own ring). */
#define MEDIA_REC_MAX 8

/*
 * Record what `ms` receives into `path` (WAV, mono 16-bit at 8 kHz, a room's
 * whole mix at the room's rate: media_stream_rate; samples count at it; missing
 * directories are made), for at most limit_ms (0: no limit), replacing a
 * recording already running on it (that one is closed, its handler never
 * called). The header is rewritten with every write, so the file is valid at
 * every moment. Errors: the errno of creating the file, ENODEV.
 */
int  media_record(struct media_stream *ms, const char *path, unsigned limit_ms,
		  media_record_done_h *h, void *arg);
/* Stop now and close the file; the handler is not called. Samples written. */
uint64_t media_record_stop(struct media_stream *ms);
/* Pause (nothing is written) or resume the recording; ENOENT when none runs. */
int  media_record_pause(struct media_stream *ms, bool pause);
bool media_record_paused(struct media_stream *ms);
/*
 * End the recording now as its time limit would: the handler runs (err 0).
 * With `truncate` the file is emptied first (FreeSWITCH's "truncate" file
 * command). ENOENT when none runs.
 */
int  media_record_end(struct media_stream *ms, bool truncate);
bool media_recording(struct media_stream *ms);

/*
 * Several recordings of one stream (a room's), each named by its path. The
 * single-recording calls above act on the first slot only: a stream uses
 * one kind or the other. media_record_add records `path` alongside the
 * others, as media_record does; EALREADY when `path` already records,
 * EBUSY when MEDIA_REC_MAX run (ENOSPC is a full disk's). Its handler runs
 * when that file ends by itself (an error, the limit), never for the others.
 */
int  media_record_add(struct media_stream *ms, const char *path, unsigned limit_ms,
		      media_record_done_h *h, void *arg);
/* Stop and close that file, handler not called; *samples: written. ENOENT: none. */
int  media_record_stop_file(struct media_stream *ms, const char *path, uint64_t *samples);
int  media_record_pause_file(struct media_stream *ms, const char *path, bool pause);

#endif
