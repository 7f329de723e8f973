/*
 * conference_cfg_fuzz.c - fuzz target for conference.conf: the XML parser,
 * then the profile and caller-controls loader with its typed parameters.
 */
#include <stddef.h>
#include <stdint.h>
#include <re.h>
#include "core/config.h"
#include "conference/conf_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL;
	struct conf_cfg *cc = NULL;
	struct le *le;
	char err[256];
	size_t n = 0;

	if (config_parse_buf(&cfg, (const char *)data, size, "fuzz.xml", err, sizeof(err)))
		return 0;
	if (!conf_cfg_load(&cc, cfg, err, sizeof(err))) {
		/* Touch what was loaded so ASan sees any half-built profile. */
		for (le = list_head(&cc->profiles); le; le = le->next) {
			struct conf_profile *p = le->data;

			n += p->rate + p->energy_level + (conf_param(p, "pin") != NULL);
			n += conf_profile_find(cc, p->name) == p;
		}
		for (le = list_head(&cc->groups); le; le = le->next)
			n += list_count(&((struct conf_group *)le->data)->controls);
		(void)n;
		mem_deref(cc);
	}
	mem_deref(cfg);
	return 0;
}
