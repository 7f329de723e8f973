/*
 * media_int.h - what the media files share: the worker-side stream state, the
 * commands the signalling thread sends to workers, and the event queue back.
 * Not for use outside src/media.
 */
#ifndef CONFAB_MEDIA_INT_H
#define CONFAB_MEDIA_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include "media/media.h"
#include "media/play.h"
#include "media/dtmf.h"
#include "media/jbuf.h"
#include "media/uring.h"

#define MEDIA_TICK_MS      20
#define MEDIA_FRAME        160          /* samples per tick at 8 kHz */
#define MEDIA_MAX_PTIME    60           /* ms per packet we send */

struct worker;

/* mix.c: rooms mix at 8 kHz times up to this (48 kHz), a frame of up to this many. */
#define MIX_MAX_UP         6
#define MIX_FRAME_MAX      (MEDIA_FRAME * MIX_MAX_UP)

/*
 * resample.c: 8 kHz <-> 8 kHz * up, one 20 ms frame a call, state carried
 * from frame to frame. MRS_TAPS taps at 8 kHz per output phase.
 */
#define MRS_TAPS           24
#define MRS_LEN_MAX        (MRS_TAPS * MIX_MAX_UP)
struct mrs_kernel {
	unsigned up, len;                   /* len = MRS_TAPS * up taps at the high rate */
	float down[MRS_LEN_MAX];            /* sums to 1 */
	float upk[MRS_LEN_MAX];             /* each phase sums to 1 */
};
struct mrs_up {
	float buf[MRS_TAPS - 1 + MEDIA_FRAME];
};
struct mrs_down {
	float buf[MRS_LEN_MAX - 1 + MIX_FRAME_MAX];
};
/* Any thread: the kernel for a factor 1..MIX_MAX_UP. */
void resample_init(struct mrs_kernel *k, unsigned up);
/* Worker: MEDIA_FRAME samples in (NULL: silence), MEDIA_FRAME * up out. */
void resample_up(const struct mrs_kernel *k, struct mrs_up *s, const int16_t *in,
		 int16_t *out);
/* Worker: MEDIA_FRAME * up samples in (NULL: silence), MEDIA_FRAME out. */
void resample_down(const struct mrs_kernel *k, struct mrs_down *s, const int16_t *in,
		   int16_t *out);
/* Worker: dst goes on from where src is (a member leaving the shared mix). */
void resample_down_copy(struct mrs_down *dst, const struct mrs_down *src,
			const struct mrs_kernel *k);

/* Counters written by the owning worker only, read anywhere (relaxed). */
struct mstream_stats {
	_Atomic uint64_t in_packets, out_packets, in_bytes, out_bytes, in_skipped;
	_Atomic uint64_t in_invalid, in_wrong_pt, in_foreign, in_late, in_dup;
	_Atomic uint64_t concealed;
	_Atomic unsigned jb_depth;          /* samples */
	_Atomic unsigned energy;            /* mix.c: mean |sample| of the last frame */
};

/*
 * mix.c: a member of a room as the room's worker sees it. Allocated on the
 * signalling thread, carried by CMD_MIX_JOIN, freed by the worker when the
 * member leaves, its stream goes or the room goes.
 */
struct mmember {
	struct mstream *room;               /* NULL: the room is gone */
	unsigned idx;                       /* in the room's member array */
	bool speak, hear;
	int gain_in, gain_out;              /* Q8, 256 = unity */
	unsigned level;                     /* energy gate */
	bool talking;
	unsigned below;                     /* frames under the gate while talking */
	unsigned energy;
	bool contrib;                       /* this tick: in the sum */
	unsigned ndeaf_to;                  /* relate: streams (ids) it does not hear */
	uint32_t deaf_to[MEDIA_MIX_DEAF_MAX];
	bool deaf_now;                      /* this tick: one of them is in the sum */
	enum { MIX_SILENT, MIX_SHARED, MIX_OWN } hears, heard;  /* this tick, the last */
	/* at the room's rate */
	int16_t hi[MIX_FRAME_MAX];          /* this tick's frame, resampled up */
	int16_t in[MIX_FRAME_MAX];          /* this tick's contribution, gain applied */
	int16_t out[MIX_FRAME_MAX];         /* what it hears, when not the shared mix */
	/* at 8 kHz */
	int16_t out8[MEDIA_FRAME];          /* out, resampled down */
	struct mrs_up rs_in;
	struct mrs_down rs_out;
};

/* mix.c: a room, on its (socketless) stream. */
struct mmix {
	struct mstream **m;                 /* members */
	unsigned n, cap;
	unsigned cn_level, max_talkers;
	unsigned rate, up, flen;            /* Hz, rate / 8000, samples per tick */
	uint32_t noise;                     /* comfort noise generator state */
	struct mstream **top;               /* max_talkers scratch: the loudest */
	int32_t sum[MIX_FRAME_MAX];
	int32_t acc[MIX_FRAME_MAX];         /* own_mix scratch: a sum less some members */
	int16_t mix[MIX_FRAME_MAX];         /* the whole mix, saturated, at the rate */
	int16_t mix8[MEDIA_FRAME];          /* the whole mix at 8 kHz: what members share */
	bool silent;
	uint8_t enc[2][MEDIA_FRAME];        /* mix8 encoded, PCMU and PCMA */
	bool enc_ok[2];
	struct mrs_kernel rs;
	struct mrs_down rs_mix;
};

/*
 * A stream as its worker sees it. Allocated on the signalling thread with
 * everything preallocated, then owned by exactly one worker at a time (or by
 * the command carrying it between workers), freed by the worker.
 */
struct mstream {
	uint32_t id;
	int fd;
	uint16_t port;
	unsigned slot;                      /* index in the owner's stream array */
	struct mstream *partner;            /* linked stream (itself for echo) */

	struct media_params prm;
	bool have_prm;
	uint8_t silence;                    /* the codec's encoded zero */
	struct sockaddr_storage remote;     /* from SDP, then the latched source */
	socklen_t remote_len;
	struct sockaddr_storage sdp;        /* as last given by set_remote */
	socklen_t sdp_len;
	bool latched;
	uint32_t rx_ssrc;
	uint32_t cand_ssrc;                 /* a new SSRC from the latched source ... */
	unsigned cand_n;                    /* ... seen this many times in a row */

	/* receive */
	uint32_t last_rx_tick;              /* for the media timeout */
	bool timeout_armed;
	struct cfjb jb;
	struct cftev_rx tev_rx;

	/* this tick's decoded frame (only when someone plays it) */
	bool frame_ready;
	bool frame_silent;
	unsigned plc_n;                     /* consecutive concealed frames */
	bool have_last;
	int16_t frame[MEDIA_FRAME];
	int16_t last[MEDIA_FRAME];          /* last frame received, for concealment */

	/* send */
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts;                        /* timestamp of this tick's audio */
	bool gap;                           /* next audio packet carries the marker */
	unsigned txlen;                     /* encoded samples waiting in txbuf */
	uint32_t txts;                      /* timestamp of txbuf[0] */
	uint8_t txbuf[MEDIA_MAX_PTIME * 8 + MEDIA_FRAME];
	uint8_t tevbuf[RFC4733_LEN];
	struct cftev_tx tev_tx;

	struct mstream_stats stats;

	/* play.c / record.c: what media_play and media_record hooked on (or NULL) */
	struct mplay *player;
	struct mrec *recorder[MEDIA_REC_MAX];   /* by the ring's slot */
	unsigned recorders;                     /* how many are set */

	/* mix.c: set on a room's stream / on a member's */
	struct mmix *mx;
	struct mmember *mm;
};

enum cmd_type {
	CMD_ADD,            /* st: a new stream for this worker */
	CMD_ATTACH,         /* st: a stream moved here from another worker */
	CMD_REMOVE,         /* st: stop and free it */
	CMD_MOVE,           /* st -> dest: detach and hand over */
	CMD_REMOTE,         /* st: remote address and parameters */
	CMD_DTMF,           /* st: queue digits */
	CMD_LINK,           /* st, st2 */
	CMD_UNLINK,         /* st */
	CMD_PLAY,           /* st, u.play: start a player (play.c) */
	CMD_PLAY_STOP,      /* st, u.play.token: drop that player */
	CMD_PLAY_CTL,       /* st, u.play.token, .op, .val: pause, seek ... (playctl.c) */
	CMD_RECORD,         /* st, u.rec: start a recorder (record.c) */
	CMD_RECORD_STOP,    /* st, u.rec: stop that recorder */
	CMD_MIX_JOIN,       /* st: room, st2: member, u.mix.mm (mix.c) */
	CMD_MIX_SET,        /* st: member, u.mix.prm */
	CMD_MIX_LEAVE,      /* st: member */
};

struct media_entry;

struct cmd {
	struct cmd *next;
	enum cmd_type type;
	uint32_t id;                        /* CMD_MOVE/ATTACH: the stream's id */
	struct mstream *st, *st2;
	struct worker *dest;
	/* signalling side while the command waits to be delivered */
	struct media_entry *e1, *e2;
	struct cmd *spare;                  /* CMD_LINK: the move it may need */
	union {
		struct {
			struct sockaddr_storage addr;
			socklen_t len;
			struct media_params prm;
		} remote;
		struct {
			char digits[CFTEV_QUEUE + 1];
			unsigned duration_ms;
		} dtmf;
		struct {
			struct mplay *p;
			uint16_t token;
			int op, val;                /* CMD_PLAY_CTL: enum media_fctl, its value */
		} play;
		struct mrec *rec;
		struct {
			struct mmember *mm;
			struct media_mix_prm prm;
		} mix;
	} u;
};

#define WORKER_EV_BATCH    1024         /* readable sockets per epoll_wait */
#define WORKER_RX_BATCH    8            /* datagrams per recvmmsg */
#define WORKER_RX_BUF      1536         /* larger datagrams are truncated: dropped */
#define WORKER_TX_BATCH    4            /* packets per stream per tick */
#define WORKER_HIST        4096         /* tick timing histogram: 10 us bins */
#define WORKER_RING        1024         /* io_uring batch: SQEs per submission */

/* io_uring staging: one batch of receives or sends across many streams. */
struct worker_io {
	struct mstream *rx_st[WORKER_RING];
	struct msghdr rx_mh[WORKER_RING];
	struct iovec rx_iov[WORKER_RING];
	struct sockaddr_storage rx_addr[WORKER_RING];
	uint8_t rx_buf[WORKER_RING][WORKER_RX_BUF];
	struct mstream *tx_st[WORKER_RING];
	struct msghdr tx_mh[WORKER_RING];
	struct iovec tx_iov[WORKER_RING][2];
	uint8_t tx_hdr[WORKER_RING][12];
	unsigned ntx;
};

/*
 * One media worker. Fields after `thread-owned` belong to the worker thread;
 * the queue is shared under `lock`; `load` and the `base_` snapshots are the
 * signalling thread's.
 */
struct worker {
	unsigned idx;
	pthread_t thr;
	bool running;
	int ep;                             /* timerfd + command eventfd */
	int rxep;                           /* stream sockets, polled each tick */
	int tfd, efd;
	atomic_bool stop;

	pthread_mutex_t lock;
	struct cmd *qhead, *qtail;

	unsigned load;                      /* streams routed here (signalling) */

	/* thread-owned */
	struct mstream **streams;
	unsigned n, cap;
	uint32_t tick;
	uint64_t due_ns;                    /* expiry of the next tick */
	uint32_t timeout_ticks;             /* media timeout, 0 off */

	/* tick health: written by the worker, read by media_tick_stats */
	_Atomic uint32_t late_hist[WORKER_HIST], done_hist[WORKER_HIST];
	_Atomic uint64_t ticks, overruns;
	_Atomic uint32_t late_max, done_max, nstreams;
	uint32_t base_late[WORKER_HIST], base_done[WORKER_HIST];
	uint64_t base_ticks, base_overruns;
	double base_cpu;

	/* batch I/O scratch, thread-owned; io != NULL: io_uring, else *mmsg */
	bool want_ring;
	struct cfring ring;
	struct worker_io *io;
	unsigned ntx;
	struct epoll_event evs[WORKER_EV_BATCH];
	struct mmsghdr rx_msgs[WORKER_RX_BATCH];
	struct iovec rx_iov[WORKER_RX_BATCH];
	struct sockaddr_storage rx_addr[WORKER_RX_BATCH];
	uint8_t rx_buf[WORKER_RX_BATCH][WORKER_RX_BUF];
	struct mmsghdr tx_msgs[WORKER_TX_BATCH];
	struct iovec tx_iov[WORKER_TX_BATCH][2];
	uint8_t tx_hdr[WORKER_TX_BATCH][12];
	uint8_t scratch[MEDIA_FRAME];
};

/* tick.c: the hot path, on the worker thread. */
void media_tick_rx(struct worker *w);
void media_tick_tx(struct worker *w);
/* This tick's frame of st, decoded or concealed (st->frame, st->frame_silent). */
void media_pull(struct worker *w, struct mstream *st);

/* mix.c, worker: mix one room's tick; the encoded shared mix for a codec. */
void media_mix_tick(struct worker *w, struct mstream *room);
const uint8_t *media_mix_encoded(struct mstream *room, enum media_codec codec);
/* mix.c, worker: CMD_MIX_*; a stream leaves its room (or a room its members). */
void media_mix_run(struct worker *w, struct cmd *c);
void media_mix_detach(struct mstream *st);
void media_mix_state_free(struct mstream *st);
/* mix.c, any thread: what a command that will never run carries. */
void media_mix_cmd_free(struct cmd *c);
/* mix.c, signalling thread: a talk transition reached stream.c. */
void media_mix_up(struct media_stream *ms, bool talking, unsigned energy);
/* Per-stream counters (worker only): no read-modify-write atomic needed. */
static inline void stat_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

/* worker.c: the pool. */
int  media_workers_start(unsigned n, unsigned timeout_ms);
void media_workers_stop(void);
void media_workers_free(void);
unsigned media_workers_count(void);
struct worker *media_worker_get(unsigned i);
unsigned media_worker_load(const struct worker *w);
void media_worker_load_add(struct worker *w, int delta);
void media_worker_push(struct worker *w, struct cmd *c);   /* any thread */
void media_worker_tick_stats(struct media_tick_stats *ts, bool reset);

/* Free a command that will never run, and the stream it carries (ADD/ATTACH). */
void media_cmd_free(struct cmd *c);
void media_stream_state_free(struct mstream *st);

/* stream.c: events from workers to the signalling thread (any thread). */
enum media_up {
	MEDIA_UP_DTMF,
	MEDIA_UP_TIMEOUT,
	MEDIA_UP_LATCHED,
	MEDIA_UP_PLAY_DONE,         /* play.c: duration_ms carries the player's token */
	MEDIA_UP_TALK,              /* mix.c: duration_ms carries the energy */
	MEDIA_UP_QUIET,
};
void media_up_post(uint32_t id, enum media_up type, char digit, unsigned duration_ms);
/* A move finished: the ATTACH command itself goes back, so this never fails. */
void media_up_attached(struct cmd *c);

/* stream.c: for mix.c, a socketless stream; a command on two streams. */
int  media_stream_alloc_virtual(struct media_stream **msp, struct mmix *mx);
int  media_stream_cmd2(struct media_stream *a, struct media_stream *b, struct cmd *c);
struct mstream *media_stream_state(const struct media_stream *ms);
media_mix_h **media_stream_mix_slot(struct media_stream *ms, void ***argp);

/* port.c: the RTP port pool, signalling thread. */
int  media_ports_init(uint16_t start, uint16_t end);
void media_ports_close(void);
int  media_port_open(const char *local_ip, int *fdp, uint16_t *portp);
void media_port_release(uint16_t port);

#endif
