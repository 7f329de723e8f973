/*
 * log.h - leveled logging to the console, a log file and subscribers (the event
 * socket's `log` command). Levels are FreeSWITCH's: 0 console ... 7 debug.
 */
#ifndef CONFAB_LOG_H
#define CONFAB_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level {
	LOGL_CONSOLE = 0,
	LOGL_ALERT   = 1,
	LOGL_CRIT    = 2,
	LOGL_ERR     = 3,
	LOGL_WARNING = 4,
	LOGL_NOTICE  = 5,
	LOGL_INFO    = 6,
	LOGL_DEBUG   = 7,
};

/* One formatted log line, as handed to subscribers. */
struct log_line {
	enum log_level level;
	const char *file;      /* source basename */
	const char *func;
	unsigned line;
	const char *text;      /* the message alone, ends in '\n' */
	const char *full;      /* "date time.usec cpu% [LEVEL] file:line text" */
};

/* Called on the signalling thread, in order. */
typedef void (log_h)(const struct log_line *ll, void *arg);

struct log_sub;

int  log_open(const char *path);            /* NULL: console only */
void log_close(void);
void log_set_level(enum log_level level);   /* console/file threshold */
enum log_level log_get_level(void);
void log_set_console(bool enable);

/* Subscribe to every line at or above `level`. Free with mem_deref. */
int  log_subscribe(struct log_sub **subp, enum log_level level, log_h *h, void *arg);
void log_sub_set_level(struct log_sub *sub, enum log_level level);

/* "err" / "3" / "warning" ... -> level. Returns EINVAL for anything else. */
int  log_level_parse(const char *s, enum log_level *levelp);
const char *log_level_name(enum log_level level);   /* "ERR", "WARNING", ... */

/* Any thread. */
void log_write(enum log_level level, const char *file, const char *func,
	       unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void log_vwrite(enum log_level level, const char *file, const char *func,
		unsigned line, const char *fmt, va_list ap);

#define log_at(lvl, ...) log_write((lvl), __FILE__, __func__, __LINE__, __VA_ARGS__)
#define log_err(...)     log_at(LOGL_ERR, __VA_ARGS__)
#define log_warn(...)    log_at(LOGL_WARNING, __VA_ARGS__)
#define log_notice(...)  log_at(LOGL_NOTICE, __VA_ARGS__)
#define log_info(...)    log_at(LOGL_INFO, __VA_ARGS__)
#define log_debug(...)   log_at(LOGL_DEBUG, __VA_ARGS__)
#define log_crit(...)    log_at(LOGL_CRIT, __VA_ARGS__)

#endif
