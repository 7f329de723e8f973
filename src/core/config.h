/*
 * config.h - the FreeSWITCH-style XML configuration tree: the root file with its
 * X-PRE-PROCESS directives (include with globs, set, env-set, exec-set), $${var}
 * expansion, and lookup of sections such as <configuration name="x.conf">.
 * Signalling thread only.
 */
#ifndef CONFAB_CONFIG_H
#define CONFAB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

/* One element of the loaded tree. Read-only for users of the tree. */
struct xml_node {
	char *name;
	char **attrs;               /* name, value, name, value, ..., NULL */
	char *text;                 /* character data, "" when none */
	struct xml_node *parent;
	struct xml_node *child;     /* first child */
	struct xml_node *next;      /* next sibling */
	const char *file;           /* file this element came from (after includes) */
	unsigned line;
};

/* A loaded configuration; reference-counted with mem_ref/mem_deref. */
struct config;

/*
 * Load DIR/confab.xml, or DIR/freeswitch.xml when that is absent, running the
 * preprocessor. On failure returns an errno value and writes "file:line: problem"
 * into err (always NUL-terminated).
 */
int  config_load(struct config **cfgp, const char *dir, char *err, size_t errsz);

/* Parse one XML document from memory, no preprocessing (tests, fuzzing). */
int  config_parse_buf(struct config **cfgp, const char *buf, size_t len,
		      const char *name, char *err, size_t errsz);

const struct xml_node *config_root(const struct config *cfg);
const char *config_dir(const struct config *cfg);

/*
 * <section name="configuration"> ... <configuration name="event_socket.conf">:
 * config_module(cfg, "event_socket.conf"). Also accepts a file whose root is the
 * <configuration> element itself. NULL when absent.
 */
const struct xml_node *config_module(const struct config *cfg, const char *name);
/* <section name="dialplan">, "directory" ... NULL when absent. */
const struct xml_node *config_section(const struct config *cfg, const char *name);

/* The process-wide current configuration (what reloadxml replaces). */
void config_set_current(struct config *cfg);      /* takes a reference */
struct config *config_current(void);              /* borrowed; may be NULL */
/*
 * Reload from the current directory; on a parse error keeps the old tree. After
 * a successful parse every reload hook runs, in registration order, with the
 * new tree; a hook that fails keeps its own previous state and its error is
 * returned (the first one), the others still run.
 */
int  config_reload(char *err, size_t errsz);

typedef int (config_reload_h)(const struct config *cfg, char *err, size_t errsz);
int  config_on_reload(config_reload_h *h);
void config_reload_hooks_clear(void);

/* DOM helpers; all accept NULL and then return NULL. */
const char *xml_attr(const struct xml_node *n, const char *name);
const struct xml_node *xml_child(const struct xml_node *n, const char *name);
/* Next sibling with the same element name. */
const struct xml_node *xml_next(const struct xml_node *n);
/* First child `name` whose attribute `attr` equals `value`. */
const struct xml_node *xml_child_by_attr(const struct xml_node *n, const char *name,
					 const char *attr, const char *value);

/* Iterate <param name=".." value=".."/> children of `n` (typically <settings>). */
typedef void (config_param_h)(const char *name, const char *value,
			      const struct xml_node *node, void *arg);
void config_params(const struct xml_node *n, config_param_h *h, void *arg);

/* Boolean values as FreeSWITCH reads them: true/yes/on/enabled/active/allow/1. */
bool config_true(const char *v);

#endif
