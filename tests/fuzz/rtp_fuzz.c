/*
 * rtp_fuzz.c - the RTP packet parser, and what a parsed packet is fed to: the
 * jitter buffer (as audio) and the RFC 4733 event decoder and receiver.
 */
#include <stdint.h>
#include <string.h>
#include "media/dtmf.h"
#include "media/jbuf.h"
#include "media/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cfjb jb;
	static struct cftev_rx rx;
	static uint32_t tick;
	struct cftev_digit d[2];
	struct rfc4733 ev;
	struct cfrtp r;
	uint8_t frame[CFJB_FRAME];

	if (!jb.fill)
		cfjb_reset(&jb, 0xff);
	if (cfrtp_parse(&r, data, size))
		return 0;
	/* Whatever the parser accepted must lie inside the datagram. */
	if (r.payload < data || r.payload + r.plen > data + size)
		__builtin_trap();
	cfjb_put(&jb, r.ts, r.payload, r.plen);
	cfjb_get(&jb, frame);
	if (!rfc4733_decode(&ev, r.payload, r.plen))
		cftev_rx_packet(&rx, r.ts, &ev, tick, d);
	cftev_rx_tick(&rx, tick++, 12, d);
	return 0;
}
