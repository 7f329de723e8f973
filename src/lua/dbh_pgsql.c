/*
 * dbh_pgsql.c - Dbh's PostgreSQL connections through libpq's asynchronous API:
 * the run waits (script_wait) while the socket is watched on the loop.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "core/log.h"
#include "lua/dbh_int.h"

enum {
	/* libpq waits for ever by default; a DSN's own connect_timeout wins */
	CONNECT_TIMEOUT_S = 5,
	/* libpq's own floor for connect_timeout (fe-connect.c, connectDBComplete) */
	CONNECT_TIMEOUT_MIN_S = 2,
};

static const char txt_no_copy[] = "COPY is not supported by Dbh";
/* libpq's text for an expired connect_timeout */
static const char txt_timeout[] = "timeout expired";

enum phase { PG_CONNECT, PG_QUERY };

/*
 * One connect or query. While the run waits, the wait holds it and it
 * points into the Dbh object, which the suspended call's arguments keep.
 */
struct pg_op {
	struct dbh_pg *pg;
	struct script *s;            /* the waiting run, NULL while it blocks */
	dbh_done_h *doneh;
	struct tmr tmr;              /* the connect deadline */
	PGresult *res;               /* the last statement's result so far */
	const char *why;             /* our own reason to fail, or NULL */
	int fd;                      /* the socket listened on, -1: none */
	enum phase phase;
	bool rows;                   /* doneh gets res */
	bool copy;                   /* a COPY was refused */
	bool copy_out;               /* draining that COPY's rows */
	bool failed;                 /* libpq failed: PQerrorMessage says why */
};

/* Length of s without its trailing white space (libpq ends messages in '\n'). */
static int trimmed_len(const char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return n > INT_MAX ? INT_MAX : (int)n;
}

static void push_trimmed(lua_State *L, const char *s)
{
	lua_pushlstring(L, s, (size_t)trimmed_len(s));
}

static void pg_notice(void *arg, const char *msg)
{
	(void)arg;
	log_notice("Dbh: %.*s", trimmed_len(msg), msg);
}

static void op_unlisten(struct pg_op *op)
{
	if (op->fd >= 0)
		fd_close(op->fd);
	op->fd = -1;
}

static void op_destructor(void *data)
{
	struct pg_op *op = data;

	op_unlisten(op);
	tmr_cancel(&op->tmr);
	PQclear(op->res);
}

/* Fails the operation with libpq's reason; 0: nothing more to wait for. */
static int op_fail(struct pg_op *op)
{
	op->failed = true;
	return 0;
}

/*
 * Ends a COPY: FROM STDIN is refused (the server then fails the statement),
 * TO STDOUT is read to its end. Otherwise every later command would fail.
 */
static int refuse_copy(struct pg_op *op, ExecStatusType st)
{
	op->copy = true;
	if ((st == PGRES_COPY_IN || st == PGRES_COPY_BOTH) &&
	    PQputCopyEnd(op->pg->conn, txt_no_copy) < 0)
		return -1;
	op->copy_out = st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH;
	return 0;
}

/* Reads a refused COPY's rows: 1 when it is over, 0 for more, -1 on failure. */
static int drain_copy(struct pg_op *op)
{
	char *buf;
	int n;

	while ((n = PQgetCopyData(op->pg->conn, &buf, 1)) > 0)
		PQfreemem(buf);
	if (n == -2)
		return -1;
	if (n == 0)
		return 0;
	op->copy_out = false;
	return 1;
}

/*
 * Reads the results that have come, keeping the last (PQexec's answer):
 * 1 when all are in, 0 when more must come, 2 after refusing a COPY (its end
 * is to be sent or its rows read), -1 on failure.
 */
static int read_results(struct pg_op *op)
{
	PGconn *conn = op->pg->conn;
	ExecStatusType st;
	PGresult *res;

	while (!PQisBusy(conn)) {
		res = PQgetResult(conn);
		if (!res)
			return 1;
		st = PQresultStatus(res);
		if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
			PQclear(res);
			return refuse_copy(op, st) < 0 ? -1 : 2;
		}
		PQclear(op->res);
		op->res = res;
	}
	return 0;
}

/*
 * Sends what is left of the query and reads what has come. Returns the
 * events to wait for, 0 when done.
 */
static int query_step(struct pg_op *op)
{
	PGconn *conn = op->pg->conn;
	int flush, r;

	for (;;) {
		flush = PQflush(conn);
		if (flush < 0 || !PQconsumeInput(conn))
			return op_fail(op);
		if (op->copy_out) {
			r = drain_copy(op);
			if (r < 0)
				return op_fail(op);
			if (r == 0)
				break;
		}
		r = read_results(op);
		if (r < 0)
			return op_fail(op);
		if (r == 1)
			return 0;
		if (r == 0)
			break;
	}
	return FD_READ | (flush ? FD_WRITE : 0);
}

static int connect_step(struct pg_op *op)
{
	PGconn *conn = op->pg->conn;

	switch (PQconnectPoll(conn)) {
	case PGRES_POLLING_READING:
		return FD_READ;
	case PGRES_POLLING_WRITING:
		return FD_WRITE;
	case PGRES_POLLING_OK:
		/* sends never block the loop, PQfinish's neither */
		if (PQsetnonblocking(conn, 1) < 0)
			return op_fail(op);
		/* libpq prints NOTICEs on stderr by default */
		PQsetNoticeProcessor(conn, pg_notice, NULL);
		return 0;
	default:
		return op_fail(op);
	}
}

static int op_step(struct pg_op *op)
{
	return op->phase == PG_CONNECT ? connect_step(op) : query_step(op);
}

static void op_io(int flags, void *arg);

static int op_listen(struct pg_op *op, int want)
{
	int fd = PQsocket(op->pg->conn);
	int err;

	if (fd < 0) {
		op->why = "the connection has no socket";
		return EBADF;
	}
	err = fd_listen(fd, want, op_io, op);
	if (err) {
		log_err("Dbh: cannot watch the database socket %d: %s", fd, strerror(err));
		op->why = "cannot watch the database socket";
		return err;
	}
	op->fd = fd;
	return 0;
}

static void op_finish(struct pg_op *op)
{
	op_unlisten(op);
	tmr_cancel(&op->tmr);
	script_wake(op->s);
}

static void op_io(int flags, void *arg)
{
	struct pg_op *op = arg;
	int want;

	(void)flags;
	/* connecting, libpq may close the socket and open another (next address) */
	if (op->phase == PG_CONNECT)
		op_unlisten(op);
	want = op_step(op);
	if (!want || op_listen(op, want))
		op_finish(op);
}

static void op_timeout(void *arg)
{
	struct pg_op *op = arg;

	op->why = txt_timeout;
	op_finish(op);
}

/* The bound of a wait where the run cannot wait: the thread is stuck meanwhile. */
static int block_ms(const struct dbh_pg *pg)
{
	return (pg->timeout_s > 0 ? pg->timeout_s : CONNECT_TIMEOUT_S) * 1000;
}

static void op_block(struct pg_op *op, int want)
{
	uint64_t deadline = tmr_jiffies() + (uint64_t)block_ms(op->pg);
	struct pollfd pfd;
	uint64_t now;
	int n;

	while (want) {
		pfd.fd = PQsocket(op->pg->conn);
		pfd.events = (want & FD_READ ? POLLIN : 0) | (want & FD_WRITE ? POLLOUT : 0);
		now = tmr_jiffies();
		if (pfd.fd < 0) {
			op->why = "the connection has no socket";
			return;
		}
		if (now >= deadline) {
			op->why = txt_timeout;
			return;
		}
		n = poll(&pfd, 1, (int)(deadline - now));
		if (n < 0 && errno != EINTR) {
			op->why = "cannot wait for the database socket";
			return;
		}
		if (n > 0)
			want = op_step(op);
	}
}

/* Pushes why a finished query failed, or returns true. */
static bool query_ok(lua_State *L, struct pg_op *op)
{
	PGconn *conn = op->pg->conn;
	ExecStatusType st = PQresultStatus(op->res);   /* NULL: PGRES_FATAL_ERROR */

	if (op->why) {
		lua_pushstring(L, op->why);
		return false;
	}
	if (op->copy) {
		lua_pushstring(L, txt_no_copy);
		return false;
	}
	if (!op->failed && op->res &&
	    (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY))
		return true;
	if (!op->failed && op->res && *PQresultErrorMessage(op->res))
		push_trimmed(L, PQresultErrorMessage(op->res));
	else if (*PQerrorMessage(conn))
		push_trimmed(L, PQerrorMessage(conn));
	else
		lua_pushstring(L, PQresStatus(st));
	return false;
}

/* Hands the outcome over to doneh and frees the operation. */
static int op_result(lua_State *L, struct pg_op *op)
{
	struct dbh_pg *pg = op->pg;
	dbh_done_h *doneh = op->doneh;
	PGresult *res = NULL;
	bool ok;

	if (op->phase == PG_CONNECT) {
		ok = !op->why && !op->failed;
		if (op->why)
			lua_pushstring(L, op->why);
		else if (!ok)
			push_trimmed(L, PQerrorMessage(pg->conn));
	} else {
		ok = query_ok(L, op);
		if (ok) {
			pg->changes = atoi(PQcmdTuples(op->res));
			if (op->rows) {
				res = op->res;
				op->res = NULL;
			}
		}
	}
	/* a connection that failed, or a query given up midway, is closed */
	if (op->phase == PG_CONNECT ? !ok : op->why != NULL)
		dbh_pg_close(pg);
	mem_deref(op);
	return doneh(L, ok, res);
}

static int op_resume(lua_State *L, void *data)
{
	return op_result(L, data);
}

/* The run is torn down while waiting: its query's state is unknown, close it. */
static void op_cancel(void *data)
{
	struct pg_op *op = data;

	op_unlisten(op);
	tmr_cancel(&op->tmr);
	dbh_pg_close(op->pg);
	mem_deref(op);
}

/* Waits for op to complete, the run suspended if it can be, else blocking. */
static int op_wait(lua_State *L, struct pg_op *op, int want)
{
	if (want && script_can_wait(L)) {
		if (!op_listen(op, want)) {
			op->s = script_of(L);
			if (op->phase == PG_CONNECT && op->pg->timeout_s > 0)
				tmr_start(&op->tmr, (uint64_t)op->pg->timeout_s * 1000,
					  op_timeout, op);
			return script_wait(L, op_resume, op_cancel, op);
		}
		want = 0;
	}
	if (want)
		op_block(op, want);
	return op_result(L, op);
}

static struct pg_op *op_new(struct dbh_pg *pg, enum phase phase, bool rows,
			    dbh_done_h *doneh)
{
	struct pg_op *op = mem_zalloc(sizeof(*op), op_destructor);

	if (!op)
		return NULL;
	op->pg = pg;
	op->phase = phase;
	op->rows = rows;
	op->doneh = doneh;
	op->fd = -1;
	tmr_init(&op->tmr);
	return op;
}

/* The connection's connect_timeout as libpq applies it; 0: none. */
static int connect_timeout(PGconn *conn)
{
	PQconninfoOption *opts = PQconninfo(conn), *o;
	int t = 0;

	for (o = opts; o && o->keyword; o++) {
		if (!strcmp(o->keyword, "connect_timeout") && o->val)
			t = atoi(o->val);
	}
	PQconninfoFree(opts);
	if (t <= 0)
		return 0;
	return t < CONNECT_TIMEOUT_MIN_S ? CONNECT_TIMEOUT_MIN_S : t;
}

/*
 * Later keywords override earlier ones and the conninfo's own (expand_dbname),
 * so the timeout comes first, a default the DSN may change, and user and pass
 * last: the arguments win, as when FreeSWITCH appends them to the DSN.
 */
int dbh_pg_connect(lua_State *L, struct dbh_pg *pg, const char *conninfo,
		   const char *user, const char *pass, dbh_done_h *h)
{
	const char *keys[5], *vals[5];
	char timeout[16];
	struct pg_op *op;
	size_t n = 0;

	snprintf(timeout, sizeof(timeout), "%d", CONNECT_TIMEOUT_S);
	keys[n] = "connect_timeout";
	vals[n++] = timeout;
	keys[n] = "dbname";
	vals[n++] = conninfo;
	if (user && *user) {
		keys[n] = "user";
		vals[n++] = user;
	}
	if (pass && *pass) {
		keys[n] = "password";
		vals[n++] = pass;
	}
	keys[n] = vals[n] = NULL;

	pg->conn = PQconnectStartParams(keys, vals, 1);
	op = pg->conn ? op_new(pg, PG_CONNECT, false, h) : NULL;
	if (!op) {
		dbh_pg_close(pg);
		lua_pushliteral(L, "out of memory");
		return h(L, false, NULL);
	}
	pg->timeout_s = connect_timeout(pg->conn);
	if (PQstatus(pg->conn) == CONNECTION_BAD) {
		op->failed = true;
		return op_result(L, op);
	}
	/* before the first PQconnectPoll, libpq waits for the socket to be writable */
	return op_wait(L, op, FD_WRITE);
}

int dbh_pg_exec(lua_State *L, struct dbh_pg *pg, const char *sql, bool rows,
		dbh_done_h *h)
{
	struct pg_op *op = op_new(pg, PG_QUERY, rows, h);
	int want;

	if (!op) {
		lua_pushliteral(L, "out of memory");
		return h(L, false, NULL);
	}
	want = PQsendQuery(pg->conn, sql) ? query_step(op) : op_fail(op);
	return op_wait(L, op, want);
}

void dbh_pg_close(struct dbh_pg *pg)
{
	PQfinish(pg->conn);
	pg->conn = NULL;
}
