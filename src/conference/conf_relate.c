/*
 * conf_relate.c - relationships between members (`conference relate`): who
 * may not speak to or hear whom, kept per member as FreeSWITCH keeps them,
 * and turned into each member's deaf_to list for the mixer. Signalling thread.
 */
#include <errno.h>
#include <stdbool.h>
#include <re.h>
#include "media/media.h"
#include "conference/conf_int.h"

struct conf_rel *conf_relate_find(const struct conf_member *m, uint32_t oid)
{
	struct le *le;

	for (le = list_head(&m->rels); le; le = le->next) {
		struct conf_rel *r = le->data;

		if (r->oid == oid)
			return r;
	}
	return NULL;
}

/* Does `from`'s relationship keep `to` from hearing it? */
static bool silences(const struct conf_member *from, const struct conf_member *to)
{
	const struct conf_rel *r;

	r = conf_relate_find(from, to->id);
	if (r && r->nospeak)
		return true;
	r = conf_relate_find(to, from->id);
	return r && r->nohear;
}

void conf_relate_fill(const struct conf_member *m, struct media_mix_prm *prm)
{
	struct le *le;

	prm->ndeaf_to = 0;
	if (!m->conf)
		return;
	for (le = list_head(&m->conf->members); le; le = le->next) {
		const struct conf_member *o = le->data;

		if (o == m || !o->ms || !silences(o, m))
			continue;
		if (prm->ndeaf_to == MEDIA_MIX_DEAF_MAX)
			break;
		prm->deaf_to[prm->ndeaf_to++] = media_mix_member_id(o->ms);
	}
}

/* Members m may not hear, as conf_relate_fill counts them. */
static unsigned deaf_count(const struct conf_member *m)
{
	unsigned n = 0;
	struct le *le;

	for (le = list_head(&m->conf->members); le; le = le->next) {
		const struct conf_member *o = le->data;

		n += o != m && silences(o, m);
	}
	return n;
}

static void rel_destructor(void *data)
{
	struct conf_rel *r = data;

	list_unlink(&r->le);
}

int conf_relate_set(struct conf_member *m, struct conf_member *o, bool nospeak,
		    bool nohear, bool sendvideo)
{
	struct conf_rel *r = conf_relate_find(m, o->id);
	bool made = !r, was_nospeak = r && r->nospeak, was_nohear = r && r->nohear;
	bool was_sendvideo = r && r->sendvideo;

	if (made) {
		r = mem_zalloc(sizeof(*r), rel_destructor);
		if (!r)
			return ENOMEM;
		r->oid = o->id;
		/* FreeSWITCH's newest first (conference_member_add_relationship). */
		list_prepend(&m->rels, &r->le, r);
	}
	r->nospeak = nospeak;
	r->nohear = nohear;
	r->sendvideo = sendvideo;
	/* Each member's mixer list is bounded: refuse what would not fit. */
	if (deaf_count(o) > MEDIA_MIX_DEAF_MAX || deaf_count(m) > MEDIA_MIX_DEAF_MAX) {
		if (made) {
			mem_deref(r);
		} else {
			r->nospeak = was_nospeak;
			r->nohear = was_nohear;
			r->sendvideo = was_sendvideo;
		}
		return E2BIG;
	}
	conf_member_apply(m);
	conf_member_apply(o);
	return 0;
}

int conf_relate_clear(struct conf_member *m, uint32_t oid)
{
	struct conf_rel *r = conf_relate_find(m, oid);
	struct conf_member *o;

	if (!r)
		return ENOENT;
	mem_deref(r);
	conf_member_apply(m);
	o = m->conf ? conf_member_find(m->conf, oid) : NULL;
	if (o)
		conf_member_apply(o);
	return 0;
}

void conf_relate_gone(struct conf_member *m)
{
	struct le *le;

	list_flush(&m->rels);
	if (!m->conf)
		return;
	/* FreeSWITCH drops the others' relationships to a member that leaves. */
	for (le = list_head(&m->conf->members); le; le = le->next) {
		struct conf_member *o = le->data;

		mem_deref(conf_relate_find(o, m->id));
	}
}
