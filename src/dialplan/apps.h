/*
 * apps.h - the built-in applications, registered by app_init().
 */
#ifndef CONFAB_APPS_H
#define CONFAB_APPS_H

int apps_basic_init(void);
int apps_media_init(void);     /* apps_media.c: playback, read, record ... */
int apps_speech_init(void);    /* apps_speech.c: speak, say, phrase */
int apps_meta_init(void);      /* apps_meta.c: bind_meta_app, unbind_meta_app */
void apps_meta_close(void);

#endif
