/*
 * uuid.c - version 4 UUIDs from the kernel's random source (getrandom), so every
 * thread can make them without a shared generator state.
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include "core/uuid.h"

/*
 * Random bytes come from the kernel in blocks; a syscall per UUID was the single
 * largest cost of firing an event from the event socket.
 */
static void random_bytes(uint8_t *out, size_t n)
{
	static _Thread_local uint8_t pool[4096];
	static _Thread_local size_t avail;

	while (n) {
		size_t take;

		if (!avail) {
			size_t got = 0;

			while (got < sizeof(pool)) {
				ssize_t r = getrandom(pool + got, sizeof(pool) - got, 0);

				if (r > 0)
					got += (size_t)r;
			}
			avail = sizeof(pool);
		}
		take = n < avail ? n : avail;
		memcpy(out, pool + sizeof(pool) - avail, take);
		/* Used bytes are wiped so nothing predictable lingers in the pool. */
		memset(pool + sizeof(pool) - avail, 0, take);
		avail -= take;
		out += take;
		n -= take;
	}
}

void cfuuid_generate(char buf[UUID_STRLEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t b[16];
	size_t i, o = 0;

	random_bytes(b, sizeof(b));
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);   /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
	for (i = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			buf[o++] = '-';
		buf[o++] = hex[b[i] >> 4];
		buf[o++] = hex[b[i] & 15];
	}
	buf[o] = '\0';
}

bool cfuuid_valid(const char *s)
{
	size_t i;

	if (!s || strlen(s) != UUID_STRLEN)
		return false;
	for (i = 0; i < UUID_STRLEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}
