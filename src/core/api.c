/*
 * api.c - the API command registry and the execution of one command (an
 * api_call), synchronous or finishing later.
 */
#include <ctype.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "core/api.h"
#include "core/log.h"
#include "core/strfmt.h"
#include "event/bus.h"
#include "event/event.h"

struct api_cmd {
	const char *name;
	const char *syntax;
	const char *desc;
	api_cmd_h *handler;
};

struct api_call {
	char *cmd;
	struct mbuf *out;
	api_done_h *doneh;
	void *arg;
	struct event *env;   /* what the command may read (api_exec_env), or NULL */
	bool pending;    /* the handler returned EINPROGRESS */
	bool in_handler;
	bool finished_early;   /* api_finish() ran before the handler returned */
};

/* Sorted by name (case-insensitive) for lookup and `show api`. */
static struct {
	struct api_cmd *v;
	size_t n, cap;
} R;

static struct api_cmd *lookup(const char *name, size_t *posp)
{
	size_t lo = 0, hi = R.n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcasecmp(R.v[mid].name, name);

		if (!c)
			return &R.v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (posp)
		*posp = lo;
	return NULL;
}

int api_init(void)
{
	return 0;
}

void api_close(void)
{
	free(R.v);
	memset(&R, 0, sizeof(R));
}

int api_register(const char *name, const char *syntax, const char *desc,
		 api_cmd_h *handler)
{
	size_t pos = 0;

	if (!name || !handler)
		return EINVAL;
	if (lookup(name, &pos))
		return EALREADY;
	if (R.n == R.cap) {
		size_t ncap = R.cap ? R.cap * 2 : 64;
		struct api_cmd *n = realloc(R.v, ncap * sizeof(*n));

		if (!n)
			return ENOMEM;
		R.v = n;
		R.cap = ncap;
	}
	memmove(&R.v[pos + 1], &R.v[pos], (R.n - pos) * sizeof(*R.v));
	R.v[pos] = (struct api_cmd){name, syntax ? syntax : "", desc ? desc : "", handler};
	R.n++;
	return 0;
}

void api_unregister(const char *name)
{
	struct api_cmd *c = lookup(name, NULL);
	size_t i;

	if (!c)
		return;
	i = (size_t)(c - R.v);
	memmove(&R.v[i], &R.v[i + 1], (R.n - i - 1) * sizeof(*R.v));
	R.n--;
}

int api_register_table(const struct api_def *defs, size_t n)
{
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		err = api_register(defs[i].name, defs[i].syntax, defs[i].desc, defs[i].h);
		if (err)
			return err;
	}
	return 0;
}

void api_foreach(api_each_h *h, void *arg)
{
	size_t i;

	for (i = 0; i < R.n; i++)
		h(R.v[i].name, R.v[i].syntax, R.v[i].desc, arg);
}

static void call_destructor(void *data)
{
	struct api_call *call = data;

	mem_deref(call->cmd);
	mem_deref(call->out);
	event_deref(call->env);
}

static void complete(struct api_call *call, int err)
{
	if (call->doneh) {
		const char *out;

		/*
		 * NUL-terminate without counting it, so handlers see a C string. The
		 * write may move the buffer: take the pointer after it.
		 */
		if (!mbuf_write_u8(call->out, 0))
			call->out->end--;
		out = call->out->end ? (const char *)call->out->buf : "";
		call->doneh(err, out, call->out->end, call->arg);
	}
	mem_deref(call);
}

static void fire_api_event(const char *cmd, const char *args)
{
	struct event *ev;

	if (event_alloc(&ev, EVENT_API, NULL))
		return;
	event_add_header(ev, "API-Command", cmd);
	event_add_header(ev, "API-Command-Argument", args);
	bus_fire(ev);
}

int api_exec(struct api_call **callp, const char *cmd, const char *args,
	     api_done_h *doneh, void *arg)
{
	return api_exec_env(callp, cmd, args, NULL, doneh, arg);
}

struct event *api_call_env(const struct api_call *call)
{
	return call ? call->env : NULL;
}

int api_exec_env(struct api_call **callp, const char *cmd, const char *args,
		 struct event *env, api_done_h *doneh, void *arg)
{
	struct api_call *call;
	struct api_cmd *c;
	int err;

	if (callp)
		*callp = NULL;
	if (!cmd)
		return EINVAL;
	call = mem_zalloc(sizeof(*call), call_destructor);
	if (!call)
		return ENOMEM;
	call->out = mbuf_alloc(256);
	err = call->out ? str_dup(&call->cmd, cmd) : ENOMEM;
	if (err) {
		mem_deref(call);
		return err;
	}
	call->doneh = doneh;
	call->arg = arg;
	call->env = env ? event_ref(env) : NULL;

	c = *cmd ? lookup(cmd, NULL) : NULL;
	if (!c) {
		/* FreeSWITCH's text for unknown commands (spec/event-socket.md 4.1). */
		mbuf_printf(call->out, "-ERR %s Command not found!\n", cmd);
		complete(call, ENOENT);
		return ENOENT;
	}
	fire_api_event(cmd, args);
	call->in_handler = true;
	err = c->handler(call, args ? args : "");
	call->in_handler = false;
	if (err == EINPROGRESS && call->finished_early)
		err = 0;
	if (err == EINPROGRESS) {
		call->pending = true;
		if (callp)
			*callp = call;
		return EINPROGRESS;
	}
	if (err) {
		mbuf_reset(call->out);
		mbuf_printf(call->out, "-ERR %s Command not found!\n", cmd);
	}
	complete(call, err);
	return err;
}

int api_exec_line(struct api_call **callp, const char *line, api_done_h *doneh,
		  void *arg)
{
	char *copy = NULL, *cmd, *args, *end;
	int err;

	if (!line)
		return EINVAL;
	err = str_dup(&copy, line);
	if (err)
		return err;
	cmd = copy;
	while (isspace((unsigned char)*cmd))
		cmd++;
	end = cmd + strlen(cmd);
	while (end > cmd && isspace((unsigned char)end[-1]))
		*--end = '\0';
	args = cmd;
	while (*args && !isspace((unsigned char)*args))
		args++;
	if (*args) {
		*args++ = '\0';
		while (isspace((unsigned char)*args))
			args++;
	}
	err = api_exec(callp, cmd, *args ? args : NULL, doneh, arg);
	mem_deref(copy);
	return err;
}

void api_call_abandon(struct api_call *call)
{
	if (call)
		call->doneh = NULL;
}

static void sync_done(int err, const char *out, size_t len, void *arg)
{
	struct mbuf *dst = arg;

	/* An unknown command adds nothing, so ${nosuch(x)} expands to "". */
	if (err != ENOENT)
		mbuf_write_mem(dst, (const uint8_t *)out, len);
}

int api_exec_sync(struct mbuf *out, const char *cmd, const char *args)
{
	struct api_call *call = NULL;
	int err = api_exec(&call, cmd, args, sync_done, out);

	if (err == EINPROGRESS)
		api_call_abandon(call);
	return err;
}

/* libc formatting (libre's lacks %.*s and friends), so the format checks hold. */
int api_printf(struct api_call *call, const char *fmt, ...)
{
	char buf[1024], *s;
	size_t len;
	va_list ap;
	int err;

	if (!call)
		return EINVAL;
	va_start(ap, fmt);
	s = strfmt_v(buf, sizeof(buf), &len, fmt, ap);
	va_end(ap);
	if (!s)
		return ENOMEM;
	err = mbuf_write_mem(call->out, (const uint8_t *)s, len);
	strfmt_free(s, buf);
	return err;
}

int api_write(struct api_call *call, const char *buf, size_t len)
{
	if (!call)
		return EINVAL;
	return mbuf_write_mem(call->out, (const uint8_t *)buf, len);
}

const char *api_call_cmd(const struct api_call *call)
{
	return call ? call->cmd : NULL;
}

void api_finish(struct api_call *call)
{
	if (call && call->in_handler)
		call->finished_early = true;
	else if (call && call->pending)
		complete(call, 0);
}

int api_usage(struct api_call *call)
{
	struct api_cmd *c = call ? lookup(call->cmd, NULL) : NULL;

	return api_printf(call, "-USAGE: %s\n", c ? c->syntax : "");
}
