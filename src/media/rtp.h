/*
 * rtp.h - the RTP fixed header (RFC 3550 5.1): a validating parser for
 * received datagrams and a writer for the 12-byte header we send. Pure
 * functions, any thread.
 */
#ifndef CONFAB_MEDIA_RTP_H
#define CONFAB_MEDIA_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFRTP_HDR 12

struct cfrtp {
	bool marker;
	uint8_t pt;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	const uint8_t *payload;   /* inside the parsed buffer, after CSRCs/extension */
	size_t plen;              /* without padding */
};

/*
 * Parse one datagram. Returns 0, or EBADMSG for anything that is not a
 * well-formed RTP version 2 packet: short, CSRC list or extension header
 * running past the end, padding count zero or larger than the payload.
 */
int    cfrtp_parse(struct cfrtp *r, const uint8_t *buf, size_t len);

/* Write a version 2 header without CSRCs, extension or padding; returns 12. */
size_t cfrtp_write(uint8_t hdr[CFRTP_HDR], bool marker, uint8_t pt, uint16_t seq,
		   uint32_t ts, uint32_t ssrc);

#endif
