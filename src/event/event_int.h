/*
 * event_int.h - the event object's layout, shared by event.c and the serialisers
 * in event_fmt.c. Not for other subsystems.
 */
#ifndef CONFAB_EVENT_INT_H
#define CONFAB_EVENT_INT_H

#include <stdatomic.h>
#include "event/event.h"

struct event_hdr {
	char *name;          /* owns the allocation; value points into it */
	char *value;
	size_t vlen;
};

struct event {
	atomic_uint refs;
	enum event_id id;
	uint64_t seq;
	char *subclass;
	struct event_hdr *hdrs;
	size_t nhdrs, cap;
	char *body;
	size_t body_len;
	_Atomic(char *) ser[EVENT_FMT_COUNT];   /* cached serialisations */
	atomic_size_t ser_len[EVENT_FMT_COUNT];
};

#endif
