/*
 * dbh_int.h - between bind_dbh.c (the Dbh object) and dbh_pgsql.c (its
 * PostgreSQL connection, driven without blocking the signalling thread).
 */
#ifndef CONFAB_LUA_DBH_INT_H
#define CONFAB_LUA_DBH_INT_H

#include <stdbool.h>
#include <libpq-fe.h>
#include "lua/lua_int.h"

struct dbh_pg {
	PGconn *conn;            /* NULL: not connected */
	int changes;             /* PQcmdTuples of the last command */
	int timeout_s;           /* connect_timeout in effect, 0: none */
};

/*
 * How an operation ends: ok, or not with the reason pushed onto L. res is the
 * last statement's result when rows were asked for and ok (never NULL then);
 * h owns it. h runs in the binding's call (its arguments where they were) and
 * returns what the binding returns.
 */
typedef int (dbh_done_h)(lua_State *L, bool ok, PGresult *res);

/*
 * Connect to a libpq conninfo or URI; user and pass, when given, override the
 * conninfo's. The run waits until the server has answered, at most for the
 * connect timeout; where it cannot wait, the thread blocks, for that long at
 * most. Returns what h returns.
 */
int  dbh_pg_connect(lua_State *L, struct dbh_pg *pg, const char *conninfo,
		    const char *user, const char *pass, dbh_done_h *h);
/*
 * Run sql (every statement in it; the last one's result counts), which
 * must be connected. `rows`: h gets the result. The run waits for the
 * answer, as long as the server takes; where it cannot wait, the thread
 * blocks, for the connect timeout (5 s without one) at most, after which the
 * connection is closed. Returns what h returns.
 */
int  dbh_pg_exec(lua_State *L, struct dbh_pg *pg, const char *sql, bool rows,
		 dbh_done_h *h);
void dbh_pg_close(struct dbh_pg *pg);

#endif
