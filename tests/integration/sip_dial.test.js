'use strict';
/*
 * sip_dial.test.js - dial strings in real calls to SIPp phones: sofia/<profile>/<uri>,
 * user/<ext> ringing every registration (the first to answer wins, the other
 * is CANCELed), `,` simultaneous and `|` sequential alternatives with the
 * losers' causes, leg_timeout and originate_timeout; and the channel events of
 * an originated and bridged call with the headers clients read
 * (CHANNEL_OUTGOING, CHANNEL_ORIGINATE, CHANNEL_PROGRESS, CHANNEL_BRIDGE,
 * CHANNEL_UNBRIDGE, CHANNEL_STATE, CHANNEL_DESTROY).
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');
const sipp = require('./sipp');
const { api, EventLog, closeClient, is, sippStart, sippDone, sippOk, register } = require('./siptest');

const T = { timeout: 60000 };

/* A SIPp phone on a port of its own: scenario uas_answer / uas_busy / uas_noanswer. */
async function phone(t, scenario, { port, timeoutS = 20 } = {}) {
	port = port || await h.freeUdpPort();
	const run = sippStart(t, { scenario, port, timeoutS });
	return { port, run, uri: (user) => `${user}@${h.HOST}:${port}` };
}

/* The uuid of `+OK <uuid>`, or a failure showing the reply. */
function okUuid(reply) {
	assert.match(reply, /^\+OK [0-9a-f-]{36}\n$/);
	return reply.slice(4, 40);
}

/* Every channel hung up since `from`, by Channel-Name, with its cause. */
function causes(ev, from) {
	const out = {};
	for (const e of ev.all(is('CHANNEL_HANGUP_COMPLETE'), from))
		out[e['Channel-Name']] = e['Hangup-Cause'];
	return out;
}

test('dial strings in real calls', { skip: !sipp.available() && 'sipp not installed', timeout: 240000 },
	async (t) => {
		const server = await h.startServer();
		const c = await h.rawAuthed(server);
		const ev = await EventLog.open(server);
		t.after(async () => { await closeClient(ev.c); await closeClient(c); await server.stop(); });
		const hup = (name, from) => ev.wait((e) => e['Event-Name'] === 'CHANNEL_HANGUP_COMPLETE' &&
			e['Channel-Name'] === name, { from, what: `CHANNEL_HANGUP_COMPLETE of ${name}` });

		await t.test('sofia/internal/<user>@<host:port> reaches that address', T, async (t) => {
			const p = await phone(t, 'uas_answer.xml');
			const from = ev.mark();
			const uuid = okUuid(await api(c, `originate sofia/internal/${p.uri('7001')} &park()`));
			const ans = await ev.wait(is('CHANNEL_ANSWER', uuid), { from, what: 'CHANNEL_ANSWER' });
			assert.equal(ans['Channel-Name'], `sofia/internal/${p.uri('7001')}`);
			assert.equal(ans['Caller-Destination-Number'], '7001');
			assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
			sippOk(await sippDone(p.run, 10000, 'uas_answer'));

			// The same with a full SIP URI (and a URI parameter).
			const q = await phone(t, 'uas_answer.xml');
			const from2 = ev.mark();
			const u2 = okUuid(await api(c, `originate sofia/internal/sip:7012@${h.HOST}:${q.port};foo=bar &park()`));
			const a2 = await ev.wait(is('CHANNEL_ANSWER', u2), { from: from2, what: 'CHANNEL_ANSWER (sip: URI)' });
			assert.equal(a2['Caller-Destination-Number'], '7012');
			assert.equal(await api(c, `uuid_kill ${u2}`), '+OK\n');
			sippOk(await sippDone(q.run, 10000, 'uas_answer (sip: URI)'));
			assert.equal(await api(c, 'originate sofia/nosuch/7000@127.0.0.1 &park()'), '-ERR INVALID_PROFILE\n');
		});

		await t.test('user/1005 rings both registrations; the one that answers wins, the other is CANCELed',
			T, async (t) => {
				const quiet = await h.freeUdpPort(), answers = await h.freeUdpPort();
				assert.equal((await register(server, '1005', quiet)).code, 0);
				assert.equal((await register(server, '1005', answers)).code, 0);
				const regs = await api(c, 'show registrations');
				assert.equal(regs.split('\n').filter((l) => l.startsWith('1005,')).length, 2, regs);
				const ringing = await phone(t, 'uas_noanswer.xml', { port: quiet });
				const answering = await phone(t, 'uas_answer.xml', { port: answers });
				const from = ev.mark();
				const uuid = okUuid(await api(c, 'originate user/1005 &park()'));
				// The loser got CANCEL (200, 487, ACK), well before any timeout.
				sippOk(await sippDone(ringing.run, 10000, 'the ringing registration'));
				const ans = await ev.wait(is('CHANNEL_ANSWER', uuid), { from, what: 'CHANNEL_ANSWER' });
				assert.equal(ans['variable_dialed_user'], '1005');
				assert.match(ans['Channel-Name'], new RegExp(`:${answers}$`));
				assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
				sippOk(await sippDone(answering.run, 10000, 'the answering registration'));
				const hc = await ev.wait(is('CHANNEL_HANGUP_COMPLETE', uuid), { from });
				assert.equal(hc['Hangup-Cause'], 'NORMAL_CLEARING');
				// Gone again, so later tests see a clean registrar.
				await sipp.run({ scenario: 'unregister_all.xml', target: `${h.HOST}:${server.sipPort}`,
					port: quiet, user: '1005', auth: { user: '1005', password: '1234' }, timeoutS: 10 });
			});

		await t.test('"," rings at once: the first answer wins, the other leg LOSE_RACE and CANCEL', T,
			async (t) => {
				const slow = await phone(t, 'uas_noanswer.xml');
				const fast = await phone(t, 'uas_answer.xml');
				const from = ev.mark();
				const t0 = Date.now();
				const uuid = okUuid(await api(c,
					`originate sofia/internal/${slow.uri('7002')},sofia/internal/${fast.uri('7003')} &park()`));
				assert.ok(Date.now() - t0 < 5000, 'answered without waiting for the other leg');
				const ans = await ev.wait(is('CHANNEL_ANSWER', uuid), { from, what: 'CHANNEL_ANSWER' });
				assert.equal(ans['Channel-Name'], `sofia/internal/${fast.uri('7003')}`);
				sippOk(await sippDone(slow.run, 10000, 'the losing phone (CANCEL)'));
				const lost = await hup(`sofia/internal/${slow.uri('7002')}`, from);
				assert.equal(lost['Hangup-Cause'], 'LOSE_RACE');
				assert.equal(lost['variable_sip_hangup_disposition'], 'send_cancel');
				assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
				sippOk(await sippDone(fast.run, 10000, 'the winner'));
			});

		await t.test('"|" tries in turn: busy first (USER_BUSY), then the second answers', T, async (t) => {
			const busy = await phone(t, 'uas_busy.xml');
			const ok = await phone(t, 'uas_answer.xml');
			const from = ev.mark();
			const uuid = okUuid(await api(c,
				`originate sofia/internal/${busy.uri('7004')}|sofia/internal/${ok.uri('7005')} &park()`));
			sippOk(await sippDone(busy.run, 10000, 'the busy phone'));
			const first = await hup(`sofia/internal/${busy.uri('7004')}`, from);
			assert.equal(first['Hangup-Cause'], 'USER_BUSY');
			assert.equal(first['variable_sip_term_status'], '486');
			const ans = await ev.wait(is('CHANNEL_ANSWER', uuid), { from, what: 'CHANNEL_ANSWER' });
			assert.equal(ans['Channel-Name'], `sofia/internal/${ok.uri('7005')}`);
			// The second leg was only created after the first failed.
			const created = ev.all(is('CHANNEL_CREATE'), from).map((e) => e['Channel-Name']);
			assert.deepEqual(created, [`sofia/internal/${busy.uri('7004')}`, `sofia/internal/${ok.uri('7005')}`]);
			assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
			sippOk(await sippDone(ok.run, 10000, 'the second phone'));
		});

		await t.test('leg_timeout ends a ringing leg (NO_ANSWER) and the next one is tried', T, async (t) => {
			const ringing = await phone(t, 'uas_noanswer.xml');
			const ok = await phone(t, 'uas_answer.xml');
			const from = ev.mark();
			const t0 = Date.now();
			const uuid = okUuid(await api(c, `originate [leg_timeout=1]sofia/internal/${ringing.uri('7006')}|` +
				`sofia/internal/${ok.uri('7007')} &park()`));
			const took = Date.now() - t0;
			assert.ok(took >= 900 && took < 10000, `answered after ${took} ms`);
			sippOk(await sippDone(ringing.run, 10000, 'the ringing phone (CANCEL)'));
			const first = await hup(`sofia/internal/${ringing.uri('7006')}`, from);
			assert.equal(first['Hangup-Cause'], 'NO_ANSWER');
			assert.equal(first['variable_sip_hangup_disposition'], 'send_cancel');
			assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
			sippOk(await sippDone(ok.run, 10000, 'the second phone'));
		});

		await t.test('originate_timeout gives up on every ringing leg: -ERR NO_ANSWER, both CANCELed', T,
			async (t) => {
				const a = await phone(t, 'uas_noanswer.xml'), b = await phone(t, 'uas_noanswer.xml');
				const from = ev.mark();
				const t0 = Date.now();
				assert.equal(await api(c, `originate {originate_timeout=2}sofia/internal/${a.uri('7008')},` +
					`sofia/internal/${b.uri('7009')} &park()`), '-ERR NO_ANSWER\n');
				const took = Date.now() - t0;
				assert.ok(took >= 1800 && took < 10000, `gave up after ${took} ms`);
				sippOk(await sippDone(a.run, 10000, 'phone a (CANCEL)'));
				sippOk(await sippDone(b.run, 10000, 'phone b (CANCEL)'));
				await hup(`sofia/internal/${b.uri('7009')}`, from);
				assert.deepEqual(causes(ev, from), {
					[`sofia/internal/${a.uri('7008')}`]: 'NO_ANSWER',
					[`sofia/internal/${b.uri('7009')}`]: 'NO_ANSWER',
				});
			});

		await t.test('channel events of two originated legs bridged, then hung up', T, async (t) => {
			const pa = await phone(t, 'uas_answer.xml'), pb = await phone(t, 'uas_answer.xml');
			const from = ev.mark();
			const a = okUuid(await api(c, `originate {origination_caller_id_number=4444}sofia/internal/${pa.uri('7010')} &park()`));
			const b = okUuid(await api(c, `originate sofia/internal/${pb.uri('7011')} &park()`));
			assert.equal(await api(c, `uuid_bridge ${a} ${b}`), `+OK ${b}\n`);
			const br = await ev.wait(is('CHANNEL_BRIDGE', a), { from, what: 'CHANNEL_BRIDGE' });
			assert.equal(await api(c, `uuid_kill ${b}`), '+OK\n');
			await ev.wait(is('CHANNEL_UNBRIDGE', a), { from, what: 'CHANNEL_UNBRIDGE' });
			if ((await api(c, `uuid_exists ${a}`)) === 'true')
				await api(c, `uuid_kill ${a}`);
			await ev.wait(is('CHANNEL_DESTROY', a), { from, what: 'CHANNEL_DESTROY of a' });
			await ev.wait(is('CHANNEL_DESTROY', b), { from, what: 'CHANNEL_DESTROY of b' });
			sippOk(await sippDone(pa.run, 10000, 'phone a'));
			sippOk(await sippDone(pb.run, 10000, 'phone b'));

			const mine = ev.all((e) => e['Unique-ID'] === a, from);
			const names = mine.map((e) => e['Event-Name']);
			const order = ['CHANNEL_CREATE', 'CHANNEL_OUTGOING', 'CHANNEL_ORIGINATE', 'CHANNEL_PROGRESS',
				'CHANNEL_ANSWER', 'CHANNEL_BRIDGE', 'CHANNEL_UNBRIDGE', 'CHANNEL_HANGUP',
				'CHANNEL_HANGUP_COMPLETE', 'CHANNEL_DESTROY'];
			let at = -1;
			for (const n of order) {
				const i = names.indexOf(n, at + 1);
				assert.ok(i > at, `${n} after the ones before it in ${JSON.stringify(names)}`);
				at = i;
			}
			const one = (n) => mine.find((e) => e['Event-Name'] === n);
			const out = one('CHANNEL_OUTGOING');
			assert.equal(out['Call-Direction'], 'outbound');
			assert.equal(out['Caller-Caller-ID-Number'], '4444');
			assert.equal(out['Caller-Destination-Number'], '7010');
			assert.equal(one('CHANNEL_ORIGINATE')['Caller-Channel-Name'], `sofia/internal/${pa.uri('7010')}`);
			assert.ok(one('CHANNEL_ORIGINATE')['variable_origination_caller_id_number'] === '4444');
			const prog = one('CHANNEL_PROGRESS');
			assert.equal(prog['Answer-State'], 'ringing');
			assert.equal(prog['Channel-Call-State'], 'RINGING');
			assert.notEqual(prog['Caller-Channel-Progress-Time'], '0');
			// The bridge names both legs and the other one's profile.
			assert.equal(br['Bridge-A-Unique-ID'], a);
			assert.equal(br['Bridge-B-Unique-ID'], b);
			assert.equal(br['Other-Type'], 'originatee');
			assert.equal(br['Other-Leg-Unique-ID'], b);
			assert.equal(br['Other-Leg-Destination-Number'], '7011');
			assert.notEqual(br['Caller-Channel-Bridged-Time'], '0');
			const unb = one('CHANNEL_UNBRIDGE');
			assert.equal(unb['Bridge-A-Unique-ID'], a);
			assert.equal(unb['Bridge-B-Unique-ID'], b);
			// CHANNEL_STATE: name and number agree, without variables (spec/events.md 3.3).
			const states = mine.filter((e) => e['Event-Name'] === 'CHANNEL_STATE');
			const CS = ['CS_NEW', 'CS_INIT', 'CS_ROUTING', 'CS_SOFT_EXECUTE', 'CS_EXECUTE',
				'CS_EXCHANGE_MEDIA', 'CS_PARK', 'CS_CONSUME_MEDIA', 'CS_HIBERNATE', 'CS_RESET',
				'CS_HANGUP', 'CS_REPORTING', 'CS_DESTROY', 'CS_NONE'];
			for (const s of states) {
				assert.equal(CS[Number(s['Channel-State-Number'])], s['Channel-State']);
				assert.ok(!Object.keys(s).some((k) => k.startsWith('variable_')), 'no variables on CHANNEL_STATE');
			}
			const seen = states.map((s) => s['Channel-State']);
			for (const s of ['CS_INIT', 'CS_EXCHANGE_MEDIA', 'CS_HANGUP', 'CS_REPORTING', 'CS_DESTROY'])
				assert.ok(seen.includes(s), `CHANNEL_STATE ${s} in ${seen}`);
			const d = one('CHANNEL_DESTROY');
			assert.equal(d['Channel-State'], 'CS_DESTROY');
			assert.equal(d['Hangup-Cause'], 'NORMAL_CLEARING');
			assert.equal(d['Answer-State'], 'hangup');
		});
	});
