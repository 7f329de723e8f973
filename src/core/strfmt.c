/*
 * strfmt.c - formatting into a stack buffer with a heap fallback.
 */
#include <stdio.h>
#include <stdlib.h>
#include "core/strfmt.h"

char *strfmt_v(char *buf, size_t size, size_t *lenp, const char *fmt, va_list ap)
{
	va_list again;
	char *big;
	int n;

	va_copy(again, ap);
	n = vsnprintf(buf, size, fmt, ap);
	if (n < 0) {
		va_end(again);
		return NULL;
	}
	*lenp = (size_t)n;
	if ((size_t)n < size) {
		va_end(again);
		return buf;
	}
	big = malloc((size_t)n + 1);
	if (big)
		vsnprintf(big, (size_t)n + 1, fmt, again);
	va_end(again);
	return big;
}

void strfmt_free(char *s, const char *buf)
{
	if (s != buf)
		free(s);
}
