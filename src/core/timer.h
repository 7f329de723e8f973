/*
 * timer.h - libre's tmr_* timers, kept on a timing wheel instead of libre's
 * sorted list (see timer.c for why). Callers keep using libre's tmr API.
 */
#ifndef CONFAB_TIMER_H
#define CONFAB_TIMER_H

#include <stdint.h>

/*
 * Checks that libre's own calls to tmr_start, tmr_poll ... reach this
 * implementation (they go through libre's PLT, so the executable's definitions
 * win). Returns ENOSYS if they do not, in which case libre would keep timers
 * in a list these functions never look at. Call once on the signalling thread.
 */
int timer_init(void);

/* Number of running timers (for status output and tests). */
uint32_t timer_count(void);

#endif
