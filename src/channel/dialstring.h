/*
 * dialstring.h - FreeSWITCH dial strings (spec/core.md 1):
 *   {vars for every leg}[vars for one leg]endpoint/args,other|fallback
 * "," rings legs at once, "|" tries the next group when a whole group failed.
 * `{^^:a=1:b=2}` switches the variable separator; "\," is a literal comma.
 */
#ifndef CONFAB_DIALSTRING_H
#define CONFAB_DIALSTRING_H

#include <stddef.h>

struct dial_var {
	char *name;
	char *value;
};

struct dial_leg {
	struct dial_var *vars;     /* {} then [] (later ones win when applied in order) */
	size_t nvars;
	char *target;              /* "user/1000@example.com" */
};

struct dial_group {
	struct dial_leg *legs;     /* rung at the same time */
	size_t nlegs;
};

struct dialstring {
	struct dial_group *groups; /* tried in order */
	size_t ngroups;
};

/* Parse; EINVAL for an empty or malformed string. Free with mem_deref. */
int  dialstring_parse(struct dialstring **dsp, const char *s);
/* Last value of `name` among a leg's variables, or NULL. */
const char *dial_leg_var(const struct dial_leg *leg, const char *name);

#endif
