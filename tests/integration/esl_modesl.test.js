'use strict';
/*
 * The event socket driven by a real client library: modesl, the npm ESL client
 * that Node applications use against FreeSWITCH.
 */
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const esl = require('modesl');
const h = require('./harness');

const T = { timeout: 20000 };
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/* ---- promise wrappers around modesl's callbacks, all bounded in time ---- */

function connect(srv, password = 'ClueCon', timeoutMs = 5000) {
	return h.withTimeout(new Promise((resolve, reject) => {
		const conn = new esl.Connection(h.HOST, srv.port, password, () => resolve(conn));
		srv.track(conn.socket);
		conn.on('error', reject);
		conn.once('esl::event::auth::fail', () => reject(new Error('auth failed')));
	}), timeoutMs, 'modesl connect + auth');
}

function api(conn, cmd, args = '') {
	return h.withTimeout(new Promise((resolve) => conn.api(cmd, args, resolve)), 5000,
		`api ${cmd} ${args}`);
}

function sendRecv(conn, cmd, args) {
	return h.withTimeout(new Promise((resolve) => conn.sendRecv(cmd, args || null, resolve)),
		5000, `sendRecv ${cmd}`);
}

function bgapi(conn, cmd, args = '', jobid = null) {
	return h.withTimeout(new Promise((resolve) => conn.bgapi(cmd, args, jobid, resolve)), 5000,
		`bgapi ${cmd} ${args}`);
}

function events(conn, fmt, names) {
	return h.withTimeout(new Promise((resolve) => conn.events(fmt, names, resolve)), 5000,
		`event ${fmt} ${names}`);
}

function sendEvent(conn, ev) {
	return h.withTimeout(new Promise((resolve) => conn.sendEvent(ev, resolve)), 5000,
		'sendevent');
}

/* Collects what modesl emits under `pattern` (e.g. 'esl::event::CUSTOM::**'). */
function collect(conn, pattern) {
	const got = [];
	const waiters = new Set();
	const fn = (evt, headers, body) => {
		got.push({ evt, headers, body });
		for (const w of [...waiters])
			w();
	};
	conn.on(pattern, fn);
	return {
		got,
		/* Resolves with the first collected item matching pred (waits for it). */
		waitFor(pred, timeoutMs = 5000, what = pattern) {
			return h.withTimeout(new Promise((resolve) => {
				const w = () => {
					const hit = got.find((g) => pred(g.evt, g));
					if (hit) {
						waiters.delete(w);
						resolve(hit);
					}
				};
				waiters.add(w);
				w();
			}), timeoutMs, what);
		},
		stop() { conn.off(pattern, fn); waiters.clear(); },
	};
}

function customEvent(subclass, headers = {}, body) {
	const ev = new esl.Event('CUSTOM', subclass);
	for (const [k, v] of Object.entries(headers))
		ev.addHeader(k, v);
	if (body !== undefined)
		ev.addBody(body);
	return ev;
}

const subclassIs = (sc) => (e) => e.getHeader('Event-Subclass') === sc;

function close(conn) {
	if (conn && conn.socket)
		conn.socket.destroy();
}

describe('event socket with the modesl client', () => {
	let srv;

	before(async () => {
		srv = await h.startServer({ switch: { 'event-heartbeat-interval': '1' } });
	});
	after(async () => {
		await srv.stop();
	});

	test('connect and authenticate', T, async () => {
		const conn = await connect(srv);
		assert.equal(conn.authed, true);
		assert.equal(conn.connected(), true);
		close(conn);
	});

	test('a wrong password is refused and the connection closed', T, async () => {
		const conn = new esl.Connection(h.HOST, srv.port, 'NotThePassword');
		srv.track(conn.socket);
		conn.on('error', () => {});
		const fail = new Promise((r) => conn.once('esl::event::auth::fail', r));
		const notice = new Promise((r) => conn.once('esl::event::disconnect::notice', r));
		const end = new Promise((r) => conn.once('esl::end', r));
		const evt = await h.withTimeout(fail, 5000, 'auth::fail');
		assert.equal(evt.getHeader('Reply-Text'), '-ERR invalid');
		const n = await h.withTimeout(notice, 5000, 'disconnect notice');
		assert.equal(n.getBody(), 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n');
		await h.withTimeout(end, 5000, 'socket end');
	});

	test('api status', T, async () => {
		const conn = await connect(srv);
		const r = await api(conn, 'status');
		assert.equal(r.getHeader('Content-Type'), 'api/response');
		assert.ok(r.getBody().startsWith('UP '), r.getBody());
		assert.match(r.getBody(), /is ready\n/);
		close(conn);
	});

	test('api version', T, async () => {
		const conn = await connect(srv);
		const r = await api(conn, 'version');
		assert.match(r.getBody(), /^\S.* Version \S+.*\n$/);
		close(conn);
	});

	test('api of an unknown command', T, async () => {
		const conn = await connect(srv);
		const r = await api(conn, 'nosuchcommand');
		assert.equal(r.getBody(), '-ERR nosuchcommand Command not found!\n');
		close(conn);
	});

	test('global_setvar, global_getvar and eval', T, async () => {
		const conn = await connect(srv);
		assert.equal((await api(conn, 'global_setvar', 'foo=bar')).getBody(), '+OK');
		assert.equal((await api(conn, 'global_getvar', 'foo')).getBody(), 'bar');
		assert.equal((await api(conn, 'eval', '${foo}')).getBody(), 'bar');
		assert.equal((await api(conn, 'eval', 'x${foo}y')).getBody(), 'xbary');
		close(conn);
	});

	test('echo, uptime, show', T, async () => {
		const conn = await connect(srv);
		assert.equal((await api(conn, 'echo', 'hi there')).getBody(), 'hi there');
		assert.match((await api(conn, 'uptime')).getBody(), /^\d+\n$/);
		assert.equal((await api(conn, 'show', 'calls count')).getBody(), '\n0 total.\n');
		assert.equal((await api(conn, 'show', 'channels as json')).getBody(), '{"row_count": 0}\n');
		close(conn);
	});

	test('modesl show() (bgapi "show channels as json") parses', T, async () => {
		const conn = await connect(srv);
		const [err, parsed, raw] = await h.withTimeout(new Promise((resolve) =>
			conn.show('channels', 'json', (...a) => resolve(a))), 5000, 'show channels');
		assert.equal(err, null);
		assert.equal(raw, '{"row_count": 0}\n');
		assert.equal(parsed.row_count, 0);
		assert.deepEqual(parsed.rows, []);
		close(conn);
	});

	test('bgapi status: the BACKGROUND_JOB event is matched by Job-UUID', T, async () => {
		const conn = await connect(srv);
		const evt = await bgapi(conn, 'status');
		assert.equal(evt.getHeader('Event-Name'), 'BACKGROUND_JOB');
		assert.equal(evt.getHeader('Job-Command'), 'status');
		assert.match(evt.getHeader('Job-UUID'), UUID_RE);
		assert.ok(evt.getBody().startsWith('UP '), evt.getBody());
		close(conn);
	});

	test('several bgapi jobs at once each get their own result', T, async () => {
		const conn = await connect(srv);
		const jobs = [];
		for (let i = 0; i < 8; i++)
			jobs.push(bgapi(conn, 'echo', `job number ${i}`));
		const results = await Promise.all(jobs);
		results.forEach((evt, i) => {
			assert.equal(evt.getBody(), `job number ${i}`);
			assert.equal(evt.getHeader('Job-Command-Arg'), `job number ${i}`);
		});
		close(conn);
	});

	test('a client-supplied Job-UUID is honoured', T, async () => {
		const conn = await connect(srv);
		const id = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
		const evt = await bgapi(conn, 'echo', 'mine', id);
		assert.equal(evt.getHeader('Job-UUID'), id);
		assert.equal(evt.getBody(), 'mine');
		// And the reply to a raw bgapi with the header carries it too.
		const id2 = '12345678-1234-4234-8234-123456789abc';
		const done = collect(conn, `esl::event::BACKGROUND_JOB::${id2}`);
		const r = await sendRecv(conn, 'bgapi status', { 'Job-UUID': id2 });
		assert.equal(r.getHeader('Reply-Text'), `+OK Job-UUID: ${id2}`);
		assert.equal(r.getHeader('Job-UUID'), id2);
		const { evt: ev2 } = await done.waitFor(() => true);
		assert.equal(ev2.getHeader('Job-Command'), 'status');
		close(conn);
	});

	test('CUSTOM events in plain format: headers, body, sequence, Core-UUID, timestamp', T,
		async () => {
			const conn = await connect(srv);
			const coreUuid = (await api(conn, 'global_getvar', 'core_uuid')).getBody();
			assert.match(coreUuid, UUID_RE);
			const r = await events(conn, 'plain', 'CUSTOM my::test');
			assert.equal(r.getHeader('Reply-Text'), '+OK event listener enabled plain');
			const c = collect(conn, 'esl::event::CUSTOM::**');
			const r1 = await sendEvent(conn, customEvent('my::test',
				{ 'X-Foo': 'bar baz', 'X-Num': '42', 'X-Mark': 'one' }, 'hello body\n'));
			assert.match(r1.getHeader('Reply-Text'), /^\+OK [0-9a-f-]{36}$/);
			const r2 = await sendEvent(conn, customEvent('my::test', { 'X-Mark': 'two' }));
			const { evt: e1 } = await c.waitFor((e) => e.getHeader('X-Mark') === 'one');
			const { evt: e2 } = await c.waitFor((e) => e.getHeader('X-Mark') === 'two');
			assert.equal(e1.getHeader('Event-Name'), 'CUSTOM');
			assert.equal(e1.getHeader('Event-Subclass'), 'my::test');
			assert.equal(e1.getHeader('X-Foo'), 'bar baz');
			assert.equal(e1.getHeader('X-Num'), '42');
			assert.equal(e1.getHeader('Event-UUID'), r1.getHeader('Reply-Text').slice(4));
			assert.equal(e2.getHeader('Event-UUID'), r2.getHeader('Reply-Text').slice(4));
			assert.equal(e1.getBody(), 'hello body\n');
			assert.equal(e2.getBody(), '');
			const s1 = Number(e1.getHeader('Event-Sequence'));
			const s2 = Number(e2.getHeader('Event-Sequence'));
			assert.ok(Number.isInteger(s1) && s2 > s1, `Event-Sequence ${s1} then ${s2}`);
			assert.equal(e1.getHeader('Core-UUID'), coreUuid);
			assert.equal(e2.getHeader('Core-UUID'), coreUuid);
			const ts = e1.getHeader('Event-Date-Timestamp');
			assert.match(ts, /^\d{16}$/, 'microseconds since the epoch');
			assert.ok(Math.abs(Number(ts) / 1000 - Date.now()) < 60000, `timestamp ${ts} is now`);
			assert.match(e1.getHeader('Event-Date-Local'), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
			assert.equal(c.got.length, 2, 'exactly the two events');
			c.stop();
			close(conn);
		});

	test('CUSTOM events in json format', T, async () => {
		const conn = await connect(srv);
		const r = await events(conn, 'json', 'CUSTOM my::json');
		assert.equal(r.getHeader('Reply-Text'), '+OK event listener enabled json');
		const c = collect(conn, 'esl::event::CUSTOM::**');
		await sendEvent(conn, customEvent('my::json', { 'X-Q': 'a "quoted" \\ value' },
			'json body'));
		const { evt, headers, body } = await c.waitFor(subclassIs('my::json'));
		assert.equal(headers['Content-Type'], 'text/event-json');
		assert.equal(evt.getHeader('Event-Name'), 'CUSTOM');
		assert.equal(evt.getHeader('X-Q'), 'a "quoted" \\ value');
		assert.equal(evt.getBody(), 'json body');
		const j = JSON.parse(body);
		assert.equal(j._body, 'json body');
		assert.equal(j['Content-Length'], '9');
		c.stop();
		close(conn);
	});

	test('CUSTOM events in xml format', T, async () => {
		const conn = await connect(srv);
		const r = await events(conn, 'xml', 'CUSTOM my::xml');
		assert.equal(r.getHeader('Reply-Text'), '+OK event listener enabled xml');
		const c = collect(conn, 'esl::event::CUSTOM::**');
		// Not sendEvent(): modesl adds its own Event-Name header, which the server
		// keeps (as FreeSWITCH does), and xml2js then turns the two Event-Name
		// elements into an array that modesl cannot route.
		const reply = await sendRecv(conn, 'sendevent CUSTOM\nEvent-Subclass: my::xml\n' +
			'X-Foo: x y\nContent-Length: 10\n\nxml <body>');
		assert.match(reply.getHeader('Reply-Text'), /^\+OK [0-9a-f-]{36}$/);
		// modesl keeps xml values URL-encoded, as FreeSWITCH sends them.
		const { evt, headers, body } = await c.waitFor(
			(e) => decodeURIComponent(e.getHeader('Event-Subclass') || '') === 'my::xml');
		assert.equal(headers['Content-Type'], 'text/event-xml');
		assert.equal(evt.getHeader('Event-Name'), 'CUSTOM');
		assert.equal(decodeURIComponent(evt.getHeader('X-Foo')), 'x y');
		assert.ok(body.startsWith('<event>\n  <headers>\n'), body.slice(0, 60));
		assert.match(body, /\n {2}<\/headers>\n {2}<Content-Length>10<\/Content-Length>\n {2}<body>xml &lt;body&gt;<\/body>\n<\/event>\n$/);
		c.stop();
		close(conn);
	});

	test('filter Event-Subclass: only that subclass, until the filter is deleted', T, async () => {
		const conn = await connect(srv);
		await events(conn, 'plain', 'CUSTOM my::a my::b');
		let r = await h.withTimeout(new Promise((res) => conn.filter('Event-Subclass', 'my::a', res)),
			5000, 'filter');
		assert.equal(r.getHeader('Reply-Text'), '+OK filter added. [Event-Subclass]=[my::a]');
		const c = collect(conn, 'esl::event::CUSTOM::**');
		await sendEvent(conn, customEvent('my::b', { 'X-Step': '1' }));
		await sendEvent(conn, customEvent('my::a', { 'X-Step': '2' }));
		await c.waitFor(subclassIs('my::a'));
		// Events arrive in firing order, so a delivered my::b would be here by now.
		assert.deepEqual(c.got.map((g) => g.evt.getHeader('Event-Subclass')), ['my::a']);
		r = await h.withTimeout(new Promise((res) => conn.filterDelete('Event-Subclass', 'my::a', res)),
			5000, 'filter delete');
		assert.equal(r.getHeader('Reply-Text'), '+OK filter deleted. [Event-Subclass][my::a]');
		await sendEvent(conn, customEvent('my::b', { 'X-Step': '3' }));
		await c.waitFor((e) => e.getHeader('X-Step') === '3');
		assert.deepEqual(c.got.map((g) => g.evt.getHeader('X-Step')), ['2', '3']);
		c.stop();
		close(conn);
	});

	test('regex and negative filters', T, async () => {
		const conn = await connect(srv);
		await events(conn, 'plain', 'CUSTOM my::r1 my::r2 my::x');
		let r = await sendRecv(conn, 'filter Event-Subclass /^my::r/');
		assert.equal(r.getHeader('Reply-Text'), '+OK filter added. [Event-Subclass]=[/^my::r/]');
		r = await sendRecv(conn, 'filter X-Drop -yes');
		assert.equal(r.getHeader('Reply-Text'), '+OK filter added. [X-Drop]=[-yes]');
		const c = collect(conn, 'esl::event::CUSTOM::**');
		await sendEvent(conn, customEvent('my::x', { 'X-Step': '1' }));
		await sendEvent(conn, customEvent('my::r2', { 'X-Step': '2', 'X-Drop': 'yes' }));
		await sendEvent(conn, customEvent('my::r1', { 'X-Step': '3', 'X-Drop': 'no' }));
		await c.waitFor((e) => e.getHeader('X-Step') === '3');
		assert.deepEqual(c.got.map((g) => g.evt.getHeader('X-Step')), ['3']);
		c.stop();
		close(conn);
	});

	test('nixevent removes a subclass subscription', T, async () => {
		const conn = await connect(srv);
		await events(conn, 'plain', 'CUSTOM my::n my::m');
		const c = collect(conn, 'esl::event::CUSTOM::**');
		await sendEvent(conn, customEvent('my::n', { 'X-Step': '1' }));
		await c.waitFor((e) => e.getHeader('X-Step') === '1');
		const r = await sendRecv(conn, 'nixevent CUSTOM my::n');
		assert.equal(r.getHeader('Reply-Text'), '+OK events nixed');
		await sendEvent(conn, customEvent('my::n', { 'X-Step': '2' }));
		await sendEvent(conn, customEvent('my::m', { 'X-Step': '3' }));
		await c.waitFor((e) => e.getHeader('X-Step') === '3', 2000,
			'my::m (still subscribed) after `nixevent CUSTOM my::n`');
		assert.deepEqual(c.got.map((g) => g.evt.getHeader('X-Step')), ['1', '3']);
		c.stop();
		close(conn);
	});

	test('nixevent of an event name', T, async () => {
		const conn = await connect(srv);
		await events(conn, 'plain', 'RELOADXML CUSTOM my::k');
		const r = await sendRecv(conn, 'nixevent RELOADXML');
		assert.equal(r.getHeader('Reply-Text'), '+OK events nixed');
		const all = collect(conn, 'esl::event::**');
		assert.equal((await api(conn, 'reloadxml')).getBody(), '+OK [Success]\n');
		await sendEvent(conn, customEvent('my::k', { 'X-Step': 'marker' }));
		await all.waitFor((e) => e.getHeader('X-Step') === 'marker');
		assert.ok(!all.got.some((g) => g.evt.getHeader('Event-Name') === 'RELOADXML'),
			'RELOADXML was nixed');
		all.stop();
		close(conn);
	});

	test('noevents stops all delivery', T, async () => {
		const conn = await connect(srv);
		await events(conn, 'plain', 'CUSTOM my::q');
		let r = await sendRecv(conn, 'noevents');
		assert.equal(r.getHeader('Reply-Text'), '+OK no longer listening for events');
		const c = collect(conn, 'esl::event::CUSTOM::**');
		await sendEvent(conn, customEvent('my::q', { 'X-Step': '1' }));
		r = await sendRecv(conn, 'event plain CUSTOM my::marker');
		assert.equal(r.getHeader('Reply-Text'), '+OK event listener enabled plain');
		await sendEvent(conn, customEvent('my::marker', { 'X-Step': '2' }));
		await c.waitFor((e) => e.getHeader('X-Step') === '2');
		assert.deepEqual(c.got.map((g) => g.evt.getHeader('X-Step')), ['2']);
		c.stop();
		close(conn);
	});

	test('an event fired by one connection reaches another subscribed one', T, async () => {
		const sender = await connect(srv);
		const receiver = await connect(srv);
		const third = await connect(srv);
		await events(receiver, 'plain', 'CUSTOM my::cross');
		await events(third, 'json', 'CUSTOM my::cross');
		const c = collect(receiver, 'esl::event::CUSTOM::**');
		const c3 = collect(third, 'esl::event::CUSTOM::**');
		const cs = collect(sender, 'esl::event::CUSTOM::**');
		const r = await sendEvent(sender, customEvent('my::cross', { 'X-From': 'sender' }, 'b'));
		const uuid = r.getHeader('Reply-Text').slice(4);
		const { evt } = await c.waitFor(subclassIs('my::cross'));
		const { evt: e3 } = await c3.waitFor(subclassIs('my::cross'));
		for (const e of [evt, e3]) {
			assert.equal(e.getHeader('Event-UUID'), uuid);
			assert.equal(e.getHeader('X-From'), 'sender');
			assert.equal(e.getBody(), 'b');
		}
		assert.equal(evt.getHeader('Event-Sequence'), e3.getHeader('Event-Sequence'));
		// The sender did not subscribe to it.
		assert.equal((await api(sender, 'echo', 'sync')).getBody(), 'sync');
		assert.equal(cs.got.length, 0);
		for (const x of [c, c3, cs])
			x.stop();
		close(sender);
		close(receiver);
		close(third);
	});

	test('HEARTBEAT events with their status headers', T, async () => {
		const conn = await connect(srv);
		const c = collect(conn, 'esl::event::HEARTBEAT::**');
		await events(conn, 'plain', 'HEARTBEAT');
		const { evt: e1 } = await c.waitFor(() => true, 4000, 'first HEARTBEAT');
		const { evt: e2 } = await c.waitFor((e) => e !== e1, 4000, 'second HEARTBEAT');
		for (const name of ['Event-Info', 'Up-Time', 'FreeSWITCH-Version', 'Uptime-msec',
			'Session-Count', 'Max-Sessions', 'Idle-CPU'])
			assert.ok(e1.getHeader(name) !== null, `HEARTBEAT has ${name}`);
		assert.equal(e1.getHeader('Event-Info'), 'System Ready');
		assert.match(e1.getHeader('Up-Time'), /^\d+ years, \d+ days, \d+ hours, \d+ minutes?, \d+ seconds?, \d+ milliseconds?, \d+ microseconds?$/);
		assert.match(e1.getHeader('Uptime-msec'), /^\d+$/);
		assert.equal(e1.getHeader('Session-Count'), '0');
		assert.equal(e1.getHeader('Max-Sessions'), '1000');
		assert.match(e1.getHeader('Idle-CPU'), /^\d+(\.\d+)?$/);
		const d = Number(e2.getHeader('Uptime-msec')) - Number(e1.getHeader('Uptime-msec'));
		assert.ok(d >= 500 && d <= 3000, `heartbeats ~1 s apart (configured), got ${d} ms`);
		c.stop();
		close(conn);
	});

	test('log info: a log/data frame arrives for "Reloading XML"', T, async () => {
		const conn = await connect(srv);
		const r = await sendRecv(conn, 'log info');
		assert.equal(r.getHeader('Reply-Text'), '+OK log level info [6]');
		const c = collect(conn, 'esl::event::logdata');
		assert.equal((await api(conn, 'reloadxml')).getBody(), '+OK [Success]\n');
		const { evt, headers } = await c.waitFor((e) => e.getBody().includes('Reloading XML'));
		assert.equal(headers['Content-Type'], 'log/data');
		assert.equal(evt.getHeader('Log-Level'), '6');
		assert.match(evt.getBody(), /\[INFO\] .*Reloading XML\n$/);
		const r2 = await sendRecv(conn, 'nolog');
		assert.equal(r2.getHeader('Reply-Text'), '+OK no longer logging');
		c.stop();
		close(conn);
	});

	test('api reloadxml answers +OK [Success] and fires RELOADXML', T, async () => {
		const conn = await connect(srv);
		await events(conn, 'plain', 'RELOADXML');
		const c = collect(conn, 'esl::event::RELOADXML::**');
		const r = await api(conn, 'reloadxml');
		assert.equal(r.getBody(), '+OK [Success]\n');
		const { evt } = await c.waitFor(() => true);
		assert.equal(evt.getHeader('Event-Name'), 'RELOADXML');
		c.stop();
		close(conn);
	});

	test('exit: +OK bye, disconnect notice, end of stream', T, async () => {
		const conn = await connect(srv);
		const notice = new Promise((r) => conn.once('esl::event::disconnect::notice', r));
		const end = new Promise((r) => conn.once('esl::end', r));
		const r = await sendRecv(conn, 'exit');
		assert.equal(r.getHeader('Reply-Text'), '+OK bye');
		const n = await h.withTimeout(notice, 5000, 'disconnect notice');
		assert.equal(n.getHeader('Content-Type'), 'text/disconnect-notice');
		assert.equal(n.getBody(), 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n');
		await h.withTimeout(end, 5000, 'socket end');
	});
});
