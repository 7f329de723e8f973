'use strict';
/*
 * sip_more.test.js - inbound SIP calls into the default dialplan, watched on
 * the event socket: who hung up (recv_bye / send_bye), the echo test checked
 * by the frequency of what comes back, CANCEL while ringing, hold and unhold by
 * re-INVITE (also by what the phone hears meanwhile), DTMF by SIP INFO (both
 * content types) and by RFC 4733, a number nothing routes (404), the media
 * timeout (and that a held call is exempt), hangup_cause_q850 and the RTP
 * counters on the hangup event, and one real softphone (baresip) that
 * registers, calls the echo test, and talks to a test phone through a bridge.
 *
 * SIPp does the signalling (scenarios in sipp/), test phones (rtp.js) the
 * media. The default dialplan answers 9196 with answer + echo and parks 9664.
 * While the dialplan engine is not wired in, confab parks every inbound call
 * (CHANNEL_PARK without any CHANNEL_EXECUTE before it): the 9196 calls are then
 * answered and echoed with sendmsg (answer, echo) instead - the same two
 * applications - and the test says so in a diagnostic; the 404 case skips.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');
const sipp = require('./sipp');
const { RtpPhone, dominant, rms, ulawDecode } = require('./rtp');
const { Baresip, unavailable: baresipUnavailable } = require('./baresip');
const { api, EventLog, closeClient, is, sippStart, sippDone, sippOk } = require('./siptest');

const T = { timeout: 60000 };
const AUTH = { user: '1000', password: '1234' };

/* The inbound channel created (after `from`) for a call to `dest`. */
async function inbound(ev, from, dest, ms = 10000) {
	const e = await ev.wait((x) => x['Event-Name'] === 'CHANNEL_CREATE' &&
		x['Call-Direction'] === 'inbound' && x['Caller-Destination-Number'] === dest,
	{ from, ms, what: `CHANNEL_CREATE of an inbound call to ${dest}` });
	return e['Unique-ID'];
}

async function execute(c, uuid, app, arg) {
	const headers = { 'call-command': 'execute', 'execute-app-name': app };
	if (arg !== undefined)
		headers['execute-app-arg'] = arg;
	const r = await c.cmd(`sendmsg ${uuid}`, { headers });
	assert.equal(r.headers['Reply-Text'], '+OK', `sendmsg execute ${app}`);
}

/* What was learnt about the dialplan engine: null until a call to 9196 showed it. */
const dialplan = { wired: null, reason: '' };

/*
 * 9196 must be answered by the dialplan (answer, echo). If instead the
 * channel parks without having executed anything, the dialplan engine is not
 * wired in: note it and run the extension's two applications by sendmsg.
 */
async function echoTest(t, c, ev, uuid, from) {
	const e = await ev.wait((x) => x['Unique-ID'] === uuid &&
		(x['Event-Name'] === 'CHANNEL_ANSWER' || x['Event-Name'] === 'CHANNEL_PARK'),
	{ from, ms: 8000, what: `CHANNEL_ANSWER (or CHANNEL_PARK) for 9196 ${uuid}` });
	if (e['Event-Name'] === 'CHANNEL_ANSWER') {
		dialplan.wired = true;
		return;
	}
	const executed = ev.all(is('CHANNEL_EXECUTE', uuid), from);
	assert.equal(executed.length, 0, 'the dialplan parked 9196: ' +
		executed.map((x) => x.Application).join(','));
	dialplan.wired = false;
	dialplan.reason = 'the dialplan engine is not wired in: an inbound call to 9196 went ' +
		'straight to CS_PARK (CHANNEL_PARK, no CHANNEL_EXECUTE)';
	t.diagnostic(`${dialplan.reason}; answering it with sendmsg answer + echo instead`);
	await execute(c, uuid, 'answer');
	await execute(c, uuid, 'echo');
	await ev.wait(is('CHANNEL_ANSWER', uuid), { from, ms: 5000, what: 'CHANNEL_ANSWER after sendmsg answer' });
}

async function mediaAddr(c, uuid) {
	const port = Number(await api(c, `uuid_getvar ${uuid} local_media_port`));
	assert.ok(port > 0, `no local_media_port on ${uuid}`);
	return { host: h.HOST, port };
}

/* Requests of `method` confab sent for `callId`, from the siptrace on its log. */
function sentRequests(server, method, callId) {
	const out = [];
	const re = /internal: send \d+ bytes to [^\n]*:\n([\s\S]*?)\n\n/g;
	for (const m of server.logText().replace(/\r\n/g, '\n').matchAll(re)) {
		const msg = m[1];
		if (msg.startsWith(`${method} `) && msg.includes(`\nCall-ID: ${callId}\n`))
			out.push(msg);
	}
	return out;
}

async function hangupComplete(ev, uuid, from, ms = 10000) {
	return ev.wait(is('CHANNEL_HANGUP_COMPLETE', uuid),
		{ from, ms, what: `CHANNEL_HANGUP_COMPLETE for ${uuid}` });
}

/*
 * hangup_cause_q850 as FreeSWITCH sets it (switch_channel_cause_q850): the
 * cause when it is a Q.850 value (up to 127, INTERWORKING), else 16.
 */
const CAUSE_NUM = { NORMAL_CLEARING: 16, USER_BUSY: 17, NO_ROUTE_DESTINATION: 3,
	ORIGINATOR_CANCEL: 487, MEDIA_TIMEOUT: 804 };
function q850(cause) {
	const n = CAUSE_NUM[cause];
	assert.ok(n !== undefined, `cause ${cause} not in the test's table`);
	return String(n <= 127 ? n : 16);
}

/* A phone on the media side of uac_media.xml / uac_info.xml. */
async function openPhone(t) {
	const phone = new RtpPhone();
	await phone.open();
	t.after(() => phone.close());
	return phone;
}

/* A uac_media.xml (or uac_info.xml) call from 1000 to `dest` with the phone's media. */
async function startMediaCall(t, server, phone, dest, { pt = 0, scenario = 'uac_media.xml', extra = [], timeoutS = 40, vars = {} } = {}) {
	return sippStart(t, { scenario, target: `${h.HOST}:${server.sipPort}`, user: dest,
		port: await h.freeUdpPort(), auth: AUTH,
		vars: { caller: '1000', rtp_port: phone.port, pt, ...vars }, timeoutS, extra });
}

/* Measures what the phone heard in the last `ms` (PCMU or PCMA). */
function heard(phone, pt, ms) {
	const s = phone.samples(pt, Date.now() - ms);
	return { n: s.length, level: rms(s), ...dominant(s, [697, 1000, 1400, 2000]) };
}

test('SIP calls into the dialplan', { skip: !sipp.available() && 'sipp not installed', timeout: 300000 },
	async (t) => {
		const server = await h.startServer();
		const target = `${h.HOST}:${server.sipPort}`;
		const c = await h.rawAuthed(server);
		const ev = await EventLog.open(server);
		t.after(async () => { await closeClient(ev.c); await closeClient(c); await server.stop(); });
		// Every SIP message on the log, to check what confab sent.
		assert.match(await api(c, 'sofia global siptrace on'), /^\+OK/);

		await t.test('a call to 9196 that the caller hangs up: recv_bye, NORMAL_CLEARING', T, async (t) => {
			const phone = await openPhone(t);
			const from = ev.mark();
			const run = sippStart(t, { scenario: 'uac_call.xml', target, user: '9196',
				port: await h.freeUdpPort(), auth: AUTH, vars: { caller: '1000' }, timeoutS: 30,
				extra: ['-d', '2000', '-mp', String(await h.freeUdpPort())] });
			const uuid = await inbound(ev, from, '9196');
			await echoTest(t, c, ev, uuid, from);
			// RTP into the call while it lasts (uac_call.xml has no media of its own).
			phone.remote = await mediaAddr(c, uuid);
			phone.startTone(1000);
			const r = await sippDone(run, 40000, 'uac_call.xml');
			phone.stopTone();
			sippOk(r);
			const hc = await hangupComplete(ev, uuid, from);
			assert.equal(hc['Hangup-Cause'], 'NORMAL_CLEARING');
			assert.equal(hc.variable_sip_hangup_disposition, 'recv_bye');
			assert.equal(hc['Caller-Destination-Number'], '9196');
			assert.equal(hc['Caller-Username'], '1000');
			assert.equal(hc.variable_sip_authorized, 'true');
			assert.equal(ev.all(is('CHANNEL_ANSWER', uuid), from).length, 1, 'answered once');
			// uac_call.xml also sends two INFO digits: 5 as dtmf-relay, # as dtmf.
			const digits = ev.all(is('DTMF', uuid), from);
			assert.deepEqual(digits.map((d) => [d['DTMF-Digit'], d['DTMF-Source']]),
				[['5', 'INFO'], ['#', 'INFO']]);
		});

		await t.test('the same call hung up by confab (uuid_kill): SIPp gets BYE, send_bye', T, async (t) => {
			const phone = await openPhone(t);
			const from = ev.mark();
			const run = await startMediaCall(t, server, phone, '9196');
			const uuid = await inbound(ev, from, '9196');
			await echoTest(t, c, ev, uuid, from);
			phone.remote = await mediaAddr(c, uuid);
			phone.startTone(1000);
			await h.sleep(500);
			assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
			const hc = await hangupComplete(ev, uuid, from);
			phone.stopTone();
			assert.equal(hc['Hangup-Cause'], 'NORMAL_CLEARING');
			assert.equal(hc.variable_sip_hangup_disposition, 'send_bye');
			sippOk(await sippDone(run, 15000, 'uac_media.xml (waiting for BYE)'));
			// docs/sip.md: the BYE carries Reason: Q.850;cause=N;text="CAUSE".
			const bye = sentRequests(server, 'BYE', hc.variable_sip_call_id);
			assert.equal(bye.length, 1, 'one BYE sent for the call');
			assert.match(bye[0], /^Reason: Q\.850;cause=16;text="NORMAL_CLEARING"$/m);
		});

		const echoCalls = [];
		for (const [pt, codec] of [[0, 'PCMU'], [8, 'PCMA']]) {
			await t.test(`9196 echoes the caller's own audio back, by frequency (${codec})`, T, async (t) => {
				const phone = await openPhone(t);
				const from = ev.mark();
				const run = await startMediaCall(t, server, phone, '9196', { pt });
				const uuid = await inbound(ev, from, '9196');
				await echoTest(t, c, ev, uuid, from);
				assert.equal(await api(c, `uuid_getvar ${uuid} rtp_use_codec_name`), codec);
				phone.remote = await mediaAddr(c, uuid);
				for (const freq of [1000, 1400]) {
					phone.startTone(freq, { pt });
					await h.sleep(1500);
					const a = heard(phone, pt, 800);
					assert.ok(a.n >= 20 * 160, `audio came back at ${freq} Hz: ${a.n} samples`);
					assert.equal(a.freq, freq, `the phone hears its own ${freq} Hz`);
					assert.ok(a.ratio > 20, `clean ${freq} Hz (ratio ${a.ratio.toFixed(1)})`);
					assert.ok(a.level > 1000, `at a useful level (rms ${a.level.toFixed(0)})`);
				}
				phone.stopTone();
				// Nothing sent, nothing echoed (the echo is not a tone generator).
				await h.sleep(600);
				const quiet = phone.samples(pt, Date.now() - 300);
				assert.ok(quiet.length === 0 || rms(quiet) < 200,
					`silence after the phone stopped (rms ${rms(quiet).toFixed(0)})`);
				assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
				sippOk(await sippDone(run, 15000, 'uac_media.xml'));
				echoCalls.push({ uuid, from });
			});
		}

		await t.test('CANCEL while the call waits: ORIGINATOR_CANCEL, recv_cancel', T, async (t) => {
			const from = ev.mark();
			const run = sippStart(t, { scenario: 'uac_cancel.xml', target, user: '9664',
				port: await h.freeUdpPort(), auth: AUTH, vars: { caller: '1000' }, timeoutS: 20,
				extra: ['-d', '1000', '-mp', String(await h.freeUdpPort())] });
			const uuid = await inbound(ev, from, '9664');
			await ev.wait(is('CHANNEL_PARK', uuid), { from, what: 'CHANNEL_PARK for 9664' });
			const r = await sippDone(run, 30000, 'uac_cancel.xml');
			sippOk(r); // 200 for the CANCEL, 487 for the INVITE
			const hc = await hangupComplete(ev, uuid, from);
			assert.equal(hc['Hangup-Cause'], 'ORIGINATOR_CANCEL');
			assert.equal(hc.variable_sip_hangup_disposition, 'recv_cancel');
			assert.equal(ev.all(is('CHANNEL_ANSWER', uuid), from).length, 0, 'never answered');
		});

		await t.test('hold and unhold by re-INVITE: CHANNEL_HOLD, CHANNEL_UNHOLD', T, async (t) => {
			const from = ev.mark();
			const run = sippStart(t, { scenario: 'uac_hold.xml', target, user: '9196',
				port: await h.freeUdpPort(), auth: AUTH, vars: { caller: '1000' }, timeoutS: 30,
				extra: ['-d', '1000', '-mp', String(await h.freeUdpPort())] });
			const uuid = await inbound(ev, from, '9196');
			await echoTest(t, c, ev, uuid, from);
			const hold = await ev.wait(is('CHANNEL_HOLD', uuid), { from, what: 'CHANNEL_HOLD' });
			const unhold = await ev.wait(is('CHANNEL_UNHOLD', uuid), { from, what: 'CHANNEL_UNHOLD' });
			assert.ok(unhold.at >= hold.at);
			const states = ev.all(is('CHANNEL_CALLSTATE', uuid), from).map((e) => e['Channel-Call-State']);
			const held = states.indexOf('HELD');
			assert.ok(held >= 0, `call state HELD while on hold: ${states}`);
			assert.equal(states[held + 1], 'ACTIVE', `ACTIVE again after unhold: ${states}`);
			// uac_hold.xml checks the answers itself: a=recvonly to the hold, a=sendrecv after.
			sippOk(await sippDone(run, 40000, 'uac_hold.xml'));
			const hc = await hangupComplete(ev, uuid, from);
			assert.equal(hc['Hangup-Cause'], 'NORMAL_CLEARING');
			assert.equal(hc.variable_sip_hangup_disposition, 'recv_bye');
			assert.equal(ev.all(is('CHANNEL_HOLD', uuid), from).length, 1, 'one CHANNEL_HOLD');
			assert.equal(ev.all(is('CHANNEL_UNHOLD', uuid), from).length, 1, 'one CHANNEL_UNHOLD');
		});

		await t.test('while held confab sends nothing; after unhold the echo resumes', T, async (t) => {
			const phone = await openPhone(t);
			const from = ev.mark();
			const run = await startMediaCall(t, server, phone, '9196',
				{ scenario: 'uac_hold_media.xml', vars: { hold_dir: 'sendonly' }, extra: ['-d', '1500'] });
			const uuid = await inbound(ev, from, '9196');
			await echoTest(t, c, ev, uuid, from);
			phone.remote = await mediaAddr(c, uuid);
			phone.startTone(1000); // the phone keeps sending while it holds (music on hold)
			const hold = await ev.wait(is('CHANNEL_HOLD', uuid), { from, ms: 10000, what: 'CHANNEL_HOLD' });
			const unhold = await ev.wait(is('CHANNEL_UNHOLD', uuid), { from, ms: 10000, what: 'CHANNEL_UNHOLD' });
			await h.sleep(1200);
			phone.stopTone();
			sippOk(await sippDone(run, 20000, 'uac_hold_media.xml')); // a=recvonly, then a=sendrecv
			const hc = await hangupComplete(ev, uuid, from);
			assert.equal(hc.variable_sip_hangup_disposition, 'recv_bye');

			const pk = phone.packets.filter((p) => p.pt === 0);
			const tone = (a, b) => {
				const s = [];
				for (const p of pk.filter((x) => x.at >= a && x.at < b))
					for (const v of p.payload) s.push(ulawDecode(v));
				return { n: s.length, ...dominant(s, [697, 1000, 1400, 2000]) };
			};
			const before = tone(hold.at - 800, hold.at - 50);
			assert.ok(before.n >= 20 * 160 && before.freq === 1000 && before.ratio > 20,
				`the echo before the hold: ${JSON.stringify(before)}`);
			const during = pk.filter((p) => p.at > hold.at + 200 && p.at < unhold.at - 50);
			assert.equal(during.length, 0, `no audio from confab while held (${unhold.at - hold.at} ms)`);
			const after = tone(unhold.at + 300, unhold.at + 1100);
			assert.ok(after.n >= 20 * 160 && after.freq === 1000 && after.ratio > 20,
				`the echo again after the unhold: ${JSON.stringify(after)}`);
			// docs/media.md: sequence numbers continue, and the first packet after the gap is marked.
			const gapEnd = pk.findIndex((p) => p.at > unhold.at - 50);
			assert.ok(gapEnd > 0, 'packets on both sides of the gap');
			const last = pk[gapEnd - 1], first = pk[gapEnd];
			assert.ok(first.at - last.at >= 1000, `a gap of ${first.at - last.at} ms`);
			assert.equal(first.seq, (last.seq + 1) & 0xffff, 'sequence numbers continue');
			assert.equal(first.marker, true, 'marker bit on the first packet after the gap');
			assert.equal(first.ssrc, last.ssrc, 'same SSRC');
		});

		await t.test('DTMF by SIP INFO: dtmf-relay and dtmf give DTMF events from INFO; bad ones 400/415',
			T, async (t) => {
				const phone = await openPhone(t);
				const from = ev.mark();
				const run = await startMediaCall(t, server, phone, '9196',
					{ scenario: 'uac_info.xml', extra: ['-d', '500'] });
				const uuid = await inbound(ev, from, '9196');
				await echoTest(t, c, ev, uuid, from);
				const r = await sippDone(run, 40000, 'uac_info.xml');
				sippOk(r); // 200, 200, 200, then 400 for no Signal, 415 for text/plain
				await hangupComplete(ev, uuid, from);
				const got = ev.all(is('DTMF', uuid), from)
					.map((d) => [d['DTMF-Digit'], d['DTMF-Source'], d['DTMF-Duration']]);
				assert.equal(got.length, 3, `three digits: ${JSON.stringify(got)}`);
				// Duration=160 ms is reported in samples at 8 kHz, as FreeSWITCH does.
				assert.deepEqual(got[0], ['5', 'INFO', '1280']);
				// application/dtmf carries no duration: FreeSWITCH's default, 2000 samples (250 ms).
				assert.deepEqual(got[1], ['9', 'INFO', '2000']);
				assert.deepEqual(got[2], ['#', 'INFO', '2000']);
			});

		await t.test('DTMF by RFC 4733: DTMF events from RTP', T, async (t) => {
			const phone = await openPhone(t);
			const from = ev.mark();
			const run = await startMediaCall(t, server, phone, '9196');
			const uuid = await inbound(ev, from, '9196');
			await echoTest(t, c, ev, uuid, from);
			phone.remote = await mediaAddr(c, uuid);
			phone.startTone(0);           // a stream (silence) first, as a phone has
			await h.sleep(400);
			phone.stopTone();
			await phone.sendDigit('7', { ms: 100 });
			await phone.sendDigit('*', { ms: 100 });
			await ev.wait((e) => is('DTMF', uuid)(e) && e['DTMF-Digit'] === '*',
				{ from, ms: 5000, what: 'DTMF * from RTP' });
			const got = ev.all(is('DTMF', uuid), from)
				.map((d) => [d['DTMF-Digit'], d['DTMF-Source'], d['DTMF-Duration']]);
			// 100 ms of events: duration 800 (samples), each digit once despite 3 end packets.
			assert.deepEqual(got, [['7', 'RTP', '800'], ['*', 'RTP', '800']]);
			assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
			sippOk(await sippDone(run, 15000, 'uac_media.xml'));
		});

		await t.test('a number no extension matches: 404 and NO_ROUTE_DESTINATION', T, async (t) => {
			if (dialplan.wired === false) {
				t.skip(dialplan.reason);
				return;
			}
			const from = ev.mark();
			const run = sippStart(t, { scenario: 'uac_noroute.xml', target, user: '5555',
				port: await h.freeUdpPort(), auth: AUTH, vars: { caller: '1000' }, timeoutS: 15,
				extra: ['-mp', String(await h.freeUdpPort())] });
			const uuid = await inbound(ev, from, '5555');
			const e = await ev.wait((x) => x['Unique-ID'] === uuid &&
				['CHANNEL_HANGUP_COMPLETE', 'CHANNEL_PARK'].includes(x['Event-Name']),
			{ from, ms: 8000, what: 'the call to 5555 to end (or park)' });
			if (e['Event-Name'] === 'CHANNEL_PARK' && !ev.all(is('CHANNEL_EXECUTE', uuid), from).length) {
				t.skip('the dialplan engine is not wired in: the call to 5555 went straight to ' +
					'CS_PARK (CHANNEL_PARK, no CHANNEL_EXECUTE)');
				await api(c, `uuid_kill ${uuid}`);
				await sippDone(run, 25000, 'uac_noroute.xml');
				return;
			}
			const hc = e['Event-Name'] === 'CHANNEL_HANGUP_COMPLETE' ? e :
				await hangupComplete(ev, uuid, from);
			assert.equal(hc['Hangup-Cause'], 'NO_ROUTE_DESTINATION');
			assert.equal(hc.variable_sip_hangup_disposition, 'send_refuse');
			sippOk(await sippDone(run, 25000, 'uac_noroute.xml')); // it got the 404
		});

		await t.test('hangup_cause_q850 is 16 for causes above 127, as in FreeSWITCH', T, () => {
			const ends = ev.all(is('CHANNEL_HANGUP_COMPLETE'));
			assert.ok(ends.some((e) => e['Hangup-Cause'] === 'ORIGINATOR_CANCEL'), 'the CANCEL case ran');
			const wrong = ends.filter((e) => e.variable_hangup_cause_q850 !== q850(e['Hangup-Cause']))
				.map((e) => `${e['Hangup-Cause']}: hangup_cause_q850=${e.variable_hangup_cause_q850}, ` +
					`FreeSWITCH sets ${q850(e['Hangup-Cause'])}`);
			assert.deepEqual([...new Set(wrong)], []);
		});

		await t.test('RTP counters (docs/media.md) are on the hangup event', T, () => {
			assert.ok(echoCalls.length, 'the echo calls ran');
			for (const { uuid, from } of echoCalls) {
				const hc = ev.all(is('CHANNEL_HANGUP_COMPLETE', uuid), from)[0];
				const inPk = Number(hc.variable_rtp_audio_in_packet_count);
				const outPk = Number(hc.variable_rtp_audio_out_packet_count);
				// About 3 s of 20 ms packets each way.
				assert.ok(inPk >= 100, `rtp_audio_in_packet_count=${hc.variable_rtp_audio_in_packet_count}`);
				assert.ok(outPk >= 100, `rtp_audio_out_packet_count=${hc.variable_rtp_audio_out_packet_count}`);
			}
		});
	});

test('media timeout hangs up a call whose RTP stops', { skip: !sipp.available() && 'sipp not installed',
	timeout: 120000 }, async (t) => {
	const TIMEOUT_MS = 1500;
	const server = await h.startServer({ switch: { 'media-timeout': String(TIMEOUT_MS) } });
	const c = await h.rawAuthed(server);
	const ev = await EventLog.open(server);
	t.after(async () => { await closeClient(ev.c); await closeClient(c); await server.stop(); });
	let timedOut = null;

	await t.test(`media-timeout ${TIMEOUT_MS} ms: MEDIA_TIMEOUT after the phone goes quiet`, T, async (t) => {
		const phone = await openPhone(t);
		const from = ev.mark();
		const run = await startMediaCall(t, server, phone, '9196');
		const uuid = await inbound(ev, from, '9196');
		await echoTest(t, c, ev, uuid, from);
		phone.remote = await mediaAddr(c, uuid);
		phone.startTone(1000);
		// Longer than the timeout with RTP flowing: the call stays up.
		await h.sleep(TIMEOUT_MS * 2);
		assert.equal(ev.all(is('CHANNEL_HANGUP', uuid), from).length, 0,
			'no hangup while RTP flows');
		assert.equal(await api(c, `uuid_exists ${uuid}`), 'true');
		phone.stopTone();
		const stopped = Date.now();
		const hc = await hangupComplete(ev, uuid, from, TIMEOUT_MS + 5000);
		const hup = ev.all(is('CHANNEL_HANGUP', uuid), from)[0];
		const after = hup.at - stopped;
		assert.equal(hc['Hangup-Cause'], 'MEDIA_TIMEOUT');
		assert.equal(hc.variable_sip_hangup_disposition, 'send_bye');
		assert.ok(after >= TIMEOUT_MS - 200, `not before the timeout: ${after} ms after the last packet`);
		assert.ok(after <= TIMEOUT_MS + 1500, `soon after the timeout: ${after} ms after the last packet`);
		sippOk(await sippDone(run, 15000, 'uac_media.xml (waiting for BYE)'));
		timedOut = hc;
	});

	/*
	 * docs/media.md: a phone holding with a=inactive sends nothing by definition
	 * and is not timed out. The phone goes silent for 2.5 s (longer than the
	 * timeout) while held, then unholds and talks again. (A silent a=sendonly hold
	 * is timed out, as in FreeSWITCH: sendonly announces that it keeps sending.)
	 */
	for (const dir of ['inactive']) {
		await t.test(`a call held with a=${dir} (phone silent) is not timed out`, T, async (t) => {
			const phone = await openPhone(t);
			const from = ev.mark();
			const run = await startMediaCall(t, server, phone, '9196',
				{ scenario: 'uac_hold_media.xml', vars: { hold_dir: dir }, extra: ['-d', '1000'] });
			const uuid = await inbound(ev, from, '9196');
			await echoTest(t, c, ev, uuid, from);
			phone.remote = await mediaAddr(c, uuid);
			phone.startTone(1000);
			const hold = await ev.wait(is('CHANNEL_HOLD', uuid), { from, ms: 10000, what: 'CHANNEL_HOLD' });
			phone.stopTone();
			const next = await ev.wait((e) => e['Unique-ID'] === uuid &&
				['CHANNEL_UNHOLD', 'CHANNEL_HANGUP'].includes(e['Event-Name']),
			{ from, ms: 10000, what: 'CHANNEL_UNHOLD' });
			phone.startTone(1000);
			assert.equal(next['Event-Name'], 'CHANNEL_UNHOLD', `the call held with a=${dir} was hung ` +
				`up with ${next['Hangup-Cause']} ${next.at - hold.at} ms after CHANNEL_HOLD (phone silent since)`);
			const r = await sippDone(run, 20000, 'uac_hold_media.xml');
			phone.stopTone();
			const hc = await hangupComplete(ev, uuid, from);
			assert.equal(hc['Hangup-Cause'], 'NORMAL_CLEARING', 'the caller hung up, not the media timeout');
			assert.equal(hc.variable_sip_hangup_disposition, 'recv_bye');
			sippOk(r);
		});
	}

	await t.test('hangup_cause_q850 for MEDIA_TIMEOUT is 16, as in FreeSWITCH', T, () => {
		assert.ok(timedOut, 'the media timeout case ran');
		assert.equal(timedOut.variable_hangup_cause_q850, q850('MEDIA_TIMEOUT'));
	});
});

test('a real softphone: baresip', { skip: baresipUnavailable() || false, timeout: 180000 }, async (t) => {
	const server = await h.startServer();
	const target = `${h.HOST}:${server.sipPort}`;
	const c = await h.rawAuthed(server);
	const ev = await EventLog.open(server);
	const phone = new Baresip({ user: '1005', password: '1234', registrar: target, toneHz: 1000 });
	t.after(async () => {
		await phone.stop();
		await closeClient(ev.c);
		await closeClient(c);
		await server.stop();
	});

	await t.test('it registers as 1005 (sofia::register, show registrations)', T, async () => {
		const from = ev.mark();
		await phone.start();
		const reg = await ev.wait((e) => e['Event-Name'] === 'CUSTOM' &&
			e['Event-Subclass'] === 'sofia::register' && e['from-user'] === '1005',
		{ from, ms: 10000, what: 'sofia::register from baresip' });
		assert.equal(reg['network-ip'], h.HOST);
		assert.equal(reg['network-port'], String(phone.sipPort));
		assert.match(reg['user-agent'], /baresip/);
		assert.match(await api(c, 'show registrations'), /^1005,/m);
		// reginfo colours its status with ANSI escapes.
		assert.match((await phone.command('reginfo')).data.replace(/\x1b\[[0-9;]*m/g, ''),
			/sip:1005@127\.0\.0\.1:\d+\s+OK /);
	});

	await t.test('it calls 9196: answered, RTP both ways, hung up by the phone', T, async (t) => {
		const from = ev.mark();
		const bfrom = phone.events.length;
		const dial = await phone.command('dial', `sip:9196@${target}`);
		assert.equal(dial.ok, true, JSON.stringify(dial));
		const uuid = await inbound(ev, from, '9196');
		await echoTest(t, c, ev, uuid, from);
		const cr = ev.all(is('CHANNEL_CREATE', uuid), from)[0];
		assert.equal(cr['Caller-Username'], '1005');
		await phone.waitEvent('CALL_ESTABLISHED', { from: bfrom, ms: 8000 });
		// baresip reports RTP arriving from confab (its own sine, echoed).
		await phone.waitEvent('CALL_RTPESTAB', { from: bfrom, ms: 8000 });
		assert.equal(await api(c, `uuid_getvar ${uuid} rtp_use_codec_name`), 'PCMU');
		assert.equal(await api(c, `uuid_getvar ${uuid} remote_media_ip`), h.HOST);

		await phone.command('hangup');
		await phone.waitEvent('CALL_CLOSED', { from: bfrom, ms: 8000 });
		const hc = await hangupComplete(ev, uuid, from);
		assert.equal(hc['Hangup-Cause'], 'NORMAL_CLEARING');
		assert.equal(hc.variable_sip_hangup_disposition, 'recv_bye');
	});

	await t.test('bridged to a test phone: each hears the other, checked at the test phone', T, async (t) => {
		if (!sipp.available()) {
			t.skip('sipp not installed');
			return;
		}
		// The test phone: SIPp as registered user 1002 that answers with rtp.js media.
		const tp = await openPhone(t);
		const sipB = await h.freeUdpPort();
		sippOk(await sipp.run({ scenario: 'register.xml', target, port: sipB, user: '1002',
			auth: { user: '1002', password: '1234' }, vars: { expires: 300 }, timeoutS: 10 }));
		const uasB = sippStart(t, { scenario: 'uas_media.xml', target, port: sipB,
			vars: { rtp_port: tp.port, pt: 0 }, timeoutS: 40 });
		const ob = await api(c, 'originate user/1002 &park()');
		assert.match(ob, /^\+OK [0-9a-f-]{36}\n$/);
		const uuidB = ob.slice(4, 40);

		// baresip calls 9664 (parked), then the two legs are bridged.
		const from = ev.mark();
		const bfrom = phone.events.length;
		assert.equal((await phone.command('dial', `sip:9664@${target}`)).ok, true);
		const uuidA = await inbound(ev, from, '9664');
		await ev.wait(is('CHANNEL_PARK', uuidA), { from, what: 'CHANNEL_PARK for 9664' });
		assert.equal(await api(c, `uuid_bridge ${uuidA} ${uuidB}`), `+OK ${uuidB}\n`);
		await phone.waitEvent('CALL_ESTABLISHED', { from: bfrom, ms: 8000 });
		tp.remote = await mediaAddr(c, uuidB);
		tp.startTone(1400);
		await phone.waitEvent('CALL_RTPESTAB', { from: bfrom, ms: 8000 });
		await h.sleep(1500);
		const a = heard(tp, 0, 800);
		tp.stopTone();
		assert.ok(a.n >= 20 * 160, `baresip's audio reached the test phone: ${a.n} samples`);
		assert.equal(a.freq, 1000, "the test phone hears baresip's 1000 Hz sine, not its own 1400 Hz");
		assert.ok(a.ratio > 10 && a.level > 500, `clean and loud enough: ${JSON.stringify(a)}`);

		await phone.command('hangup');
		await phone.waitEvent('CALL_CLOSED', { from: bfrom, ms: 8000 });
		const hc = await hangupComplete(ev, uuidA, from);
		assert.equal(hc.variable_sip_hangup_disposition, 'recv_bye');
		await hangupComplete(ev, uuidB, 0);
		sippOk(await sippDone(uasB, 15000, 'uas_media.xml (waiting for BYE)'));
	});

	await t.test('on quit it unregisters (sofia::unregister)', T, async () => {
		if (!phone.proc || phone.exit) {
			assert.fail('baresip is not running');
		}
		const from = ev.mark();
		await phone.stop();
		await ev.wait((e) => e['Event-Name'] === 'CUSTOM' && e['Event-Subclass'] === 'sofia::unregister' &&
			e['from-user'] === '1005', { from, ms: 8000, what: 'sofia::unregister when baresip quits' });
		assert.doesNotMatch(await api(c, 'show registrations'), /^1005,/m);
	});
});
