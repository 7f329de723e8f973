/*
 * core_cfg.h - the core's own settings: switch.conf (loglevel, max-sessions,
 * sessions-per-second ...) read with FreeSWITCH's parameter names.
 */
#ifndef CONFAB_CORE_CFG_H
#define CONFAB_CORE_CFG_H

#include "core/log.h"
#include "core/status.h"
#include "media/media.h"

struct config;

struct core_cfg {
	enum log_level loglevel;
	struct status_cfg status;
	struct media_cfg media;
};

/* Defaults, then switch.conf <settings>; unknown parameters are logged once. */
int core_cfg_load(struct core_cfg *cc, const struct config *cfg, char *err, size_t errsz);

#endif
