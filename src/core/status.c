/*
 * status.c - uptime and session counters, the machine's idle CPU, the
 * status/version/uptime commands and the HEARTBEAT, STARTUP and SHUTDOWN events.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <re.h>
#include "core/api.h"
#include "core/log.h"
#include "core/status.h"
#include "event/bus.h"
#include "event/event.h"

static struct {
	struct status_cfg cfg;
	uint64_t start_us;
	uint64_t since_startup, current, peak, peak_5min;
	uint64_t sps_last, sps_max, sps_5min, sps_count;
	/* The last five minutes, one sample a second: sessions up and new per second. */
	uint32_t win_sessions[300], win_sps[300];
	unsigned win_pos;
	uint64_t cpu_total, cpu_idle;     /* previous /proc/stat sample */
	_Atomic double idle;
	struct tmr cpu_tmr, hb_tmr;
} S;

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t status_uptime_us(void)
{
	return now_us() - S.start_us;
}

double status_idle_cpu(void)
{
	return atomic_load(&S.idle);
}

const char *status_version_full(void)
{
	return CONFAB_VERSION "-release 64bit";
}

void status_session_created(void)
{
	S.since_startup++;
	S.sps_count++;
	if (++S.current > S.peak)
		S.peak = S.current;
	if (S.current > S.peak_5min)
		S.peak_5min = S.current;
}

void status_session_destroyed(void)
{
	if (S.current)
		S.current--;
}

/* Keep the last 300 one-second samples and take the "last 5min" peaks from them. */
static void roll_window(void)
{
	unsigned i;

	S.win_sessions[S.win_pos] = (uint32_t)S.current;
	S.win_sps[S.win_pos] = (uint32_t)S.sps_count;
	S.win_pos = (S.win_pos + 1) % 300;
	S.peak_5min = S.current;
	S.sps_5min = 0;
	for (i = 0; i < 300; i++) {
		if (S.win_sessions[i] > S.peak_5min)
			S.peak_5min = S.win_sessions[i];
		if (S.win_sps[i] > S.sps_5min)
			S.sps_5min = S.win_sps[i];
	}
}

/* Sample /proc/stat once a second: idle share of all CPU time since last sample. */
static void cpu_sample(void *arg)
{
	unsigned long long v[8] = {0}, total = 0, idle;
	FILE *f = fopen("/proc/stat", "r");
	size_t i;

	(void)arg;
	if (f) {
		if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
			   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
			for (i = 0; i < 8; i++)
				total += v[i];
			idle = v[3] + v[4];
			if (S.cpu_total && total > S.cpu_total)
				atomic_store(&S.idle, 100.0 * (double)(idle - S.cpu_idle) /
						      (double)(total - S.cpu_total));
			S.cpu_total = total;
			S.cpu_idle = idle;
		}
		fclose(f);
	}
	S.sps_last = S.sps_count;
	if (S.sps_count > S.sps_max)
		S.sps_max = S.sps_count;
	roll_window();
	S.sps_count = 0;
	tmr_start(&S.cpu_tmr, 1000, cpu_sample, NULL);
}

/* "0 years, 0 days, 1 hour, 2 minutes, ..." with FreeSWITCH's plurals. */
static int print_uptime(struct mbuf *mb, uint64_t us)
{
	uint64_t s = us / 1000000u;
	const struct { uint64_t n; const char *unit; } parts[] = {
		{s / 31536000u, "year"}, {s / 86400u % 365u, "day"},
		{s / 3600u % 24u, "hour"}, {s / 60u % 60u, "minute"}, {s % 60u, "second"},
		{us / 1000u % 1000u, "millisecond"}, {us % 1000u, "microsecond"},
	};
	size_t i;
	int err = 0;

	for (i = 0; i < sizeof(parts) / sizeof(*parts); i++)
		err |= mbuf_printf(mb, "%s%llu %s%s", i ? ", " : "",
				   (unsigned long long)parts[i].n, parts[i].unit,
				   parts[i].n == 1 ? "" : "s");
	return err;
}

static int cmd_status(struct api_call *call, const char *args)
{
	struct mbuf *mb = mbuf_alloc(256);
	struct rlimit rl;
	unsigned long stack_max = 8192;

	(void)args;
	if (!mb)
		return ENOMEM;
	if (!getrlimit(RLIMIT_STACK, &rl) && rl.rlim_cur != RLIM_INFINITY)
		stack_max = (unsigned long)(rl.rlim_cur / 1024);
	print_uptime(mb, status_uptime_us());
	api_printf(call, "UP %.*s\n", (int)mb->end, (const char *)mb->buf);
	api_printf(call, "%s (Version %s) is ready\n", CONFAB_PRODUCT,
		   status_version_full());
	api_printf(call, "%llu session(s) since startup\n",
		   (unsigned long long)S.since_startup);
	api_printf(call, "%llu session(s) - peak %llu, last 5min %llu \n",
		   (unsigned long long)S.current, (unsigned long long)S.peak,
		   (unsigned long long)S.peak_5min);
	api_printf(call, "%llu session(s) per Sec out of max %u, peak %llu, last 5min %llu \n",
		   (unsigned long long)S.sps_last, S.cfg.sessions_per_second,
		   (unsigned long long)S.sps_max, (unsigned long long)S.sps_5min);
	api_printf(call, "%u session(s) max\n", S.cfg.max_sessions);
	api_printf(call, "min idle cpu %.2f/%.2f\n", S.cfg.min_idle_cpu, status_idle_cpu());
	api_printf(call, "Current Stack Size/Max %luK/%luK\n", 240ul, stack_max);
	mem_deref(mb);
	return 0;
}

static int cmd_version(struct api_call *call, const char *args)
{
	if (args && !strcmp(args, "short"))
		return api_printf(call, "%s\n", CONFAB_VERSION);
	return api_printf(call, "%s Version %s (%s)\n", CONFAB_PRODUCT,
			  status_version_full(), CONFAB_VERSION);
}

static int cmd_uptime(struct api_call *call, const char *args)
{
	static const struct { const char *a, *b; uint64_t div; } units[] = {
		{"us", "microseconds", 1}, {"ms", "milliseconds", 1000},
		{"s", "seconds", 1000000}, {"m", "minutes", 60000000},
		{"h", "hours", 3600000000ull}, {"d", "days", 86400000000ull},
	};
	uint64_t div = 1000000;
	size_t i;

	if (args && *args) {
		for (i = 0, div = 0; i < sizeof(units) / sizeof(*units); i++) {
			if (!strcmp(args, units[i].a) || !strcmp(args, units[i].b))
				div = units[i].div;
		}
		if (!div)
			return api_usage(call);
	}
	return api_printf(call, "%llu\n", (unsigned long long)(status_uptime_us() / div));
}

static void add_status_headers(struct event *ev)
{
	struct mbuf *mb = mbuf_alloc(128);

	if (mb && !print_uptime(mb, status_uptime_us()))
		event_add_header_len(ev, "Up-Time", 7, (const char *)mb->buf, mb->end);
	mem_deref(mb);
	event_add_header(ev, "FreeSWITCH-Version", status_version_full());
	event_add_headerf(ev, "Uptime-msec", "%llu",
			  (unsigned long long)(status_uptime_us() / 1000));
	event_add_headerf(ev, "Session-Count", "%llu", (unsigned long long)S.current);
	event_add_headerf(ev, "Max-Sessions", "%u", S.cfg.max_sessions);
	event_add_headerf(ev, "Session-Per-Sec", "%u", S.cfg.sessions_per_second);
	event_add_headerf(ev, "Session-Per-Sec-Last", "%llu", (unsigned long long)S.sps_last);
	event_add_headerf(ev, "Session-Per-Sec-Max", "%llu", (unsigned long long)S.sps_max);
	event_add_headerf(ev, "Session-Per-Sec-FiveMin", "%llu",
			  (unsigned long long)S.sps_5min);
	event_add_headerf(ev, "Session-Since-Startup", "%llu",
			  (unsigned long long)S.since_startup);
	event_add_headerf(ev, "Session-Peak-Max", "%llu", (unsigned long long)S.peak);
	event_add_headerf(ev, "Session-Peak-FiveMin", "%llu", (unsigned long long)S.peak_5min);
	event_add_headerf(ev, "Idle-CPU", "%f", status_idle_cpu());
}

static void fire_status_event(enum event_id id, const char *info)
{
	struct event *ev;

	if (event_alloc(&ev, id, NULL))
		return;
	event_add_header(ev, "Event-Info", info);
	add_status_headers(ev);
	bus_fire(ev);
}

static void heartbeat(void *arg)
{
	(void)arg;
	fire_status_event(EVENT_HEARTBEAT, "System Ready");
	tmr_start(&S.hb_tmr, S.cfg.heartbeat_interval * 1000ull, heartbeat, NULL);
}

void status_fire_startup(void)
{
	fire_status_event(EVENT_STARTUP, "System Ready");
	if (S.cfg.heartbeat_interval)
		tmr_start(&S.hb_tmr, S.cfg.heartbeat_interval * 1000ull, heartbeat, NULL);
}

void status_fire_shutdown(void)
{
	tmr_cancel(&S.hb_tmr);
	fire_status_event(EVENT_SHUTDOWN, "System Shutting Down");
}

int status_init(const struct status_cfg *cfg)
{
	int err = 0;

	memset(&S, 0, sizeof(S));
	S.cfg = *cfg;
	S.start_us = now_us();
	atomic_store(&S.idle, 100.0);
	tmr_init(&S.cpu_tmr);
	tmr_init(&S.hb_tmr);
	cpu_sample(NULL);
	err |= api_register("status", "", "Show current status", cmd_status);
	err |= api_register("version", "[short]", "Version of confab", cmd_version);
	err |= api_register("uptime",
			    "[us|ms|s|m|h|d|microseconds|milliseconds|seconds|minutes|hours|days]",
			    "Show uptime", cmd_uptime);
	return err ? EINVAL : 0;
}

void status_close(void)
{
	tmr_cancel(&S.cpu_tmr);
	tmr_cancel(&S.hb_tmr);
	api_unregister("status");
	api_unregister("version");
	api_unregister("uptime");
}
