/*
 * bind_play.c - the Session methods that play and collect (spec/lua.md 7):
 * sleep, collectDigits, streamFile, speak, say, sayPhrase, getDigits and the
 * flushes. Each waits for its operation with the input callback hearing digits
 * and events meanwhile, and may be stopped by what the callback replies.
 */
#include <errno.h>
#include <string.h>
#include <re.h>
#include "channel/channel.h"
#include "core/log.h"
#include "dialplan/say.h"
#include "lua/lua_int.h"
#include "lua/session_int.h"
#include "media/play.h"

static void op_timer(void *arg)
{
	struct sop *op = arg;

	op->done = true;
	sop_wake(op);
}

static int sleep_resume(lua_State *L, void *data)
{
	struct sop *op = data;
	struct lsession *ss = op->ss;
	bool stop = lsess_feed_callback(L, ss, 1);

	if (!stop && !op->done && lsess_up(ss))
		return script_wait(L, sleep_resume, sop_cancel, op);
	sop_end(op);
	mem_deref(op);
	lua_pushinteger(L, lsess_up(ss) ? 1 : 0);
	return 1;
}

static int wait_with_callback(lua_State *L, struct lsession *ss, lua_Integer ms)
{
	struct sop *op;

	lsess_run_hook(L, ss, 1);
	if (!lsess_up(ss) || ms <= 0) {
		lua_pushinteger(L, lsess_up(ss) ? 1 : 0);
		return 1;
	}
	op = sop_alloc(L, ss, SOP_SLEEP);
	tmr_start(&op->tmr, (uint64_t)ms, op_timer, op);
	ss->op = op;
	if (ss->cb_fn && (lsess_has_digit(ss) || ss->nev))
		sop_wake(op);
	return script_wait(L, sleep_resume, sop_cancel, op);
}

static int s_sleep(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);

	return wait_with_callback(L, ss, luaL_checkinteger(L, 2));
}

/* collectDigits([digit_timeout,] abs_timeout): the callback hears digits meanwhile. */
static int s_collect_digits(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);
	lua_Integer ms = luaL_checkinteger(L, lua_gettop(L) >= 3 ? 3 : 2);

	wait_with_callback(L, ss, ms);
	lua_pushinteger(L, 0);
	return 1;
}

static void play_done(int err, void *arg)
{
	struct sop *op = arg;

	op->done = true;
	op->result = err;
	sop_wake(op);
	mem_deref(op);               /* the player's reference */
}

static int play_resume(lua_State *L, void *data)
{
	struct sop *op = data;
	struct lsession *ss = op->ss;
	bool stop = lsess_feed_callback(L, ss, 1);

	if (!stop && !op->done && lsess_up(ss))
		return script_wait(L, play_resume, sop_cancel, op);
	/*
	 * Only a channel that is up has media to stop: at the hangup the stream
	 * (and the endpoint's call that channel_media asks) goes, and the player
	 * with it.
	 */
	if (!op->done && !op->stopped && lsess_chan_up(ss))
		media_play_stop(channel_media(ss->ch));
	sop_end(op);
	lua_pushinteger(L, op->result == 0 && lsess_up(ss) ? 1 : 0);
	/* A stopped player never calls play_done: drop its reference here. */
	if (!op->done)
		mem_deref(op);
	mem_deref(op);
	return 1;
}

/* Relative files under sound_prefix (channel, then global), as playback does. */
static int play_source(lua_State *L, struct lsession *ss, const char *file)
{
	struct media_play_opts o = {0};
	struct sop *op;
	char *src = NULL;
	int err;

	lsess_run_hook(L, ss, 1);
	if (!lsess_up(ss) || !channel_media(ss->ch)) {
		lua_pushinteger(L, 0);
		return 1;
	}
	if (!script_can_wait(L))
		return luaL_error(L, "session:streamFile: cannot wait here");
	if (!channel_answered(ss->ch))
		(void)channel_pre_answer(ss->ch);
	op = sop_alloc(L, ss, SOP_PLAY);
	o.prefix = channel_var(ss->ch, "sound_prefix");
	mem_ref(op);                 /* held by the player until it is done */
	/* say: and phrase: sources, as switch_ivr_play_file takes them. */
	err = say_expand(&src, ss->ch, file);
	if (!err)
		err = media_play_ex(channel_media(ss->ch), src, &o, play_done, op);
	mem_deref(src);
	if (err) {
		log_warn("lua: %s: cannot play %s: %s\n", channel_name(ss->ch), file,
			 strerror(err));
		mem_deref(op);
		mem_deref(op);
		lua_pushinteger(L, 0);
		return 1;
	}
	ss->op = op;
	if (ss->cb_fn && (lsess_has_digit(ss) || ss->nev))
		sop_wake(op);
	return script_wait(L, play_resume, sop_cancel, op);
}

static int s_stream_file(lua_State *L)
{
	return play_source(L, lsess_check(L, 1), luaL_checkstring(L, 2));
}

/*
 * play_source for a source the caller allocated: it is kept on the Lua stack
 * instead, since play_source may yield and never return here to free it.
 */
static int play_owned(lua_State *L, struct lsession *ss, char *src)
{
	lua_pushstring(L, src);
	mem_deref(src);
	return play_source(L, ss, lua_tostring(L, -1));
}

/*
 * Speech, say and phrases (spec/lua.md 7): sources for play_source, so the
 * input callback hears digits as during streamFile. speak() without
 * set_tts_params returns 0 at once, as mod_lua does.
 */
static int s_speak(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);
	const char *text = luaL_checkstring(L, 2);
	char *src = NULL;

	if (!lsess_up(ss) || say_tts_source(&src, ss->ch, NULL, NULL, text)) {
		if (lsess_up(ss))
			log_warn("lua: %s: speak without set_tts_params\n", channel_name(ss->ch));
		lua_pushinteger(L, 0);
		return 1;
	}
	return play_owned(L, ss, src);
}

static int s_set_tts_params(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);

	if (lsess_up(ss)) {
		channel_var_set(ss->ch, "tts_engine", luaL_optstring(L, 2, NULL));
		channel_var_set(ss->ch, "tts_voice", luaL_optstring(L, 3, NULL));
	}
	return 0;
}

/* say(text, module, type, method [, gender]) */
static int s_say(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);
	char *src = NULL;
	int err;

	err = say_source(&src, luaL_checkstring(L, 3), luaL_checkstring(L, 4),
			 luaL_checkstring(L, 5), luaL_optstring(L, 6, NULL),
			 luaL_checkstring(L, 2));
	if (err) {
		log_warn("lua: say %s as %s %s: %s\n", lua_tostring(L, 2), lua_tostring(L, 4),
			 lua_tostring(L, 5), strerror(err));
		lua_pushinteger(L, 0);
		return 1;
	}
	return play_owned(L, ss, src);
}

/* sayPhrase(name [, data [, lang]]) */
static int s_say_phrase(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);
	char *src = NULL;

	if (!lsess_up(ss) || phrase_source(&src, ss->ch, luaL_checkstring(L, 2),
					  luaL_optstring(L, 3, ""), luaL_optstring(L, 4, NULL))) {
		lua_pushinteger(L, 0);
		return 1;
	}
	return play_owned(L, ss, src);
}

/*
 * Take queued digits: true when collection is complete (max reached or a
 * terminator, which is not included).
 */
static bool take_digits(struct sop *op, struct lsession *ss)
{
	char d;

	while (lsess_next_digit(ss, &d)) {
		if (op->terms[0] && strchr(op->terms, d)) {
			char t[2] = {d, '\0'};

			channel_var_set(ss->ch, "read_terminator_used", t);
			return true;
		}
		op->digits[op->ndigits++] = d;
		op->digits[op->ndigits] = '\0';
		if (op->ndigits >= op->max)
			return true;
	}
	return false;
}

static int digits_resume(lua_State *L, void *data)
{
	struct sop *op = data;
	struct lsession *ss = op->ss;
	size_t before = op->ndigits;
	bool complete = lsess_up(ss) && take_digits(op, ss);

	if (!complete && !op->done && lsess_up(ss)) {
		/* After a digit the inter-digit timeout applies. */
		if (op->ndigits != before)
			tmr_start(&op->tmr, op->inter_ms, op_timer, op);
		return script_wait(L, digits_resume, sop_cancel, op);
	}
	sop_end(op);
	lua_pushstring(L, op->digits);
	mem_deref(op);
	return 1;
}

/* getDigits(max, terminators, timeout [, interdigit [, abs_timeout]]) */
static int s_get_digits(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);
	lua_Integer max = luaL_checkinteger(L, 2);
	const char *terms = luaL_checkstring(L, 3);
	lua_Integer timeout = luaL_checkinteger(L, 4);
	lua_Integer inter = luaL_optinteger(L, 5, timeout);
	lua_Integer abs_ms = luaL_optinteger(L, 6, 0);
	struct sop *op;

	lsess_run_hook(L, ss, 1);
	if (!lsess_up(ss) || max <= 0) {
		lua_pushstring(L, "");
		return 1;
	}
	op = sop_alloc(L, ss, SOP_DIGITS);
	op->max = max > DTMF_MAX ? DTMF_MAX : (size_t)max;
	str_ncpy(op->terms, terms, sizeof(op->terms));
	op->inter_ms = inter > 0 ? (unsigned)inter : (unsigned)timeout;
	if (take_digits(op, ss)) {
		lua_pushstring(L, op->digits);
		mem_deref(op);
		return 1;
	}
	if (!script_can_wait(L)) {
		mem_deref(op);
		return luaL_error(L, "session:getDigits: cannot wait here");
	}
	tmr_start(&op->tmr, op->ndigits ? op->inter_ms : (uint64_t)(timeout > 0 ? timeout : 1),
		  op_timer, op);
	if (abs_ms > 0)
		tmr_start(&op->tmr_abs, (uint64_t)abs_ms, op_timer, op);
	ss->op = op;
	return script_wait(L, digits_resume, sop_cancel, op);
}

static int s_flush_digits(lua_State *L)
{
	struct lsession *ss = lsess_check(L, 1);

	ss->ndtmf = 0;
	ss->dtmf[0] = '\0';
	channel_dtmf_flush(ss->ch);
	lua_pushinteger(L, 0);
	return 1;
}

static int s_flush_events(lua_State *L)
{
	lsess_flush_events(lsess_check(L, 1));
	lua_pushinteger(L, 0);
	return 1;
}

void script_bind_session_play(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"sleep", s_sleep},
		{"collectDigits", s_collect_digits},
		{"streamFile", s_stream_file},
		{"speak", s_speak},
		{"set_tts_params", s_set_tts_params},
		{"set_tts_parms", s_set_tts_params},
		{"say", s_say},
		{"sayPhrase", s_say_phrase},
		{"getDigits", s_get_digits},
		{"flushDigits", s_flush_digits},
		{"flushEvents", s_flush_events},
		{NULL, NULL},
	};

	luaL_setfuncs(L, methods, 0);
}
