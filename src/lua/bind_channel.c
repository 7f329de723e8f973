/*
 * bind_channel.c - the Session methods about the channel's data and the odd
 * ones (spec/lua.md 7): executeString, sendEvent, setEventData, getXMLCDR,
 * setPrivate/getPrivate, print, consoleLog2, insertFile, and the speech
 * methods, which fail as FreeSWITCH's do without an ASR engine.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sndfile.h>
#include <re.h>
#include "channel/channel.h"
#include "core/log.h"
#include "event/event.h"
#include "lua/lua_int.h"

/* Longest result insertFile makes (frames): ten minutes at 48 kHz. */
#define INSERT_MAX_FRAMES (600L * 48000)

/* Registry key of the private values: uuid -> {key = value}. */
static const char privates_key = 'p';

/* executeString("app data"): the application name ends at the first blank. */
static int s_execute_string(lua_State *L)
{
	const char *line, *sp;
	lua_CFunction execute;

	script_check_session(L, 1);
	line = luaL_checkstring(L, 2);
	lua_settop(L, 2);
	while (*line == ' ')
		line++;
	sp = strchr(line, ' ');
	if (sp) {
		lua_pushlstring(L, line, (size_t)(sp - line));
		lua_pushstring(L, sp + 1);
	} else {
		lua_pushstring(L, line);
		lua_pushstring(L, "");
	}
	lua_remove(L, 2);            /* session, app, data */
	/* The object's own execute, called from this frame: it may wait. */
	lua_getmetatable(L, 1);
	lua_getfield(L, -1, "execute");
	execute = lua_tocfunction(L, -1);
	lua_pop(L, 2);
	if (!execute)
		return luaL_error(L, "session:executeString: no execute method");
	return execute(L);
}

/* sendEvent(event): queued for the input callback ("event"), as mod_lua's. */
static int s_send_event(lua_State *L)
{
	struct lsession *ss = script_check_session(L, 1);
	struct event *ev = script_check_event(L, 2);

	if (!script_session_channel(ss)) {
		log_err("lua: session is not initalized\n");
		return 0;
	}
	if (script_session_send_event(ss, ev))
		log_warn("lua: %s: sendEvent: the session's event queue is full\n",
			 channel_uuid(script_session_channel(ss)));
	return 0;
}

/* setEventData(event): the channel's data headers, as its own events carry them. */
static int s_set_event_data(lua_State *L)
{
	struct lsession *ss = script_check_session(L, 1);
	struct event *ev = script_check_event(L, 2);
	struct channel *ch = script_session_channel(ss);

	if (ch && channel_event_add_data(ch, ev))
		return luaL_error(L, "session:setEventData: out of memory");
	return 0;
}

/* ---- getXMLCDR ---------------------------------------------------------------- */

static int xml_text(struct mbuf *mb, const char *s)
{
	int err = 0;

	for (; s && *s && !err; s++) {
		switch (*s) {
		case '<':  err = mbuf_write_str(mb, "&lt;"); break;
		case '>':  err = mbuf_write_str(mb, "&gt;"); break;
		case '&':  err = mbuf_write_str(mb, "&amp;"); break;
		case '"':  err = mbuf_write_str(mb, "&quot;"); break;
		default:   err = mbuf_write_u8(mb, (uint8_t)*s); break;
		}
	}
	return err;
}

static int xml_elem(struct mbuf *mb, const char *name, const char *value)
{
	int err = mbuf_printf(mb, "<%s>", name);

	err |= xml_text(mb, value ? value : "");
	return err | mbuf_printf(mb, "</%s>", name);
}

/* Variables in the CDR are URL-encoded, as switch_ivr_generate_xml_cdr does. */
static void cdr_var(const char *name, const char *value, void *arg)
{
	struct mbuf *mb = arg;
	const char *p;

	if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			     "0123456789_-.") != strlen(name))
		return;
	(void)mbuf_printf(mb, "<%s>", name);
	for (p = value; *p; p++) {
		if (isalnum((unsigned char)*p) || strchr("-_.", *p))
			(void)mbuf_write_u8(mb, (uint8_t)*p);
		else
			(void)mbuf_printf(mb, "%%%02X", (unsigned char)*p);
	}
	(void)mbuf_printf(mb, "</%s>", name);
}

/* An epoch variable in seconds as the CDR's microseconds, 0 when unset. */
static unsigned long long var_us(struct channel *ch, const char *uvar, const char *var)
{
	const char *v = channel_var(ch, uvar);

	if (v)
		return strtoull(v, NULL, 10);
	v = channel_var(ch, var);
	return v ? strtoull(v, NULL, 10) * 1000000ULL : 0;
}

static int cdr_write(struct mbuf *mb, struct channel *ch)
{
	struct caller_profile *cp = channel_profile(ch);
	int err;

	err = mbuf_printf(mb, "<cdr core-uuid=\"%s\">", event_core_uuid());
	err |= mbuf_write_str(mb, "<channel_data>");
	err |= xml_elem(mb, "state", channel_state_name(channel_state(ch)));
	err |= xml_elem(mb, "direction",
			channel_dir(ch) == CHANNEL_INBOUND ? "inbound" : "outbound");
	err |= mbuf_printf(mb, "<state_number>%d</state_number>", (int)channel_state(ch));
	err |= mbuf_write_str(mb, "</channel_data><variables>");
	if (!err)
		channel_var_foreach(ch, cdr_var, mb);
	err |= mbuf_write_str(mb, "</variables><callflow><caller_profile>");
	err |= xml_elem(mb, "username", cp->username);
	err |= xml_elem(mb, "dialplan", cp->dialplan);
	err |= xml_elem(mb, "caller_id_name", cp->caller_id_name);
	err |= xml_elem(mb, "ani", cp->ani);
	err |= xml_elem(mb, "aniii", cp->aniii);
	err |= xml_elem(mb, "caller_id_number", cp->caller_id_number);
	err |= xml_elem(mb, "network_addr", cp->network_addr);
	err |= xml_elem(mb, "rdnis", cp->rdnis);
	err |= xml_elem(mb, "destination_number", cp->destination_number);
	err |= xml_elem(mb, "uuid", channel_uuid(ch));
	err |= xml_elem(mb, "context", cp->context);
	err |= xml_elem(mb, "chan_name", channel_name(ch));
	err |= mbuf_printf(mb, "</caller_profile><times>"
			   "<created_time>%llu</created_time>"
			   "<answered_time>%llu</answered_time>"
			   "<hangup_time>%llu</hangup_time>"
			   "</times></callflow></cdr>",
			   (unsigned long long)channel_created_us(ch),
			   var_us(ch, "answer_uepoch", "answer_epoch"),
			   var_us(ch, "end_uepoch", "end_epoch"));
	return err;
}

/* getXMLCDR(): the channel's CDR as XML; "" without a channel. */
static int s_get_xml_cdr(lua_State *L)
{
	struct channel *ch = script_session_channel(script_check_session(L, 1));
	struct mbuf *mb;

	if (!ch) {
		lua_pushstring(L, "");
		return 1;
	}
	mb = mbuf_alloc(4096);
	if (!mb || cdr_write(mb, ch)) {
		mem_deref(mb);
		return luaL_error(L, "session:getXMLCDR: out of memory");
	}
	lua_pushlstring(L, (const char *)mb->buf, mb->end);
	mem_deref(mb);
	return 1;
}

/* ---- private values, print, consoleLog2 --------------------------------------- */

/* The private table of the object's channel on top (created when `create`). */
static bool push_privates(lua_State *L, struct channel *ch, bool create)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &privates_key);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_rawsetp(L, LUA_REGISTRYINDEX, &privates_key);
	}
	if (lua_getfield(L, -1, channel_uuid(ch)) == LUA_TNIL && create) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_setfield(L, -3, channel_uuid(ch));
	}
	lua_remove(L, -2);
	return lua_istable(L, -1);
}

/* setPrivate(key, value): kept for the run, per channel; nil removes. */
static int s_set_private(lua_State *L)
{
	struct channel *ch = script_session_channel(script_check_session(L, 1));
	const char *key = luaL_checkstring(L, 2);

	lua_settop(L, 3);
	if (!ch)
		return 0;
	push_privates(L, ch, true);
	lua_pushvalue(L, 3);
	lua_setfield(L, -2, key);
	return 0;
}

static int s_get_private(lua_State *L)
{
	struct channel *ch = script_session_channel(script_check_session(L, 1));
	const char *key = luaL_checkstring(L, 2);

	if (!ch || !push_privates(L, ch, false)) {
		lua_pushnil(L);
		return 1;
	}
	lua_getfield(L, -1, key);
	return 1;
}

/* print(text): real-time text, which no call here has: 0, as FreeSWITCH then. */
static int s_print(lua_State *L)
{
	struct lsession *ss = script_check_session(L, 1);

	luaL_optstring(L, 2, "");
	lua_pushinteger(L, script_session_channel(ss) ? 0 : -1);
	return 1;
}

/* consoleLog2(level, file, func, line, msg), tagged with the channel's UUID. */
static int s_console_log2(lua_State *L)
{
	struct channel *ch = script_session_channel(script_check_session(L, 1));
	enum log_level level;
	const char *file = luaL_checkstring(L, 3), *func = luaL_checkstring(L, 4);
	lua_Integer line = luaL_checkinteger(L, 5);
	const char *msg = luaL_checkstring(L, 6);

	if (log_level_parse(luaL_checkstring(L, 2), &level))
		level = LOGL_DEBUG;
	log_write(level, file, func, line > 0 ? (unsigned)line : 0, "%s %s",
		  ch ? channel_uuid(ch) : "", msg);
	return 0;
}

/* ---- speech: no ASR engine ------------------------------------------------------ */

static int s_detect_speech(lua_State *L)
{
	struct channel *ch = script_session_channel(script_check_session(L, 1));

	log_err("lua: %s: detectSpeech: no speech recognition engine is available\n",
		ch ? channel_uuid(ch) : "");
	return 0;
}

/* FreeSWITCH's playAndDetectSpeech returns no result when detection cannot start. */
static int s_play_and_detect_speech(lua_State *L)
{
	struct channel *ch = script_session_channel(script_check_session(L, 1));

	log_err("lua: %s: playAndDetectSpeech: no speech recognition engine '%s': "
		"ASR INIT ERROR\n", ch ? channel_uuid(ch) : "", luaL_optstring(L, 3, ""));
	lua_pushnil(L);
	return 1;
}

/* ---- insertFile ------------------------------------------------------------------ */

static int read_all(const char *path, SF_INFO *info, short **pcmp, sf_count_t *framesp)
{
	SNDFILE *sf = sf_open(path, SFM_READ, info);
	short *pcm;
	sf_count_t n;

	if (!sf)
		return ENOENT;
	if (info->channels < 1 || info->frames > INSERT_MAX_FRAMES) {
		sf_close(sf);
		return EFBIG;
	}
	pcm = calloc((size_t)info->frames * (size_t)info->channels + 1, sizeof(*pcm));
	if (!pcm) {
		sf_close(sf);
		return ENOMEM;
	}
	n = sf_readf_short(sf, pcm, info->frames);
	sf_close(sf);
	*pcmp = pcm;
	*framesp = n > 0 ? n : 0;
	return 0;
}

/*
 * Insert `ins` into `file` at frame `at` (past the end: appended), written to
 * a temporary file renamed over the original. Both must have the same rate
 * and channels. Synchronous and bounded (INSERT_MAX_FRAMES).
 */
static int insert_file(const char *file, const char *ins, sf_count_t at)
{
	SF_INFO fi = {0}, ii = {0};
	short *a = NULL, *b = NULL;
	sf_count_t na = 0, nb = 0;
	SNDFILE *out = NULL;
	char *tmp = NULL;
	int err;

	err = read_all(file, &fi, &a, &na);
	if (!err)
		err = read_all(ins, &ii, &b, &nb);
	if (err)
		goto out;
	if (fi.samplerate != ii.samplerate || fi.channels != ii.channels ||
	    na + nb > INSERT_MAX_FRAMES) {
		err = fi.samplerate != ii.samplerate || fi.channels != ii.channels ? EINVAL
										  : EFBIG;
		goto out;
	}
	if (at < 0 || at > na)
		at = at < 0 ? 0 : na;
	err = re_sdprintf(&tmp, "%s.insert.tmp", file);
	if (err)
		goto out;
	fi.frames = 0;
	out = sf_open(tmp, SFM_WRITE, &fi);
	if (!out) {
		err = EIO;
		goto out;
	}
	if (sf_writef_short(out, a, at) != at ||
	    sf_writef_short(out, b, nb) != nb ||
	    sf_writef_short(out, a + at * fi.channels, na - at) != na - at)
		err = EIO;
	sf_close(out);
	if (!err && rename(tmp, file))
		err = errno;
	if (err)
		(void)remove(tmp);
 out:
	free(a);
	free(b);
	mem_deref(tmp);
	return err;
}

/* insertFile(file, insert_file, sample_point): 1 done, 0 failed, -1 no channel. */
static int s_insert_file(lua_State *L)
{
	struct channel *ch = script_session_channel(script_check_session(L, 1));
	const char *file = luaL_checkstring(L, 2), *ins = luaL_checkstring(L, 3);
	lua_Integer at = luaL_checkinteger(L, 4);
	int err;

	if (!ch) {
		lua_pushinteger(L, -1);
		return 1;
	}
	err = insert_file(file, ins, (sf_count_t)at);
	if (err)
		log_warn("lua: %s: insertFile: cannot insert %s into %s: %s\n",
			 channel_uuid(ch), ins, file,
			 err == EINVAL ? "rates or channels differ" : strerror(err));
	lua_pushinteger(L, err ? 0 : 1);
	return 1;
}

void script_bind_session_more(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"executeString", s_execute_string},
		{"sendEvent", s_send_event},
		{"setEventData", s_set_event_data},
		{"getXMLCDR", s_get_xml_cdr},
		{"setPrivate", s_set_private},
		{"getPrivate", s_get_private},
		{"print", s_print},
		{"consoleLog2", s_console_log2},
		{"detectSpeech", s_detect_speech},
		{"playAndDetectSpeech", s_play_and_detect_speech},
		{"insertFile", s_insert_file},
		{NULL, NULL},
	};

	luaL_setfuncs(L, methods, 0);
}
