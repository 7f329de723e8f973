/*
 * test_lua_dbh.c - freeswitch.Dbh (spec/lua.md section 8) driven from Lua: the
 * SQLite round trip, callbacks that stop, fail or wait, errors, test_reactive,
 * release, bad arguments and DSNs that cannot connect. CONFAB_TEST_PGSQL (a
 * libpq conninfo) also runs the round trip against that PostgreSQL server,
 * once blocking (no run behind the state) and once in a run, which waits.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <re.h>
#include <lua.h>
#include <lualib.h>
#include <lauxlib.h>
#include "check.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/vars.h"
#include "event/bus.h"
#include "lua/lua_int.h"

static struct mbuf *logbuf;

static void log_collect(const struct log_line *ll, void *arg)
{
	(void)arg;
	mbuf_write_str(logbuf, ll->text);
}

static bool logged(const char *text)
{
	return memmem(logbuf->buf, logbuf->end, text, strlen(text)) != NULL;
}

/* ok(cond, what): a CHECK from Lua, reported with the chunk's line. */
static int lua_ok(lua_State *L)
{
	if (lua_toboolean(L, 1)) {
		check_passed_++;
		return 0;
	}
	check_failed_++;
	luaL_where(L, 1);
	fprintf(stderr, "%s ok(%s) failed\n", lua_tostring(L, -1), luaL_optstring(L, 2, ""));
	return 0;
}

static lua_State *new_state(void)
{
	lua_State *L = luaL_newstate();

	/* no run behind it: pgsql blocks, as where a run cannot wait */
	memset(lua_getextraspace(L), 0, LUA_EXTRASPACE);
	luaL_openlibs(L);
	lua_newtable(L);
	script_bind_dbh(L);
	lua_setglobal(L, "freeswitch");
	lua_register(L, "ok", lua_ok);
	return L;
}

static void set_global(lua_State *L, const char *name, const char *value)
{
	lua_pushstring(L, value);
	lua_setglobal(L, name);
}

/* A Lua error in a chunk is a failed check. */
static void run(lua_State *L, const char *name, const char *chunk)
{
	int err = luaL_loadbuffer(L, chunk, strlen(chunk), name) || lua_pcall(L, 0, 0, 0);

	CHECK(!err);
	if (err) {
		fprintf(stderr, "  %s\n", lua_tostring(L, -1));
		lua_pop(L, 1);
	}
}

/* The same on SQLite and pgsql: DSN names the database. */
static const char round_trip[] =
	"local dbh = freeswitch.Dbh(DSN)\n"
	"ok(dbh:connected(), 'connected')\n"
	"dbh:query('drop table if exists dbh_t')\n"
	"ok(dbh:query('create table dbh_t (id integer, name text, note text)'), 'create')\n"
	"ok(dbh:query(\"insert into dbh_t values (1, 'a', 'x'), (2, 'b', NULL), \"\n"
	"	.. \"(3, 'c', 'z')\"), 'insert')\n"
	"ok(dbh:affected_rows() == 3, 'affected_rows after the insert')\n"
	"\n"
	"local got = {}\n"
	"ok(dbh:query('select id, name, note from dbh_t order by id', function(row)\n"
	"	got[#got + 1] = row.id .. row.name .. row.note\n"
	"	ok(type(row.id) == 'string', 'values are strings')\n"
	"end), 'query with a callback')\n"
	"ok(table.concat(got, ',') == '1ax,2b,3cz',\n"
	"	'rows, NULL as \"\": ' .. table.concat(got, ','))\n"
	"\n"
	"ok(dbh:query(\"update dbh_t set note = 'y' where id = 1; \"\n"
	"	.. \"update dbh_t set note = 'w' where id >= 2\"),\n"
	"	'two statements in one string')\n"
	"ok(dbh:affected_rows() == 2, 'affected_rows is the last statement\\'s')\n"
	"got = {}\n"
	"dbh:query('select note from dbh_t order by id', function(row)\n"
	"	got[#got + 1] = row.note\n"
	"end)\n"
	"ok(table.concat(got) == 'yww', 'both statements ran: ' .. table.concat(got))\n"
	"\n"
	"local calls = 0\n"
	"ok(dbh:query('select id from dbh_t', function() calls = calls + 1; return 1 end),\n"
	"	'a stopped query succeeds')\n"
	"ok(calls == 1, 'returning 1 stops')\n"
	"calls = 0\n"
	"dbh:query('select id from dbh_t', function() calls = calls + 1; return '1' end)\n"
	"ok(calls == 1, 'a numeric string stops too')\n"
	"calls = 0\n"
	"dbh:query('select id from dbh_t', function() calls = calls + 1; return true end)\n"
	"ok(calls == 3, 'true does not stop: FreeSWITCH reads a number')\n"
	"\n"
	"local rok, rows, err = dbh:query_rows('select id, name from dbh_t order by id')\n"
	"ok(rok and err == nil and #rows == 3 and rows[2].name == 'b' and rows[3].id == '3',\n"
	"	'query_rows')\n"
	"rok, rows, err = dbh:query_rows('select nope from nowhere')\n"
	"ok(not rok and type(rows) == 'table' and #rows == 0 and type(err) == 'string',\n"
	"	'query_rows on bad SQL')\n"
	"\n"
	"dbh:clear_error()\n"
	"ok(dbh:query('selec 1') == false, 'bad SQL fails')\n"
	"local e = dbh:last_error()\n"
	"ok(type(e) == 'string' and e ~= '', 'last_error: ' .. tostring(e))\n"
	"ok(dbh:query('select 1'), 'a good query after a bad one')\n"
	"ok(dbh:last_error() == e, 'an error stays until clear_error')\n"
	"dbh:clear_error()\n"
	"ok(dbh:last_error() == nil, 'clear_error')\n"
	"ok(dbh:query('select * from nowhere', function() end) == false,\n"
	"	'bad SQL with a callback')\n"
	"ok(dbh:query('') == false and dbh:last_error() == 'Missing SQL query.', 'empty SQL')\n"
	"\n"
	"local pok, perr = pcall(dbh.query, dbh, 'select id from dbh_t', function()\n"
	"	error('boom')\n"
	"end)\n"
	"ok(not pok and tostring(perr):find('boom'), 'an error in the callback propagates')\n"
	"ok(dbh:query('select 1'), 'the handle works after it')\n"
	"\n"
	"local co = coroutine.wrap(function()\n"
	"	return dbh:query('select name from dbh_t order by id', function(row)\n"
	"		coroutine.yield(row.name)\n"
	"	end)\n"
	"end)\n"
	"ok(co() == 'a' and co() == 'b' and co() == 'c', 'the callback may yield')\n"
	"ok(co() == true, 'the query finishes after the yields')\n"
	"co = coroutine.create(function()\n"
	"	return dbh:query('select name from dbh_t', function()\n"
	"		coroutine.yield()\n"
	"		error('late')\n"
	"	end)\n"
	"end)\n"
	"coroutine.resume(co)\n"
	"pok, perr = coroutine.resume(co)\n"
	"ok(not pok and tostring(perr):find('late'), 'an error after a yield propagates')\n"
	"-- A coroutine that died of an error keeps its stack (Lua 5.4): its query's\n"
	"-- SQLite statement, which makes DROP fail, goes with coroutine.close.\n"
	"dbh:query('create table dbh_x (a text)')\n"
	"local sqlite = DSN:find('^sqlite') ~= nil\n"
	"ok(dbh:query('drop table dbh_x') == not sqlite, 'the dead coroutine holds a statement')\n"
	"coroutine.close(co)\n"
	"ok(dbh:query('drop table if exists dbh_x'), 'coroutine.close finalises it')\n"
	"\n"
	"ok(dbh:test_reactive('select count(*) from dbh_t', 'drop table dbh_t',\n"
	"	'create table dbh_t (id integer)'), 'test_reactive, test passes')\n"
	"rok, rows = dbh:query_rows('select count(*) as n from dbh_t')\n"
	"ok(rows[1].n == '3', 'a passing test leaves the table alone')\n"
	"dbh:query('drop table if exists dbh_r')\n"
	"ok(dbh:test_reactive('select x from dbh_r', 'drop table dbh_r',\n"
	"	'create table dbh_r (x text)'),\n"
	"	'test_reactive, test fails, reactive runs')\n"
	"ok(dbh:query('select x from dbh_r'), 'the reactive SQL created the table')\n"
	"ok(dbh:test_reactive('select y from dbh_r', nil, 'create tabl oops') == false,\n"
	"	'test_reactive, reactive fails')\n"
	"ok(dbh:test_reactive('select x from dbh_r') == false,\n"
	"	'test_reactive wants reactive_sql')\n"
	"dbh:query('drop table dbh_r')\n"
	"\n"
	"local d2 = freeswitch.Dbh(DSN)\n"
	"ok(d2:query('select id from dbh_t', function() d2:release() end) == false,\n"
	"	'release inside the callback ends the query')\n"
	"ok(not d2:connected(), 'released in the callback')\n"
	"\n"
	"ok(dbh:query('drop table dbh_t'), 'drop')\n"
	"ok(dbh:release() == true, 'release')\n"
	"ok(not dbh:connected(), 'not connected after release')\n"
	"ok(dbh:query('select 1') == false, 'query after release')\n"
	"ok(dbh:last_error() == 'DBH NOT Connected.', 'last_error after release')\n"
	"rok, rows, err = dbh:query_rows('select 1')\n"
	"ok(not rok and err == 'DBH NOT Connected.', 'query_rows after release')\n"
	"ok(dbh:affected_rows() == 0, 'affected_rows after release')\n"
	"ok(dbh:release() == false, 'a second release')\n";

/* Files, locks and extensions: SQLite only. */
static const char sqlite_only[] =
	"local f = freeswitch.Dbh('sqlite://test')\n"
	"ok(f:connected() and f:query('create table t (x)'), 'sqlite://test')\n"
	"local g = freeswitch.Dbh('SQLite://other.sqlite')\n"
	"ok(g:connected() and g:query('create table t (x)'), 'a name with an extension')\n"
	"local a = freeswitch.Dbh('sqlite://' .. ABS)\n"
	"ok(a:connected() and a:query('create table t (x)'), 'an absolute path')\n"
	"local m = freeswitch.Dbh('sqlite://:memory:')\n"
	"ok(m:connected() and m:query('create table t (x)'), ':memory:')\n"
	"local n = freeswitch.Dbh('sqlite:///nonexistent/dir/x.db')\n"
	"ok(not n:connected() and n:last_error():find('cannot open'), 'a path that cannot open')\n"
	"ok(not m:load_extension('/nonexistent/ext') and m:last_error(), 'a missing extension')\n"
	"ok(m:query('select load_extension(\\'/nonexistent/ext\\')') == false\n"
	"	and m:last_error():find('not authorized'), 'SQL cannot load extensions')\n"
	"\n"
	"-- Another connection writes at once after a reader's callback failed: its\n"
	"-- statement was finalised then, not left to the collector.\n"
	"local r = freeswitch.Dbh('sqlite://lock')\n"
	"local w = freeswitch.Dbh('sqlite://lock')\n"
	"r:query('create table t (x); insert into t values (1), (2)')\n"
	"collectgarbage('stop')\n"
	"pcall(r.query, r, 'select x from t', function() error('boom') end)\n"
	"ok(w:query('insert into t values (3)'), 'a failed callback leaves no lock')\n"
	"local co = coroutine.create(function()\n"
	"	r:query('select x from t', function() coroutine.yield() end)\n"
	"end)\n"
	"coroutine.resume(co)\n"
	"ok(w:query('insert into t values (4)') == false,\n"
	"	'a waiting callback holds its read lock')\n"
	"co = nil\n"
	"collectgarbage('restart')\n"
	"collectgarbage()\n"
	"ok(w:query('insert into t values (4)'), 'an abandoned query goes with the collector')\n";

static const char bad_args[] =
	"ok(not pcall(freeswitch.Dbh), 'no DSN')\n"
	"ok(not pcall(freeswitch.Dbh, {}), 'a table DSN')\n"
	"local d = freeswitch.Dbh('sqlite://:memory:')\n"
	"local pok, perr = pcall(d.query, d, {})\n"
	"ok(not pok and perr:find('string expected'), 'a table as SQL: ' .. tostring(perr))\n"
	"ok(not pcall(d.query, d), 'no SQL')\n"
	"ok(not pcall(d.query, d, 'select 1', 42), 'a number as the callback')\n"
	"pok, perr = pcall(d.query, 'x', 'select 1')\n"
	"ok(not pok and perr:find('confab.Dbh expected'),\n"
	"	'a string as self: ' .. tostring(perr))\n"
	"ok(not pcall(d.connected), 'no self')\n"
	"ok(not pcall(d.query_rows, d), 'query_rows without SQL')\n"
	"ok(not pcall(d.test_reactive, d), 'test_reactive without SQL')\n"
	"ok(not pcall(d.load_extension, d, {}), 'load_extension with a table')\n"
	"ok(d:query('select 1', nil), 'a nil callback is no callback')\n";

static const char not_connected[] =
	"local o = freeswitch.Dbh('odbc://dsn:user:secret')\n"
	"ok(not o:connected(), 'odbc:// is not connected')\n"
	"ok(o:last_error():find('unsupported DSN odbc://', 1, true)\n"
	"	and not o:last_error():find('secret'), 'odbc:// error: ' .. o:last_error())\n"
	"ok(o:query('select 1') == false, 'odbc:// query fails')\n"
	"ok(not freeswitch.Dbh('core'):connected(), 'a DSN without a scheme')\n"
	"local p = freeswitch.Dbh('pgsql://hostaddr=127.0.0.1 port=1 dbname=x', 'u', 'pw')\n"
	"ok(not p:connected() and type(p:last_error()) == 'string', 'pgsql on a closed port')\n"
	"ok(p:query('select 1') == false and p:release() == false, 'and it stays unusable')\n"
	"ok(not freeswitch.Dbh('pgsql://nosuchoption=1'):connected(), 'a bad conninfo')\n"
	"ok(not freeswitch.Dbh('sqlite://'):connected(), 'sqlite:// without a name')\n"
	"ok(not freeswitch.Dbh('sqlite://x'):connected(), 'sqlite:// without db_dir')\n";

static void run_end(struct script *s, const struct script_end *e, void *arg)
{
	(void)s;
	*(int *)arg = e->ok ? 1 : -1;
	re_cancel();
}

static void run_guard(void *arg)
{
	(void)arg;
	re_cancel();
}

/* The round trip in a run of its own, where pgsql waits on the loop. */
static void test_pgsql_run(const char *dsn)
{
	struct script_start st = {.name = "~"};
	struct tmr guard;
	char *code = NULL;
	int done = 0;

	tmr_init(&guard);
	CHECK_INT(re_sdprintf(&code, "local DSN = [==[%s]==]\n"
			      "local function ok(c, what) if not c then error(what, 2) end end\n"
			      "%s", dsn, round_trip), 0);
	st.code = code;
	CHECK_INT(script_start(&st, run_end, &done), 0);
	tmr_start(&guard, 30000, run_guard, NULL);
	if (!done)
		re_main(NULL);
	tmr_cancel(&guard);
	CHECK_INT(done, 1);
	mem_deref(code);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static bool exists(const char *dir, const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void test_sqlite(lua_State *L, const char *tmp)
{
	char dbdir[256], abs[256], dsn[300];

	snprintf(dbdir, sizeof(dbdir), "%s/db", tmp);
	snprintf(abs, sizeof(abs), "%s/abs.db", tmp);
	snprintf(dsn, sizeof(dsn), "sqlite://%s/rt.db", tmp);
	CHECK_INT(vars_global_set("db_dir", dbdir), 0);
	set_global(L, "ABS", abs);
	set_global(L, "DSN", dsn);
	run(L, "=round_trip(sqlite)", round_trip);
	run(L, "=sqlite_only", sqlite_only);
	CHECK(exists(dbdir, "test.db"));
	CHECK(exists(dbdir, "other.sqlite"));
	CHECK(exists(tmp, "abs.db"));
	CHECK(exists(tmp, "rt.db"));
	CHECK(logged("Missing parameters."));
	CHECK(logged("DBH NOT Connected."));
}

static void test_not_connected(lua_State *L)
{
	CHECK_INT(vars_global_set("db_dir", NULL), 0);
	logbuf->pos = logbuf->end = 0;
	run(L, "=bad_args", bad_args);
	run(L, "=not_connected", not_connected);
	CHECK(logged("Connection failed.  DBH NOT Connected."));
	CHECK(logged("Dbh: unsupported DSN odbc://"));
	CHECK(logged("db_dir is not set"));
	CHECK(!logged("secret"));
}

int main(void)
{
	char tmp[] = "/tmp/confab-dbh-XXXXXX";
	const char *pg = getenv("CONFAB_TEST_PGSQL");
	struct log_sub *sub = NULL;
	lua_State *L;

	libre_init();
	vars_init();
	bus_init();
	loop_init();
	if (!getenv("TEST_VERBOSE"))
		log_set_console(false);
	logbuf = mbuf_alloc(4096);
	CHECK_INT(log_subscribe(&sub, LOGL_DEBUG, log_collect, NULL), 0);
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	L = new_state();

	test_sqlite(L, tmp);
	if (pg) {
		char dsn[512];

		snprintf(dsn, sizeof(dsn), "pgsql://%s", pg);
		set_global(L, "DSN", dsn);
		run(L, "=round_trip(pgsql)", round_trip);
		test_pgsql_run(dsn);
	}
	test_not_connected(L);

	lua_close(L);
	if (check_failed_ && !getenv("TEST_VERBOSE"))
		fprintf(stderr, "log:\n%.*s", (int)logbuf->end, (const char *)logbuf->buf);
	nftw(tmp, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	mem_deref(sub);
	mem_deref(logbuf);
	loop_close();
	bus_close();
	vars_close();
	libre_close();
	return check_done();
}
