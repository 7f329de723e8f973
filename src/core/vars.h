/*
 * vars.h - global variables (global_getvar/global_setvar, $${} in config) and
 * ${var} / ${api args} expansion.
 */
#ifndef CONFAB_VARS_H
#define CONFAB_VARS_H

#include <stddef.h>
#include <stdint.h>

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

/*
 * Expansion that waits for commands finishing later (application data): a
 * record of the outputs of a text's ${cmd(args)} calls, in call order. When a
 * call is still running, vars_expand_replay() stops and returns EINPROGRESS;
 * once the command finished (or `wait_ms` passed: it then expands to "" and
 * is logged), `readyh` runs from the loop and the caller expands the same text
 * again: calls already made are answered from the record, so no command runs
 * twice (${lua(${lua(x)})} works too). Freeing the record abandons a running
 * command: the command goes on, its output is dropped.
 */
struct vars_replay;
typedef void (vars_ready_h)(void *arg);
int  vars_replay_alloc(struct vars_replay **rp, uint64_t wait_ms, vars_ready_h *readyh,
		       void *arg);
int  vars_expand_replay(char **outp, const char *in, vars_lookup_h *lookup, void *arg,
			struct vars_replay *r);

#endif
