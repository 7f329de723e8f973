/*
 * media.h - RTP media: a pool of media worker threads, each with its own epoll
 * loop and 20 ms tick, owning RTP streams (G.711 u-law/A-law, RFC 4733
 * telephone-events, adaptive jitter buffer, symmetric RTP, media timeout).
 *
 * Threads: every function here is for the signalling thread. A stream's
 * packets are handled on the worker that owns it; what the worker has to tell
 * the core (a DTMF digit, a media timeout) arrives through media_event_h on the
 * signalling thread. The hot path (per packet, per frame) allocates nothing,
 * takes no lock and logs nothing.
 */
#ifndef CONFAB_MEDIA_H
#define CONFAB_MEDIA_H

#include <stdbool.h>
#include <stdint.h>

struct sa;
struct media_stream;

enum media_codec {
	MEDIA_PCMU = 0,    /* RTP payload type 0 */
	MEDIA_PCMA = 8,    /* RTP payload type 8 */
};

struct media_cfg {
	uint16_t rtp_start;          /* switch.conf rtp-start-port (16384) */
	uint16_t rtp_end;            /* switch.conf rtp-end-port (32767) */
	unsigned workers;            /* 0: one per core */
	unsigned media_timeout_ms;   /* no RTP for this long: MEDIA_EV_TIMEOUT (0 off) */
};

int  media_init(const struct media_cfg *cfg);
void media_close(void);

/* Negotiated parameters of one stream (from SDP). */
struct media_params {
	enum media_codec codec;
	uint8_t pt;                  /* payload type the peer uses for the codec */
	uint8_t te_pt;               /* telephone-event payload type, 0: none */
	unsigned ptime_ms;           /* 20 by default */
	bool send;                   /* false while on hold (sendonly/inactive) */
	bool recv;
};

enum media_ev {
	MEDIA_EV_DTMF,               /* a telephone-event digit ended */
	MEDIA_EV_TIMEOUT,            /* no RTP for media_timeout_ms */
	MEDIA_EV_LATCHED,            /* first packet: remote address learned */
	MEDIA_EV_PLAY_DONE,          /* play.h: reaches media_play's handler, not this one */
};

struct media_ev_data {
	char digit;                  /* MEDIA_EV_DTMF: 0-9 * # A-D */
	unsigned duration_ms;        /* MEDIA_EV_DTMF */
};

/* Signalling thread, never after the stream was freed. */
typedef void (media_event_h)(struct media_stream *ms, enum media_ev ev,
			     const struct media_ev_data *d, void *arg);

/*
 * Bind a new RTP port (even, from the configured range) on `local_ip` and give
 * the stream to a worker. Free with mem_deref: the worker stops it and the port
 * returns to the pool.
 */
int  media_stream_alloc(struct media_stream **msp, const char *local_ip,
			media_event_h *eventh, void *arg);
uint16_t media_stream_port(const struct media_stream *ms);

/* Where to send, and what; may be called again (re-INVITE, hold, unhold). */
int  media_stream_set_remote(struct media_stream *ms, const struct sa *remote,
			     const struct media_params *prm);
const struct media_params *media_stream_params(const struct media_stream *ms);

/* Send RFC 4733 events for `digits` (0-9 * # A-D), each `duration_ms` long. */
int  media_stream_send_dtmf(struct media_stream *ms, const char *digits,
			    unsigned duration_ms);

/*
 * Connect two streams: what each receives is played to the other (transcoded if
 * their codecs differ). One stream may be linked to itself (echo). A stream is
 * in at most one link; linking again replaces it.
 */
int  media_stream_link(struct media_stream *a, struct media_stream *b);
void media_stream_unlink(struct media_stream *ms);

/*
 * Conference mixing (mix.c). A room is a stream without a socket, owned by one
 * worker; members are streams moved to that worker. Every tick the room sums
 * what its talking members say (gain volume_in applied, at most max_talkers of
 * the loudest), and each member hears the sum without itself, at its
 * volume_out, saturated. The room mixes at its rate (G.711 members resampled
 * up, and what they hear down again). Members that hear the plain sum share
 * one encoded frame per codec. Playing to the room (media_play on it) is heard by every member;
 * recording the room (media_record on it) records the whole mix.
 */
struct media_room_cfg {
	unsigned comfort_noise;      /* peak level of noise in a silent room, 0 off */
	unsigned max_talkers;        /* loudest talkers mixed at once, 0: all */
	unsigned rate;               /* Hz the room mixes at, 0: 8000 (media_room_rate_ok) */
};

/* Rates a room mixes at: 8000 times 1..6 (8, 16, 24, 32, 40, 48 kHz). */
bool media_room_rate_ok(unsigned rate);
/* The rate a stream's audio is at: a room's rate, else 8000. */
unsigned media_stream_rate(const struct media_stream *ms);

int  media_room_alloc(struct media_stream **roomp, const struct media_room_cfg *cfg);

/* Members one member may be kept from hearing (conference relate). */
#define MEDIA_MIX_DEAF_MAX 32

struct media_mix_prm {
	bool speak;                  /* false: muted, still measured (mute-detect) */
	bool hear;                   /* false: deaf, hears silence */
	int vol_in;                  /* -4..4: gain on what the member says */
	int vol_out;                 /* -4..4: volume of what the member hears */
	unsigned energy_level;       /* mean |sample| a frame needs to count as talk, 0 any */
	/* Members whose voice is left out of what this one hears: media_mix_member_id. */
	unsigned ndeaf_to;
	uint32_t deaf_to[MEDIA_MIX_DEAF_MAX];
};

/* Talk detection: the member started (true) or stopped talking; signalling thread. */
typedef void (media_mix_h)(struct media_stream *ms, bool talking, unsigned energy,
			   void *arg);

/*
 * Put `ms` into `room` (leaving its link or another room); it moves to the
 * room's worker. `h` hears its talk transitions until media_mix_leave.
 */
int  media_mix_join(struct media_stream *room, struct media_stream *ms,
		    const struct media_mix_prm *prm, media_mix_h *h, void *arg);
int  media_mix_set(struct media_stream *ms, const struct media_mix_prm *prm);
void media_mix_leave(struct media_stream *ms);
/* What names ms in another member's deaf_to (fixed for the stream's life). */
uint32_t media_mix_member_id(const struct media_stream *ms);
/* The member's last measured energy (mean |sample| of its last frame). */
unsigned media_mix_energy(const struct media_stream *ms);

/*
 * Packet counters for channel variables (rtp_audio_in_packet_count ...).
 * in_packets/in_bytes count accepted RTP packets (audio and telephone-events);
 * in_skipped counts every datagram dropped: not RTP, wrong payload type,
 * foreign source, too late for the jitter buffer or a duplicate. The fields
 * after in_skipped break it down and describe the jitter buffer.
 */
struct media_stats {
	uint64_t in_packets, out_packets, in_bytes, out_bytes, in_skipped;
	uint64_t in_invalid;         /* not RTP, truncated, wrong version/lengths */
	uint64_t in_wrong_pt;        /* neither the codec's nor the telephone-event PT */
	uint64_t in_foreign;         /* from another address with the latched SSRC */
	uint64_t in_late;            /* arrived after its playout time */
	uint64_t in_dup;             /* every sample already buffered */
	uint64_t concealed;          /* 20 ms frames played with nothing received */
	unsigned jb_ms;              /* jitter buffer depth now */
};
void media_stream_stats(const struct media_stream *ms, struct media_stats *st);

/*
 * Health of the worker ticks since media_init or the last
 * media_tick_stats_reset (for `show media`-style commands and bench/): how late
 * each 20 ms tick started after its timer expired, how long after the expiry it
 * finished (all streams received, mixed and sent), and the workers' CPU time.
 */
struct media_tick_stats {
	unsigned workers, streams;
	uint64_t ticks;              /* ticks processed, all workers */
	uint64_t overruns;           /* ticks skipped because a worker fell behind */
	unsigned late_p50_us, late_p99_us, late_max_us;
	unsigned done_p50_us, done_p99_us, done_max_us;
	double cpu_s;                /* CPU seconds of all worker threads */
	double worker_cpu_s[8];      /* the first eight workers, each */
};
void media_tick_stats(struct media_tick_stats *ts);
void media_tick_stats_reset(void);

#endif
