/*
 * sip_ep.h - the SIP endpoint (FreeSWITCH's mod_sofia for confab): sofia.conf
 * profiles with UDP and TCP listeners, the registrar and directory users,
 * inbound and outbound calls as channels, gateways, and the `sofia`,
 * `sofia_contact` and `show registrations` commands. See docs/sip.md.
 *
 * Signalling thread only.
 */
#ifndef CONFAB_SIP_EP_H
#define CONFAB_SIP_EP_H

#include <stddef.h>

struct config;

/*
 * Read sofia.conf from `cfg`, start every profile and gateway, and register the
 * "sofia" and "user" dial-string endpoints and the API commands. Call after
 * channel_init(), api_core_init() and media_init(). On failure nothing is left
 * running, `err` says why (always NUL-terminated) and the return value is an
 * errno value: EPERM when a profile would listen beyond loopback while the
 * directory's default_password is still "1234", EINVAL for a bad parameter,
 * EADDRINUSE and friends when a socket cannot be bound.
 */
int  sipep_init(const struct config *cfg, char *err, size_t errsz);

/* Hang up nothing (channel_close() did), unregister gateways, close sockets. */
void sipep_close(void);

#endif
