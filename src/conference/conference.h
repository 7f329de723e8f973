/*
 * conference.h - mod_conference-compatible rooms: the `conference` and
 * `conference_set_auto_outcall` applications, the `conference` API command and
 * conference::maintenance events, configured by autoload_configs/
 * conference.conf.xml (profiles and caller-controls). Signalling thread only.
 */
#ifndef CONFAB_CONFERENCE_H
#define CONFAB_CONFERENCE_H

#include <stddef.h>

struct config;

/*
 * Load conference.conf and register the applications and the API command.
 * A bad profile or control fails with "file:line: problem" in err.
 */
int  conference_init(const struct config *cfg, char *err, size_t errsz);
/* Every room ends (its members leave), pending outcalls are cancelled. */
void conference_close(void);

#endif
