/*
 * vars.c - the process-wide global variables and the ${...} expander shared by
 * the eval command, the dialplan and channels.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "core/api.h"
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

static int expand(struct mbuf *out, const char *in, size_t len, vars_lookup_h *lookup,
		  void *arg, unsigned depth);

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

/* ${name}, ${cmd(args)} or $${name}: `ref` is the expanded text between braces. */
static int resolve(struct mbuf *out, const char *ref, bool global, vars_lookup_h *lookup,
		   void *arg)
{
	const char *paren = strchr(ref, '(');
	size_t rl = strlen(ref);
	char *tmp = NULL;
	const char *val = NULL;
	int err = 0;

	if (!global && paren && rl && ref[rl - 1] == ')') {
		char *cmd = NULL, *args = NULL;

		err = str_dup(&cmd, ref);
		if (err)
			return err;
		cmd[paren - ref] = '\0';
		args = cmd + (paren - ref) + 1;
		args[strlen(args) - 1] = '\0';
		err = api_exec_sync(out, cmd, args);
		mem_deref(cmd);
		/* A command that would finish later expands to nothing, as unknown names do. */
		return err == EINPROGRESS || err == ENOENT ? 0 : err;
	}
	if (!global && lookup)
		val = lookup(ref, arg, &tmp);
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
		      vars_lookup_h *lookup, void *arg, unsigned depth)
{
	struct mbuf *inner = mbuf_alloc(64);
	char *ref = NULL;
	int err;

	if (!inner)
		return ENOMEM;
	err = expand(inner, body, blen, lookup, arg, depth + 1);
	inner->pos = 0;
	if (!err)
		err = mbuf_strdup(inner, &ref, inner->end);
	if (!err)
		err = resolve(out, ref, global, lookup, arg);
	mem_deref(ref);
	mem_deref(inner);
	return err;
}

static int expand(struct mbuf *out, const char *in, size_t len, vars_lookup_h *lookup,
		  void *arg, unsigned depth)
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
		err = expand_ref(out, in + open + 1, close - open - 1, global, lookup, arg,
				 depth);
		i = close + 1;
	}
	return err;
}

int vars_expand(char **outp, const char *in, vars_lookup_h *lookup, void *arg)
{
	struct mbuf *mb;
	int err;

	if (!outp || !in)
		return EINVAL;
	mb = mbuf_alloc(strlen(in) + 16);
	if (!mb)
		return ENOMEM;
	err = expand(mb, in, strlen(in), lookup, arg, 0);
	mb->pos = 0;
	if (!err)
		err = mbuf_strdup(mb, outp, mb->end);
	mem_deref(mb);
	return err;
}
