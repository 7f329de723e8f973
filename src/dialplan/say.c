/*
 * say.c - the English say module (FreeSWITCH's mod_say_en): numbers, digits,
 * addresses, money and dates as lists of sound-pack files.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <re.h>
#include "dialplan/say.h"

/* FreeSWITCH's sound-pack names (mod_say_en.c, freeswitch-sounds-en-us). */
#define F_DIGIT      "digits/%u.wav"         /* 0..19, 20, 30 .. 90 */
#define F_ORDINAL    "digits/h-%u.wav"       /* first .. nineteenth, twentieth .. */
#define F_HUNDRED    "digits/hundred.wav"
#define F_THOUSAND   "digits/thousand.wav"
#define F_MILLION    "digits/million.wav"
#define F_BILLION    "digits/billion.wav"
#define F_H_HUNDRED  "digits/h-hundred.wav"
#define F_H_THOUSAND "digits/h-thousand.wav"
#define F_H_MILLION  "digits/h-million.wav"
#define F_H_BILLION  "digits/h-billion.wav"
#define F_DOT        "digits/dot.wav"
#define F_OH         "digits/oh.wav"
#define F_NEGATIVE   "currency/negative.wav"
#define F_DOLLAR     "currency/dollar.wav"
#define F_DOLLARS    "currency/dollars.wav"
#define F_CENT       "currency/cent.wav"
#define F_CENTS      "currency/cents.wav"
#define F_AND        "currency/and.wav"
#define F_ASCII      "ascii/%u.wav"
#define F_PHONETIC   "phonetic-ascii/%u.wav"
#define F_HOUR       "time/hour.wav"
#define F_HOURS      "time/hours.wav"
#define F_MINUTE     "time/minute.wav"
#define F_MINUTES    "time/minutes.wav"
#define F_SECOND     "time/second.wav"
#define F_SECONDS    "time/seconds.wav"
#define F_AM         "time/a-m.wav"
#define F_PM         "time/p-m.wav"
#define F_DAY        "time/day-%u.wav"       /* 0 Sunday .. 6 */
#define F_MONTH      "time/mon-%u.wav"       /* 0 January .. 11 */

#define MAX_NUMBER   999999999999ULL

enum method { M_PRONOUNCED, M_ITERATED, M_COUNTED };

/* The files so far: "file_string://a!b!c" once done. */
struct say {
	struct mbuf *mb;
	unsigned n;
	int err;
};

static void add(struct say *s, const char *fmt, unsigned v)
{
	char name[64];

	if (s->err)
		return;
	(void)snprintf(name, sizeof(name), fmt, v);
	s->err = mbuf_printf(s->mb, "%s%s", s->n ? "!" : "", name);
	s->n++;
}

/* 1..999; `ordinal`: the last word is the ordinal one ("twenty third"). */
static void say_group(struct say *s, unsigned v, bool ordinal)
{
	unsigned h = v / 100, t = v % 100;

	if (h) {
		add(s, F_DIGIT, h);
		add(s, ordinal && !t ? F_H_HUNDRED : F_HUNDRED, 0);
	}
	if (!t)
		return;
	if (t < 20) {
		add(s, ordinal ? F_ORDINAL : F_DIGIT, t);
		return;
	}
	add(s, ordinal && !(t % 10) ? F_ORDINAL : F_DIGIT, t / 10 * 10);
	if (t % 10)
		add(s, ordinal ? F_ORDINAL : F_DIGIT, t % 10);
}

static void say_number(struct say *s, unsigned long long v, bool ordinal)
{
	static const struct { unsigned long long div; const char *word, *h_word; } scale[] = {
		{1000000000ULL, F_BILLION, F_H_BILLION},
		{1000000ULL, F_MILLION, F_H_MILLION},
		{1000ULL, F_THOUSAND, F_H_THOUSAND},
	};
	size_t i;

	if (!v) {
		add(s, ordinal ? F_ORDINAL : F_DIGIT, 0);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(scale); i++) {
		unsigned g = (unsigned)(v / scale[i].div);

		if (!g)
			continue;
		v %= scale[i].div;
		say_group(s, g, false);
		add(s, ordinal && !v ? scale[i].h_word : scale[i].word, 0);
	}
	if (v)
		say_group(s, (unsigned)v, ordinal);
}

/* "1,234" -> 1234 (mod_say_en strips commas); false when not a number. */
static bool parse_number(const char *text, unsigned long long *vp, bool *negp)
{
	unsigned long long v = 0;
	bool any = false;

	while (isspace((unsigned char)*text))
		text++;
	*negp = *text == '-';
	if (*text == '-' || *text == '+')
		text++;
	for (; *text; text++) {
		if (*text == ',' || isspace((unsigned char)*text))
			continue;
		if (!isdigit((unsigned char)*text))
			return false;
		v = v * 10 + (unsigned)(*text - '0');
		if (v > MAX_NUMBER)
			return false;
		any = true;
	}
	*vp = v;
	return any;
}

static void say_iterated(struct say *s, const char *text)
{
	for (; *text; text++)
		if (isdigit((unsigned char)*text))
			add(s, F_DIGIT, (unsigned)(*text - '0'));
}

static int say_count(struct say *s, enum method m, const char *text)
{
	unsigned long long v;
	bool neg;

	if (m == M_ITERATED) {
		say_iterated(s, text);
		return 0;
	}
	if (!parse_number(text, &v, &neg))
		return EINVAL;
	if (neg)
		add(s, F_NEGATIVE, 0);
	say_number(s, v, m == M_COUNTED);
	return 0;
}

static int say_ip(struct say *s, const char *text)
{
	unsigned a[4];
	char end;
	int i;

	if (sscanf(text, "%u.%u.%u.%u%c", &a[0], &a[1], &a[2], &a[3], &end) != 4)
		return EINVAL;
	for (i = 0; i < 4; i++) {
		if (a[i] > 255)
			return EINVAL;
		if (i)
			add(s, F_DOT, 0);
		say_number(s, a[i], false);
	}
	return 0;
}

static void say_spelled(struct say *s, const char *text, bool phonetic)
{
	for (; *text; text++) {
		unsigned char c = (unsigned char)tolower((unsigned char)*text);

		if (isdigit(c))
			add(s, F_DIGIT, (unsigned)(c - '0'));
		else if (isalpha(c))
			add(s, phonetic ? F_PHONETIC : F_ASCII, c);
	}
}

/* "12.34" dollars and cents. */
static int say_currency(struct say *s, const char *text)
{
	unsigned long long dollars = 0;
	unsigned cents = 0;
	char buf[32], *dot;
	bool neg;

	while (*text == '$' || isspace((unsigned char)*text))
		text++;
	if (snprintf(buf, sizeof(buf), "%s", text) >= (int)sizeof(buf))
		return EINVAL;
	dot = strchr(buf, '.');
	if (dot) {
		*dot++ = '\0';
		if (!isdigit((unsigned char)dot[0]) || (dot[1] && !isdigit((unsigned char)dot[1])))
			return EINVAL;
		cents = (unsigned)(dot[0] - '0') * 10 + (dot[1] ? (unsigned)(dot[1] - '0') : 0);
	}
	if (*buf && !parse_number(buf, &dollars, &neg))
		return EINVAL;
	if (*buf && neg)
		add(s, F_NEGATIVE, 0);
	say_number(s, dollars, false);
	add(s, dollars == 1 ? F_DOLLAR : F_DOLLARS, 0);
	if (cents) {
		add(s, F_AND, 0);
		say_number(s, cents, false);
		add(s, cents == 1 ? F_CENT : F_CENTS, 0);
	}
	return 0;
}

/* Seconds as "1 hour 2 minutes 3 seconds" (time_measurement). */
static int say_duration(struct say *s, const char *text)
{
	unsigned long long v;
	unsigned h, m, sec;
	bool neg;

	if (!parse_number(text, &v, &neg) || neg)
		return EINVAL;
	h = (unsigned)(v / 3600);
	m = (unsigned)(v / 60 % 60);
	sec = (unsigned)(v % 60);
	if (h) {
		say_number(s, h, false);
		add(s, h == 1 ? F_HOUR : F_HOURS, 0);
	}
	if (m) {
		say_number(s, m, false);
		add(s, m == 1 ? F_MINUTE : F_MINUTES, 0);
	}
	if (sec || (!h && !m)) {
		say_number(s, sec, false);
		add(s, sec == 1 ? F_SECOND : F_SECONDS, 0);
	}
	return 0;
}

/* mod_say_en en_say_time: "two thirty five p m", "two oh five", "two p m". */
static void say_clock(struct say *s, const struct tm *tm)
{
	unsigned h = (unsigned)tm->tm_hour % 12;

	say_number(s, h ? h : 12, false);
	if (tm->tm_min) {
		if (tm->tm_min < 10)
			add(s, F_OH, 0);
		say_number(s, (unsigned)tm->tm_min, false);
	}
	add(s, tm->tm_hour < 12 ? F_AM : F_PM, 0);
}

static void say_date(struct say *s, const struct tm *tm, bool year)
{
	add(s, F_DAY, (unsigned)tm->tm_wday);
	add(s, F_MONTH, (unsigned)tm->tm_mon);
	say_number(s, (unsigned)tm->tm_mday, true);
	if (year)
		say_number(s, (unsigned)tm->tm_year + 1900, false);
}

static int say_when(struct say *s, const char *type, const char *text)
{
	unsigned long long v;
	struct tm tm, today;
	time_t t, now = time(NULL);
	bool neg;

	if (text && *text && strcmp(text, "now")) {
		if (!parse_number(text, &v, &neg) || neg)
			return EINVAL;
		t = (time_t)v;
	} else {
		t = now;
	}
	if (!localtime_r(&t, &tm) || !localtime_r(&now, &today))
		return EINVAL;
	if (!strcasecmp(type, "current_date")) {
		say_date(s, &tm, true);
	} else if (!strcasecmp(type, "current_time")) {
		say_clock(s, &tm);
	} else if (!strcasecmp(type, "current_date_time")) {
		say_date(s, &tm, true);
		say_clock(s, &tm);
	} else {
		/* short_date_time: today's only the clock, this year's without the year. */
		if (tm.tm_year != today.tm_year || tm.tm_yday != today.tm_yday)
			say_date(s, &tm, tm.tm_year != today.tm_year);
		say_clock(s, &tm);
	}
	return 0;
}

static int parse_method(const char *m, enum method *mp)
{
	if (!m || !*m || !strcasecmp(m, "pronounced") || !strcasecmp(m, "N/A"))
		*mp = M_PRONOUNCED;
	else if (!strcasecmp(m, "iterated"))
		*mp = M_ITERATED;
	else if (!strcasecmp(m, "counted"))
		*mp = M_COUNTED;
	else
		return EINVAL;
	return 0;
}

static bool module_en(const char *module)
{
	size_t n = module ? strcspn(module, ":") : 0;

	return (n == 2 && !strncasecmp(module, "en", 2)) ||
	       (n == 5 && !strncasecmp(module, "en-us", 5)) ||
	       (n == 5 && !strncasecmp(module, "en_us", 5));
}

static int say_type(struct say *s, const char *type, enum method m, const char *text)
{
	static const char *const counts[] = {"number", "items", "persons", "messages"};
	static const char *const digits[] = {"telephone_number", "telephone_extension",
					     "account_number"};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(counts); i++)
		if (!strcasecmp(type, counts[i]))
			return say_count(s, m, text);
	for (i = 0; i < ARRAY_SIZE(digits); i++)
		if (!strcasecmp(type, digits[i])) {
			say_iterated(s, text);
			return 0;
		}
	if (!strcasecmp(type, "ip_address"))
		return say_ip(s, text);
	if (!strcasecmp(type, "name_spelled") || !strcasecmp(type, "name_phonetic")) {
		say_spelled(s, text, !strcasecmp(type, "name_phonetic"));
		return 0;
	}
	if (!strcasecmp(type, "currency"))
		return say_currency(s, text);
	if (!strcasecmp(type, "time_measurement"))
		return say_duration(s, text);
	if (!strcasecmp(type, "current_date") || !strcasecmp(type, "current_time") ||
	    !strcasecmp(type, "current_date_time") || !strcasecmp(type, "short_date_time"))
		return say_when(s, type, text);
	return EINVAL;
}

int say_source(char **sourcep, const char *module, const char *type, const char *method,
	       const char *gender, const char *text)
{
	struct say s = {0};
	enum method m;
	int err;

	(void)gender;                /* English has none to agree with */
	if (!sourcep || !type || !text)
		return EINVAL;
	if (!module_en(module))
		return ENOTSUP;
	err = parse_method(method, &m);
	if (err)
		return err;
	s.mb = mbuf_alloc(256);
	if (!s.mb)
		return ENOMEM;
	err = say_type(&s, type, m, text);
	if (!err)
		err = s.err;
	if (!err && !s.n)
		err = ENOENT;
	if (!err) {
		s.mb->pos = 0;
		err = s.n == 1 ? mbuf_strdup(s.mb, sourcep, s.mb->end)
			       : re_sdprintf(sourcep, "file_string://%b", s.mb->buf, s.mb->end);
	}
	mem_deref(s.mb);
	return err;
}

int say_source_args(char **sourcep, const char *args)
{
	char buf[1024], *argv[5] = {0}, *p, *save = NULL;
	int argc = 0;

	if (!args || snprintf(buf, sizeof(buf), "%s", args) >= (int)sizeof(buf))
		return EINVAL;
	/* switch_separate_string with five slots: the last one keeps the rest. */
	for (p = strtok_r(buf, " ", &save); p && argc < 4; p = strtok_r(NULL, " ", &save))
		argv[argc++] = p;
	if (p) {
		argv[argc++] = p;
		if (save && *save)
			p[strlen(p)] = ' ';
	}
	if (argc != 4 && argc != 5)
		return EINVAL;
	return argc == 4 ? say_source(sourcep, argv[0], argv[1], argv[2], NULL, argv[3])
			 : say_source(sourcep, argv[0], argv[1], argv[2], argv[3], argv[4]);
}
