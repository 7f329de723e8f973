/*
 * json.c - shows a text/event-json body the way a plain event is shown: one
 * "Name: value" line per key, then "_body". Accepts only the flat object FreeSWITCH sends.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

struct json {
	const char *p, *end;
	char *tmp;      /* one decoded string; decoding never makes a string longer */
};

static void skip_ws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' ||
				 *j->p == '\n'))
		j->p++;
}

static bool take(struct json *j, char ch)
{
	skip_ws(j);
	if (j->p >= j->end || *j->p != ch)
		return false;
	j->p++;
	return true;
}

static int hex4(struct json *j, unsigned long *vp)
{
	char hex[5];

	if (j->end - j->p < 4)
		return EBADMSG;
	memcpy(hex, j->p, 4);
	hex[4] = '\0';
	for (int i = 0; i < 4; i++) {
		if (!isxdigit((unsigned char)hex[i]))
			return EBADMSG;
	}
	*vp = strtoul(hex, NULL, 16);
	j->p += 4;
	return 0;
}

static char *put_utf8(char *o, unsigned long cp)
{
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xC0 | cp >> 6);
		*o++ = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xE0 | cp >> 12);
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char)(0x80 | (cp & 0x3F));
	} else {
		*o++ = (char)(0xF0 | cp >> 18);
		*o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char)(0x80 | (cp & 0x3F));
	}
	return o;
}

/* \uXXXX, joining a UTF-16 surrogate pair; a lone surrogate becomes U+FFFD. */
static int unicode_escape(struct json *j, char **op)
{
	unsigned long cp, lo;
	int err = hex4(j, &cp);

	if (err)
		return err;
	if (cp >= 0xD800 && cp <= 0xDBFF && j->end - j->p >= 6 &&
	    j->p[0] == '\\' && j->p[1] == 'u') {
		j->p += 2;
		err = hex4(j, &lo);
		if (err)
			return err;
		cp = (lo >= 0xDC00 && lo <= 0xDFFF)
			? 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00) : 0xFFFD;
	} else if (cp >= 0xD800 && cp <= 0xDFFF) {
		cp = 0xFFFD;
	}
	*op = put_utf8(*op, cp);
	return 0;
}

static int escape(struct json *j, char **op)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit;

	if (j->p >= j->end)
		return EBADMSG;
	if (*j->p == 'u') {
		j->p++;
		return unicode_escape(j, op);
	}
	hit = *j->p ? strchr(from, *j->p) : NULL;
	if (!hit)
		return EBADMSG;
	*(*op)++ = to[hit - from];
	j->p++;
	return 0;
}

/* Decodes a string into j->tmp; *lenp gets its length. */
static int string(struct json *j, size_t *lenp)
{
	char *o = j->tmp;
	int err;

	if (!take(j, '"'))
		return EBADMSG;
	while (j->p < j->end && *j->p != '"') {
		if (*j->p != '\\') {
			*o++ = *j->p++;
			continue;
		}
		j->p++;
		err = escape(j, &o);
		if (err)
			return err;
	}
	if (j->p >= j->end)
		return EBADMSG;
	j->p++;
	*lenp = (size_t)(o - j->tmp);
	return 0;
}

/* A number, true, false or null, copied as written. */
static int scalar(struct json *j, FILE *out)
{
	const char *start = j->p;

	while (j->p < j->end && (isalnum((unsigned char)*j->p) || *j->p == '-' ||
				 *j->p == '+' || *j->p == '.'))
		j->p++;
	if (j->p == start)
		return EBADMSG;
	fwrite(start, 1, (size_t)(j->p - start), out);
	return 0;
}

static int item(struct json *j, FILE *out)
{
	size_t len;
	int err;

	skip_ws(j);
	if (j->p < j->end && *j->p == '"') {
		err = string(j, &len);
		if (!err)
			fwrite(j->tmp, 1, len, out);
		return err;
	}
	return scalar(j, out);
}

/* Multi-valued headers arrive as arrays; show them as the plain format writes them
 * ("ARRAY::a|:b"). */
static int value(struct json *j, FILE *out)
{
	int err;

	if (!take(j, '['))
		return item(j, out);
	fputs("ARRAY::", out);
	if (take(j, ']'))
		return 0;
	do {
		err = item(j, out);
		if (err)
			return err;
		if (take(j, ']'))
			return 0;
		fputs("|:", out);
	} while (take(j, ','));
	return EBADMSG;
}

static int object(struct json *j, FILE *head, FILE *body)
{
	bool is_body;
	size_t len;
	int err;

	if (!take(j, '{'))
		return EBADMSG;
	if (!take(j, '}')) {
		do {
			err = string(j, &len);
			if (err)
				return err;
			is_body = len == 5 && !memcmp(j->tmp, "_body", 5);
			if (!is_body) {
				fwrite(j->tmp, 1, len, head);
				fputs(": ", head);
			}
			if (!take(j, ':'))
				return EBADMSG;
			err = value(j, is_body ? body : head);
			if (err)
				return err;
			if (!is_body)
				fputc('\n', head);
		} while (take(j, ','));
		if (!take(j, '}'))
			return EBADMSG;
	}
	skip_ws(j);
	return j->p == j->end ? 0 : EBADMSG;
}

int cli_json_event_print(FILE *fp, const char *json, size_t len)
{
	struct json j = { .p = json, .end = json + len, .tmp = malloc(len + 1) };
	char *hbuf = NULL, *bbuf = NULL;
	size_t hlen = 0, blen = 0;
	FILE *head = NULL, *body = NULL;
	int err = ENOMEM;

	if (!j.tmp)
		goto out;
	head = open_memstream(&hbuf, &hlen);
	body = open_memstream(&bbuf, &blen);
	if (!head || !body)
		goto out;
	err = object(&j, head, body);
	if (fflush(head) || fflush(body))
		err = err ? err : ENOMEM;
	if (err)
		goto out;
	fwrite(hbuf, 1, hlen, fp);
	if (blen > 0) {
		fputc('\n', fp);
		cli_print_body(fp, bbuf, blen);
	}
out:
	if (head)
		fclose(head);
	if (body)
		fclose(body);
	free(hbuf);
	free(bbuf);
	free(j.tmp);
	return err;
}
