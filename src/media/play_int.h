/*
 * play_int.h - the inside of media_play and media_record: TGML tone programs,
 * decoded sound files, the player and the recorder ring as a worker sees them,
 * and the few hooks tick.c, worker.c and stream.c call. Not for use outside
 * src/media (and the unit tests).
 */
#ifndef CONFAB_PLAY_INT_H
#define CONFAB_PLAY_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mstream;
struct media_stream;
struct media_play;
struct media_rec;
struct mplay;
struct cmd;

#define PLAY_RATE        8000
#define PLAY_FRAME       160             /* samples per 20 ms tick at 8 kHz */
/*
 * A player runs at its stream's rate: 8 kHz for a call, a room's rate (8 kHz
 * times 1..PLAY_MAX_UP, mix.c's MIX_MAX_UP) for a room.
 */
#define PLAY_MAX_UP      6
#define PLAY_FRAME_MAX   (PLAY_FRAME * PLAY_MAX_UP)
#define TONE_MAX_FREQS   4
/* Longest sound file loaded: ten minutes (9.6 MB of PCM at 8 kHz, 57.6 at 48). */
#define PLAY_MAX_SECONDS 600u

/* ---- TGML (tone.c) ---------------------------------------------------------- */

/* One %(on,off,f1[,f2..]) segment, in samples at the program's rate. */
struct tone_seg {
	uint32_t on, off;
	unsigned nfreq;
	uint32_t inc[TONE_MAX_FREQS];        /* phase step per sample, 2^32 = one cycle */
	int16_t amp;                         /* peak of each frequency */
	unsigned reps;                       /* l=N before it: played N times */
};

/* A parsed TGML script; `loops` whole plays, -1 for ever. One malloc block. */
struct tone_prog {
	int loops;
	unsigned nseg;
	struct tone_seg seg[];
};

/*
 * Parse FreeSWITCH's teletone markup as tone_stream:// takes it: segments
 * "%(on_ms,off_ms,freq[,freq...])" (or without the '%'), separated by ';',
 * "v=<dB>" volume for what follows (default -7 dBFS per tone), "l=N" repeat
 * the next segment N times, "L=N" (or ";loops=N" anywhere) play the script N
 * times in all, -1 for ever. Other FreeSWITCH settings (r=, c=, d=, >=, <=, +=,
 * w=) are accepted and ignored. Returns EINVAL on a malformed script or one
 * that makes no sound at all. `rate`: the samples per second it is made at
 * (a multiple of 1000). Free with free(). Any thread.
 */
int  tone_parse(const char *tgml, unsigned rate, struct tone_prog **progp);

/* Generator position inside a tone_prog; all zero is the start. */
struct tone_pos {
	unsigned seg, rep;
	int loop;
	uint32_t at;                         /* samples into the segment */
	uint32_t phase[TONE_MAX_FREQS];
};

/*
 * Write up to n samples of the program from pos; returns how many (fewer only
 * when the program ended). No allocation: worker-safe.
 */
unsigned tone_gen(const struct tone_prog *tp, struct tone_pos *pos, int16_t *out, unsigned n);

/* Total length in samples, or UINT64_MAX for ever. */
uint64_t tone_length(const struct tone_prog *tp);

/* Put pos `at` samples from the start, as tone_gen would have left it. Worker-safe. */
void tone_seek(const struct tone_prog *tp, struct tone_pos *pos, uint64_t at);

/* ---- sound files (sndfile.c) ----------------------------------------------- */

/*
 * Read a whole sound file that libsndfile knows (WAV, AU, FLAC, OGG ...), mix
 * its channels down and resample it to `rate` (the stream's) 16-bit in one
 * step: *pcmp (malloc) and *lenp samples. ENOENT if it does not exist,
 * ENOTSUP if libsndfile cannot read it. Files longer than PLAY_MAX_SECONDS
 * are cut there. Signalling thread.
 */
int  sound_load(const char *path, unsigned rate, int16_t **pcmp, size_t *lenp);
/*
 * What sound_load would make of the file without decoding it (its header
 * only): *lenp samples at `rate`, *nativep (may be NULL) the file's own rate.
 * The same errors. Cheap: any thread.
 */
int  sound_probe(const char *path, unsigned rate, size_t *lenp, unsigned *nativep);

/*
 * Windowed-sinc resampling of `n` float samples at `in_rate` to `out_rate`:
 * the anti-alias filter cuts at 0.45 of the lower rate. *outp (malloc), *outn.
 */
int  sound_resample(const float *in, size_t n, unsigned in_rate, unsigned out_rate,
		    int16_t **outp, size_t *outn);
/*
 * The kernel both resamplers use (this one and mix.c's, resample.c): a
 * low-pass at fc/2 cycles per sample, Blackman-windowed over |x| <= half.
 */
double sound_sinc(double x, double fc, double half);
/* The cut-off, as a share of the lower rate: 0.45 leaves a transition band. */
#define SOUND_CUTOFF 0.45

/* ---- the player (play.c) ---------------------------------------------------- */

enum mplay_kind { MPLAY_PCM, MPLAY_TONE, MPLAY_SILENCE };

struct mplay_src {
	enum mplay_kind kind;
	unsigned native;                     /* the file's own rate; the stream's otherwise */
	int16_t *pcm;                        /* MPLAY_PCM (owned) */
	uint64_t len;                        /* PCM, SILENCE: samples; UINT64_MAX for ever */
	struct tone_prog *tone;              /* MPLAY_TONE (owned) */
	char *path;                          /* MPLAY_PCM not decoded yet (malloc) */
};

/*
 * Where a player is, for media_play_status: written by the worker each tick
 * (relaxed atomics, no lock), read on the signalling thread. Two references,
 * the player's and the handle's; whoever drops the last frees it.
 */
struct mplay_stat {
	_Atomic unsigned refs;
	_Atomic uint64_t pos_ms;             /* into the current source */
	_Atomic uint64_t len_ms;             /* its length, UINT64_MAX for ever */
	_Atomic unsigned native;             /* its rate (a file's own) */
};

void mplay_stat_release(struct mplay_stat *st);
/* Publish p's position to its stat (if any). Worker-safe. */
void mplay_stat_update(struct mplay *p);

/*
 * A player as its worker owns it once CMD_PLAY delivered it: the sources in
 * order and where it is. Built and filled on the signalling thread, freed by
 * the worker (in a command, never in the tick) or with the command carrying it.
 */
struct mplay {
	uint16_t token;
	unsigned rate, flen;                 /* samples per second, per tick */
	bool mix;                            /* over the partner's audio, not instead */
	bool loop;                           /* the sources again at their end, for ever */
	bool looped;                         /* a sample since the last start: loop on */
	bool finished;                       /* sent MEDIA_UP_PLAY_DONE; plays nothing */
	uint32_t last_tick;                  /* the tick it last produced a frame for */
	bool ran;
	unsigned cur, nsrc;
	uint64_t pos;                        /* samples into the current source */
	struct tone_pos tpos;
	bool paused;                         /* file control (playctl.c): silence, time stands */
	int vol;                             /* -4..4 steps, 0 as recorded */
	int speed;                           /* -2..2 steps, 0 as recorded */
	bool sp_on;                          /* sp_in[0..1] and sp_phase carry on */
	uint32_t sp_phase;                   /* Q16, between sp_in[0] and sp_in[1] */
	struct mplay_stat *stat;             /* ref, NULL when nobody asks */
	int16_t out[PLAY_FRAME_MAX];
	int16_t sp_in[2 * PLAY_FRAME_MAX + 2]; /* the source samples a fast frame takes */
	struct mplay_src src[];
};

/*
 * Parse `source` into a player at `rate` (PLAY_RATE times 1..PLAY_MAX_UP):
 * files decoded and resampled to it now, tones made at it; relative paths
 * under prefix.
 */
int  mplay_build(struct mplay **pp, const char *source, const char *prefix, unsigned rate);
/*
 * The same, with files only found and their headers read (lengths exact,
 * the errors of a missing or unreadable file the same): mplay_decode then
 * decodes them, on any thread. mplay_undecoded: some are left to decode.
 */
int  mplay_probe(struct mplay **pp, const char *source, const char *prefix, unsigned rate);
int  mplay_decode(struct mplay *p);
bool mplay_undecoded(const struct mplay *p);
void mplay_free(struct mplay *p);

/* ---- decoding off the signalling thread (decode.c) -------------------------- */

struct mplay_job;

/* Signalling thread: p (owned now; NULL when err) decoded, or err. */
typedef void (mplay_decoded_h)(int err, struct mplay *p, void *arg);

/*
 * Queue p (owned by the job from now on) for a decoder thread; h runs on the
 * signalling thread once it is decoded, unless the job was cancelled. After
 * h the job is gone. Signalling thread.
 */
int  mplay_decode_start(struct mplay_job **jp, struct mplay *p, mplay_decoded_h *h,
			void *arg);
/* h will not run; the player is freed. Harmless with NULL. */
void mplay_decode_cancel(struct mplay_job *j);
/* media_close: the decoders stop; what is still queued is dropped. */
void mplay_decode_close(void);
/*
 * The next n samples; false when the sources ran out (the rest of out is
 * zeros; a looping player runs out only when its sources make no sound at
 * all). Pure: the unit tests drive it directly.
 */
bool mplay_read(struct mplay *p, int16_t *out, unsigned n);

/* ---- file control (playctl.c) ---------------------------------------------- */

/* Apply a media_fctl to the player: worker-safe, pure (the unit tests drive it). */
void mplay_control(struct mplay *p, int op, int val);
/* Scale n samples by the player's volume step, saturating. */
void mplay_volume(const struct mplay *p, int16_t *pcm, unsigned n);
/*
 * mplay_read at the player's speed step: n samples made from n / (1 - s/4)
 * of the source (tempo and pitch change together, as FreeSWITCH's do).
 */
bool mplay_read_speed(struct mplay *p, int16_t *out, unsigned n);

/* ---- the recorder ring (record.c) ------------------------------------------ */

/*
 * Single producer (the worker, one frame per tick) and single consumer (the
 * signalling thread's drain timer). Two references: the worker's and the
 * handle's; whoever drops the last frees it.
 */
struct mrec {
	_Atomic unsigned refs;
	_Atomic uint64_t head;               /* samples written, ever (producer) */
	_Atomic uint64_t tail;               /* samples read, ever (consumer) */
	_Atomic uint64_t dropped;            /* samples lost to a full ring */
	atomic_bool paused;                  /* media_record_pause: the worker skips */
	uint32_t cap;                        /* power of two */
	unsigned slot;                       /* where it hangs: < MEDIA_REC_MAX, fixed */
	int16_t buf[];
};

void mrec_put(struct mrec *r, const int16_t *pcm, unsigned n);   /* NULL: silence */
/* Copy out up to n samples; returns how many. */
size_t mrec_get(struct mrec *r, int16_t *out, size_t n);
void mrec_release(struct mrec *r);

/* ---- hooks ------------------------------------------------------------------ */

/*
 * tick.c, mix.c, worker: this tick's frame of st's player (its flen samples,
 * at its rate) over `under` (NULL: silence).
 */
const int16_t *media_player_frame(struct mstream *st, uint32_t tick, const int16_t *under);
/* tick.c, worker, after sending: a player that sent nothing this tick moves on. */
void media_player_idle(struct mstream *st, uint32_t tick);
/* worker.c, worker: CMD_PLAY, CMD_PLAY_STOP, CMD_PLAY_CTL, CMD_RECORD, CMD_RECORD_STOP. */
void media_ext_run(struct mstream *st, struct cmd *c);
/* worker.c, any thread: a command that will never run, and what it carries. */
void media_ext_cmd_free(struct cmd *c);
/* worker.c: the stream's state is being freed. */
void media_ext_state_free(struct mstream *st);

/* stream.c, signalling thread: a player finished (MEDIA_UP_PLAY_DONE). */
void media_play_up(struct media_stream *ms, struct media_play **slot, uint16_t token);
/* stream.c, signalling thread: the handle is being freed. */
void media_play_gone(struct media_play **slot);
void media_rec_gone(struct media_rec **slots);   /* all MEDIA_REC_MAX of them */

/* stream.c: send a play/record command to the worker owning ms (sets c->st). */
int  media_stream_cmd(struct media_stream *ms, struct cmd *c);
struct media_play **media_stream_play_slot(struct media_stream *ms);
/* The stream's MEDIA_REC_MAX recording slots. */
struct media_rec **media_stream_rec_slot(struct media_stream *ms);

#endif
