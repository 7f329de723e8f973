/*
 * esl_outbound.h - the `socket` application (outbound event socket).
 * Signalling thread only.
 */
#ifndef CONFAB_ESL_OUTBOUND_H
#define CONFAB_ESL_OUTBOUND_H

/* Register the socket application; call after app_init(). */
int esl_outbound_init(void);

#endif
