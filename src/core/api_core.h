/*
 * api_core.h - the core's own API commands: help, show, hostname, global_getvar,
 * global_setvar, eval, echo and reloadxml. Signalling thread only.
 */
#ifndef CONFAB_API_CORE_H
#define CONFAB_API_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include "core/api.h"

int api_core_init(void);

/*
 * `eval uuid:<uuid> <text>` expands with that channel's variables: the channel
 * module provides the expansion (ENOENT: no such channel, then the globals).
 */
typedef int (api_uuid_expand_h)(const char *uuid, const char *in, char **outp);
void api_core_set_uuid_expand(api_uuid_expand_h *h);

/* How `show <table>` was asked for: delimited text (default), JSON or XML. */
enum show_fmt { SHOW_DELIM, SHOW_JSON, SHOW_XML };

struct show_req {
	enum show_fmt fmt;
	const char *delim;           /* SHOW_DELIM separator, "," by default */
	bool count;                  /* `show x count`: only "\n<N> total.\n" */
};

/*
 * A subsystem's table for `show <what>` (channels, calls, registrations). The
 * handler gathers its rows and prints them with api_show_table().
 */
typedef int (show_h)(struct api_call *call, const struct show_req *req);
int  api_show_register(const char *what, show_h *h);
void api_show_unregister(const char *what);

/*
 * Print `nrows` rows of `ncols` cells (row-major, NULL cells print empty) in
 * FreeSWITCH's formats (spec/core.md 4).
 */
int  api_show_table(struct api_call *call, const struct show_req *req,
		    const char *const *cols, size_t ncols, const char *const *cells,
		    size_t nrows);

#endif
