/*
 * api_core.c - the core's own API commands: help, show, hostname, global
 * variables, eval, echo and reloadxml, with FreeSWITCH's output formats
 * (spec/core.md 4, reference/freeswitch/esl-transcripts.txt).
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <re.h>
#include "core/api.h"
#include "core/api_core.h"
#include <stdio.h>
#include "core/config.h"
#include "core/log.h"
#include "core/vars.h"
#include "event/bus.h"
#include "event/event.h"

struct show_api_ctx {
	struct api_call *call;
	unsigned n;
};

static void show_api_row(const char *name, const char *syntax, const char *desc, void *arg)
{
	struct show_api_ctx *ctx = arg;

	api_printf(ctx->call, "%s,%s,%s,confab\n", name, desc, syntax);
	ctx->n++;
}

static int show_api(struct api_call *call)
{
	struct show_api_ctx ctx = {call, 0};

	api_printf(call, "name,description,syntax,ikey\n");
	api_foreach(show_api_row, &ctx);
	return api_printf(call, "\n%u total.\n", ctx.n);
}

struct show_entry {
	const char *what;
	show_h *h;
};

#define MAX_SHOW 16
static struct show_entry shows[MAX_SHOW];

int api_show_register(const char *what, show_h *h)
{
	size_t i;

	for (i = 0; i < MAX_SHOW; i++) {
		if (!shows[i].what) {
			shows[i] = (struct show_entry){what, h};
			return 0;
		}
	}
	return ENOSPC;
}

void api_show_unregister(const char *what)
{
	size_t i;

	for (i = 0; i < MAX_SHOW; i++) {
		if (shows[i].what && !strcasecmp(shows[i].what, what))
			shows[i] = (struct show_entry){NULL, NULL};
	}
}

static int show_json(struct api_call *call, const char *const *cols, size_t ncols,
		     const char *const *cells, size_t nrows)
{
	size_t r, c;

	if (!nrows)
		return api_printf(call, "{\"row_count\": 0}\n");
	api_printf(call, "{\"row_count\":%zu,\"rows\":[", nrows);
	for (r = 0; r < nrows; r++) {
		api_printf(call, "%s{", r ? "," : "");
		for (c = 0; c < ncols; c++) {
			const char *v = cells[r * ncols + c];
			const char *p;

			api_printf(call, "%s\"%s\":\"", c ? "," : "", cols[c]);
			for (p = v ? v : ""; *p; p++) {
				if (*p == '"' || *p == '\\')
					api_printf(call, "\\%c", *p);
				else if ((unsigned char)*p < 0x20)
					api_printf(call, "\\u%04x", (unsigned char)*p);
				else
					api_write(call, p, 1);
			}
			api_printf(call, "\"");
		}
		api_printf(call, "}");
	}
	return api_printf(call, "]}\n");
}

static int show_xml(struct api_call *call, const char *const *cols, size_t ncols,
		    const char *const *cells, size_t nrows)
{
	size_t r, c;

	if (!nrows)
		return api_printf(call, "<result row_count=\"0\"/>\n");
	api_printf(call, "<result row_count=\"%zu\">\n", nrows);
	for (r = 0; r < nrows; r++) {
		api_printf(call, "  <row row_id=\"%zu\">\n", r + 1);
		for (c = 0; c < ncols; c++) {
			const char *v = cells[r * ncols + c], *p;

			api_printf(call, "    <%s>", cols[c]);
			for (p = v ? v : ""; *p; p++) {
				if (*p == '<')
					api_printf(call, "&lt;");
				else if (*p == '>')
					api_printf(call, "&gt;");
				else if (*p == '&')
					api_printf(call, "&amp;");
				else
					api_write(call, p, 1);
			}
			api_printf(call, "</%s>\n", cols[c]);
		}
		api_printf(call, "  </row>\n");
	}
	return api_printf(call, "</result>\n");
}

int api_show_table(struct api_call *call, const struct show_req *req,
		   const char *const *cols, size_t ncols, const char *const *cells,
		   size_t nrows)
{
	size_t r, c;

	if (req->count)
		return api_printf(call, "\n%zu total.\n", nrows);
	if (req->fmt == SHOW_JSON)
		return show_json(call, cols, ncols, cells, nrows);
	if (req->fmt == SHOW_XML)
		return show_xml(call, cols, ncols, cells, nrows);
	/* An empty table is just the total, as FreeSWITCH prints it. */
	if (!nrows)
		return api_printf(call, "\n0 total.\n");
	for (c = 0; c < ncols; c++)
		api_printf(call, "%s%s", c ? req->delim : "", cols[c]);
	api_printf(call, "\n");
	for (r = 0; r < nrows; r++) {
		for (c = 0; c < ncols; c++) {
			const char *v = cells[r * ncols + c];

			api_printf(call, "%s%s", c ? req->delim : "", v ? v : "");
		}
		api_printf(call, "\n");
	}
	return api_printf(call, "\n%zu total.\n", nrows);
}

/* show <what> [count] [as json|xml|delim <d>] */
static int cmd_show(struct api_call *call, const char *args)
{
	char what[32] = "", w2[32] = "", w3[32] = "", w4[32] = "";
	struct show_req req = {SHOW_DELIM, ",", false};
	size_t i;

	if (!args || sscanf(args, "%31s %31s %31s %31s", what, w2, w3, w4) < 1)
		return api_usage(call);
	if (!strcasecmp(what, "api"))
		return show_api(call);
	req.count = !strcasecmp(w2, "count");
	if (!strcasecmp(w2, "as") && !strcasecmp(w3, "json"))
		req.fmt = SHOW_JSON;
	else if (!strcasecmp(w2, "as") && !strcasecmp(w3, "xml"))
		req.fmt = SHOW_XML;
	else if (!strcasecmp(w2, "as") && !strcasecmp(w3, "delim") && *w4)
		req.delim = w4;
	for (i = 0; i < MAX_SHOW; i++) {
		if (shows[i].what && !strcasecmp(shows[i].what, what))
			return shows[i].h(call, &req);
	}
	return api_usage(call);
}

static int cmd_help(struct api_call *call, const char *args)
{
	(void)args;
	return show_api(call);
}

static int cmd_hostname(struct api_call *call, const char *args)
{
	char host[256];

	(void)args;
	if (gethostname(host, sizeof(host)))
		return errno;
	host[sizeof(host) - 1] = '\0';
	return api_printf(call, "%s", host);
}

static int cmd_global_getvar(struct api_call *call, const char *args)
{
	char *v;
	int err;

	if (!args || !*args) {
		struct mbuf *mb = mbuf_alloc(1024);

		if (!mb)
			return ENOMEM;
		err = vars_global_dump(mb);
		if (!err)
			err = api_write(call, (const char *)mb->buf, mb->end);
		mem_deref(mb);
		return err;
	}
	/* Unset prints nothing; the event socket then answers "-ERR no reply". */
	v = vars_global_dup(args);
	err = v ? api_printf(call, "%s", v) : 0;
	mem_deref(v);
	return err;
}

/* global_setvar name=value[=expected]: with `expected`, set only if it matches. */
static int cmd_global_setvar(struct api_call *call, const char *args)
{
	char *copy = NULL, *value, *expected, *cur;
	int err;

	if (!args || !strchr(args, '='))
		return api_usage(call);
	err = str_dup(&copy, args);
	if (err)
		return err;
	value = strchr(copy, '=');
	*value++ = '\0';
	expected = strchr(value, '=');
	if (expected)
		*expected++ = '\0';
	if (!*copy) {
		mem_deref(copy);
		return api_usage(call);
	}
	/* switch_core_set_var_conditional: set `value` only if it now holds `expected`. */
	cur = expected ? vars_global_dup(copy) : NULL;
	if (!expected || (cur && !strcmp(cur, expected)))
		err = vars_global_set(copy, value);
	mem_deref(cur);
	mem_deref(copy);
	return err ? err : api_printf(call, "+OK");
}

static api_uuid_expand_h *uuid_expand;

void api_core_set_uuid_expand(api_uuid_expand_h *h)
{
	uuid_expand = h;
}

static int cmd_eval(struct api_call *call, const char *args)
{
	char uuid[64] = "", *out = NULL;
	int err = ENOENT;

	if (!args)
		return 0;
	/* eval uuid:<uuid> <text>: the channel's variables; an unknown one, the globals. */
	if (!strncmp(args, "uuid:", 5)) {
		const char *sp = strchr(args, ' ');
		size_t n = sp ? (size_t)(sp - args - 5) : strlen(args + 5);

		if (n < sizeof(uuid)) {
			memcpy(uuid, args + 5, n);
			uuid[n] = '\0';
		}
		args = sp ? sp + 1 : "";
	}
	if (uuid[0] && uuid_expand)
		err = uuid_expand(uuid, args, &out);
	if (err == ENOENT)
		err = vars_expand(&out, args, NULL, NULL);
	if (!err)
		err = api_printf(call, "%s", out);
	mem_deref(out);
	return err;
}

static int cmd_echo(struct api_call *call, const char *args)
{
	return api_printf(call, "%s", args ? args : "");
}

static int cmd_reloadxml(struct api_call *call, const char *args)
{
	char err[512] = "";
	struct event *ev;
	int rc;

	(void)args;
	rc = config_reload(err, sizeof(err));
	if (rc) {
		log_err("reloadxml: %s\n", err);
		return api_printf(call, "+OK [%s]\n", err);
	}
	if (!event_alloc(&ev, EVENT_RELOADXML, NULL))
		bus_fire(ev);
	log_info("Reloading XML\n");
	return api_printf(call, "+OK [Success]\n");
}

int api_core_init(void)
{
	static const struct api_def cmds[] = {
		{"show", "codec|endpoint|application|api|dialplan|file|timer|calls [count]|"
			 "channels [count|like <match string>]|calls|detailed_calls|"
			 "bridged_calls|detailed_bridged_calls|aliases|complete|chat|"
			 "management|modules|nat_map|say|interfaces|interface_types|"
			 "tasks|limits|status", "Show various reports", cmd_show},
		{"help", "", "Show help for all the api commands", cmd_help},
		{"hostname", "", "Return the system hostname", cmd_hostname},
		{"global_getvar", "<var>", "Get global var", cmd_global_getvar},
		{"global_setvar", "<var>=<value> [=<value2>]", "Set global var",
		 cmd_global_setvar},
		{"eval", "[uuid:<uuid> ]<expression>", "eval (noop)", cmd_eval},
		{"echo", "<data>", "Echo", cmd_echo},
		{"reloadxml", "", "Reload XML", cmd_reloadxml},
	};
	return api_register_table(cmds, sizeof(cmds) / sizeof(*cmds));
}
