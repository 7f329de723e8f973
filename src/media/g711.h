/*
 * g711.h - G.711 u-law and A-law (ITU-T G.711) by table lookup: 256-entry
 * decode tables and 16384-entry encode tables indexed by the sample's top 14
 * bits. The tables are built once at program start; every function is
 * thread-safe and allocation-free.
 */
#ifndef CONFAB_MEDIA_G711_H
#define CONFAB_MEDIA_G711_H

#include <stddef.h>
#include <stdint.h>

extern int16_t g711_ulaw_dec[256];
extern int16_t g711_alaw_dec[256];
extern uint8_t g711_ulaw_enc[16384];
extern uint8_t g711_alaw_enc[16384];

/* The encoded value of linear 0: what a frame of silence is made of. */
#define G711_ULAW_SILENCE 0xff
#define G711_ALAW_SILENCE 0xd5

static inline int16_t g711_ulaw_to_lin(uint8_t u) { return g711_ulaw_dec[u]; }
static inline int16_t g711_alaw_to_lin(uint8_t a) { return g711_alaw_dec[a]; }

/* u-law keeps 14 bits and A-law 13 of a 16-bit sample: index by the top 14. */
static inline uint8_t g711_lin_to_ulaw(int16_t x) { return g711_ulaw_enc[(uint16_t)x >> 2]; }
static inline uint8_t g711_lin_to_alaw(int16_t x) { return g711_alaw_enc[(uint16_t)x >> 2]; }

/* n samples: `alaw` picks the law. */
void g711_decode(int alaw, const uint8_t *in, int16_t *out, size_t n);
void g711_encode(int alaw, const int16_t *in, uint8_t *out, size_t n);

/* The classic segment algorithms the tables are built from (reference, tests). */
uint8_t g711_ulaw_encode_slow(int16_t x);
uint8_t g711_alaw_encode_slow(int16_t x);

#endif
