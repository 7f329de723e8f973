/*
 * ivr.h - FreeSWITCH's IVR menus (switch_ivr_menu.c): menus with greetings,
 * digit bindings (literal or /regex/ with $1 in the parameter) and actions,
 * from <configuration name="ivr.conf"> or built by mod_lua's freeswitch.IVRMenu,
 * and the engine that runs one on a channel (the `ivr` application).
 * Signalling thread only.
 */
#ifndef CONFAB_IVR_H
#define CONFAB_IVR_H

#include <stddef.h>
#include "dialplan/app.h"

struct config;
struct xml_node;
struct channel;

/* A set of menus that may call each other by name; reference-counted. */
struct ivr_menus;
/* One menu, owned by its set. */
struct ivr_menu;

/* What an entry does (FreeSWITCH's menu-* action names). */
enum ivr_action { IVR_EXIT, IVR_SUB, IVR_APP, IVR_SOUND, IVR_BACK, IVR_TOP };

/*
 * A menu's settings, switch_ivr_menu_init's arguments and ivr.conf's
 * exec-on-max-failures / exec-on-max-timeouts ("<app> <args>", run when the
 * limit ends the menu). Zero or negative numbers take FreeSWITCH's defaults:
 * timeout 10000 ms, inter_timeout half the timeout, max_failures and
 * max_timeouts 3, confirm_attempts 3. NULL or "" strings: none.
 */
struct ivr_menu_opts {
	const char *name;
	const char *greet_long, *greet_short, *invalid_sound, *exit_sound;
	const char *transfer_sound, *confirm_macro, *confirm_key;
	const char *tts_engine, *tts_voice;
	int confirm_attempts, inter_timeout, digit_len, timeout;
	int max_failures, max_timeouts;
	const char *exec_on_max_failures, *exec_on_max_timeouts;
};

int  ivr_menus_alloc(struct ivr_menus **msp);
/* Add a menu to `ms` (a name already there: EEXIST). *mp may be NULL. */
int  ivr_menu_add(struct ivr_menu **mp, struct ivr_menus *ms, const struct ivr_menu_opts *o);
const struct ivr_menu *ivr_menu_find(const struct ivr_menus *ms, const char *name);
size_t ivr_menu_count(const struct ivr_menus *ms);
const char *ivr_menu_name(const struct ivr_menu *m);

/* "menu-exec-app" ... (case-insensitive); EINVAL when unknown. */
int  ivr_action_parse(enum ivr_action *ap, const char *name);

/*
 * Bind `digits` to `act` with `param`. Digits "/.../" are a regular
 * expression (err says why one does not compile: EINVAL); literal digits
 * longer than the menu's digit length raise it, as FreeSWITCH does.
 */
int  ivr_menu_bind(struct ivr_menu *m, enum ivr_action act, const char *param,
		   const char *digits, char *err, size_t errsz);

/*
 * The entry that `digits` select: the first in binding order that equals them
 * or whose expression matches; *paramp (mem_deref) is its parameter with $N
 * of the expression's captures substituted. ENOENT when none matches.
 */
int  ivr_menu_match(const struct ivr_menu *m, const char *digits, enum ivr_action *actp,
		    char **paramp);

/*
 * Compile the <menus> of an ivr.conf <configuration> element (NULL: no
 * menus). On failure an errno value and "file:line: problem" in err: a menu
 * without name or a duplicate one, a number that is not one, an entry with an
 * unknown action, without digits, with a regex that does not compile, or a
 * menu-sub naming no menu of the file.
 */
int  ivr_menus_compile(struct ivr_menus **msp, const struct xml_node *conf, char *err,
		       size_t errsz);

/*
 * The menus of autoload_configs/ivr.conf.xml, for the `ivr` application: load
 * at start, and the reloadxml hook (a bad file keeps the menus loaded before).
 */
int  ivr_load(const struct config *cfg, char *err, size_t errsz);
int  ivr_reload(const struct config *cfg, char *err, size_t errsz);
void ivr_close(void);
struct ivr_menus *ivr_current(void);   /* borrowed; NULL before ivr_load */

/* ivr_run.c: register the `ivr` application (app_init). */
int  apps_ivr_init(void);

/*
 * Run menu `name` of `ms` on `ch` as the `ivr` application does (the
 * execution fires CHANNEL_EXECUTE of "ivr"); `done` as app_execute's.
 */
int  ivr_menu_execute(struct channel *ch, struct ivr_menus *ms, const char *name,
		      app_done_h *done, void *arg);

#endif
