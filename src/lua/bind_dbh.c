/*
 * bind_dbh.c - freeswitch.Dbh: SQL from scripts, on SQLite files under db_dir
 * or on PostgreSQL (dbh_pgsql.c) (spec/lua.md section 8). Signalling thread.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <re.h>
#include <sqlite3.h>
#include "core/log.h"
#include "core/vars.h"
#include "lua/dbh_int.h"

#define DBH_MT    "confab.Dbh"
#define CURSOR_MT "confab.Dbh.cursor"

enum {
	/*
	 * How long SQLite retries against another connection's lock before
	 * failing with "database is locked". Every run shares the signalling
	 * thread, so a lock held by another script of ours cannot be released
	 * while we wait: the retry only helps against other processes, and it
	 * stalls everything while it lasts.
	 */
	SQLITE_BUSY_MS = 500,
};

/*
 * FreeSWITCH's texts (freeswitch_lua.cpp, class Dbh), kept as they are. The
 * first is in spec/lua.md section 8; the others, logged by Dbh::query,
 * Dbh::test_reactive and Dbh::load_extension, are not (unverified).
 */
static const char txt_connect_failed[]  = "Connection failed.  DBH NOT Connected.";
static const char txt_not_connected[]   = "DBH NOT Connected.";
static const char txt_missing_sql[]     = "Missing SQL query.";
static const char txt_missing_params[]  = "Missing parameters.";
static const char txt_missing_ext[]     = "Missing extension name.";

/* The Lua object; its one user value is last_error (a string, or nil). */
struct dbh {
	sqlite3 *sq;
	struct dbh_pg pg;
};

/*
 * A query whose rows go to Lua (a callback or query_rows). It sits in a
 * to-be-closed stack slot of the query, so an error in the callback finalises
 * the statement at once. __gc covers what Lua 5.4 never closes: a run torn
 * down while the callback waits, and a coroutine of the script's own that died
 * in the callback (coroutine.close also closes it).
 * It never touches its handle: sqlite3_close_v2 and PQfinish leave a pending
 * statement or result valid, whichever is freed first.
 */
struct cursor {
	sqlite3_stmt *stmt;
	const char *tail;        /* SQL not prepared yet, inside the query's argument */
	PGresult *res;           /* pgsql: every row arrives at once */
	int row;
};

static bool connected(const struct dbh *dbh)
{
	return dbh->sq || dbh->pg.conn;
}

static struct dbh *check_dbh(lua_State *L)
{
	return luaL_checkudata(L, 1, DBH_MT);
}

/* Pushes SQLite's message and frees it; copied first so a Lua error cannot leak it. */
static void push_sqlite_msg(lua_State *L, char *msg, int rc)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s", msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	lua_pushstring(L, buf);
}

/* Pops the message on top of the stack into last_error and logs it with the SQL. */
static void record_error(lua_State *L, const char *sql)
{
	log_err("Dbh: SQL error: %s [%s]", lua_tostring(L, -1), sql);
	lua_setiuservalue(L, 1, 1);
}

/* Logs why a call cannot run and keeps it as last_error. */
static void keep_error(lua_State *L, const char *why)
{
	log_err("%s", why);
	lua_pushstring(L, why);
	lua_setiuservalue(L, 1, 1);
}

/* keep_error, and the call returns false. */
static int refuse(lua_State *L, const char *why)
{
	keep_error(L, why);
	lua_pushboolean(L, 0);
	return 1;
}

/* Why a query cannot run (FreeSWITCH checks these two), or NULL. */
static const char *unusable(const struct dbh *dbh, const char *sql)
{
	if (!*sql)
		return txt_missing_sql;
	if (!connected(dbh))
		return txt_not_connected;
	return NULL;
}

/*
 * Runs every statement in sql, discarding rows, and ends with done (the
 * reason pushed when it failed). pgsql may wait for the server.
 */
static int exec_then(lua_State *L, struct dbh *dbh, const char *sql, dbh_done_h *done)
{
	char *msg = NULL;
	int rc;

	if (dbh->pg.conn)
		return dbh_pg_exec(L, &dbh->pg, sql, false, done);
	if (!dbh->sq) {
		/* a pgsql query given up midway closed the connection */
		lua_pushstring(L, txt_not_connected);
		return done(L, false, NULL);
	}
	rc = sqlite3_exec(dbh->sq, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		push_sqlite_msg(L, msg, rc);
	return done(L, rc == SQLITE_OK, NULL);
}

static void push_sqlite_row(lua_State *L, sqlite3_stmt *stmt)
{
	int i, n = sqlite3_column_count(stmt);

	lua_createtable(L, 0, n);
	for (i = 0; i < n; i++) {
		const char *name = sqlite3_column_name(stmt, i);
		/* sqlite3_column_bytes after _text: the length of the text form */
		const unsigned char *v = sqlite3_column_text(stmt, i);
		size_t len = v ? (size_t)sqlite3_column_bytes(stmt, i) : 0;

		lua_pushstring(L, name ? name : "");
		lua_pushlstring(L, v ? (const char *)v : "", len);
		lua_rawset(L, -3);
	}
}

static void push_pg_row(lua_State *L, const PGresult *res, int row)
{
	int i, n = PQnfields(res);

	lua_createtable(L, 0, n);
	for (i = 0; i < n; i++) {
		lua_pushstring(L, PQfname(res, i));
		/* NULL reads as "" (PQgetvalue's own answer), as in FreeSWITCH */
		lua_pushlstring(L, PQgetvalue(res, row, i), (size_t)PQgetlength(res, row, i));
		lua_rawset(L, -3);
	}
}

/* A new cursor in a to-be-closed slot on top of the stack. */
static struct cursor *cursor_push(lua_State *L)
{
	struct cursor *cur = lua_newuserdatauv(L, sizeof(*cur), 0);

	memset(cur, 0, sizeof(*cur));
	luaL_setmetatable(L, CURSOR_MT);
	lua_toclose(L, -1);
	return cur;
}

/* __close and __gc */
static int cursor_close(lua_State *L)
{
	struct cursor *cur = luaL_checkudata(L, 1, CURSOR_MT);

	sqlite3_finalize(cur->stmt);
	PQclear(cur->res);
	cur->stmt = NULL;
	cur->res = NULL;
	return 0;
}

static int sqlite_next(lua_State *L, sqlite3 *db, struct cursor *cur)
{
	const char *next;
	int rc;

	for (;;) {
		if (!cur->stmt) {
			if (!*cur->tail)
				return 0;
			rc = sqlite3_prepare_v2(db, cur->tail, -1, &cur->stmt, &next);
			if (rc != SQLITE_OK) {
				lua_pushstring(L, sqlite3_errmsg(db));
				return -1;
			}
			cur->tail = next;
			if (!cur->stmt)
				continue;   /* only white space or a comment was left */
		}
		rc = sqlite3_step(cur->stmt);
		if (rc == SQLITE_ROW) {
			push_sqlite_row(L, cur->stmt);
			return 1;
		}
		if (rc != SQLITE_DONE) {
			lua_pushstring(L, sqlite3_errmsg(db));
			return -1;
		}
		sqlite3_finalize(cur->stmt);
		cur->stmt = NULL;
	}
}

/*
 * Pushes the next row as {column = "value"} and returns 1; returns 0 after the
 * last row, or -1 with the reason pushed.
 */
static int cursor_next(lua_State *L, struct dbh *dbh, struct cursor *cur)
{
	/* a callback may release the handle under its own query */
	if (!connected(dbh)) {
		lua_pushliteral(L, "the handle was released during the query");
		return -1;
	}
	if (!cur->res)
		return sqlite_next(L, dbh->sq, cur);
	if (cur->row >= PQntuples(cur->res))
		return 0;
	push_pg_row(L, cur->res, cur->row++);
	return 1;
}

/*
 * query with a callback. The stack is 1 dbh, 2 sql, 3 callback, 4 cursor. The
 * callback is called with lua_callk so that it may wait (session methods) and
 * be preempted like any other script code; query_k continues after a yield.
 */
static int query_step(lua_State *L);

static int query_end(lua_State *L, int r)
{
	if (r < 0)
		record_error(L, lua_tostring(L, 2));
	lua_closeslot(L, 4);
	lua_pushboolean(L, r >= 0);
	return 1;
}

/*
 * A non-zero number stops the rows and the query succeeds. FreeSWITCH reads
 * lua_tonumber, so "1" stops too, and true does not.
 */
static int query_k(lua_State *L, int status, lua_KContext ctx)
{
	(void)status;
	(void)ctx;
	if (lua_tonumber(L, -1) != 0)
		return query_end(L, 0);
	lua_pop(L, 1);
	return query_step(L);
}

static int query_step(lua_State *L)
{
	struct dbh *dbh = lua_touserdata(L, 1);
	struct cursor *cur = lua_touserdata(L, 4);
	int r;

	while ((r = cursor_next(L, dbh, cur)) > 0) {
		lua_pushvalue(L, 3);
		lua_insert(L, -2);
		lua_callk(L, 1, 1, 0, query_k);
		if (lua_tonumber(L, -1) != 0)
			return query_end(L, 0);
		lua_pop(L, 1);
	}
	return query_end(L, r);
}

/* query without a callback */
static int query_done(lua_State *L, bool ok, PGresult *res)
{
	(void)res;
	if (!ok)
		record_error(L, lua_tostring(L, 2));
	lua_pushboolean(L, ok);
	return 1;
}

/* pgsql's rows are in: the callback gets them */
static int query_fetched(lua_State *L, bool ok, PGresult *res)
{
	if (!ok) {
		record_error(L, lua_tostring(L, 2));
		lua_pushboolean(L, 0);
		return 1;
	}
	cursor_push(L)->res = res;
	return query_step(L);
}

/* dbh:query(sql [, function(row) ... end]) -> bool */
static int dbh_query(lua_State *L)
{
	struct dbh *dbh = check_dbh(L);
	const char *sql = luaL_checkstring(L, 2);
	const char *why = unusable(dbh, sql);

	if (!lua_isnoneornil(L, 3))
		luaL_checktype(L, 3, LUA_TFUNCTION);
	lua_settop(L, 3);
	if (why)
		return refuse(L, why);
	if (lua_isnil(L, 3))
		return exec_then(L, dbh, sql, query_done);
	if (dbh->pg.conn)
		return dbh_pg_exec(L, &dbh->pg, sql, true, query_fetched);
	/* SQLite prepares statement by statement as rows are read */
	cursor_push(L)->tail = sql;
	return query_step(L);
}

/* query_rows' results: the stack is 1 dbh, 2 sql, 3 rows. */
static int rows_end(lua_State *L, int r)
{
	lua_pushboolean(L, r == 0);
	lua_pushvalue(L, 3);
	if (r == 0)
		lua_pushnil(L);
	else
		lua_getiuservalue(L, 1, 1);
	return 3;
}

/* Reads every row into the table at 3, from the cursor at 4. */
static int rows_collect(lua_State *L)
{
	struct dbh *dbh = lua_touserdata(L, 1);
	struct cursor *cur = lua_touserdata(L, 4);
	lua_Integer n = 0;
	int r;

	while ((r = cursor_next(L, dbh, cur)) > 0)
		lua_rawseti(L, 3, ++n);
	if (r < 0)
		record_error(L, lua_tostring(L, 2));
	lua_closeslot(L, 4);
	return rows_end(L, r);
}

static int rows_fetched(lua_State *L, bool ok, PGresult *res)
{
	if (!ok) {
		record_error(L, lua_tostring(L, 2));
		return rows_end(L, -1);
	}
	cursor_push(L)->res = res;
	return rows_collect(L);
}

/*
 * dbh:query_rows(sql) -> ok, rows, err. On failure rows holds what came
 * before the error and err is the reason (also kept as last_error).
 */
static int dbh_query_rows(lua_State *L)
{
	struct dbh *dbh = check_dbh(L);
	const char *sql = luaL_checkstring(L, 2);
	const char *why = unusable(dbh, sql);

	lua_settop(L, 2);
	lua_newtable(L);
	if (why) {
		keep_error(L, why);
		return rows_end(L, -1);
	}
	if (dbh->pg.conn)
		return dbh_pg_exec(L, &dbh->pg, sql, true, rows_fetched);
	cursor_push(L)->tail = sql;
	return rows_collect(L);
}

static int dbh_connected(lua_State *L)
{
	lua_pushboolean(L, connected(check_dbh(L)));
	return 1;
}

static int dbh_affected_rows(lua_State *L)
{
	struct dbh *dbh = check_dbh(L);

	if (dbh->sq)
		lua_pushinteger(L, sqlite3_changes(dbh->sq));
	else if (dbh->pg.conn)
		lua_pushinteger(L, dbh->pg.changes);
	else
		lua_pushinteger(L, 0);
	return 1;
}

/* An error stays until clear_error or the next one, as in FreeSWITCH. */
static int dbh_last_error(lua_State *L)
{
	check_dbh(L);
	lua_getiuservalue(L, 1, 1);
	return 1;
}

static int dbh_clear_error(lua_State *L)
{
	check_dbh(L);
	lua_pushnil(L);
	lua_setiuservalue(L, 1, 1);
	return 0;
}

/* test_reactive's steps: the stack is 1 dbh, 2 test, 3 drop, 4 reactive. */
static int reactive_done(lua_State *L, bool ok, PGresult *res)
{
	(void)res;
	if (!ok)
		record_error(L, lua_tostring(L, 4));
	lua_pushboolean(L, ok);
	return 1;
}

static int reactive_dropped(lua_State *L, bool ok, PGresult *res)
{
	(void)res;
	if (!ok) {
		log_warn("Dbh: test_reactive: ignoring the drop's error: %s [%s]",
			 lua_tostring(L, -1), lua_tostring(L, 3));
		lua_pop(L, 1);
	}
	return exec_then(L, lua_touserdata(L, 1), lua_tostring(L, 4), reactive_done);
}

static int reactive_tested(lua_State *L, bool ok, PGresult *res)
{
	const char *drop = lua_tostring(L, 3);

	(void)res;
	if (ok) {
		lua_pushboolean(L, 1);
		return 1;
	}
	log_debug("Dbh: test_reactive: %s [%s], running the reactive SQL",
		  lua_tostring(L, -1), lua_tostring(L, 2));
	lua_pop(L, 1);
	if (drop && *drop)
		return exec_then(L, lua_touserdata(L, 1), drop, reactive_dropped);
	return reactive_dropped(L, true, NULL);
}

/*
 * dbh:test_reactive(test_sql [, drop_sql [, reactive_sql]]) -> bool. When
 * test_sql fails, drop_sql runs (its error ignored) and then reactive_sql;
 * true when the test passed or the reactive SQL did. FreeSWITCH insists on
 * reactive_sql although the signature makes it optional.
 */
static int dbh_test_reactive(lua_State *L)
{
	struct dbh *dbh = check_dbh(L);
	const char *test = luaL_checkstring(L, 2);
	const char *reactive = luaL_optstring(L, 4, NULL);

	luaL_optstring(L, 3, NULL);   /* drop_sql, read by reactive_tested */
	lua_settop(L, 4);
	if (!connected(dbh))
		return refuse(L, txt_not_connected);
	if (!*test || !reactive || !*reactive)
		return refuse(L, txt_missing_params);
	return exec_then(L, dbh, test, reactive_tested);
}

/*
 * dbh:load_extension(name) -> bool, SQLite only (the spec names no result; a
 * bool like the other methods). Loading is enabled for this call alone and
 * only through the C API, so SQL's load_extension() stays off and a query can
 * never load a library.
 */
static int dbh_load_extension(lua_State *L)
{
	struct dbh *dbh = check_dbh(L);
	const char *name = luaL_checkstring(L, 2);
	char *msg = NULL;
	int rc;

	if (!*name)
		return refuse(L, txt_missing_ext);
	if (dbh->pg.conn)
		return refuse(L, "Dbh: load_extension is for sqlite handles");
	if (!dbh->sq)
		return refuse(L, txt_not_connected);
	sqlite3_db_config(dbh->sq, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 1, NULL);
	rc = sqlite3_load_extension(dbh->sq, name, NULL, &msg);
	sqlite3_db_config(dbh->sq, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
	if (rc != SQLITE_OK) {
		push_sqlite_msg(L, msg, rc);
		log_err("Dbh: cannot load extension %s: %s", name, lua_tostring(L, -1));
		lua_setiuservalue(L, 1, 1);
	}
	lua_pushboolean(L, rc == SQLITE_OK);
	return 1;
}

static void dbh_close(struct dbh *dbh)
{
	/* _v2: a cursor still holding a statement keeps the connection until it is finalised */
	sqlite3_close_v2(dbh->sq);
	dbh->sq = NULL;
	dbh_pg_close(&dbh->pg);
}

/* dbh:release() -> bool: true when it closed a connection. */
static int dbh_release(lua_State *L)
{
	struct dbh *dbh = check_dbh(L);
	bool was = connected(dbh);

	dbh_close(dbh);
	lua_pushboolean(L, was);
	return 1;
}

static int dbh_gc(lua_State *L)
{
	dbh_close(check_dbh(L));
	return 0;
}

/*
 * FreeSWITCH opens a name as <db_dir>/<name>.db; we add ".db" only when the
 * name has no extension of its own. db_dir is created when missing.
 */
static bool sqlite_path(lua_State *L, char *buf, size_t sz, const char *name)
{
	char *dir = vars_global_dup("db_dir");
	const char *base = strrchr(name, '/');
	bool ext = strchr(base ? base + 1 : name, '.') != NULL;
	size_t dlen = dir ? strlen(dir) : 0;
	int n;

	if (!dlen) {
		mem_deref(dir);
		lua_pushliteral(L, "the global variable db_dir is not set");
		return false;
	}
	n = snprintf(buf, sz, "%s/%s%s", dir, name, ext ? "" : ".db");
	mem_deref(dir);
	if (n < 0 || (size_t)n >= sz) {
		lua_pushliteral(L, "the database path is too long");
		return false;
	}
	buf[dlen] = '\0';
	if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
		lua_pushfstring(L, "cannot create db_dir %s: %s", buf, strerror(errno));
		return false;
	}
	buf[dlen] = '/';
	return true;
}

/* sqlite://name, sqlite:///abs/path or sqlite://:memory:. On failure pushes the reason. */
static bool sqlite_connect(lua_State *L, struct dbh *dbh, const char *name)
{
	char buf[PATH_MAX];
	const char *path = name;
	int rc;

	if (!*name) {
		lua_pushliteral(L, "sqlite:// needs a database name");
		return false;
	}
	if (name[0] != '/' && strcmp(name, ":memory:")) {
		if (!sqlite_path(L, buf, sizeof(buf), name))
			return false;
		path = buf;
	}
	rc = sqlite3_open_v2(path, &dbh->sq, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		lua_pushfstring(L, "cannot open %s: %s", path,
				dbh->sq ? sqlite3_errmsg(dbh->sq) : sqlite3_errstr(rc));
		sqlite3_close(dbh->sq);
		dbh->sq = NULL;
		return false;
	}
	sqlite3_busy_timeout(dbh->sq, SQLITE_BUSY_MS);
	return true;
}

/* odbc:// and the rest. Names only the scheme: an odbc:// DSN carries the password. */
static bool unsupported(lua_State *L, const char *dsn)
{
	const char *sep = strstr(dsn, "://");
	char buf[128];

	if (sep && sep - dsn < 32)
		snprintf(buf, sizeof(buf), "unsupported DSN %.*s:// (sqlite:// and pgsql:// only)",
			 (int)(sep - dsn), dsn);
	else
		snprintf(buf, sizeof(buf), "unsupported DSN (sqlite:// and pgsql:// only)");
	lua_pushstring(L, buf);
	return false;
}

/* The stack is 1 dsn, 2 user, 3 pass, 4 the Dbh. */
static int connect_done(lua_State *L, bool ok, PGresult *res)
{
	(void)res;
	if (!ok) {
		log_err("Dbh: %s", lua_tostring(L, -1));
		log_crit("%s", txt_connect_failed);
		lua_setiuservalue(L, 4, 1);
	}
	return 1;
}

/*
 * freeswitch.Dbh(dsn [, user [, pass]]). A handle that did not connect is
 * still returned: connected() says false and every query fails. pgsql://
 * hands a libpq conninfo or URI over as FreeSWITCH does.
 */
static int dbh_new(lua_State *L)
{
	const char *dsn = luaL_checkstring(L, 1);
	const char *user = luaL_optstring(L, 2, NULL);
	const char *pass = luaL_optstring(L, 3, NULL);
	struct dbh *dbh;
	bool ok;

	lua_settop(L, 3);
	dbh = lua_newuserdatauv(L, sizeof(*dbh), 1);
	memset(dbh, 0, sizeof(*dbh));
	luaL_setmetatable(L, DBH_MT);

	if (!strncasecmp(dsn, "sqlite://", 9))
		ok = sqlite_connect(L, dbh, dsn + 9);
	else if (!strncasecmp(dsn, "pgsql://", 8))
		return dbh_pg_connect(L, &dbh->pg, dsn + 8, user, pass, connect_done);
	else
		ok = unsupported(L, dsn);
	return connect_done(L, ok, NULL);
}

static const luaL_Reg dbh_methods[] = {
	{"connected",      dbh_connected},
	{"query",          dbh_query},
	{"query_rows",     dbh_query_rows},
	{"affected_rows",  dbh_affected_rows},
	{"last_error",     dbh_last_error},
	{"clear_error",    dbh_clear_error},
	{"test_reactive",  dbh_test_reactive},
	{"release",        dbh_release},
	{"load_extension", dbh_load_extension},
	{NULL, NULL}
};

void script_bind_dbh(lua_State *L)
{
	luaL_newmetatable(L, DBH_MT);
	luaL_newlib(L, dbh_methods);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, dbh_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);

	luaL_newmetatable(L, CURSOR_MT);
	lua_pushcfunction(L, cursor_close);
	lua_setfield(L, -2, "__close");
	lua_pushcfunction(L, cursor_close);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);

	lua_pushcfunction(L, dbh_new);
	lua_setfield(L, -2, "Dbh");
}
