/*
 * acl.h - named network lists (acl.conf.xml <network-lists>) and the built-in
 * ones (loopback.auto, localnet.auto, rfc1918.auto, any_v4.auto, any_v6.auto),
 * as FreeSWITCH's apply-inbound-acl uses them. Signalling thread only.
 */
#ifndef CONFAB_ACL_H
#define CONFAB_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sa;
struct config;

/* One CIDR; `allow` is the node's verdict. */
struct acl_node {
	uint8_t addr[16];
	int af;
	unsigned bits;
	bool allow;
};

int  acl_init(const struct config *cfg);    /* (re)loads the named lists */
/* reloadxml hook: acl_init on the new tree, keeping the old lists on error. */
int  acl_reload(const struct config *cfg, char *err, size_t errsz);
void acl_close(void);

/* "10.0.0.0/8", "::1/128", "127.0.0.1" (a host) into a node. */
int  acl_parse_cidr(const char *s, struct acl_node *node);
bool acl_node_contains(const struct acl_node *node, const struct sa *addr);

/*
 * Does `list` (a list name, a built-in, or a literal CIDR) allow `addr`?
 * An unknown list name denies, and is logged.
 */
bool acl_check(const char *list, const struct sa *addr);
bool acl_list_exists(const char *list);

#endif
