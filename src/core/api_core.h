/*
 * api_core.h - the core's own API commands: help, show, hostname, global_getvar,
 * global_setvar, eval, echo and reloadxml. Signalling thread only.
 */
#ifndef CONFAB_API_CORE_H
#define CONFAB_API_CORE_H

int api_core_init(void);

#endif
