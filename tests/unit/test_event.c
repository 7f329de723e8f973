/*
 * test_event.c - event headers, URL encoding and the three serialisations,
 * compared byte for byte with what FreeSWITCH 1.10.12 sent
 * (reference/freeswitch/esl-transcripts.txt, connection C, sendevent).
 */
#include <stdlib.h>
#include <re.h>
#include "check.h"
#include "event/event.h"

/* The headers of the reference's XML-subscriber sendevent, in order. */
static const char *const ref_headers[][2] = {
	{"Event-Subclass", "my::test"},
	{"Command", "sendevent CUSTOM"},
	{"X-Foo", "xml-subscriber"},
	{"Event-UUID", "56795647-23aa-4c3f-a04d-52cc8539bcfa"},
	{"Event-Name", "CUSTOM"},
	{"Core-UUID", "bde0e2ce-cae0-44c6-850c-222fd2b416d5"},
	{"FreeSWITCH-Hostname", "vm"},
	{"FreeSWITCH-Switchname", "vm"},
	{"FreeSWITCH-IPv4", "192.0.2.2"},
	{"FreeSWITCH-IPv6", "fd00::2"},
	{"Event-Date-Local", "2026-11-24 03:12:20"},
	{"Event-Date-GMT", "Tue, 24 Nov 2026 03:12:20 GMT"},
	{"Event-Date-Timestamp", "1795489940960286"},
	{"Event-Calling-File", "mod_event_socket.c"},
	{"Event-Calling-Function", "parse_command"},
	{"Event-Calling-Line-Number", "2275"},
	{"Event-Sequence", "482"},
};

static const char ref_xml[] =
	"<event>\n"
	"  <headers>\n"
	"    <Event-Subclass>my%3A%3Atest</Event-Subclass>\n"
	"    <Command>sendevent%20CUSTOM</Command>\n"
	"    <X-Foo>xml-subscriber</X-Foo>\n"
	"    <Event-UUID>56795647-23aa-4c3f-a04d-52cc8539bcfa</Event-UUID>\n"
	"    <Event-Name>CUSTOM</Event-Name>\n"
	"    <Core-UUID>bde0e2ce-cae0-44c6-850c-222fd2b416d5</Core-UUID>\n"
	"    <FreeSWITCH-Hostname>vm</FreeSWITCH-Hostname>\n"
	"    <FreeSWITCH-Switchname>vm</FreeSWITCH-Switchname>\n"
	"    <FreeSWITCH-IPv4>192.0.2.2</FreeSWITCH-IPv4>\n"
	"    <FreeSWITCH-IPv6>fd00%3A%3A2</FreeSWITCH-IPv6>\n"
	"    <Event-Date-Local>2026-11-24%2003%3A12%3A20</Event-Date-Local>\n"
	"    <Event-Date-GMT>Tue,%2024%20Nov%202026%2003%3A12%3A20%20GMT</Event-Date-GMT>\n"
	"    <Event-Date-Timestamp>1795489940960286</Event-Date-Timestamp>\n"
	"    <Event-Calling-File>mod_event_socket.c</Event-Calling-File>\n"
	"    <Event-Calling-Function>parse_command</Event-Calling-Function>\n"
	"    <Event-Calling-Line-Number>2275</Event-Calling-Line-Number>\n"
	"    <Event-Sequence>482</Event-Sequence>\n"
	"  </headers>\n"
	"</event>\n";

static struct event *ref_event(const char *xfoo)
{
	struct event *ev = NULL;
	size_t i;

	CHECK_INT(event_alloc_bare(&ev, EVENT_CUSTOM), 0);
	for (i = 0; i < sizeof(ref_headers) / sizeof(*ref_headers); i++)
		event_add_header(ev, ref_headers[i][0],
				 i == 2 ? xfoo : ref_headers[i][1]);
	return ev;
}

static char *ser(struct event *ev, enum event_format fmt)
{
	struct mbuf *mb = mbuf_alloc(1024);
	char *s = NULL;

	CHECK_INT(event_serialize(ev, fmt, mb), 0);
	mb->pos = 0;
	mbuf_strdup(mb, &s, mb->end);
	mem_deref(mb);
	return s;
}

static void test_xml_matches_reference(void)
{
	struct event *ev = ref_event("xml-subscriber");
	char *s = ser(ev, EVENT_FMT_XML);

	CHECK_STR(s, ref_xml);
	CHECK_INT(strlen(s), 988);     /* Content-Length in the reference */
	mem_deref(s);
	event_deref(ev);
}

static void test_json_matches_reference(void)
{
	struct event *ev = ref_event("json-subscriber");
	char *s = ser(ev, EVENT_FMT_JSON);

	/* Same headers as the reference's JSON frame but for the volatile values. */
	CHECK(!strncmp(s, "{\"Event-Subclass\":\"my::test\",\"Command\":\"sendevent CUSTOM\","
			  "\"X-Foo\":\"json-subscriber\",", 78));
	CHECK(strstr(s, "\"FreeSWITCH-IPv6\":\"fd00::2\",\"Event-Date-Local\":"
			"\"2026-11-24 03:12:20\"") != NULL);
	CHECK(s[strlen(s) - 1] == '}');
	mem_deref(s);
	event_deref(ev);
}

static void test_plain_with_body(void)
{
	struct event *ev = ref_event("withbody");
	char *s;
	const char *tail = "Event-Sequence: 482\nContent-Length: 11\n\nhello body\n";

	event_set_body(ev, "hello body\n", 11);
	s = ser(ev, EVENT_FMT_PLAIN);
	CHECK(!strncmp(s, "Event-Subclass: my%3A%3Atest\nCommand: sendevent%20CUSTOM\n"
			  "X-Foo: withbody\n", 73));
	CHECK_STR(s + strlen(s) - strlen(tail), tail);
	mem_deref(s);

	s = ser(ev, EVENT_FMT_JSON);
	CHECK(strstr(s, ",\"Content-Length\":\"11\",\"_body\":\"hello body\\n\"}") != NULL);
	mem_deref(s);
	s = ser(ev, EVENT_FMT_XML);
	CHECK(strstr(s, "  </headers>\n  <Content-Length>11</Content-Length>\n"
			"  <body>hello body\n</body>\n</event>\n") != NULL);
	mem_deref(s);
	event_deref(ev);
}

static void test_plain_without_body_ends_in_blank_line(void)
{
	struct event *ev = NULL;
	char *s;

	event_alloc_bare(&ev, EVENT_HEARTBEAT);
	event_add_header(ev, "Event-Name", "HEARTBEAT");
	event_add_header(ev, "Up-Time", "0 years, 0 days");
	s = ser(ev, EVENT_FMT_PLAIN);
	CHECK_STR(s, "Event-Name: HEARTBEAT\nUp-Time: 0%20years,%200%20days\n\n");
	mem_deref(s);
	event_deref(ev);
}

static void test_urlencode(void)
{
	struct mbuf *mb = mbuf_alloc(64);
	char *s = NULL;
	const char *in = "a b:c+d/e,f~g%41%zz\r\n\"<>\xc3\xa9";

	event_urlencode(mb, in, strlen(in));
	mb->pos = 0;
	mbuf_strdup(mb, &s, mb->end);
	/* An existing %41 stays; %zz is not an escape, so its % is encoded. */
	CHECK_STR(s, "a%20b%3Ac%2Bd/e,f~g%41%25zz%0D%0A%22%3C%3E%C3%A9");
	mem_deref(s);
	mem_deref(mb);
}

static void test_headers(void)
{
	struct event *ev = NULL;

	CHECK_INT(event_alloc(&ev, EVENT_CUSTOM, "conference::maintenance"), 0);
	/* Subclass first, then the common headers (observed.md 1). */
	CHECK_STR(ev ? event_header(ev, "event-subclass") : NULL, "conference::maintenance");
	{
		const char *n0, *n1, *v1;

		event_header_at(ev, 0, &n0, NULL);
		event_header_at(ev, 1, &n1, &v1);
		CHECK_STR(n0, "Event-Subclass");
		CHECK_STR(n1, "Event-Name");
		CHECK_STR(v1, "CUSTOM");
	}
	/* Empty values are never added; duplicates are kept in order. */
	event_add_header(ev, "Empty", "");
	CHECK(event_header(ev, "Empty") == NULL);
	event_add_header(ev, "Conference-Name", "a");
	event_add_header(ev, "Conference-Name", "b");
	CHECK_STR(event_header(ev, "conference-name"), "a");
	CHECK_INT(event_del_header(ev, "Conference-Name"), 2);
	event_set_header(ev, "X", "1");
	event_set_header(ev, "X", "2");
	CHECK_STR(event_header(ev, "X"), "2");
	CHECK(event_sequence(ev) > 0);
	{
		struct event *ev2 = NULL;

		event_alloc(&ev2, EVENT_API, NULL);
		CHECK(event_sequence(ev2) == event_sequence(ev) + 1);
		event_deref(ev2);
	}
	event_deref(ev);

	CHECK_INT(event_alloc(&ev, EVENT_API, "not::allowed"), EINVAL);
}

/* A copy to change or fire again: everything but the cache, in order. */
static void test_dup_and_top(void)
{
	struct event *ev = NULL, *d = NULL;
	const char *name, *value;
	char *a, *b;
	size_t i;

	CHECK_INT(event_alloc(&ev, EVENT_CUSTOM, "my::dup"), 0);
	CHECK_INT(event_add_header(ev, "Foo", "1"), 0);
	CHECK_INT(event_add_header(ev, "Foo", "2"), 0);
	CHECK_INT(event_set_body(ev, "body", 4), 0);
	CHECK(event_serialized(ev, EVENT_FMT_PLAIN, NULL) != NULL);
	CHECK_INT(event_dup(&d, ev), 0);
	CHECK(d != NULL && d != ev);
	CHECK_INT(event_get_id(d), EVENT_CUSTOM);
	CHECK_STR(event_get_subclass(d), "my::dup");
	CHECK_INT(event_sequence(d), event_sequence(ev));
	CHECK_INT(event_header_count(d), event_header_count(ev));
	for (i = 0; i < event_header_count(ev); i++) {
		const char *dn, *dv;

		event_header_at(ev, i, &name, &value);
		event_header_at(d, i, &dn, &dv);
		CHECK_STR(dn, name);
		CHECK_STR(dv, value);
	}
	a = ser(ev, EVENT_FMT_JSON);
	b = ser(d, EVENT_FMT_JSON);
	CHECK_STR(b, a);
	mem_deref(a);
	mem_deref(b);

	/* The copy is separate: changing it leaves the original as it was. */
	CHECK_INT(event_add_header_top(d, "priority", "HIGH"), 0);
	event_header_at(d, 0, &name, &value);
	CHECK_STR(name, "priority");
	CHECK_STR(value, "HIGH");
	event_header_at(d, 1, &name, NULL);
	CHECK_STR(name, "Event-Subclass");
	CHECK(event_header(ev, "priority") == NULL);
	CHECK_INT(event_add_header_top(d, "Empty", ""), 0);
	CHECK(event_header(d, "Empty") == NULL);
	CHECK_INT(event_dup(NULL, ev), EINVAL);
	event_deref(d);
	event_deref(ev);
}

static void test_names(void)
{
	enum event_id id;

	CHECK_INT(event_id_parse("channel_answer", &id), 0);
	CHECK_INT(id, EVENT_CHANNEL_ANSWER);
	CHECK_INT(event_id_parse("SWITCH_EVENT_HEARTBEAT", &id), 0);
	CHECK_INT(id, EVENT_HEARTBEAT);
	CHECK_INT(event_id_parse("NO_SUCH", &id), ENOENT);
	CHECK_STR(event_name(EVENT_CUSTOM), "CUSTOM");
	CHECK_STR(event_name(EVENT_ALL), "ALL");
	CHECK_INT(EVENT_ALL, EVENT_ID_COUNT - 1);
}

static void test_json_roundtrip(void)
{
	const char *json = "{\"Event-Name\":\"CUSTOM\",\"Event-Subclass\":\"a::b\","
			   "\"X\":\"1\",\"Arr\":[\"x\",\"y\"],\"_body\":\"hi\"}";
	struct event *ev = NULL;

	CHECK_INT(event_from_json(&ev, json, strlen(json)), 0);
	CHECK_INT(event_get_id(ev), EVENT_CUSTOM);
	CHECK_STR(event_get_subclass(ev), "a::b");
	CHECK_STR(event_header(ev, "Arr"), "ARRAY::x|:y");
	CHECK_STR(event_get_body(ev), "hi");
	event_deref(ev);
	CHECK_INT(event_from_json(&ev, "[1,2]", 5), EBADMSG);
	CHECK_INT(event_from_json(&ev, "{", 1), EBADMSG);
}

static void test_serialized_cache(void)
{
	struct event *ev = ref_event("cache");
	size_t l1 = 0, l2 = 0;
	const char *a = event_serialized(ev, EVENT_FMT_PLAIN, &l1);
	const char *b = event_serialized(ev, EVENT_FMT_PLAIN, &l2);

	CHECK(a == b);
	CHECK(l1 == l2 && l1 == strlen(a));
	event_deref(ev);
}

int main(void)
{
	test_xml_matches_reference();
	test_json_matches_reference();
	test_plain_with_body();
	test_plain_without_body_ends_in_blank_line();
	test_urlencode();
	test_headers();
	test_dup_and_top();
	test_names();
	test_json_roundtrip();
	test_serialized_cache();
	return check_done();
}
