/*
 * dialplan_fuzz.c - fuzz target for the dialplan compiler (regular expressions,
 * break/regex/time attributes, actions) and, for what compiles, the hunter
 * against a synthetic channel: matching, captures, substitution, inline actions.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <re.h>
#include "channel/channel.h"
#include "core/api.h"
#include "core/config.h"
#include "core/log.h"
#include "core/vars.h"
#include "dialplan/app.h"
#include "dialplan/dialplan.h"
#include "event/bus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct channel_ops fuzz_ops = {.source = "mod_fuzz"};

/* The registries the hunter touches, once per process. */
static void setup(void)
{
	static bool done;
	struct config *empty = NULL;
	char err[256];

	if (done)
		return;
	done = true;
	libre_init();
	log_set_console(false);
	vars_init();
	api_init();
	bus_init();
	channel_init();
	app_init();
	/* Registers export, log, event ... so inline actions really run. */
	if (!config_parse_buf(&empty, "<document/>", 11, "empty.xml", err, sizeof(err)))
		dialplan_init(empty, err, sizeof(err));
	mem_deref(empty);
}

static void hunt(struct dialplan *dp, const char *context, const char *dest)
{
	struct channel *ch = NULL;
	char *text = NULL;

	if (channel_alloc(&ch, &fuzz_ops, NULL, CHANNEL_INBOUND, "fuzz/1", NULL))
		return;
	channel_profile_set(&channel_profile(ch)->destination_number, dest);
	channel_profile_set(&channel_profile(ch)->caller_id_number, "1000");
	channel_var_set(ch, "domain_name", "example.com");
	dialplan_hunt_text(dp, ch, context, NULL, &text);
	mem_deref(text);
	channel_hangup(ch, CAUSE_NORMAL_CLEARING);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL;
	struct dialplan *dp = NULL;
	char err[512];

	setup();
	/* parse_buf runs no preprocessor: no include, no exec. */
	if (config_parse_buf(&cfg, (const char *)data, size, "fuzz.xml", err, sizeof(err)))
		return 0;
	if (!dialplan_compile(&dp, cfg, err, sizeof(err))) {
		hunt(dp, "default", "1000");
		hunt(dp, "default", "9196");
		hunt(dp, "public", "5551234");
		mem_deref(dp);
	}
	mem_deref(cfg);
	return 0;
}
