/*
 * bus.h - the event bus: fired events fan out to subscribers through bounded
 * per-subscriber queues. A slow subscriber loses events (counted, reported to it,
 * logged) and never slows the firing thread or the others.
 */
#ifndef CONFAB_BUS_H
#define CONFAB_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event;
struct bus_sub;

/*
 * Decides whether a subscriber wants an event. Runs on the signalling thread
 * during fan-out; keep it cheap.
 */
typedef bool (bus_match_h)(const struct event *ev, void *arg);

/*
 * Called when the subscriber's queue goes from empty to non-empty (on the
 * signalling thread). The subscriber then pops until empty.
 */
typedef void (bus_wake_h)(void *arg);

#define BUS_QUEUE_DEFAULT 100000

int  bus_init(void);
void bus_close(void);

/*
 * Fire an event: takes the caller's reference, the event is immutable from here
 * on. Safe from any thread; events fired off the signalling thread are handed to
 * it and fanned out there, in order.
 */
void bus_fire(struct event *ev);

/* `maxq` bounds the queue (0: BUS_QUEUE_DEFAULT). Free with mem_deref. */
int  bus_subscribe(struct bus_sub **subp, size_t maxq, bus_match_h *matchh,
		   bus_wake_h *wakeh, void *arg);

/*
 * Next queued event (the caller owns the reference) or NULL. *lostp (if given)
 * is the number of events this subscriber lost just before this one, because
 * its queue was full. Thread-safe, so a subscriber may pop on its own thread.
 */
struct event *bus_pop(struct bus_sub *sub, uint64_t *lostp);
size_t bus_pending(const struct bus_sub *sub);

/* Drop everything queued (noevents). */
void bus_flush(struct bus_sub *sub);

/* Events this subscriber lost since it subscribed. */
uint64_t bus_lost_total(struct bus_sub *sub);

/* Counters for status output and benchmarks. */
struct bus_stats {
	uint64_t fired;
	uint64_t delivered;
	uint64_t lost;
	size_t subscribers;
};
void bus_stats(struct bus_stats *st);

#endif
