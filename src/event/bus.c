/*
 * bus.c - fans fired events out to subscribers. Fan-out runs on the signalling
 * thread; each subscriber has a bounded ring of event references that it drains
 * on its own schedule (and may drain from another thread).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "core/log.h"
#include "core/loop.h"
#include "event/bus.h"
#include "event/event.h"

/* A queued event and how many were dropped right before it. */
struct slot {
	struct event *ev;
	uint64_t lost_before;
};

struct bus_sub {
	struct le le;
	pthread_mutex_t lock;      /* guards the ring and counters */
	struct slot *ring;
	size_t cap, max, head, len;
	uint64_t gap, lost_total;  /* gap: dropped since the last queued event */
	bus_match_h *matchh;
	bus_wake_h *wakeh;
	void *arg;
};

static struct {
	struct list subs;          /* signalling thread only */
	uint64_t fired, delivered, lost;
	pthread_mutex_t stats_lock;
} B = {.stats_lock = PTHREAD_MUTEX_INITIALIZER};

int bus_init(void)
{
	list_init(&B.subs);
	return 0;
}

void bus_close(void)
{
	struct le *le;

	/* Subscribers are owned elsewhere; just detach them. */
	while ((le = B.subs.head))
		list_unlink(le);
}

/* Grow the ring by doubling up to the subscriber's bound. Lock held. */
static bool ring_grow(struct bus_sub *sub)
{
	size_t ncap = sub->cap ? sub->cap * 2 : 64, i;
	struct slot *n;

	if (sub->cap >= sub->max)
		return false;
	if (ncap > sub->max)
		ncap = sub->max;
	n = malloc(ncap * sizeof(*n));
	if (!n)
		return false;
	for (i = 0; i < sub->len; i++)
		n[i] = sub->ring[(sub->head + i) % sub->cap];
	free(sub->ring);
	sub->ring = n;
	sub->cap = ncap;
	sub->head = 0;
	return true;
}

/* Returns true when the queue went from empty to non-empty. */
static bool enqueue(struct bus_sub *sub, struct event *ev, bool *dropped)
{
	bool was_empty;

	pthread_mutex_lock(&sub->lock);
	if (sub->len == sub->cap && !ring_grow(sub)) {
		sub->gap++;
		sub->lost_total++;
		pthread_mutex_unlock(&sub->lock);
		*dropped = true;
		return false;
	}
	sub->ring[(sub->head + sub->len) % sub->cap] = (struct slot){event_ref(ev), sub->gap};
	sub->gap = 0;
	was_empty = sub->len++ == 0;
	pthread_mutex_unlock(&sub->lock);
	*dropped = false;
	return was_empty;
}

static void fanout(struct event *ev)
{
	uint64_t delivered = 0, lost = 0;
	struct le *le = B.subs.head;

	while (le) {
		struct bus_sub *sub = le->data;
		bool dropped;

		le = le->next;    /* a wake handler may unsubscribe */
		if (sub->matchh && !sub->matchh(ev, sub->arg))
			continue;
		if (enqueue(sub, ev, &dropped) && sub->wakeh)
			sub->wakeh(sub->arg);
		if (dropped)
			lost++;
		else
			delivered++;
	}
	pthread_mutex_lock(&B.stats_lock);
	B.fired++;
	B.delivered += delivered;
	B.lost += lost;
	pthread_mutex_unlock(&B.stats_lock);
	event_deref(ev);
}

static void fanout_posted(void *arg)
{
	fanout(arg);
}

void bus_fire(struct event *ev)
{
	if (!ev)
		return;
	if (loop_is_main()) {
		fanout(ev);
		return;
	}
	/* Before the loop runs (start-up) or after it stops, events are dropped. */
	if (loop_post(fanout_posted, ev))
		event_deref(ev);
}

static void sub_destructor(void *data)
{
	struct bus_sub *sub = data;

	list_unlink(&sub->le);
	bus_flush(sub);
	free(sub->ring);
	pthread_mutex_destroy(&sub->lock);
}

int bus_subscribe(struct bus_sub **subp, size_t maxq, bus_match_h *matchh,
		  bus_wake_h *wakeh, void *arg)
{
	struct bus_sub *sub;

	if (!subp)
		return EINVAL;
	sub = mem_zalloc(sizeof(*sub), sub_destructor);
	if (!sub)
		return ENOMEM;
	pthread_mutex_init(&sub->lock, NULL);
	sub->max = maxq ? maxq : BUS_QUEUE_DEFAULT;
	sub->matchh = matchh;
	sub->wakeh = wakeh;
	sub->arg = arg;
	list_append(&B.subs, &sub->le, sub);
	*subp = sub;
	return 0;
}

struct event *bus_pop(struct bus_sub *sub, uint64_t *lostp)
{
	struct event *ev = NULL;

	if (lostp)
		*lostp = 0;
	if (!sub)
		return NULL;
	pthread_mutex_lock(&sub->lock);
	if (sub->len) {
		ev = sub->ring[sub->head].ev;
		if (lostp)
			*lostp = sub->ring[sub->head].lost_before;
		sub->head = (sub->head + 1) % sub->cap;
		sub->len--;
	}
	pthread_mutex_unlock(&sub->lock);
	return ev;
}

size_t bus_pending(const struct bus_sub *sub)
{
	size_t n;

	if (!sub)
		return 0;
	pthread_mutex_lock((pthread_mutex_t *)&sub->lock);
	n = sub->len;
	pthread_mutex_unlock((pthread_mutex_t *)&sub->lock);
	return n;
}

void bus_flush(struct bus_sub *sub)
{
	struct event *ev;

	while ((ev = bus_pop(sub, NULL)))
		event_deref(ev);
}

uint64_t bus_lost_total(struct bus_sub *sub)
{
	uint64_t n;

	if (!sub)
		return 0;
	pthread_mutex_lock(&sub->lock);
	n = sub->lost_total;
	pthread_mutex_unlock(&sub->lock);
	return n;
}

void bus_stats(struct bus_stats *st)
{
	if (!st)
		return;
	pthread_mutex_lock(&B.stats_lock);
	st->fired = B.fired;
	st->delivered = B.delivered;
	st->lost = B.lost;
	pthread_mutex_unlock(&B.stats_lock);
	st->subscribers = list_count(&B.subs);
}
