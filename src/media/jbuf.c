/*
 * jbuf.c - adaptive jitter buffer: timestamp-indexed sample ring with presence
 * bits; grows on late packets, shrinks slowly when packets keep arriving early.
 */
#include <limits.h>
#include <string.h>
#include "media/jbuf.h"

#define MASK (CFJB_RING - 1)

/*
 * The presence bitmap is walked a word at a time; a range may wrap around the
 * ring. op: 0 count, 1 set (returns how many were already set), 2 clear.
 */
static unsigned bits(uint64_t *w, uint32_t pos, uint32_t n, int op)
{
	unsigned was = 0;

	pos &= MASK;
	while (n) {
		uint32_t off = pos & 63, take = 64 - off < n ? 64 - off : n;
		uint64_t m = (take == 64 ? ~0ull : (1ull << take) - 1) << off;
		uint64_t *word = &w[pos >> 6];

		was += (unsigned)__builtin_popcountll(*word & m);
		if (op == 1)
			*word |= m;
		else if (op == 2)
			*word &= ~m;
		pos = (pos + take) & MASK;
		n -= take;
	}
	return was;
}

void cfjb_reset(struct cfjb *jb, uint8_t fill)
{
	struct cfjb_stats st = jb->st;

	memset(jb->have, 0, sizeof(jb->have));
	jb->started = false;
	jb->shrink = false;
	jb->win_n = 0;
	jb->win_min = INT32_MAX;
	jb->fill = fill;
	jb->st = st;
}

static void start(struct cfjb *jb, uint32_t ts)
{
	memset(jb->have, 0, sizeof(jb->have));
	jb->play = ts - CFJB_LEAD0;
	jb->newest = ts;
	jb->started = true;
	jb->shrink = false;
	jb->win_n = 0;
	jb->win_min = INT32_MAX;
}

static void copy_in(struct cfjb *jb, uint32_t ts, const uint8_t *p, size_t n)
{
	uint32_t pos = ts & MASK, first = CFJB_RING - pos < n ? CFJB_RING - pos : (uint32_t)n;

	memcpy(jb->ring + pos, p, first);
	memcpy(jb->ring, p + first, n - first);
}

enum cfjb_res cfjb_put(struct cfjb *jb, uint32_t ts, const uint8_t *p, size_t n)
{
	enum cfjb_res res = CFJB_OK;
	int32_t lead;

	if (n == 0 || n > CFJB_MAX_PACKET)
		return CFJB_BAD;
	if (!jb->started)
		start(jb, ts);
	lead = (int32_t)(ts - jb->play);
	/* Far outside the window: the sender restarted its clock. */
	if (lead > CFJB_MAX || lead + (int32_t)n < -CFJB_MAX) {
		start(jb, ts);
		jb->st.resync++;
		lead = CFJB_LEAD0;
		res = CFJB_RESYNC;
	} else if (lead < 0) {
		int32_t need = (int32_t)((-lead + CFJB_FRAME - 1) / CFJB_FRAME * CFJB_FRAME);
		int32_t depth = (int32_t)(jb->newest - jb->play);

		jb->st.late++;
		if ((depth > 0 ? depth : 0) + need <= CFJB_MAX) {
			/* Play it late rather than never: move the read point back. */
			jb->play -= (uint32_t)need;
			lead += need;
			jb->st.grow++;
			jb->win_n = 0;
			jb->win_min = INT32_MAX;
			res = CFJB_GREW;
		} else if (lead + (int32_t)n <= 0) {
			return CFJB_LATE;
		} else {
			p += -lead;
			n -= (size_t)-lead;
			ts = jb->play;
			lead = 0;
		}
	}
	if (lead < jb->win_min)
		jb->win_min = lead;
	if (++jb->win_n >= CFJB_WINDOW) {
		jb->shrink = jb->win_min >= CFJB_SHRINK;
		jb->win_n = 0;
		jb->win_min = INT32_MAX;
	}
	if (bits(jb->have, ts, (uint32_t)n, 0) == n) {
		jb->st.dup++;
		return CFJB_DUP;
	}
	copy_in(jb, ts, p, n);
	bits(jb->have, ts, (uint32_t)n, 1);
	if ((int32_t)(ts + (uint32_t)n - jb->newest) > 0)
		jb->newest = ts + (uint32_t)n;
	return res;
}

unsigned cfjb_get(struct cfjb *jb, uint8_t out[CFJB_FRAME])
{
	uint32_t pos, first;
	unsigned present, i;

	if (!jb->started) {
		memset(out, jb->fill, CFJB_FRAME);
		return 0;
	}
	if (jb->shrink) {
		jb->shrink = false;
		bits(jb->have, jb->play, CFJB_FRAME, 2);
		jb->play += CFJB_FRAME;
		jb->st.shrink++;
	}
	pos = jb->play & MASK;
	present = bits(jb->have, pos, CFJB_FRAME, 0);
	if (!present) {
		memset(out, jb->fill, CFJB_FRAME);
		jb->st.concealed++;
	} else {
		first = CFJB_RING - pos < CFJB_FRAME ? CFJB_RING - pos : CFJB_FRAME;
		memcpy(out, jb->ring + pos, first);
		memcpy(out + first, jb->ring, CFJB_FRAME - first);
		for (i = 0; present < CFJB_FRAME && i < CFJB_FRAME; i++) {
			uint32_t b = (pos + i) & MASK;

			if (!(jb->have[b >> 6] >> (b & 63) & 1))
				out[i] = jb->fill;
		}
		bits(jb->have, pos, CFJB_FRAME, 2);
	}
	jb->play += CFJB_FRAME;
	return present;
}

unsigned cfjb_depth(const struct cfjb *jb)
{
	int32_t d = (int32_t)(jb->newest - jb->play);

	return jb->started && d > 0 ? (unsigned)d : 0;
}
