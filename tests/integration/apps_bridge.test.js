'use strict';
/*
 * apps_bridge.test.js - what happens around a bridge, and the applications
 * that end or refuse calls, on real SIP calls: continue_on_fail (true, and a
 * list of causes by name and number) after a busy or unregistered user,
 * hangup_after_bridge both ways when the B leg hangs up, respond with a
 * status and reason phrase and with 183 early media, sched_hangup with and
 * without a cause. The caller is a test phone (SIPp + rtp.js); what it hears
 * is checked by frequency, causes by CHANNEL_HANGUP_COMPLETE.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');
const sipp = require('./sipp');
const { dominant } = require('./rtp');
const { waitVar, frames, phoneCall } = require('./chanpoll');
const { api, EventLog, closeClient, is, sippStart, sippDone, sippOk, register } =
	require('./siptest');

const T = { timeout: 60000 };
const FREQS = [350, 440, 1000, 1400];

/* After the bridge: note how it went, then a tone the caller must hear. */
const AFTER = `<action application="set" data="after=\${originate_disposition}"/>
      <action application="answer"/>
      <action application="playback" data="tone_stream://%(1000,0,1000)"/>
      <action application="park"/>`;

const DIALPLAN = `<include>
  <extension name="t_cof_true">
    <condition field="destination_number" expression="^7300$">
      <action application="set" data="continue_on_fail=true"/>
      <action application="bridge" data="user/1010"/>
      ${AFTER}
    </condition>
  </extension>
  <extension name="t_cof_other_causes">
    <condition field="destination_number" expression="^7301$">
      <action application="set" data="continue_on_fail=NO_ANSWER,USER_NOT_REGISTERED"/>
      <action application="bridge" data="user/1010"/>
      ${AFTER}
    </condition>
  </extension>
  <extension name="t_cof_by_number">
    <condition field="destination_number" expression="^7302$">
      <action application="set" data="continue_on_fail=17, 606"/>
      <action application="bridge" data="user/1010"/>
      ${AFTER}
    </condition>
  </extension>
  <extension name="t_hab_false">
    <condition field="destination_number" expression="^7303$">
      <action application="set" data="hangup_after_bridge=false"/>
      <action application="bridge" data="user/1011"/>
      ${AFTER}
    </condition>
  </extension>
  <extension name="t_hab_true">
    <condition field="destination_number" expression="^7304$">
      <action application="set" data="hangup_after_bridge=true"/>
      <action application="bridge" data="user/1011"/>
      ${AFTER}
    </condition>
  </extension>
  <extension name="t_respond_403">
    <condition field="destination_number" expression="^7305$">
      <action application="respond" data="403 Not Today"/>
    </condition>
  </extension>
  <extension name="t_respond_183">
    <condition field="destination_number" expression="^7306$">
      <action application="respond" data="183"/>
      <action application="playback" data="tone_stream://%(1000,0,440)"/>
      <action application="answer"/>
      <action application="playback" data="tone_stream://%(1000,0,1400)"/>
      <action application="hangup"/>
    </condition>
  </extension>
  <extension name="t_sched_cause">
    <condition field="destination_number" expression="^7307$">
      <action application="answer"/>
      <action application="sched_hangup" data="+1 USER_BUSY"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_sched_default">
    <condition field="destination_number" expression="^7308$">
      <action application="answer"/>
      <action application="sched_hangup" data="nonsense"/>
      <action application="set" data="after_bad=reached"/>
      <action application="sched_hangup" data="+1"/>
      <action application="park"/>
    </condition>
  </extension>
</include>
`;

/* The tone a phone heard loudest, over the frames of the call. */
function heard(phone) {
	const loud = frames(phone).filter((f) => f.rms > 2000);
	return { n: loud.length, d: loud.length ? dominant([].concat(...loud.map((f) => f.s)), FREQS) : null };
}

test('around a bridge, respond and sched_hangup', { skip: !sipp.available() && 'sipp not installed',
	timeout: 300000 }, async (t) => {
	const server = await h.startServer({
		edit(conf) {
			const dir = path.join(conf, 'dialplan', 'default');
			fs.mkdirSync(dir, { recursive: true });
			fs.writeFileSync(path.join(dir, '90_bridge_test.xml'), DIALPLAN);
		},
	});
	const c = await h.rawAuthed(server);
	const ev = await EventLog.open(server);
	t.after(async () => { await closeClient(ev.c); await closeClient(c); await server.stop(); });
	const hangup = (uuid, from) => ev.wait(is('CHANNEL_HANGUP_COMPLETE', uuid),
		{ from, ms: 15000, what: `CHANNEL_HANGUP_COMPLETE of ${uuid}` });

	/* 1010 answers busy (486), for as many calls as the tests make. */
	const busyPort = await h.freeUdpPort();
	assert.equal((await register(server, '1010', busyPort)).code, 0);
	const busy = sippStart(t, { scenario: 'uas_busy.xml', port: busyPort, calls: 3, timeoutS: 120 });

	/* A caller whose bridge failed and who carried on: hears the tone, then is killed. */
	async function carriesOn(dest, want) {
		const { phone, uac, uuid } = await phoneCall(server, c, dest);
		assert.equal(await waitVar(c, uuid, 'after', want), want);
		await h.sleep(1300);
		assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
		sippOk(await sippDone(uac, 10000, `call to ${dest}`));
		phone.close();
		const got = heard(phone);
		assert.ok(got.n >= 40, `the tone after the bridge, got ${got.n} packets`);
		assert.equal(got.d.freq, 1000);
	}

	await t.test('continue_on_fail=true: a busy user, and the dialplan goes on', T, async () => {
		await carriesOn('7300', 'USER_BUSY');
	});

	await t.test('continue_on_fail with other causes: the busy caller is hung up USER_BUSY', T,
		async (t) => {
			const from = ev.mark();
			const uac = sippStart(t, { scenario: 'uac_media.xml',
				target: `${h.HOST}:${server.sipPort}`, user: '7301',
				port: await h.freeUdpPort(), auth: { user: '1000', password: '1234' },
				vars: { caller: '1000', rtp_port: await h.freeUdpPort(), pt: 0 }, timeoutS: 20 });
			const e = await ev.wait((e) => e['Event-Name'] === 'CHANNEL_HANGUP_COMPLETE' &&
				e['Caller-Destination-Number'] === '7301',
			{ from, ms: 15000, what: 'the caller to 7301 hung up' });
			assert.equal(e['Hangup-Cause'], 'USER_BUSY');
			assert.equal(e.variable_after, undefined, 'the dialplan stopped at the bridge');
			assert.equal(e.variable_sip_term_status, '486');
			const r = await sippDone(uac, 15000, 'call to 7301');
			assert.notEqual(r.code, 0, 'the caller was refused, not answered');
		});

	await t.test('continue_on_fail by Q.850 number (17 = USER_BUSY) goes on', T, async () => {
		await carriesOn('7302', 'USER_BUSY');
	});

	/* 1011 answers and stays until confab hangs it up. */
	async function bridgedToAnswer(t, dest) {
		const port = await h.freeUdpPort();
		assert.equal((await register(server, '1011', port)).code, 0);
		const b = sippStart(t, { scenario: 'uas_answer.xml', port, timeoutS: 40 });
		const from = ev.mark();
		const call = await phoneCall(server, c, dest);
		const br = await ev.wait(is('CHANNEL_BRIDGE', call.uuid),
			{ from, ms: 15000, what: `CHANNEL_BRIDGE of ${dest}` });
		const bleg = br['Other-Leg-Unique-ID'];
		assert.match(bleg, /^[0-9a-f-]{36}$/);
		const mark = ev.mark();
		assert.equal(await api(c, `uuid_kill ${bleg}`), '+OK\n');
		sippOk(await sippDone(b, 10000, 'uas_answer'));
		return { ...call, mark };
	}

	await t.test('hangup_after_bridge=false: the B leg hangs up, the caller goes on', T,
		async (t) => {
			const { phone, uac, uuid } = await bridgedToAnswer(t, '7303');
			assert.equal(await waitVar(c, uuid, 'after', 'SUCCESS'), 'SUCCESS');
			await h.sleep(1300);
			assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
			sippOk(await sippDone(uac, 10000, 'call to 7303'));
			phone.close();
			const got = heard(phone);
			assert.ok(got.n >= 40, `the tone after the bridge, got ${got.n} packets`);
			assert.equal(got.d.freq, 1000);
		});

	await t.test('hangup_after_bridge=true: the B leg hangs up, so does the caller', T,
		async (t) => {
			const { phone, uac, uuid, mark } = await bridgedToAnswer(t, '7304');
			const e = await hangup(uuid, mark);
			assert.equal(e['Hangup-Cause'], 'NORMAL_CLEARING');
			assert.equal(e.variable_after, undefined, 'nothing ran after the bridge');
			sippOk(await sippDone(uac, 10000, 'call to 7304'));
			phone.close();
			assert.equal(heard(phone).n, 0, 'no tone after the bridge');
		});

	await t.test('respond 403 Not Today: the caller gets exactly that status and phrase', T,
		async (t) => {
			const from = ev.mark();
			const uac = sippStart(t, { scenario: 'uac_refused.xml',
				target: `${h.HOST}:${server.sipPort}`, user: '7305',
				port: await h.freeUdpPort(), auth: { user: '1000', password: '1234' },
				vars: { caller: '1000' }, timeoutS: 20 });
			sippOk(await sippDone(uac, 15000, 'uac_refused'));
			const e = await ev.wait((e) => e['Event-Name'] === 'CHANNEL_HANGUP_COMPLETE' &&
				e['Caller-Destination-Number'] === '7305', { from, what: 'the refused call ended' });
			assert.equal(e['Hangup-Cause'], 'CALL_REJECTED');
			assert.equal(e.variable_sip_term_status, '403');
		});

	await t.test('respond 183: early media heard before the answer', T, async () => {
		const from = ev.mark();
		const { phone, uac, uuid } = await phoneCall(server, c, '7306');
		sippOk(await sippDone(uac, 15000, 'call to 7306'));
		phone.close();
		const media = await ev.wait(is('CHANNEL_PROGRESS_MEDIA', uuid), { from, what: 'PROGRESS_MEDIA' });
		const ans = await ev.wait(is('CHANNEL_ANSWER', uuid), { from, what: 'CHANNEL_ANSWER' });
		assert.ok(media.index < ans.index, 'early media came before the answer');
		const loud = frames(phone).filter((f) => f.rms > 2000);
		const half = (lo, hi) => dominant([].concat(...loud.slice(lo, hi).map((f) => f.s)), FREQS).freq;
		assert.ok(loud.length >= 90, `2 s of tone, got ${loud.length} packets`);
		assert.equal(half(5, 40), 440, 'the early-media tone first');
		assert.equal(half(loud.length - 40, loud.length - 5), 1400, 'then the tone after the answer');
	});

	await t.test('sched_hangup +1 USER_BUSY ends the call a second later with that cause', T,
		async () => {
			const from = ev.mark();
			const { phone, uac, uuid } = await phoneCall(server, c, '7307');
			const ans = await ev.wait(is('CHANNEL_ANSWER', uuid), { from, what: 'CHANNEL_ANSWER' });
			const e = await hangup(uuid, from);
			assert.equal(e['Hangup-Cause'], 'USER_BUSY');
			const after = e.at - ans.at;
			assert.ok(after >= 900 && after < 6000, `hung up ${after} ms after the answer`);
			sippOk(await sippDone(uac, 10000, 'call to 7307'));
			phone.close();
		});

	await t.test('sched_hangup: a bad time is refused, no cause means ALLOTTED_TIMEOUT', T,
		async () => {
			const from = ev.mark();
			const { phone, uac, uuid } = await phoneCall(server, c, '7308');
			const e = await hangup(uuid, from);
			assert.equal(e['Hangup-Cause'], 'ALLOTTED_TIMEOUT');
			assert.equal(e.variable_after_bad, 'reached', 'the call went on past the bad one');
			assert.match(server.logText(), /sched_hangup\(nonsense\) failed/);
			sippOk(await sippDone(uac, 10000, 'call to 7308'));
			phone.close();
		});

	busy.proc.kill('SIGKILL');
});
