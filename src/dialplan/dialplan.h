/*
 * dialplan.h - the XML dialplan (FreeSWITCH's mod_dialplan_xml, spec/core.md 5):
 * <section name="dialplan"> compiled once per (re)load, the router that hunts
 * an extension for every channel entering CS_ROUTING, and the execution of the
 * actions it collected. Also registers the flow applications (transfer,
 * execute_extension, export, unset, set_global, log, info, event, sched_hangup,
 * respond, eval). Signalling thread only.
 */
#ifndef CONFAB_DIALPLAN_H
#define CONFAB_DIALPLAN_H

#include <stddef.h>

struct config;
struct channel;

/*
 * A compiled dialplan: contexts, extensions, conditions with their regular
 * expressions compiled, actions checked. Reference-counted (mem_ref/mem_deref);
 * a routing pass keeps the one it hunted in until its actions are done, so a
 * reload never pulls strings from under a running call.
 */
struct dialplan;

/*
 * Compile the <section name="dialplan"> of `cfg` (an absent section is an empty
 * dialplan). On failure returns an errno value and writes "file:line: problem"
 * into err (always NUL-terminated): a regular expression that does not compile,
 * an unknown break or regex value, an action without application, an inline
 * action of an application that cannot run inline, a bad time condition.
 */
int  dialplan_compile(struct dialplan **dpp, const struct config *cfg, char *err,
		      size_t errsz);
size_t dialplan_context_count(const struct dialplan *dp);
size_t dialplan_extension_count(const struct dialplan *dp);

/*
 * Start: compile `cfg`, register the applications and route inbound channels
 * through the dialplan (channel_set_router). Call after channel_init() and
 * app_init(), before traffic.
 */
int  dialplan_init(const struct config *cfg, char *err, size_t errsz);

/*
 * The reloadxml hook (config_on_reload(dialplan_reload)): compile `cfg` and
 * swap it in if it compiles; otherwise keep the current one and say why in err.
 * Channels already executing keep the dialplan they were routed with; the next
 * routing (a transfer, a new call) uses the new one. Reloading the same
 * configuration object again is a no-op; before dialplan_init() or after
 * dialplan_close() it does nothing.
 */
int  dialplan_reload(const struct config *cfg, char *err, size_t errsz);

/* Stop routing (channels park again), drop the dialplan and pending runs. */
void dialplan_close(void);

/* The dialplan new routing passes use (borrowed; NULL before init). */
struct dialplan *dialplan_current(void);

/*
 * Hunt `exten` in `context` for `ch` (NULL context/exten: the channel's caller
 * profile) without executing anything but inline actions, and describe the
 * result as "app(data)\n" lines with $N captures substituted (${vars} are left
 * for execution). ENOENT when no extension matched. For tests and diagnostics.
 */
int  dialplan_hunt_text(struct dialplan *dp, struct channel *ch, const char *context,
			const char *exten, char **textp);

#endif
