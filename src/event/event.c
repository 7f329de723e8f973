/*
 * event.c - the event object: headers in order, body, common headers, reference
 * counting, names, and the cached serialisations.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <re.h>
#include "core/strfmt.h"
#include "event/event.h"
#include "event/event_int.h"

#define EVENT_NAME_(n) #n,
static const char *const names[] = { EVENT_IDS(EVENT_NAME_) };
#undef EVENT_NAME_

static struct {
	char core_uuid[64];
	char hostname[256];
	char switchname[256];
	char ipv4[64];
	char ipv6[64];
} ident = {"00000000-0000-0000-0000-000000000000", "localhost", "localhost",
	   "127.0.0.1", "::1"};

static atomic_uint_fast64_t sequence;

static void copy_field(char *dst, size_t size, const char *src)
{
	if (src)
		snprintf(dst, size, "%s", src);
}

int event_identity_set(const struct event_identity *id)
{
	if (!id)
		return EINVAL;
	copy_field(ident.core_uuid, sizeof(ident.core_uuid), id->core_uuid);
	copy_field(ident.hostname, sizeof(ident.hostname), id->hostname);
	copy_field(ident.switchname, sizeof(ident.switchname),
		   id->switchname ? id->switchname : id->hostname);
	copy_field(ident.ipv4, sizeof(ident.ipv4), id->ipv4);
	copy_field(ident.ipv6, sizeof(ident.ipv6), id->ipv6);
	return 0;
}

const char *event_core_uuid(void)
{
	return ident.core_uuid;
}

const char *event_name(enum event_id id)
{
	return (unsigned)id < EVENT_ID_COUNT ? names[id] : "CUSTOM";
}

int event_id_parse(const char *name, enum event_id *idp)
{
	size_t i;

	if (!name)
		return EINVAL;
	if (!strncasecmp(name, "SWITCH_EVENT_", 13))
		name += 13;
	for (i = 0; i < EVENT_ID_COUNT; i++) {
		if (!strcasecmp(name, names[i])) {
			*idp = (enum event_id)i;
			return 0;
		}
	}
	return ENOENT;
}

int event_format_parse(const char *s, enum event_format *fmtp)
{
	static const char *fmts[] = {"plain", "json", "xml"};
	size_t i;

	for (i = 0; s && i < EVENT_FMT_COUNT; i++) {
		if (!strcasecmp(s, fmts[i])) {
			*fmtp = (enum event_format)i;
			return 0;
		}
	}
	return EINVAL;
}

const char *event_format_name(enum event_format fmt)
{
	static const char *fmts[] = {"plain", "json", "xml"};

	return (unsigned)fmt < EVENT_FMT_COUNT ? fmts[fmt] : "plain";
}

static void event_free(struct event *ev)
{
	size_t i;

	for (i = 0; i < ev->nhdrs; i++)
		free(ev->hdrs[i].name);
	for (i = 0; i < EVENT_FMT_COUNT; i++)
		free(atomic_load(&ev->ser[i]));
	free(ev->hdrs);
	free(ev->subclass);
	free(ev->body);
	free(ev);
}

struct event *event_ref(struct event *ev)
{
	if (ev)
		atomic_fetch_add_explicit(&ev->refs, 1, memory_order_relaxed);
	return ev;
}

struct event *event_deref(struct event *ev)
{
	if (ev && atomic_fetch_sub_explicit(&ev->refs, 1, memory_order_acq_rel) == 1)
		event_free(ev);
	return NULL;
}

int event_add_header_len(struct event *ev, const char *name, size_t nlen,
			 const char *value, size_t vlen)
{
	struct event_hdr *h;
	char *mem;

	if (!ev || !name || !nlen)
		return EINVAL;
	if (!value || !vlen)
		return 0;
	if (ev->nhdrs == ev->cap) {
		size_t ncap = ev->cap ? ev->cap * 2 : 24;
		struct event_hdr *n = realloc(ev->hdrs, ncap * sizeof(*n));

		if (!n)
			return ENOMEM;
		ev->hdrs = n;
		ev->cap = ncap;
	}
	/* Name and value share one allocation: name\0value\0. */
	mem = malloc(nlen + vlen + 2);
	if (!mem)
		return ENOMEM;
	memcpy(mem, name, nlen);
	mem[nlen] = '\0';
	memcpy(mem + nlen + 1, value, vlen);
	mem[nlen + 1 + vlen] = '\0';
	h = &ev->hdrs[ev->nhdrs++];
	h->name = mem;
	h->value = mem + nlen + 1;
	h->vlen = vlen;
	return 0;
}

int event_add_header(struct event *ev, const char *name, const char *value)
{
	if (!name)
		return EINVAL;
	return event_add_header_len(ev, name, strlen(name), value,
				    value ? strlen(value) : 0);
}

int event_add_headerf(struct event *ev, const char *name, const char *fmt, ...)
{
	char buf[1024], *s;
	size_t len;
	va_list ap;
	int err;

	va_start(ap, fmt);
	s = strfmt_v(buf, sizeof(buf), &len, fmt, ap);
	va_end(ap);
	if (!s)
		return ENOMEM;
	err = event_add_header_len(ev, name, strlen(name), s, len);
	strfmt_free(s, buf);
	return err;
}

int event_add_header_top(struct event *ev, const char *name, const char *value)
{
	size_t before = ev ? ev->nhdrs : 0;
	struct event_hdr h;
	int err;

	err = event_add_header(ev, name, value);
	if (err || ev->nhdrs == before)
		return err;
	h = ev->hdrs[before];
	memmove(&ev->hdrs[1], &ev->hdrs[0], before * sizeof(*ev->hdrs));
	ev->hdrs[0] = h;
	return 0;
}

unsigned event_del_header(struct event *ev, const char *name)
{
	size_t i = 0;
	unsigned removed = 0;

	if (!ev || !name)
		return 0;
	while (i < ev->nhdrs) {
		if (strcasecmp(ev->hdrs[i].name, name)) {
			i++;
			continue;
		}
		free(ev->hdrs[i].name);
		memmove(&ev->hdrs[i], &ev->hdrs[i + 1],
			(ev->nhdrs - i - 1) * sizeof(*ev->hdrs));
		ev->nhdrs--;
		removed++;
	}
	return removed;
}

int event_set_header(struct event *ev, const char *name, const char *value)
{
	size_t i, nlen, vlen;
	char *mem;

	if (!ev || !name)
		return EINVAL;
	for (i = 0; i < ev->nhdrs; i++) {
		if (strcasecmp(ev->hdrs[i].name, name))
			continue;
		if (!value || !*value) {
			event_del_header(ev, name);
			return 0;
		}
		nlen = strlen(ev->hdrs[i].name);
		vlen = strlen(value);
		mem = malloc(nlen + vlen + 2);
		if (!mem)
			return ENOMEM;
		memcpy(mem, ev->hdrs[i].name, nlen + 1);
		memcpy(mem + nlen + 1, value, vlen + 1);
		free(ev->hdrs[i].name);
		ev->hdrs[i] = (struct event_hdr){mem, mem + nlen + 1, vlen};
		return 0;
	}
	return event_add_header(ev, name, value);
}

int event_set_body(struct event *ev, const char *body, size_t len)
{
	char *b = NULL;

	if (!ev)
		return EINVAL;
	if (body && len) {
		b = malloc(len + 1);
		if (!b)
			return ENOMEM;
		memcpy(b, body, len);
		b[len] = '\0';
	}
	free(ev->body);
	ev->body = b;
	ev->body_len = b ? len : 0;
	return 0;
}

int event_set_subclass(struct event *ev, const char *subclass)
{
	char *s = NULL;

	if (!ev)
		return EINVAL;
	if (subclass && *subclass && !(s = strdup(subclass)))
		return ENOMEM;
	free(ev->subclass);
	ev->subclass = s;
	return 0;
}

void event_set_id(struct event *ev, enum event_id id)
{
	if (ev && (unsigned)id < EVENT_ID_COUNT)
		ev->id = id;
}

const char *event_header(const struct event *ev, const char *name)
{
	size_t i;

	if (!ev || !name)
		return NULL;
	for (i = 0; i < ev->nhdrs; i++) {
		if (!strcasecmp(ev->hdrs[i].name, name))
			return ev->hdrs[i].value;
	}
	return NULL;
}

size_t event_header_count(const struct event *ev)
{
	return ev ? ev->nhdrs : 0;
}

void event_header_at(const struct event *ev, size_t i, const char **namep,
		     const char **valuep)
{
	bool ok = ev && i < ev->nhdrs;

	if (namep)
		*namep = ok ? ev->hdrs[i].name : NULL;
	if (valuep)
		*valuep = ok ? ev->hdrs[i].value : NULL;
}

enum event_id event_get_id(const struct event *ev)
{
	return ev ? ev->id : EVENT_CUSTOM;
}

const char *event_get_subclass(const struct event *ev)
{
	return ev ? ev->subclass : NULL;
}

const char *event_get_body(const struct event *ev)
{
	return ev ? ev->body : NULL;
}

size_t event_body_len(const struct event *ev)
{
	return ev ? ev->body_len : 0;
}

uint64_t event_sequence(const struct event *ev)
{
	return ev ? ev->seq : 0;
}

int event_alloc_bare(struct event **evp, enum event_id id)
{
	struct event *ev;

	if (!evp || (unsigned)id >= EVENT_ID_COUNT)
		return EINVAL;
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return ENOMEM;
	atomic_init(&ev->refs, 1);
	ev->id = id;
	*evp = ev;
	return 0;
}

int event_dup(struct event **dupp, const struct event *ev)
{
	struct event *d;
	size_t i;
	int err;

	if (!dupp || !ev)
		return EINVAL;
	err = event_alloc_bare(&d, ev->id);
	if (err)
		return err;
	d->seq = ev->seq;
	err = event_set_subclass(d, ev->subclass);
	for (i = 0; !err && i < ev->nhdrs; i++)
		err = event_add_header_len(d, ev->hdrs[i].name, strlen(ev->hdrs[i].name),
					   ev->hdrs[i].value, ev->hdrs[i].vlen);
	if (!err)
		err = event_set_body(d, ev->body, ev->body_len);
	if (err) {
		event_deref(d);
		return err;
	}
	*dupp = d;
	return 0;
}

/*
 * The date strings change once a second; formatting them per event would cost
 * more than the rest of the event, so each thread keeps the last second's.
 */
struct date_cache {
	time_t sec;
	char local[32];
	char gmt[48];
};

static void dates(struct date_cache *dc, time_t sec)
{
	struct tm tm;

	if (dc->sec == sec && dc->local[0])
		return;
	localtime_r(&sec, &tm);
	strftime(dc->local, sizeof(dc->local), "%Y-%m-%d %H:%M:%S", &tm);
	gmtime_r(&sec, &tm);
	strftime(dc->gmt, sizeof(dc->gmt), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	dc->sec = sec;
}

int event_add_common_at(struct event *ev, const char *file, const char *func,
			unsigned line)
{
	static _Thread_local struct date_cache dc;
	const char *base = file ? strrchr(file, '/') : NULL;
	struct timeval tv;
	int err = 0;

	if (!ev)
		return EINVAL;
	base = base ? base + 1 : file;
	gettimeofday(&tv, NULL);
	dates(&dc, tv.tv_sec);
	ev->seq = atomic_fetch_add(&sequence, 1) + 1;

	err |= event_add_header(ev, "Event-Name", event_name(ev->id));
	err |= event_add_header(ev, "Core-UUID", ident.core_uuid);
	err |= event_add_header(ev, "FreeSWITCH-Hostname", ident.hostname);
	err |= event_add_header(ev, "FreeSWITCH-Switchname", ident.switchname);
	err |= event_add_header(ev, "FreeSWITCH-IPv4", ident.ipv4);
	err |= event_add_header(ev, "FreeSWITCH-IPv6", ident.ipv6);
	err |= event_add_header(ev, "Event-Date-Local", dc.local);
	err |= event_add_header(ev, "Event-Date-GMT", dc.gmt);
	err |= event_add_headerf(ev, "Event-Date-Timestamp", "%llu",
				 (unsigned long long)tv.tv_sec * 1000000ull +
				 (unsigned long long)tv.tv_usec);
	err |= event_add_header(ev, "Event-Calling-File", base);
	err |= event_add_header(ev, "Event-Calling-Function", func);
	err |= event_add_headerf(ev, "Event-Calling-Line-Number", "%u", line);
	err |= event_add_headerf(ev, "Event-Sequence", "%llu",
				 (unsigned long long)ev->seq);
	return err ? ENOMEM : 0;
}

int event_alloc_at(struct event **evp, enum event_id id, const char *subclass,
		   const char *file, const char *func, unsigned line)
{
	struct event *ev;
	int err;

	if (subclass && *subclass && id != EVENT_CUSTOM)
		return EINVAL;
	err = event_alloc_bare(&ev, id);
	if (err)
		return err;
	/* The real server sends Event-Subclass first (reference observed.md 1). */
	if (subclass && *subclass) {
		err = event_set_subclass(ev, subclass);
		if (!err)
			err = event_add_header(ev, "Event-Subclass", subclass);
	}
	if (!err)
		err = event_add_common_at(ev, file, func, line);
	if (err) {
		event_deref(ev);
		return err;
	}
	*evp = ev;
	return 0;
}

const char *event_serialized(struct event *ev, enum event_format fmt, size_t *lenp)
{
	struct mbuf *mb;
	char *s, *expected = NULL;

	if (!ev || (unsigned)fmt >= EVENT_FMT_COUNT)
		return NULL;
	s = atomic_load_explicit(&ev->ser[fmt], memory_order_acquire);
	if (s)
		goto out;
	mb = mbuf_alloc(2048);
	if (!mb)
		return NULL;
	if (event_serialize(ev, fmt, mb) || !(s = malloc(mb->end + 1))) {
		mem_deref(mb);
		return NULL;
	}
	memcpy(s, mb->buf, mb->end);
	s[mb->end] = '\0';
	/* Serialisation is deterministic: racing builders store the same length. */
	atomic_store(&ev->ser_len[fmt], mb->end);
	mem_deref(mb);
	/* Two threads may race to build it; the loser frees its copy. */
	if (!atomic_compare_exchange_strong(&ev->ser[fmt], &expected, s)) {
		free(s);
		s = expected;
	}
 out:
	if (lenp)
		*lenp = atomic_load(&ev->ser_len[fmt]);
	return s;
}
