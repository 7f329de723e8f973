/*
 * event_json_fuzz.c - parsing JSON into an event (sendevent json, Lua's
 * freeswitch.Event("json", ...)) and serialising the result in every format.
 */
#include <stdint.h>
#include <re_types.h>
#include <re_mbuf.h>
#include <re_mem.h>
#include "event/event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event *ev = NULL;
	int fmt;

	if (event_from_json(&ev, (const char *)data, size))
		return 0;
	for (fmt = 0; fmt < EVENT_FMT_COUNT; fmt++) {
		struct mbuf *mb = mbuf_alloc(256);

		if (mb)
			event_serialize(ev, (enum event_format)fmt, mb);
		mem_deref(mb);
		event_serialized(ev, (enum event_format)fmt, NULL);
	}
	event_deref(ev);
	return 0;
}
