/*
 * sip_parse.c - small parsers for what arrives in requests and dial strings:
 * DTMF in INFO bodies, sofia/ and user/ targets, Contact expiry, and the
 * reason phrases we send.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "sip/sip_int.h"

/* FreeSWITCH's default DTMF duration: 2000 samples at 8 kHz. */
#define DTMF_DEFAULT_MS 250
#define DTMF_MAX_MS 8000

static int digit_from(const char *s, size_t len, char *digit)
{
	static const char events[] = "0123456789*#ABCD";
	char buf[8];
	char *end;
	long n;

	while (len && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
		len--;
	if (!len || len >= sizeof(buf))
		return EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (len == 1 && strchr("*#ABCDabcd", buf[0])) {
		*digit = (char)(buf[0] >= 'a' ? buf[0] - 32 : buf[0]);
		return 0;
	}
	/* RFC 4733 event numbers are allowed too: 10 is '*', 11 '#', 12-15 A-D. */
	n = strtol(buf, &end, 10);
	if (*end || n < 0 || n > 15)
		return EINVAL;
	*digit = events[n];
	return 0;
}

static int parse_relay(const char *body, size_t len, char *digit, unsigned *ms)
{
	size_t pos = 0;
	bool have = false;

	*ms = DTMF_DEFAULT_MS;
	while (pos < len) {
		size_t end = pos, l;
		const char *line = body + pos, *eq;

		while (end < len && body[end] != '\n')
			end++;
		l = end - pos;
		pos = end + 1;
		eq = memchr(line, '=', l);
		if (!eq)
			continue;
		if ((size_t)(eq - line) >= 6 && !strncasecmp(line, "Signal", 6)) {
			if (digit_from(eq + 1, l - (size_t)(eq + 1 - line), digit))
				return EINVAL;
			have = true;
		} else if ((size_t)(eq - line) >= 8 && !strncasecmp(line, "Duration", 8)) {
			char buf[16];
			size_t vl = l - (size_t)(eq + 1 - line);
			unsigned long d;

			if (vl >= sizeof(buf))
				continue;
			memcpy(buf, eq + 1, vl);
			buf[vl] = '\0';
			d = strtoul(buf, NULL, 10);
			*ms = d && d <= DTMF_MAX_MS ? (unsigned)d : DTMF_DEFAULT_MS;
		}
	}
	return have ? 0 : EINVAL;
}

int sipep_dtmf_info_parse(const struct msg_ctype *ctype, const char *body, size_t len,
			  char *digit, unsigned *ms)
{
	if (!ctype || !digit || !ms)
		return EINVAL;
	if (msg_ctype_cmp(ctype, "application", "dtmf-relay"))
		return body && len ? parse_relay(body, len, digit, ms) : EINVAL;
	if (msg_ctype_cmp(ctype, "application", "dtmf")) {
		size_t l = len;

		*ms = DTMF_DEFAULT_MS;
		while (l && (body[l - 1] == '\n' || body[l - 1] == '\r'))
			l--;
		return body && l ? digit_from(body, l, digit) : EINVAL;
	}
	return ENOTSUP;
}

static int copy(char *dst, size_t sz, const char *s, size_t len)
{
	if (!len || len >= sz)
		return EINVAL;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

int sipep_target_parse(const char *s, struct sipep_target *t)
{
	const char *slash, *rest;

	if (!s || !t)
		return EINVAL;
	memset(t, 0, sizeof(*t));
	slash = strchr(s, '/');
	if (!slash)
		return EINVAL;
	rest = slash + 1;
	if ((size_t)(slash - s) == 7 && !strncasecmp(s, "gateway", 7)) {
		const char *s2 = strchr(rest, '/');

		t->kind = SIPEP_TARGET_GATEWAY;
		if (!s2 || copy(t->gateway, sizeof(t->gateway), rest, (size_t)(s2 - rest)))
			return EINVAL;
		rest = s2 + 1;
	} else {
		t->kind = SIPEP_TARGET_PROFILE;
		if (copy(t->profile, sizeof(t->profile), s, (size_t)(slash - s)))
			return EINVAL;
	}
	if (copy(t->dest, sizeof(t->dest), rest, strlen(rest)))
		return EINVAL;
	if (strpbrk(t->dest, " \t\r\n<>\""))
		return EINVAL;
	t->is_uri = !strncasecmp(t->dest, "sip:", 4) || !strncasecmp(t->dest, "sips:", 5);
	/* "1000%example.com": call whatever 1000@example.com registered. */
	t->registered = t->kind == SIPEP_TARGET_PROFILE && !t->is_uri &&
		strchr(t->dest, '%') && !strchr(t->dest, '@');
	if (t->kind == SIPEP_TARGET_PROFILE && !t->is_uri && !t->registered &&
	    !strchr(t->dest, '@'))
		return EINVAL;
	return 0;
}

int sipep_user_target_parse(const char *s, char *user, size_t usz, char *domain,
			    size_t dsz)
{
	const char *at;

	if (!s || !*s || strpbrk(s, " \t\r\n<>\"/"))
		return EINVAL;
	at = strchr(s, '@');
	if (!at) {
		if (dsz)
			domain[0] = '\0';
		return copy(user, usz, s, strlen(s));
	}
	if (copy(user, usz, s, (size_t)(at - s)))
		return EINVAL;
	return copy(domain, dsz, at + 1, strlen(at + 1));
}

uint32_t sipep_contact_expires(const struct sip_addr *contact, const struct pl *hdr,
			       uint32_t dflt)
{
	struct pl v;

	if (contact && !msg_param_decode(&contact->params, "expires", &v) && v.l &&
	    v.l <= 10)
		return pl_u32(&v);
	if (hdr && pl_isset(hdr) && hdr->l <= 10)
		return pl_u32(hdr);
	return dflt;
}

const char *sipep_reason(uint16_t scode)
{
	switch (scode) {
	case 100: return "Trying";
	case 180: return "Ringing";
	case 183: return "Session Progress";
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 410: return "Gone";
	case 415: return "Unsupported Media Type";
	case 420: return "Bad Extension";
	case 423: return "Interval Too Brief";
	case 428: return "Use Identity Header";
	case 429: return "Provide Referrer Identity";
	case 437: return "Unsupported Certificate";
	case 438: return "Invalid Identity Header";
	case 480: return "Temporarily Unavailable";
	case 481: return "Call/Transaction Does Not Exist";
	case 483: return "Too Many Hops";
	case 484: return "Address Incomplete";
	case 486: return "Busy Here";
	case 487: return "Request Terminated";
	case 488: return "Not Acceptable Here";
	case 500: return "Server Internal Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Server Time-out";
	case 600: return "Busy Everywhere";
	case 603: return "Decline";
	case 604: return "Does Not Exist Anywhere";
	case 606: return "Not Acceptable";
	case 607: return "Unwanted";
	default:  return scode < 300 ? "OK" : "Failure";
	}
}

char *sipep_pl_str(const struct pl *pl, char *buf, size_t sz)
{
	size_t n;

	if (!sz)
		return buf;
	n = pl && pl->p ? pl->l : 0;
	if (n >= sz)
		n = sz - 1;
	if (n)
		memcpy(buf, pl->p, n);
	buf[n] = '\0';
	return buf;
}
