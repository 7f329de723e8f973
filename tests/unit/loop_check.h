/*
 * loop_check.h - running the libre loop for a while in tests that drive
 * timers and channels: check_run_loop(ms) returns after ms of event handling.
 */
#ifndef CONFAB_LOOP_CHECK_H
#define CONFAB_LOOP_CHECK_H

#include <re.h>

static void check_loop_stop(void *arg)
{
	(void)arg;
	re_cancel();
}

static void check_run_loop(unsigned ms)
{
	struct tmr t;

	tmr_init(&t);
	tmr_start(&t, ms, check_loop_stop, NULL);
	re_main(NULL);
	tmr_cancel(&t);
}

#endif
