/*
 * jbuf.h - the adaptive jitter buffer of one received stream: a ring of 4096
 * encoded G.711 samples (512 ms) indexed by RTP timestamp, with a presence bit
 * per sample, read one 20 ms frame per worker tick. Owned by one media worker;
 * no allocation, no lock.
 *
 * Packets are placed by timestamp, so reordering, any ptime up to 60 ms and
 * partial overlaps need no special case. A packet whose samples are all
 * buffered is a duplicate. The playout delay starts at 40 ms and adapts within
 * 20..200 ms: a packet that arrives after its playout time makes the buffer
 * grow at once (the read point moves back so the packet is still played; the
 * listener hears one concealed frame more); when every packet of a 100-packet
 * window (2 s) arrived at least 30 ms early, one 20 ms frame is dropped.
 */
#ifndef CONFAB_MEDIA_JBUF_H
#define CONFAB_MEDIA_JBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFJB_RING       4096u  /* samples; a power of two */
#define CFJB_FRAME      160u   /* one tick: 20 ms at 8 kHz */
#define CFJB_LEAD0      160    /* first packet waits one frame more than it must */
#define CFJB_MAX        1600   /* 200 ms: the most the buffer holds ahead */
#define CFJB_SHRINK     240    /* a window led by 30 ms everywhere drops a frame */
#define CFJB_WINDOW     100    /* packets per shrink decision */
#define CFJB_MAX_PACKET 480    /* samples (60 ms); bigger packets are refused */

enum cfjb_res {
	CFJB_OK,        /* stored */
	CFJB_GREW,      /* late, stored after the buffer grew */
	CFJB_RESYNC,    /* timestamp jumped: buffer restarted with this packet */
	CFJB_LATE,      /* too late, dropped */
	CFJB_DUP,       /* duplicate, dropped */
	CFJB_BAD,       /* empty or larger than CFJB_MAX_PACKET */
};

struct cfjb_stats {
	uint64_t late, dup, grow, shrink, resync, concealed;
};

struct cfjb {
	uint8_t ring[CFJB_RING];
	uint64_t have[CFJB_RING / 64];
	uint32_t play;          /* timestamp of the next sample to play */
	uint32_t newest;        /* end timestamp of the newest packet */
	int32_t win_min;        /* smallest lead in the current window */
	unsigned win_n;
	uint8_t fill;           /* the codec's silence value */
	bool started;
	bool shrink;            /* drop one frame at the next read */
	struct cfjb_stats st;
};

/* Empty the buffer; `fill` is what missing samples read as. */
void cfjb_reset(struct cfjb *jb, uint8_t fill);

/* Store n samples of payload starting at RTP timestamp ts. */
enum cfjb_res cfjb_put(struct cfjb *jb, uint32_t ts, const uint8_t *p, size_t n);

/*
 * Read the next 20 ms frame into out (missing samples read as the fill value)
 * and advance. Returns how many of the 160 samples were received: 0 means the
 * whole frame is missing (conceal it).
 */
unsigned cfjb_get(struct cfjb *jb, uint8_t out[CFJB_FRAME]);

/* Samples buffered ahead of the read point. */
unsigned cfjb_depth(const struct cfjb *jb);

#endif
