/*
 * g711.c - G.711 u-law and A-law tables, built at program start from the
 * segment algorithms of ITU-T G.711 (as in the Sun reference implementation).
 */
#include "media/g711.h"

int16_t g711_ulaw_dec[256];
int16_t g711_alaw_dec[256];
uint8_t g711_ulaw_enc[16384];
uint8_t g711_alaw_enc[16384];

/* Segment end points: u-law on 14-bit magnitudes (+ bias), A-law on 13-bit. */
static const int16_t seg_uend[8] = {0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff};
static const int16_t seg_aend[8] = {0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff};

#define ULAW_BIAS 0x84     /* G.711 table 2a: the u-law curve is offset by 33 << 2 */
#define ULAW_CLIP 8159     /* largest 14-bit magnitude u-law represents */

static int segment(int v, const int16_t *end)
{
	int s;

	for (s = 0; s < 8; s++)
		if (v <= end[s])
			return s;
	return 8;
}

uint8_t g711_ulaw_encode_slow(int16_t x)
{
	int v = x >> 2, mask, seg;

	if (v < 0) {
		v = -v;
		mask = 0x7f;
	} else {
		mask = 0xff;
	}
	if (v > ULAW_CLIP)
		v = ULAW_CLIP;
	v += ULAW_BIAS >> 2;
	seg = segment(v, seg_uend);
	if (seg >= 8)
		return (uint8_t)(0x7f ^ mask);
	return (uint8_t)(((seg << 4) | ((v >> (seg + 1)) & 0xf)) ^ mask);
}

uint8_t g711_alaw_encode_slow(int16_t x)
{
	int v = x >> 3, mask, seg, a;

	if (v >= 0) {
		mask = 0xd5;        /* sign bit set, even bits inverted (G.711 5.2) */
	} else {
		mask = 0x55;
		v = -v - 1;
	}
	seg = segment(v, seg_aend);
	if (seg >= 8)
		return (uint8_t)(0x7f ^ mask);
	a = seg << 4;
	a |= seg < 2 ? (v >> 1) & 0xf : (v >> seg) & 0xf;
	return (uint8_t)(a ^ mask);
}

static int16_t ulaw_decode_slow(uint8_t u)
{
	int t;

	u = (uint8_t)~u;
	t = ((u & 0xf) << 3) + ULAW_BIAS;
	t <<= (u & 0x70) >> 4;
	return (int16_t)((u & 0x80) ? ULAW_BIAS - t : t - ULAW_BIAS);
}

static int16_t alaw_decode_slow(uint8_t a)
{
	int t, seg;

	a ^= 0x55;
	t = (a & 0xf) << 4;
	seg = (a & 0x70) >> 4;
	if (seg == 0)
		t += 8;
	else
		t = (t + 0x108) << (seg - 1);
	return (int16_t)((a & 0x80) ? t : -t);
}

__attribute__((constructor))
static void g711_tables(void)
{
	unsigned i;

	for (i = 0; i < 256; i++) {
		g711_ulaw_dec[i] = ulaw_decode_slow((uint8_t)i);
		g711_alaw_dec[i] = alaw_decode_slow((uint8_t)i);
	}
	for (i = 0; i < 16384; i++) {
		int16_t x = (int16_t)(uint16_t)(i << 2);

		g711_ulaw_enc[i] = g711_ulaw_encode_slow(x);
		g711_alaw_enc[i] = g711_alaw_encode_slow(x);
	}
}

void g711_decode(int alaw, const uint8_t *in, int16_t *out, size_t n)
{
	const int16_t *t = alaw ? g711_alaw_dec : g711_ulaw_dec;
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = t[in[i]];
}

void g711_encode(int alaw, const int16_t *in, uint8_t *out, size_t n)
{
	const uint8_t *t = alaw ? g711_alaw_enc : g711_ulaw_enc;
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = t[(uint16_t)in[i] >> 2];
}
