/*
 * test_ivr.c - IVR menus as data: ivr.conf compiled (the shipped example and
 * broken menus refused with file:line), FreeSWITCH's defaults, and which entry
 * some digits select (literal, /regex/ with $1, none).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "check.h"
#include "core/config.h"
#include "core/log.h"
#include "dialplan/ivr.h"
#include "dialplan/ivr_int.h"

#define SHIPPED "../../conf/autoload_configs/ivr.conf.xml"

static struct ivr_menus *compile(const char *xml, char *err, size_t errsz, int *rcp)
{
	struct config *cfg = NULL;
	struct ivr_menus *ms = NULL;
	int rc;

	err[0] = '\0';
	rc = config_parse_buf(&cfg, xml, strlen(xml), "ivr.conf.xml", err, errsz);
	if (!rc)
		rc = ivr_menus_compile(&ms, config_module(cfg, "ivr.conf"), err, errsz);
	mem_deref(cfg);
	*rcp = rc;
	return ms;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* The entry `digits` select in `m`: its action and parameter, or ENOENT. */
static void check_match(const struct ivr_menu *m, const char *digits, int want_err,
			enum ivr_action want_act, const char *want_param)
{
	enum ivr_action a = IVR_EXIT;
	char *param = NULL;
	int rc = ivr_menu_match(m, digits, &a, &param);

	CHECK_INT(rc, want_err);
	if (!want_err) {
		CHECK_INT(a, want_act);
		CHECK_STR(param, want_param);
	}
	mem_deref(param);
}

static void test_shipped(void)
{
	char *xml = read_file(SHIPPED), err[512];
	const struct ivr_menu *m, *sub;
	struct ivr_menus *ms;
	int rc;

	CHECK(xml != NULL);
	if (!xml)
		return;
	ms = compile(xml, err, sizeof(err), &rc);
	free(xml);
	CHECK_INT(rc, 0);
	if (rc) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK_INT(ivr_menu_count(ms), 2);
	m = ivr_menu_find(ms, "confab_ivr");
	sub = ivr_menu_find(ms, "confab_ivr_submenu");
	CHECK(m && sub);
	if (!m || !sub)
		goto out;
	CHECK_INT(m->digit_len, 4);
	CHECK_INT(m->timeout_ms, 10000);
	CHECK_INT(m->inter_ms, 2000);
	CHECK_INT(m->max_failures, 3);
	CHECK_STR(m->greet_long, "ivr/ivr-please_enter_extension_followed_by_pound.wav");
	CHECK_STR(m->exit_sound, "voicemail/vm-goodbye.wav");
	CHECK(m->exec_on_max_fail == NULL && m->exec_on_max_timeout == NULL);
	check_match(m, "1", 0, IVR_APP, "transfer 9196 XML default");
	check_match(m, "3", 0, IVR_SUB, "confab_ivr_submenu");
	check_match(m, "1005", 0, IVR_APP, "transfer 1005 XML default");
	check_match(m, "1019", 0, IVR_APP, "transfer 1019 XML default");
	check_match(m, "1020", ENOENT, IVR_EXIT, NULL);
	check_match(m, "11", ENOENT, IVR_EXIT, NULL);
	check_match(m, "9", 0, IVR_TOP, "");
	/* No digit-len: the longest literal digits; no inter-digit-timeout: half the timeout. */
	CHECK_INT(sub->digit_len, 1);
	CHECK_INT(sub->inter_ms, 7500);
	CHECK_INT(sub->max_timeouts, 3);
	CHECK(sub->greet_short == NULL);
	check_match(sub, "0", 0, IVR_BACK, "");
	check_match(sub, "8", 0, IVR_EXIT, "");
	check_match(sub, "*", 0, IVR_TOP, "");
 out:
	mem_deref(ms);
}

/* A broken menu is refused with the file and line of the element at fault. */
static void check_refused(const char *body, const char *want)
{
	char xml[2048], err[512];
	struct ivr_menus *ms;
	int rc;

	snprintf(xml, sizeof(xml), "<configuration name=\"ivr.conf\">\n<menus>\n%s\n"
		 "</menus>\n</configuration>\n", body);
	ms = compile(xml, err, sizeof(err), &rc);
	CHECK_INT(rc, EINVAL);
	CHECK(ms == NULL);
	if (!strstr(err, want)) {
		CHECK_STR(err, want);
	} else {
		check_passed_++;
	}
	mem_deref(ms);
}

static void test_refused(void)
{
	check_refused("<menu name=\"a\">\n<entry action=\"menu-dance\" digits=\"1\"/>\n</menu>",
		      "ivr.conf.xml:4: ivr menu entry: unknown action \"menu-dance\"");
	check_refused("<menu name=\"a\">\n<entry action=\"menu-exit\"/>\n</menu>",
		      "ivr.conf.xml:4: ivr menu entry menu-exit without digits");
	check_refused("<menu name=\"a\">\n<entry action=\"menu-exec-app\" digits=\"/^(1/\""
		      " param=\"x\"/>\n</menu>", "ivr.conf.xml:4: ivr menu entry: ");
	check_refused("<menu name=\"a\">\n<entry action=\"menu-sub\" digits=\"1\" param=\"b\"/>"
		      "\n</menu>", "ivr.conf.xml:4: ivr menu entry: menu-sub to unknown menu \"b\"");
	check_refused("<menu name=\"a\"/>\n<menu name=\"a\"/>",
		      "ivr.conf.xml:4: ivr menu a is defined twice");
	check_refused("<menu name=\"a\" timeout=\"ten\"/>",
		      "ivr.conf.xml:3: ivr menu: timeout=\"ten\" is not a number");
	check_refused("<menu greet-long=\"x.wav\"/>", "ivr.conf.xml:3: ivr menu without a name");
}

/* exec-on-max-failures / exec-on-max-timeouts are kept as written; "" is none. */
static void test_exec_on_max(void)
{
	const char *xml = "<configuration name=\"ivr.conf\">\n<menus>\n"
		"<menu name=\"a\" exec-on-max-failures=\"transfer op XML default\"\n"
		" exec-on-max-timeouts=\"set t=${ivr_menu_status}\"/>\n"
		"<menu name=\"b\" exec-on-max-failures=\"\"/>\n"
		"</menus>\n</configuration>\n";
	const struct ivr_menu *a, *b;
	struct ivr_menus *ms;
	char err[512];
	int rc;

	ms = compile(xml, err, sizeof(err), &rc);
	CHECK_INT(rc, 0);
	a = ivr_menu_find(ms, "a");
	b = ivr_menu_find(ms, "b");
	CHECK(a && b);
	if (a && b) {
		CHECK_STR(a->exec_on_max_fail, "transfer op XML default");
		CHECK_STR(a->exec_on_max_timeout, "set t=${ivr_menu_status}");
		CHECK(b->exec_on_max_fail == NULL && b->exec_on_max_timeout == NULL);
	}
	mem_deref(ms);
}

/* freeswitch.IVRMenu's way: positional settings, -1 for the defaults, bindings. */
static void test_built(void)
{
	struct ivr_menu_opts o = {.name = "lua_menu", .greet_long = "tone_stream://%(100,0,440)",
				  .confirm_attempts = -1, .inter_timeout = 2000,
				  .digit_len = 0, .timeout = 0, .max_failures = 2,
				  .max_timeouts = -1};
	struct ivr_menus *ms = NULL;
	struct ivr_menu *m = NULL;
	enum ivr_action a;
	char err[256] = "";

	CHECK_INT(ivr_menus_alloc(&ms), 0);
	CHECK_INT(ivr_menu_add(&m, ms, &o), 0);
	CHECK_INT(ivr_menu_add(NULL, ms, &o), EEXIST);
	CHECK_INT(m->timeout_ms, 10000);
	CHECK_INT(m->max_failures, 2);
	CHECK_INT(m->max_timeouts, 3);
	CHECK_INT(m->confirm_attempts, 3);
	CHECK_INT(m->digit_len, 0);
	CHECK_INT(ivr_action_parse(&a, "MENU-EXEC-APP"), 0);
	CHECK_INT(a, IVR_APP);
	CHECK_INT(ivr_action_parse(&a, "menu-nothing"), EINVAL);
	CHECK_INT(ivr_menu_bind(m, IVR_APP, "set choice=$1-${x}", "/^([2-4])([0-9])$/", err,
				sizeof(err)), 0);
	CHECK_INT(m->digit_len, 0);       /* an expression does not count */
	CHECK_INT(ivr_menu_bind(m, IVR_SOUND, "x.wav", "123", err, sizeof(err)), 0);
	CHECK_INT(m->digit_len, 3);
	CHECK_INT(ivr_menu_bind(m, IVR_EXIT, "", "", err, sizeof(err)), EINVAL);
	CHECK_INT(ivr_menu_bind(m, IVR_EXIT, "", "/(/", err, sizeof(err)), EINVAL);
	CHECK(err[0] != '\0');
	/* $1 of the first group; ${x} is a variable, left for the channel to expand. */
	check_match(m, "37", 0, IVR_APP, "set choice=3-${x}");
	check_match(m, "123", 0, IVR_SOUND, "x.wav");
	check_match(m, "57", ENOENT, IVR_EXIT, NULL);
	check_match(m, "", ENOENT, IVR_EXIT, NULL);
	CHECK(ivr_menu_find(ms, "nope") == NULL);
	CHECK_STR(ivr_menu_name(ivr_menu_find(ms, "lua_menu")), "lua_menu");
	mem_deref(ms);
}

int main(void)
{
	libre_init();
	if (!getenv("TEST_VERBOSE"))
		log_set_console(false);
	test_shipped();
	test_refused();
	test_exec_on_max();
	test_built();
	libre_close();
	return check_done();
}
