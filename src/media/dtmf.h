/*
 * dtmf.h - RFC 4733 telephone-events for DTMF: the 4-byte event payload, a
 * receiver that turns a stream of event packets into one report per digit,
 * and a sender that paces queued digits into event packets, one per 20 ms
 * tick. State lives in the stream; no allocation, no lock.
 */
#ifndef CONFAB_MEDIA_DTMF_H
#define CONFAB_MEDIA_DTMF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RFC4733_LEN 4

/* RFC 4733 2.3: event, E(nd), R, volume, duration in timestamp units. */
struct rfc4733 {
	uint8_t event;
	bool end;
	uint8_t volume;       /* 0..63, -dBm0 */
	uint16_t duration;
};

int  rfc4733_decode(struct rfc4733 *ev, const uint8_t *p, size_t len);   /* 0 or EBADMSG */
void rfc4733_encode(uint8_t p[RFC4733_LEN], const struct rfc4733 *ev);

/* RFC 4733 3.2 events 0-15 <-> '0'-'9' '*' '#' 'A'-'D'; 0 / -1 for others. */
char rfc4733_digit(uint8_t event);
int  rfc4733_event(char digit);

/* A digit the receiver completed. */
struct cftev_digit {
	char digit;
	unsigned duration_ms;
};

struct cftev_rx {
	bool active;          /* an event is (or was last) in progress */
	bool reported;        /* ... and was already reported */
	uint8_t event;
	uint16_t duration;
	uint32_t ts;          /* the event's RTP timestamp: its identity */
	uint32_t last_tick;   /* when its last packet came */
};

/*
 * One telephone-event packet (RTP timestamp ts) at worker tick `tick`. Fills
 * out[] with up to two digits completed by it (a new event also completes an
 * older one whose end packets were all lost) and returns how many.
 */
unsigned cftev_rx_packet(struct cftev_rx *rx, uint32_t ts, const struct rfc4733 *ev,
			 uint32_t tick, struct cftev_digit out[2]);

/* Each tick: an event silent for `idle` ticks without an end is reported. */
bool cftev_rx_tick(struct cftev_rx *rx, uint32_t tick, uint32_t idle,
		   struct cftev_digit *out);

#define CFTEV_QUEUE    64     /* digits waiting to be sent */
#define CFTEV_ENDS     3      /* RFC 4733 2.5.1.4: the end packet is sent 3 times */
#define CFTEV_GAP      3      /* ticks of audio between two digits (60 ms) */

enum cftev_tx_state { CFTEV_IDLE, CFTEV_EVENT, CFTEV_END, CFTEV_GAPPING };

struct cftev_tx {
	char q[CFTEV_QUEUE];
	uint16_t qdur[CFTEV_QUEUE];   /* timestamp units */
	unsigned head, len;
	enum cftev_tx_state state;
	uint8_t event;
	bool first;
	uint32_t ts;
	uint16_t dur, total;
	unsigned left;
};

/* Queue a digit lasting duration_ms (40..8000); false if full or not a digit. */
bool cftev_tx_queue(struct cftev_tx *tx, char digit, unsigned duration_ms);

/* True while an event is being sent: audio is suppressed. */
bool cftev_tx_busy(const struct cftev_tx *tx);

/*
 * Each tick. If an event packet goes out now, fills payload, *ts (the event's
 * timestamp) and *marker and returns true; `audio_ts` is the timestamp this
 * tick's audio would carry, the start of a new event.
 */
bool cftev_tx_tick(struct cftev_tx *tx, uint32_t audio_ts, uint8_t payload[RFC4733_LEN],
		   uint32_t *ts, bool *marker);

#endif
