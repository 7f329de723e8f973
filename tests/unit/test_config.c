/*
 * test_config.c - the XML configuration loader: includes, the preprocessor, $${}
 * expansion, error reports with file:line, lookups and reload.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <re.h>
#include "check.h"
#include "core/config.h"
#include "core/vars.h"

#define DATA "data/config"

static char errbuf[1024];

/* err ends with `tail` (the paths before it are absolute). */
static int ends_with(const char *s, const char *tail)
{
	size_t sl = strlen(s), tl = strlen(tail);

	return sl >= tl && !strcmp(s + sl - tl, tail);
}

#define CHECK_ERR_TAIL(tail) do { \
	if (!ends_with(errbuf, tail)) \
		fprintf(stderr, "error text: [%s]\n", errbuf); \
	CHECK(ends_with(errbuf, tail)); \
} while (0)

static void check_global(const char *name, const char *want)
{
	char *v = vars_global_dup(name);

	CHECK_STR(v, want);
	mem_deref(v);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
}

static void remove_file(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

struct params {
	char seen[512];
	unsigned n;
};

static void collect(const char *name, const char *value, const struct xml_node *node,
		    void *arg)
{
	struct params *p = arg;
	size_t l = strlen(p->seen);

	snprintf(p->seen + l, sizeof(p->seen) - l, "%s=%s;", name, value);
	p->n++;
}

static void test_builtins(void)
{
	char conf[PATH_MAX], base[PATH_MAX], want[PATH_MAX + 32];
	char *v;

	CHECK(realpath(DATA "/basic", conf) != NULL);
	CHECK(realpath(DATA, base) != NULL);
	check_global("conf_dir", conf);
	check_global("base_dir", base);
	snprintf(want, sizeof(want), "%s/scripts", conf);
	check_global("script_dir", want);
	snprintf(want, sizeof(want), "%s/sounds", base);
	check_global("sounds_dir", want);
	snprintf(want, sizeof(want), "%s/recordings", base);
	check_global("recordings_dir", want);
	snprintf(want, sizeof(want), "%s/log", base);
	check_global("log_dir", want);
	snprintf(want, sizeof(want), "%s/run", base);
	check_global("run_dir", want);
	snprintf(want, sizeof(want), "%s/db", base);
	check_global("db_dir", want);
	v = vars_global_dup("hostname");
	CHECK(v && *v);
	mem_deref(v);
	v = vars_global_dup("local_ip_v4");
	CHECK(v && strchr(v, '.'));
	mem_deref(v);
	v = vars_global_dup("local_ip_v6");
	CHECK(v && strchr(v, ':'));
	mem_deref(v);
}

static void test_preprocessor(const struct config *cfg)
{
	const struct xml_node *root = config_root(cfg), *g, *x;
	const char *env = getenv("CONFAB_TEST_ENV");

	check_global("domain", "example.test");
	check_global("default_language", "en");
	check_global("test_value", "example.test-1");
	check_global("exec_value", "first line");
	check_global("CONFAB_TEST_ENV", "from-env-set");
	CHECK_STR(env, "from-env-set");
	/* The set inside a comment never ran. */
	CHECK(vars_global_dup("commented") == NULL);

	CHECK_STR(root->name, "document");
	CHECK_STR(xml_attr(root, "type"), "freeswitch/xml");
	CHECK(xml_child(root, "X-PRE-PROCESS") == NULL);
	g = xml_child(root, "greeting");
	CHECK_STR(xml_attr(g, "lang"), "en");
	CHECK_STR(g ? g->text : NULL, "Welcome to example.test, ${caller_id_name}!");
	CHECK_INT(g ? g->line : 0, 16);
	CHECK(g && ends_with(g->file, "/basic/confab.xml"));

	/* exec output spliced in place, several elements, $${} expanded by the shell line. */
	x = xml_child(root, "from-exec");
	CHECK_STR(xml_attr(x, "n"), "example.test-1");
	CHECK_STR(xml_attr(xml_next(x), "n"), "2");
	CHECK(x && x->parent == root);
}

static void test_includes(const struct config *cfg)
{
	const struct xml_node *sec, *c, *ctx, *e;
	const char *want[] = {"first", "nested-1", "nested-2", "nested-3", "last"};
	struct params p = {"", 0};
	size_t i;

	/* Glob results in sorted order; <include> roots spliced, others kept. */
	sec = config_section(cfg, "configuration");
	CHECK(sec != NULL);
	c = xml_child(sec, "configuration");
	CHECK_STR(xml_attr(c, "name"), "event_socket.conf");
	c = xml_next(c);
	CHECK_STR(xml_attr(c, "name"), "switch.conf");
	c = xml_next(c);
	CHECK_STR(xml_attr(c, "name"), "lua.conf");
	c = xml_next(c);
	CHECK_STR(xml_attr(c, "name"), "conference.conf");
	CHECK(xml_next(c) == NULL);
	CHECK(xml_child(sec, "include") == NULL);
	CHECK(c && ends_with(c->file, "/basic/autoload_configs/c_more.conf.xml"));
	CHECK_INT(c ? c->line : 0, 7);
	CHECK(c && c->parent == sec);

	/* Nested include inside an included file, between its siblings. */
	ctx = xml_child_by_attr(config_section(cfg, "dialplan"), "context", "name", "default");
	CHECK(ctx != NULL);
	e = xml_child(ctx, "extension");
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK_STR(xml_attr(e, "name"), want[i]);
		e = xml_next(e);
	}
	CHECK(e == NULL);
	e = xml_child(xml_child(xml_child(ctx, "extension"), "condition"), "action");
	CHECK_STR(xml_attr(e, "data"), "greeting=${domain_name} example.test");

	c = config_section(cfg, "directory");
	CHECK_STR(xml_attr(xml_child(c, "domain"), "name"), "example.test");

	config_params(xml_child(config_module(cfg, "event_socket.conf"), "settings"),
		      collect, &p);
	CHECK_INT(p.n, 3);
	CHECK_STR(p.seen, "listen-ip=127.0.0.1;listen-port=8021;password=example.test-1;");
}

static void test_lookups(const struct config *cfg)
{
	const struct xml_node *m;
	char conf[PATH_MAX], want[PATH_MAX + 32];

	m = config_module(cfg, "switch.conf");
	CHECK_STR(xml_attr(m, "description"), "Core Configuration");
	m = config_module(cfg, "Event_Socket.conf");
	CHECK_STR(xml_attr(m, "name"), "event_socket.conf");
	m = config_module(cfg, "lua.conf");
	CHECK(realpath(DATA "/basic", conf) != NULL);
	snprintf(want, sizeof(want), "%s/scripts/?.lua", conf);
	CHECK_STR(xml_attr(xml_child(xml_child(m, "settings"), "param"), "value"), want);
	CHECK(config_module(cfg, "conference.conf") != NULL);
	CHECK(config_module(cfg, "nope.conf") == NULL);
	CHECK(config_section(cfg, "dialplan") != NULL);
	CHECK(config_section(cfg, "chatplan") == NULL);
	CHECK(config_section(NULL, "dialplan") == NULL);
	CHECK(config_module(NULL, "switch.conf") == NULL);
	CHECK(xml_attr(NULL, "x") == NULL);
	CHECK(xml_child(NULL, "x") == NULL);
	CHECK(xml_next(NULL) == NULL);
	CHECK(xml_child_by_attr(NULL, "a", "b", "c") == NULL);
	CHECK(config_dir(cfg) && !strcmp(config_dir(cfg), conf));
}

static void test_basic(void)
{
	struct config *cfg = NULL;
	int err;

	err = config_load(&cfg, DATA "/basic", errbuf, sizeof(errbuf));
	CHECK_INT(err, 0);
	if (err) {
		fprintf(stderr, "load failed: %s\n", errbuf);
		return;
	}
	test_builtins();
	test_preprocessor(cfg);
	test_includes(cfg);
	test_lookups(cfg);
	mem_deref(cfg);
}

static void test_root_files(void)
{
	struct config *cfg = NULL;
	int err;

	err = config_load(&cfg, DATA "/fsroot", errbuf, sizeof(errbuf));
	CHECK_INT(err, 0);
	CHECK(config_module(cfg, "fallback.conf") != NULL);
	CHECK(cfg && ends_with(config_root(cfg)->file, "/fsroot/freeswitch.xml"));
	cfg = mem_deref(cfg);

	err = config_load(&cfg, DATA "/both", errbuf, sizeof(errbuf));
	CHECK_INT(err, 0);
	CHECK(config_module(cfg, "confab-root.conf") != NULL);
	CHECK(config_module(cfg, "freeswitch-root.conf") == NULL);
	cfg = mem_deref(cfg);

	err = config_load(&cfg, DATA, errbuf, sizeof(errbuf));
	CHECK_INT(err, ENOENT);
	CHECK(cfg == NULL);
	CHECK_ERR_TAIL("/data/config: no confab.xml or freeswitch.xml found");

	err = config_load(&cfg, DATA "/does-not-exist", errbuf, sizeof(errbuf));
	CHECK_INT(err, ENOENT);
	CHECK_STR(errbuf, DATA "/does-not-exist: No such file or directory");
}

static void test_errors(void)
{
	struct config *cfg = NULL;
	char small[16];
	int err;

	err = config_load(&cfg, DATA "/missing", errbuf, sizeof(errbuf));
	CHECK_INT(err, ENOENT);
	CHECK(cfg == NULL);
	CHECK_ERR_TAIL("/missing/confab.xml:4: cannot include not_there.xml: "
		       "No such file or directory");

	err = config_load(&cfg, DATA "/loop", errbuf, sizeof(errbuf));
	CHECK_INT(err, ELOOP);
	CHECK(cfg == NULL);
	CHECK(strstr(errbuf, "/loop/b.xml:3: include loop: ") != NULL);
	CHECK_ERR_TAIL("/loop/a.xml includes itself");

	err = config_load(&cfg, DATA "/syntax", errbuf, sizeof(errbuf));
	CHECK_INT(err, EINVAL);
	CHECK(cfg == NULL);
	CHECK_ERR_TAIL("/syntax/bad.xml:4: mismatched tag");

	/* A short buffer is truncated, never overrun, and always terminated. */
	err = config_load(&cfg, DATA "/syntax", small, sizeof(small));
	CHECK_INT(err, EINVAL);
	CHECK_INT(strlen(small), sizeof(small) - 1);
	CHECK_INT(config_load(&cfg, DATA "/syntax", NULL, 0), EINVAL);
}

/* A chain of 40 files, each including the next under a new name: no loop the
 * name check can see, so the depth limit stops it. */
static void test_include_depth(const char *dir)
{
	struct config *cfg = NULL;
	char name[32], text[256];
	int i, err;

	write_file(dir, "confab.xml", "<document>\n<X-PRE-PROCESS cmd=\"include\" "
		   "data=\"l0.xml\"/>\n</document>\n");
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "l%d.xml", i);
		snprintf(text, sizeof(text), "<include>\n<X-PRE-PROCESS cmd=\"include\" "
			 "data=\"l%d.xml\"/>\n</include>\n", i + 1);
		write_file(dir, name, text);
	}
	write_file(dir, "l40.xml", "<leaf/>\n");
	err = config_load(&cfg, dir, errbuf, sizeof(errbuf));
	CHECK_INT(err, ELOOP);
	CHECK(cfg == NULL);
	CHECK(strstr(errbuf, ".xml:2: includes nested deeper than 32") != NULL);
	for (i = 0; i <= 40; i++) {
		snprintf(name, sizeof(name), "l%d.xml", i);
		remove_file(dir, name);
	}
}

static void test_reload(const char *dir)
{
	struct config *cfg = NULL, *before;
	int err;

	CHECK_INT(config_reload(errbuf, sizeof(errbuf)), ENOENT);
	write_file(dir, "confab.xml", "<document>\n<section name=\"configuration\">\n"
		   "<configuration name=\"one.conf\"/>\n</section>\n</document>\n");
	err = config_load(&cfg, dir, errbuf, sizeof(errbuf));
	CHECK_INT(err, 0);
	config_set_current(cfg);
	mem_deref(cfg);
	before = config_current();
	CHECK(before == cfg);

	write_file(dir, "confab.xml", "<document>\n<section name=\"configuration\">\n"
		   "<configuration name=\"two.conf\">\n</section>\n</document>\n");
	err = config_reload(errbuf, sizeof(errbuf));
	CHECK_INT(err, EINVAL);
	CHECK_ERR_TAIL("/confab.xml:4: mismatched tag");
	CHECK(config_current() == before);
	CHECK(config_module(config_current(), "one.conf") != NULL);

	write_file(dir, "confab.xml", "<document>\n<section name=\"configuration\">\n"
		   "<configuration name=\"two.conf\"/>\n</section>\n</document>\n");
	err = config_reload(errbuf, sizeof(errbuf));
	CHECK_INT(err, 0);
	CHECK(config_module(config_current(), "two.conf") != NULL);
	CHECK(config_module(config_current(), "one.conf") == NULL);
	config_set_current(NULL);
	CHECK(config_current() == NULL);
	remove_file(dir, "confab.xml");
}

static void test_parse_buf(void)
{
	static const char doc[] =
		"<configuration name=\"x.conf\">\n"
		"  <settings>\n"
		"    <param name=\"a\" value=\"$${domain}\"/>\n"
		"    <param value=\"no name\"/>\n"
		"    <param name=\"b\"/>\n"
		"    <X-PRE-PROCESS cmd=\"set\" data=\"parsed=1\"/>\n"
		"  </settings>\n"
		"</configuration>\n";
	struct config *cfg = NULL;
	struct params p = {"", 0};
	char deep[4096];
	int err, i;

	err = config_parse_buf(&cfg, doc, strlen(doc), "x.xml", errbuf, sizeof(errbuf));
	CHECK_INT(err, 0);
	/* No preprocessing: $${} stays, X-PRE-PROCESS is an ordinary element. */
	config_params(xml_child(config_module(cfg, "x.conf"), "settings"), collect, &p);
	CHECK_STR(p.seen, "a=$${domain};b=;");
	CHECK(xml_child(xml_child(config_root(cfg), "settings"), "X-PRE-PROCESS") != NULL);
	CHECK(vars_global_dup("parsed") == NULL);
	CHECK(config_dir(cfg) == NULL);
	CHECK(config_module(cfg, "y.conf") == NULL);
	cfg = mem_deref(cfg);

	err = config_parse_buf(&cfg, "<a>\n<b></a>", 11, "t.xml", errbuf, sizeof(errbuf));
	CHECK_INT(err, EINVAL);
	CHECK_STR(errbuf, "t.xml:2: mismatched tag");
	err = config_parse_buf(&cfg, "", 0, "e.xml", errbuf, sizeof(errbuf));
	CHECK_INT(err, EINVAL);
	CHECK_STR(errbuf, "e.xml:1: no element found");
	err = config_parse_buf(&cfg, "<!DOCTYPE d [<!ENTITY a \"aaaa\">]><d>&a;</d>", 42,
			       "ent.xml", errbuf, sizeof(errbuf));
	CHECK_INT(err, EINVAL);
	CHECK_STR(errbuf, "ent.xml:1: entity declarations are not supported");

	for (i = 0; i < 300; i++)
		memcpy(deep + i * 3, "<a>", 3);
	err = config_parse_buf(&cfg, deep, 900, "deep.xml", errbuf, sizeof(errbuf));
	CHECK_INT(err, EINVAL);
	CHECK_STR(errbuf, "deep.xml:1: elements nested deeper than 256");
	CHECK(cfg == NULL);
}

static void test_true(void)
{
	const char *yes[] = {"true", "TRUE", "yes", "on", "enabled", "active", "allow",
			     "1", "t", "42"};
	const char *no[] = {"false", "no", "off", "0", "", "disabled", "1x", "yess"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		CHECK(config_true(yes[i]));
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		CHECK(!config_true(no[i]));
	CHECK(!config_true(NULL));
}

int main(void)
{
	char tmpl[] = "/tmp/confab_config_XXXXXX";
	char *dir;

	CHECK_INT(vars_init(), 0);
	test_basic();
	test_root_files();
	test_errors();
	test_parse_buf();
	test_true();
	dir = mkdtemp(tmpl);
	CHECK(dir != NULL);
	if (dir) {
		test_include_depth(dir);
		test_reload(dir);
		rmdir(dir);
	}
	vars_close();
	return check_done();
}
