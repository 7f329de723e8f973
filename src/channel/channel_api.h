/*
 * channel_api.h - registers the channel API commands (originate, uuid_*,
 * hupall) and the `show channels` / `show calls` tables.
 */
#ifndef CONFAB_CHANNEL_API_H
#define CONFAB_CHANNEL_API_H

int channel_api_init(void);
int channel_show_init(void);   /* channel_show.c */

#endif
