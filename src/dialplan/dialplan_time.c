/*
 * dialplan_time.c - time-of-call conditions: year, yday, mon, mday, week, mweek,
 * wday, hour, minute, minute-of-day, time-of-day and date-time, with
 * FreeSWITCH's syntax and meaning (switch_xml_std_datetime_check,
 * switch_number_cmp, switch_dow_cmp, switch_tod_cmp, switch_fulldate_cmp).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <re.h>
#include "channel/channel.h"
#include "core/config.h"
#include "dialplan/dialplan_int.h"

#define MAX_RANGES 32

/* Comma-separated values and ranges; lo > hi wraps ("18-8" is 18..max, 0..8). */
struct ranges {
	unsigned n;
	struct { long lo, hi; } r[MAX_RANGES];
};

enum tfield {
	TF_YEAR, TF_YDAY, TF_MON, TF_MDAY, TF_WEEK, TF_MWEEK, TF_WDAY, TF_HOUR,
	TF_MINUTE, TF_MINDAY, TF_TOD, TF_COUNT
};

/* Attribute names (FreeSWITCH's), in the order they are checked. */
static const char *const tf_names[TF_COUNT] = {
	"year", "yday", "mon", "mday", "week", "mweek", "wday", "hour", "minute",
	"minute-of-day", "time-of-day",
};

struct dp_time {
	bool has[TF_COUNT];
	struct ranges set[TF_COUNT];
	unsigned ndt;                        /* date-time ranges */
	struct { time_t from, to; } dt[MAX_RANGES];
};

static const char *const wday_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* "mon" -> 2 (Sunday is 1, as in FreeSWITCH), or a number 1-7. */
static int parse_wday(const char **sp, long *v)
{
	const char *s = *sp;
	char *end;
	size_t i;

	for (i = 0; i < 7; i++) {
		if (!strncasecmp(s, wday_names[i], 3)) {
			*v = (long)i + 1;
			*sp = s + 3;
			return 0;
		}
	}
	*v = strtol(s, &end, 10);
	if (end == s || *v < 1 || *v > 7)
		return EINVAL;
	*sp = end;
	return 0;
}

/* "HH:MM" or "HH:MM:SS" -> seconds of the day. */
static int parse_tod(const char **sp, long *v)
{
	const char *s = *sp;
	long part[3] = {0, 0, 0};
	int i;

	for (i = 0; i < 3; i++) {
		char *end;

		part[i] = strtol(s, &end, 10);
		if (end == s)
			return EINVAL;
		s = end;
		if (*s != ':' || i == 2)
			break;
		s++;
	}
	if (i == 0 || part[0] > 23 || part[1] > 59 || part[2] > 59 || part[0] < 0 ||
	    part[1] < 0 || part[2] < 0)
		return EINVAL;
	*v = part[0] * 3600 + part[1] * 60 + part[2];
	*sp = s;
	return 0;
}

static int parse_num(const char **sp, long *v)
{
	char *end;

	*v = strtol(*sp, &end, 10);
	if (end == *sp || *v < 0)
		return EINVAL;
	*sp = end;
	return 0;
}

static int parse_ranges(struct ranges *rs, const char *s, int (*item)(const char **, long *))
{
	rs->n = 0;
	for (;;) {
		long lo, hi;

		while (*s == ' ')
			s++;
		if (rs->n == MAX_RANGES || item(&s, &lo))
			return EINVAL;
		hi = lo;
		while (*s == ' ')
			s++;
		if (*s == '-') {
			s++;
			while (*s == ' ')
				s++;
			if (item(&s, &hi))
				return EINVAL;
			while (*s == ' ')
				s++;
		}
		rs->r[rs->n].lo = lo;
		rs->r[rs->n++].hi = hi;
		if (!*s)
			return 0;
		if (*s++ != ',')
			return EINVAL;
	}
}

static bool ranges_match(const struct ranges *rs, long v)
{
	unsigned i;

	for (i = 0; i < rs->n; i++) {
		long lo = rs->r[i].lo, hi = rs->r[i].hi;

		if (lo <= hi ? (v >= lo && v <= hi) : (v >= lo || v <= hi))
			return true;
	}
	return false;
}

/* "2024-12-24 18:00[:00]" in local time. */
static int parse_datetime(const char *s, time_t *t)
{
	struct tm tm = {0};
	int n = 0;

	if (sscanf(s, "%d-%d-%d %d:%d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &n) != 5)
		return EINVAL;
	s += n;
	if (*s == ':') {
		int m = 0;

		if (sscanf(s, ":%d%n", &tm.tm_sec, &m) != 1)
			return EINVAL;
		s += m;
	}
	while (*s == ' ')
		s++;
	if (*s || tm.tm_year < 1970 || tm.tm_year > 9999 || tm.tm_mon < 1 || tm.tm_mon > 12 ||
	    tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour < 0 || tm.tm_hour > 23 ||
	    tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60)
		return EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_isdst = -1;
	*t = mktime(&tm);
	return *t == (time_t)-1 ? EINVAL : 0;
}

/* "from~to[,from~to]..." */
static int parse_datetimes(struct dp_time *t, const char *v)
{
	char buf[1024], *p, *save = NULL;

	if (snprintf(buf, sizeof(buf), "%s", v) >= (int)sizeof(buf))
		return EINVAL;
	for (p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		char *tilde = strchr(p, '~');

		if (!tilde || t->ndt == MAX_RANGES)
			return EINVAL;
		*tilde = '\0';
		while (*p == ' ')
			p++;
		if (parse_datetime(p, &t->dt[t->ndt].from) ||
		    parse_datetime(tilde + 1, &t->dt[t->ndt].to))
			return EINVAL;
		t->ndt++;
	}
	return t->ndt ? 0 : EINVAL;
}

int dp_time_compile(struct dp_time **tp, const struct xml_node *n, char *err,
		    size_t errsz)
{
	static const char *const unsupported[] = {"tz-offset", "dst"};
	struct dp_time *t = NULL;
	const char *v;
	size_t i;

	*tp = NULL;
	for (i = 0; i < sizeof(unsupported) / sizeof(*unsupported); i++) {
		if (xml_attr(n, unsupported[i])) {
			snprintf(err, errsz, "%s:%u: time condition %s=\"...\" is not supported",
				 n->file ? n->file : "?", n->line, unsupported[i]);
			return ENOTSUP;
		}
	}
	for (i = 0; i <= TF_COUNT; i++) {
		const char *name = i < TF_COUNT ? tf_names[i] : "date-time";
		int e;

		v = xml_attr(n, name);
		if (!v)
			continue;
		if (!t) {
			t = mem_zalloc(sizeof(*t), NULL);
			if (!t)
				return ENOMEM;
		}
		if (i == TF_COUNT)
			e = parse_datetimes(t, v);
		else
			e = parse_ranges(&t->set[i], v, i == TF_WDAY ? parse_wday :
					 i == TF_TOD ? parse_tod : parse_num);
		if (e) {
			snprintf(err, errsz, "%s:%u: bad time condition %s=\"%s\"",
				 n->file ? n->file : "?", n->line, name, v);
			mem_deref(t);
			return EINVAL;
		}
		if (i < TF_COUNT)
			t->has[i] = true;
	}
	*tp = t;
	return 0;
}

bool dp_time_match(const struct dp_time *t, time_t now, struct channel *ch)
{
	const char *off = channel_var(ch, "tod_tz_offset");
	long val[TF_COUNT];
	struct tm tm;
	int firstdow;
	unsigned i;

	if (!t)
		return true;
	for (i = 0; i < t->ndt; i++) {
		if (now >= t->dt[i].from && now <= t->dt[i].to)
			break;
	}
	if (t->ndt && i == t->ndt)
		return false;
	/* tod_tz_offset: hours east of UTC, for callers in another zone. */
	if (off && *off) {
		time_t shifted = now + (time_t)(atol(off) * 3600);

		gmtime_r(&shifted, &tm);
	} else {
		localtime_r(&now, &tm);
	}
	/* FreeSWITCH's week of the month: counted from the week holding the 1st. */
	firstdow = (7 - (tm.tm_mday - (tm.tm_wday + 1)) % 7) % 7;
	val[TF_YEAR] = tm.tm_year + 1900;
	val[TF_YDAY] = tm.tm_yday + 1;
	val[TF_MON] = tm.tm_mon + 1;
	val[TF_MDAY] = tm.tm_mday;
	val[TF_WEEK] = tm.tm_yday / 7 + 1;
	val[TF_MWEEK] = (tm.tm_mday + firstdow + 6) / 7;
	val[TF_WDAY] = tm.tm_wday + 1;
	val[TF_HOUR] = tm.tm_hour;
	val[TF_MINUTE] = tm.tm_min;
	val[TF_MINDAY] = tm.tm_hour * 60 + tm.tm_min + 1;
	val[TF_TOD] = tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	for (i = 0; i < TF_COUNT; i++) {
		if (t->has[i] && !ranges_match(&t->set[i], val[i]))
			return false;
	}
	return true;
}
