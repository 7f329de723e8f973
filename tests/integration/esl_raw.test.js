'use strict';
/*
 * Byte-level event-socket tests: what confabd writes is compared with the bytes
 * real FreeSWITCH 1.10.12 sends (shared/reference/freeswitch/esl-transcripts.txt),
 * apart from values that differ per run (UUIDs, dates, sequence numbers) and the
 * product's own identity (version strings, Event-Calling-* source locations).
 */
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const T = { timeout: 20000 };

/* The common headers every event carries, in FreeSWITCH's order. */
const COMMON = ['Event-Name', 'Core-UUID', 'FreeSWITCH-Hostname', 'FreeSWITCH-Switchname',
	'FreeSWITCH-IPv4', 'FreeSWITCH-IPv6', 'Event-Date-Local', 'Event-Date-GMT',
	'Event-Date-Timestamp', 'Event-Calling-File', 'Event-Calling-Function',
	'Event-Calling-Line-Number', 'Event-Sequence'];

function reply(text) {
	return `Content-Type: command/reply\nReply-Text: ${text}\n\n`;
}

function apiResponse(body) {
	return `Content-Type: api/response\nContent-Length: ${Buffer.byteLength(body)}\n\n${body}`;
}

/* Checks an event frame's outer header and returns the parsed plain body. */
function checkEventFrame(f, fmt) {
	const raw = f.raw.toString('utf8');
	const m = /^Content-Length: (\d+)\nContent-Type: text\/event-(\w+)\n\n/.exec(raw);
	assert.ok(m, `event frame must start with Content-Length then Content-Type: ${
		JSON.stringify(raw.slice(0, 120))}`);
	assert.equal(m[2], fmt);
	assert.equal(Number(m[1]), Buffer.byteLength(f.body), 'outer Content-Length = body bytes');
	return f.body;
}

/* Plain-format value checks common to every event (raw, i.e. still URL-encoded). */
function checkCommonValues(ev, name) {
	const v = Object.fromEntries(ev.rawList);
	assert.equal(v['Event-Name'], name);
	assert.match(v['Core-UUID'], UUID_RE);
	assert.ok(v['FreeSWITCH-Hostname'], 'FreeSWITCH-Hostname');
	assert.ok(v['FreeSWITCH-Switchname'], 'FreeSWITCH-Switchname');
	assert.match(v['Event-Date-Local'], /^\d{4}-\d\d-\d\d%20\d\d%3A\d\d%3A\d\d$/);
	assert.match(v['Event-Date-GMT'],
		/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun),%20\d\d%20[A-Z][a-z]{2}%20\d{4}%20\d\d%3A\d\d%3A\d\d%20GMT$/);
	assert.match(v['Event-Date-Timestamp'], /^\d{16}$/);
	const us = Number(v['Event-Date-Timestamp']);
	assert.ok(Math.abs(us / 1000 - Date.now()) < 60000, 'Event-Date-Timestamp is now, in µs');
	assert.match(v['Event-Calling-Line-Number'], /^\d+$/);
	assert.match(v['Event-Sequence'], /^\d+$/);
}

describe('event socket, raw bytes', () => {
	let srv;

	before(async () => {
		srv = await h.startServer({ switch: { 'event-heartbeat-interval': '1' } });
	});
	after(async () => {
		await srv.stop();
	});

	test('greeting is exactly auth/request', T, async () => {
		const c = await h.RawClient.connect(srv.port, srv);
		const g = await c.readBytes(28);
		assert.equal(g.toString('latin1'), 'Content-Type: auth/request\n\n');
		await h.sleep(150);
		assert.equal(c.buf.length, 0, 'nothing follows the greeting');
		c.destroy();
	});

	test('auth wrong: the exact 178-byte reply and disconnect notice, then close', T, async () => {
		const c = await h.RawClient.connect(srv.port, srv);
		await c.greeting();
		c.write('auth wrong\n\n');
		const rest = await c.readUntilClose(5000);
		const want = reply('-ERR invalid') + h.BYE;
		assert.equal(Buffer.byteLength(want), 178);
		assert.equal(rest.toString('latin1'), want);
	});

	test('command before auth: -ERR command not found, socket stays open, auth still works', T,
		async () => {
			const c = await h.RawClient.connect(srv.port, srv);
			await c.greeting();
			c.write('api status\n\n');
			const f = await c.readBytes(64);
			assert.equal(f.toString('latin1'), reply('-ERR command not found'));
			assert.equal(await c.closesWithin(300), false, 'socket must stay open');
			c.write('event plain ALL\n\n');
			assert.equal((await c.readBytes(64)).toString('latin1'),
				reply('-ERR command not found'));
			c.write('auth ClueCon\n\n');
			assert.equal((await c.readBytes(54)).toString('latin1'), reply('+OK accepted'));
			c.write('exit\n\n');
			const bye = await c.readUntilClose();
			assert.equal(bye.length, 173);
			assert.equal(bye.toString('latin1'), reply('+OK bye') + h.BYE);
		});

	test('exit before auth: +OK bye, disconnect notice, close', T, async () => {
		const c = await h.RawClient.connect(srv.port, srv);
		await c.greeting();
		c.write('exit\n\n');
		assert.equal((await c.readUntilClose()).toString('latin1'), reply('+OK bye') + h.BYE);
	});

	test('"..." is exit too', T, async () => {
		const c = await h.rawAuthed(srv);
		c.write('...\n\n');
		assert.equal((await c.readUntilClose()).toString('latin1'), reply('+OK bye') + h.BYE);
	});

	test('CRLF framing and leading blank lines are accepted', T, async () => {
		const c = await h.RawClient.connect(srv.port, srv);
		await c.greeting();
		c.write('\n\r\nauth ClueCon\r\n\r\n');
		assert.equal((await c.readFrame()).raw.toString('latin1'), reply('+OK accepted'));
		c.write('api echo crlf\r\n\r\n');
		assert.equal((await c.readFrame()).raw.toString('latin1'), apiResponse('crlf'));
		c.destroy();
	});

	test('auth ClueCon: exact 54-byte reply', T, async () => {
		const c = await h.RawClient.connect(srv.port, srv);
		await c.greeting();
		c.write('auth ClueCon\n\n');
		assert.equal((await c.readBytes(54)).toString('latin1'), reply('+OK accepted'));
		c.destroy();
	});

	test('api replies as in the transcript', T, async () => {
		const c = await h.rawAuthed(srv);
		let f = await c.cmd('api nosuchcommand');
		assert.equal(f.raw.toString('latin1'), apiResponse('-ERR nosuchcommand Command not found!\n'));
		assert.equal(f.raw.length, 85);
		f = await c.cmd('api nosuchcommand with args');
		assert.equal(f.raw.toString('latin1'), apiResponse('-ERR nosuchcommand Command not found!\n'));
		f = await c.cmd('nosuchesl command');
		assert.equal(f.raw.toString('latin1'), reply('-ERR command not found'));
		f = await c.cmd('api show calls count');
		assert.equal(f.raw.toString('latin1'), apiResponse('\n0 total.\n'));
		assert.equal(f.raw.length, 57);
		f = await c.cmd('api global_getvar switch_serial');
		assert.equal(f.raw.toString('latin1'), apiResponse('-ERR no reply\n'));
		assert.equal(f.raw.length, 61);
		f = await c.cmd('api uptime');
		assert.match(f.raw.toString('latin1'),
			/^Content-Type: api\/response\nContent-Length: \d+\n\n\d+\n$/);
		c.destroy();
	});

	test('api status: header block and the shape of every body line', T, async () => {
		const c = await h.rawAuthed(srv);
		const f = await c.cmd('api status');
		const raw = f.raw.toString('utf8');
		assert.match(raw, /^Content-Type: api\/response\nContent-Length: \d+\n\n/);
		assert.equal(Number(f.headers['Content-Length']), Buffer.byteLength(f.body));
		const lines = f.body.split('\n');
		const shapes = [
			/^UP \d+ years?, \d+ days?, \d+ hours?, \d+ minutes?, \d+ seconds?, \d+ milliseconds?, \d+ microseconds?$/,
			/^.+ \(Version .+\) is ready$/,
			/^\d+ session\(s\) since startup$/,
			/^\d+ session\(s\) - peak \d+, last 5min \d+ $/,
			/^\d+ session\(s\) per Sec out of max \d+, peak \d+, last 5min \d+ $/,
			/^\d+ session\(s\) max$/,
			/^min idle cpu \d+\.\d\d\/\d+\.\d\d$/,
			/^Current Stack Size\/Max \d+K\/\d+K$/,
			/^$/,
		];
		assert.equal(lines.length, shapes.length, `status lines: ${JSON.stringify(f.body)}`);
		shapes.forEach((re, i) => assert.match(lines[i], re));
		c.destroy();
	});

	test('event plain BACKGROUND_JOB + bgapi status: reply bytes and event header order', T,
		async () => {
			const c = await h.rawAuthed(srv);
			c.write('event plain BACKGROUND_JOB\n\n');
			assert.equal((await c.readBytes(74)).toString('latin1'),
				reply('+OK event listener enabled plain'));
			c.write('bgapi status\n\n');
			const r = await c.readFrame();
			const m = /^Content-Type: command\/reply\nReply-Text: \+OK Job-UUID: ([0-9a-f-]{36})\nJob-UUID: ([0-9a-f-]{36})\n\n$/
				.exec(r.raw.toString('latin1'));
			assert.ok(m, `bgapi reply: ${JSON.stringify(r.raw.toString('latin1'))}`);
			assert.equal(m[1], m[2]);
			assert.match(m[1], UUID_RE);
			const f = await c.readFrame();
			const ev = h.parsePlainEvent(checkEventFrame(f, 'plain'));
			assert.deepEqual(ev.list.map(([n]) => n),
				[...COMMON, 'Job-UUID', 'Job-Command', 'Content-Length']);
			checkCommonValues(ev, 'BACKGROUND_JOB');
			assert.equal(ev.map['Job-UUID'], m[1]);
			assert.equal(ev.map['Job-Command'], 'status');
			assert.equal(Number(ev.map['Content-Length']), Buffer.byteLength(ev.body));
			assert.match(ev.body, /^UP \d+ years/);
			assert.match(ev.body, /is ready\n/);
			// The plain event ends right after the body.
			assert.ok(f.body.endsWith(`\n\n${ev.body}`));
			c.destroy();
		});

	test('bgapi with a client Job-UUID: used verbatim, exact reply bytes', T, async () => {
		const c = await h.rawAuthed(srv);
		await c.cmd('event plain BACKGROUND_JOB');
		const id = '11111111-2222-3333-4444-555555555555';
		c.write(`bgapi status\nJob-UUID: ${id}\n\n`);
		const r = await c.readFrame();
		assert.equal(r.raw.toString('latin1'),
			`Content-Type: command/reply\nReply-Text: +OK Job-UUID: ${id}\nJob-UUID: ${id}\n\n`);
		const ev = h.parsePlainEvent(checkEventFrame(await c.readFrame(), 'plain'));
		assert.equal(ev.map['Job-UUID'], id);
		c.destroy();
	});

	test('bgapi with args: Job-Command-Arg is URL-encoded, body is the output', T, async () => {
		const c = await h.rawAuthed(srv);
		await c.cmd('event plain BACKGROUND_JOB');
		await c.cmd('bgapi echo hello world & more');
		const ev = h.parsePlainEvent(checkEventFrame(await c.readFrame(), 'plain'));
		assert.deepEqual(ev.rawList.slice(COMMON.length).map(([n, v]) => `${n}: ${v}`), [
			`Job-UUID: ${ev.map['Job-UUID']}`,
			'Job-Command: echo',
			'Job-Command-Arg: hello%20world%20%26%20more',
			'Content-Length: 18',
		]);
		assert.equal(ev.body, 'hello world & more');
		c.destroy();
	});

	test('bgapi of an unknown command: body is the api error text', T, async () => {
		const c = await h.rawAuthed(srv);
		await c.cmd('event plain BACKGROUND_JOB');
		await c.cmd('bgapi nosuchcmd a b');
		const ev = h.parsePlainEvent(checkEventFrame(await c.readFrame(), 'plain'));
		assert.equal(ev.map['Job-Command'], 'nosuchcmd');
		assert.equal(ev.map['Job-Command-Arg'], 'a b');
		assert.equal(ev.body, '-ERR nosuchcmd Command not found!\n');
		c.destroy();
	});

	test('bgapi with empty output: the event has no body and no inner Content-Length', T,
		async () => {
			const c = await h.rawAuthed(srv);
			await c.cmd('event plain BACKGROUND_JOB');
			await c.cmd('bgapi global_getvar no_such_variable_here');
			const f = await c.readFrame();
			const ev = h.parsePlainEvent(checkEventFrame(f, 'plain'));
			assert.ok(!('Content-Length' in ev.map), `unexpected body: ${JSON.stringify(f.body)}`);
			assert.ok(f.body.endsWith('Job-Command-Arg: no_such_variable_here\n\n'));
			c.destroy();
		});

	test('event / noevents / nixevent replies, byte for byte', T, async () => {
		const c = await h.rawAuthed(srv);
		const steps = [
			['event plain CUSTOM conference::maintenance', '+OK event listener enabled plain', 74],
			['noevents', '+OK no longer listening for events', 76],
			['noevents', '-ERR not listening for events', 71],
			['nixevent', '-ERR no keywords supplied', 67],
			['event plain CUSTOM conference::maintenance', '+OK event listener enabled plain', 74],
			['nixevent CUSTOM conference::maintenance', '+OK events nixed', 58],
			['nixevent BACKGROUND_JOB', '+OK events nixed', 58],
			['event plain HEARTBEAT CHANNEL_CREATE CUSTOM conference::maintenance',
				'+OK event listener enabled plain', 74],
			['noevents', '+OK no longer listening for events', 76],
			['event json CUSTOM my::test', '+OK event listener enabled json', 73],
			['event xml CUSTOM my::test', '+OK event listener enabled xml', 72],
			['event plain', '-ERR no keywords supplied', 67],
			['event plain NO_SUCH_EVENT', '-ERR no keywords supplied', 67],
			['noevents', '+OK no longer listening for events', 76],
		];
		for (const [cmd, text, len] of steps) {
			c.write(`${cmd}\n\n`);
			const b = await c.readBytes(len);
			assert.equal(b.toString('latin1'), reply(text), `reply to ${cmd}`);
		}
		await h.sleep(100);
		assert.equal(c.buf.length, 0, 'no stray bytes');
		c.destroy();
	});

	test('noevents after nixing every subscription still answers +OK (as in the transcript)', T,
		async () => {
			// FreeSWITCH answers noevents by its "listening" flag, which nixevent does
			// not clear: the transcript's connection C gets "+OK no longer listening"
			// after `nixevent CUSTOM conference::maintenance` + `nixevent BACKGROUND_JOB`.
			const c = await h.rawAuthed(srv);
			for (const [cmd, text] of [
				['event plain CUSTOM conference::maintenance', '+OK event listener enabled plain'],
				['nixevent CUSTOM conference::maintenance', '+OK events nixed'],
				['nixevent BACKGROUND_JOB', '+OK events nixed'],
				['noevents', '+OK no longer listening for events'],
				['noevents', '-ERR not listening for events'],
			]) {
				const f = await c.cmd(cmd);
				assert.equal(f.raw.toString('latin1'), reply(text), `reply to ${cmd}`);
			}
			c.destroy();
		});

	test('nixevent CUSTOM <subclass> keeps the other subscribed subclasses', T, async () => {
		// FreeSWITCH's nixevent only switches to subclass mode on the CUSTOM token; it
		// does not clear the CUSTOM subscription, so my::m is still delivered.
		const c = await h.rawAuthed(srv);
		await c.cmd('event plain CUSTOM my::n my::m');
		assert.equal((await c.cmd('nixevent CUSTOM my::n')).headers['Reply-Text'],
			'+OK events nixed');
		await c.cmd('sendevent CUSTOM', { headers: { 'Event-Subclass': 'my::n', 'X-Step': '1' } });
		await c.cmd('sendevent CUSTOM', { headers: { 'Event-Subclass': 'my::m', 'X-Step': '2' } });
		const f = await c.readFrameOfType('text/event-plain', 3000).catch((e) => {
			throw new Error(`my::m was not delivered after nixing my::n (${e.message})`);
		});
		const ev = h.parsePlainEvent(f.body);
		assert.equal(ev.map['Event-Subclass'], 'my::m', 'only my::m, not the nixed my::n');
		c.destroy();
	});

	test('filter delete <Header> removes every filter on that header', T, async () => {
		// FreeSWITCH keeps filters as event headers and deletes with
		// switch_event_del_header_val(), which removes *all* matching entries: every
		// filter on the header when no value is given, every duplicate otherwise.
		const c = await h.rawAuthed(srv);
		await c.cmd('event plain CUSTOM my::fa my::fb my::fc');
		for (const cmd of ['filter Event-Subclass my::fa', 'filter Event-Subclass my::fb'])
			assert.match((await c.cmd(cmd)).headers['Reply-Text'], /^\+OK filter added/);
		assert.equal((await c.cmd('filter delete Event-Subclass')).headers['Reply-Text'],
			'+OK filter deleted. [Event-Subclass][]');
		// No filter is left, so every subscribed event passes again.
		await c.cmd('sendevent CUSTOM', { headers: { 'Event-Subclass': 'my::fc' } });
		let f = await c.readFrameOfType('text/event-plain', 2000).catch((e) => {
			throw new Error('my::fc blocked by an Event-Subclass filter that "filter delete ' +
				`Event-Subclass" should have removed (${e.message})`);
		});
		assert.equal(h.parsePlainEvent(f.body).map['Event-Subclass'], 'my::fc');

		// Duplicates: both copies go.
		await c.cmd('filter X-Dup one');
		await c.cmd('filter X-Dup one');
		assert.equal((await c.cmd('filter delete X-Dup one')).headers['Reply-Text'],
			'+OK filter deleted. [X-Dup][one]');
		await c.cmd('filter Event-Subclass my::fc');
		// Only an X-Dup filter could admit this one...
		await c.cmd('sendevent CUSTOM', { headers: { 'Event-Subclass': 'my::fa', 'X-Dup': 'one' } });
		// ...and this marker is admitted by the Event-Subclass filter.
		await c.cmd('sendevent CUSTOM', { headers: { 'Event-Subclass': 'my::fc', 'X-Mark': 'm' } });
		f = await c.readFrameOfType('text/event-plain', 2000);
		assert.equal(h.parsePlainEvent(f.body).map['Event-Subclass'], 'my::fc',
			'an event passed through the duplicate X-Dup filter that was deleted');
		c.destroy();
	});

	test('log argument parsing as in FreeSWITCH', T, async () => {
		// mod_event_socket: level_s = text after "log" and its spaces, cut at the next
		// space; printed as typed (so empty when nothing was typed).
		const c = await h.rawAuthed(srv);
		for (const [cmd, text] of [
			['log 6', '+OK log level 6 [6]'],
			['log   notice', '+OK log level notice [5]'],
			['log info extra', '+OK log level info [6]'],
			['log', '+OK log level  [7]'],
		]) {
			const f = await c.cmd(cmd);
			assert.equal(f.raw.toString('latin1'), reply(text), `reply to ${JSON.stringify(cmd)}`);
		}
		c.destroy();
	});

	test('filter add/delete replies exactly as in the transcript', T, async () => {
		const c = await h.rawAuthed(srv);
		const steps = [
			['filter Event-Name CUSTOM', '+OK filter added. [Event-Name]=[CUSTOM]', 81],
			['filter Event-Subclass my::test', '+OK filter added. [Event-Subclass]=[my::test]', 87],
			['filter delete Event-Name CUSTOM', '+OK filter deleted. [Event-Name][CUSTOM]', 82],
			['filter delete Event-Subclass my::test',
				'+OK filter deleted. [Event-Subclass][my::test]', 88],
			['filter delete Event-Name NOPE', '+OK filter deleted. [Event-Name][NOPE]', 80],
		];
		for (const [cmd, text, len] of steps) {
			c.write(`${cmd}\n\n`);
			const b = await c.readBytes(len);
			assert.equal(b.toString('latin1'), reply(text), `reply to ${cmd}`);
		}
		// Forms from the spec (4.4 / table in 4).
		for (const [cmd, text] of [
			['filter add Unique-ID abc', '+OK filter added. [Unique-ID]=[abc]'],
			['filter delete all', '+OK filter deleted. [all][]'],
			['filter Event-Name', '-ERR invalid syntax'],
		]) {
			const f = await c.cmd(cmd);
			assert.equal(f.raw.toString('latin1'), reply(text), `reply to ${cmd}`);
		}
		c.destroy();
	});

	test('sendevent CUSTOM: reply and plain event header order as in the transcript', T,
		async () => {
			const c = await h.rawAuthed(srv);
			await c.cmd('event plain CUSTOM my::test');
			c.write('sendevent CUSTOM\nEvent-Subclass: my::test\nX-Foo: bar\nX-Num: 42\n\n');
			const r = await c.readFrame();
			const m = /^Content-Type: command\/reply\nReply-Text: \+OK ([0-9a-f-]{36})\n\n$/
				.exec(r.raw.toString('latin1'));
			assert.ok(m, `sendevent reply: ${JSON.stringify(r.raw.toString('latin1'))}`);
			const f = await c.readFrame();
			const ev = h.parsePlainEvent(checkEventFrame(f, 'plain'));
			assert.deepEqual(ev.list.map(([n]) => n), ['Event-Subclass', 'Command', 'X-Foo', 'X-Num',
				'Event-UUID', ...COMMON]);
			const raw = Object.fromEntries(ev.rawList);
			assert.equal(raw['Event-Subclass'], 'my%3A%3Atest');
			assert.equal(raw.Command, 'sendevent%20CUSTOM');
			assert.equal(raw['X-Foo'], 'bar');
			assert.equal(raw['X-Num'], '42');
			assert.equal(raw['Event-UUID'], m[1]);
			checkCommonValues({ rawList: ev.rawList.slice(5) }, 'CUSTOM');
			// No body: the header block ends with the blank line and nothing follows.
			assert.ok(f.body.endsWith(`Event-Sequence: ${raw['Event-Sequence']}\n\n`),
				JSON.stringify(f.body.slice(-80)));
			c.destroy();
		});

	test('sendevent CUSTOM with a body: client content-length kept, body after Content-Length', T,
		async () => {
			const c = await h.rawAuthed(srv);
			await c.cmd('event plain CUSTOM my::test');
			c.write('sendevent CUSTOM\nEvent-Subclass: my::test\nX-Foo: withbody\n' +
				'content-length: 11\n\nhello body\n');
			const r = await c.readFrame();
			assert.match(r.headers['Reply-Text'], /^\+OK [0-9a-f-]{36}$/);
			const f = await c.readFrame();
			const ev = h.parsePlainEvent(checkEventFrame(f, 'plain'));
			assert.deepEqual(ev.list.map(([n]) => n), ['Event-Subclass', 'Command', 'X-Foo',
				'content-length', 'Event-UUID', ...COMMON, 'Content-Length']);
			assert.equal(ev.map['content-length'], '11');
			assert.equal(ev.map['Content-Length'], '11');
			assert.equal(ev.body, 'hello body\n');
			assert.ok(f.body.endsWith(`Event-Sequence: ${ev.map['Event-Sequence']}\n` +
				'Content-Length: 11\n\nhello body\n'));
			c.destroy();
		});

	test('sendevent to a json subscriber: key order and decoded values', T, async () => {
		const c = await h.rawAuthed(srv);
		await c.cmd('event json CUSTOM my::test');
		c.write('sendevent CUSTOM\nEvent-Subclass: my::test\nX-Foo: json-subscriber\n\n');
		const r = await c.readFrame();
		const uuid = r.headers['Reply-Text'].slice(4);
		const f = await c.readFrame();
		const body = checkEventFrame(f, 'json');
		assert.ok(!body.endsWith('\n'), 'json event has no trailing newline');
		const j = JSON.parse(body);
		assert.deepEqual(Object.keys(j), ['Event-Subclass', 'Command', 'X-Foo', 'Event-UUID',
			...COMMON]);
		assert.equal(j['Event-Subclass'], 'my::test');
		assert.equal(j.Command, 'sendevent CUSTOM');
		assert.equal(j['X-Foo'], 'json-subscriber');
		assert.equal(j['Event-UUID'], uuid);
		assert.match(j['Event-Date-Local'], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
		// Every value is a string, as FreeSWITCH sends them.
		for (const [k, v] of Object.entries(j))
			assert.equal(typeof v, 'string', k);
		c.destroy();
	});

	test('sendevent to an xml subscriber: the exact layout', T, async () => {
		const c = await h.rawAuthed(srv);
		await c.cmd('event xml CUSTOM my::test');
		c.write('sendevent CUSTOM\nEvent-Subclass: my::test\nX-Foo: xml-subscriber\n\n');
		await c.readFrame();
		const body = checkEventFrame(await c.readFrame(), 'xml');
		const lines = body.split('\n');
		assert.equal(lines[0], '<event>');
		assert.equal(lines[1], '  <headers>');
		assert.equal(lines[2], '    <Event-Subclass>my%3A%3Atest</Event-Subclass>');
		assert.equal(lines[3], '    <Command>sendevent%20CUSTOM</Command>');
		assert.equal(lines[4], '    <X-Foo>xml-subscriber</X-Foo>');
		assert.match(lines[5], /^ {4}<Event-UUID>[0-9a-f-]{36}<\/Event-UUID>$/);
		const names = lines.slice(6, 6 + COMMON.length).map((l) => {
			const m = /^ {4}<([^>]+)>[^<]*<\/([^>]+)>$/.exec(l);
			assert.ok(m && m[1] === m[2], `xml header line ${JSON.stringify(l)}`);
			return m[1];
		});
		assert.deepEqual(names, COMMON);
		assert.deepEqual(lines.slice(6 + COMMON.length), ['  </headers>', '</event>', '']);
		c.destroy();
	});

	test('xml event with a body: Content-Length and body elements after </headers>', T,
		async () => {
			const c = await h.rawAuthed(srv);
			await c.cmd('event xml CUSTOM my::test');
			await c.cmd('sendevent CUSTOM', { headers: { 'Event-Subclass': 'my::test' },
				body: 'a<b>&c' });
			const body = checkEventFrame(await c.readFrame(), 'xml');
			assert.ok(body.endsWith('  </headers>\n  <Content-Length>6</Content-Length>\n' +
				'  <body>a&lt;b&gt;&amp;c</body>\n</event>\n'), JSON.stringify(body.slice(-120)));
			c.destroy();
		});

	test('HEARTBEAT in plain format: header order as in the transcript', T, async () => {
		const c = await h.rawAuthed(srv);
		await c.cmd('event plain HEARTBEAT');
		const f = await c.readFrameOfType('text/event-plain', 5000);
		const ev = h.parsePlainEvent(checkEventFrame(f, 'plain'));
		assert.deepEqual(ev.list.map(([n]) => n), [...COMMON, 'Event-Info', 'Up-Time',
			'FreeSWITCH-Version', 'Uptime-msec', 'Session-Count', 'Max-Sessions',
			'Session-Per-Sec', 'Session-Per-Sec-Last', 'Session-Per-Sec-Max',
			'Session-Per-Sec-FiveMin', 'Session-Since-Startup', 'Session-Peak-Max',
			'Session-Peak-FiveMin', 'Idle-CPU']);
		checkCommonValues(ev, 'HEARTBEAT');
		const raw = Object.fromEntries(ev.rawList);
		assert.equal(raw['Event-Info'], 'System%20Ready');
		assert.match(raw['Up-Time'], /^\d+%20years,%20\d+%20days,%20\d+%20hours,%20\d+%20minutes?,%20\d+%20seconds?,%20\d+%20milliseconds?,%20\d+%20microseconds?$/);
		assert.match(raw['Idle-CPU'], /^\d+\.\d{6}$/);
		c.destroy();
	});

	test('log/data frames: header order and the formatted line as body', T, async () => {
		const c = await h.rawAuthed(srv);
		let f = await c.cmd('log info');
		assert.equal(f.raw.toString('latin1'), reply('+OK log level info [6]'));
		f = await c.cmd('log notice');
		assert.equal(f.headers['Reply-Text'], '+OK log level notice [5]');
		await c.cmd('log info');
		c.write('api reloadxml\n\n');
		let log;
		const deadline = Date.now() + 5000;
		while (!log) {
			f = await c.readFrame(Math.max(1, deadline - Date.now()));
			if (f.type === 'log/data' && f.body.includes('Reloading XML'))
				log = f;
		}
		await c.readFrameOfType('api/response');
		assert.deepEqual(log.headerList.map(([n]) => n), ['Content-Type', 'Content-Length',
			'Log-Level', 'Text-Channel', 'Log-File', 'Log-Func', 'Log-Line', 'User-Data']);
		assert.equal(log.headers['Log-Level'], '6');
		assert.match(log.headers['Log-Line'], /^\d+$/);
		assert.match(log.body,
			/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} \d+\.\d\d% \[INFO\] \S+:\d+ Reloading XML\n$/);
		f = await c.cmd('nolog');
		assert.equal(f.raw.toString('latin1'), reply('+OK no longer logging'));
		f = await c.cmd('nolog');
		assert.equal(f.raw.toString('latin1'), reply('-ERR not loging'));
		f = await c.cmd('log nonsense');
		assert.equal(f.raw.toString('latin1'), reply('-ERR invalid log level'));
		c.destroy();
	});

	test('a 1 MB body and awkward header values survive plain, json and xml', T, async () => {
		const body = `${'x'.repeat(1024 * 1024)}\n<&>"é\t\u0001end`;
		// (An existing %XX is deliberately not re-encoded, as in FreeSWITCH, so none here.)
		const vals = { 'X-Pct': '50% a+b c:d', 'X-Utf': 'é€ü', 'X-Tab': 'a\tb',
			'X-Quote': 'say "hi" \\ back' };
		for (const fmt of ['plain', 'json', 'xml']) {
			const c = await h.rawAuthed(srv);
			await c.cmd(`event ${fmt} CUSTOM my::big`);
			await c.cmd('sendevent CUSTOM', { headers: Object.assign({ 'Event-Subclass': 'my::big' },
				vals), body, timeoutMs: 10000 });
			const f = await c.readFrameOfType(`text/event-${fmt}`, 10000);
			checkEventFrame(f, fmt);
			let got;
			let gotBody;
			if (fmt === 'plain') {
				const e = h.parsePlainEvent(f.body);
				got = e.map;
				gotBody = e.body;
			} else if (fmt === 'json') {
				got = JSON.parse(f.body);
				gotBody = got._body;
			} else {
				const unxml = (t) => t.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
				gotBody = unxml(/<body>([\s\S]*)<\/body>/.exec(f.body)[1]);
				got = {};
				for (const k of Object.keys(vals)) {
					const m = new RegExp(`<${k}>([^<]*)</${k}>`).exec(f.body);
					got[k] = m && decodeURIComponent(unxml(m[1]));
				}
			}
			assert.ok(gotBody === body, `${fmt}: body of ${gotBody && gotBody.length} bytes differs`);
			for (const [k, v] of Object.entries(vals))
				assert.equal(got[k], v, `${fmt}: ${k}`);
			c.destroy();
		}
	});

	test('pipelined commands are answered in order, events interleaved whole', T, async () => {
		const c = await h.rawAuthed(srv);
		await c.cmd('event plain CUSTOM my::pipe');
		let batch = '';
		const N = 100;
		for (let i = 0; i < N; i++) {
			batch += `api echo n${i}\n\n`;
			batch += `sendevent CUSTOM\nEvent-Subclass: my::pipe\nX-I: ${i}\n\n`;
		}
		c.write(batch);
		const echoes = [];
		const evs = [];
		let sendReplies = 0;
		while (echoes.length < N || evs.length < N || sendReplies < N) {
			const f = await c.readFrame(10000);
			if (f.type === 'api/response')
				echoes.push(f.body);
			else if (f.type === 'command/reply')
				sendReplies++;
			else if (f.type === 'text/event-plain')
				evs.push(h.parsePlainEvent(f.body).map['X-I']);
			else
				assert.fail(`unexpected frame ${JSON.stringify(f.raw.toString('latin1'))}`);
		}
		assert.deepEqual(echoes, Array.from({ length: N }, (_, i) => `n${i}`));
		assert.deepEqual(evs, Array.from({ length: N }, (_, i) => String(i)));
		c.destroy();
	});

	test('Reply-Text is capped at 511 bytes, as FreeSWITCH\'s reply buffer', T, async () => {
		const c = await h.rawAuthed(srv);
		const f = await c.cmd(`filter X-Long ${'v'.repeat(600)}`);
		const text = f.headers['Reply-Text'];
		assert.equal(text.length, 511);
		assert.ok(text.startsWith('+OK filter added. [X-Long]=[vvv'));
		assert.ok(f.raw.toString('latin1').endsWith('v\n\n'));
		assert.equal((await c.cmd('api echo next')).body, 'next');
		c.destroy();
	});

	test('session commands on an inbound socket give clear -ERR replies', T, async () => {
		const c = await h.rawAuthed(srv);
		const bogus = '00000000-0000-4000-8000-000000000000';
		// FreeSWITCH itself answers `myevents <unknown uuid>` (no format) with +OK and
		// plain `myevents` with "command not found"; a clear -ERR is what we want.
		for (const cmd of [`myevents ${bogus}`, 'myevents']) {
			const f = await c.cmd(cmd);
			assert.equal(f.type, 'command/reply');
			assert.match(f.headers['Reply-Text'], /^-ERR /, `reply to ${cmd}`);
		}
		for (const [cmd, text] of [
			[`myevents ${bogus} plain`, '-ERR invalid uuid'],
			['divert_events on', '-ERR not controlling a session.'],
			[`sendmsg ${bogus}\ncall-command: hangup`, `-ERR invalid session id [${bogus}]`],
			['linger', '-ERR not controlling a session'],
			['linger 10', '-ERR not controlling a session'],
			['nolinger', '-ERR not controlling a session'],
		]) {
			c.write(`${cmd}\n\n`);
			const f = await c.readFrame();
			assert.equal(f.raw.toString('latin1'), reply(text), `reply to ${cmd}`);
		}
		assert.equal(await c.closesWithin(100), false);
		c.destroy();
	});
});
