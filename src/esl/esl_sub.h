/*
 * esl_sub.h - one event-socket connection's subscriptions: event ids, CUSTOM
 * subclasses and header filters, with FreeSWITCH's delivery rules
 * (spec/event-socket.md 4.3, 4.4). Pure logic, unit-tested.
 */
#ifndef CONFAB_ESL_SUB_H
#define CONFAB_ESL_SUB_H

#include <stdbool.h>
#include <stddef.h>
#include "event/event.h"

struct esl_sub;

int  esl_sub_alloc(struct esl_sub **subp);     /* mem_deref to free */

/*
 * `event [fmt] NAME... [CUSTOM sub...]` tokens after the command word. Returns
 * the number of names accepted (0: "-ERR no keywords supplied"); *fmtp is set
 * when the first token is a format.
 */
unsigned esl_sub_event(struct esl_sub *s, const char *tokens, enum event_format *fmtp,
		       bool *fmt_given);
/* `nixevent NAME... [CUSTOM sub...]`; returns the number of names removed. */
unsigned esl_sub_nix(struct esl_sub *s, const char *tokens);
/* `noevents`: returns false when nothing was subscribed. */
bool esl_sub_clear(struct esl_sub *s);
bool esl_sub_any(const struct esl_sub *s);

/*
 * Filters. `spec` is what follows "filter ": "<Header> <value>", "add <H> <v>",
 * "delete <H> [<v>]" or "delete all". Writes the reply text into reply.
 */
void esl_sub_filter(struct esl_sub *s, const char *spec, char *reply, size_t size);

/*
 * myevents <uuid>: subscribe to the channel events of that one channel (and
 * background jobs it owns); nothing else is delivered afterwards.
 */
void esl_sub_myevents(struct esl_sub *s, const char *uuid);

/* Does the connection want this event? Subscription, then filters. */
bool esl_sub_match(const struct esl_sub *s, const struct event *ev);

#endif
