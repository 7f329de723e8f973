/*
 * test_core.c - the core's pure parts: ${} expansion (also the one that waits
 * for commands finishing later), global variables, ACL matching, log level
 * names and UUIDs.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <re.h>
#include "check.h"
#include "loop_check.h"
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

/* ${later(x)} finishes when the test says; ${now(x)} at once. Both count their runs. */
static struct api_call *later_call;
static unsigned later_runs, now_runs, ready_runs;

static int cmd_later(struct api_call *call, const char *args)
{
	(void)args;
	later_runs++;
	later_call = call;
	return EINPROGRESS;
}

static int cmd_now(struct api_call *call, const char *args)
{
	now_runs++;
	return api_printf(call, "<%s>", args);
}

static void on_ready(void *arg)
{
	(void)arg;
	ready_runs++;
}

/* The pending ${later()} writes `out` and finishes; the record hears of it from the loop. */
static void finish_later(const char *out)
{
	struct api_call *call = later_call;

	later_call = NULL;
	api_printf(call, "%s", out);
	api_finish(call);
}

static void test_replay(void)
{
	struct vars_replay *r = NULL;
	char *s = NULL;

	api_register("later", "", "", cmd_later);
	api_register("now", "", "", cmd_now);
	api_register("upper", "", "", cmd_upper);

	/* Two pending calls: one at a time, commands already run answered from the record. */
	CHECK_INT(vars_replay_alloc(&r, 10000, on_ready, NULL), 0);
	CHECK_INT(vars_expand_replay(&s, "a${now(1)}b${later(x)}c${later(y)}d", lookup, NULL, r),
		  EINPROGRESS);
	CHECK(s == NULL);
	CHECK_INT(now_runs, 1);
	CHECK_INT(later_runs, 1);
	finish_later("X");
	CHECK_INT(ready_runs, 0);            /* not from inside the command's completion */
	check_run_loop(30);
	CHECK_INT(ready_runs, 1);
	CHECK_INT(vars_expand_replay(&s, "a${now(1)}b${later(x)}c${later(y)}d", lookup, NULL, r),
		  EINPROGRESS);
	CHECK_INT(now_runs, 1);
	CHECK_INT(later_runs, 2);
	finish_later("Y");
	check_run_loop(30);
	CHECK_INT(ready_runs, 2);
	CHECK_INT(vars_expand_replay(&s, "a${now(1)}b${later(x)}c${later(y)}d", lookup, NULL, r),
		  0);
	CHECK_STR(s, "a<1>bXcYd");
	CHECK_INT(now_runs, 1);
	CHECK_INT(later_runs, 2);
	s = mem_deref(s);
	r = mem_deref(r);

	/* Nested: the outer command gets the inner one's output. */
	CHECK_INT(vars_replay_alloc(&r, 10000, on_ready, NULL), 0);
	CHECK_INT(vars_expand_replay(&s, "${upper(${later(n)} ${chan})}", lookup, NULL, r),
		  EINPROGRESS);
	finish_later("in");
	check_run_loop(30);
	CHECK_INT(vars_expand_replay(&s, "${upper(${later(n)} ${chan})}", lookup, NULL, r), 0);
	CHECK_STR(s, "[in C]");
	s = mem_deref(s);
	r = mem_deref(r);

	/* Past the time limit the call expands to nothing; finishing later is harmless. */
	ready_runs = 0;
	CHECK_INT(vars_replay_alloc(&r, 20, on_ready, NULL), 0);
	CHECK_INT(vars_expand_replay(&s, "${later(t)}!", lookup, NULL, r), EINPROGRESS);
	check_run_loop(100);
	CHECK_INT(ready_runs, 1);
	CHECK_INT(vars_expand_replay(&s, "${later(t)}!", lookup, NULL, r), 0);
	CHECK_STR(s, "!");
	s = mem_deref(s);
	finish_later("too late");
	check_run_loop(30);
	CHECK_INT(ready_runs, 1);
	r = mem_deref(r);

	/* Freed while a call runs: the call is abandoned, its end reaches nobody. */
	CHECK_INT(vars_replay_alloc(&r, 10000, on_ready, NULL), 0);
	CHECK_INT(vars_expand_replay(&s, "${later(f)}", lookup, NULL, r), EINPROGRESS);
	r = mem_deref(r);
	finish_later("gone");
	check_run_loop(30);
	CHECK_INT(ready_runs, 1);

	/* Without a record a waiting command expands to "" at once, as before. */
	s = expand("[${later(z)}]");
	CHECK_STR(s, "[]");
	s = mem_deref(s);
	finish_later("dropped");

	api_unregister("later");
	api_unregister("now");
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
	test_replay();
	test_globals();
	test_acl();
	test_levels_and_uuid();
	vars_close();
	api_close();
	libre_close();
	return check_done();
}
