/*
 * acl.c - CIDR matching and the named network lists of acl.conf.xml plus
 * FreeSWITCH's built-in lists. The most specific matching node decides.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <re.h>
#include "core/acl.h"
#include "core/config.h"
#include "core/log.h"

struct acl_list {
	struct le le;
	char *name;
	bool default_allow;
	struct acl_node *nodes;
	size_t n;
};

static struct list lists;

int acl_parse_cidr(const char *s, struct acl_node *node)
{
	char addr[64];
	const char *slash;
	size_t n;
	char *end;
	long bits;

	if (!s || !node)
		return EINVAL;
	slash = strchr(s, '/');
	n = slash ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(addr))
		return EINVAL;
	memcpy(addr, s, n);
	addr[n] = '\0';
	memset(node, 0, sizeof(*node));
	if (inet_pton(AF_INET, addr, node->addr) == 1)
		node->af = AF_INET;
	else if (inet_pton(AF_INET6, addr, node->addr) == 1)
		node->af = AF_INET6;
	else
		return EINVAL;
	bits = node->af == AF_INET ? 32 : 128;
	if (slash) {
		long max = bits;

		bits = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1 || bits < 0 || bits > max)
			return EINVAL;
	}
	node->bits = (unsigned)bits;
	node->allow = true;
	return 0;
}

bool acl_node_contains(const struct acl_node *node, const struct sa *addr)
{
	uint8_t a[16];
	unsigned full, rest;
	int af = sa_af(addr);

	if (af == AF_INET6) {
		sa_in6(addr, a);
		/* An IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d. */
		if (node->af == AF_INET && IN6_IS_ADDR_V4MAPPED((struct in6_addr *)a)) {
			memmove(a, a + 12, 4);
			af = AF_INET;
		}
	} else if (af == AF_INET) {
		uint32_t v = htonl(sa_in(addr));

		memcpy(a, &v, 4);
	}
	if (af != node->af)
		return false;
	full = node->bits / 8;
	rest = node->bits % 8;
	if (memcmp(a, node->addr, full))
		return false;
	return !rest || ((a[full] ^ node->addr[full]) & (0xff << (8 - rest))) == 0;
}

static bool nodes_check(const struct acl_node *nodes, size_t n, bool dflt,
			const struct sa *addr)
{
	const struct acl_node *best = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		/* Most specific wins; among equals the later one, as FreeSWITCH does. */
		if (acl_node_contains(&nodes[i], addr) && (!best || nodes[i].bits >= best->bits))
			best = &nodes[i];
	}
	return best ? best->allow : dflt;
}

static bool localnet_check(const struct sa *addr)
{
	struct ifaddrs *ifa, *i;
	bool ok = false;

	if (getifaddrs(&ifa))
		return false;
	for (i = ifa; i && !ok; i = i->ifa_next) {
		struct acl_node node = {.allow = true};
		struct sa a, m;
		unsigned bits = 0, k;
		uint8_t mask[16];

		if (!(i->ifa_flags & IFF_UP) || !i->ifa_addr || !i->ifa_netmask ||
		    sa_set_sa(&a, i->ifa_addr) ||
		    sa_set_sa(&m, i->ifa_netmask) || sa_is_loopback(&a))
			continue;
		node.af = sa_af(&a);
		if (node.af == AF_INET) {
			uint32_t v = htonl(sa_in(&a)), mv = htonl(sa_in(&m));

			memcpy(node.addr, &v, 4);
			memcpy(mask, &mv, 4);
		} else {
			sa_in6(&a, node.addr);
			sa_in6(&m, mask);
		}
		for (k = 0; k < (node.af == AF_INET ? 4u : 16u); k++)
			bits += (unsigned)__builtin_popcount(mask[k]);
		node.bits = bits;
		ok = acl_node_contains(&node, addr);
	}
	freeifaddrs(ifa);
	return ok;
}

static bool builtin_check(const char *name, const struct sa *addr, bool *known)
{
	static const struct { const char *name; const char *cidrs[4]; } builtins[] = {
		{"loopback.auto", {"127.0.0.0/8", "::1/128"}},
		{"rfc1918.auto", {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"}},
		{"any_v4.auto", {"0.0.0.0/0"}},
		{"any_v6.auto", {"::/0"}},
	};
	size_t i, j;

	*known = true;
	if (!strcasecmp(name, "localnet.auto"))
		return localnet_check(addr);
	for (i = 0; i < sizeof(builtins) / sizeof(*builtins); i++) {
		struct acl_node nodes[4];
		size_t n = 0;

		if (strcasecmp(name, builtins[i].name))
			continue;
		for (j = 0; j < 4 && builtins[i].cidrs[j]; j++)
			if (!acl_parse_cidr(builtins[i].cidrs[j], &nodes[n]))
				n++;
		return nodes_check(nodes, n, false, addr);
	}
	*known = false;
	return false;
}

static struct acl_list *find_list(const char *name)
{
	struct le *le;

	for (le = lists.head; le; le = le->next) {
		struct acl_list *l = le->data;

		if (!strcasecmp(l->name, name))
			return l;
	}
	return NULL;
}

bool acl_list_exists(const char *list)
{
	struct acl_node node;
	struct sa any;
	bool known;

	sa_init(&any, AF_INET);
	builtin_check(list, &any, &known);
	return known || find_list(list) || !acl_parse_cidr(list, &node);
}

bool acl_check(const char *list, const struct sa *addr)
{
	struct acl_list *l;
	struct acl_node node;
	bool known, ok;

	if (!list || !addr)
		return false;
	ok = builtin_check(list, addr, &known);
	if (known)
		return ok;
	l = find_list(list);
	if (l)
		return nodes_check(l->nodes, l->n, l->default_allow, addr);
	if (!acl_parse_cidr(list, &node))
		return acl_node_contains(&node, addr);
	log_warn("acl: unknown network list '%s' denies everyone\n", list);
	return false;
}

static void list_destructor(void *data)
{
	struct acl_list *l = data;

	list_unlink(&l->le);
	mem_deref(l->name);
	free(l->nodes);
}

static int load_list(struct list *dst, const struct xml_node *x)
{
	const char *name = xml_attr(x, "name"), *dflt = xml_attr(x, "default");
	const struct xml_node *n;
	struct acl_list *l;
	int err;

	if (!name) {
		log_err("%s:%u: <list> without a name\n", x->file, x->line);
		return EINVAL;
	}
	l = mem_zalloc(sizeof(*l), list_destructor);
	if (!l)
		return ENOMEM;
	list_append(dst, &l->le, l);
	l->default_allow = dflt && !strcasecmp(dflt, "allow");
	err = str_dup(&l->name, name);
	for (n = xml_child(x, "node"); n && !err; n = xml_next(n)) {
		const char *type = xml_attr(n, "type"), *cidr = xml_attr(n, "cidr");
		struct acl_node *nn = realloc(l->nodes, (l->n + 1) * sizeof(*nn));

		if (!nn)
			return ENOMEM;
		l->nodes = nn;
		if (!cidr || acl_parse_cidr(cidr, &l->nodes[l->n])) {
			/* Host/domain nodes need the directory; skipped until it exists. */
			log_warn("%s:%u: acl list '%s': node without a usable cidr ignored\n",
				 n->file, n->line, name);
			continue;
		}
		l->nodes[l->n++].allow = !type || strcasecmp(type, "deny");
	}
	return err;
}

static int load_lists(struct list *dst, const struct config *cfg)
{
	const struct xml_node *acl = config_module(cfg, "acl.conf");
	const struct xml_node *x;
	int err = 0;

	for (x = xml_child(xml_child(acl, "network-lists"), "list"); x && !err; x = xml_next(x))
		err = load_list(dst, x);
	return err;
}

int acl_init(const struct config *cfg)
{
	list_flush(&lists);
	return load_lists(&lists, cfg);
}

int acl_reload(const struct config *cfg, char *err, size_t errsz)
{
	struct list fresh = LIST_INIT;
	struct le *le;
	int e = load_lists(&fresh, cfg);

	if (e) {
		list_flush(&fresh);
		snprintf(err, errsz, "acl.conf: %s; keeping the previous lists", strerror(e));
		return e;
	}
	list_flush(&lists);
	while ((le = fresh.head)) {
		list_unlink(le);
		list_append(&lists, le, le->data);
	}
	return 0;
}

void acl_close(void)
{
	list_flush(&lists);
}
