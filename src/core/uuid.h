/*
 * uuid.h - random (version 4) UUIDs in the canonical lowercase 36-character form.
 */
#ifndef CONFAB_UUID_H
#define CONFAB_UUID_H

#include <stdbool.h>

#define UUID_STRLEN 36

/* Writes 36 characters and a NUL into buf[UUID_STRLEN + 1]. Thread-safe. */
void cfuuid_generate(char buf[UUID_STRLEN + 1]);
bool cfuuid_valid(const char *s);

#endif
