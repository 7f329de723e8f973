'use strict';
/*
 * esl_outbound.test.js - the outbound event socket (the `socket` application)
 * driven by the real modesl library in its server mode: confab connects, the
 * application gets the channel data, executes applications, runs api commands
 * (full mode), and the call ends when the application hangs it up. Also the
 * single-channel command set and an application server that is not there.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const esl = require('modesl');
const h = require('./harness');

const T = { timeout: 30000 };

async function api(c, cmd) {
	return (await c.cmd(`api ${cmd}`, { timeoutMs: 15000 })).body;
}

/* bgapi originate a loopback pair whose -a leg runs `app`; answer its -b leg. */
async function callWith(c, app) {
	await c.cmd(`bgapi originate loopback/9664 &${app}`);
	let row;
	for (let i = 0; i < 50 && !row; i++) {
		await h.sleep(100);
		const j = JSON.parse(await api(c, 'show channels as json'));
		row = (j.rows || []).find((r) => r.name === 'loopback/9664-b');
	}
	assert.ok(row, 'the -b leg exists: ' + await api(c, 'show channels'));
	assert.equal(await api(c, `uuid_answer ${row.uuid}`), '+OK\n');
	return row;
}

function startAppServer(opts) {
	return new Promise((resolve) => {
		const srv = new esl.Server(Object.assign({ host: h.HOST, port: 0 }, opts), () => {
			resolve(srv);
		});
	});
}

test('outbound event socket with modesl', T, async (t) => {
	const server = await h.startServer();
	const c = await h.rawAuthed(server);
	t.after(async () => { c.destroy(); await server.stop(); });

	await t.test('async full: connect, execute, api, hang up', T, async () => {
		const port = await h.freePort();
		const srv = await startAppServer({ port, myevents: true });
		t.after(() => srv.close());
		const ready = new Promise((resolve) => srv.once('connection::ready', resolve));
		await callWith(c, `socket(${h.HOST}:${port} async full)`);
		const conn = await h.withTimeout(ready, 10000, 'the outbound connection');
		const info = conn.getInfo();
		assert.equal(info.getHeader('Socket-Mode'), 'async');
		assert.equal(info.getHeader('Control'), 'full');
		assert.equal(info.getHeader('Channel-Name'), 'loopback/9664-a');
		assert.equal(info.getHeader('Channel-Direction'), 'outbound');
		const uuid = info.getHeader('Unique-ID');
		assert.match(uuid, /^[0-9a-f-]{36}$/);

		const done = await h.withTimeout(new Promise((resolve) =>
			conn.execute('set', 'from_app=yes', resolve)), 5000, 'set to complete');
		assert.equal(done.getHeader('Application'), 'set');
		const v = await new Promise((resolve) =>
			conn.api('uuid_getvar', `${uuid} from_app`, (r) => resolve(r.getBody())));
		assert.equal(v, 'yes');

		const ended = new Promise((resolve) => conn.once('esl::end', resolve));
		conn.execute('hangup', 'USER_BUSY');
		await h.withTimeout(ended, 5000, 'the connection to end after the hangup');
		assert.equal(await api(c, `uuid_exists ${uuid}`), 'false');
	});

	await t.test('single-channel mode refuses the rest of the command set', T, async () => {
		const net = require('node:net');
		const port = await h.freePort();
		const got = [];
		const srv = net.createServer((sock) => {
			sock.setEncoding('latin1');
			let buf = '';
			sock.on('data', (d) => {
				buf += d;
				got.push(d);
			});
			sock.write('connect\n\n');
			setTimeout(() => sock.write('api status\n\n'), 200);
			setTimeout(() => sock.write('getvar channel_name\n\n'), 400);
			setTimeout(() => sock.write('exit\n\n'), 600);
		});
		await new Promise((resolve) => srv.listen(port, h.HOST, resolve));
		t.after(() => srv.close());
		await callWith(c, `socket(${h.HOST}:${port})`);
		await h.sleep(1500);
		const all = got.join('');
		assert.match(all, /Event-Name: CHANNEL_DATA\n/);
		assert.match(all, /Reply-Text: %2BOK%0A\nSocket-Mode: static\nControl: single-channel\n\n/);
		assert.match(all, /Reply-Text: -ERR command not found\n/);
		assert.match(all, /Reply-Text: loopback\/9664-a\n/);
		assert.match(all, /Content-Disposition: disconnect\n/);
	});

	await t.test('no application server: the application returns, nothing breaks', T,
		async () => {
			const port = await h.freePort();
			await c.cmd('event plain CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP_COMPLETE');
			await callWith(c, `socket(${h.HOST}:${port})`);
			/* The socket application ends at once; originate's one-shot leg ends with it. */
			const seen = {};
			for (let i = 0; i < 10 && !(seen.exec && seen.hangup); i++) {
				const f = await c.readFrameOfType('text/event-plain', 5000);
				if (/Application: socket/.test(f.body))
					seen.exec = /Application-Response: -ERR%20connect%20failed/.test(f.body);
				if (/Event-Name: CHANNEL_HANGUP_COMPLETE/.test(f.body) &&
				    /Channel-Name: loopback\/9664-a/.test(f.body))
					seen.hangup = /Hangup-Cause: NORMAL_CLEARING/.test(f.body);
			}
			assert.ok(seen.exec, 'socket completed with its failure response');
			assert.ok(seen.hangup, 'the leg ended normally');
			await c.cmd('noevents');
		});
});
