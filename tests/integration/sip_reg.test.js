'use strict';
/*
 * sip_reg.test.js - the registrar's views and SIP over TCP: `show
 * registrations` and `sofia status profile internal reg` field for field, a
 * short registration that expires (CUSTOM sofia::expire, gone from both
 * views), REGISTER over TCP (SIPp -t t1, Registered(TCP)), a call to that
 * TCP registration, and an inbound call over TCP with INFO digits and BYE.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const os = require('node:os');
const h = require('./harness');
const sipp = require('./sipp');
const { api, EventLog, closeClient, is, sippStart, sippDone, sippOk, register } = require('./siptest');

const T = { timeout: 60000 };
const HEAD = 'reg_user,realm,token,url,expires,network_ip,network_port,network_proto,hostname,metadata';

/* The rows of `show registrations` for `user`, split into their fields. */
async function rows(c, user) {
	const out = await api(c, 'show registrations');
	if (out === '\n0 total.\n')
		return [];      // as FreeSWITCH's show: no header without rows
	assert.equal(out.split('\n')[0], HEAD, out);
	return out.split('\n').filter((l) => l.startsWith(`${user},`)).map((l) => l.split(','));
}

test('registrations and SIP over TCP', { skip: !sipp.available() && 'sipp not installed', timeout: 180000 },
	async (t) => {
		const server = await h.startServer();
		const c = await h.rawAuthed(server);
		const ev = await EventLog.open(server);
		t.after(async () => { await closeClient(ev.c); await closeClient(c); await server.stop(); });
		const domain = (await api(c, 'global_getvar domain')).trim();
		assert.match(domain, /^[\w.-]+$/);

		await t.test('show registrations and sofia status profile internal reg, field for field', T, async () => {
			const port = await h.freeUdpPort();
			const t0 = Math.floor(Date.now() / 1000);
			assert.equal((await register(server, '1010', port, { expires: 120 })).code, 0);
			const [r] = await rows(c, '1010');
			assert.ok(r, 'a row for 1010');
			assert.equal(r[1], '127.0.0.1');           // realm: the To host (the auth realm)
			assert.match(r[3], new RegExp(`^sofia/internal/sip:1010@127\\.0\\.0\\.1:${port};transport=UDP$`, 'i'));
			const exp = Number(r[4]);
			assert.ok(exp >= t0 + 118 && exp <= t0 + 125, `expires ${exp} vs now ${t0}`);
			assert.deepEqual(r.slice(5, 8), ['127.0.0.1', String(port), 'udp']);
			assert.equal(r[8], os.hostname());
			const st = await api(c, 'sofia status profile internal reg 1010');
			assert.match(st, /^\nRegistrations:\n={97}\n/);
			for (const re of [new RegExp(`^User:       \\t1010@${domain.replace(/\./g, '\\.')}$`, 'm'),
				new RegExp(`^Contact:    \\t.*sip:1010@127\\.0\\.0\\.1:${port}`, 'm'),
				/^Agent:      \tSIPp register$/m,
				/^Status:     \tRegistered\(UDP\)\(unknown\) EXP\(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\) EXPSECS\(1[12]\d\)$/m,
				/^IP:         \t127\.0\.0\.1$/m, new RegExp(`^Port:       \\t${port}$`, 'm'),
				/^Auth-User:  \t1010$/m, /^Total items returned: 1$/m])
				assert.match(st, re);
			assert.match(await api(c, 'show registrations count'), /^1 total\.\n$|^\n?1 total\.\n$/);
			assert.match(await api(c, 'sofia status profile internal'), /^REGISTRATIONS    \t1$/m);
			await sipp.run({ scenario: 'unregister_all.xml', target: `${h.HOST}:${server.sipPort}`,
				port, user: '1010', auth: { user: '1010', password: '1234' }, timeoutS: 10 });
			assert.equal((await rows(c, '1010')).length, 0);
		});

		await t.test('a 2 s registration expires: sofia::expire, gone from both views', T, async () => {
			const port = await h.freeUdpPort();
			const from = ev.mark();
			assert.equal((await register(server, '1011', port, { expires: 2 })).code, 0);
			assert.equal((await rows(c, '1011')).length, 1);
			const e = await ev.wait((x) => x['Event-Subclass'] === 'sofia::expire' &&
				x.user === '1011', { from, ms: 8000, what: 'sofia::expire for 1011' });
			assert.equal(e['Event-Name'], 'CUSTOM');
			assert.equal(e['profile-name'], 'internal');
			assert.equal(e.host, domain);
			assert.equal(e['network-ip'], '127.0.0.1');
			assert.equal(e['network-port'], String(port));
			assert.match(e.contact, new RegExp(`sip:1011@127\\.0\\.0\\.1:${port}`));
			assert.ok(e['call-id'], 'call-id');
			const reg = ev.all((x) => x['Event-Subclass'] === 'sofia::register' &&
				x['from-user'] === '1011', from);
			assert.equal(reg.length, 1);
			// The server's own clock: when the test process stalls, arrival times bunch up.
			const us = (x) => Number(x['Event-Date-Timestamp']);
			assert.ok(us(e) - us(reg[0]) >= 1500000, 'not before its time');
			assert.equal((await rows(c, '1011')).length, 0);
			assert.match(await api(c, 'sofia status profile internal reg 1011'),
				/^Total items returned: 0$/m);
			assert.equal(await api(c, 'originate user/1011 &park()'), '-ERR USER_NOT_REGISTERED\n');
		});

		await t.test('REGISTER over TCP, then a call to it over TCP', T, async (t) => {
			const port = await h.freeUdpPort();
			const from = ev.mark();
			assert.equal((await register(server, '1012', port, { transport: 't1' })).code, 0);
			const [r] = await rows(c, '1012');
			assert.equal(r[7], 'tcp');
			assert.match(r[3], /;transport=TCP$/i);
			const reg = await ev.wait((x) => x['Event-Subclass'] === 'sofia::register' &&
				x['from-user'] === '1012', { from, what: 'sofia::register over TCP' });
			assert.equal(reg['network-proto'], 'tcp');
			assert.equal(reg.status, 'Registered(TCP)');
			assert.match(await api(c, 'sofia status profile internal reg 1012'),
				/^Status:     \tRegistered\(TCP\)/m);

			assert.match(await api(c, 'sofia profile internal siptrace on'), /^\+OK/);
			t.after(() => api(c, 'sofia profile internal siptrace off'));
			const uas = sippStart(t, { scenario: 'uas_answer.xml', port, timeoutS: 20, extra: ['-t', 't1'] });
			await h.sleep(300);     // SIPp listens on TCP
			const reply = await api(c, 'originate user/1012 &park()');
			assert.match(reply, /^\+OK [0-9a-f-]{36}\n$/);
			const uuid = reply.slice(4, 40);
			const sentTcp = new RegExp(`internal: send \\d+ bytes to 127\\.0\\.0\\.1:${port}/TCP:\\r?\\nINVITE `);
			assert.match(server.logText(), sentTcp, 'the INVITE went over TCP');
			assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
			sippOk(await sippDone(uas, 10000, 'the TCP phone'));
		});

		await t.test('an inbound call over TCP: INFO digits, BYE from the phone', T, async (t) => {
			const from = ev.mark();
			const uac = sippStart(t, { scenario: 'uac_call.xml', target: `${h.HOST}:${server.sipPort}`,
				port: await h.freeUdpPort(), user: '9664', auth: { user: '1000', password: '1234' },
				vars: { caller: '1000' }, timeoutS: 20, extra: ['-t', 't1', '-d', '500'] });
			const cr = await ev.wait((x) => x['Event-Name'] === 'CHANNEL_CREATE' &&
				x['Caller-Destination-Number'] === '9664', { from, what: 'the inbound channel' });
			const uuid = cr['Unique-ID'];
			assert.equal(cr['variable_sip_via_protocol'].toLowerCase(), 'tcp');
			// 9664 parks; answering it lets the phone go on.
			await ev.wait(is('CHANNEL_PARK', uuid), { from, what: 'CHANNEL_PARK' });
			// Caller-profile fields through uuid_getvar, as FreeSWITCH answers them.
			assert.equal(await api(c, `uuid_getvar ${uuid} ani`), '1000');
			assert.equal(await api(c, `uuid_getvar ${uuid} destination_number`), '9664');
			assert.equal(await api(c, `uuid_getvar ${uuid} network_addr`), '127.0.0.1');
			assert.equal(await api(c, `uuid_answer ${uuid}`), '+OK\n');
			const d1 = await ev.wait(is('DTMF', uuid), { from, what: 'DTMF by INFO' });
			assert.equal(d1['DTMF-Digit'], '5');
			assert.equal(d1['DTMF-Source'], 'INFO');
			sippOk(await sippDone(uac, 15000, 'the TCP caller'));
			const hc = await ev.wait(is('CHANNEL_HANGUP_COMPLETE', uuid), { from });
			assert.equal(hc['variable_sip_hangup_disposition'], 'recv_bye');
			assert.equal(hc['Hangup-Cause'], 'NORMAL_CLEARING');
		});
	});
