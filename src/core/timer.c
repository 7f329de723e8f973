/*
 * timer.c - libre's timer functions (tmr_start, tmr_cancel, tmr_poll,
 * tmr_next_timeout ...) reimplemented on a timing wheel.
 *
 * libre 1.1 keeps a thread's timers in one list sorted by expiry, and tmr_start
 * walks it from the tail to find the new timer's place. A SIP server always has
 * a deep tail: every BYE it answers over UDP leaves a server transaction waiting
 * 32 s (RFC 3261 17.2.2, Timer J), so at 500 calls/s some 16,000 timers sit
 * behind each 500 ms retransmission timer that sipsess starts for a 200 OK.
 * Those walks, one cache miss per node, took most of the signalling thread at
 * that rate. Here a timer goes into one of 65,536 one-millisecond slots (a bit
 * map finds the next busy one); only timers further out than the wheel spans
 * wait in a sorted overflow list, and there are few of those.
 *
 * libre calls these functions through its PLT, so the definitions in the
 * executable replace its own for libre's internal timers too; timer_init
 * checks that this happened. struct tmr is libre's public type and is used as
 * it is: le links the timer into a slot, th != NULL means running, jfs is the
 * expiry in tmr_jiffies() milliseconds. Timers due in the same millisecond
 * fire in the order they were started, as in libre.
 *
 * Signalling thread only, like libre's list (media workers use no tmr).
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <re.h>
#include "core/timer.h"

enum {
	SLOT_BITS = 16,
	NSLOTS = 1 << SLOT_BITS,        /* 65.5 s of 1 ms slots: past Timer B/F/J */
	SLOT_MASK = NSLOTS - 1,
	NWORDS = NSLOTS / 64,           /* busy-slot bits */
	NSUMS = NWORDS / 64,            /* busy-word bits */
};

static struct {
	struct list slot[NSLOTS];
	struct list overflow;           /* jfs >= base + NSLOTS, sorted */
	uint64_t busy[NWORDS];
	uint64_t busy_sum[NSUMS];
	uint64_t base;                  /* every timer in a slot has jfs >= base */
	uint32_t count;
	pthread_t owner;
	bool ready;
} W;

static void wheel_ready(void)
{
	if (W.ready) {
		if (!pthread_equal(pthread_self(), W.owner)) {
			fprintf(stderr, "confab: libre timer used off the signalling thread\n");
			abort();
		}
		return;
	}
	W.owner = pthread_self();
	W.base = tmr_jiffies();
	W.ready = true;
}

static void busy_set(uint32_t i)
{
	W.busy[i >> 6] |= 1ull << (i & 63);
	W.busy_sum[i >> 12] |= 1ull << ((i >> 6) & 63);
}

static void busy_clear(uint32_t i)
{
	W.busy[i >> 6] &= ~(1ull << (i & 63));
	if (!W.busy[i >> 6])
		W.busy_sum[i >> 12] &= ~(1ull << ((i >> 6) & 63));
}

/* The first busy slot at index from or above, or -1. */
static int busy_find(uint32_t from)
{
	uint32_t w = from >> 6, s;
	uint64_t bits = W.busy[w] & (~0ull << (from & 63));

	if (bits)
		return (int)((w << 6) | (uint32_t)__builtin_ctzll(bits));
	if (++w >= NWORDS)
		return -1;
	s = w >> 6;
	bits = W.busy_sum[s] & (~0ull << (w & 63));
	for (;;) {
		if (bits) {
			w = (s << 6) | (uint32_t)__builtin_ctzll(bits);
			return (int)((w << 6) | (uint32_t)__builtin_ctzll(W.busy[w]));
		}
		if (++s >= NSUMS)
			return -1;
		bits = W.busy_sum[s];
	}
}

/* The timer that expires first, or NULL. */
static struct tmr *wheel_first(void)
{
	uint32_t from = (uint32_t)(W.base & SLOT_MASK);
	int i = busy_find(from);

	/* Slots below base's index hold the wheel's later laps, up to base + NSLOTS. */
	if (i < 0)
		i = busy_find(0);
	if (i >= 0)
		return list_ledata(list_head(&W.slot[i]));
	return list_ledata(list_head(&W.overflow));
}

static bool later_than(struct le *le, void *arg)
{
	const struct tmr *t = le->data;

	return t->jfs <= *(const uint64_t *)arg;
}

static void wheel_insert(struct tmr *tmr)
{
	struct le *le;

	if (tmr->jfs - W.base >= NSLOTS) {
		le = list_apply(&W.overflow, false, later_than, &tmr->jfs);
		if (le)
			list_insert_after(&W.overflow, le, &tmr->le, tmr);
		else
			list_prepend(&W.overflow, &tmr->le, tmr);
		return;
	}
	list_append(&W.slot[tmr->jfs & SLOT_MASK], &tmr->le, tmr);
	busy_set((uint32_t)(tmr->jfs & SLOT_MASK));
}

static void wheel_unlink(struct tmr *tmr)
{
	struct list *l = tmr->le.list;

	list_unlink(&tmr->le);
	W.count--;
	if (l != &W.overflow && !l->head)
		busy_clear((uint32_t)(l - W.slot));
}

/* Moves overflow timers that the wheel now spans into their slots. */
static void wheel_migrate(void)
{
	struct tmr *t;

	while ((t = list_ledata(list_head(&W.overflow))) && t->jfs - W.base < NSLOTS) {
		list_unlink(&t->le);
		wheel_insert(t);
	}
}

void tmr_start(struct tmr *tmr, uint64_t delay, tmr_h *th, void *arg)
{
	if (!tmr)
		return;
	wheel_ready();
	if (tmr->th)
		wheel_unlink(tmr);
	tmr->th = th;
	tmr->arg = arg;
	if (!th)
		return;
	tmr->jfs = tmr_jiffies() + delay;
	W.count++;
	wheel_insert(tmr);
}

void tmr_cancel(struct tmr *tmr)
{
	tmr_start(tmr, 0, NULL, NULL);
}

uint64_t tmr_get_expire(const struct tmr *tmr)
{
	uint64_t now;

	if (!tmr || !tmr->th)
		return 0;
	now = tmr_jiffies();
	return tmr->jfs > now ? tmr->jfs - now : 0;
}

/* libre passes its own (now always empty) list; the wheel is the only one. */
void tmr_poll(struct list *tmrl)
{
	const uint64_t now = tmr_jiffies();
	struct tmr *t;

	(void)tmrl;
	wheel_ready();
	while ((t = wheel_first()) && t->jfs <= now) {
		tmr_h *th = t->th;

		wheel_unlink(t);
		t->th = NULL;
		th(t->arg);
	}
	/*
	 * Everything due has fired, so the wheel may start at now; a timer started
	 * later in this millisecond still lands in a slot at or after base.
	 */
	if (now > W.base) {
		W.base = now;
		wheel_migrate();
	}
}

uint64_t tmr_next_timeout(struct list *tmrl)
{
	const uint64_t now = tmr_jiffies();
	const struct tmr *t;

	(void)tmrl;
	wheel_ready();
	t = wheel_first();
	if (!t)
		return 0;
	return t->jfs <= now ? 1 : t->jfs - now;
}

int tmr_status(struct re_printf *pf, void *unused)
{
	(void)unused;
	return re_hprintf(pf, "Timers (%u)\n", W.count);
}

void tmr_debug(void)
{
	(void)re_fprintf(stderr, "%H", tmr_status, NULL);
}

uint32_t timer_count(void)
{
	return W.count;
}

int timer_init(void)
{
	wheel_ready();
	if (dlsym(RTLD_DEFAULT, "tmr_poll") != (void *)tmr_poll ||
	    dlsym(RTLD_DEFAULT, "tmr_start") != (void *)tmr_start)
		return ENOSYS;
	return 0;
}
