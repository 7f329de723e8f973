/*
 * rtp.c - RTP header parsing and writing (RFC 3550 5.1, 5.3.1). Every length
 * read from the packet is checked against the datagram before it is used.
 */
#include <errno.h>
#include "media/rtp.h"

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int cfrtp_parse(struct cfrtp *r, const uint8_t *buf, size_t len)
{
	size_t off = CFRTP_HDR, end = len;

	if (!r || !buf || len < CFRTP_HDR || buf[0] >> 6 != 2)
		return EBADMSG;
	off += (size_t)(buf[0] & 0x0f) * 4;            /* CSRC list */
	if (off > len)
		return EBADMSG;
	if (buf[0] & 0x10) {                           /* extension: 5.3.1 */
		if (off + 4 > len)
			return EBADMSG;
		off += 4 + (size_t)get16(buf + off + 2) * 4;
		if (off > len)
			return EBADMSG;
	}
	if (buf[0] & 0x20) {                           /* padding: last octet counts it */
		size_t pad = buf[len - 1];

		if (pad == 0 || pad > len - off)
			return EBADMSG;
		end -= pad;
	}
	r->marker = buf[1] >> 7;
	r->pt = buf[1] & 0x7f;
	r->seq = get16(buf + 2);
	r->ts = get32(buf + 4);
	r->ssrc = get32(buf + 8);
	r->payload = buf + off;
	r->plen = end - off;
	return 0;
}

size_t cfrtp_write(uint8_t hdr[CFRTP_HDR], bool marker, uint8_t pt, uint16_t seq,
		   uint32_t ts, uint32_t ssrc)
{
	hdr[0] = 0x80;
	hdr[1] = (uint8_t)((marker ? 0x80 : 0) | (pt & 0x7f));
	put16(hdr + 2, seq);
	put32(hdr + 4, ts);
	put32(hdr + 8, ssrc);
	return CFRTP_HDR;
}
