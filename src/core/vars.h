/*
 * vars.h - global variables (global_getvar/global_setvar, $${} in config) and
 * ${var} / ${api args} expansion.
 */
#ifndef CONFAB_VARS_H
#define CONFAB_VARS_H

#include <stddef.h>

struct mbuf;

int  vars_init(void);
void vars_close(void);

/* Thread-safe. Setting NULL or "" removes the variable. */
int  vars_global_set(const char *name, const char *value);
/* Copies the value into a new string the caller frees with mem_deref; NULL if unset. */
char *vars_global_dup(const char *name);
/* Appends "name=value\n" for every global, in name order. */
int  vars_global_dump(struct mbuf *out);

/*
 * Lookup used by expansion: returns the value for `name` or NULL. A channel passes
 * its own lookup that falls back to the globals.
 */
typedef const char *(vars_lookup_h)(const char *name, void *arg, char **tmp);

/*
 * Expand ${name}, ${cmd(args)} (runs that API command synchronously and
 * substitutes its output, e.g. ${conference(1005 list count)}) and $${name}
 * (globals) in `in`; references nest (${a_${b}}). Unknown names and commands
 * expand to "". The result is a new string (mem_deref). Signalling thread only
 * (it may run API commands).
 */
int  vars_expand(char **outp, const char *in, vars_lookup_h *lookup, void *arg);

#endif
