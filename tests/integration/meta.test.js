'use strict';
/*
 * meta.test.js - feature codes during a bridge (bind_meta_app, unbind_meta_app)
 * on real calls: two test phones bridged through the default dialplan, *1 sent
 * by RFC 4733 moves both into one conference, where each hears the other's tone;
 * unbound codes and timeouts; *1XXXX; uuid_transfer -bleg / -both.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');
const sipp = require('./sipp');
const { RtpPhone, dominant } = require('./rtp');
const { phoneCall, waitVar } = require('./chanpoll');
const { api, EventLog, closeClient, sippStart, sippDone, sippOk, register } = require('./siptest');
const { until } = require('./eventlog');

const T = { timeout: 90000 };
const SUB = 'conference::maintenance';

/* Test extensions: bind_meta_app with bad arguments, and unbinding before a bridge. */
const DIALPLAN = `<include>
  <extension name="meta_bad">
    <condition field="destination_number" expression="^7701$">
      <action application="bind_meta_app" data="x a s playback::tone_stream://%(100,0,440)"/>
      <action application="bind_meta_app" data="2 a"/>
      <action application="bind_meta_app" data="1 a s"/>
      <action application="bind_meta_app" data="2 a s execute_extension::meta_conference XML features"/>
      <action application="unbind_meta_app" data="2"/>
      <action application="unbind_meta_app" data="x"/>
      <action application="bridge" data="user/1002@\${domain_name}"/>
    </condition>
  </extension>
  <extension name="meta_unbound">
    <condition field="destination_number" expression="^7702$">
      <action application="bind_meta_app" data="1 a s execute_extension::meta_conference XML features"/>
      <action application="unbind_meta_app" data=""/>
      <action application="bridge" data="user/1002@\${domain_name}"/>
    </condition>
  </extension>
  <extension name="meta_bleg">
    <condition field="destination_number" expression="^7703$">
      <action application="bind_meta_app" data="5 a s transfer::-bleg 3075 XML default"/>
      <action application="bridge" data="user/1002@\${domain_name}"/>
    </condition>
  </extension>
</include>
`;

const add = (uuid) => (e) => e['Event-Subclass'] === SUB && e.Action === 'add-member' &&
	e['Unique-ID'] === uuid;

/* The dominant of 1000/1400 Hz in what `phone` received during the last 600 ms. */
function heard(phone) {
	const s = phone.samples(0, Date.now() - 600);
	assert.ok(s.length >= 8 * 160, `audio arrived (${s.length} samples)`);
	return dominant(s, [1000, 1400]);
}

/*
 * Each phone sends its tone; each must come to hear the other's, not its own.
 * Polled: right after a move the room may still be settling on a loaded machine.
 */
async function hearEachOther(a, b, what) {
	a.startTone(1000);
	b.startTone(1400);
	try {
		await h.sleep(1500);
		await until(`${what}: each hears the other clearly, not itself`, () => {
			const atB = heard(b), atA = heard(a);
			return { ok: atB.freq === 1000 && atA.freq === 1400 && atA.ratio > 10 &&
				atB.ratio > 10, info: JSON.stringify({ atA, atB }) };
		}, 6000);
	} finally {
		a.stopTone();
		b.stopTone();
	}
}

/* Polls until `phone` has received exactly these RFC 4733 digits. */
async function received(phone, want, what) {
	await until(what, async () => ({ ok: phone.digits() === want, info: phone.digits() }), 5000);
}

async function digits(phone, s) {
	for (const d of s) {
		await phone.sendDigit(d);
		await h.sleep(100);
	}
}

test('feature codes during a bridge', { skip: !sipp.available() && 'sipp not installed',
	timeout: 400000 }, async (t) => {
	const server = await h.startServer({
		edit(conf) {
			const dir = path.join(conf, 'dialplan', 'default');
			fs.mkdirSync(dir, { recursive: true });
			fs.writeFileSync(path.join(dir, '90_meta_test.xml'), DIALPLAN);
		},
	});
	const target = `${h.HOST}:${server.sipPort}`;
	const c = await h.rawAuthed(server);
	const ev = await EventLog.open(server, `CHANNEL_BRIDGE CHANNEL_HANGUP CUSTOM ${SUB}`);
	t.after(async () => { await closeClient(ev.c); await closeClient(c); await server.stop(); });
	const A = (cmd) => api(c, cmd);

	/*
	 * Phone A (user 1000) dials `dest`, which bridges to phone B, registered as
	 * 1002; resolves once the two are bridged.
	 */
	async function bridgedCall(tt, dest) {
		const phoneB = new RtpPhone();
		const portB = await phoneB.open();
		const sipB = await h.freeUdpPort();
		sippOk(await register(server, '1002', sipB));
		const uasB = sippStart(tt, { scenario: 'uas_media.xml', target, port: sipB,
			vars: { rtp_port: portB, pt: 0 }, timeoutS: 60 });
		const mark = ev.mark();
		const a = await phoneCall(server, c, dest);
		tt.after(() => { a.phone.close(); phoneB.close(); });
		const br = await ev.wait((e) => e['Event-Name'] === 'CHANNEL_BRIDGE' &&
			e['Bridge-A-Unique-ID'] === a.uuid, { from: mark, what: 'the bridge' });
		const uuidB = br['Bridge-B-Unique-ID'];
		phoneB.remote = { host: h.HOST, port: Number(await waitVar(c, uuidB, 'local_media_port')) };
		await hearEachOther(a.phone, phoneB, 'bridged');
		return { a, phoneA: a.phone, phoneB, uuidA: a.uuid, uuidB, uasB };
	}

	/* calleeFirst: B hangs up, and A (hangup_after_bridge) follows. */
	async function hangupBoth(call, calleeFirst = false) {
		if (calleeFirst) {
			await A(`uuid_kill ${call.uuidB}`);
			await ev.wait((e) => e['Event-Name'] === 'CHANNEL_HANGUP' &&
				e['Unique-ID'] === call.uuidA, { what: 'A follows B' });
		}
		await A(`uuid_kill ${call.uuidA}`);
		await A(`uuid_kill ${call.uuidB}`);
		sippOk(await sippDone(call.a.uac, 20000, 'A'));
		sippOk(await sippDone(call.uasB, 20000, 'B'));
	}

	await t.test('*1 from the caller: both legs join one conference and hear each other', T,
		async (tt) => {
			const call = await bridgedCall(tt, '1002');
			assert.match(server.logText(), /Bound A-Leg: \*1 execute_extension::meta_conference/);
			call.phoneB.clear();
			await digits(call.phoneA, '5');
			await received(call.phoneB, '5', 'an ordinary digit is relayed');
			const mark = ev.mark();
			await digits(call.phoneA, '*1');
			await ev.wait(add(call.uuidA), { from: mark, what: 'add-member for A' });
			await ev.wait(add(call.uuidB), { from: mark, what: 'add-member for B' });
			const room = ev.all(add(call.uuidA), mark)[0]['Conference-Name'];
			assert.equal(room, call.uuidA, 'the room is named after the leg that pressed *1');
			assert.equal(ev.all(add(call.uuidB), mark)[0]['Conference-Name'], room);
			assert.equal(call.phoneB.digits(), '5', '* and 1 are not passed to the other leg');
			const list = await A(`conference ${room} list`);
			const rows = list.split('\n').filter((l) => l).map((l) => l.split(';'));
			assert.equal(rows.length, 2, `two members: ${list}`);
			assert.deepEqual(rows.map((r) => r[2]).sort(), [call.uuidA, call.uuidB].sort());
			assert.match(await A('conference list'),
				new RegExp(`^\\+OK Conference ${room} \\(2 members?`, 'm'));
			assert.equal(ev.all((e) => e['Event-Name'] === 'CHANNEL_HANGUP' &&
				[call.uuidA, call.uuidB].includes(e['Unique-ID']), mark).length, 0,
			'neither leg hung up');
			await hearEachOther(call.phoneA, call.phoneB, 'in the conference');
			await hangupBoth(call);
		});

	await t.test('*1 from the callee moves both as well', T, async (tt) => {
		const call = await bridgedCall(tt, '1002');
		const mark = ev.mark();
		await digits(call.phoneB, '*1');
		await ev.wait(add(call.uuidA), { from: mark, what: 'add-member for A' });
		await ev.wait(add(call.uuidB), { from: mark, what: 'add-member for B' });
		assert.equal(ev.all(add(call.uuidA), mark)[0]['Conference-Name'], call.uuidB,
			'the room is named after the callee, who pressed it');
		await hearEachOther(call.phoneA, call.phoneB, 'in the conference');
		await hangupBoth(call);
	});

	await t.test('* then an unbound digit, ** and * then a timeout keep the call bridged', T,
		async (tt) => {
			const call = await bridgedCall(tt, '1002');
			call.phoneB.clear();
			const from = server.logText().length;
			await digits(call.phoneA, '*9');
			await h.sleep(500);
			assert.equal(call.phoneB.digits(), '', '* and an unbound digit are swallowed');
			assert.match(server.logText().slice(from), /Ignoring meta digit '9' not mapped/);
			await digits(call.phoneA, '**');
			await received(call.phoneB, '*', 'the meta key twice sends it once');
			await digits(call.phoneA, '*');
			await h.sleep(5600);
			await digits(call.phoneA, '4');
			await received(call.phoneB, '*4', 'after the timeout the digit goes through');
			assert.match(server.logText().slice(from), /Meta digit timeout parsing 4/);
			assert.equal(await waitVar(c, call.uuidA, 'bridge_uuid'), call.uuidB);
			await hearEachOther(call.phoneA, call.phoneB, 'still bridged');
			await hangupBoth(call, true);
		});

	await t.test('bind_meta_app with bad arguments logs why; unbind_meta_app', T, async (tt) => {
		const from = server.logText().length;
		let call = await bridgedCall(tt, '7701');
		const log = server.logText().slice(from);
		assert.match(log, /bind_meta_app 'x a s [^']*': Invalid key/);
		assert.match(log, /bind_meta_app '2 a': Usage: <key> \[a\|b\|ab\] \[a\|b\|o\|s\|i\|1\] <app>/);
		assert.match(log, /bind_meta_app '1 a s': Usage:/);
		assert.match(log, /UnBound A-Leg: 2/);
		assert.match(log, /unbind_meta_app 'x': Invalid key/);
		call.phoneB.clear();
		await digits(call.phoneA, '*2');
		await h.sleep(800);
		assert.equal(call.phoneB.digits(), '', 'an unbound key: still swallowed');
		assert.equal(ev.all(add(call.uuidA), from).length, 0, 'no conference');
		assert.equal(await waitVar(c, call.uuidA, 'bridge_uuid'), call.uuidB);
		await hangupBoth(call);

		call = await bridgedCall(tt, '7702');
		call.phoneB.clear();
		const mark = ev.mark();
		await digits(call.phoneA, '*1');
		await received(call.phoneB, '*1', 'with every binding gone, *1 is relayed');
		assert.equal(ev.all(add(call.uuidA), mark).length, 0, 'no conference');
		await hangupBoth(call);
	});

	await t.test('dialling *1XXXX joins room XXXX', T, async () => {
		const mark = ev.mark();
		const a = await phoneCall(server, c, '*13074');
		try {
			const e = await ev.wait(add(a.uuid), { from: mark, what: 'add-member' });
			assert.equal(e['Conference-Name'], '3074');
		} finally {
			a.phone.close();
		}
		await A(`uuid_kill ${a.uuid}`);
		sippOk(await sippDone(a.uac, 20000, 'A'));
	});

	await t.test('transfer -bleg in a binding moves the callee; the caller, left alone, ends', T,
		async (tt) => {
			const call = await bridgedCall(tt, '7703');
			const mark = ev.mark();
			await digits(call.phoneA, '*5');
			const e = await ev.wait(add(call.uuidB), { from: mark, what: 'add-member for B' });
			assert.equal(e['Conference-Name'], '3075');
			await ev.wait((x) => x['Event-Name'] === 'CHANNEL_HANGUP' &&
				x['Unique-ID'] === call.uuidA, { from: mark, what: 'A hangs up' });
			sippOk(await sippDone(call.a.uac, 20000, 'A'));
			await A(`uuid_kill ${call.uuidB}`);
			sippOk(await sippDone(call.uasB, 20000, 'B'));
		});

	await t.test('uuid_transfer -bleg moves the other leg; the caller hangs up after the bridge',
		T, async (tt) => {
			const call = await bridgedCall(tt, '1002');
			const mark = ev.mark();
			assert.equal(await A(`uuid_transfer ${call.uuidA} -bleg 3071 XML default`), '+OK\n');
			await ev.wait(add(call.uuidB), { from: mark, what: 'add-member for B' });
			await ev.wait((e) => e['Event-Name'] === 'CHANNEL_HANGUP' &&
				e['Unique-ID'] === call.uuidA, { from: mark, what: 'A hangs up' });
			sippOk(await sippDone(call.a.uac, 20000, 'A'));
			assert.match(await A('conference 3071 list'), new RegExp(call.uuidB));
			await A(`uuid_kill ${call.uuidB}`);
			sippOk(await sippDone(call.uasB, 20000, 'B'));
		});

	await t.test('uuid_transfer -both moves both legs; without a partner -bleg is refused', T,
		async (tt) => {
			const call = await bridgedCall(tt, '1002');
			const mark = ev.mark();
			assert.equal(await A(`uuid_transfer ${call.uuidA} -both 3072 XML default`), '+OK\n');
			await ev.wait(add(call.uuidA), { from: mark, what: 'add-member for A' });
			await ev.wait(add(call.uuidB), { from: mark, what: 'add-member for B' });
			await hearEachOther(call.phoneA, call.phoneB, 'in room 3072');
			assert.equal(await A(`uuid_transfer ${call.uuidA} -bleg 3073 XML default`),
				'-ERR No B-leg present\n');
			await hangupBoth(call);
		});
});
