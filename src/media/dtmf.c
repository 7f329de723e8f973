/*
 * dtmf.c - RFC 4733 DTMF events: payload coding, the receiver's de-duplication
 * (retransmitted end packets, lost ends) and the sender's pacing.
 */
#include <errno.h>
#include "media/dtmf.h"

#define SAMPLES_PER_MS 8u
#define TICK_SAMPLES   160u

static const char digits[] = "0123456789*#ABCD";

int rfc4733_decode(struct rfc4733 *ev, const uint8_t *p, size_t len)
{
	if (!ev || !p || len < RFC4733_LEN)
		return EBADMSG;
	ev->event = p[0];
	ev->end = p[1] >> 7;
	ev->volume = p[1] & 0x3f;
	ev->duration = (uint16_t)(p[2] << 8 | p[3]);
	return 0;
}

void rfc4733_encode(uint8_t p[RFC4733_LEN], const struct rfc4733 *ev)
{
	p[0] = ev->event;
	p[1] = (uint8_t)((ev->end ? 0x80 : 0) | (ev->volume & 0x3f));
	p[2] = (uint8_t)(ev->duration >> 8);
	p[3] = (uint8_t)ev->duration;
}

char rfc4733_digit(uint8_t event)
{
	return event < 16 ? digits[event] : 0;
}

int rfc4733_event(char digit)
{
	unsigned i;

	if (digit >= 'a' && digit <= 'd')
		digit = (char)(digit - 'a' + 'A');
	for (i = 0; i < 16; i++)
		if (digits[i] == digit)
			return (int)i;
	return -1;
}

static void report(struct cftev_rx *rx, struct cftev_digit *d)
{
	d->digit = rfc4733_digit(rx->event);
	d->duration_ms = rx->duration / SAMPLES_PER_MS;
	rx->reported = true;
}

unsigned cftev_rx_packet(struct cftev_rx *rx, uint32_t ts, const struct rfc4733 *ev,
			 uint32_t tick, struct cftev_digit out[2])
{
	unsigned n = 0;

	if (ev->event > 15)
		return 0;                  /* not DTMF (flash, tones): ignored */
	if (rx->active && ts == rx->ts) {
		/* The same event: an update, or an end we already reported. */
		if (rx->reported)
			return 0;
		if (ev->duration > rx->duration)
			rx->duration = ev->duration;
		rx->last_tick = tick;
		if (ev->end)
			report(rx, &out[n++]);
		return n;
	}
	if (rx->active && !rx->reported)
		report(rx, &out[n++]);     /* its end packets never came */
	rx->active = true;
	rx->reported = false;
	rx->ts = ts;
	rx->event = ev->event;
	rx->duration = ev->duration;
	rx->last_tick = tick;
	if (ev->end)
		report(rx, &out[n++]);
	return n;
}

bool cftev_rx_tick(struct cftev_rx *rx, uint32_t tick, uint32_t idle,
		   struct cftev_digit *out)
{
	/* Signed: a stream that changed workers may see the clock a tick behind. */
	if (!rx->active || rx->reported || (int32_t)(tick - rx->last_tick) < (int32_t)idle)
		return false;
	report(rx, out);
	return true;
}

bool cftev_tx_queue(struct cftev_tx *tx, char digit, unsigned duration_ms)
{
	int ev = rfc4733_event(digit);

	if (ev < 0 || tx->len >= CFTEV_QUEUE)
		return false;
	if (duration_ms < 40)
		duration_ms = 40;
	if (duration_ms > 8000)
		duration_ms = 8000;
	tx->q[(tx->head + tx->len) % CFTEV_QUEUE] = (char)ev;
	tx->qdur[(tx->head + tx->len) % CFTEV_QUEUE] = (uint16_t)(duration_ms * SAMPLES_PER_MS);
	tx->len++;
	return true;
}

bool cftev_tx_busy(const struct cftev_tx *tx)
{
	return tx->state == CFTEV_EVENT || tx->state == CFTEV_END ||
		(tx->state == CFTEV_IDLE && tx->len);
}

bool cftev_tx_tick(struct cftev_tx *tx, uint32_t audio_ts, uint8_t payload[RFC4733_LEN],
		   uint32_t *ts, bool *marker)
{
	struct rfc4733 ev = {.volume = 10};

	switch (tx->state) {
	case CFTEV_GAPPING:
		if (--tx->left)
			return false;
		tx->state = CFTEV_IDLE;
		/* fall through */
	case CFTEV_IDLE:
		if (!tx->len)
			return false;
		tx->event = (uint8_t)tx->q[tx->head];
		tx->total = tx->qdur[tx->head];
		tx->head = (tx->head + 1) % CFTEV_QUEUE;
		tx->len--;
		tx->ts = audio_ts;
		tx->dur = 0;
		tx->first = true;
		tx->state = CFTEV_EVENT;
		/* fall through */
	case CFTEV_EVENT:
		/* Each packet's duration covers the event up to the packet's end (2.5.1.2). */
		tx->dur = (uint16_t)(tx->dur + TICK_SAMPLES > tx->total ? tx->total
				     : tx->dur + TICK_SAMPLES);
		ev.end = tx->dur >= tx->total;
		if (ev.end) {
			tx->state = CFTEV_END;
			tx->left = CFTEV_ENDS - 1;
		}
		break;
	case CFTEV_END:
		ev.end = true;
		if (!--tx->left) {
			tx->state = CFTEV_GAPPING;
			tx->left = CFTEV_GAP + 1;
		}
		break;
	}
	ev.event = tx->event;
	ev.duration = tx->dur;
	rfc4733_encode(payload, &ev);
	*ts = tx->ts;
	*marker = tx->first;
	tx->first = false;
	return true;
}
