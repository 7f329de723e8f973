/*
 * session_int.h - what the Session methods' files share (bind_session.c,
 * bind_play.c): the session object, the operation a run waits for, and the
 * helpers about both. Signalling thread only.
 */
#ifndef CONFAB_LUA_SESSION_INT_H
#define CONFAB_LUA_SESSION_INT_H

#include <stdbool.h>
#include <re.h>
#include "channel/channel.h"
#include "lua/lua_int.h"

struct bridge;
struct originate;

enum {
	DTMF_MAX          = 128,     /* digits getDigits collects, heard during recordFile */
	EVENTS_MAX        = 64,      /* events queued by sendEvent */
	ORIGINATE_TIMEOUT = 60,      /* s, as mod_lua's constructor */
};

struct lsession {
	struct le le;                /* in `sessions` */
	struct script *s;
	struct channel *ch;          /* a reference; NULL: empty or failed */
	struct channel_watch *watch;
	char dtmf[DTMF_MAX + 1];
	size_t ndtmf;
	bool autohangup;
	enum hangup_cause cause;     /* of the failed originate or the hangup seen */
	char *hook_fn, *hook_arg;
	bool hook_due, hook_ran;
	const char *hook_why;        /* "hangup" or "transfer" */
	char *cb_fn, *cb_arg;
	struct event *evq[EVENTS_MAX];   /* sendEvent, for the input callback */
	size_t nev;
	struct sop *op;              /* what the run waits for, if on this session */
};

/* An operation the run waits for. Reference-counted: the module running it may
 * outlive the wait (an application still running at shutdown). */
enum sop_kind { SOP_APP, SOP_SLEEP, SOP_PLAY, SOP_DIGITS, SOP_ORIGINATE, SOP_ANSWER,
		SOP_BRIDGE };

struct sop {
	enum sop_kind kind;
	struct script *s;
	struct lsession *ss;         /* NULL for waits not on one session */
	bool cancelled;              /* the run went away: touch nothing of it */
	bool done;
	bool stopped;                /* SOP_PLAY: the player was stopped, never calls back */
	bool record;                 /* SOP_APP: recordFile's record, file commands apply */
	int result;
	int ud;                      /* stack index of the object to return */
	struct tmr tmr, tmr_abs;
	/* SOP_APP */
	char *result_var;            /* push this variable's value when done */
	/* SOP_DIGITS */
	char digits[DTMF_MAX + 1];
	size_t ndigits, max;
	char terms[32];
	unsigned timeout_ms, inter_ms;
	/* SOP_ORIGINATE */
	struct originate *orig;
	struct channel *leg;
	enum hangup_cause cause;
	/* SOP_ANSWER */
	struct channel_watch *other_watch;
	/* SOP_BRIDGE */
	struct bridge *br;
};

/* A new operation on ss (or on no session), one reference for the caller. */
struct sop *sop_alloc(lua_State *L, struct lsession *ss, enum sop_kind kind);
/* What the operation waits for happened: resume the run. */
void sop_wake(struct sop *op);
/* The run is torn down while waiting: stop what can be stopped (script_wait's cancel). */
void sop_cancel(void *data);
/* Finished waiting: the session forgets the operation, the caller pushes. */
void sop_end(struct sop *op);

/* The Session at idx, or a Lua error. */
struct lsession *lsess_check(lua_State *L, int idx);
/* The channel is there and not hanging up: its media may be asked for. */
bool lsess_chan_up(const struct lsession *ss);
/* Ready for the script: up, and still the script's (not after a transfer). */
bool lsess_up(const struct lsession *ss);
/* The next digit for the script: heard during recordFile, else typed ahead. */
bool lsess_next_digit(struct lsession *ss, char *d);
bool lsess_has_digit(const struct lsession *ss);
void lsess_flush_events(struct lsession *ss);
/* The hangup hook, due since the hangup, runs now (sidx: the session's index). */
void lsess_run_hook(lua_State *L, struct lsession *ss, int sidx);
/*
 * Queued events and digits to the input callback; true when its reply says
 * stop what plays.
 */
bool lsess_feed_callback(lua_State *L, struct lsession *ss, int sidx);

/* bind_play.c: sleep, collectDigits, streamFile, speak, say, getDigits ... */
void script_bind_session_play(lua_State *L);

#endif
