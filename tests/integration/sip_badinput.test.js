'use strict';
/*
 * sip_badinput.test.js - bad input against a running confabd: an offer with
 * only unknown codecs (488, INCOMPATIBLE_DESTINATION), a BYE for no dialog
 * (481), malformed requests and junk datagrams or TCP bytes (answered 400 or
 * dropped, and the server goes on), and during an echo call garbage RTP from the phone's
 * own address and a tone from a stranger's: the call survives and still
 * echoes the phone, the stranger hears nothing. ASan checks the rest at stop.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const dgram = require('node:dgram');
const net = require('node:net');
const crypto = require('node:crypto');
const h = require('./harness');
const sipp = require('./sipp');
const { RtpPhone, dominant, rms } = require('./rtp');
const { api, EventLog, closeClient, is, sippStart, sippDone, sippOk } = require('./siptest');

const T = { timeout: 60000 };

/*
 * Sends `msgs` (strings or Buffers, \n turned into CRLF for strings) from one
 * UDP socket to 127.0.0.1:port and collects what comes back for `ms`.
 */
async function exchange(port, msgs, ms = 1500) {
	const sock = dgram.createSocket('udp4');
	await new Promise((r) => sock.bind(0, h.HOST, r));
	const got = [];
	sock.on('message', (m) => got.push(m.toString('latin1')));
	const local = sock.address().port;
	for (const m of msgs) {
		const text = typeof m === 'function' ? m(local) : m;
		const buf = Buffer.isBuffer(text) ? text : Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1');
		sock.send(buf, port, h.HOST);
		await h.sleep(50);
	}
	await h.sleep(ms);
	sock.close();
	return got;
}

const status = (msgs) => msgs.map((m) => m.split('\r\n')[0]);

function request(method, local, { callId, uri = 'sip:7000@127.0.0.1', body = '', ctype, cseq = 1,
	toTag = '' } = {}) {
	return `${method} ${uri} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${crypto.randomBytes(6).toString('hex')};rport
From: <sip:bad@127.0.0.1:${local}>;tag=b${cseq}
To: <${uri}>${toTag ? `;tag=${toTag}` : ''}
Call-ID: ${callId}
CSeq: ${cseq} ${method}
Contact: <sip:bad@127.0.0.1:${local}>
Max-Forwards: 70
${ctype ? `Content-Type: ${ctype}\n` : ''}Content-Length: ${Buffer.byteLength(body.replace(/\r?\n/g, '\r\n'))}

${body}`;
}

const UNKNOWN_ONLY = `v=0
o=bad 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 40000 RTP/AVP 18 96
a=rtpmap:18 G729/8000
a=rtpmap:96 opus/48000/2
`;

test('bad SIP and RTP input', { skip: !sipp.available() && 'sipp not installed', timeout: 180000 },
	async (t) => {
		const server = await h.startServer();
		const c = await h.rawAuthed(server);
		const ev = await EventLog.open(server);
		t.after(async () => { await closeClient(ev.c); await closeClient(c); await server.stop(); });
		const ext = server.sipPortExternal;
		const alive = async () => {
			const r = await exchange(ext, [(l) => request('OPTIONS', l, { callId: `alive-${Date.now()}` })], 500);
			assert.deepEqual(status(r), ['SIP/2.0 200 OK'], 'OPTIONS still answered');
			server.assertAlive();
		};

		await t.test('an offer with only unknown codecs: 488, INCOMPATIBLE_DESTINATION', T, async () => {
			const from = ev.mark();
			const callId = `bad488-${Date.now()}`;
			const r = await exchange(ext, [(l) => request('INVITE', l, { callId, body: UNKNOWN_ONLY,
				ctype: 'application/sdp' })]);
			const finals = status(r).filter((s) => !/^SIP\/2\.0 1\d\d /.test(s));
			assert.equal(finals[0], 'SIP/2.0 488 Not Acceptable Here');
			const hc = await ev.wait((e) => e['Event-Name'] === 'CHANNEL_HANGUP_COMPLETE' &&
				e['variable_sip_call_id'] === callId, { from, what: 'the 488 channel\'s hangup' });
			assert.equal(hc['Hangup-Cause'], 'INCOMPATIBLE_DESTINATION');
			await alive();
		});

		await t.test('a BYE (and INFO) for no dialog: 481', T, async () => {
			const r = await exchange(ext, [
				(l) => request('BYE', l, { callId: `nodlg-${Date.now()}`, toTag: 'nope', cseq: 2 }),
				(l) => request('INFO', l, { callId: `nodlg2-${Date.now()}`, toTag: 'nope', cseq: 3,
					ctype: 'application/dtmf', body: '5' }),
			], 800);
			// The session layer (libre) words it "Call Does Not Exist"; the code is what counts.
			assert.equal(r.length, 2, status(r).join(' | '));
			for (const s of status(r))
				assert.match(s, /^SIP\/2\.0 481 /);
			await alive();
		});

		await t.test('malformed requests and junk: 400 or nothing, and the server goes on', T, async () => {
			const before = server.logText().length;
			const r = await exchange(ext, [
				// No Call-ID, no CSeq.
				(l) => `INVITE sip:7000@127.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:${l};branch=z9hG4bKx1\n` +
					'From: <sip:bad@127.0.0.1>;tag=1\nTo: <sip:7000@127.0.0.1>\nContent-Length: 0\n\n',
				// A CSeq that is not a number, a Content-Length past the end.
				(l) => `OPTIONS sip:7000@127.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:${l};branch=z9hG4bKx2\n` +
					'From: <sip:bad@127.0.0.1>;tag=1\nTo: <sip:7000@127.0.0.1>\nCall-ID: m2\n' +
					'CSeq: abc OPTIONS\nContent-Length: 9999\n\nshort',
				// SDP that is not SDP.
				(l) => request('INVITE', l, { callId: `badsdp-${Date.now()}`, ctype: 'application/sdp',
					body: 'this is not\nsdp at all\n' }),
				Buffer.from('SIP/2.0 200 OK\r\n\r\n'),
				Buffer.from('\r\n\r\n'),
				crypto.randomBytes(1200),
				Buffer.alloc(3000, 0x41),
			]);
			for (const s of status(r))
				assert.match(s, /^SIP\/2\.0 (100|400) /, `only 100/400 come back: ${s}`);
			assert.ok(status(r).some((s) => /^SIP\/2\.0 400 Bad SDP/.test(s)), `400 for the bad SDP: ${status(r)}`);
			assert.match(server.logText().slice(before), /Bad SDP|SDP/i, 'the bad SDP is logged');
			assert.match(server.logText().slice(before),
				/\[WARNING\] .*sofia external: INVITE from 127\.0\.0\.1:\d+ without a usable From\/Call-ID/);
			// What libre cannot even parse it reports itself, on stderr.
			assert.match(server.output, /sip: msg decode err/);
			await alive();
		});

		await t.test('junk over TCP: the connection may go, the server stays', T, async () => {
			for (const junk of [crypto.randomBytes(4096), Buffer.from('INVITE sip:x SIP/2.0\r\n' +
				'Content-Length: 99999999\r\n\r\nabc'), Buffer.alloc(70000, 0x41)]) {
				const s = net.connect({ host: h.HOST, port: ext });
				s.on('error', () => {});
				await new Promise((r) => s.once('connect', r));
				s.write(junk);
				await h.sleep(300);
				s.destroy();
			}
			// A proper request over a new TCP connection is still answered.
			const s = net.connect({ host: h.HOST, port: ext });
			let got = '';
			s.on('data', (d) => { got += d.toString('latin1'); });
			await new Promise((r) => s.once('connect', r));
			const { port: local } = s.address();
			s.write(request('OPTIONS', local, { callId: `tcp-${Date.now()}` }).replace(/\r?\n/g, '\r\n')
				.replace('SIP/2.0/UDP', 'SIP/2.0/TCP'));
			for (let i = 0; i < 30 && !got.includes('\r\n\r\n'); i++)
				await h.sleep(100);
			s.destroy();
			assert.match(got, /^SIP\/2\.0 200 OK\r\n/);
			await alive();
		});

		await t.test('garbage RTP from the phone and a tone from a stranger: the echo call survives', T,
			async (t) => {
				const phone = new RtpPhone(), stranger = new RtpPhone();
				await phone.open();
				await stranger.open();
				t.after(() => { phone.close(); stranger.close(); });
				const from = ev.mark();
				const run = sippStart(t, { scenario: 'uac_media.xml', target: `${h.HOST}:${server.sipPort}`,
					user: '9196', port: await h.freeUdpPort(), auth: { user: '1000', password: '1234' },
					vars: { caller: '1000', rtp_port: phone.port, pt: 0 }, timeoutS: 40 });
				const cr = await ev.wait((e) => e['Event-Name'] === 'CHANNEL_CREATE' &&
					e['Caller-Destination-Number'] === '9196', { from, what: 'the echo call' });
				const uuid = cr['Unique-ID'];
				await ev.wait(is('CHANNEL_ANSWER', uuid), { from, what: 'the echo answered' });
				const port = Number(await api(c, `uuid_getvar ${uuid} local_media_port`));
				assert.ok(port > 0);
				phone.remote = stranger.remote = { host: h.HOST, port };
				phone.startTone(1000);
				await h.sleep(600);          // latched onto the phone
				const junk = [
					crypto.randomBytes(172), Buffer.alloc(5, 0x80), Buffer.alloc(0),
					Buffer.from([0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]),         // version 0
					Buffer.concat([Buffer.from([0x8f, 0x00, 0, 1]), Buffer.alloc(8)]), // 15 CSRCs, none there
					Buffer.concat([Buffer.from([0x90, 0x00, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0xff, 0xff]),
						Buffer.alloc(8)]),                                         // extension past the end
					Buffer.concat([Buffer.from([0xa0, 0x00, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1]),
						Buffer.alloc(20, 0xff)]),                                  // padding longer than the packet
					Buffer.concat([Buffer.from([0x80, 101, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1, 0x99])]), // short 4733
					Buffer.concat([Buffer.from([0x80, 77, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1]),
						Buffer.alloc(160, 0xd5)]),                                 // unknown payload type
				];
				/*
				 * Right behind each of the phone's packets: the junk, and a 2000 Hz
				 * stream from the stranger. Sent from the same timer, so a stalled
				 * test process cannot make the phone look quiet to confab.
				 */
				phone.startTone(1000, { after: () => {
					for (const j of junk)
						phone.sock.send(j, port, h.HOST);
					stranger.sendToneFrame(2000);
				} });
				await h.sleep(1800);
				phone.startTone(1000);
				const s = phone.samples(0, Date.now() - 1000);
				assert.ok(s.length >= 25 * 160, `the echo goes on: ${s.length} samples`);
				const d = dominant(s, [1000, 2000]);
				assert.equal(d.freq, 1000, 'the phone hears itself, not the stranger');
				assert.ok(d.ratio > 20, `clean (ratio ${d.ratio.toFixed(1)})`);
				assert.ok(rms(s) > 1000);
				assert.equal(stranger.packets.length, 0, 'nothing goes to the stranger');
				phone.stopTone();
				assert.equal(await api(c, `uuid_exists ${uuid}`), 'true');
				assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
				const hc = await ev.wait(is('CHANNEL_HANGUP_COMPLETE', uuid), { from });
				assert.equal(hc['Hangup-Cause'], 'NORMAL_CLEARING');
				assert.ok(Number(hc['variable_rtp_audio_in_packet_count']) > 50);
				sippOk(await sippDone(run, 15000, 'uac_media.xml'));
				await alive();
			});
	});
