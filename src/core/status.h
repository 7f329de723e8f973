/*
 * status.h - what the server reports about itself: uptime, session counters,
 * idle CPU, the HEARTBEAT / STARTUP / SHUTDOWN events and the status, version
 * and uptime commands. Signalling thread only unless noted.
 */
#ifndef CONFAB_STATUS_H
#define CONFAB_STATUS_H

#include <stdint.h>

struct status_cfg {
	unsigned max_sessions;          /* switch.conf max-sessions (1000) */
	unsigned sessions_per_second;   /* switch.conf sessions-per-second (30) */
	unsigned heartbeat_interval;    /* seconds, event-heartbeat-interval (20) */
	double min_idle_cpu;            /* switch.conf min-idle-cpu (0) */
};

int  status_init(const struct status_cfg *cfg);   /* registers the commands */
void status_close(void);

/* Fire STARTUP (once the server listens) and SHUTDOWN. */
void status_fire_startup(void);
void status_fire_shutdown(void);

/* Channels report their lifetime here. */
void status_session_created(void);
void status_session_destroyed(void);

uint64_t status_uptime_us(void);
/* Idle CPU of the machine in percent, refreshed every second. Any thread. */
double status_idle_cpu(void);

/* Product strings (one place, so nobody changes them by accident). */
#define CONFAB_PRODUCT "confab"
const char *status_version_full(void);

#endif
