/*
 * test_core.c - the core's pure parts: ${} expansion, global variables, ACL
 * matching, log level names and UUIDs.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <re.h>
#include "check.h"
#include "core/acl.h"
#include "core/api.h"
#include "core/log.h"
#include "core/uuid.h"
#include "core/vars.h"

static const char *lookup(const char *name, void *arg, char **tmp)
{
	(void)arg;
	(void)tmp;
	if (!strcmp(name, "chan"))
		return "C";
	if (!strcmp(name, "x_C"))
		return "nested";
	return NULL;
}

static int cmd_upper(struct api_call *call, const char *args)
{
	return api_printf(call, "[%s]", args);
}

static char *expand(const char *in)
{
	char *out = NULL;

	CHECK_INT(vars_expand(&out, in, lookup, NULL), 0);
	return out;
}

static void test_expand(void)
{
	char *s;

	vars_global_set("g", "G");
	api_register("upper", "", "", cmd_upper);

	s = expand("a ${chan} b ${g} c $${g} d ${none}.");
	CHECK_STR(s, "a C b G c G d .");
	mem_deref(s);
	s = expand("${x_${chan}}");
	CHECK_STR(s, "nested");
	mem_deref(s);
	s = expand("${upper(1 ${chan} 2)}");
	CHECK_STR(s, "[1 C 2]");
	mem_deref(s);
	s = expand("unterminated ${chan");
	CHECK_STR(s, "unterminated ${chan");
	mem_deref(s);
	s = expand("${nosuchcmd(x)}!");
	CHECK_STR(s, "!");
	mem_deref(s);
	api_unregister("upper");
}

static void test_globals(void)
{
	struct mbuf *mb = mbuf_alloc(64);
	char *v;

	vars_global_set("b", "2");
	vars_global_set("a", "1");
	v = vars_global_dup("a");
	CHECK_STR(v, "1");
	mem_deref(v);
	vars_global_set("a", "");
	CHECK(vars_global_dup("a") == NULL);
	vars_global_dump(mb);
	CHECK(mb->end > 0 && strstr((char *)mb->buf, "b=2\n"));
	mem_deref(mb);
}

static void test_acl(void)
{
	struct acl_node n;
	struct sa a;

	CHECK_INT(acl_parse_cidr("10.1.0.0/16", &n), 0);
	sa_set_str(&a, "10.1.200.3", 0);
	CHECK(acl_node_contains(&n, &a));
	sa_set_str(&a, "10.2.0.1", 0);
	CHECK(!acl_node_contains(&n, &a));
	CHECK_INT(acl_parse_cidr("10.0.0.0/33", &n), EINVAL);
	CHECK_INT(acl_parse_cidr("nonsense", &n), EINVAL);

	sa_set_str(&a, "127.0.0.1", 0);
	CHECK(acl_check("loopback.auto", &a));
	CHECK(!acl_check("rfc1918.auto", &a));
	sa_set_str(&a, "::ffff:127.0.0.1", 0);
	CHECK(acl_check("loopback.auto", &a));
	sa_set_str(&a, "::1", 0);
	CHECK(acl_check("loopback.auto", &a));
	sa_set_str(&a, "192.168.1.4", 0);
	CHECK(acl_check("rfc1918.auto", &a));
	CHECK(acl_check("192.168.1.0/24", &a));
	CHECK(!acl_check("no-such-list", &a));
	CHECK(!acl_list_exists("no-such-list"));
	CHECK(acl_list_exists("any_v4.auto"));
}

static void test_levels_and_uuid(void)
{
	enum log_level l;
	char u[UUID_STRLEN + 1], u2[UUID_STRLEN + 1];

	CHECK_INT(log_level_parse("warning", &l), 0);
	CHECK_INT(l, LOGL_WARNING);
	CHECK_INT(log_level_parse("7", &l), 0);
	CHECK_INT(l, LOGL_DEBUG);
	CHECK_INT(log_level_parse("loud", &l), EINVAL);
	CHECK_STR(log_level_name(LOGL_ERR), "ERR");

	cfuuid_generate(u);
	cfuuid_generate(u2);
	CHECK(cfuuid_valid(u));
	CHECK(strcmp(u, u2) != 0);
	CHECK(u[14] == '4');
	CHECK(!cfuuid_valid("not-a-uuid"));
}

int main(void)
{
	libre_init();
	test_expand();
	test_globals();
	test_acl();
	test_levels_and_uuid();
	vars_close();
	api_close();
	libre_close();
	return check_done();
}
