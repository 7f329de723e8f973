'use strict';
/*
 * lua_api.test.js - Lua scripts through the event socket (docs/lua.md): the
 * `lua` and `luarun` commands with argv, inline code and the error texts; log
 * lines with file, line and traceback; env; API:execute; an EventConsumer that
 * times out and then receives an event sent over the socket; a hook from
 * lua.conf; a startup script that keeps running; a Dbh round trip on SQLite;
 * a script that never waits beside API commands; a hook on an unknown event.
 */
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

const T = { timeout: 30000 };

const SCRIPTS = {
	'args.lua': 'stream:write(#argv .. ":" .. table.concat(argv, ","))\n',
	'env.lua': 'stream:write(env:getHeader("API-Command") .. "|" ..\n' +
		'  env:getHeader("API-Command-Argument"))\n',
	'api.lua': 'local api = freeswitch.API()\n' +
		'stream:write(api:execute("no_such_command"))\n' +
		'stream:write(api:executeString("global_getvar t_marker"))\n',
	'broken.lua': 'this is not lua\n',
	'fails.lua': 'local function inner() error("deliberate failure") end\n' +
		'stream:write("before ")\ninner()\n',
	'consumer.lua':
		'local con = freeswitch.EventConsumer("CUSTOM", "lua::test")\n' +
		'local t0 = os.clock() local w0 = freeswitch.API():getTime()\n' +
		'local e = con:pop(1, 300)\n' +
		'local waited = tonumber(freeswitch.API():getTime()) - tonumber(w0)\n' +
		'freeswitch.setGlobalVariable("t_first", (e and "event" or "nil") .. " " .. waited)\n' +
		'e = con:pop(1, 10000)\n' +
		'freeswitch.setGlobalVariable("t_second", e and e:getHeader("X-N") or "none")\n',
	'hook.lua': 'freeswitch.setGlobalVariable("t_hooked", event:getHeader("X-N") .. " " ..\n' +
		'  freeswitch.API():execute("conference", "lua_room list count"))\n',
	'startup.lua': 'local n = 0\nwhile true do\n  n = n + 1\n' +
		'  freeswitch.setGlobalVariable("t_ticks", tostring(n))\n  freeswitch.msleep(50)\nend\n',
	'db.lua': 'local dbh = freeswitch.Dbh("sqlite://lua_test")\n' +
		'assert(dbh:connected())\n' +
		'dbh:query("drop table if exists t")\n' +
		'dbh:query("create table t (k text, v integer)")\n' +
		'dbh:query("insert into t values (\'a\', 1), (\'b\', 2), (\'c\', 3)")\n' +
		'local n = dbh:affected_rows()\n' +
		'local sum = 0\n' +
		'dbh:query("select k, v from t order by k", function(row) sum = sum + tonumber(row.v) end)\n' +
		'local ok, rows = dbh:query_rows("select k from t where v > 1 order by k")\n' +
		'stream:write(n .. " " .. sum .. " " .. rows[1].k .. rows[2].k .. " " ..\n' +
		'  tostring(dbh:query("select nonsense from nowhere")) .. " " ..\n' +
		'  tostring(dbh:last_error() ~= nil))\n' +
		'dbh:release()\n',
};

const LUA_CONF = `<configuration name="lua.conf" description="LUA Configuration">
  <settings>
    <param name="script-directory" value="$\${script_dir}/?.lua"/>
    <param name="startup-script" value="startup.lua"/>
    <hook event="CUSTOM" subclass="lua::hooked" script="hook.lua"/>
    <hook event="NO_SUCH_EVENT" script="hook.lua"/>
  </settings>
</configuration>
`;

describe('lua through the event socket', () => {
	let server, c;

	before(async () => {
		server = await h.startServer({
			edit: (conf) => {
				const dir = path.join(conf, 'scripts');
				fs.mkdirSync(dir, { recursive: true });
				for (const [name, body] of Object.entries(SCRIPTS))
					fs.writeFileSync(path.join(dir, name), body);
				fs.writeFileSync(path.join(conf, 'autoload_configs', 'lua.conf.xml'), LUA_CONF);
			},
		});
		c = await h.rawAuthed(server);
	});

	after(async () => {
		if (c)
			c.destroy();
		if (server)
			await server.stop();
	});

	async function api(cmd, timeoutMs = 5000) {
		const f = await c.cmd(`api ${cmd}`, { timeoutMs });
		assert.equal(f.type, 'api/response');
		return f.body;
	}

	/* Polls until check() gives a value (an unset variable reads as -ERR no reply). */
	async function until(what, check, ms = 5000) {
		const deadline = Date.now() + ms;
		for (;;) {
			const v = await check();
			if (v && !(typeof v === 'string' && v.startsWith('-ERR no reply')))
				return v;
			assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
			await h.sleep(50);
		}
	}

	test('lua returns what the script wrote, with argv', T, async () => {
		assert.equal(await api('lua args.lua one two  three'), '3:one,two,three');
		assert.equal(await api('lua ~stream:write(6 * 7)'), '42');
		// No output at all: the event socket's own reply, as FreeSWITCH's.
		assert.equal(await api('lua'), '-ERR no reply\n');
		assert.equal(await api('lua env.lua x y'), 'lua|env.lua x y');
	});

	test('API:execute gives mod_lua\'s texts', T, async () => {
		await api('global_setvar t_marker=m1');
		assert.equal(await api('lua api.lua'), 'INVALID COMMAND!\nm1');
	});

	test('load and runtime errors: the reply and the log say so', T, async () => {
		assert.equal(await api('lua nosuch.lua'), '-ERR Cannot execute script\n');
		assert.equal(await api('lua broken.lua'), '-ERR Cannot execute script\n');
		assert.equal(await api('lua fails.lua'), 'before -ERR Cannot execute script\n');
		const log = await until('the traceback', () => {
			const t = server.logText();
			return /fails\.lua:1: deliberate failure/.test(t) && /stack traceback/.test(t) && t;
		});
		assert.match(log, /\[ERR\].*nosuch\.lua/);
		assert.match(log, /\[ERR\].*broken\.lua:1:/);
		assert.match(log, /fails\.lua:3: in main chunk/);
		assert.equal(await api('luarun'), '-ERR no args specified!\n');
		assert.equal(await api('luarun nosuch.lua'), '+OK\n');
		server.assertAlive();
	});

	test('a hook on an unknown event is logged and skipped', T, async () => {
		assert.match(server.logText(), /hook on unknown event 'NO_SUCH_EVENT' ignored/);
	});

	test('the startup script keeps running', T, async () => {
		const first = Number(await until('t_ticks', async () => Number(await api('global_getvar t_ticks')) || 0));
		await h.sleep(400);
		const later = Number(await api('global_getvar t_ticks'));
		assert.ok(later >= first + 4, `ticks ${first} -> ${later}`);
	});

	test('EventConsumer: a pop times out, the next gets the event sent', T, async () => {
		assert.equal(await api('luarun consumer.lua'), '+OK\n');
		const first = await until('the first pop', () => api('global_getvar t_first'), 3000);
		const [what, ms] = first.split(' ');
		assert.equal(what, 'nil');
		assert.ok(Number(ms) >= 250 && Number(ms) < 2000, `waited ${ms} ms`);
		// The server answered meanwhile; now send what the second pop waits for.
		const f = await c.cmd('sendevent CUSTOM', { headers: { 'Event-Subclass': 'lua::test', 'X-N': '7' } });
		assert.match(f.headers['Reply-Text'] || '', /^\+OK/);
		assert.equal(await until('the second pop', () => api('global_getvar t_second')), '7');
	});

	test('a lua.conf hook runs for each matching event, with event and the API', T, async () => {
		await c.cmd('sendevent CUSTOM', { headers: { 'Event-Subclass': 'lua::hooked', 'X-N': '11' } });
		const v = await until('the hook', () => api('global_getvar t_hooked'));
		assert.equal(v, '11 -ERR Conference lua_room not found\n');
	});

	test('Dbh: a round trip on SQLite, in the db directory', T, async () => {
		assert.equal(await api('lua db.lua'), '3 6 bc false true');
		assert.ok(fs.existsSync(path.join(server.dir, 'db', 'lua_test.db')));
	});

	test('a script that never waits does not stop the server', T, async () => {
		assert.equal(await api('luarun ~while true do end'), '+OK\n');
		const t0 = Date.now();
		assert.match(await api('status'), /UP /);
		assert.ok(Date.now() - t0 < 1000, `status took ${Date.now() - t0} ms`);
		assert.equal(await api('lua ~stream:write("still here")'), 'still here');
	});
});
