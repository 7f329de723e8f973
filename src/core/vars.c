/*
 * vars.c - the process-wide global variables and the ${...} expander shared by
 * the eval command, the dialplan and channels (at once, or waiting for commands).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "core/api.h"
#include "core/log.h"
#include "core/vars.h"

struct gvar {
	char *name;
	char *value;
};

/* Sorted by name so lookups bisect and dumps come out in order. */
static struct {
	pthread_mutex_t lock;
	struct gvar *v;
	size_t n, cap;
} G = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Index of `name`, or of where it would be inserted (with *found false). */
static size_t find(const char *name, bool *found)
{
	size_t lo = 0, hi = G.n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(G.v[mid].name, name);

		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

int vars_init(void)
{
	return 0;
}

void vars_close(void)
{
	size_t i;

	pthread_mutex_lock(&G.lock);
	for (i = 0; i < G.n; i++) {
		free(G.v[i].name);
		free(G.v[i].value);
	}
	free(G.v);
	G.v = NULL;
	G.n = G.cap = 0;
	pthread_mutex_unlock(&G.lock);
}

static int set_locked(const char *name, const char *value)
{
	bool found;
	size_t i = find(name, &found);
	char *nv;

	if (!value || !*value) {
		if (found) {
			free(G.v[i].name);
			free(G.v[i].value);
			memmove(&G.v[i], &G.v[i + 1], (G.n - i - 1) * sizeof(*G.v));
			G.n--;
		}
		return 0;
	}
	nv = strdup(value);
	if (!nv)
		return ENOMEM;
	if (found) {
		free(G.v[i].value);
		G.v[i].value = nv;
		return 0;
	}
	if (G.n == G.cap) {
		size_t ncap = G.cap ? G.cap * 2 : 64;
		struct gvar *n = realloc(G.v, ncap * sizeof(*n));

		if (!n) {
			free(nv);
			return ENOMEM;
		}
		G.v = n;
		G.cap = ncap;
	}
	memmove(&G.v[i + 1], &G.v[i], (G.n - i) * sizeof(*G.v));
	G.v[i].name = strdup(name);
	if (!G.v[i].name) {
		memmove(&G.v[i], &G.v[i + 1], (G.n - i) * sizeof(*G.v));
		free(nv);
		return ENOMEM;
	}
	G.v[i].value = nv;
	G.n++;
	return 0;
}

int vars_global_set(const char *name, const char *value)
{
	int err;

	if (!name || !*name)
		return EINVAL;
	pthread_mutex_lock(&G.lock);
	err = set_locked(name, value);
	pthread_mutex_unlock(&G.lock);
	return err;
}

char *vars_global_dup(const char *name)
{
	char *out = NULL;
	bool found;
	size_t i;

	if (!name)
		return NULL;
	pthread_mutex_lock(&G.lock);
	i = find(name, &found);
	if (found)
		str_dup(&out, G.v[i].value);
	pthread_mutex_unlock(&G.lock);
	return out;
}

int vars_global_dump(struct mbuf *out)
{
	int err = 0;
	size_t i;

	pthread_mutex_lock(&G.lock);
	for (i = 0; i < G.n && !err; i++)
		err = mbuf_printf(out, "%s=%s\n", G.v[i].name, G.v[i].value);
	pthread_mutex_unlock(&G.lock);
	return err;
}

/* Nested ${a_${b}} and API calls inside calls are bounded to stop runaway input. */
#define MAX_DEPTH 16

/*
 * The outputs of a text's ${cmd(args)} calls in call order, so that the text
 * can be expanded again from the start once a command that finished later
 * has: calls already made are answered from here and none runs twice.
 */
struct vars_replay {
	char **out;
	size_t n;
	size_t next;                 /* calls made so far in the current run */
	struct api_call *call;       /* the one still running, or NULL */
	char *what;                  /* its "cmd(args)", for the log */
	bool starting;               /* inside api_exec: it may finish at once */
	int err;                     /* recording failed: the next run fails */
	struct tmr tmr;              /* its time limit, then the call to readyh */
	uint64_t wait_ms;
	vars_ready_h *readyh;
	void *arg;
};

/* What one expansion looks things up with. */
struct xp {
	vars_lookup_h *lookup;
	void *arg;
	struct vars_replay *r;       /* NULL: commands that wait expand to "" */
};

static void replay_destructor(void *data)
{
	struct vars_replay *r = data;
	size_t i;

	tmr_cancel(&r->tmr);
	/* The command goes on to its end by itself; only its output is dropped. */
	api_call_abandon(r->call);
	for (i = 0; i < r->n; i++)
		mem_deref(r->out[i]);
	mem_deref(r->out);
	mem_deref(r->what);
}

int vars_replay_alloc(struct vars_replay **rp, uint64_t wait_ms, vars_ready_h *readyh,
		      void *arg)
{
	struct vars_replay *r;

	if (!rp || !readyh)
		return EINVAL;
	r = mem_zalloc(sizeof(*r), replay_destructor);
	if (!r)
		return ENOMEM;
	tmr_init(&r->tmr);
	r->wait_ms = wait_ms;
	r->readyh = readyh;
	r->arg = arg;
	*rp = r;
	return 0;
}

static int record(struct vars_replay *r, const char *out, size_t len)
{
	size_t sz = (r->n + 1) * sizeof(char *);
	char **v = r->out ? mem_realloc(r->out, sz) : mem_alloc(sz, NULL);
	int err;

	if (!v)
		return ENOMEM;
	r->out = v;
	v[r->n] = NULL;
	err = re_sdprintf(&v[r->n], "%b", out, len);
	if (!err)
		r->n++;
	return err;
}

static void replay_ready(void *arg)
{
	struct vars_replay *r = arg;

	/* readyh may free the record: nothing touches it afterwards. */
	r->readyh(r->arg);
}

static void replay_done(int err, const char *out, size_t len, void *arg)
{
	struct vars_replay *r = arg;

	/* An unknown command adds nothing, so ${nosuch(x)} expands to "". */
	if (err == ENOENT)
		len = 0;
	err = record(r, out, len);
	if (err)
		r->err = err;
	if (r->starting)
		return;
	r->call = NULL;
	/* From the loop, not from inside the command's own completion. */
	tmr_start(&r->tmr, 0, replay_ready, r);
}

static void replay_timeout(void *arg)
{
	struct vars_replay *r = arg;

	log_warn("${%s}: no output after %llu ms, expanding to nothing\n", r->what,
		 (unsigned long long)r->wait_ms);
	api_call_abandon(r->call);
	r->call = NULL;
	r->err = record(r, "", 0);
	r->readyh(r->arg);
}

/* One ${cmd(args)} of a recorded expansion. */
static int replay_call(struct mbuf *out, struct vars_replay *r, const char *cmd,
		       const char *args)
{
	struct api_call *call = NULL;
	int err;

	if (r->err)
		return r->err;
	if (r->next < r->n)
		return mbuf_write_str(out, r->out[r->next++]);
	if (r->call)
		return EINPROGRESS;
	r->starting = true;
	err = api_exec(&call, cmd, args, replay_done, r);
	r->starting = false;
	if (err == EINPROGRESS) {
		r->call = call;
		r->what = mem_deref(r->what);
		(void)re_sdprintf(&r->what, "%s(%s)", cmd, args);
		tmr_start(&r->tmr, r->wait_ms, replay_timeout, r);
		return EINPROGRESS;
	}
	if (r->err)
		return r->err;
	/* Failing as api_exec_sync's callers see it; unknown commands add nothing. */
	if (err && err != ENOENT)
		return err;
	if (r->next >= r->n)
		return ENOMEM;
	return mbuf_write_str(out, r->out[r->next++]);
}

static int expand(struct mbuf *out, const char *in, size_t len, const struct xp *xp,
		  unsigned depth);

/* Find the '}' closing the '{' at in[0], honouring nested braces. */
static size_t closing_brace(const char *in, size_t len)
{
	size_t i, level = 0;

	for (i = 0; i < len; i++) {
		if (in[i] == '{')
			level++;
		else if (in[i] == '}' && --level == 0)
			return i;
	}
	return len;
}

static int run_api(struct mbuf *out, const char *ref, size_t paren, const struct xp *xp)
{
	char *cmd = NULL, *args;
	int err;

	err = str_dup(&cmd, ref);
	if (err)
		return err;
	cmd[paren] = '\0';
	args = cmd + paren + 1;
	args[strlen(args) - 1] = '\0';
	if (xp->r)
		err = replay_call(out, xp->r, cmd, args);
	else {
		err = api_exec_sync(out, cmd, args);
		/* A command that would finish later expands to nothing, as unknown names do. */
		if (err == EINPROGRESS)
			log_info("${%s(%s)} did not finish at once: expanded to nothing\n",
				 cmd, args);
		if (err == EINPROGRESS || err == ENOENT)
			err = 0;
	}
	mem_deref(cmd);
	return err;
}

/* ${name}, ${cmd(args)} or $${name}: `ref` is the expanded text between braces. */
static int resolve(struct mbuf *out, const char *ref, bool global, const struct xp *xp)
{
	const char *paren = strchr(ref, '(');
	size_t rl = strlen(ref);
	char *tmp = NULL;
	const char *val = NULL;
	int err = 0;

	if (!global && paren && rl && ref[rl - 1] == ')')
		return run_api(out, ref, (size_t)(paren - ref), xp);
	if (!global && xp->lookup)
		val = xp->lookup(ref, xp->arg, &tmp);
	if (!val) {
		char *g = vars_global_dup(ref);

		if (g)
			err = mbuf_write_str(out, g);
		mem_deref(g);
		return err;
	}
	err = mbuf_write_str(out, val);
	mem_deref(tmp);
	return err;
}

static int expand_ref(struct mbuf *out, const char *body, size_t blen, bool global,
		      const struct xp *xp, unsigned depth)
{
	struct mbuf *inner = mbuf_alloc(64);
	char *ref = NULL;
	int err;

	if (!inner)
		return ENOMEM;
	err = expand(inner, body, blen, xp, depth + 1);
	inner->pos = 0;
	if (!err)
		err = mbuf_strdup(inner, &ref, inner->end);
	if (!err)
		err = resolve(out, ref, global, xp);
	mem_deref(ref);
	mem_deref(inner);
	return err;
}

static int expand(struct mbuf *out, const char *in, size_t len, const struct xp *xp,
		  unsigned depth)
{
	size_t i = 0;
	int err = 0;

	if (depth > MAX_DEPTH)
		return ELOOP;
	while (i < len && !err) {
		bool global = i + 2 < len && in[i] == '$' && in[i + 1] == '$' &&
			      in[i + 2] == '{';
		bool local = !global && i + 1 < len && in[i] == '$' && in[i + 1] == '{';
		size_t open, close;

		if (!global && !local) {
			err = mbuf_write_u8(out, (uint8_t)in[i++]);
			continue;
		}
		open = i + (global ? 2 : 1);
		close = open + closing_brace(in + open, len - open);
		if (close >= len) {     /* unterminated: copy the rest verbatim */
			err = mbuf_write_mem(out, (const uint8_t *)in + i, len - i);
			break;
		}
		err = expand_ref(out, in + open + 1, close - open - 1, global, xp, depth);
		i = close + 1;
	}
	return err;
}

static int expand_text(char **outp, const char *in, const struct xp *xp)
{
	struct mbuf *mb;
	int err;

	if (!outp || !in)
		return EINVAL;
	mb = mbuf_alloc(strlen(in) + 16);
	if (!mb)
		return ENOMEM;
	err = expand(mb, in, strlen(in), xp, 0);
	mb->pos = 0;
	if (!err)
		err = mbuf_strdup(mb, outp, mb->end);
	mem_deref(mb);
	return err;
}

int vars_expand(char **outp, const char *in, vars_lookup_h *lookup, void *arg)
{
	struct xp xp = {lookup, arg, NULL};

	return expand_text(outp, in, &xp);
}

int vars_expand_replay(char **outp, const char *in, vars_lookup_h *lookup, void *arg,
		       struct vars_replay *r)
{
	struct xp xp = {lookup, arg, r};

	if (!r)
		return EINVAL;
	r->next = 0;
	return expand_text(outp, in, &xp);
}
