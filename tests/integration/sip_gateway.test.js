'use strict';
/*
 * sip_gateway.test.js - a gateway in the external profile registering to a
 * provider (SIPp as registrar, sipp/uas_registrar.xml): the digest challenge
 * answered, the short grant renewed at once, sofia::gateway_state, `sofia
 * status` and `sofia status gateway`, then `originate sofia/gateway/<gw>/<n>`
 * through it (the 401 answered with the gateway's credentials, From the account).
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');
const sipp = require('./sipp');
const { api, EventLog, closeClient, sippStart, sippDone, sippOk } = require('./siptest');

const T = { timeout: 60000 };
const GW = 'prov';

/* Requests of `method` the external profile sent, from the siptrace on the log. */
function sent(server, method) {
	const re = new RegExp(`external: send \\d+ bytes to [^\\n]*:\\n(${method} [^\\n]*\\n[\\s\\S]*?)\\n\\n`, 'g');
	return [...server.logText().replace(/\r\n/g, '\n').matchAll(re)].map((m) => m[1]);
}
const sentRegisters = (server) => sent(server, 'REGISTER').filter((r) => /\nTo: <sip:joeuser@/.test(r));

test('a registering gateway and a call through it', { skip: !sipp.available() && 'sipp not installed',
	timeout: 120000 }, async (t) => {
	const provPort = await h.freeUdpPort(), badPort = await h.freeUdpPort();
	const server = await h.startServer({
		edit(conf) {
			const f = path.join(conf, 'autoload_configs', 'sofia.conf.xml');
			const xml = fs.readFileSync(f, 'utf8');
			const gw = `<gateway name="${GW}">
          <param name="username" value="joeuser"/>
          <param name="password" value="s3cret"/>
          <param name="realm" value="gw.test"/>
          <param name="proxy" value="${h.HOST}:${provPort}"/>
          <param name="register" value="true"/>
          <param name="expire-seconds" value="600"/>
          <param name="from-domain" value="gw.test"/>
          <param name="extension" value="4000"/>
        </gateway>
        <gateway name="wrongpw">
          <param name="username" value="baduser"/>
          <param name="password" value="not-it"/>
          <param name="realm" value="gw.test"/>
          <param name="proxy" value="${h.HOST}:${badPort}"/>
        </gateway>`;
			const i = xml.indexOf('<profile name="external">');
			const j = xml.indexOf('<gateways>', i) + '<gateways>'.length;
			let out = xml.slice(0, j) + gw + xml.slice(j);
			// Every message of the external profile on the log, to check what was sent.
			const k = out.indexOf('<settings>', i) + '<settings>'.length;
			out = out.slice(0, k) + '\n        <param name="sip-trace" value="true"/>' + out.slice(k);
			fs.writeFileSync(f, out);
		},
	});
	const c = await h.rawAuthed(server);
	const ev = await EventLog.open(server);
	t.after(async () => { await closeClient(ev.c); await closeClient(c); await server.stop(); });

	const prov = sippStart(t, { scenario: 'uas_registrar.xml', port: provPort, calls: 2,
		vars: { user: 'joeuser', pass: 's3cret' }, timeoutS: 40 });
	// A provider that never accepts this gateway's password (killed at the end).
	sippStart(t, { scenario: 'uas_registrar.xml', port: badPort, calls: 1,
		vars: { user: 'baduser', pass: 'the-real-one' }, timeoutS: 60 });

	await t.test('it registers with the digest and renews the short grant', T, async () => {
		const reged = await ev.wait((e) => e['Event-Subclass'] === 'sofia::gateway_state' &&
			e.Gateway === GW && e.State === 'REGED', { ms: 20000, what: 'gateway REGED' });
		assert.equal(reged['Ping-Status'], 'UP');
		assert.equal(reged.Status, '200');
		// Challenged, answered, then renewed well before the 2 s grant runs out.
		const deadline = Date.now() + 10000;
		let regs = sentRegisters(server);
		while (regs.filter((r) => /\nAuthorization: Digest /.test(r)).length < 2 &&
			Date.now() < deadline) {
			await h.sleep(200);
			regs = sentRegisters(server);
		}
		const authed = regs.filter((r) => /\nAuthorization: Digest /.test(r));
		assert.ok(regs.length >= 3, `REGISTERs sent: ${regs.length}`);
		assert.ok(!/\nAuthorization:/.test(regs[0]), 'the first REGISTER has no credentials');
		assert.ok(authed.length >= 2, 'a re-registration with credentials followed');
		assert.match(authed[0], /username="joeuser"/);
		assert.match(authed[0], /realm="gw.test"/);
		assert.match(regs[0], /^REGISTER sip:127\.0\.0\.1:\d+ SIP\/2\.0/);
		assert.match(regs[0], /\nFrom: [^\n]*<sip:joeuser@gw\.test>/);
		assert.match(regs[0], /\nContact: <sip:4000@127\.0\.0\.1:\d+>;expires=600\n/);
	});

	await t.test('a wrong password: the gateway is not registered, and says so', T, async () => {
		// The refusal can come before this client has subscribed (the gateway
		// registers as the server starts), so the state is read from the API;
		// sofia::gateway_state itself is checked on the REGED event above.
		let gw = '';
		const deadline = Date.now() + 20000;
		while (!/^State   \t(FAILED|FAIL_WAIT)$/m.test(gw) && Date.now() < deadline) {
			gw = await api(c, 'sofia status gateway wrongpw');
			await h.sleep(200);
		}
		assert.match(gw, /^State   \t(FAILED|FAIL_WAIT)$/m);
		assert.ok(gw.split('\n').includes('Status  \tDOWN'), gw);
		assert.match(await api(c, 'sofia status'), /external::wrongpw\tgateway\t\s+sip:baduser@gw\.test\t(FAILED|FAIL_WAIT)\n/);
		for (const e of ev.all((x) => x['Event-Subclass'] === 'sofia::gateway_state' && x.Gateway === 'wrongpw')) {
			assert.ok(['TRYING', 'FAILED', 'FAIL_WAIT'].includes(e.State), e.State);
			assert.equal(e['Ping-Status'], 'DOWN');
		}
	});

	await t.test('sofia status and sofia status gateway show it REGED', T, async () => {
		const all = await api(c, 'sofia status');
		const row = all.split('\n').find((l) => l.includes(`external::${GW}`));
		assert.ok(row, all);
		assert.match(row, /^\s+external::prov\tgateway\t\s+sip:joeuser@gw\.test\tREGED$/);
		assert.match(all, /^\s+internal\tprofile\t\s+sip:mod_sofia@127\.0\.0\.1:\d+\tRUNNING \(0\)$/m);
		assert.match(all, /\n2 profiles 0 aliases\n$/);
		const gw = await api(c, `sofia status gateway ${GW}`);
		for (const l of ['Name    \tprov', 'Profile \texternal', 'Scheme  \tDigest',
			'Realm   \tgw.test', 'Username\tjoeuser', 'Password\tyes',
			'From    \t<sip:joeuser@gw.test>', 'Exten   \t4000',
			`Proxy   \tsip:${h.HOST}:${provPort}`, 'Expires \t600', 'Status  \tUP',
			'State   \tREGED'])
			assert.ok(gw.split('\n').includes(l), `missing [${l}] in\n${gw}`);
		assert.match(await api(c, 'sofia status gateway nope'), /^Invalid Gateway!?\n?$|^-ERR/);
	});

	await t.test('originate sofia/gateway/prov/5551000 answers with the credentials', T, async () => {
		const from = ev.mark();
		const r = await api(c, `originate sofia/gateway/${GW}/5551000 &park()`);
		assert.match(r, /^\+OK [0-9a-f-]{36}\n$/);
		const uuid = r.slice(4).trim();
		const ans = await ev.wait((e) => e['Event-Name'] === 'CHANNEL_ANSWER' &&
			e['Unique-ID'] === uuid, { from, what: 'CHANNEL_ANSWER of the gateway leg' });
		assert.equal(ans['Channel-Name'], `sofia/gateway/${GW}/5551000`);
		assert.equal(ans['Call-Direction'], 'outbound');
		assert.equal(await api(c, `uuid_getvar ${uuid} sip_gateway_name`), GW);
		const inv = sent(server, 'INVITE');
		assert.equal(inv.length, 2, 'the INVITE, then again with credentials');
		assert.match(inv[0], new RegExp(`^INVITE sip:5551000@127\\.0\\.0\\.1:${provPort}[; ]`));
		assert.ok(!/\nAuthorization:/.test(inv[0]));
		assert.match(inv[1], /\nAuthorization: Digest [^\n]*username="joeuser"/);
		assert.match(inv[1], /\nFrom: [^\n]*<sip:joeuser@gw\.test>/);
		assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
		const hc = await ev.wait((e) => e['Event-Name'] === 'CHANNEL_HANGUP_COMPLETE' &&
			e['Unique-ID'] === uuid, { from, what: 'CHANNEL_HANGUP_COMPLETE' });
		assert.equal(hc['variable_sip_hangup_disposition'], 'send_bye');
		sippOk(await sippDone(prov, 20000, 'registrar'));
		assert.equal(await api(c, 'originate sofia/gateway/nope/5551000 &park()'),
			'-ERR INVALID_GATEWAY\n');
	});
});
