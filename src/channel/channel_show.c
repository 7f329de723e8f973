/*
 * channel_show.c - the rows of `show channels` and `show calls`, with
 * FreeSWITCH's columns in its order (spec/core.md 4).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <re.h>
#include "channel/channel_api.h"
#include "channel/channel_int.h"
#include "core/api_core.h"

static const char *const channel_cols[] = {
	"uuid", "direction", "created", "created_epoch", "name", "state", "cid_name",
	"cid_num", "ip_addr", "dest", "application", "application_data", "dialplan",
	"context", "read_codec", "read_rate", "read_bit_rate", "write_codec",
	"write_rate", "write_bit_rate", "secure", "hostname", "presence_id",
	"presence_data", "accountcode", "callstate", "callee_name", "callee_num",
	"callee_direction", "call_uuid", "sent_callee_name", "sent_callee_num",
	"initial_cid_name", "initial_cid_num", "initial_ip_addr", "initial_dest",
	"initial_dialplan", "initial_context",
};
#define NCH (sizeof(channel_cols) / sizeof(*channel_cols))

/* The bridged-call view: the A leg's columns, then the B leg's. */
static const char *const call_cols[] = {
	"uuid", "direction", "created", "created_epoch", "name", "state", "cid_name",
	"cid_num", "ip_addr", "dest", "presence_id", "presence_data", "accountcode",
	"callstate", "callee_name", "callee_num", "callee_direction", "call_uuid",
	"hostname", "sent_callee_name", "sent_callee_num", "b_uuid", "b_direction",
	"b_created", "b_created_epoch", "b_name", "b_state", "b_cid_name", "b_cid_num",
	"b_ip_addr", "b_dest", "b_presence_id", "b_presence_data", "b_accountcode",
	"b_callstate", "b_callee_name", "b_callee_num", "b_callee_direction",
	"b_sent_callee_name", "b_sent_callee_num", "call_created_epoch",
};
#define NCALL (sizeof(call_cols) / sizeof(*call_cols))

/* Cells point into a string arena kept with the table until it is printed. */
struct table {
	const char **cells;
	size_t nrows, ncols;
	struct mbuf *arena;
	size_t *offs;          /* arena offsets, resolved to pointers at the end */
	size_t ncells;
};

static int put(struct table *t, const char *v)
{
	size_t *no = realloc(t->offs, (t->ncells + 1) * sizeof(*no));

	if (!no)
		return ENOMEM;
	t->offs = no;
	if (!v) {
		no[t->ncells++] = SIZE_MAX;
		return 0;
	}
	no[t->ncells++] = t->arena->end;
	return mbuf_write_mem(t->arena, (const uint8_t *)v, strlen(v) + 1);
}

static int putu(struct table *t, unsigned long long v)
{
	char b[32];

	snprintf(b, sizeof(b), "%llu", v);
	return put(t, b);
}

static int put_leg(struct table *t, struct channel *ch, bool full)
{
	const struct caller_profile *p = &ch->profile;
	char created[32], host[256] = "";
	time_t sec = (time_t)(ch->created_us / 1000000);
	struct tm tm;
	int err = 0;

	localtime_r(&sec, &tm);
	strftime(created, sizeof(created), "%Y-%m-%d %H:%M:%S", &tm);
	gethostname(host, sizeof(host) - 1);
	err |= put(t, ch->uuid);
	err |= put(t, ch->dir == CHANNEL_INBOUND ? "inbound" : "outbound");
	err |= put(t, created);
	err |= putu(t, (unsigned long long)sec);
	err |= put(t, ch->name);
	err |= put(t, channel_state_name(ch->state));
	err |= put(t, p->caller_id_name);
	err |= put(t, p->caller_id_number);
	err |= put(t, p->network_addr);
	err |= put(t, p->destination_number);
	if (full) {
		err |= put(t, channel_var(ch, "current_application"));
		err |= put(t, channel_var(ch, "current_application_data"));
		err |= put(t, p->dialplan);
		err |= put(t, p->context);
		err |= put(t, ch->read_codec);
		err |= ch->codec_rate ? putu(t, ch->codec_rate) : put(t, NULL);
		err |= put(t, ch->read_codec ? "64000" : NULL);
		err |= put(t, ch->read_codec);
		err |= ch->codec_rate ? putu(t, ch->codec_rate) : put(t, NULL);
		err |= put(t, ch->read_codec ? "64000" : NULL);
		err |= put(t, NULL);                      /* secure */
		err |= put(t, host);
	}
	err |= put(t, channel_var(ch, "presence_id"));
	err |= put(t, channel_var(ch, "presence_data"));
	err |= put(t, channel_var(ch, "accountcode"));
	err |= put(t, callstate_name(ch->callstate));
	err |= put(t, p->callee_id_name);
	err |= put(t, p->callee_id_number);
	err |= put(t, p->callee_id_number ? "SEND" : NULL);
	if (full) {
		err |= put(t, channel_var(ch, "call_uuid"));
		err |= put(t, NULL);
		err |= put(t, NULL);
		err |= put(t, p->orig_caller_id_name);
		err |= put(t, p->orig_caller_id_number);
		err |= put(t, p->network_addr);
		err |= put(t, p->destination_number);
		err |= put(t, p->dialplan);
		err |= put(t, p->context);
	}
	return err ? ENOMEM : 0;
}

struct gather {
	struct table *t;
	bool calls;
	int err;
};

static void gather_one(struct channel *ch, void *arg)
{
	struct gather *g = arg;
	struct table *t = g->t;
	struct channel *b;
	char host[256] = "";
	size_t i;

	if (g->err)
		return;
	if (!g->calls) {
		g->err = put_leg(t, ch, true);
		t->nrows++;
		return;
	}
	/* A bridged pair is one call, listed from its originating leg. */
	b = ch->other_uuid ? channel_find(ch->other_uuid) : NULL;
	if (b && !ch->originator)
		return;
	gethostname(host, sizeof(host) - 1);
	g->err |= put_leg(t, ch, false);
	g->err |= put(t, channel_var(ch, "call_uuid"));
	g->err |= put(t, host);
	g->err |= put(t, NULL);
	g->err |= put(t, NULL);
	if (b) {
		g->err |= put_leg(t, b, false);
		g->err |= put(t, NULL);
		g->err |= put(t, NULL);
	} else {
		for (i = 0; i < 19; i++)
			g->err |= put(t, NULL);
	}
	g->err |= putu(t, (unsigned long long)(ch->created_us / 1000000));
	t->nrows++;
}

static int show(struct api_call *call, const struct show_req *req, bool calls)
{
	struct table t = {0};
	struct gather g = {&t, calls, 0};
	size_t i;
	int err;

	t.ncols = calls ? NCALL : NCH;
	t.arena = mbuf_alloc(4096);
	if (!t.arena)
		return ENOMEM;
	channel_foreach(gather_one, &g);
	err = g.err;
	if (!err && t.ncells != t.nrows * t.ncols)
		err = EPROTO;      /* a row of the wrong width is a bug here */
	if (!err && t.ncells && !(t.cells = calloc(t.ncells, sizeof(*t.cells))))
		err = ENOMEM;
	for (i = 0; !err && i < t.ncells; i++)
		t.cells[i] = t.offs[i] == SIZE_MAX ? NULL : (const char *)t.arena->buf + t.offs[i];
	if (!err)
		err = api_show_table(call, req, calls ? call_cols : channel_cols, t.ncols,
				     t.cells, t.nrows);
	free(t.cells);
	free(t.offs);
	mem_deref(t.arena);
	return err;
}

static int show_channels(struct api_call *call, const struct show_req *req)
{
	return show(call, req, false);
}

static int show_calls(struct api_call *call, const struct show_req *req)
{
	return show(call, req, true);
}

int channel_show_init(void)
{
	int err = api_show_register("channels", show_channels);

	return err ? err : api_show_register("calls", show_calls);
}
