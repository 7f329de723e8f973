/*
 * esl.h - the inbound event socket (FreeSWITCH's mod_event_socket protocol),
 * configured from autoload_configs/event_socket.conf.xml. Signalling thread only.
 */
#ifndef CONFAB_ESL_H
#define CONFAB_ESL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

#define ESL_MAX_ACLS 100

struct esl_cfg {
	char listen_ip[64];          /* listen-ip, default 127.0.0.1 */
	uint16_t listen_port;        /* listen-port, default 8021 */
	char password[256];          /* password, default ClueCon */
	char *acls[ESL_MAX_ACLS];    /* apply-inbound-acl, default loopback.auto */
	size_t nacls;
	bool stop_on_bind_error;
	size_t queue_size;           /* event-queue-size: events queued per client */
	unsigned auth_timeout;       /* seconds to authenticate (25) */
};

/*
 * Read the event_socket.conf section (defaults where absent) and check it: a
 * non-loopback listen-ip with the default or an empty password is refused.
 * Errors are written to err.
 */
int  esl_cfg_load(struct esl_cfg *cfg, const struct config *conf, char *err,
		  size_t errsz);
void esl_cfg_reset(struct esl_cfg *cfg);

/* Takes over cfg's strings (cfg is left without ACLs). */
int  esl_start(struct esl_cfg *cfg);
/* Tell every client the system is shutting down and close the listener. */
void esl_stop(void);

/* Clients connected now (status, tests). */
size_t esl_client_count(void);

#endif
