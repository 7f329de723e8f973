/*
 * strfmt.h - printf into a caller's stack buffer when the text fits, into the
 * heap when it does not, so formatting never truncates and rarely allocates.
 */
#ifndef CONFAB_STRFMT_H
#define CONFAB_STRFMT_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Returns `buf` or a new string (release it with strfmt_free), NULL on a format
 * error or when memory runs out. *lenp gets the length.
 */
char *strfmt_v(char *buf, size_t size, size_t *lenp, const char *fmt, va_list ap);
void strfmt_free(char *s, const char *buf);

#endif
