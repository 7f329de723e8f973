'use strict';
/*
 * sip_calls.test.js - real SIP calls through confabd, driven by SIPp for the
 * signalling and by test phones (rtp.js) for the media: registration, calls in
 * and out with their causes, a bridge whose audio is checked by content in
 * both directions (and not echoed), PCMU<->PCMA transcoding, and RFC 4733 DTMF.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');
const sipp = require('./sipp');
const { RtpPhone, dominant, rms } = require('./rtp');

const T = { timeout: 60000 };

async function api(c, cmd) {
	const f = await c.cmd(`api ${cmd}`, { timeoutMs: 20000 });
	return f.body;
}

/* The first channel for which pick(row) is true, polled for up to ms. */
async function waitChannel(c, pick, ms = 8000) {
	const deadline = Date.now() + ms;
	while (Date.now() < deadline) {
		const j = JSON.parse(await api(c, 'show channels as json'));
		const row = (j.rows || []).find(pick);
		if (row)
			return row;
		await h.sleep(100);
	}
	throw new Error('channel did not appear');
}

function register(server, user, port) {
	return sipp.run({ scenario: 'register.xml', target: `${h.HOST}:${server.sipPort}`, port,
		user, auth: { user, password: '1234' }, vars: { expires: 300 }, timeoutS: 10 });
}

async function mediaAddr(c, uuid) {
	const port = Number(await api(c, `uuid_getvar ${uuid} local_media_port`));
	assert.ok(port > 0, `no local_media_port on ${uuid}`);
	return { host: h.HOST, port };
}

test('SIP calls', { skip: !sipp.available() && 'sipp not installed', timeout: 120000 },
	async (t) => {
		const server = await h.startServer();
		const target = `${h.HOST}:${server.sipPort}`;
		const c = await h.rawAuthed(server);
		t.after(async () => { c.destroy(); await server.stop(); });

		await t.test('REGISTER with digest auth; a wrong password gets 403', T, async () => {
			const port = await h.freeUdpPort();
			const r = await register(server, '1001', port);
			assert.equal(r.code, 0, r.err + r.out);
			assert.match(await api(c, 'show registrations'), /^1001,/m);
			const bad = await sipp.run({ scenario: 'register_badpw.xml', target,
				port: await h.freeUdpPort(), user: '1001',
				auth: { user: '1001', password: 'wrong' }, vars: { expires: 300 },
				timeoutS: 10 });
			assert.equal(bad.code, 0, bad.err + bad.out);
		});

		await t.test('originate to a user that is not registered', T, async () => {
			assert.equal(await api(c, 'originate user/1017 &park()'),
				'-ERR USER_NOT_REGISTERED\n');
			assert.equal(await api(c, 'originate user/4711 &park()'),
				'-ERR SUBSCRIBER_ABSENT\n');
		});

		await t.test('originate to a busy phone and to one that never answers', T, async () => {
			let port = await h.freeUdpPort();
			assert.equal((await register(server, '1003', port)).code, 0);
			let uas = sipp.start({ scenario: 'uas_busy.xml', target, port, timeoutS: 15 });
			assert.equal(await api(c, 'originate user/1003 &park()'), '-ERR USER_BUSY\n');
			assert.equal((await uas.done).code, 0);

			port = await h.freeUdpPort();
			assert.equal((await register(server, '1004', port)).code, 0);
			uas = sipp.start({ scenario: 'uas_noanswer.xml', target, port, timeoutS: 15 });
			const t0 = Date.now();
			assert.equal(await api(c, 'originate {originate_timeout=2}user/1004 &park()'),
				'-ERR NO_ANSWER\n');
			assert.ok(Date.now() - t0 >= 1800, 'NO_ANSWER only after the timeout');
			await uas.done;
		});

		await t.test('a bridge carries audio both ways, by content, with DTMF', T, async () => {
			const phoneA = new RtpPhone(), phoneB = new RtpPhone();
			const portA = await phoneA.open(), portB = await phoneB.open();
			t.after(() => { phoneA.close(); phoneB.close(); });
			const sipB = await h.freeUdpPort();
			assert.equal((await register(server, '1002', sipB)).code, 0);
			const uasB = sipp.start({ scenario: 'uas_media.xml', target, port: sipB,
				vars: { rtp_port: portB, pt: 8 }, timeoutS: 40 });
			const ob = await api(c, 'originate user/1002 &park()');
			assert.match(ob, /^\+OK [0-9a-f-]{36}\n$/);
			const uuidB = ob.slice(4, 40);

			const uacA = sipp.start({ scenario: 'uac_media.xml', target, user: '9664',
				port: await h.freeUdpPort(), auth: { user: '1000', password: '1234' },
				vars: { caller: '1000', rtp_port: portA, pt: 0 }, timeoutS: 40 });
			const rowA = await waitChannel(c, (r) => r.direction === 'inbound' &&
				r.dest === '9664');
			assert.equal(await api(c, `uuid_bridge ${rowA.uuid} ${uuidB}`), `+OK ${uuidB}\n`);

			phoneA.remote = await mediaAddr(c, rowA.uuid);
			phoneB.remote = await mediaAddr(c, uuidB);
			await c.cmd(`event plain DTMF`);
			phoneA.startTone(1000, { pt: 0 });
			phoneB.startTone(1400, { pt: 8 });
			await h.sleep(1500);
			const since = Date.now() - 800;
			const atB = phoneB.samples(8, since), atA = phoneA.samples(0, since);
			const freqs = [1000, 1400];
			assert.ok(atB.length >= 8 * 160 && atA.length >= 8 * 160, 'audio arrived');
			const db = dominant(atB, freqs), da = dominant(atA, freqs);
			assert.equal(db.freq, 1000, 'B hears A (PCMU in, PCMA out)');
			assert.equal(da.freq, 1400, 'A hears B (PCMA in, PCMU out)');
			assert.ok(db.ratio > 20 && da.ratio > 20, 'each hears the other, not itself');
			assert.ok(rms(atB) > 1000 && rms(atA) > 1000, 'at a useful level');
			phoneA.stopTone();
			phoneB.stopTone();

			await phoneA.sendDigit('5');
			const f = await c.readFrameOfType('text/event-plain', 5000);
			assert.match(f.body, /DTMF-Digit: 5/);
			await h.sleep(600);
			assert.match(phoneB.digits(), /5/, 'the digit is relayed to the other leg');

			assert.equal(await api(c, `uuid_kill ${rowA.uuid}`), '+OK\n');
			const [ra, rb] = await Promise.all([uacA.done, uasB.done]);
			assert.equal(ra.code, 0, ra.err + ra.out);
			assert.equal(rb.code, 0, rb.err + rb.out);
		});
	});

test('accept-blind-auth: any credentials register', { skip: !sipp.available() && 'sipp not installed',
	timeout: 60000 }, async (t) => {
	const fs = require('node:fs');
	const path = require('node:path');
	const server = await h.startServer({
		edit(conf) {
			const f = path.join(conf, 'autoload_configs', 'sofia.conf.xml');
			fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace(
				'<param name="accept-blind-reg" value="false"/>',
				'<param name="accept-blind-auth" value="true"/>'));
		},
	});
	const target = `${h.HOST}:${server.sipPort}`;
	const c = await h.rawAuthed(server);
	t.after(async () => { c.destroy(); await server.stop(); });
	/* a directory user with a wrong password, and a user the directory lacks */
	for (const user of ['1001', '4711']) {
		const r = await sipp.run({ scenario: 'register.xml', target, port: await h.freeUdpPort(),
			user, auth: { user, password: 'wrong' }, vars: { expires: 300 }, timeoutS: 10 });
		assert.equal(r.code, 0, r.err + r.out);
		assert.match(await api(c, 'show registrations'), new RegExp(`^${user},`, 'm'));
	}
});
