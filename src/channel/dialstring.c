/*
 * dialstring.c - splits a dial string into groups of legs with their variables.
 * Input comes from API clients and scripts, so every step is bounded by the
 * string itself and a malformed string is an error, never a crash.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "channel/dialstring.h"

/* Position of the first top-level `sep` (outside {} [] <> and not escaped). */
static size_t top_level(const char *s, size_t len, char sep)
{
	size_t i, depth = 0;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '\\' && i + 1 < len) {
			i++;
			continue;
		}
		if (c == '{' || c == '[' || c == '<')
			depth++;
		else if ((c == '}' || c == ']' || c == '>') && depth)
			depth--;
		else if (c == sep && !depth)
			return i;
	}
	return len;
}

/*
 * End of a group: the first top-level "|", or ":_:" (enterprise groups, which
 * confab tries in order like "|").
 */
static size_t group_end(const char *s, size_t len, size_t *seplen)
{
	size_t i, depth = 0;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '\\' && i + 1 < len) {
			i++;
		} else if (c == '{' || c == '[' || c == '<') {
			depth++;
		} else if ((c == '}' || c == ']' || c == '>') && depth) {
			depth--;
		} else if (!depth && c == '|') {
			*seplen = 1;
			return i;
		} else if (!depth && i + 3 <= len && !memcmp(s + i, ":_:", 3)) {
			*seplen = 3;
			return i;
		}
	}
	*seplen = 0;
	return len;
}

static char *dup_trim(const char *s, size_t len)
{
	char *out;

	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	out = mem_alloc(len + 1, NULL);
	if (!out)
		return NULL;
	memcpy(out, s, len);
	out[len] = '\0';
	return out;
}

static int add_var(struct dial_var **vars, size_t *n, const char *s, size_t len)
{
	const char *eq = memchr(s, '=', len);
	struct dial_var *nv;
	char *name, *value, *w;
	size_t i;

	if (!eq || eq == s)
		return len ? EINVAL : 0;
	name = dup_trim(s, (size_t)(eq - s));
	value = dup_trim(eq + 1, len - (size_t)(eq - s) - 1);
	nv = realloc(*vars, (*n + 1) * sizeof(**vars));
	if (!name || !value || !nv) {
		mem_deref(name);
		mem_deref(value);
		if (nv)
			*vars = nv;
		return ENOMEM;
	}
	/* Drop the escaping backslashes of "\,". */
	for (i = 0, w = value; value[i]; i++) {
		if (value[i] == '\\' && value[i + 1])
			i++;
		*w++ = value[i];
	}
	*w = '\0';
	*vars = nv;
	nv[*n].name = name;
	nv[(*n)++].value = value;
	return 0;
}

/* The body of a {} or [] block into variables. */
static int parse_vars(struct dial_var **vars, size_t *n, const char *s, size_t len)
{
	char sep = ',';
	int err = 0;

	if (len >= 3 && s[0] == '^' && s[1] == '^') {
		sep = s[2];
		s += 3;
		len -= 3;
	}
	while (len && !err) {
		size_t cut = top_level(s, len, sep);

		err = add_var(vars, n, s, cut);
		if (cut == len)
			break;
		s += cut + 1;
		len -= cut + 1;
	}
	return err;
}

/* A leading {..}, [..] or <..> block: its length including brackets, or 0. */
static size_t block(const char *s, size_t len, char open, char close)
{
	size_t i, depth = 0;

	if (!len || s[0] != open)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		else if (s[i] == open)
			depth++;
		else if (s[i] == close && --depth == 0)
			return i + 1;
	}
	return 0;
}

static void leg_free(struct dial_leg *leg)
{
	size_t i;

	for (i = 0; i < leg->nvars; i++) {
		mem_deref(leg->vars[i].name);
		mem_deref(leg->vars[i].value);
	}
	free(leg->vars);
	mem_deref(leg->target);
}

static void ds_destructor(void *data)
{
	struct dialstring *ds = data;
	size_t g, l;

	for (g = 0; g < ds->ngroups; g++) {
		for (l = 0; l < ds->groups[g].nlegs; l++)
			leg_free(&ds->groups[g].legs[l]);
		free(ds->groups[g].legs);
	}
	free(ds->groups);
}

static int copy_vars(struct dial_leg *leg, const struct dial_var *vars, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct dial_var *nv = realloc(leg->vars, (leg->nvars + 1) * sizeof(*nv));

		if (!nv)
			return ENOMEM;
		leg->vars = nv;
		nv[leg->nvars].name = NULL;
		nv[leg->nvars].value = NULL;
		if (str_dup(&nv[leg->nvars].name, vars[i].name) ||
		    str_dup(&nv[leg->nvars].value, vars[i].value)) {
			leg->nvars++;
			return ENOMEM;
		}
		leg->nvars++;
	}
	return 0;
}

static int parse_leg(struct dial_group *grp, const char *s, size_t len,
		     const struct dial_var *gvars, size_t ngvars)
{
	struct dial_leg *nl, *leg;
	size_t b;
	int err;

	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	nl = realloc(grp->legs, (grp->nlegs + 1) * sizeof(*nl));
	if (!nl)
		return ENOMEM;
	grp->legs = nl;
	leg = &nl[grp->nlegs++];
	memset(leg, 0, sizeof(*leg));
	err = copy_vars(leg, gvars, ngvars);
	if (!err && (b = block(s, len, '[', ']'))) {
		err = parse_vars(&leg->vars, &leg->nvars, s + 1, b - 2);
		s += b;
		len -= b;
	}
	if (err)
		return err;
	leg->target = dup_trim(s, len);
	if (!leg->target)
		return ENOMEM;
	/* A target needs an endpoint and something after its slash; a bracket left
	 * in it means an unterminated variable block. */
	if (!strchr(leg->target, '/') || leg->target[0] == '/' ||
	    strpbrk(leg->target, "{}[]<>"))
		return EINVAL;
	return 0;
}

static int parse_group(struct dialstring *ds, const char *s, size_t len,
		       struct dial_var **gvars, size_t *ngvars)
{
	struct dial_group *ng;
	size_t b;
	int err = 0;

	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	/* Enterprise <..> variables are treated like {..} ones. */
	while ((b = block(s, len, '{', '}')) || (b = block(s, len, '<', '>'))) {
		err = parse_vars(gvars, ngvars, s + 1, b - 2);
		if (err)
			return err;
		s += b;
		len -= b;
	}
	ng = realloc(ds->groups, (ds->ngroups + 1) * sizeof(*ng));
	if (!ng)
		return ENOMEM;
	ds->groups = ng;
	memset(&ng[ds->ngroups], 0, sizeof(*ng));
	ds->ngroups++;
	while (!err) {
		size_t cut = top_level(s, len, ',');

		err = parse_leg(&ng[ds->ngroups - 1], s, cut, *gvars, *ngvars);
		if (cut == len)
			break;
		s += cut + 1;
		len -= cut + 1;
	}
	return err;
}

int dialstring_parse(struct dialstring **dsp, const char *s)
{
	struct dialstring *ds;
	struct dial_var *gvars = NULL;
	size_t ngvars = 0, len, i;
	int err = 0;

	if (!dsp || !s)
		return EINVAL;
	ds = mem_zalloc(sizeof(*ds), ds_destructor);
	if (!ds)
		return ENOMEM;
	len = strlen(s);
	while (!err) {
		size_t seplen;
		size_t cut = group_end(s, len, &seplen);

		err = parse_group(ds, s, cut, &gvars, &ngvars);
		if (cut == len)
			break;
		s += cut + seplen;
		len -= cut + seplen;
	}
	for (i = 0; i < ngvars; i++) {
		mem_deref(gvars[i].name);
		mem_deref(gvars[i].value);
	}
	free(gvars);
	if (!err && !ds->ngroups)
		err = EINVAL;
	if (err) {
		mem_deref(ds);
		return err;
	}
	*dsp = ds;
	return 0;
}

const char *dial_leg_var(const struct dial_leg *leg, const char *name)
{
	size_t i = leg->nvars;

	while (i--) {
		if (!strcmp(leg->vars[i].name, name))
			return leg->vars[i].value;
	}
	return NULL;
}
