'use strict';
/*
 * lua_pgsql.test.js - freeswitch.Dbh on pgsql:// against a fake PostgreSQL
 * server (fakepg.js): while a script waits for a slow query or a connection
 * that never answers, the event socket and other scripts go on; the script
 * then gets its rows, or an error after connect_timeout or when the server
 * closes the connection; every Dbh method over the waiting path; a query
 * where the run cannot wait blocks for connect_timeout at most; a session
 * that hangs up meanwhile (its script still gets the rows); a script still
 * waiting at shutdown leaks nothing (the harness checks the sanitizers).
 */
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');
const { FakePg } = require('./fakepg');

const T = { timeout: 30000 };

const OPEN = 'local dbh = freeswitch.Dbh("pgsql://hostaddr=127.0.0.1 port=" .. argv[1] ..\n' +
	'  " dbname=" .. (argv[2] or "fs") .. " user=u connect_timeout=2")\n' +
	'local function ms() return tonumber(freeswitch.API():getTime()) end\n';

const SCRIPTS = {
	'pg_slow.lua': OPEN +
		'local got = {}\n' +
		'local ok = dbh:query("sleep 2000 rows", function(row)\n' +
		'  got[#got + 1] = row.id .. "=" .. row.name end)\n' +
		'stream:write(tostring(ok) .. " " .. table.concat(got, ","))\n',
	'pg_mute.lua': 'local t0 = tonumber(freeswitch.API():getTime())\n' + OPEN +
		'stream:write(tostring(dbh:connected()) .. "|" .. tostring(dbh:last_error()) ..\n' +
		'  "|" .. (ms() - t0))\n',
	'pg_hang.lua': OPEN +
		'local ok = dbh:query("hang")\n' +
		'local err = dbh:last_error()\n' +
		'stream:write(tostring(ok) .. "|" .. tostring(err) .. "|" .. tostring(dbh:query("update")))\n',
	'pg_drop.lua': OPEN +
		'local n = 0\n' +
		'local ok = dbh:query("drop", function() n = n + 1 end)\n' +
		'stream:write(tostring(ok) .. "|" .. n .. "|" .. tostring(dbh:last_error()))\n',
	'pg_forever.lua': OPEN + 'dbh:query("hang")\n',
	'pg_session.lua': OPEN +
		'session:setVariable("pg_stage", "querying")\n' +
		'local ok, rows = dbh:query_rows("sleep 2500 rows")\n' +
		'freeswitch.setGlobalVariable("pg_session", tostring(ok) .. " " .. #rows .. " " ..\n' +
		'  tostring(session:ready()))\n',
	'pg_block.lua': OPEN +
		'local t0 = ms()\n' +
		'local ok = coroutine.wrap(function() return dbh:query("hang") end)()\n' +
		'stream:write(tostring(ok) .. "|" .. tostring(dbh:last_error()) .. "|" ..\n' +
		'  tostring(dbh:connected()) .. "|" .. (ms() - t0))\n',
	'pg_all.lua': OPEN +
		'local r = {}\n' +
		'local function add(...)\n' +
		'  for i = 1, select("#", ...) do r[#r + 1] = tostring((select(i, ...))) end\n' +
		'end\n' +
		'add(dbh:connected(), dbh:query("update"), dbh:affected_rows())\n' +
		'local n = 0\n' +
		'add(dbh:query("rows", function() n = n + 1; return 1 end), n)\n' +
		'local names = {}\n' +
		'add(dbh:query("rows", function(row)\n' +
		'  names[#names + 1] = row.name .. "/" .. tostring(dbh:query("sleep 50 update"))\n' +
		'end), table.concat(names, ","))\n' +
		'local ok, rows, err = dbh:query_rows("update; rows")\n' +
		'add(ok, #rows, rows[2].name, err)\n' +
		'add(dbh:query("rows; update"), dbh:affected_rows())\n' +
		'add(dbh:query("nonsense"), dbh:last_error())\n' +
		'dbh:clear_error()\n' +
		'add(dbh:query("copy"), dbh:last_error(), dbh:query("update"))\n' +
		'add(dbh:test_reactive("rows", "x", "y"), dbh:test_reactive("bad", "worse", "update"))\n' +
		'add(dbh:test_reactive("bad", nil, "alsobad"), dbh:last_error())\n' +
		'add(coroutine.wrap(function() return dbh:query("sleep 50 update") end)())\n' +
		'add(dbh:release(), dbh:connected(), dbh:query("update"))\n' +
		'stream:write(table.concat(r, "|"))\n',
};

describe('Dbh on pgsql:// does not hold the server up', () => {
	let server, c, c2, pg;
	let answered = [];

	before(async () => {
		pg = new FakePg();
		await pg.listen();
		pg.on('answer', (sql) => answered.push(sql));
		server = await h.startServer({
			edit: (conf) => {
				const dp = path.join(conf, 'dialplan', 'default');
				fs.mkdirSync(dp, { recursive: true });
				fs.writeFileSync(path.join(dp, '90_lua_pgsql.xml'), `<include>
  <extension name="t_lua_pgsql">
    <condition field="destination_number" expression="^7450$">
      <action application="lua" data="pg_session.lua ${pg.port}"/>
    </condition>
  </extension>
</include>
`);
				const dir = path.join(conf, 'scripts');
				fs.mkdirSync(dir, { recursive: true });
				for (const [name, body] of Object.entries(SCRIPTS))
					fs.writeFileSync(path.join(dir, name), body);
			},
		});
		c = await h.rawAuthed(server);
		c2 = await h.rawAuthed(server);
	});

	after(async () => {
		for (const conn of [c, c2]) {
			if (conn)
				conn.destroy();
		}
		if (server)
			await server.stop();
		if (pg)
			await pg.close();
	});

	async function api(conn, cmd, timeoutMs = 5000) {
		const f = await conn.cmd(`api ${cmd}`, { timeoutMs });
		assert.equal(f.type, 'api/response');
		return f.body;
	}

	function nextQuery(what) {
		return new Promise((resolve) => {
			const seen = (sql) => {
				if (sql.includes(what)) {
					pg.off('query', seen);
					resolve(sql);
				}
			};
			pg.on('query', seen);
		});
	}

	/* While the script waits on the fake server, the other connection is served. */
	async function whileWaiting(before) {
		assert.match(await api(c2, 'status'), /UP /);
		assert.equal(await api(c2, 'lua ~stream:write("still here")'), 'still here');
		assert.deepEqual(answered.slice(before), [], 'answered only after the database');
	}

	test('a slow query: the server answers meanwhile, then the rows come', T, async () => {
		const n = answered.length;
		const arrived = nextQuery('sleep 2000 rows');
		const reply = api(c, `lua pg_slow.lua ${pg.port}`, 15000);
		await arrived;
		await whileWaiting(n);
		assert.equal(await reply, 'true 1=one,2=two,3=');
		assert.deepEqual(answered.slice(n), ['sleep 2000 rows']);
	});

	test('a server that never answers the connection: connect_timeout', T, async () => {
		const started = new Promise((resolve) => pg.once('startup', resolve));
		const reply = api(c, `lua pg_mute.lua ${pg.port} mute`, 15000);
		assert.equal((await started).database, 'mute');
		let done = false;
		reply.then(() => { done = true; });
		assert.match(await api(c2, 'status'), /UP /);
		assert.equal(done, false, 'the connect still waits');
		const [connected, err, ms] = (await reply).split('|');
		assert.equal(connected, 'false');
		assert.equal(err, 'timeout expired');
		assert.ok(Number(ms) >= 1500 && Number(ms) < 10000, `gave up after ${ms} ms`);
	});

	test('a query never answered fails when the server closes', T, async () => {
		const arrived = nextQuery('hang');
		const reply = api(c, `lua pg_hang.lua ${pg.port}`, 15000);
		await arrived;
		await whileWaiting(answered.length);
		pg.dropAll();
		const [ok, err, again] = (await reply).split('|');
		assert.equal(ok, 'false');
		assert.match(err, /server closed the connection unexpectedly/);
		assert.equal(again, 'false');
	});

	test('a connection closed midway through the rows', T, async () => {
		const [ok, n, err] = (await api(c, `lua pg_drop.lua ${pg.port}`, 15000)).split('|');
		assert.equal(ok, 'false');
		assert.equal(n, '0', 'no row of an incomplete result reaches the callback');
		assert.match(err, /server closed the connection unexpectedly/);
	});

	test('every method over the waiting path', T, async () => {
		const r = (await api(c, `lua pg_all.lua ${pg.port}`, 15000)).split('|');
		assert.deepEqual(r, [
			'true', 'true', '7',                       // connected, update, affected_rows
			'true', '1',                               // a callback returning 1 stops
			'true', 'one/true,two/true,/true',         // a query inside the row callback
			'true', '3', 'two', 'nil',                 // query_rows: the last statement's rows
			'true', '7',                               // the last statement's count
			'false', 'ERROR:  syntax error at or near "nonsense"',
			'false', 'COPY is not supported by Dbh', 'true',
			'true', 'true',                            // test_reactive: passed, reacted
			'false', 'ERROR:  syntax error at or near "alsobad"',
			'true',                                    // a coroutine's query blocks instead
			'true', 'false', 'false',                  // release
		]);
	});

	test('where the run cannot wait, a query blocks for connect_timeout at most', T, async () => {
		const [ok, err, connected, ms] = (await api(c, `lua pg_block.lua ${pg.port}`, 15000)).split('|');
		assert.equal(ok, 'false');
		assert.equal(err, 'timeout expired');
		assert.equal(connected, 'false', 'the connection given up midway is closed');
		assert.ok(Number(ms) >= 1500 && Number(ms) < 10000, `gave up after ${ms} ms`);
	});

	test('the session hangs up while its script waits on a query', T, async () => {
		const arrived = nextQuery('sleep 2500 rows');
		await c2.cmd('bgapi originate loopback/7450 &park()');
		await arrived;
		const rows = JSON.parse(await api(c2, 'show channels as json')).rows || [];
		const b = rows.find((r) => r.name === 'loopback/7450-b');
		assert.ok(b, 'the leg running the script: ' + JSON.stringify(rows));
		assert.equal(await api(c2, `uuid_kill ${b.uuid}`), '+OK\n');
		for (let i = 0; i < 50 && /7450/.test(await api(c2, 'show channels')); i++)
			await h.sleep(100);
		assert.doesNotMatch(await api(c2, 'show channels'), /7450/, 'both legs are gone');
		// an unset variable reads as -ERR no reply
		let v = await api(c2, 'global_getvar pg_session');
		for (let i = 0; i < 100 && v.startsWith('-ERR'); i++) {
			await h.sleep(100);
			v = await api(c2, 'global_getvar pg_session');
		}
		assert.equal(v, 'true 3 false', 'the rows came, the session is no longer ready');
	});

	test('a script waiting on a query at shutdown', T, async () => {
		const arrived = nextQuery('hang');
		assert.equal(await api(c, `luarun pg_forever.lua ${pg.port}`), '+OK\n');
		await arrived;
		// after() stops the server; the harness fails on any sanitizer report.
	});
});
