/*
 * test_timer.c - libre's tmr API on the timing wheel: timers fire in expiry order
 * and never early, equal expiries in start order, handlers may start, restart and
 * cancel timers, and far timers (past the wheel) are reported and cancelled.
 */
#include <re.h>
#include "check.h"
#include "core/timer.h"

enum { NRAND = 300 };

static struct tmr rnd[NRAND];
static uint64_t due[NRAND];
static int fired[NRAND], nfired, early;
static struct tmr t_self, t_victim, t_killer, t_zero, t_after, t_moved, t_stop;
static int self_runs, victim_runs, moved_runs;
static bool zero_before_after;

static void rnd_h(void *arg)
{
	int i = (int)(intptr_t)arg;

	if (tmr_jiffies() < due[i])
		early++;
	fired[nfired++] = i;
}

static void self_h(void *arg)
{
	(void)arg;
	if (++self_runs < 3)
		tmr_start(&t_self, 5, self_h, NULL);
}

static void victim_h(void *arg)
{
	(void)arg;
	victim_runs++;
}

/* Started first with the same expiry, so it runs before the victim and stops it. */
static void killer_h(void *arg)
{
	(void)arg;
	tmr_cancel(&t_victim);
}

static void after_h(void *arg)
{
	(void)arg;
}

static void zero_h(void *arg)
{
	(void)arg;
	zero_before_after = tmr_isrunning(&t_after);
}

/* A zero-delay timer started from a handler runs before a later one. */
static void start_zero_h(void *arg)
{
	(void)arg;
	tmr_start(&t_zero, 0, zero_h, NULL);
}

static void moved_h(void *arg)
{
	(void)arg;
	moved_runs++;
}

static void stop_h(void *arg)
{
	(void)arg;
	re_cancel();
}

static void check_order(void)
{
	int i, out_of_order = 0;

	CHECK_INT(nfired, NRAND);
	for (i = 1; i < nfired; i++) {
		/* equal expiries keep start order, so indexes rise among them */
		if (due[fired[i]] < due[fired[i - 1]] ||
		    (due[fired[i]] == due[fired[i - 1]] && fired[i] < fired[i - 1]))
			out_of_order++;
	}
	CHECK_INT(out_of_order, 0);
	CHECK_INT(early, 0);
}

int main(void)
{
	struct tmr far, starter;
	uint32_t seed = 12345, base;
	uint64_t t0;
	int i;

	libre_init();
	CHECK_INT(timer_init(), 0);
	base = timer_count();

	for (i = 0; i < NRAND; i++) {
		uint64_t d;

		seed = seed * 1103515245u + 12345u;
		d = (seed >> 16) % 120;   /* many equal expiries */
		tmr_init(&rnd[i]);
		tmr_start(&rnd[i], d, rnd_h, (void *)(intptr_t)i);
		due[i] = rnd[i].jfs;
	}
	CHECK_INT(timer_count(), base + NRAND);

	tmr_init(&t_self);
	tmr_start(&t_self, 5, self_h, NULL);
	tmr_init(&t_killer);
	tmr_init(&t_victim);
	tmr_start(&t_killer, 30, killer_h, NULL);
	tmr_start(&t_victim, 30, victim_h, NULL);
	tmr_init(&starter);
	tmr_init(&t_zero);
	tmr_init(&t_after);
	tmr_start(&starter, 40, start_zero_h, NULL);
	tmr_start(&t_after, 60, after_h, NULL);
	tmr_init(&t_moved);
	tmr_start(&t_moved, 10, moved_h, NULL);
	tmr_start(&t_moved, 80, moved_h, NULL);

	/* Past the wheel's 65.5 s, and inside it but a lap away. */
	tmr_init(&far);
	tmr_start(&far, 100000, moved_h, NULL);
	CHECK(tmr_get_expire(&far) > 99000 && tmr_get_expire(&far) <= 100000);

	tmr_init(&t_stop);
	tmr_start(&t_stop, 200, stop_h, NULL);
	t0 = tmr_jiffies();
	re_main(NULL);
	CHECK(tmr_jiffies() - t0 >= 200);

	check_order();
	CHECK_INT(self_runs, 3);
	CHECK_INT(victim_runs, 0);
	CHECK(zero_before_after);
	CHECK_INT(moved_runs, 1);

	/* Only the far timer is left; the loop would sleep until it. */
	CHECK_INT(timer_count(), base + 1);
	CHECK(tmr_next_timeout(NULL) > 99000 && tmr_next_timeout(NULL) <= 100000);
	tmr_start(&far, 40000, moved_h, NULL);
	CHECK(tmr_next_timeout(NULL) > 39000 && tmr_next_timeout(NULL) <= 40000);
	tmr_cancel(&far);
	CHECK_INT(timer_count(), base);
	CHECK(!tmr_isrunning(&far));
	CHECK_INT(tmr_get_expire(&far), 0);

	libre_close();
	return check_done();
}
