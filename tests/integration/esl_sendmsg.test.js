'use strict';
/*
 * esl_sendmsg.test.js - sendmsg execute ordering on a real call (a SIPp phone
 * that answers): with event-lock the applications run one after another in
 * the order sent; without it a message starts at once, so a hangup sent during
 * a sleep ends the call at once; an unlocked message's loops still run in turn.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');
const sipp = require('./sipp');
const { api, EventLog, closeClient, is, sippStart, sippDone, sippOk } = require('./siptest');

const T = { timeout: 60000 };

async function sendmsg(c, uuid, app, arg, extra = {}) {
	const headers = { 'call-command': 'execute', 'execute-app-name': app, ...extra };
	if (arg !== undefined)
		headers['execute-app-arg'] = arg;
	const r = await c.cmd(`sendmsg ${uuid}`, { headers });
	assert.equal(r.headers['Reply-Text'], '+OK', `sendmsg ${app}`);
}

test('sendmsg and event-lock', { skip: !sipp.available() && 'sipp not installed', timeout: 120000 },
	async (t) => {
		const server = await h.startServer();
		const c = await h.rawAuthed(server);
		const ev = await EventLog.open(server);
		t.after(async () => { await closeClient(ev.c); await closeClient(c); await server.stop(); });

		/* A parked, answered outbound call to a SIPp phone. */
		async function call(t) {
			const port = await h.freeUdpPort();
			const run = sippStart(t, { scenario: 'uas_answer.xml', port, timeoutS: 30 });
			const r = await api(c, `originate sofia/internal/7100@${h.HOST}:${port} &park()`);
			assert.match(r, /^\+OK [0-9a-f-]{36}\n$/);
			return { uuid: r.slice(4, 40), run };
		}
		const exec = (uuid, token, name = 'CHANNEL_EXECUTE') => (e) => e['Event-Name'] === name &&
			e['Unique-ID'] === uuid && e['Application-UUID'] === token;

		await t.test('with event-lock: one after another, in the order sent', T, async (t) => {
			const { uuid, run } = await call(t);
			const from = ev.mark();
			const lock = { 'event-lock': 'true' };
			await sendmsg(c, uuid, 'playback', 'tone_stream://%(500,0,440)', { ...lock, 'event-uuid': 'el-1' });
			await sendmsg(c, uuid, 'set', 'el_order=second', { ...lock, 'event-uuid': 'el-2' });
			await sendmsg(c, uuid, 'sleep', '200', { ...lock, 'event-uuid': 'el-3' });
			await ev.wait(exec(uuid, 'el-3', 'CHANNEL_EXECUTE_COMPLETE'), { from, what: 'the last one done' });
			const seq = ev.all((e) => e['Unique-ID'] === uuid && /^CHANNEL_EXECUTE/.test(e['Event-Name']) &&
				/^el-/.test(e['Application-UUID'] || ''), from)
				.map((e) => `${e['Event-Name'] === 'CHANNEL_EXECUTE' ? '+' : '-'}${e['Application-UUID']}`);
			assert.deepEqual(seq, ['+el-1', '-el-1', '+el-2', '-el-2', '+el-3', '-el-3']);
			const play = ev.all(exec(uuid, 'el-1'), from)[0], set = ev.all(exec(uuid, 'el-2'), from)[0];
			assert.ok(set.at - play.at >= 400, `set waited for the playback (${set.at - play.at} ms)`);
			assert.equal(await api(c, `uuid_getvar ${uuid} el_order`), 'second');
			assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
			sippOk(await sippDone(run, 10000, 'the phone'));
		});

		await t.test('without event-lock: a hangup sent during a sleep acts at once', T, async (t) => {
			const { uuid, run } = await call(t);
			const from = ev.mark();
			await sendmsg(c, uuid, 'sleep', '8000', { 'event-lock': 'true', 'event-uuid': 'nl-1' });
			await ev.wait(exec(uuid, 'nl-1'), { from, what: 'the sleep started' });
			const t0 = Date.now();
			await sendmsg(c, uuid, 'hangup', 'USER_BUSY');
			const hc = await ev.wait(is('CHANNEL_HANGUP_COMPLETE', uuid), { from, ms: 4000,
				what: 'the hangup, long before the sleep is over' });
			assert.ok(Date.now() - t0 < 4000);
			assert.equal(hc['Hangup-Cause'], 'USER_BUSY');
			sippOk(await sippDone(run, 10000, 'the phone'));
		});

		await t.test('with event-lock the same hangup waits for the sleep', T, async (t) => {
			const { uuid, run } = await call(t);
			const from = ev.mark();
			const t0 = Date.now();
			await sendmsg(c, uuid, 'sleep', '1000', { 'event-lock': 'true' });
			await sendmsg(c, uuid, 'hangup', 'USER_BUSY', { 'event-lock': 'true' });
			await ev.wait(is('CHANNEL_HANGUP_COMPLETE', uuid), { from, what: 'the hangup' });
			assert.ok(Date.now() - t0 >= 900, `hung up after ${Date.now() - t0} ms`);
			sippOk(await sippDone(run, 10000, 'the phone'));
		});

		await t.test('an unlocked message with loops: 3 runs, one after another', T, async (t) => {
			const { uuid, run } = await call(t);
			const from = ev.mark();
			await sendmsg(c, uuid, 'sleep', '100', { loops: '3', 'event-uuid': 'lp' });
			await ev.wait((e) => ev.all(exec(uuid, 'lp', 'CHANNEL_EXECUTE_COMPLETE'), from).length === 3,
				{ from, what: 'three runs' });
			const seq = ev.all((e) => e['Unique-ID'] === uuid && e['Application-UUID'] === 'lp' &&
				/^CHANNEL_EXECUTE/.test(e['Event-Name']), from).map((e) => e['Event-Name']);
			assert.deepEqual(seq, ['CHANNEL_EXECUTE', 'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_EXECUTE',
				'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_EXECUTE', 'CHANNEL_EXECUTE_COMPLETE']);
			assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
			sippOk(await sippDone(run, 10000, 'the phone'));
		});
	});
