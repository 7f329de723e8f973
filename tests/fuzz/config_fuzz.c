/*
 * config_fuzz.c - fuzz target for the XML configuration parser (config_parse_buf)
 * and the lookups that walk the tree it builds.
 */
#include <stddef.h>
#include <stdint.h>
#include <re.h>
#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count_param(const char *name, const char *value, const struct xml_node *node,
			void *arg)
{
	(*(size_t *)arg)++;
}

/* Touches every node so ASan sees any dangling or half-built one. */
static size_t walk(const struct xml_node *n)
{
	size_t count = 0;

	for (; n; n = n->next) {
		count += n->name[0] + n->text[0] + (xml_attr(n, "name") != NULL);
		count += config_true(xml_attr(n, "value"));
		config_params(n, count_param, &count);
		count += walk(n->child);
	}
	return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL;
	char err[256];

	/* The preprocessor (include, exec) is never reached: parse_buf does none. */
	if (config_parse_buf(&cfg, (const char *)data, size, "fuzz.xml", err, sizeof(err)))
		return 0;
	walk(config_root(cfg));
	config_module(cfg, "event_socket.conf");
	config_section(cfg, "dialplan");
	xml_child_by_attr(config_section(cfg, "configuration"), "configuration", "name",
			  "switch.conf");
	mem_deref(cfg);
	return 0;
}
