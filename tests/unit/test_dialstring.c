/*
 * test_dialstring.c - dial string parsing (spec/core.md 1) and hangup cause
 * mapping (spec/core.md 3).
 */
#include <errno.h>
#include <re.h>
#include "check.h"
#include "channel/cause.h"
#include "channel/dialstring.h"

static void test_simple(void)
{
	struct dialstring *ds = NULL;

	CHECK_INT(dialstring_parse(&ds, "user/1000@example.com"), 0);
	CHECK_INT(ds->ngroups, 1);
	CHECK_INT(ds->groups[0].nlegs, 1);
	CHECK_STR(ds->groups[0].legs[0].target, "user/1000@example.com");
	mem_deref(ds);
}

static void test_vars_and_groups(void)
{
	struct dialstring *ds = NULL;
	const struct dial_leg *l;

	CHECK_INT(dialstring_parse(&ds, "{a=1,b=x\\,y}[b=2]user/1000, [c=3]user/1001"
				   "|sofia/gateway/gw/555:_:error/user_busy"), 0);
	CHECK_INT(ds->ngroups, 3);
	CHECK_INT(ds->groups[0].nlegs, 2);
	l = &ds->groups[0].legs[0];
	CHECK_STR(l->target, "user/1000");
	CHECK_STR(dial_leg_var(l, "a"), "1");
	CHECK_STR(dial_leg_var(l, "b"), "2");          /* [] overrides {} */
	l = &ds->groups[0].legs[1];
	CHECK_STR(dial_leg_var(l, "b"), "x,y");        /* escaped comma */
	CHECK_STR(dial_leg_var(l, "c"), "3");
	CHECK_STR(ds->groups[1].legs[0].target, "sofia/gateway/gw/555");
	CHECK_STR(dial_leg_var(&ds->groups[1].legs[0], "a"), "1");
	CHECK_STR(ds->groups[2].legs[0].target, "error/user_busy");
	mem_deref(ds);

	CHECK_INT(dialstring_parse(&ds, "{^^:a=1:b=x,y}loopback/1000"), 0);
	CHECK_STR(dial_leg_var(&ds->groups[0].legs[0], "b"), "x,y");
	CHECK_STR(ds->groups[0].legs[0].target, "loopback/1000");
	mem_deref(ds);
}

static void test_bad(void)
{
	struct dialstring *ds = NULL;

	CHECK_INT(dialstring_parse(&ds, ""), EINVAL);
	CHECK_INT(dialstring_parse(&ds, "{a=1}"), EINVAL);
	CHECK_INT(dialstring_parse(&ds, "nothing"), EINVAL);
	CHECK_INT(dialstring_parse(&ds, "user/1,,user/2"), EINVAL);
	CHECK_INT(dialstring_parse(&ds, "{novalue}user/1"), EINVAL);
	CHECK_INT(dialstring_parse(&ds, "{unterminated user/1"), EINVAL);
}

static void test_causes(void)
{
	enum hangup_cause c;

	CHECK_STR(cause_name(CAUSE_USER_BUSY), "USER_BUSY");
	CHECK_INT(cause_parse("user_not_registered", &c), 0);
	CHECK_INT(c, CAUSE_USER_NOT_REGISTERED);
	CHECK_INT(cause_parse("17", &c), 0);
	CHECK_INT(c, CAUSE_USER_BUSY);
	CHECK_INT(cause_parse("bogus", &c), -1);
	CHECK_INT(cause_to_sip(CAUSE_USER_BUSY), 486);
	CHECK_INT(cause_to_sip(CAUSE_NO_ROUTE_DESTINATION), 404);
	CHECK_INT(cause_to_sip(CAUSE_MEDIA_TIMEOUT), 480);
	CHECK_INT(cause_from_sip(486), CAUSE_USER_BUSY);
	CHECK_INT(cause_from_sip(487), CAUSE_ORIGINATOR_CANCEL);
	CHECK_INT(cause_from_sip(404), CAUSE_UNALLOCATED_NUMBER);
	CHECK_INT(cause_from_sip(480), CAUSE_NO_USER_RESPONSE);
	CHECK_INT(cause_from_sip(599), CAUSE_NORMAL_UNSPECIFIED);
	CHECK_STR(cause_name((enum hangup_cause)12345), "UNKNOWN");
}

int main(void)
{
	test_simple();
	test_vars_and_groups();
	test_bad();
	test_causes();
	return check_done();
}
