/*
 * entry.c - how scripts start: lua.conf (script-directory, module-directory,
 * startup-script, hooks), the `lua` and `luarun` API commands, the `lua`
 * dialplan application, and event hooks (spec/lua.md 1-2).
 */
#include <errno.h>
#include <string.h>
#include <re.h>
#include "channel/channel.h"
#include "core/api.h"
#include "core/config.h"
#include "core/log.h"
#include "core/vars.h"
#include "dialplan/app.h"
#include "event/bus.h"
#include "event/event.h"
#include "lua/lua_int.h"
#include "lua/script.h"

enum {
	MAX_ARGS       = 64,
	HOOK_QUEUE     = 10000,     /* events a hook may fall behind by */
	HOOK_BATCH     = 64,        /* runs started per loop turn per hook */
};

/* One <hook event=".." subclass=".." script=".."/>. */
struct hook {
	struct le le;
	enum event_id id;
	char *subclass;              /* NULL: any */
	char *script;
	struct bus_sub *sub;
	struct tmr tmr;
};

static struct {
	char *path;                  /* require patterns from script-directory */
	char *cpath;                 /* from module-directory */
	struct list hooks;
	struct list startup;         /* struct startup */
	bool registered;
} lua;

struct startup {
	struct le le;
	char *script;
	struct tmr tmr;
};

/* A script name relative to script_dir; absolute paths as they are. */
static int resolve(char **pathp, const char *name)
{
	char *dir;
	int err;

	if (name[0] == '/')
		return str_dup(pathp, name);
	dir = vars_global_dup("script_dir");
	err = re_sdprintf(pathp, "%s/%s", dir ? dir : ".", name);
	mem_deref(dir);
	return err;
}

/*
 * "script a b c" -> argv {"script", "a", "b", "c"} in `buf` (modified); "~code"
 * -> inline code. mod_lua splits on blanks and knows no quoting.
 */
struct parsed {
	char *buf;
	char *argv[MAX_ARGS];
	int argc;
	const char *code;
	char *file;
};

static void parsed_reset(struct parsed *p)
{
	p->buf = mem_deref(p->buf);
	p->file = mem_deref(p->file);
}

static int parse_line(struct parsed *p, const char *line)
{
	char *s, *save = NULL, *tok;
	int err;

	memset(p, 0, sizeof(*p));
	while (*line == ' ' || *line == '\t' || *line == '\r' || *line == '\n')
		line++;
	err = str_dup(&p->buf, line);
	if (err)
		return err;
	if (p->buf[0] == '~') {
		p->code = p->buf + 1;
		return 0;
	}
	if (!strncmp(p->buf, "#!/lua", 6)) {
		p->code = p->buf + 6;
		return 0;
	}
	for (s = p->buf; p->argc < MAX_ARGS; s = NULL) {
		tok = strtok_r(s, " \t\r\n", &save);
		if (!tok)
			break;
		p->argv[p->argc++] = tok;
	}
	if (!p->argc)
		return EINVAL;
	return resolve(&p->file, p->argv[0]);
}

static void fill_start(struct script_start *st, const struct parsed *p)
{
	memset(st, 0, sizeof(*st));
	st->name = p->code ? "~" : p->file;
	st->file = p->file;
	st->code = p->code;
	st->argc = p->code ? 0 : p->argc;
	st->argv = (char **)p->argv;
	st->path = lua.path;
	st->cpath = lua.cpath;
}

/* lua <script> [args]: the output is what the script wrote to `stream`. */
struct api_run {
	struct api_call *call;
	struct mbuf *out;
};

static void api_run_destructor(void *data)
{
	mem_deref(((struct api_run *)data)->out);
}

static void api_run_end(struct script *s, const struct script_end *e, void *arg)
{
	struct api_run *r = arg;

	api_write(r->call, (const char *)r->out->buf, r->out->end);
	if (!e->ok)
		api_printf(r->call, "-ERR Cannot execute script\n");
	api_finish(r->call);
	mem_deref(r);
}

static struct event *api_env(const char *cmd, const char *args)
{
	struct event *ev = NULL;

	if (event_alloc(&ev, EVENT_API, NULL))
		return NULL;
	event_add_header(ev, "API-Command", cmd);
	event_add_header(ev, "API-Command-Argument", args);
	return ev;
}

static int cmd_lua(struct api_call *call, const char *args)
{
	struct script_start st;
	struct parsed p;
	struct api_run *r;
	int err;

	if (!args || !*args)
		return 0;
	err = parse_line(&p, args);
	if (err) {
		parsed_reset(&p);
		return api_printf(call, "-ERR Cannot execute script\n");
	}
	r = mem_zalloc(sizeof(*r), api_run_destructor);
	r->out = r ? mbuf_alloc(256) : NULL;
	if (!r || !r->out) {
		mem_deref(r);
		parsed_reset(&p);
		return ENOMEM;
	}
	r->call = call;
	fill_start(&st, &p);
	st.stream = r->out;
	/* api_hangup_hook and the like hand their own event over as `env`. */
	st.env = api_call_env(call) ? event_ref(api_call_env(call)) : api_env("lua", args);
	st.now = true;
	err = script_start(&st, api_run_end, r);
	event_deref(st.env);
	parsed_reset(&p);
	if (err) {
		mem_deref(r);
		return api_printf(call, "-ERR Cannot execute script\n");
	}
	return EINPROGRESS;
}

/* Runs nobody waits for: luarun, startup scripts, hooks. */
static int start_bg(const char *line, struct event *event)
{
	struct script_start st;
	struct parsed p;
	int err;

	err = parse_line(&p, line);
	if (!err) {
		fill_start(&st, &p);
		st.event = event;
		err = script_start(&st, NULL, NULL);
	}
	parsed_reset(&p);
	return err;
}

static int cmd_luarun(struct api_call *call, const char *args)
{
	if (!args || !*args)
		return api_printf(call, "-ERR no args specified!\n");
	/* A script that does not load is logged; luarun has already said +OK. */
	start_bg(args, NULL);
	return api_printf(call, "+OK\n");
}

/* The dialplan application: `session` is the calling channel, the dialplan
 * goes on when the script returns. */
struct app_run {
	struct app_exec *x;          /* NULL once the channel moved on */
	struct channel *ch;          /* a reference */
};

static void app_run_destructor(void *data)
{
	mem_deref(((struct app_run *)data)->ch);
}

static void app_run_cancel(void *data)
{
	struct app_run *r = data;

	/*
	 * Hung up or transferred: the script goes on, its session says so. Only
	 * the router breaks a running application on a channel that stays up, so
	 * an up channel here was transferred.
	 */
	r->x = NULL;
	if (channel_up(r->ch))
		script_channel_moved(r->ch);
}

static void app_run_end(struct script *s, const struct script_end *e, void *arg)
{
	struct app_run *r = arg;

	if (r->x) {
		app_exec_on_cancel(r->x, NULL, NULL);
		app_exec_done(r->x, NULL);
	}
	mem_deref(r);
}

static int app_lua(struct channel *ch, const char *args, struct app_exec *x)
{
	struct script_start st;
	struct parsed p;
	struct app_run *r;
	int err;

	if (!args || !*args) {
		log_err("lua: %s: no script given\n", channel_name(ch));
		return EINVAL;
	}
	err = parse_line(&p, args);
	if (err) {
		parsed_reset(&p);
		return err;
	}
	r = mem_zalloc(sizeof(*r), app_run_destructor);
	if (!r) {
		parsed_reset(&p);
		return ENOMEM;
	}
	r->x = x;
	r->ch = mem_ref(ch);
	fill_start(&st, &p);
	st.ch = ch;
	err = script_start(&st, app_run_end, r);
	parsed_reset(&p);
	if (err) {
		mem_deref(r);
		return err;
	}
	app_exec_on_cancel(x, app_run_cancel, r);
	return EINPROGRESS;
}

static bool hook_match(const struct event *ev, void *arg)
{
	const struct hook *h = arg;
	const char *sc;

	if (h->id != EVENT_ALL && event_get_id(ev) != h->id)
		return false;
	if (!h->subclass)
		return true;
	sc = event_get_subclass(ev);
	return sc && !strcasecmp(sc, h->subclass);
}

/* Runs start from the loop, never from inside the fan-out that queued them. */
static void hook_drain(void *arg)
{
	struct hook *h = arg;
	struct event *ev;
	uint64_t lost = 0;
	int n;

	for (n = 0; n < HOOK_BATCH && (ev = bus_pop(h->sub, &lost)) != NULL; n++) {
		if (lost)
			log_err("lua: hook %s lost %llu events (queue full)\n", h->script,
				(unsigned long long)lost);
		start_bg(h->script, ev);
		event_deref(ev);
	}
	if (bus_pending(h->sub))
		tmr_start(&h->tmr, 0, hook_drain, h);
}

static void hook_wake(void *arg)
{
	struct hook *h = arg;

	tmr_start(&h->tmr, 0, hook_drain, h);
}

static void hook_destructor(void *data)
{
	struct hook *h = data;

	tmr_cancel(&h->tmr);
	mem_deref(h->sub);
	mem_deref(h->subclass);
	mem_deref(h->script);
}

static void add_hook(const struct xml_node *n)
{
	const char *name = xml_attr(n, "event"), *sc = xml_attr(n, "subclass");
	const char *script = xml_attr(n, "script");
	enum event_id id;
	struct hook *h;
	int err;

	if (!name || !script || !*script) {
		log_err("lua: %s:%u: a hook needs event and script\n", n->file, n->line);
		return;
	}
	if (event_id_parse(name, &id)) {
		log_err("lua: %s:%u: hook on unknown event '%s' ignored\n", n->file,
			n->line, name);
		return;
	}
	h = mem_zalloc(sizeof(*h), hook_destructor);
	if (!h)
		return;
	tmr_init(&h->tmr);
	h->id = id;
	err = str_dup(&h->script, script);
	if (!err && sc && *sc)
		err = str_dup(&h->subclass, sc);
	if (!err)
		err = bus_subscribe(&h->sub, HOOK_QUEUE, hook_match, hook_wake, h);
	if (err) {
		log_err("lua: hook %s on %s: %s\n", script, name, strerror(err));
		mem_deref(h);
		return;
	}
	list_append(&lua.hooks, &h->le, h);
	log_info("lua: hook %s on %s%s%s\n", script, event_name(id), sc ? " " : "",
		 sc ? sc : "");
}

static void startup_run(void *arg)
{
	struct startup *su = arg;

	if (start_bg(su->script, NULL))
		log_err("lua: startup script %s did not start\n", su->script);
}

static void startup_destructor(void *data)
{
	struct startup *su = data;

	tmr_cancel(&su->tmr);
	mem_deref(su->script);
}

static int add_startup(const char *script, unsigned nth)
{
	struct startup *su = mem_zalloc(sizeof(*su), startup_destructor);
	int err;

	if (!su)
		return ENOMEM;
	tmr_init(&su->tmr);
	err = str_dup(&su->script, script);
	if (err) {
		mem_deref(su);
		return err;
	}
	list_append(&lua.startup, &su->le, su);
	/* FreeSWITCH starts them 10 ms apart, once the server runs. */
	tmr_start(&su->tmr, 10 * (uint64_t)(nth + 1), startup_run, su);
	return 0;
}

/* Repeatable patterns, joined with ';' ahead of Lua's defaults. */
static int append_pattern(char **listp, const char *value)
{
	char *joined = NULL;
	int err;

	if (!*listp)
		return str_dup(listp, value);
	err = re_sdprintf(&joined, "%s;%s", *listp, value);
	if (err)
		return err;
	mem_deref(*listp);
	*listp = joined;
	return 0;
}

struct cfg_state {
	unsigned nstartup;
	int err;
};

static void on_param(const char *name, const char *value, const struct xml_node *node,
		     void *arg)
{
	struct cfg_state *cs = arg;
	int err = 0;

	if (!value || !*value)
		return;
	if (!strcmp(name, "script-directory"))
		err = append_pattern(&lua.path, value);
	else if (!strcmp(name, "module-directory"))
		err = append_pattern(&lua.cpath, value);
	else if (!strcmp(name, "startup-script"))
		err = add_startup(value, cs->nstartup++);
	else
		log_notice("lua: %s:%u: parameter '%s' ignored\n", node->file, node->line,
			   name);
	if (err && !cs->err)
		cs->err = err;
}

static const struct api_def cmds[] = {
	{"lua", "<script>", "run a script as an api function", cmd_lua},
	{"luarun", "<script>", "run a script", cmd_luarun},
};

int script_init(const struct config *cfg, char *err, size_t errsz)
{
	const struct xml_node *mod = config_module(cfg, "lua.conf");
	const struct xml_node *settings = xml_child(mod, "settings"), *n;
	struct cfg_state cs = {0};
	int rc;

	list_init(&lua.hooks);
	list_init(&lua.startup);
	rc = api_register_table(cmds, sizeof(cmds) / sizeof(cmds[0]));
	if (!rc)
		rc = app_register("lua", "<script>", app_lua);
	if (rc) {
		re_snprintf(err, errsz, "lua: cannot register commands: %m", rc);
		return rc;
	}
	lua.registered = true;
	config_params(settings, on_param, &cs);
	if (cs.err) {
		re_snprintf(err, errsz, "lua: lua.conf: %m", cs.err);
		return cs.err;
	}
	for (n = xml_child(settings, "hook"); n; n = xml_next(n))
		add_hook(n);
	return 0;
}

void script_close(void)
{
	script_stop_all();
	list_flush(&lua.hooks);
	list_flush(&lua.startup);
	lua.path = mem_deref(lua.path);
	lua.cpath = mem_deref(lua.cpath);
	if (lua.registered) {
		api_unregister("lua");
		api_unregister("luarun");
		lua.registered = false;
	}
}
