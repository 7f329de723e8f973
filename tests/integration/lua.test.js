'use strict';
/*
 * lua.test.js - mod_lua-compatible scripting (src/lua, spec/lua.md) through the
 * real protocols: API scripts over the event socket (`lua`, `luarun`,
 * ${lua(...)} in a dialplan action), dialplan scripts on SIPp calls whose media
 * is a test phone (rtp.js), a lua.conf startup script and a
 * conference::maintenance hook, EventConsumer, Dbh, busy scripts and bad input.
 *
 * The scripts are ours, written into the private configuration's scripts
 * directory; they report what they saw through channel variables, global
 * variables, their stream, or CUSTOM lua::test / lua::hook events that an
 * event-socket client collects. Audio is judged by content (Goertzel).
 *
 * Tones: IVR greeting 1000 Hz, digits 12 -> 1400 Hz, 34 -> 2000 Hz, anything
 * else 350 Hz, the long prompt 2400 Hz, after the input callback 2600 Hz, the
 * dialplan after a failed script 1800 Hz; prompts cut by a hangup or a
 * transfer 2000 Hz, the transfer target 2600 Hz, the call left playing at
 * shutdown 1400 Hz. 3000 Hz is never played (noise reference).
 *
 * Beside the listed entry points the file covers what broke before: a hangup
 * or a transfer in the middle of a wait, a digit during session:execute, and a
 * call still in streamFile when the server stops (server.stop checks leaks).
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const h = require('./harness');
const { until, EventLog } = require('./eventlog');
const sipp = require('./sipp');
const { RtpPhone, goertzel, rms, ulawDecode } = require('./rtp');
const { readWav, writeWav } = require('./wav');

const T = { timeout: 30000 };
const AUTH = { user: '1000', password: '1234' };
const FREQS = [350, 1000, 1400, 1800, 2000, 2400, 2600, 3000];
const ROOM = '7390';
const INVITEE = '1005';
const MISSING_ROOM = 'lua_nosuch_room';
/* insertFile's files: B (0.5 s of 2000 Hz) goes into A (1 s of 1000 Hz) at 0.5 s. */
const INSERT_A = path.join(os.tmpdir(), `lua-insert-a-${process.pid}.wav`);
const INSERT_B = path.join(os.tmpdir(), `lua-insert-b-${process.pid}.wav`);

/* ---- the scripts (conf/scripts) ------------------------------------------- */

const SCRIPTS = {
	/* The Session methods about the channel's data, JSON, insertFile, sendEvent. */
	'more.lua': `
local function report(name, value) session:setVariable("more_" .. name, tostring(value)) end
session:answer()
session:executeString("set more_exec=via executeString")
session:setPrivate("k", "v1")
report("priv", session:getPrivate("k") .. "," .. tostring(session:getPrivate("nokey")))
local cdr = session:getXMLCDR()
report("cdr", table.concat({cdr:sub(1, 5),
	tostring(cdr:find("<uuid>" .. session:get_uuid() .. "</uuid>", 1, true) ~= nil),
	tostring(cdr:find("<more_exec>via%20executeString</more_exec>", 1, true) ~= nil),
	tostring(cdr:find("<destination_number>7320</destination_number>", 1, true) ~= nil)}, ","))
local e = freeswitch.Event("CUSTOM", "lua::test")
e:addHeader("Test", "more_data")
session:setEventData(e)
e:fire()
report("print", session:print("hi"))
session:consoleLog2("info", "more.lua", "fn", 7, "more consoleLog2\\n")
session:detectSpeech("init", "x", "y")
report("pads", session:playAndDetectSpeech("silence_stream://10", "nosuchasr", "g"))
local j = freeswitch.JSON()
j:return_unformatted_json(true)
report("json", j:execute2({command = "fsapi", data = {cmd = "global_getvar", arg = "more_probe"}}))
report("roundtrip", j:encode(j:decode('{"a":[1,2,{"b":true}]}')))
report("insert", session:insertFile(argv[1], argv[2], 4000))
report("insert_bad", session:insertFile(argv[1], "/nonexistent.wav", 0))
function on_input(s, kind, obj, arg)
	if kind == "event" then
		report("cb", kind .. ":" .. tostring(obj:getHeader("X-Thing")) .. ":" .. tostring(arg))
		return "break"
	end
end
cbarg = "argval"
session:setInputCallback("on_input", "cbarg")
local q = freeswitch.Event("CUSTOM", "lua::queued")
q:addHeader("X-Thing", "queued-1")
session:sendEvent(q)
local api = freeswitch.API()
local t0 = tonumber(api:getTime())
session:sleep(15000)
report("slept", tonumber(api:getTime()) - t0 < 10000)
report("stage", "done")
`,
	/* `lua args.lua a b c`: argv, env and the absent session, to the stream. */
	'args.lua': `
local got = {}
for i = 1, #argv do got[#got + 1] = argv[i] end
stream:write(string.format("argc=%d argv0=%s args=%s\\n", #argv, argv[0], table.concat(got, ",")))
stream:write("arg=" .. tostring(env:getHeader("API-Command-Argument")) .. "\\n")
stream:write("cmd=" .. tostring(env:getHeader("API-Command")) .. "\\n")
stream:write("session=" .. tostring(session) .. "\\n")
`,
	/* luarun: sets one global at once and another after a wait. */
	'setglobal.lua': `
freeswitch.setGlobalVariable("lua_run_" .. argv[1], argv[2])
freeswitch.msleep(300)
freeswitch.setGlobalVariable("lua_run_" .. argv[1] .. "_late", "done")
`,
	'syntax_err.lua': `
local x = = 1
`,
	/* The error is on line 4, inside inner(), called from line 6. */
	'runtime_err.lua': `stream:write("partial\\n")
local function inner(t)
	local v = 1
	return t.field.missing + v
end
inner({})
stream:write("not reached\\n")
`,
	/* freeswitch.API's answers that are not the command's own output. */
	'api_calls.lua': `
local api = freeswitch.API()
stream:write("unknown=[" .. api:execute("no_such_command_xyz", "a b") .. "]\\n")
stream:write("empty=[" .. api:execute("") .. "]\\n")
stream:write("string=[" .. api:executeString("global_getvar lua_api_probe") .. "]\\n")
stream:write("time=" .. tostring(tonumber(api:getTime()) ~= nil) .. "\\n")
`,
	'dp_expand.lua': `stream:write("lua-said-" .. (argv[1] or "none"))`,
	/* require() finds modules through lua.conf's script-directory pattern. */
	'mylib.lua': `
local M = {}
function M.greet(who) return "hello " .. who end
return M
`,
	/*
	 * The IVR: greeting, two digits, a tone chosen by them; then a long prompt
	 * that a digit stops through the input callback, then one more tone.
	 */
	'ivr.lua': `
local tones = { ["12"] = 1400, ["34"] = 2000 }
session:answer()
session:setVariable("ivr_stage", "greeting")
session:streamFile("tone_stream://%(800,0,1000)")
session:setVariable("ivr_stage", "digits")
local digits = session:getDigits(3, "#", 8000, 3000)
session:setVariable("ivr_digits", digits)
local f = tones[digits] or 350
session:setVariable("ivr_tone", tostring(f))
session:setVariable("ivr_stage", "chosen")
session:streamFile("tone_stream://%(1200,0," .. f .. ")")

function on_input(s, kind, obj, arg)
	if kind == "dtmf" then
		s:setVariable("ivr_cb", kind .. ":" .. obj.digit .. ":" .. tostring(arg))
		return "break"
	end
end
cb_arg = "cbval"
session:setInputCallback("on_input", "cb_arg")
session:setVariable("ivr_stage", "long")
local rc = session:streamFile("tone_stream://%(20000,0,2400)")
session:unsetInputCallback()
session:setVariable("ivr_long_rc", tostring(rc))
session:setVariable("ivr_stage", "after")
session:streamFile("tone_stream://%(1000,0,2600)")
session:setVariable("ivr_stage", "done")
session:hangup()
`,
	/* The hangup hook runs at the first session call after the hangup. */
	'hangup_hook.lua': `
local runs = 0
function on_hangup(s, why, arg)
	runs = runs + 1
	local e = freeswitch.Event("CUSTOM", "lua::test")
	e:addHeader("Test", "hangup_hook")
	e:addHeader("Why", why)
	e:addHeader("Arg", tostring(arg))
	e:addHeader("Hook-UUID", s:get_uuid())
	e:fire()
	return "noted"
end
hook_arg = "hookarg"
session:answer()
session:setHangupHook("on_hangup", "hook_arg")
session:setVariable("hook_stage", "sleeping")
local loops = 0
while session:ready() and loops < 40 do
	session:sleep(500)
	loops = loops + 1
end
session:ready()
freeswitch.setGlobalVariable("lua_hook_after",
	string.format("loops=%d ready=%s runs=%d", loops, tostring(session:ready()), runs))
`,
	/* The caller hangs up during a long streamFile: it returns, the script goes on. */
	'play_hangup.lua': `
session:answer()
session:setVariable("ph_stage", "playing")
local rc = session:streamFile("tone_stream://%(20000,0,2000)")
freeswitch.setGlobalVariable("lua_play_hangup",
	string.format("rc=%d ready=%s", rc, tostring(session:ready())))
`,
	/* A digit during session:execute("playback") neither cuts it nor a later wait short. */
	'exec_digit.lua': `
local api = freeswitch.API()
session:answer()
session:setVariable("xd_stage", "playing")
local t0 = tonumber(api:getTime())
session:execute("playback", "tone_stream://%(1500,0,1000)")
local t1 = tonumber(api:getTime())
freeswitch.msleep(800)
local t2 = tonumber(api:getTime())
freeswitch.setGlobalVariable("lua_exec_digit", string.format("exec=%d msleep=%d", t1 - t0, t2 - t1))
session:hangup()
`,
	/* uuid_transfer away from the script: the hook says "transfer", ready() is false. */
	'xfer.lua': `
function on_hangup(s, why)
	local e = freeswitch.Event("CUSTOM", "lua::test")
	e:addHeader("Test", "transfer_hook")
	e:addHeader("Why", why)
	e:fire()
end
session:answer()
session:setHangupHook("on_hangup")
session:setVariable("xf_stage", "sleeping")
local rc = session:sleep(20000)
freeswitch.setGlobalVariable("lua_xfer", string.format("rc=%d ready=%s", rc, tostring(session:ready())))
`,
	/* uuid_transfer during a long streamFile: the prompt stops, the new extension plays. */
	'xfer_play.lua': `
session:answer()
session:setVariable("xp_stage", "playing")
local rc = session:streamFile("tone_stream://%(20000,0,2000)")
freeswitch.setGlobalVariable("lua_xfer_play", string.format("rc=%d ready=%s", rc, tostring(session:ready())))
`,
	/* Still playing when the server stops. */
	'long_play.lua': `
session:answer()
session:setVariable("lp_stage", "playing")
session:streamFile("tone_stream://%(60000,0,1400)")
`,
	/* A wrong argument type: a Lua error, logged; the dialplan goes on. */
	'bad_session.lua': `
session:answer()
session:setVariable("bad_stage", "before")
session:getDigits("x")
session:setVariable("bad_stage", "not reached")
`,
	/*
	 * The trunk-to-conference flow: ring, answer, invite the station with the
	 * auto-outcall variables, join muted, and when the caller is gone empty the
	 * room. argv: room, station.
	 */
	'trunk_conf.lua': `
local api = freeswitch.API()
local room, station = argv[1], argv[2]
local ani = session:getVariable("ani") or "unknown"
freeswitch.consoleLog("notice", "trunk_conf: call from " .. ani .. " into " .. room .. "\\n")
session:execute("ring_ready")
session:sleep(500)
session:answer()
session:execute("set", "conference_auto_outcall_timeout=30")
session:execute("set", "conference_auto_outcall_flags=mute")
session:execute("set", "conference_auto_outcall_caller_id_name=Trunk " .. ani)
session:execute("set", "conference_auto_outcall_caller_id_number=" .. ani)
session:execute("set", "conference_auto_outcall_prefix={sip_contact_user=" .. ani .. ",answer_delay=0}")
session:execute("conference_set_auto_outcall", "user/" .. station .. "@$\${domain}")
session:execute("conference", room .. "@simpleconf2++flags{mute|moderator}")
local kicked = api:execute("conference", room .. " kick all")
freeswitch.setGlobalVariable("lua_trunk_kick", (kicked:gsub("\\n", "\\\\n")))
freeswitch.consoleLog("notice", "trunk_conf: " .. room .. " emptied\\n")
`,
	/* lua.conf hook on conference::maintenance: one lua::hook event per event seen. */
	'conf_hook.lua': `
local api = freeswitch.API()
local action = event:getHeader("Action") or "none"
local room = event:getHeader("Conference-Name") or "none"
local count = api:execute("conference", room .. " list count")
local missing = api:execute("conference", "${MISSING_ROOM} list count")
local e = freeswitch.Event("CUSTOM", "lua::hook")
e:addHeader("Hook-Action", action)
e:addHeader("Hook-Room", room)
e:addHeader("Hook-Member", event:getHeader("Member-ID") or "none")
e:addHeader("Hook-Direction", event:getHeader("Caller-Direction") or "none")
e:addHeader("Hook-Count", (count:gsub("\\n", "\\\\n")))
e:addHeader("Hook-Missing", (missing:gsub("\\n", "\\\\n")))
e:fire()
`,
	/* EventConsumer: a pop that times out, then one that gets our sendevent. */
	'consumer.lua': `
local api = freeswitch.API()
local con = freeswitch.EventConsumer("CUSTOM", "my::test")
local t0 = tonumber(api:getTime())
local first = con:pop(1, 300)
local waited = tonumber(api:getTime()) - t0
freeswitch.setGlobalVariable("lua_ec_first", (first == nil and "nil" or "event") .. ":" .. waited)
local e = con:pop(1, 15000)
local r = freeswitch.Event("CUSTOM", "lua::test")
r:addHeader("Test", "consumer")
r:addHeader("Got", e and "event" or "nil")
r:addHeader("Probe", e and e:getHeader("X-Probe") or "none")
r:addHeader("Subclass", e and e:getHeader("Event-Subclass") or "none")
r:addHeader("Type", e and e:getType() or "none")
r:fire()
`,
	/* Dbh on sqlite://lua_test (<db_dir>/lua_test.db). */
	'dbh.lua': `
local dbh = freeswitch.Dbh("sqlite://lua_test")
stream:write("connected=" .. tostring(dbh:connected()) .. "\\n")
assert(dbh:query("DROP TABLE IF EXISTS fruit"))
assert(dbh:query("CREATE TABLE fruit (id INTEGER PRIMARY KEY, name TEXT)"))
assert(dbh:query("INSERT INTO fruit (id, name) VALUES (1, 'apple'), (2, 'pear'), (3, 'plum')"))
stream:write("inserted=" .. dbh:affected_rows() .. "\\n")
dbh:query("SELECT id, name FROM fruit ORDER BY id", function(row)
	stream:write("row=" .. row.id .. ":" .. row.name .. "\\n")
end)
local seen = 0
dbh:query("SELECT id FROM fruit ORDER BY id", function(row)
	seen = seen + 1
	return 1
end)
stream:write("stopped_after=" .. seen .. "\\n")
local ok, rows = dbh:query_rows("SELECT name FROM fruit WHERE id >= 2 ORDER BY id")
stream:write("query_rows=" .. tostring(ok) .. ":" .. #rows .. ":" .. rows[1].name .. "," .. rows[2].name .. "\\n")
assert(dbh:query("UPDATE fruit SET name = 'fig' WHERE id < 3"))
stream:write("updated=" .. dbh:affected_rows() .. "\\n")
local bad = dbh:query("SELECT * FROM no_such_table")
stream:write("bad=" .. tostring(bad) .. ":" .. tostring(dbh:last_error() ~= nil) .. "\\n")
dbh:release()
`,
	/* startup-script: runs for as long as the server does. */
	'tick.lua': `
local n = 0
while freeswitch.running() do
	n = n + 1
	freeswitch.setGlobalVariable("lua_tick", tostring(n))
	freeswitch.msleep(100)
end
`,
};

const LUA_CONF = `<configuration name="lua.conf" description="LUA Configuration">
  <settings>
    <param name="script-directory" value="$\${script_dir}/?.lua"/>
    <param name="startup-script" value="tick.lua"/>
    <hook event="CUSTOM" subclass="conference::maintenance" script="conf_hook.lua"/>
    <hook event="NO_SUCH_EVENT" script="conf_hook.lua"/>
  </settings>
</configuration>
`;

const DIALPLAN = `<include>
  <extension name="t_lua_more">
    <condition field="destination_number" expression="^7320$">
      <action application="lua" data="more.lua ${INSERT_A} ${INSERT_B}"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_lua_ivr">
    <condition field="destination_number" expression="^7300$">
      <action application="lua" data="ivr.lua"/>
    </condition>
  </extension>
  <extension name="t_lua_hook">
    <condition field="destination_number" expression="^7301$">
      <action application="lua" data="hangup_hook.lua"/>
    </condition>
  </extension>
  <extension name="t_lua_bad">
    <condition field="destination_number" expression="^7302$">
      <action application="lua" data="bad_session.lua"/>
      <action application="set" data="bad_after=dialplan went on"/>
      <action application="playback" data="tone_stream://%(1500,0,1800)"/>
      <action application="hangup"/>
    </condition>
  </extension>
  <extension name="t_lua_trunk">
    <condition field="destination_number" expression="^7303$">
      <action application="lua" data="trunk_conf.lua ${ROOM} ${INVITEE}"/>
    </condition>
  </extension>
  <extension name="t_lua_play_hangup">
    <condition field="destination_number" expression="^7305$">
      <action application="lua" data="play_hangup.lua"/>
    </condition>
  </extension>
  <extension name="t_lua_exec_digit">
    <condition field="destination_number" expression="^7306$">
      <action application="lua" data="exec_digit.lua"/>
    </condition>
  </extension>
  <extension name="t_lua_xfer">
    <condition field="destination_number" expression="^7307$">
      <action application="lua" data="xfer.lua"/>
    </condition>
  </extension>
  <extension name="t_lua_xfer_target">
    <condition field="destination_number" expression="^7308$">
      <action application="set" data="landed=7308"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_lua_xfer_play">
    <condition field="destination_number" expression="^7310$">
      <action application="lua" data="xfer_play.lua"/>
    </condition>
  </extension>
  <extension name="t_lua_xfer_play_target">
    <condition field="destination_number" expression="^7311$">
      <action application="playback" data="tone_stream://%(1000,0,2600)"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_lua_long_play">
    <condition field="destination_number" expression="^7309$">
      <action application="lua" data="long_play.lua"/>
    </condition>
  </extension>
  <extension name="t_lua_expand">
    <condition field="destination_number" expression="^7304$">
      <action application="answer"/>
      <action application="set" data="from_lua=\${lua(dp_expand.lua xyz)}"/>
      <action application="park"/>
    </condition>
  </extension>
</include>
`;

/* ---- helpers ---------------------------------------------------------------- */

const custom = (sub, extra = {}) => (e) => e['Event-Name'] === 'CUSTOM' &&
	e['Event-Subclass'] === sub &&
	Object.entries(extra).every(([k, v]) => e[k] === String(v));

/* What a phone heard in [from, to): packet count, RMS, power per tone. */
function heard(phone, from, to = Infinity) {
	const s = [];
	for (const p of phone.packets) {
		if (p.pt !== 0 || p.at < from || p.at >= to)
			continue;
		for (const b of p.payload)
			s.push(ulawDecode(b));
	}
	const p = {};
	for (const f of FREQS)
		p[f] = s.length ? goertzel(s, f) : 0;
	return { n: s.length, rms: Math.round(rms(s)), p };
}

/* A clear tone f: loud, far above every other candidate. */
function hears(m, f) {
	return m.n >= 10 * 160 && m.rms > 1000 &&
		FREQS.every((g) => g === f || m.p[f] > 50 * (m.p[g] || 1));
}

function show(m) {
	const p = {};
	for (const [f, v] of Object.entries(m.p))
		p[f] = Number(v.toPrecision(2));
	return JSON.stringify({ n: m.n, rms: m.rms, p });
}

/* 20 ms packets since `from` whose strongest candidate is f, at a useful level. */
function tonePackets(phone, f, from = 0, to = Infinity) {
	let n = 0;
	for (const pk of phone.packets) {
		if (pk.pt !== 0 || pk.at < from || pk.at >= to)
			continue;
		const s = Array.from(pk.payload, ulawDecode);
		if (rms(s) < 1000)
			continue;
		const best = FREQS.reduce((a, b) => (goertzel(s, a) >= goertzel(s, b) ? a : b));
		if (best === f)
			n++;
	}
	return n;
}

/* The first packet time at or after `from` carrying tone f. */
function firstTone(phone, f, from = 0) {
	for (const pk of phone.packets) {
		if (pk.pt !== 0 || pk.at < from)
			continue;
		const s = Array.from(pk.payload, ulawDecode);
		if (rms(s) >= 1000 && FREQS.every((g) => g === f || goertzel(s, f) > 10 * goertzel(s, g)))
			return pk.at;
	}
	return null;
}

async function closeClient(c) {
	if (!c.closed) {
		c.write('exit\n\n');
		await c.closesWithin(3000);
	}
	c.destroy();
}

/* ---- the tests -------------------------------------------------------------- */

test('lua scripting', { skip: !sipp.available() && 'sipp not installed', timeout: 180000 },
	async (t) => {
		const server = await h.startServer({
			edit(conf) {
				const dp = path.join(conf, 'dialplan', 'default');
				fs.mkdirSync(dp, { recursive: true });
				fs.writeFileSync(path.join(dp, '90_lua_test.xml'), DIALPLAN);
				const scripts = path.join(conf, 'scripts');
				fs.mkdirSync(scripts, { recursive: true });
				for (const [name, text] of Object.entries(SCRIPTS))
					fs.writeFileSync(path.join(scripts, name), text);
				fs.writeFileSync(path.join(conf, 'autoload_configs', 'lua.conf.xml'), LUA_CONF);
			},
		});
		const target = `${h.HOST}:${server.sipPort}`;
		const c = await h.rawAuthed(server);
		const ev = await EventLog.open(server,
			'CHANNEL_EXECUTE CUSTOM conference::maintenance lua::test lua::hook');
		const sipps = [], phones = [];
		let failed = 0;
		t.after(async () => {
			/* a failed run (or LUA_TEST_KEEP_LOG=1) keeps confab's log */
			if (failed || process.env.LUA_TEST_KEEP_LOG) {
				const keep = path.join(os.tmpdir(), `lua-test-${process.pid}.log`);
				fs.writeFileSync(keep, server.logText());
				console.log(`# ${failed} sub-test(s) failed; confab's log: ${keep}`);
			}
			for (const s of sipps)
				if (s.proc.exitCode === null && s.proc.signalCode === null)
					s.proc.kill('SIGKILL');
			for (const p of phones)
				p.close();
			await closeClient(ev.c);
			await closeClient(c);
			await server.stop();
		});

		/* A sub-test, failing at once (not by timeouts) once confabd has died. */
		function sub(name, opts, fn) {
			return t.test(name, opts, async () => {
				server.assertAlive();
				try {
					await fn();
				} catch (e) {
					failed++;
					throw e;
				}
			});
		}

		async function api(cmd, timeoutMs = 20000) {
			const f = await c.cmd(`api ${cmd}`, { timeoutMs });
			return f.body;
		}

		/* An API round trip's reply and how long it took. */
		async function timedApi(cmd) {
			const t0 = Date.now();
			const body = await api(cmd, 5000);
			return { body, ms: Date.now() - t0 };
		}

		async function globalVar(name) {
			return (await api(`global_getvar ${name}`)).trim();
		}

		/* The log file's text after `from` (a length), polled until re matches. */
		async function waitLog(re, from, what, ms = 5000) {
			const r = await until(what, () => {
				const text = server.logText().slice(from);
				return { ok: re.test(text), text, info: JSON.stringify(text.slice(-1500)) };
			}, ms);
			return r.text;
		}

		async function channels() {
			return JSON.parse(await api('show channels as json')).rows || [];
		}

		async function waitChannel(pick, ms = 10000) {
			const deadline = Date.now() + ms;
			while (Date.now() < deadline) {
				const row = (await channels()).find(pick);
				if (row)
					return row;
				await h.sleep(50);
			}
			throw new Error('the channel did not appear');
		}

		async function waitVar(uuid, name, want, ms = 10000) {
			const deadline = Date.now() + ms;
			let v;
			while (Date.now() < deadline) {
				v = (await api(`uuid_getvar ${uuid} ${name}`)).trim();
				if (want === undefined ? v && v !== '_undef_' && !v.startsWith('-ERR') : v === want)
					return v;
				await h.sleep(50);
			}
			return v;
		}

		function sippStart(opts) {
			const s = sipp.start(opts);
			sipps.push(s);
			return s;
		}

		async function sippDone(s, ms, what) {
			const r = await h.within(s.done, ms);
			assert.ok(r, `${what}: SIPp still running after ${ms} ms`);
			return r;
		}

		/*
		 * Call `dest` from a test phone (uac_media.xml: confab hangs up; with
		 * byeAfterMs, uac_media_bye.xml: the caller hangs up that long after the
		 * answer). Resolves once confab's media address is known.
		 */
		async function call(dest, { byeAfterMs } = {}) {
			const phone = new RtpPhone();
			phones.push(phone);
			const rtpPort = await phone.open();
			const before = new Set((await channels()).map((r) => r.uuid));
			const uac = sippStart({
				scenario: byeAfterMs ? 'uac_media_bye.xml' : 'uac_media.xml', target,
				user: dest, port: await h.freeUdpPort(), auth: AUTH,
				vars: { caller: '1000', rtp_port: rtpPort, pt: 0 }, timeoutS: 40,
				extra: byeAfterMs ? ['-d', String(byeAfterMs)] : [],
			});
			uac.done.then(() => { phone.remote = null; });
			const row = await waitChannel((r) => r.direction === 'inbound' && r.dest === dest &&
				!before.has(r.uuid));
			const lport = Number(await waitVar(row.uuid, 'local_media_port'));
			assert.ok(lport > 0, 'local_media_port');
			phone.remote = { host: h.HOST, port: lport };
			return { phone, uac, uuid: row.uuid };
		}

		async function sendDigits(phone, s) {
			for (const d of s) {
				await phone.sendDigit(d);
				await h.sleep(80);
			}
		}

		const domain = (await api('global_getvar domain')).trim();
		assert.ok(domain && !domain.startsWith('-ERR'), `the directory domain: ${domain}`);

		/* ---- 1. API scripts ---- */

		await sub('lua <script> args: the stream is the reply, with argv and env', T, async () => {
			assert.equal(await api('lua args.lua one two three'),
				'argc=3 argv0=args.lua args=one,two,three\n' +
				'arg=args.lua one two three\ncmd=lua\nsession=nil\n');
			assert.equal(await api('lua args.lua'),
				'argc=0 argv0=args.lua args=\narg=args.lua\ncmd=lua\nsession=nil\n');
			assert.equal(await api('lua ~stream:write("inline " .. tostring(argv) .. " " .. 6*7)'),
				'inline nil 42');
			assert.equal(await api('lua ~local m = require("mylib") stream:write(m.greet("lua"))'),
				'hello lua', 'require() searches script-directory');
			/* the script side writes nothing; the event socket says so in its words */
			assert.equal(await api('lua'), '-ERR no reply\n', 'no argument: no output');
		});

		await sub('luarun: +OK at once, the script runs on; no args -> -ERR', T, async () => {
			const r = await timedApi('luarun setglobal.lua probe value42');
			assert.equal(r.body, '+OK\n');
			assert.ok(r.ms < 250, `luarun answered before the script ended (${r.ms} ms)`);
			await until('the script set its global', async () => {
				const v = await globalVar('lua_run_probe');
				return { ok: v === 'value42', info: v };
			}, 3000);
			assert.notEqual(await globalVar('lua_run_probe_late'), 'done',
				'still sleeping (msleep 300)');
			await until('then, after its msleep, the second', async () => {
				const v = await globalVar('lua_run_probe_late');
				return { ok: v === 'done', info: v };
			}, 3000);
			assert.equal(await api('luarun'), '-ERR no args specified!\n');
			assert.equal(await api('luarun ~freeswitch.setGlobalVariable("lua_inline_run", "yes")'),
				'+OK\n');
			await until('the inline luarun ran', async () => {
				const v = await globalVar('lua_inline_run');
				return { ok: v === 'yes', info: v };
			}, 3000);
		});

		await sub('a missing script and a syntax error: -ERR Cannot execute script, ERR logged',
			T, async () => {
				let from = server.logText().length;
				assert.equal(await api('lua no_such_script.lua'), '-ERR Cannot execute script\n');
				const missing = await waitLog(/\[ERR\][^\n]*no_such_script\.lua/, from,
					'the missing script logged');
				const line = missing.split('\n').find((l) => l.includes('no_such_script.lua'));
				assert.equal(line.split('no_such_script.lua').length - 1, 1,
					`the line names the file once: ${line}`);
				from = server.logText().length;
				assert.equal(await api('lua syntax_err.lua'), '-ERR Cannot execute script\n');
				await waitLog(/\[ERR\][^\n]*syntax_err\.lua:2:/, from,
					'the syntax error logged with file:line');
				from = server.logText().length;
				assert.equal(await api('lua ~this is not lua'), '-ERR Cannot execute script\n');
				await waitLog(/\[ERR\][^\n]*~/, from, 'the inline syntax error logged');
				assert.equal(await api('luarun no_such_script.lua'), '+OK\n',
					'luarun has answered before it loads');
			});

		await sub('a runtime error: what was written, -ERR, file:line and a traceback logged', T,
			async () => {
				const from = server.logText().length;
				assert.equal(await api('lua runtime_err.lua'),
					'partial\n-ERR Cannot execute script\n');
				const text = await waitLog(/stack traceback:/, from, 'the traceback');
				assert.match(text, /\[ERR\][^\n]*runtime_err\.lua:4: attempt to (index|perform)/,
					`the error names file:line: ${text.slice(-1500)}`);
				assert.match(text, /stack traceback:[\s\S]*runtime_err\.lua:4: in [^\n]*inner/,
					'the traceback has the failing function');
				assert.match(text, /stack traceback:[\s\S]*runtime_err\.lua:6:/,
					'and its caller\'s line');
			});

		await sub('freeswitch.API: unknown command, empty command, executeString, getTime', T,
			async () => {
				assert.equal(await api('global_setvar lua_api_probe=probed'), '+OK');
				assert.equal(await api('lua api_calls.lua'),
					'unknown=[INVALID COMMAND!\n]\n' +
					'empty=[-ERR No application specified]\n' +
					'string=[probed]\n' +
					'time=true\n');
			});

		await sub('${lua(script)} inside a dialplan action is the script\'s output', T,
			async () => {
				const mark = ev.mark();
				const { phone, uac, uuid } = await call('7304');
				assert.equal(await waitVar(uuid, 'from_lua', 'lua-said-xyz'), 'lua-said-xyz');
				const ex = await ev.wait((e) => e['Event-Name'] === 'CHANNEL_EXECUTE' &&
					e['Unique-ID'] === uuid && e.Application === 'set',
				{ from: mark, what: 'CHANNEL_EXECUTE of set' });
				assert.equal(ex['Application-Data'], 'from_lua=lua-said-xyz');
				assert.equal(await api(`uuid_kill ${uuid}`), '+OK\n');
				const r = await sippDone(uac, 10000, 'the caller');
				assert.equal(r.code, 0, r.err + r.out);
				void phone;
			});

		/* ---- 2. a dialplan script on a call ---- */

		await sub('IVR: streamFile, getDigits of RFC 4733 digits, the tone they choose, ' +
			'the input callback stops a long prompt', { timeout: 40000 }, async () => {
			const { phone, uac, uuid } = await call('7300');
			const t0 = Date.now();
			assert.equal(await waitVar(uuid, 'ivr_stage', 'digits'), 'digits',
				'the greeting ended');
			const greet = heard(phone, t0, Date.now());
			assert.ok(hears(greet, 1000), `the greeting is 1000 Hz: ${show(greet)}`);
			assert.ok(tonePackets(phone, 1000, t0) >= 30,
				`about 800 ms of greeting (${tonePackets(phone, 1000, t0)} packets)`);
			await h.sleep(200);
			await sendDigits(phone, '12#');
			assert.equal(await waitVar(uuid, 'ivr_digits', '12'), '12',
				'getDigits returned the digits before the terminator');
			assert.equal(await api(`uuid_getvar ${uuid} ivr_tone`), '1400');
			assert.equal(await api(`uuid_getvar ${uuid} read_terminator_used`), '#');
			const tChosen = Date.now();
			assert.equal(await waitVar(uuid, 'ivr_stage', 'long'), 'long');
			const chosen = heard(phone, tChosen, Date.now());
			assert.ok(hears(chosen, 1400), `digits 12 chose 1400 Hz: ${show(chosen)}`);
			assert.equal(tonePackets(phone, 350, t0), 0, 'never the fallback tone');

			await until('the long prompt (2400 Hz) plays', () => {
				const m = heard(phone, Date.now() - 400);
				return { ok: hears(m, 2400), info: show(m) };
			}, 3000);
			await h.sleep(500);
			const tDigit = Date.now();
			await phone.sendDigit('5');
			assert.equal(await waitVar(uuid, 'ivr_cb', 'dtmf:5:cbval', 3000), 'dtmf:5:cbval',
				'the callback got the digit and its argument');
			assert.equal(await waitVar(uuid, 'ivr_stage', 'after', 3000), 'after',
				'the long prompt stopped');
			const at2600 = await until('the tone after the callback (2600 Hz)', () => {
				const at = firstTone(phone, 2600, tDigit);
				return { ok: at !== null, at, info: show(heard(phone, tDigit)) };
			}, 3000);
			assert.ok(at2600.at - tDigit < 1500,
				`the 20 s prompt stopped at the digit (${at2600.at - tDigit} ms)`);
			const r = await sippDone(uac, 10000, 'the IVR caller');
			assert.equal(r.code, 0, `the script hung up: ${r.err}${r.out}`);
			assert.equal(tonePackets(phone, 2400, at2600.at + 100), 0,
				'the long prompt did not come back');
			assert.ok(tonePackets(phone, 2600, tDigit) >= 30, 'the last tone played out');
		});

		await sub('hangup hook: the caller hangs up during session:sleep, the hook runs once',
			T, async () => {
				const mark = ev.mark();
				const { uac, uuid } = await call('7301', { byeAfterMs: 1200 });
				assert.equal(await waitVar(uuid, 'hook_stage', 'sleeping'), 'sleeping');
				const r = await sippDone(uac, 10000, 'the caller who hangs up');
				assert.equal(r.code, 0, r.err + r.out);
				const byeAt = Date.now();
				const e = await ev.wait(custom('lua::test', { Test: 'hangup_hook' }),
					{ from: mark, what: 'the hook\'s event' });
				assert.equal(e.Why, 'hangup');
				assert.equal(e.Arg, 'hookarg');
				assert.equal(e['Hook-UUID'], uuid);
				assert.ok(e.at - byeAt < 1000,
					`the hook ran soon after the hangup, not at the end of a sleep ` +
					`(${e.at - byeAt} ms)`);
				const after = await until('the script went on after its hook', async () => {
					const v = await globalVar('lua_hook_after');
					return { ok: /^loops=/.test(v), v, info: v };
				}, 3000);
				const m = /^loops=(\d+) ready=(\w+) runs=(\d+)$/.exec(after.v);
				assert.ok(m, after.v);
				assert.ok(Number(m[1]) < 10, `the sleep loop ended with the call (${m[1]} loops)`);
				assert.equal(m[2], 'false', 'ready() is false after the hangup');
				assert.equal(m[3], '1', 'the hook ran once though ready() was called again');
				assert.equal(ev.all(custom('lua::test', { Test: 'hangup_hook' }), mark).length, 1);
			});

		await sub('the caller hangs up during streamFile: it returns 0, ready() is false', T,
			async () => {
				const { uac, uuid } = await call('7305', { byeAfterMs: 1200 });
				assert.equal(await waitVar(uuid, 'ph_stage', 'playing'), 'playing');
				const r = await sippDone(uac, 10000, 'the caller who hangs up');
				assert.equal(r.code, 0, r.err + r.out);
				const byeAt = Date.now();
				const v = await until('the script went on after the hangup', async () => {
					const g = await globalVar('lua_play_hangup');
					return { ok: /^rc=/.test(g), g, info: g };
				}, 3000);
				assert.equal(v.g, 'rc=0 ready=false');
				assert.ok(Date.now() - byeAt < 1500, 'at the hangup, not after the 20 s prompt');
			});

		await sub('a digit during session:execute("playback") cuts neither it nor the next wait',
			T, async () => {
				const { phone, uac, uuid } = await call('7306');
				assert.equal(await waitVar(uuid, 'xd_stage', 'playing'), 'playing');
				await h.sleep(500);
				await phone.sendDigit('1');
				const r = await sippDone(uac, 10000, 'the caller');
				assert.equal(r.code, 0, `the script hung up: ${r.err}${r.out}`);
				const v = await globalVar('lua_exec_digit');
				const m = /^exec=(\d+) msleep=(\d+)$/.exec(v);
				assert.ok(m, v);
				assert.ok(Number(m[1]) >= 1400, `execute waited for the 1.5 s playback (${v})`);
				assert.ok(Number(m[2]) >= 750, `msleep(800) was not cut short (${v})`);
				assert.ok(tonePackets(phone, 1000) >= 65, 'the whole playback was heard');
			});

		await sub('uuid_transfer away from a script: its sleep ends, the hook says transfer, ' +
			'ready() is false, the new extension runs', T, async () => {
			const mark = ev.mark();
			const { uac, uuid } = await call('7307');
			assert.equal(await waitVar(uuid, 'xf_stage', 'sleeping'), 'sleeping');
			assert.equal(await api(`uuid_transfer ${uuid} 7308`), '+OK\n');
			const e = await ev.wait(custom('lua::test', { Test: 'transfer_hook' }),
				{ from: mark, ms: 3000, what: 'the hook after the transfer' });
			assert.equal(e.Why, 'transfer');
			const v = await until('the script ended its sleep', async () => {
				const g = await globalVar('lua_xfer');
				return { ok: /^rc=/.test(g), g, info: g };
			}, 3000);
			assert.equal(v.g, 'rc=0 ready=false');
			assert.equal(await waitVar(uuid, 'landed', '7308'), '7308');
			const row = (await channels()).find((r) => r.uuid === uuid);
			assert.ok(row, 'the call is still up');
			assert.equal(row.application, 'park', 'running the new extension');
			assert.equal(await api(`uuid_kill ${uuid}`), '+OK\n');
			const r = await sippDone(uac, 10000, 'the transferred caller');
			assert.equal(r.code, 0, r.err + r.out);

			/* the same during streamFile: the script's prompt gives way to the new extension */
			const p = await call('7310');
			assert.equal(await waitVar(p.uuid, 'xp_stage', 'playing'), 'playing');
			await until('the prompt (2000 Hz) plays', () => {
				const m = heard(p.phone, Date.now() - 400);
				return { ok: hears(m, 2000), info: show(m) };
			}, 3000);
			const tx = Date.now();
			assert.equal(await api(`uuid_transfer ${p.uuid} 7311`), '+OK\n');
			const pv = await until('streamFile returned', async () => {
				const g = await globalVar('lua_xfer_play');
				return { ok: /^rc=/.test(g), g, info: g };
			}, 3000);
			assert.equal(pv.g, 'rc=0 ready=false');
			await h.sleep(1200);
			const after = heard(p.phone, tx + 200, tx + 1000);
			assert.ok(hears(after, 2600), `the new extension's playback is heard: ${show(after)}`);
			assert.equal(tonePackets(p.phone, 2000, tx + 200), 0, 'the script\'s prompt stopped');
			assert.equal(await api(`uuid_kill ${p.uuid}`), '+OK\n');
			const r2 = await sippDone(p.uac, 10000, 'the second transferred caller');
			assert.equal(r2.code, 0, r2.err + r2.out);
		});

		/* ---- 3 and 4. trunk to conference, watched by the lua.conf hook ---- */

		await sub('trunk_conf.lua: auto-outcall to a registered station, muted join, kick all ' +
			'when the caller leaves; the conference::maintenance hook saw it all',
		{ timeout: 45000 }, async () => {
			const uasPort = await h.freeUdpPort();
			const reg = await sipp.run({ scenario: 'register.xml', target, port: uasPort,
				user: INVITEE, auth: { user: INVITEE, password: '1234' },
				vars: { expires: 300 }, timeoutS: 10 });
			assert.equal(reg.code, 0, `register ${INVITEE}: ${reg.err}${reg.out}`);
			const uasPhone = new RtpPhone();
			phones.push(uasPhone);
			const uas = sippStart({ scenario: 'uas_media.xml', target, port: uasPort,
				vars: { rtp_port: await uasPhone.open(), pt: 0 }, timeoutS: 40 });

			const mark = ev.mark();
			const caller = await call('7303', { byeAfterMs: 5000 });
			const conf = (e) => e['Event-Subclass'] === 'conference::maintenance' &&
				e['Conference-Name'] === ROOM;
			const create = await ev.wait((e) => conf(e) && e.Action === 'conference-create',
				{ from: mark, what: 'conference-create' });
			assert.equal(create['Conference-Profile-Name'], 'simpleconf2');
			const addCaller = await ev.wait((e) => conf(e) && e.Action === 'add-member' &&
				e['Unique-ID'] === caller.uuid, { from: mark, what: 'add-member of the caller' });
			const ani = addCaller['Caller-ANI'];
			assert.ok(ani, 'the caller has an ANI');
			const addInvitee = await ev.wait((e) => conf(e) && e.Action === 'add-member' &&
				e['Caller-Direction'] === 'outbound',
			{ from: mark, ms: 15000, what: 'add-member of the outcall' });
			const peer = addInvitee['Unique-ID'];
			assert.match(peer || '', /^[0-9a-f-]{36}$/);
			assert.equal(addInvitee['Conference-Profile-Name'], 'simpleconf2');
			assert.equal(addInvitee['Caller-Caller-ID-Name'], `Trunk ${ani}`,
				'conference_auto_outcall_caller_id_name');
			assert.equal(addInvitee['Caller-Caller-ID-Number'], ani,
				'conference_auto_outcall_caller_id_number');
			assert.equal(await api(`uuid_getvar ${peer} sip_contact_user`), ani,
				'the outcall prefix\'s {sip_contact_user=...}');
			assert.equal(await api(`conference ${ROOM} list count`), '2');
			const rows = (await api(`conference ${ROOM} list`)).split('\n').filter((l) => l)
				.map((l) => l.split(';'));
			const byUuid = new Map(rows.map((r) => [r[2], r]));
			const cr = byUuid.get(caller.uuid), ir = byUuid.get(peer);
			assert.ok(cr && ir, `both are listed: ${JSON.stringify(rows)}`);
			assert.equal(cr[0], addCaller['Member-ID']);
			const cflags = cr[5].split('|'), iflags = ir[5].split('|');
			assert.ok(cflags.includes('hear') && !cflags.includes('speak') &&
				cflags.includes('moderator'), `the caller's flags{mute|moderator}: ${cr[5]}`);
			assert.ok(iflags.includes('hear') && !iflags.includes('speak') &&
				!iflags.includes('moderator'), `the invitee's outcall flags=mute: ${ir[5]}`);
			assert.ok(uas.proc.exitCode === null, 'the station is still in the call');

			/* the caller hangs up (after 5 s): the script kicks the rest out */
			const rc = await sippDone(caller.uac, 15000, 'the trunk caller');
			assert.equal(rc.code, 0, rc.err + rc.out);
			const destroy = await ev.wait((e) => conf(e) && e.Action === 'conference-destroy',
				{ from: mark, what: 'conference-destroy' });
			const kick = ev.all((e) => conf(e) && e.Action === 'kick-member' &&
				e['Member-ID'] === addInvitee['Member-ID'], mark);
			assert.equal(kick.length, 1, 'the invitee was kicked');
			const dels = ev.all((e) => conf(e) && e.Action === 'del-member', mark);
			assert.deepEqual(dels.map((e) => e['Member-ID']).sort(),
				[addCaller['Member-ID'], addInvitee['Member-ID']].sort());
			assert.ok(dels.every((e) => e.index < destroy.index), 'del-members, then destroy');
			const ru = await sippDone(uas, 10000, 'the station');
			assert.equal(ru.code, 0, `the station got a BYE: ${ru.err}${ru.out}`);
			const kicked = await globalVar('lua_trunk_kick');
			assert.match(kicked, /^\+OK/, `the script's kick all: ${kicked}`);
			assert.match(await api(`conference ${ROOM} list count`),
				new RegExp(`^-ERR Conference ${ROOM} not found`));

			/* what the hook saw: one lua::hook event per conference event, in order */
			await ev.wait(custom('lua::hook', { 'Hook-Room': ROOM,
				'Hook-Action': 'conference-destroy' }), { from: mark, what: 'the hook on destroy' });
			const hooks = ev.all(custom('lua::hook', { 'Hook-Room': ROOM }), mark);
			const actions = hooks.map((e) => e['Hook-Action']);
			const confActions = ev.all(conf, mark).map((e) => e.Action);
			assert.deepEqual(actions, confActions, 'the hook ran once per event, in order');
			for (const a of ['conference-create', 'add-member', 'del-member', 'conference-destroy'])
				assert.ok(actions.includes(a), `the hook saw ${a}: ${JSON.stringify(actions)}`);
			for (const e of hooks)
				assert.equal(e['Hook-Missing'], `-ERR Conference ${MISSING_ROOM} not found\\n`,
					'the count of a missing room, exactly');
			const hAdd = hooks.filter((e) => e['Hook-Action'] === 'add-member');
			assert.deepEqual(hAdd.map((e) => e['Hook-Member']).sort(),
				[addCaller['Member-ID'], addInvitee['Member-ID']].sort());
			assert.ok(hAdd.every((e) => /^[12]$/.test(e['Hook-Count'])),
				`list count from the hook: ${hAdd.map((e) => e['Hook-Count'])}`);
			const hDestroy = hooks.find((e) => e['Hook-Action'] === 'conference-destroy');
			assert.equal(hDestroy['Hook-Count'], `-ERR Conference ${ROOM} not found\\n`,
				'the room is gone when the hook runs for its destroy');
		});

		/* ---- 5. EventConsumer ---- */

		await sub('EventConsumer: pop(1, 300) times out, pop(1, ...) gets our sendevent; ' +
			'API answers meanwhile', T, async () => {
			const mark = ev.mark();
			assert.equal(await api('luarun consumer.lua'), '+OK\n');
			const first = await until('the first pop returned', async () => {
				const v = await globalVar('lua_ec_first');
				return { ok: /^(nil|event):\d+$/.test(v), v, info: v };
			}, 3000);
			const [what, ms] = first.v.split(':');
			assert.equal(what, 'nil', 'nothing to pop');
			assert.ok(Number(ms) >= 250 && Number(ms) < 1000, `waited about 300 ms (${ms})`);
			/* the second pop waits; the server does not */
			for (let i = 0; i < 3; i++) {
				const r = await timedApi('global_getvar lua_ec_first');
				assert.equal(r.body.trim(), first.v);
				assert.ok(r.ms < 200, `API answered in ${r.ms} ms while the script waits`);
			}
			const other = await c.cmd('sendevent CUSTOM',
				{ headers: { 'Event-Subclass': 'my::other', 'X-Probe': 'wrong' } });
			assert.match(other.headers['Reply-Text'] || '', /^\+OK/);
			const sent = await c.cmd('sendevent CUSTOM',
				{ headers: { 'Event-Subclass': 'my::test', 'X-Probe': 'probe-77' } });
			assert.match(sent.headers['Reply-Text'] || '', /^\+OK/);
			const got = await ev.wait(custom('lua::test', { Test: 'consumer' }),
				{ from: mark, ms: 5000, what: 'the consumer\'s report' });
			assert.equal(got.Got, 'event');
			assert.equal(got.Probe, 'probe-77', 'the bound subclass only');
			assert.equal(got.Subclass, 'my::test');
			assert.equal(got.Type, 'CUSTOM');
		});

		/* ---- 6. Dbh ---- */

		await sub('Dbh on sqlite://lua_test: create, insert, callback rows, query_rows, ' +
			'affected_rows; the file is under db_dir', T, async () => {
			assert.equal(await api('lua dbh.lua'),
				'connected=true\n' +
				'inserted=3\n' +
				'row=1:apple\nrow=2:pear\nrow=3:plum\n' +
				'stopped_after=1\n' +
				'query_rows=true:2:pear,plum\n' +
				'updated=2\n' +
				'bad=false:true\n');
			const file = path.join(server.dir, 'db', 'lua_test.db');
			assert.ok(fs.existsSync(file), `${file} exists`);
			assert.equal(fs.readFileSync(file).subarray(0, 15).toString('latin1'),
				'SQLite format 3', 'an SQLite database');
		});

		/* ---- 8. bad input ---- */

		await sub('bad input: the unknown hook event was logged at start, wrong argument ' +
			'types are clean Lua errors, the call goes on', T, async () => {
			const log = server.logText();
			assert.match(log, /\[ERR\][^\n]*hook on unknown event 'NO_SUCH_EVENT' ignored/);
			let from = server.logText().length;
			assert.equal(await api('lua ~freeswitch.consoleLog()'),
				'-ERR Cannot execute script\n');
			await waitLog(/\[ERR\][^\n]*bad argument #2 to 'consoleLog' \(string expected, got no value\)/,
				from, 'the consoleLog() error');
			from = server.logText().length;
			assert.equal(await api('lua ~os.exit(1) stream:write("still alive")'), 'still alive');
			await waitLog(/\[WARNING\][^\n]*Surely you jest! exiting is a bad plan\.\.\.\./, from,
				'os.exit refused');
			from = server.logText().length;
			assert.equal(await api('luarun ~freeswitch.msleep("soon")'), '+OK\n');
			await waitLog(/\[ERR\][^\n]*bad argument #1 to 'msleep'/, from, 'the msleep error');

			from = server.logText().length;
			const { phone, uac, uuid } = await call('7302');
			const t0 = Date.now();
			assert.equal(await waitVar(uuid, 'bad_after', 'dialplan went on'), 'dialplan went on');
			const text = await waitLog(/bad argument #1 to 'getDigits' \(number expected, got string\)/,
				from, 'the getDigits error');
			assert.match(text, /\[ERR\][^\n]*bad_session\.lua:4:/, 'with file:line');
			assert.equal(await api(`uuid_getvar ${uuid} bad_stage`), 'before');
			const r = await sippDone(uac, 10000, 'the caller');
			assert.equal(r.code, 0, `the dialplan hung up: ${r.err}${r.out}`);
			assert.ok(tonePackets(phone, 1800, t0 - 1000) >= 40,
				`the dialplan's next playback (${tonePackets(phone, 1800, t0 - 1000)} packets)`);
		});

		/* ---- 6b. the Session methods about data, JSON, insertFile, sendEvent ---- */

		await sub('executeString, private values, getXMLCDR, setEventData, print, speech, ' +
			'JSON, insertFile, sendEvent to the input callback', T, async () => {
			writeWav(INSERT_A, 8000, 1000, 1);
			writeWav(INSERT_B, 8000, 2000, 0.5);
			assert.equal((await api('global_setvar more_probe=probed')).trim(), '+OK');
			const from = server.logText().length;
			const mark = ev.mark();
			const { uuid } = await call('7320');
			assert.equal(await waitVar(uuid, 'more_stage', 'done', 15000), 'done');
			const v = async (n) => (await api(`uuid_getvar ${uuid} more_${n}`)).trim();
			assert.equal(await v('exec'), 'via executeString');
			assert.equal(await v('priv'), 'v1,nil');
			assert.equal(await v('cdr'), '<cdr ,true,true,true');
			const data = await ev.wait((e) => e['Event-Subclass'] === 'lua::test' &&
				e.Test === 'more_data', { from: mark, what: 'the event with the channel data' });
			assert.equal(data['Unique-ID'], uuid);
			assert.equal(data['Caller-Destination-Number'], '7320');
			assert.equal(data['Channel-State'], 'CS_EXECUTE');
			assert.equal(await v('print'), '0');
			assert.equal(await v('pads'), 'nil');
			assert.equal(await v('json'), '{"message":"probed"}');
			assert.equal(await v('roundtrip'), '{"a":[1,2,{"b":true}]}');
			assert.equal(await v('insert'), '1');
			assert.equal(await v('insert_bad'), '0');
			assert.equal(await v('cb'), 'event:queued-1:argval');
			assert.equal(await v('slept'), 'true', 'the callback\'s "break" ended the sleep');
			const log = server.logText().slice(from);
			assert.match(log, /more\.lua:7 .*more consoleLog2/);
			assert.match(log, /\[ERR\][^\n]*detectSpeech: no speech recognition engine/);
			assert.match(log, /\[ERR\][^\n]*playAndDetectSpeech: .*ASR INIT ERROR/);
			const w = readWav(INSERT_A);
			assert.equal(w.samples.length, 12000);
			const part = (a, b) => w.samples.slice(a, b);
			assert.ok(goertzel(part(500, 3500), 1000) > 10 * goertzel(part(500, 3500), 2000));
			assert.ok(goertzel(part(4500, 7500), 2000) > 10 * goertzel(part(4500, 7500), 1000),
				'B sits at sample 4000');
			assert.ok(goertzel(part(8500, 11500), 1000) > 10 * goertzel(part(8500, 11500), 2000));
			await api(`uuid_kill ${uuid}`);
			fs.rmSync(INSERT_A, { force: true });
			fs.rmSync(INSERT_B, { force: true });
		});

		/* ---- 7. the startup script, then a busy one (last: it never ends) ---- */

		await sub('startup-script runs on; a busy luarun script does not freeze the server', T,
			async () => {
				const a = Number(await globalVar('lua_tick'));
				assert.ok(a > 0, `the startup script ticks (${a})`);
				await h.sleep(600);
				const b = Number(await globalVar('lua_tick'));
				assert.ok(b >= a + 3, `it goes on ticking every 100 ms (${a} -> ${b})`);

				assert.equal(await api('luarun ~while true do end'), '+OK\n');
				await h.sleep(300);
				for (let i = 0; i < 5; i++) {
					const r = await timedApi('status');
					assert.match(r.body, /UP/);
					assert.ok(r.ms < 1000, `status answered in ${r.ms} ms beside the busy script`);
				}
				const r = await timedApi('lua ~stream:write("still here")');
				assert.equal(r.body, 'still here');
				assert.ok(r.ms < 1000, `a second script ran in ${r.ms} ms`);
				/* a call left in streamFile when the server stops (the stop checks leaks) */
				const { uuid } = await call('7309');
				assert.equal(await waitVar(uuid, 'lp_stage', 'playing'), 'playing');
				const c1 = Number(await globalVar('lua_tick'));
				await h.sleep(1000);
				const c2 = Number(await globalVar('lua_tick'));
				assert.ok(c2 >= c1 + 5, `the startup script still ticks (${c1} -> ${c2})`);
			});
	});
