/*
 * event_fmt.c - the three wire forms of an event (plain, JSON, XML) exactly as
 * FreeSWITCH writes them, FreeSWITCH's URL encoding, and JSON parsing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
/* Not <re.h>: its re_json.h clashes with jansson. */
#include <re_types.h>
#include <re_fmt.h>
#include <re_mbuf.h>
#include <re_mem.h>
#include "event/event.h"
#include "event/event_int.h"

/*
 * switch_url_encode's set (spec/events.md 4.1): controls, non-ASCII and these
 * punctuation bytes become %XX with uppercase hex. A table, because this runs
 * for every byte of every header of every event delivered in plain or XML.
 */
static const bool encode_table[256] = {
	[0x00 ... 0x20] = true, ['"'] = true, ['#'] = true, ['%'] = true, ['&'] = true,
	['+'] = true, [':'] = true, [';'] = true, ['<'] = true, ['='] = true,
	['>'] = true, ['?'] = true, ['@'] = true, ['['] = true, ['\\'] = true,
	[']'] = true, ['^'] = true, ['`'] = true, ['{'] = true, ['|'] = true,
	['}'] = true, [0x7f ... 0xff] = true,
};

static bool must_encode(unsigned char c)
{
	return encode_table[c];
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int event_urlencode(struct mbuf *mb, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, run = 0;
	int err = 0;

	for (i = 0; i < len && !err; i++) {
		unsigned char c = (unsigned char)s[i];
		uint8_t esc[3];

		/* An existing %XX escape is kept, so values are never double-encoded. */
		if (!must_encode(c) ||
		    (c == '%' && i + 2 < len && is_hex(s[i + 1]) && is_hex(s[i + 2]))) {
			run++;
			continue;
		}
		if (run)
			err = mbuf_write_mem(mb, (const uint8_t *)s + i - run, run);
		run = 0;
		esc[0] = '%';
		esc[1] = (uint8_t)hex[c >> 4];
		esc[2] = (uint8_t)hex[c & 15];
		if (!err)
			err = mbuf_write_mem(mb, esc, 3);
	}
	if (run && !err)
		err = mbuf_write_mem(mb, (const uint8_t *)s + len - run, run);
	return err;
}

static int write_plain(const struct event *ev, struct mbuf *mb)
{
	size_t i;
	int err = 0;

	for (i = 0; i < ev->nhdrs && !err; i++) {
		err = mbuf_write_str(mb, ev->hdrs[i].name);
		err |= mbuf_write_mem(mb, (const uint8_t *)": ", 2);
		err |= event_urlencode(mb, ev->hdrs[i].value, ev->hdrs[i].vlen);
		err |= mbuf_write_u8(mb, '\n');
	}
	if (err)
		return ENOMEM;
	if (ev->body_len) {
		err = mbuf_printf(mb, "Content-Length: %zu\n\n", ev->body_len);
		err |= mbuf_write_mem(mb, (const uint8_t *)ev->body, ev->body_len);
		return err ? ENOMEM : 0;
	}
	return mbuf_write_u8(mb, '\n');
}

/* cJSON_PrintUnformatted's string escaping, which FreeSWITCH uses. */
static int json_str(struct mbuf *mb, const char *s, size_t len)
{
	size_t i, run = 0;
	int err = mbuf_write_u8(mb, '"');

	for (i = 0; i < len && !err; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];

		if (c >= 0x20 && c != '"' && c != '\\') {
			run++;
			continue;
		}
		if (run)
			err = mbuf_write_mem(mb, (const uint8_t *)s + i - run, run);
		run = 0;
		switch (c) {
		case '"':  strcpy(esc, "\\\""); break;
		case '\\': strcpy(esc, "\\\\"); break;
		case '\b': strcpy(esc, "\\b"); break;
		case '\f': strcpy(esc, "\\f"); break;
		case '\n': strcpy(esc, "\\n"); break;
		case '\r': strcpy(esc, "\\r"); break;
		case '\t': strcpy(esc, "\\t"); break;
		default:   snprintf(esc, sizeof(esc), "\\u%04x", c); break;
		}
		if (!err)
			err = mbuf_write_str(mb, esc);
	}
	if (run && !err)
		err = mbuf_write_mem(mb, (const uint8_t *)s + len - run, run);
	return err ? err : mbuf_write_u8(mb, '"');
}

static int write_json(const struct event *ev, struct mbuf *mb)
{
	size_t i;
	int err = mbuf_write_u8(mb, '{');

	for (i = 0; i < ev->nhdrs && !err; i++) {
		if (i)
			err = mbuf_write_u8(mb, ',');
		err |= json_str(mb, ev->hdrs[i].name, strlen(ev->hdrs[i].name));
		err |= mbuf_write_u8(mb, ':');
		err |= json_str(mb, ev->hdrs[i].value, ev->hdrs[i].vlen);
	}
	if (!err && ev->body_len) {
		err = mbuf_printf(mb, "%s\"Content-Length\":\"%zu\",\"_body\":",
				  ev->nhdrs ? "," : "", ev->body_len);
		err |= json_str(mb, ev->body, ev->body_len);
	}
	return err ? ENOMEM : mbuf_write_u8(mb, '}');
}

/* Text content escaping as switch_xml_toxml does it. */
static int xml_text(struct mbuf *mb, const char *s, size_t len)
{
	size_t i;
	int err = 0;

	for (i = 0; i < len && !err; i++) {
		switch (s[i]) {
		case '&':  err = mbuf_write_str(mb, "&amp;"); break;
		case '<':  err = mbuf_write_str(mb, "&lt;"); break;
		case '>':  err = mbuf_write_str(mb, "&gt;"); break;
		default:   err = mbuf_write_u8(mb, (uint8_t)s[i]); break;
		}
	}
	return err;
}

static int write_xml(const struct event *ev, struct mbuf *mb)
{
	struct mbuf *enc = mbuf_alloc(256);
	size_t i;
	int err;

	if (!enc)
		return ENOMEM;
	err = mbuf_write_str(mb, "<event>\n  <headers>\n");
	for (i = 0; i < ev->nhdrs && !err; i++) {
		mbuf_reset(enc);
		err = event_urlencode(enc, ev->hdrs[i].value, ev->hdrs[i].vlen);
		err |= mbuf_printf(mb, "    <%s>", ev->hdrs[i].name);
		err |= xml_text(mb, (const char *)enc->buf, enc->end);
		err |= mbuf_printf(mb, "</%s>\n", ev->hdrs[i].name);
	}
	err |= mbuf_write_str(mb, "  </headers>\n");
	if (!err && ev->body_len) {
		err = mbuf_printf(mb, "  <Content-Length>%zu</Content-Length>\n  <body>",
				  ev->body_len);
		err |= xml_text(mb, ev->body, ev->body_len);
		err |= mbuf_write_str(mb, "</body>\n");
	}
	err |= mbuf_write_str(mb, "</event>\n");
	mem_deref(enc);
	return err ? ENOMEM : 0;
}

int event_serialize(const struct event *ev, enum event_format fmt, struct mbuf *mb)
{
	if (!ev || !mb)
		return EINVAL;
	switch (fmt) {
	case EVENT_FMT_PLAIN: return write_plain(ev, mb);
	case EVENT_FMT_JSON:  return write_json(ev, mb);
	case EVENT_FMT_XML:   return write_xml(ev, mb);
	default:              return EINVAL;
	}
}

/* A JSON array becomes FreeSWITCH's array header string "ARRAY::a|:b". */
static int add_json_array(struct event *ev, const char *name, json_t *arr)
{
	struct mbuf *mb = mbuf_alloc(128);
	size_t i;
	json_t *v;
	int err;

	if (!mb)
		return ENOMEM;
	err = mbuf_write_str(mb, "ARRAY::");
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			continue;
		if (i)
			err |= mbuf_write_str(mb, "|:");
		err |= mbuf_write_str(mb, json_string_value(v));
	}
	if (!err)
		err = event_add_header_len(ev, name, strlen(name), (const char *)mb->buf,
					   mb->end);
	mem_deref(mb);
	return err;
}

static int add_json_member(struct event *ev, const char *key, json_t *val)
{
	enum event_id id;

	if (json_is_array(val))
		return add_json_array(ev, key, val);
	if (!json_is_string(val))
		return 0;
	if (!strcmp(key, "_body"))
		return event_set_body(ev, json_string_value(val), json_string_length(val));
	if (!strcasecmp(key, "Content-Length"))
		return 0;
	if (!strcasecmp(key, "Event-Name") && !event_id_parse(json_string_value(val), &id))
		event_set_id(ev, id);
	if (!strcasecmp(key, "Event-Subclass"))
		event_set_subclass(ev, json_string_value(val));
	return event_add_header_len(ev, key, strlen(key), json_string_value(val),
				    json_string_length(val));
}

int event_from_json(struct event **evp, const char *json, size_t len)
{
	json_error_t jerr;
	struct event *ev;
	const char *key;
	json_t *root, *val;
	int err;

	if (!evp || !json)
		return EINVAL;
	root = json_loadb(json, len, 0, &jerr);
	if (!root)
		return EBADMSG;
	if (!json_is_object(root)) {
		json_decref(root);
		return EBADMSG;
	}
	err = event_alloc_bare(&ev, EVENT_CUSTOM);
	if (err) {
		json_decref(root);
		return err;
	}
	json_object_foreach(root, key, val) {
		err = add_json_member(ev, key, val);
		if (err)
			break;
	}
	json_decref(root);
	if (err) {
		event_deref(ev);
		return err;
	}
	*evp = ev;
	return 0;
}
