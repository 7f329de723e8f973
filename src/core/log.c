/*
 * log.c - formats log lines on the calling thread, writes them to the console and
 * the log file, and hands them to subscribers and the LOG event on the
 * signalling thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <re.h>
#include "core/log.h"
#include "core/loop.h"
#include "core/status.h"
#include "event/bus.h"
#include "event/event.h"

struct log_sub {
	struct le le;
	enum log_level level;
	log_h *h;
	void *arg;
};

/* A line in flight to the signalling thread; strings live in the same block. */
struct pending_line {
	struct log_line ll;
	char buf[];
};

static struct {
	pthread_mutex_t lock;      /* serialises console and file writes */
	FILE *file;
	atomic_int level;
	atomic_bool console;
	atomic_int want;           /* most verbose level anyone wants */
	struct list subs;          /* signalling thread only */
	bool in_delivery;          /* guards LOG event re-entry */
} LG = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.level = LOGL_INFO,
	.console = true,
	.want = LOGL_INFO,
};

static const char *level_names[] = {"CONSOLE", "ALERT", "CRIT", "ERR", "WARNING",
				    "NOTICE", "INFO", "DEBUG"};

/* ANSI colours as fs_cli shows them, by level. */
static const char *level_colours[] = {"\033[0m", "\033[1;31m", "\033[1;31m",
				      "\033[0;31m", "\033[0;35m", "\033[0;36m",
				      "\033[0;32m", "\033[0;33m"};

const char *log_level_name(enum log_level level)
{
	return (unsigned)level <= LOGL_DEBUG ? level_names[level] : "DEBUG";
}

int log_level_parse(const char *s, enum log_level *levelp)
{
	static const struct { const char *name; enum log_level l; } alias[] = {
		{"console", LOGL_CONSOLE}, {"alert", LOGL_ALERT}, {"crit", LOGL_CRIT},
		{"err", LOGL_ERR}, {"error", LOGL_ERR}, {"warning", LOGL_WARNING},
		{"warn", LOGL_WARNING}, {"notice", LOGL_NOTICE}, {"info", LOGL_INFO},
		{"debug", LOGL_DEBUG},
	};
	size_t i;

	if (!s || !*s)
		return EINVAL;
	if (s[0] >= '0' && s[0] <= '7' && !s[1]) {
		*levelp = (enum log_level)(s[0] - '0');
		return 0;
	}
	for (i = 0; i < sizeof(alias) / sizeof(*alias); i++) {
		if (!strcasecmp(s, alias[i].name)) {
			*levelp = alias[i].l;
			return 0;
		}
	}
	return EINVAL;
}

static void recompute_want(void)
{
	int want = atomic_load(&LG.level);
	struct le *le;

	for (le = LG.subs.head; le; le = le->next) {
		struct log_sub *s = le->data;

		if ((int)s->level > want)
			want = (int)s->level;
	}
	atomic_store(&LG.want, want);
}

int log_open(const char *path)
{
	FILE *f = NULL;

	if (path) {
		f = fopen(path, "a");
		if (!f)
			return errno;
		setvbuf(f, NULL, _IOLBF, 0);
	}
	pthread_mutex_lock(&LG.lock);
	if (LG.file)
		fclose(LG.file);
	LG.file = f;
	pthread_mutex_unlock(&LG.lock);
	return 0;
}

void log_close(void)
{
	log_open(NULL);
	list_flush(&LG.subs);
}

void log_set_level(enum log_level level)
{
	atomic_store(&LG.level, (int)level);
	recompute_want();
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&LG.level);
}

void log_set_console(bool enable)
{
	atomic_store(&LG.console, enable);
}

static void sub_destructor(void *data)
{
	struct log_sub *sub = data;

	list_unlink(&sub->le);
	recompute_want();
}

int log_subscribe(struct log_sub **subp, enum log_level level, log_h *h, void *arg)
{
	struct log_sub *sub;

	if (!subp || !h)
		return EINVAL;
	sub = mem_zalloc(sizeof(*sub), sub_destructor);
	if (!sub)
		return ENOMEM;
	sub->level = level;
	sub->h = h;
	sub->arg = arg;
	list_append(&LG.subs, &sub->le, sub);
	recompute_want();
	*subp = sub;
	return 0;
}

void log_sub_set_level(struct log_sub *sub, enum log_level level)
{
	if (!sub)
		return;
	sub->level = level;
	recompute_want();
}

static void fire_log_event(const struct log_line *ll)
{
	struct event *ev;

	if (event_alloc_at(&ev, EVENT_LOG, NULL, ll->file, ll->func, ll->line))
		return;
	event_add_headerf(ev, "Log-Level", "%d", ll->level);
	event_add_header(ev, "Text-Channel", "0");
	event_add_header(ev, "Log-File", ll->file);
	event_add_header(ev, "Log-Func", ll->func);
	event_add_headerf(ev, "Log-Line", "%u", ll->line);
	event_set_body(ev, ll->full, strlen(ll->full));
	bus_fire(ev);
}

/* Signalling thread: subscribers, then the LOG event (never for its own lines). */
static void deliver(const struct log_line *ll)
{
	struct le *le = LG.subs.head;

	if (LG.in_delivery)
		return;
	LG.in_delivery = true;
	while (le) {
		struct log_sub *s = le->data;

		le = le->next;     /* a handler may unsubscribe itself */
		if (ll->level <= s->level)
			s->h(ll, s->arg);
	}
	if ((int)ll->level <= atomic_load(&LG.level))
		fire_log_event(ll);
	LG.in_delivery = false;
}

static void deliver_pending(void *arg)
{
	struct pending_line *p = arg;

	deliver(&p->ll);
	free(p);
}

static void post_line(const struct log_line *ll)
{
	size_t fl = strlen(ll->file) + 1, fn = strlen(ll->func) + 1;
	size_t tl = strlen(ll->text) + 1, ful = strlen(ll->full) + 1;
	struct pending_line *p = malloc(sizeof(*p) + fl + fn + tl + ful);
	char *w;

	if (!p)
		return;
	w = p->buf;
	p->ll = *ll;
	p->ll.file = memcpy(w, ll->file, fl);
	p->ll.func = memcpy(w += fl, ll->func, fn);
	p->ll.text = memcpy(w += fn, ll->text, tl);
	p->ll.full = memcpy(w += tl, ll->full, ful);
	if (loop_post(deliver_pending, p))
		free(p);
}

static void write_out(const struct log_line *ll)
{
	if ((int)ll->level > atomic_load(&LG.level))
		return;
	pthread_mutex_lock(&LG.lock);
	if (atomic_load(&LG.console)) {
		bool tty = isatty(STDERR_FILENO);

		fprintf(stderr, "%s%s%s", tty ? level_colours[ll->level] : "", ll->full,
			tty ? "\033[0m" : "");
	}
	if (LG.file && fputs(ll->full, LG.file) == EOF) {
		/* A full disk must not take the server down; say it once on the console. */
		static bool warned;

		if (!warned)
			fprintf(stderr, "log: cannot write the log file: %s\n", strerror(errno));
		warned = true;
	}
	pthread_mutex_unlock(&LG.lock);
}

void log_vwrite(enum log_level level, const char *file, const char *func,
		unsigned line, const char *fmt, va_list ap)
{
	char text[4096], full[4400], date[32];
	struct log_line ll;
	struct timeval tv;
	struct tm tm;
	const char *base;
	int n;

	if ((int)level > atomic_load(&LG.want))
		return;
	if ((unsigned)level > LOGL_DEBUG)
		level = LOGL_DEBUG;
	base = strrchr(file, '/');
	base = base ? base + 1 : file;
	n = vsnprintf(text, sizeof(text) - 1, fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(text) - 2)
		n = sizeof(text) - 2;
	if (n == 0 || text[n - 1] != '\n') {
		text[n++] = '\n';
		text[n] = '\0';
	}
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
	/* FreeSWITCH's layout: date, microseconds, idle CPU, level, source, text. */
	snprintf(full, sizeof(full), "%s.%06ld %.2f%% [%s] %s:%u %s", date,
		 (long)tv.tv_usec, status_idle_cpu(), level_names[level], base, line, text);

	ll = (struct log_line){level, base, func, line, text, full};
	write_out(&ll);
	if (loop_is_main())
		deliver(&ll);
	else
		post_line(&ll);
}

void log_write(enum log_level level, const char *file, const char *func,
	       unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, file, func, line, fmt, ap);
	va_end(ap);
}
