/*
 * test_conference.c - conference.conf loading: profiles with their typed
 * parameters, caller-control groups, and the errors a bad file gets (file,
 * line and parameter).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <re.h>
#include "check.h"
#include "core/config.h"
#include "conference/conf_int.h"

#define HEAD "<document type=\"freeswitch/xml\"><section name=\"configuration\">" \
	"<configuration name=\"conference.conf\">\n"
#define TAIL "</configuration></section></document>"

static char err[512];

static int load(const char *xml, struct conf_cfg **ccp)
{
	struct config *cfg = NULL;
	int rc;

	err[0] = '\0';
	rc = config_parse_buf(&cfg, xml, strlen(xml), "c.xml", err, sizeof(err));
	if (!rc)
		rc = conf_cfg_load(ccp, cfg, err, sizeof(err));
	mem_deref(cfg);
	return rc;
}

static void test_profiles(void)
{
	static const char xml[] = HEAD
		"<profiles>\n"
		"<profile name=\"default\">\n"
		"<param name=\"Energy_Level\" value=\"300\"/>\n"
		"<param name=\"comfort-noise\" value=\"true\"/>\n"
		"<param name=\"max-members\" value=\"1\"/>\n"
		"<param name=\"rate\" value=\"16000\"/>\n"
		"<param name=\"alone-sound\" value=\"conference/conf-alone.wav\"/>\n"
		"<param name=\"pin\" value=\"\"/>\n"
		"</profile>\n"
		"<profile name=\"Big\"><param name=\"max-talkers\" value=\"8\"/>"
		"<param name=\"comfort-noise\" value=\"700\"/></profile>\n"
		"</profiles>\n"
		"<caller-controls><group name=\"default\">\n"
		"<control action=\"mute\" digits=\"0\"/>\n"
		"<control action=\"Vol Talk Up\" digits=\"*3\"/>\n"
		"<control action=\"execute_application\" digits=\"#9\" data=\"playback x.wav\"/>\n"
		"</group></caller-controls>\n" TAIL;
	struct conf_cfg *cc = NULL;
	struct conf_profile *p;
	struct conf_group *g;
	struct conf_control *c;

	CHECK_INT(load(xml, &cc), 0);
	if (!cc)
		return;
	p = conf_profile_find(cc, "DEFAULT");
	CHECK(p != NULL);
	if (p) {
		CHECK_INT(p->energy_level, 300);       /* name case and '_' normalised */
		CHECK_INT(p->comfort_noise, 1400);
		CHECK_INT(p->max_members, 0);          /* 1 is FreeSWITCH's "unlimited" */
		CHECK_INT(p->rate, 16000);
		CHECK_INT(p->interval, 20);
		CHECK_INT(p->pin_retries, 3);
		CHECK_STR(conf_param(p, "alone-sound"), "conference/conf-alone.wav");
		CHECK(conf_param(p, "pin") == NULL);   /* empty values are ignored */
	}
	p = conf_profile_find(cc, "big");
	CHECK(p && p->max_talkers == 8 && p->comfort_noise == 700);
	CHECK(conf_profile_find(cc, "nope") == NULL);
	CHECK(conf_param(NULL, "rate") == NULL);
	g = conf_group_find(cc, "default");
	CHECK(g && list_count(&g->controls) == 3);
	if (g && list_count(&g->controls) == 3) {
		c = list_ledata(list_head(&g->controls)->next);
		CHECK_STR(c->action, "vol talk up");
		CHECK_STR(c->digits, "*3");
		c = list_ledata(list_tail(&g->controls));
		CHECK_STR(c->action, "execute_application");
		CHECK_STR(c->data, "playback x.wav");
	}
	mem_deref(cc);
}

static void expect_error(const char *body, const char *want)
{
	char xml[1024];
	struct conf_cfg *cc = NULL;

	snprintf(xml, sizeof(xml), "%s%s%s", HEAD, body, TAIL);
	CHECK_INT(load(xml, &cc), EINVAL);
	CHECK(cc == NULL);
	mem_deref(cc);
	if (!strstr(err, want))
		fprintf(stderr, "error text: [%s], wanted [%s]\n", err, want);
	CHECK(strstr(err, want) != NULL);
}

static void test_errors(void)
{
	expect_error("<profiles>\n<profile name=\"x\">\n<param name=\"rate\" value=\"9000\"/>"
		     "</profile></profiles>", "c.xml:4: conference profile x: bad rate \"9000\"");
	expect_error("<profiles><profile name=\"x\">\n\n<param name=\"energy-level\" "
		     "value=\"-5\"/></profile></profiles>", ":4: conference profile x: bad "
		     "energy-level \"-5\"");
	expect_error("<profiles><profile name=\"x\"><param name=\"energy-level\" "
		     "value=\"5000\"/></profile></profiles>", "bad energy-level \"5000\"");
	expect_error("<profiles><profile name=\"x\"><param name=\"interval\" "
		     "value=\"25\"/></profile></profiles>", "bad interval \"25\"");
	/* FreeSWITCH takes these; the mixer does not (docs/conference.md). */
	expect_error("<profiles>\n<profile name=\"x\">\n\n<param name=\"rate\" value=\"44100\"/>"
		     "</profile></profiles>", "c.xml:5: conference profile x: rate \"44100\" is "
		     "not supported (only 8000, 16000, 24000, 32000 or 48000)");
	expect_error("<profiles><profile name=\"x\"><param name=\"rate\" value=\"12000\"/>"
		     "</profile></profiles>", "rate \"12000\" is not supported");
	expect_error("<profiles>\n<profile name=\"x\"><param name=\"interval\" value=\"30\"/>"
		     "</profile></profiles>", "c.xml:3: conference profile x: interval \"30\" is "
		     "not supported (only 20)");
	expect_error("<profiles><profile name=\"x\"><param name=\"comfort-noise\" "
		     "value=\"1\"/></profile></profiles>", "bad comfort-noise \"1\"");
	expect_error("<profiles><profile name=\"x\"><param name=\"comfort-noise\" "
		     "value=\"loud\"/></profile></profiles>", "bad comfort-noise \"loud\"");
	expect_error("<profiles><profile><param name=\"rate\" value=\"8000\"/></profile>"
		     "</profiles>", "<profile> without a name");
	expect_error("<caller-controls><group name=\"g\">\n<control action=\"explode\" "
		     "digits=\"1\"/></group></caller-controls>",
		     ":3: conference caller-controls group g: bad control (action \"explode\"");
	expect_error("<caller-controls><group name=\"g\"><control action=\"mute\" "
		     "digits=\"1x\"/></group></caller-controls>", "digits \"1x\"");
}

int main(void)
{
	CHECK_INT(libre_init(), 0);
	test_profiles();
	test_errors();
	libre_close();
	return check_done();
}
