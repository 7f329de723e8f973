/*
 * core_cfg.c - reads switch.conf into the core's settings, with FreeSWITCH's
 * names and defaults; what confab does not implement yet is named once and
 * ignored, never fatal.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/config.h"
#include "core/core_cfg.h"

struct ctx {
	struct core_cfg *cc;
	char *err;
	size_t errsz;
	int rc;
};

static int parse_uint(const char *v, unsigned max, unsigned *out)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);

	if (!*v || *end || n > max)
		return EINVAL;
	*out = (unsigned)n;
	return 0;
}

static void param(const char *name, const char *value, const struct xml_node *n, void *arg)
{
	struct ctx *ctx = arg;
	struct core_cfg *cc = ctx->cc;
	unsigned *target = NULL;

	if (!strcmp(name, "loglevel")) {
		if (log_level_parse(value, &cc->loglevel)) {
			snprintf(ctx->err, ctx->errsz, "%s:%u: loglevel '%s' is not a log level",
				 n->file, n->line, value);
			ctx->rc = EINVAL;
		}
		return;
	}
	if (!strcmp(name, "rtp-start-port") || !strcmp(name, "rtp-end-port")) {
		unsigned port;

		if (parse_uint(value, 65535, &port) || port < 1024) {
			snprintf(ctx->err, ctx->errsz, "%s:%u: %s '%s' must be a port "
				 "from 1024 to 65535", n->file, n->line, name, value);
			ctx->rc = EINVAL;
			return;
		}
		*(name[4] == 's' ? &cc->media.rtp_start : &cc->media.rtp_end) =
			(uint16_t)port;
		return;
	}
	if (!strcmp(name, "media-workers"))
		target = &cc->media.workers;
	else if (!strcmp(name, "media-timeout"))
		target = &cc->media.media_timeout_ms;
	else if (!strcmp(name, "max-sessions"))
		target = &cc->status.max_sessions;
	else if (!strcmp(name, "sessions-per-second"))
		target = &cc->status.sessions_per_second;
	else if (!strcmp(name, "event-heartbeat-interval"))
		target = &cc->status.heartbeat_interval;
	else if (!strcmp(name, "min-idle-cpu")) {
		cc->status.min_idle_cpu = atof(value);
		return;
	}
	if (!target) {
		log_notice("%s:%u: switch.conf parameter '%s' ignored\n", n->file, n->line, name);
		return;
	}
	if (parse_uint(value, 1000000, target)) {
		snprintf(ctx->err, ctx->errsz, "%s:%u: %s '%s' is not a number", n->file,
			 n->line, name, value);
		ctx->rc = EINVAL;
	}
}

int core_cfg_load(struct core_cfg *cc, const struct config *cfg, char *err, size_t errsz)
{
	struct ctx ctx = {cc, err, errsz, 0};

	memset(cc, 0, sizeof(*cc));
	cc->loglevel = LOGL_INFO;
	cc->status.max_sessions = 1000;
	cc->status.sessions_per_second = 30;
	cc->status.heartbeat_interval = 20;
	cc->media.rtp_start = 16384;
	cc->media.rtp_end = 32767;
	cc->media.media_timeout_ms = 0;
	config_params(xml_child(config_module(cfg, "switch.conf"), "settings"), param, &ctx);
	if (!ctx.rc && cc->media.rtp_start + 2 > cc->media.rtp_end) {
		snprintf(err, errsz, "switch.conf: rtp-start-port %u must be below "
			 "rtp-end-port %u", cc->media.rtp_start, cc->media.rtp_end);
		ctx.rc = EINVAL;
	}
	return ctx.rc;
}
