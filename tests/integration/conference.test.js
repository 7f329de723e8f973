'use strict';
/*
 * conference.test.js - conference rooms on real SIP calls: SIPp places the
 * calls into a test dialplan (77xx joins room 77xx@default, 76xx joins 77xx
 * muted), test phones (rtp.js) are their media, and an event-socket client
 * subscribed to CUSTOM conference::maintenance watches the room.
 *
 * Everything is checked by content: which tones each member hears (each
 * member sends its own frequency; nobody may hear itself), what a recording
 * holds, what a refused or kicked caller hears, the exact `conference` API
 * output, and the events with their headers and their order. Outcalls (dial,
 * bgdial, the fallback list with its outcall-result events) go to SIPp UASs
 * registered as directory users.
 *
 * Frequencies: A 1000 Hz, B 1400 Hz, C silent, the muted joiner E 2400 Hz;
 * room play 2000 Hz, member play 1700 Hz, the locked sound 2200 Hz, the kicked
 * sound 1800 Hz, the tone the dialplan plays after `conference` returns
 * 2600 Hz; the quiet member D 1200 Hz (amplitude 300), the DTMF member F
 * 1100 Hz (amplitude 4000), the pin prompt 2800 Hz, the bad-pin sound 1300 Hz.
 * None is one of the profile's enter (500/600/700 Hz) or exit tones
 * (300/200/100/50/25 Hz). 3000 Hz is never sent: it is the noise reference.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const h = require('./harness');
const { until, EventLog } = require('./eventlog');
const sipp = require('./sipp');
const { RtpPhone, goertzel, rms, ulawDecode, RATE } = require('./rtp');
const { readWav, writeWav } = require('./wav');
const { frames } = require('./chanpoll');

const T = { timeout: 60000 };
const AUTH = { user: '1000', password: '1234' };
const ROOM = '7701';
const SUB = 'conference::maintenance';
const FREQS = [1000, 1100, 1200, 1300, 1400, 1700, 1800, 2000, 2200, 2400, 2600, 2800, 3000];
const NOISE = 3000;

/* The test extensions, in the default context (dialplan/default/*.xml). */
const DIALPLAN = `<include>
  <extension name="t_conf">
    <condition field="destination_number" expression="^(77[0-9][0-9])$">
      <action application="answer"/>
      <action application="conference" data="$1@default"/>
      <action application="playback" data="tone_stream://%(600,0,2600)"/>
    </condition>
  </extension>
  <extension name="t_conf_muted">
    <condition field="destination_number" expression="^76([0-9][0-9])$">
      <action application="answer"/>
      <action application="conference" data="77$1@default+flags{mute}"/>
    </condition>
  </extension>
  <extension name="t_conf_stay">
    <condition field="destination_number" expression="^79([0-9][0-9])$">
      <action application="set" data="hangup_after_conference=false"/>
      <action application="answer"/>
      <action application="conference" data="77$1@default"/>
      <action application="playback" data="tone_stream://%(600,0,2600)"/>
    </condition>
  </extension>
  <extension name="t_conf_pin">
    <condition field="destination_number" expression="^7803$">
      <action application="answer"/>
      <action application="conference" data="7703@default+4321"/>
      <action application="playback" data="tone_stream://%(600,0,2600)"/>
    </condition>
  </extension>
  <extension name="t_conf_endconf">
    <condition field="destination_number" expression="^7804$">
      <action application="answer"/>
      <action application="conference" data="7704@default+flags{endconf}"/>
      <action application="playback" data="tone_stream://%(600,0,2600)"/>
    </condition>
  </extension>
  <extension name="t_conf_bad_data">
    <condition field="destination_number" expression="^7805$">
      <action application="answer"/>
      <action application="conference" data="@default"/>
      <action application="playback" data="tone_stream://%(600,0,2600)"/>
    </condition>
  </extension>
  <extension name="t_conf_no_profile">
    <condition field="destination_number" expression="^7806$">
      <action application="answer"/>
      <action application="conference" data="7705@nosuchprofile"/>
      <action application="playback" data="tone_stream://%(600,0,2600)"/>
    </condition>
  </extension>
  <extension name="t_conf_wide">
    <condition field="destination_number" expression="^(75[0-9][0-9])$">
      <action application="answer"/>
      <action application="conference" data="$1@wide"/>
    </condition>
  </extension>
  <extension name="t_conf_mintwo">
    <condition field="destination_number" expression="^7807$">
      <action application="set" data="hangup_after_conference=false"/>
      <action application="answer"/>
      <action application="conference" data="7706@default+flags{mintwo}"/>
      <action application="playback" data="tone_stream://%(600,0,2600)"/>
    </condition>
  </extension>
</include>
`;

/* A 16 kHz room that speaks with espeak-ng's voice for flite's kal (docs/speech.md). */
const WIDE_PROFILE = `    <profile name="wide">
      <param name="rate" value="16000"/>
      <param name="interval" value="20"/>
      <param name="energy-level" value="100"/>
      <param name="tts-engine" value="flite"/>
      <param name="tts-voice" value="kal"/>
    </profile>
  </profiles>`;

/* What a phone heard over the last `ms`: sample count, RMS, tone powers. */
function heard(phone, ms = 600) {
	const s = phone.samples(0, Date.now() - ms);
	const p = {};
	for (const f of FREQS)
		p[f] = s.length ? goertzel(s, f) : 0;
	return { n: s.length, rms: Math.round(rms(s)), p };
}

function show(m) {
	const p = {};
	for (const [f, v] of Object.entries(m.p))
		p[f] = Number(v.toPrecision(2));
	return JSON.stringify({ n: m.n, rms: m.rms, p });
}

/* A clear tone `f` in the window: loud, far above the noise reference. */
function hears(m, f) {
	return m.n >= 12 * 160 && m.rms > 500 && m.p[f] > 100 * (m.p[NOISE] || 1);
}

/* Waits until `phone` hears tone `f` and not (50x weaker) its own tone `own`. */
function hearsNotSelf(what, phone, f, own) {
	return until(what, () => {
		const m = heard(phone);
		return { ok: hears(m, f) && m.p[f] > 50 * m.p[own], info: show(m) };
	});
}

/* 20 ms packets since `since` (to `to`) in which `f` is present at a useful level. */
function tonePackets(phone, f, since, to = Infinity, thr = 3e7) {
	let n = 0;
	for (const pk of phone.packets) {
		if (pk.pt !== 0 || pk.at < since || pk.at > to)
			continue;
		if (goertzel(Array.from(pk.payload, ulawDecode), f) > thr)
			n++;
	}
	return n;
}

/* What a phone heard since `since`: runs of packets by their strongest tone. */
function timeline(phone, since = 0) {
	const runs = [];
	for (const pk of phone.packets) {
		if (pk.pt !== 0 || pk.at < since)
			continue;
		const s = Array.from(pk.payload, ulawDecode);
		const f = rms(s) < 300 ? 'quiet' : FREQS.reduce((a, b) =>
			(goertzel(s, a) >= goertzel(s, b) ? a : b));
		const last = runs[runs.length - 1];
		if (last && last.f === f)
			last.n++;
		else
			runs.push({ f, n: 1 });
	}
	return runs.map((r) => `${r.f}x${r.n}`).join(' ') || 'no packets';
}

/* An event of the test room with this Action and these header values. */
function act(action, extra = {}, room = ROOM) {
	return (e) => e['Event-Subclass'] === SUB && e.Action === action &&
		(room === null || e['Conference-Name'] === room) &&
		Object.entries(extra).every(([k, v]) => e[k] === String(v));
}

/* A recording's WAV once its header is whole (the file closes after the event). */
async function completeWav(file) {
	let wav;
	await until(`${file} is complete`, () => {
		try {
			wav = readWav(file);
			return { ok: true };
		} catch (e) {
			return { ok: false, info: e.message };
		}
	}, 5000);
	return wav;
}

/* Both members' tones (A 1000 Hz, B 1400 Hz) in the last second of a room recording. */
function assertRoomTones(wav, what, rate = RATE) {
	const tail = wav.samples.slice(-rate);
	const pn = goertzel(tail, NOISE, rate) || 1;
	assert.ok(goertzel(tail, 1000, rate) > 100 * pn, `A's 1000 Hz is in ${what}`);
	assert.ok(goertzel(tail, 1400, rate) > 100 * pn, `B's 1400 Hz is in ${what}`);
	assert.ok(rms(tail) > 1000, `${what} is at a useful level (${rms(tail)})`);
}

async function closeClient(c) {
	if (!c.closed) {
		c.write('exit\n\n');
		await c.closesWithin(3000);
	}
	c.destroy();
}

test('conference rooms', { skip: !sipp.available() && 'sipp not installed', timeout: 300000 },
	async (t) => {
		const server = await h.startServer({
			edit(conf) {
				const dir = path.join(conf, 'dialplan', 'default');
				fs.mkdirSync(dir, { recursive: true });
				fs.writeFileSync(path.join(dir, '90_conference_test.xml'), DIALPLAN);
				const cc = path.join(conf, 'autoload_configs', 'conference.conf.xml');
				fs.writeFileSync(cc, fs.readFileSync(cc, 'utf8').replace('  </profiles>',
					WIDE_PROFILE));
			},
		});
		const target = `${h.HOST}:${server.sipPort}`;
		const c = await h.rawAuthed(server);
		const ev = await EventLog.open(server, `CUSTOM ${SUB}`);
		const sipps = [], phones = [];
		let failed = 0;
		t.after(async () => {
			/* a failed run keeps confab's log for whoever looks into it */
			if (failed) {
				const keep = path.join(os.tmpdir(), `conference-test-${process.pid}.log`);
				fs.writeFileSync(keep, server.logText());
				console.log(`# ${failed} sub-test(s) failed; confab's log: ${keep}`);
			}
			for (const s of sipps)
				if (s.proc.exitCode === null && s.proc.signalCode === null)
					s.proc.kill('SIGKILL');
			for (const p of phones)
				p.close();
			await closeClient(ev.c);
			await closeClient(c);
			await server.stop();
		});

		/* A sub-test, failing at once (not by timeouts) once confabd has died. */
		function sub(name, opts, fn) {
			return t.test(name, opts, async () => {
				server.assertAlive();
				try {
					await fn();
				} catch (e) {
					failed++;
					throw e;
				}
			});
		}

		async function api(cmd, timeoutMs = 20000) {
			const f = await c.cmd(`api ${cmd}`, { timeoutMs });
			return f.body;
		}

		function sippStart(opts) {
			const s = sipp.start(opts);
			sipps.push(s);
			return s;
		}

		/* SIPp's result, or a failure naming the scenario if it outlives ms. */
		async function sippDone(s, ms, what) {
			const r = await h.within(s.done, ms);
			assert.ok(r, `${what}: SIPp still running after ${ms} ms`);
			return r;
		}

		async function channels() {
			return JSON.parse(await api('show channels as json')).rows || [];
		}

		async function waitChannel(pick, ms = 10000) {
			const deadline = Date.now() + ms;
			while (Date.now() < deadline) {
				const row = (await channels()).find(pick);
				if (row)
					return row;
				await h.sleep(50);
			}
			throw new Error('the channel did not appear');
		}

		async function waitVar(uuid, name, ms = 10000) {
			const deadline = Date.now() + ms;
			let v;
			while (Date.now() < deadline) {
				v = (await api(`uuid_getvar ${uuid} ${name}`)).trim();
				if (v && v !== '_undef_' && !v.startsWith('-ERR'))
					return v;
				await h.sleep(100);
			}
			return v;
		}

		/*
		 * A phone stops sending when its call is over: confab gives the port to
		 * a later call, maybe of a confabd another test file runs meanwhile, and
		 * a stale stream arriving first would be the one that call latches on to.
		 */
		function quietWhenDone(phone, s) {
			s.done.then(() => {
				phone.stopTone();
				phone.remote = null;
			});
		}

		/*
		 * A caller dials `dest` from a test phone that sends `freq` (0: digital
		 * silence) as soon as confab's media address is known.
		 */
		async function dial(dest, freq, toneOpts = {}) {
			const phone = new RtpPhone();
			phones.push(phone);
			const rtpPort = await phone.open();
			const before = new Set((await channels()).map((r) => r.uuid));
			const uac = sippStart({ scenario: 'uac_conf.xml', target, user: dest,
				port: await h.freeUdpPort(), auth: AUTH,
				vars: { caller: '1000', rtp_port: rtpPort, pt: 0 }, timeoutS: 200 });
			quietWhenDone(phone, uac);
			const row = await waitChannel((r) => r.direction === 'inbound' && r.dest === dest &&
				!before.has(r.uuid));
			const lport = Number(await waitVar(row.uuid, 'local_media_port'));
			if (lport > 0) {
				phone.remote = { host: h.HOST, port: lport };
				phone.startTone(freq, Object.assign({ pt: 0 }, toneOpts));
			}
			return { phone, uac, uuid: row.uuid, name: row.name, cidName: row.cid_name,
				cidNum: row.cid_num, freq, toneOpts };
		}

		/*
		 * A SIPp UAS registered as `user` from its own SIP port: it answers with
		 * a test phone's media (uas_media.xml) or is busy (uas_busy.xml).
		 */
		async function uas(user, scenario) {
			const port = await h.freeUdpPort();
			const reg = await sipp.run({ scenario: 'register.xml', target, port, user,
				auth: { user, password: '1234' }, vars: { expires: 300 }, timeoutS: 10 });
			assert.equal(reg.code, 0, `register ${user}: ${reg.err}${reg.out}`);
			const phone = new RtpPhone();
			phones.push(phone);
			const rtpPort = await phone.open();
			const vars = scenario === 'uas_media.xml' ? { rtp_port: rtpPort, pt: 0 } : {};
			const s = sippStart({ scenario, target, port, vars, timeoutS: 40 });
			quietWhenDone(phone, s);
			return { port, phone, sipp: s };
		}

		function roomMembers(listBody) {
			return listBody.split('\n').filter((l) => l).map((l) => l.split(';'));
		}

		/* Test prompts in the shipped profile's sound paths (sound_prefix/conference/...). */
		const prefix = (await api('global_getvar sound_prefix')).trim();
		assert.ok(prefix.startsWith('/'), `sound_prefix is a directory: ${prefix}`);
		writeWav(path.join(prefix, 'conference', 'conf-locked.wav'), RATE, 2200, 1.0, 10000);
		writeWav(path.join(prefix, 'conference', 'conf-kicked.wav'), RATE, 1800, 0.8, 10000);
		writeWav(path.join(prefix, 'conference', 'conf-pin.wav'), RATE, 2800, 0.6, 10000);
		writeWav(path.join(prefix, 'conference', 'conf-bad-pin.wav'), RATE, 1300, 0.6, 10000);
		const domain = (await api('global_getvar domain')).trim();
		assert.ok(domain && !domain.startsWith('-ERR'), `the directory domain: ${domain}`);

		let A, B, C;
		const start = ev.mark();

		await sub('three members: each hears the other two, never itself', T, async () => {
			A = await dial(ROOM, 1000);
			const addA = await ev.wait(act('add-member', { 'Unique-ID': A.uuid }),
				{ from: start, what: 'add-member for A' });
			B = await dial(ROOM, 1400);
			C = await dial(ROOM, 0);
			const addB = await ev.wait(act('add-member', { 'Unique-ID': B.uuid }),
				{ from: start, what: 'add-member for B' });
			const addC = await ev.wait(act('add-member', { 'Unique-ID': C.uuid }),
				{ from: start, what: 'add-member for C' });
			for (const [m, e] of [[A, addA], [B, addB], [C, addC]]) {
				m.id = e['Member-ID'];
				assert.match(m.id, /^[0-9]+$/);
				assert.equal(await waitVar(m.uuid, 'conference_member_id'), m.id,
					'conference_member_id agrees with the event');
			}
			assert.equal(new Set([A.id, B.id, C.id]).size, 3, 'three distinct member ids');
			assert.ok(Number(A.id) < Number(B.id) && Number(B.id) < Number(C.id),
				'ids count up in join order');
			/* the enter tones (200 ms) end; then judge a window */
			await h.sleep(1000);
			await hearsNotSelf('A hears B (1400 Hz) and not itself (1000 Hz)', A.phone, 1400, 1000);
			await hearsNotSelf('B hears A (1000 Hz) and not itself (1400 Hz)', B.phone, 1000, 1400);
			await until('C hears both A and B at similar levels', () => {
				const m = heard(C.phone);
				const r = m.p[1000] / (m.p[1400] || 1);
				return { ok: hears(m, 1000) && hears(m, 1400) && r > 0.1 && r < 10,
					info: show(m) };
			});
		});

		await sub('add-member events carry the conference and member blocks', T, async () => {
			assert.ok(A && B && C, 'the members of the first sub-test');
			const e = ev.all(act('add-member', { 'Unique-ID': C.uuid }), start)[0];
			assert.ok(e, 'add-member for C');
			assert.equal(e['Event-Name'], 'CUSTOM');
			assert.equal(e['Conference-Profile-Name'], 'default');
			assert.equal(e['Conference-Size'], '3');
			assert.equal(e['Conference-Ghosts'], '0');
			assert.match(e['Conference-Unique-ID'] || '', /^[0-9a-f-]{36}$/);
			assert.ok(e['Conference-Domain'], 'Conference-Domain present');
			assert.equal(e['Member-ID'], C.id);
			assert.equal(e['Member-Type'], 'member');
			assert.equal(e['Member-Ghost'], 'false');
			assert.equal(e.Hear, 'true');
			assert.equal(e.Speak, 'true');
			assert.equal(e['Energy-Level'], '100', 'the profile energy-level');
			assert.equal(e['Caller-Destination-Number'], ROOM);
		});

		await sub('list, list count, count, conference list, json_list, a missing room', T,
			async () => {
				assert.ok(A && B && C, 'the members of the first sub-test');
				const body = await api(`conference ${ROOM} list`);
				assert.ok(body.endsWith('\n'), `lines end with a newline: ${JSON.stringify(body)}`);
				const rows = roomMembers(body);
				assert.equal(rows.length, 3, `three member lines: ${JSON.stringify(body)}`);
				for (const r of rows)
					assert.equal(r.length, 9, `nine ;-separated fields: ${r.join(';')}`);
				const byId = new Map(rows.map((r) => [r[0], r]));
				for (const m of [A, B, C]) {
					const r = byId.get(m.id);
					assert.ok(r, `a line for member ${m.id}: ${JSON.stringify(body)}`);
					assert.equal(r[1], m.name, 'channel name');
					assert.equal(r[2], m.uuid, 'uuid');
					assert.equal(r[3], m.cidName, 'caller id name');
					assert.equal(r[4], m.cidNum, 'caller id number');
					assert.match(r[5], /^hear\|speak(\|talking)?(\|floor)?$/, `flags ${r[5]}`);
					assert.deepEqual(r.slice(6), ['0', '0', '100'], 'vol_in;vol_out;energy');
				}
				assert.ok(byId.get(A.id)[5].includes('talking'), 'A (sending a tone) is talking');
				assert.ok(!byId.get(C.id)[5].includes('talking'), 'C (silent) is not talking');
				assert.equal(rows.filter((r) => r[5].includes('floor')).length, 1,
					'exactly one member has the floor');

				assert.equal(await api(`conference ${ROOM} list count`), '3');
				assert.equal(await api(`conference ${ROOM} count`), '3');
				assert.equal(await api('conference count'), '1');

				const pretty = await api(`conference ${ROOM} list pretty`);
				for (const m of [A, B, C])
					assert.ok(pretty.includes(`${m.id}) ${m.cidName} (${m.cidNum})\n`),
						`pretty line for ${m.id}: ${JSON.stringify(pretty)}`);

				const delim = await api(`conference ${ROOM} list delim |`);
				for (const m of [A, B, C])
					assert.ok(delim.includes(`${m.id}|${m.name}|${m.uuid}|${m.cidName}|${m.cidNum}|`),
						`delim | line for ${m.id}: ${JSON.stringify(delim)}`);

				const all = (await api('conference list')).split('\n');
				assert.match(all[0],
					new RegExp(`^\\+OK Conference ${ROOM} \\(3 members rate: 8000 flags: [a-z_|]+\\)$`),
					`header line: ${JSON.stringify(all[0])}`);
				assert.deepEqual(all.slice(1).filter((l) => l).sort(),
					body.split('\n').filter((l) => l).sort(), 'then the member lines');

				assert.equal(await api('conference nosuch list'),
					'-ERR Conference nosuch not found\n');
				assert.equal(await api(`conference ${ROOM} nosubcmd`),
					'-ERR Conference command \'nosubcmd\' not found.\n');
				assert.equal(await api(`conference ${ROOM} mute 999`),
					'-ERR Non-Existant ID 999\n');

				const jtext = await api(`conference ${ROOM} json_list`);
				let j;
				assert.doesNotThrow(() => { j = JSON.parse(jtext); }, `json_list: ${jtext}`);
				assert.ok(Array.isArray(j), 'an array of conferences');
				const jc = j.find((x) => x.conference_name === ROOM);
				assert.ok(jc, `conference ${ROOM} in ${jtext}`);
				assert.equal(Number(jc.member_count), 3);
				assert.ok(Array.isArray(jc.members) && jc.members.length === 3, 'three members');
				for (const m of [A, B, C]) {
					const jm = jc.members.find((x) => String(x.id) === m.id);
					assert.ok(jm, `member ${m.id} in json_list`);
					assert.equal(jm.uuid, m.uuid);
					assert.equal(jm.type, 'caller');
					assert.equal(jm.flags.can_speak, true);
					assert.equal(jm.flags.can_hear, true);
				}
				const xml = await api(`conference ${ROOM} xml_list`);
				assert.match(xml, new RegExp(`<conference name="${ROOM}" member-count="3"`));
			});

		await sub('mute: +OK mute <id>, mute-member, the others stop hearing A; unmute', T,
			async () => {
				assert.ok(A && B && C, 'the members of the first sub-test');
				const base = heard(B.phone).p[1000];
				let mark = ev.mark();
				assert.equal(await api(`conference ${ROOM} mute ${A.id}`), `+OK mute ${A.id}\n`);
				const e = await ev.wait(act('mute-member', { 'Member-ID': A.id }),
					{ from: mark, what: 'mute-member for A' });
				assert.equal(e.Speak, 'false');
				await until('B stops hearing A (1000 Hz)', () => {
					const m = heard(B.phone, 400);
					return { ok: m.p[1000] * 1000 < base, info: show(m) };
				});
				await until('C hears B but not A', () => {
					const m = heard(C.phone, 400);
					return { ok: hears(m, 1400) && m.p[1400] > 100 * m.p[1000], info: show(m) };
				});
				const line = roomMembers(await api(`conference ${ROOM} list`))
					.find((r) => r[0] === A.id);
				assert.ok(line && !line[5].split('|').includes('speak'),
					`A's flags lose speak: ${line && line[5]}`);
				mark = ev.mark();
				assert.equal(await api(`conference ${ROOM} unmute ${A.id}`),
					`+OK unmute ${A.id}\n`);
				const u = await ev.wait(act('unmute-member', { 'Member-ID': A.id }),
					{ from: mark, what: 'unmute-member for A' });
				assert.equal(u.Speak, 'true');
				await until('B hears A again', () => {
					const m = heard(B.phone, 400);
					return { ok: hears(m, 1000), info: show(m) };
				});
			});

		await sub('deaf: C receives (near) silence, the others go on; undeaf', T, async () => {
			assert.ok(A && B && C, 'the members of the first sub-test');
			let mark = ev.mark();
			assert.equal(await api(`conference ${ROOM} deaf ${C.id}`), `+OK deaf ${C.id}\n`);
			const e = await ev.wait(act('deaf-member', { 'Member-ID': C.id }),
				{ from: mark, what: 'deaf-member for C' });
			assert.equal(e.Hear, 'false');
			await until('C hears (near) silence', () => {
				const m = heard(C.phone, 400);
				return { ok: m.rms < 150 && m.p[1000] < 1e6 && m.p[1400] < 1e6, info: show(m) };
			});
			const a = heard(A.phone, 400);
			assert.ok(hears(a, 1400), `A still hears B: ${show(a)}`);
			mark = ev.mark();
			assert.equal(await api(`conference ${ROOM} undeaf ${C.id}`), `+OK undeaf ${C.id}\n`);
			await ev.wait(act('undeaf-member', { 'Member-ID': C.id }),
				{ from: mark, what: 'undeaf-member for C' });
			await until('C hears A and B again', () => {
				const m = heard(C.phone, 400);
				return { ok: hears(m, 1000) && hears(m, 1400), info: show(m) };
			});
		});

		await sub('+flags{mute}: the joiner hears the room, nobody hears it', T, async () => {
			assert.ok(A && B && C, 'the members of the first sub-test');
			const mark = ev.mark();
			const E = await dial('76' + ROOM.slice(2), 2400);
			let killed = false;
			try {
				const add = await ev.wait(act('add-member', { 'Unique-ID': E.uuid }),
					{ from: mark, what: 'add-member for the muted joiner' });
				assert.equal(add.Speak, 'false', 'joins muted');
				assert.equal(add.Hear, 'true');
				const line = roomMembers(await api(`conference ${ROOM} list`))
					.find((r) => r[2] === E.uuid);
				assert.ok(line, 'listed');
				assert.ok(!line[5].split('|').includes('speak'), `no speak flag: ${line[5]}`);
				await h.sleep(1000);
				await until('E hears A and B', () => {
					const m = heard(E.phone);
					return { ok: hears(m, 1000) && hears(m, 1400), info: show(m) };
				});
				for (const [who, m] of [['A', A], ['B', B], ['C', C]]) {
					const w = heard(m.phone);
					const wanted = m === A ? 1400 : 1000;
					assert.ok(w.p[2400] * 100 < w.p[wanted], `${who} does not hear E: ${show(w)}`);
				}
				const mark2 = ev.mark();
				killed = true;
				assert.equal(await api(`uuid_kill ${E.uuid}`), '+OK\n');
				await ev.wait(act('del-member', { 'Unique-ID': E.uuid }),
					{ from: mark2, what: 'del-member for E' });
				const r = await sippDone(E.uac, 15000, 'E');
				assert.equal(r.code, 0, r.err + r.out);
				assert.equal(await api(`conference ${ROOM} list count`), '3');
			} finally {
				if (!killed)
					await api(`uuid_kill ${E.uuid}`);
			}
		});

		await sub('DTMF 0 (RFC 4733) toggles mute: mute-member, then unmute-member', T,
			async () => {
				assert.ok(A && B && C, 'the members of the first sub-test');
				/* the exit sound of E is over before the check */
				await h.sleep(700);
				let mark = ev.mark();
				B.phone.stopTone();
				await B.phone.sendDigit('0');
				B.phone.startTone(1400, { pt: 0 });
				const e = await ev.wait(act('mute-member', { 'Member-ID': B.id }),
					{ from: mark, what: 'mute-member for B after DTMF 0' });
				assert.equal(e.Speak, 'false');
				await until('A stops hearing B', () => {
					const m = heard(A.phone, 400);
					return { ok: m.p[1400] < 1e6, info: show(m) };
				});
				assert.equal(await api(`uuid_getvar ${B.uuid} conference_last_matching_digits`),
					'0');
				mark = ev.mark();
				B.phone.stopTone();
				await B.phone.sendDigit('0');
				B.phone.startTone(1400, { pt: 0 });
				const u = await ev.wait(act('unmute-member', { 'Member-ID': B.id }),
					{ from: mark, what: 'unmute-member for B after the second DTMF 0' });
				assert.equal(u.Speak, 'true');
				await until('A hears B again', () => {
					const m = heard(A.phone, 400);
					return { ok: hears(m, 1400), info: show(m) };
				});
			});

		await sub('play to the room: every member hears it, then play-file-done', T,
			async () => {
				assert.ok(A && B && C, 'the members of the first sub-test');
				const file = 'tone_stream://%(1000,0,2000)';
				const mark = ev.mark(), t0 = Date.now();
				assert.equal(await api(`conference ${ROOM} play ${file}`),
					`+OK (play) Playing file ${file}\n`);
				const done = await ev.wait(act('play-file-done', { File: file }),
					{ from: mark, ms: 15000, what: 'play-file-done' });
				await h.sleep(300);
				for (const [who, m] of [['A', A], ['B', B], ['C', C]]) {
					const n = tonePackets(m.phone, 2000, t0);
					assert.ok(n >= 10 && n <= 70, `${who} heard about 1 s of 2000 Hz (${n} packets; ` +
						`${timeline(m.phone, t0)})`);
				}
				assert.ok(Number(done.milliseconds) >= 900, `milliseconds ${done.milliseconds}`);
				assert.ok(ev.all(act('play-file', { File: file }), mark).length === 1,
					'one play-file event');
				assert.ok(tonePackets(C.phone, 2000, Date.now() - 200) <= 1, 'and it stopped');
			});

		await sub('play of a relative file name: found under sound_prefix, heard by all', T,
			async () => {
				assert.ok(A && B && C, 'the members of the first sub-test');
				/* the 2200 Hz test prompt written over the shipped locked sound */
				const file = 'conference/conf-locked.wav';
				const mark = ev.mark(), t0 = Date.now();
				assert.equal(await api(`conference ${ROOM} play ${file}`),
					`+OK (play) Playing file ${file}\n`);
				await ev.wait(act('play-file-done', { File: file }),
					{ from: mark, ms: 15000, what: 'play-file-done' });
				await h.sleep(300);
				for (const [who, m] of [['A', A], ['B', B], ['C', C]]) {
					const n = tonePackets(m.phone, 2200, t0);
					assert.ok(n >= 10 && n <= 70, `${who} heard about 1 s of 2200 Hz (${n} packets; ` +
						`${timeline(m.phone, t0)})`);
				}
			});

		await sub('play to one member: only that member hears it, play-file-member-done', T,
			async () => {
				assert.ok(A && B && C, 'the members of the first sub-test');
				const file = 'tone_stream://%(800,0,1700)';
				const mark = ev.mark(), t0 = Date.now();
				assert.equal(await api(`conference ${ROOM} play ${file} ${C.id}`),
					`+OK (play) Playing file ${file} to member ${C.id}\n`);
				const done = await ev.wait(act('play-file-member-done', { File: file }),
					{ from: mark, ms: 15000, what: 'play-file-member-done' });
				assert.equal(done['Member-ID'], C.id);
				await h.sleep(300);
				const nc = tonePackets(C.phone, 1700, t0);
				assert.ok(nc >= 8 && nc <= 60, `C heard about 0.8 s of 1700 Hz (${nc} packets; ` +
					`${timeline(C.phone, t0)})`);
				assert.ok(tonePackets(A.phone, 1700, t0) <= 2, 'A did not');
				assert.ok(tonePackets(B.phone, 1700, t0) <= 2, 'B did not');
				const m = heard(C.phone, 400);
				assert.ok(hears(m, 1000) && hears(m, 1400), `C still hears the room: ${show(m)}`);
			});

		await sub('pause_play toggles the room file (Pause, then Resume), file-vol turns it down',
			T, async () => {
				assert.ok(A && B && C, 'the members of the first sub-test');
				/* an empty output reaches an event-socket client as FreeSWITCH's "no reply" */
				assert.equal(await api(`conference ${ROOM} pause_play`), '-ERR no reply\n',
					'nothing plays');
				assert.equal(await api(`conference ${ROOM} file-vol 2`), '-ERR File not playing\n');
				assert.equal(await api(`conference ${ROOM} file-vol`), '-ERR missing args\n');
				assert.equal(await api(`conference ${ROOM} pause_play 999`),
					'-ERR Member: 999 not found.\n');
				const file = 'tone_stream://%(8000,0,2000)';
				const mark = ev.mark();
				await api(`conference ${ROOM} play ${file}`);
				await ev.wait(act('play-file', { File: file }), { from: mark, what: 'play-file' });
				await h.sleep(600);
				assert.equal(await api(`conference ${ROOM} pause_play`), '+OK Pause\n');
				const t1 = Date.now();
				await h.sleep(1000);
				const paused = tonePackets(C.phone, 2000, t1 + 200, t1 + 1000);
				assert.ok(paused <= 2, `no 2000 Hz while paused (${paused} packets; ` +
					`${timeline(C.phone, t1)})`);
				assert.equal(await api(`conference ${ROOM} pause_play`), '+OK Resume\n');
				const t2 = Date.now();
				await h.sleep(800);
				const loud = heard(C.phone, 500);
				const resumed = tonePackets(C.phone, 2000, t2 + 200);
				assert.ok(resumed >= 10, `2000 Hz again (${resumed} packets; ${timeline(C.phone, t2)})`);
				assert.equal(await api(`conference ${ROOM} file-vol -4`), '+OK volume changed\n');
				await h.sleep(800);
				const soft = heard(C.phone, 500);
				assert.ok(soft.p[2000] < loud.p[2000] / 4, `quieter at -4: ${show(loud)} -> ${show(soft)}`);
				assert.equal(await api(`conference ${ROOM} stop`), '+OK Stopped 1 files.\n');
				assert.equal(await api(`conference ${ROOM} file-vol 0`), '-ERR File not playing\n');
			});

		await sub('stop: play-file-done for each file stopped (current, async, all), ' +
			'play-file-member-done for a member\'s', T, async () => {
			assert.ok(A && B && C, 'the members of the first sub-test');
			const f1 = 'tone_stream://%(8000,0,2000)', f2 = 'tone_stream://%(8000,0,2200)';
			const f3 = 'tone_stream://%(8000,0,1800)', f4 = 'tone_stream://%(8000,0,1700)';
			const done = (f, extra = {}) => act('play-file-done', { File: f, ...extra });
			let mark = ev.mark();
			for (const f of [f1, f2, f3])
				await api(`conference ${ROOM} play ${f}`);
			await ev.wait(act('play-file', { File: f3 }), { from: mark, what: 'play-file' });
			await h.sleep(700);
			assert.equal(await api(`conference ${ROOM} stop current`), '+OK Stopped 1 files.\n');
			const d1 = await ev.wait(done(f1), { from: mark, what: 'play-file-done of f1' });
			/* FreeSWITCH's order: the counts, Action, File */
			const keys = Object.keys(d1);
			assert.ok(keys.indexOf('seconds') < keys.indexOf('milliseconds') &&
				keys.indexOf('samples') < keys.indexOf('Action') &&
				keys.indexOf('Action') < keys.indexOf('File'), `header order: ${keys}`);
			const ms1 = Number(d1.milliseconds);
			assert.ok(ms1 >= 400 && ms1 < 8000, `f1 played ${ms1} ms`);
			assert.equal(d1.samples, String(ms1 * 8));
			const t1 = Date.now();
			await until('the next file plays: C hears 2200 Hz', () => {
				const n = tonePackets(C.phone, 2200, t1);
				return { ok: n >= 10, info: timeline(C.phone, t1) };
			});
			assert.ok(!ev.all(done(f2), mark).length, 'f2 still plays');
			/* an async file queued behind: stop async ends it alone */
			const fa = 'tone_stream://%(8000,0,2400)';
			await api(`conference ${ROOM} play ${fa} async`);
			assert.equal(await api(`conference ${ROOM} stop async`), '+OK Stopped 1 files.\n');
			const da = await ev.wait(done(fa), { from: mark, what: 'play-file-done of the async file' });
			assert.equal(da.Async, 'true');
			assert.equal(da.milliseconds, '0', 'it never played');
			mark = ev.mark();
			assert.equal(await api(`conference ${ROOM} stop`), '+OK Stopped 2 files.\n');
			const d2 = await ev.wait(done(f2), { from: mark, what: 'play-file-done of f2' });
			const d3 = await ev.wait(done(f3), { from: mark, what: 'play-file-done of f3' });
			assert.ok(Number(d2.milliseconds) > 0, `f2 played: ${d2.milliseconds}`);
			assert.equal(d3.milliseconds, '0');
			assert.equal(await api(`conference ${ROOM} stop`), '+OK Stopped 0 files.\n');
			/* a member's file */
			mark = ev.mark();
			assert.equal(await api(`conference ${ROOM} play ${f4} ${C.id}`),
				`+OK (play) Playing file ${f4} to member ${C.id}\n`);
			await h.sleep(500);
			assert.equal(await api(`conference ${ROOM} stop all ${C.id}`),
				'+OK Stopped 1 files.\n');
			const dm = await ev.wait(act('play-file-member-done', { File: f4 }),
				{ from: mark, what: 'play-file-member-done' });
			assert.equal(dm['Member-ID'], C.id);
			assert.ok(Number(dm.milliseconds) >= 200 && Number(dm.milliseconds) < 8000,
				`member file played ${dm.milliseconds} ms`);
			assert.equal(dm.seconds, String(Math.floor(Number(dm.milliseconds) / 1000)));
			assert.equal(await api(`conference ${ROOM} stop all ${C.id}`),
				'+OK Stopped 0 files.\n');
			assert.equal(await api(`conference ${ROOM} stop sideways`),
				'stop <[current|all|async|last]> [<member_id>]', 'a bad mode: the usage');
		});

		await sub('record: start-recording, a 16-bit 8 kHz WAV of the mix, norecord all', T,
			async () => {
				assert.ok(A && B && C, 'the members of the first sub-test');
				const file = path.join(server.dir, 'conf-rec.wav');
				let mark = ev.mark();
				assert.equal(await api(`conference ${ROOM} record ${file}`),
					`+OK Record file ${file}\n`);
				const st = await ev.wait(act('start-recording', { Path: file }),
					{ from: mark, what: 'start-recording' });
				assert.equal(st.Error, undefined, 'no error');
				await h.sleep(1600);
				mark = ev.mark();
				assert.equal(await api(`conference ${ROOM} norecord all`),
					'+OK Stopped recording 1 file\n');
				const sp = await ev.wait(act('stop-recording', { Path: file }),
					{ from: mark, what: 'stop-recording' });
				assert.ok(Number(sp['Milliseconds-Elapsed']) >= 1400,
					`Milliseconds-Elapsed ${sp['Milliseconds-Elapsed']}`);
				assert.equal(sp['Other-Recordings'], 'false');
				const wav = await completeWav(file);
				assert.deepEqual(wav.fmt, { format: 1, channels: 1, rate: 8000, bits: 16 });
				assert.ok(wav.samples.length >= 1.2 * RATE && wav.samples.length <= 4 * RATE,
					`about 1.6 s (${wav.samples.length / RATE} s)`);
				assertRoomTones(wav, 'the recording');
			});

		await sub('record to two files at once: check lists both, the same path twice is '
			+ 'refused, a failing third and a stopped first leave the second going', T,
		async () => {
			assert.ok(A && B && C, 'the members of the first sub-test');
			const f1 = path.join(server.dir, 'conf-rec-1.wav');
			const f2 = path.join(server.dir, 'conf-rec-2.wav');
			const size = (f) => fs.statSync(f).size;
			let mark = ev.mark();
			assert.equal(await api(`conference ${ROOM} record ${f1}`), `+OK Record file ${f1}\n`);
			assert.equal(await api(`conference ${ROOM} record ${f2}`), `+OK Record file ${f2}\n`);
			await ev.wait(act('start-recording', { Path: f1 }), { from: mark, what: 'start 1' });
			await ev.wait(act('start-recording', { Path: f2 }), { from: mark, what: 'start 2' });
			assert.equal(await api(`conference ${ROOM} record ${f1}`),
				`-ERR file [${f1}] is already being used for recording.\n`);
			const both = `+OK Record file ${f1}\n+OK Record file ${f2}\n`;
			assert.equal(await api(`conference ${ROOM} recording check`), both);
			/* /dev/full fails (at the open or a write): that recording alone stops. */
			mark = ev.mark();
			const full = await api(`conference ${ROOM} record /dev/full`);
			if (full.startsWith('+OK')) {
				const sp = await ev.wait(act('stop-recording', { Path: '/dev/full' }),
					{ from: mark, ms: 15000, what: 'stop-recording after the write error' });
				assert.ok(sp.Error, 'stop-recording says it failed');
				assert.equal(sp['Other-Recordings'], 'true');
			} else {
				assert.ok(full.startsWith('-ERR Cannot record to /dev/full: '), full);
			}
			assert.equal(await api(`conference ${ROOM} chkrecord`), both);
			/* Eight at once, a ninth refused; the six extra ones stop one by one. */
			const extra = [3, 4, 5, 6, 7, 8].map((i) => path.join(server.dir, `conf-rec-${i}.wav`));
			for (const f of extra)
				assert.equal(await api(`conference ${ROOM} record ${f}`), `+OK Record file ${f}\n`);
			assert.equal(await api(`conference ${ROOM} record ${server.dir}/conf-rec-9.wav`),
				'-ERR Conference is already being recorded to 8 files.\n');
			for (const f of extra)
				assert.equal(await api(`conference ${ROOM} norecord ${f}`),
					'+OK Stopped recording 1 file\n');
			assert.equal(await api(`conference ${ROOM} chkrecord`), both);
			await h.sleep(1000);
			mark = ev.mark();
			assert.equal(await api(`conference ${ROOM} norecord ${f1}`),
				'+OK Stopped recording 1 file\n');
			const s1 = await ev.wait(act('stop-recording', { Path: f1 }),
				{ from: mark, what: 'stop-recording of the first' });
			assert.equal(s1['Other-Recordings'], 'true');
			assert.equal(ev.all(act('stop-recording', { Path: f2 }), mark).length, 0,
				'the second did not stop');
			assert.equal(await api(`conference ${ROOM} recording check`),
				`+OK Record file ${f2}\n`);
			const w1 = await completeWav(f1);
			assertRoomTones(w1, 'the first file');
			const at = size(f2);
			await until('the second WAV keeps growing', () => ({
				ok: size(f2) >= at + RATE, info: `${size(f2) - at} bytes more` }), 10000);
			/* Paused, the second stops growing (the drain writes what was queued). */
			mark = ev.mark();
			assert.equal(await api(`conference ${ROOM} pause ${f2}`),
				`+OK Pause recording file ${f2}\n`);
			await ev.wait(act('pause-recording', { Path: f2 }), { from: mark, what: 'pause' });
			await h.sleep(500);
			const paused = size(f2);
			await h.sleep(1000);
			assert.ok(size(f2) - paused < RATE / 4, `paused: ${size(f2) - paused} bytes more`);
			assert.equal(await api(`conference ${ROOM} resume ${f2}`),
				`+OK Resume recording file ${f2}\n`);
			await until('the second WAV grows again', () => ({
				ok: size(f2) >= paused + RATE, info: `${size(f2) - paused} bytes more` }), 10000);
			mark = ev.mark();
			assert.equal(await api(`conference ${ROOM} norecord all`),
				'+OK Stopped recording 1 file\n');
			const s2 = await ev.wait(act('stop-recording', { Path: f2 }),
				{ from: mark, what: 'stop-recording of the second' });
			assert.equal(s2['Other-Recordings'], 'false');
			const w2 = await completeWav(f2);
			assert.ok(w2.samples.length >= w1.samples.length + RATE / 2,
				`the second is longer (${w2.samples.length} vs ${w1.samples.length} samples)`);
			assertRoomTones(w2, 'the second file');
			assert.equal(await api(`conference ${ROOM} norecord all`),
				'+OK Stopped recording 0 files\n');
			assert.equal(await api(`conference ${ROOM} chkrecord`),
				'-ERR Conference is not being recorded.\n');
		});

		await sub('record to an unwritable path and to a full disk: an error, the room goes on',
			T, async () => {
				assert.ok(A && B && C, 'the members of the first sub-test');
				const bad = '/proc/no/such/dir/x.wav';
				let mark = ev.mark();
				const out = await api(`conference ${ROOM} record ${bad}`);
				assert.ok(out.startsWith(`-ERR Cannot record to ${bad}: `), out);
				const st = await ev.wait(act('start-recording', { Path: bad }),
					{ from: mark, what: 'start-recording with an error' });
				assert.equal(st.Error, 'File could not be opened for recording');
				assert.equal(await api(`conference ${ROOM} chkrecord`),
					'-ERR Conference is not being recorded.\n');
				/* /dev/full takes the open and fails every write (ENOSPC). */
				mark = ev.mark();
				const full = await api(`conference ${ROOM} record /dev/full`);
				if (full.startsWith('+OK')) {
					const sp = await ev.wait(act('stop-recording', { Path: '/dev/full' }),
						{ from: mark, ms: 15000, what: 'stop-recording after the write error' });
					assert.ok(sp.Error, 'stop-recording says it failed');
				} else {
					assert.ok(full.startsWith('-ERR Cannot record to /dev/full'), full);
				}
				await until('the members still hear each other', () => {
					const m = heard(C.phone);
					return { ok: hears(m, 1000) && hears(m, 1400), info: show(m) };
				});
			});

		let lockD = null;
		await sub('lock: +OK <room> locked, a new caller hears the locked sound and is '
			+ 'not let in; unlock', T, async () => {
			assert.ok(A && B && C, 'the members of the first sub-test');
			let mark = ev.mark();
			assert.equal(await api(`conference ${ROOM} lock`), `+OK ${ROOM} locked\n`);
			await ev.wait(act('lock'), { from: mark, what: 'lock event' });
			let unlocked = false;
			try {
				assert.match(await api('conference list'),
					new RegExp(`^\\+OK Conference ${ROOM} \\(3 members rate: 8000 locked flags: `),
					'the header says locked');
				const t0 = Date.now();
				const D = await dial(ROOM, 0);
				lockD = D;
				const seen = roomMembers(await api(`conference ${ROOM} list`));
				assert.ok(!seen.some((r) => r[2] === D.uuid), 'not in the list');
				const r = await sippDone(D.uac, 20000, 'the refused caller');
				assert.equal(r.code, 0, `the refused caller gets a BYE: ${r.err}${r.out}`);
				assert.equal(ev.all(act('add-member', { 'Unique-ID': D.uuid }), mark).length, 0,
					'no add-member for the refused caller');
				assert.equal(await api(`conference ${ROOM} list count`), '3');
				const n = tonePackets(D.phone, 2200, t0);
				assert.ok(n >= 5, `the caller heard the locked sound (${n} packets of 2200 Hz; ` +
					`${timeline(D.phone, t0)})`);
				assert.ok(tonePackets(D.phone, 1000, t0) <= 2 && tonePackets(D.phone, 1400, t0) <= 2,
					'and never the room');
				mark = ev.mark();
				unlocked = true;
				assert.equal(await api(`conference ${ROOM} unlock`), `+OK ${ROOM} unlocked\n`);
				await ev.wait(act('unlock'), { from: mark, what: 'unlock event' });
			} finally {
				if (!unlocked)
					await api(`conference ${ROOM} unlock`);
			}
		});

		await sub('after a refusal the dialplan goes on (the conference app returned)', T,
			async () => {
				assert.ok(lockD, 'the refused caller of the lock sub-test');
				const n = tonePackets(lockD.phone, 2600, 0);
				assert.ok(n >= 5, `the next playback ran (${n} packets of 2600 Hz; ` +
					`${timeline(lockD.phone)})`);
			});

		let kickAt = 0;
		await sub('kick: +OK kicked <id>, kick-member then del-member, the call ends', T,
			async () => {
				assert.ok(A && B && C, 'the members of the first sub-test');
				const mark = ev.mark();
				kickAt = Date.now();
				assert.equal(await api(`conference ${ROOM} kick ${C.id}`), `+OK kicked ${C.id}\n`);
				const k = await ev.wait(act('kick-member', { 'Member-ID': C.id }),
					{ from: mark, what: 'kick-member' });
				const d = await ev.wait(act('del-member', { 'Member-ID': C.id }),
					{ from: mark, what: 'del-member after the kick' });
				assert.ok(k.index < d.index, 'kick-member before del-member');
				const rows = roomMembers(await api(`conference ${ROOM} list`));
				assert.ok(!rows.some((r) => r[0] === C.id), 'C is no longer listed');
				assert.equal(await api(`conference ${ROOM} list count`), '2');
				const r = await sippDone(C.uac, 20000, 'the kicked caller');
				assert.equal(r.code, 0, `the kicked caller gets a BYE: ${r.err}${r.out}`);
			});

		await sub('the kicked member hears the kicked sound, then the dialplan goes on', T,
			async () => {
				assert.ok(kickAt, 'the kick sub-test ran');
				const k = tonePackets(C.phone, 1800, kickAt);
				assert.ok(k >= 5, `the kicked sound (${k} packets of 1800 Hz; ` +
					`since the kick: ${timeline(C.phone, kickAt)})`);
				const n = tonePackets(C.phone, 2600, kickAt);
				assert.ok(n >= 5, `then the next playback (${n} packets of 2600 Hz)`);
			});

		/*
		 * Outcalls: SIPp UASs registered as directory users, one user per UAS
		 * (a SIP port left free between two SIPp runs may be taken meanwhile by
		 * a test running in parallel). A dialled member leaves with `hup`.
		 */
		const hupMember = (id) => api(`conference ${ROOM} hup ${id}`);

		await sub('bgdial to a registered phone: Job-UUID, bgdial-result and outcall-result '
			+ 'SUCCESS, add-member', T, async () => {
			assert.ok(A && B, 'the members of the first sub-test');
			const u1001 = await uas('1001', 'uas_media.xml');
			const mark = ev.mark();
			const dest = `user/1001@${domain}`;
			const reply = await api(`conference ${ROOM} bgdial ${dest} 1234 Test`);
			const m = /^\+OK Job-UUID: ([0-9a-f-]{36})\n$/.exec(reply);
			assert.ok(m, `reply ${JSON.stringify(reply)}`);
			const job = m[1];
			const bg = await ev.wait(act('bgdial-result', { 'Job-UUID': job }),
				{ from: mark, ms: 20000, what: 'bgdial-result' });
			assert.equal(bg.Result, 'SUCCESS');
			assert.match(bg['Peer-UUID'] || '', /^[0-9a-f-]{36}$/);
			const oc = await ev.wait(act('outcall-result', { 'Job-UUID': job }),
				{ from: mark, what: 'outcall-result' });
			assert.equal(oc.Destination, dest);
			assert.equal(oc.Result, 'SUCCESS');
			assert.equal(oc.Attempt, '1');
			assert.equal(oc.Attempts, '1');
			assert.equal(oc.Final, 'true');
			assert.equal(oc['Peer-UUID'], bg['Peer-UUID']);
			const add = await ev.wait(act('add-member', { 'Unique-ID': bg['Peer-UUID'] }),
				{ from: mark, what: 'add-member for the dialled leg' });
			assert.equal(add['Caller-Direction'], 'outbound');
			assert.equal(await api(`uuid_getvar ${bg['Peer-UUID']} conference_bgdial_jobid`), job);
			/* the new member is in the mix */
			const lport = Number(await waitVar(bg['Peer-UUID'], 'local_media_port'));
			assert.ok(lport > 0, 'the leg has media');
			u1001.phone.remote = { host: h.HOST, port: lport };
			u1001.phone.startTone(0, { pt: 0 });
			await until('the dialled phone hears A and B', () => {
				const w = heard(u1001.phone);
				return { ok: hears(w, 1000) && hears(w, 1400), info: show(w) };
			});
			const id = add['Member-ID'];
			const mark2 = ev.mark();
			const hr = await hupMember(id);
			if (hr !== `+OK hup ${id}\n`)
				await api(`uuid_kill ${bg['Peer-UUID']}`);
			assert.equal(hr, `+OK hup ${id}\n`);
			await ev.wait(act('del-member', { 'Member-ID': id }),
				{ from: mark2, what: 'del-member for the dialled leg' });
			const r = await sippDone(u1001.sipp, 15000, 'the answering UAS');
			assert.equal(r.code, 0, `the dialled leg is hung up when it leaves: ${r.err}${r.out}`);
		});

		/* Waits for the bgdial-result and outcall-result(s) of one bgdial. */
		async function bgdial(dest, n = 1) {
			const mark = ev.mark();
			const reply = await api(`conference ${ROOM} bgdial ${dest} 1234 Test`);
			const m = /^\+OK Job-UUID: ([0-9a-f-]{36})\n$/.exec(reply);
			assert.ok(m, `reply ${JSON.stringify(reply)}`);
			const job = m[1];
			const bg = await ev.wait(act('bgdial-result', { 'Job-UUID': job }),
				{ from: mark, ms: 20000, what: `bgdial-result for ${dest}` });
			await until(`${n} outcall-result event(s)`, () => ({
				ok: ev.all(act('outcall-result', { 'Job-UUID': job }), mark).length >= n,
				info: JSON.stringify(ev.all(act('outcall-result', { 'Job-UUID': job }), mark)
					.map((e) => [e.Destination, e.Result, e.Attempt, e.Final])),
			}), 5000);
			return { job, bg, oc: ev.all(act('outcall-result', { 'Job-UUID': job }), mark), mark };
		}

		await sub('bgdial to a busy phone: USER_BUSY', T, async () => {
			assert.ok(A && B, 'the members of the first sub-test');
			const busy = await uas('1002', 'uas_busy.xml');
			const dest = `user/1002@${domain}`;
			const { bg, oc } = await bgdial(dest);
			assert.equal(bg.Result, 'USER_BUSY');
			assert.equal(bg['Peer-UUID'], undefined, 'no Peer-UUID on failure');
			assert.equal(oc.length, 1);
			assert.equal(oc[0].Destination, dest);
			assert.equal(oc[0].Result, 'USER_BUSY');
			assert.equal(oc[0].Final, 'true');
			const r = await sippDone(busy.sipp, 15000, 'the busy UAS');
			assert.equal(r.code, 0, r.err + r.out);
		});

		await sub('bgdial to a user who is not registered: USER_NOT_REGISTERED', T,
			async () => {
				assert.ok(A && B, 'the members of the first sub-test');
				const dest = `user/1019@${domain}`;
				const { bg, oc } = await bgdial(dest);
				assert.equal(bg.Result, 'USER_NOT_REGISTERED');
				assert.equal(oc.length, 1);
				assert.equal(oc[0].Destination, dest);
				assert.equal(oc[0].Result, 'USER_NOT_REGISTERED');
				assert.equal(oc[0].Attempt, '1');
				assert.equal(oc[0].Final, 'true');
			});

		await sub('bgdial to error/user_busy: USER_BUSY', T, async () => {
			assert.ok(A && B, 'the members of the first sub-test');
			const { bg, oc } = await bgdial('error/user_busy');
			assert.equal(bg.Result, 'USER_BUSY');
			assert.equal(oc.length, 1);
			assert.equal(oc[0].Destination, 'error/user_busy');
			assert.equal(oc[0].Result, 'USER_BUSY');
		});

		await sub('bgdial with a fallback: USER_NOT_REGISTERED (1 of 2, not final), then '
			+ 'SUCCESS (2 of 2, final)', T, async () => {
			assert.ok(A && B, 'the members of the first sub-test');
			const u1003 = await uas('1003', 'uas_media.xml');
			const first = `user/1019@${domain}`, second = `user/1003@${domain}`;
			const { bg, oc, mark } = await bgdial(`${first}|${second}`, 2);
			assert.equal(oc.length, 2, JSON.stringify(oc.map((e) => [e.Destination, e.Result])));
			assert.deepEqual([oc[0].Destination, oc[0].Result, oc[0].Attempt, oc[0].Attempts,
				oc[0].Final], [first, 'USER_NOT_REGISTERED', '1', '2', 'false']);
			assert.deepEqual([oc[1].Destination, oc[1].Result, oc[1].Attempt, oc[1].Attempts,
				oc[1].Final], [second, 'SUCCESS', '2', '2', 'true']);
			assert.equal(oc[0]['Peer-UUID'], undefined);
			assert.match(oc[1]['Peer-UUID'] || '', /^[0-9a-f-]{36}$/);
			assert.equal(bg.Result, 'SUCCESS');
			assert.equal(bg['Peer-UUID'], oc[1]['Peer-UUID']);
			const add = await ev.wait(act('add-member', { 'Unique-ID': bg['Peer-UUID'] }),
				{ from: mark, what: 'add-member for the fallback leg' });
			const id = add['Member-ID'];
			const hr = await hupMember(id);
			if (hr !== `+OK hup ${id}\n`)
				await api(`uuid_kill ${bg['Peer-UUID']}`);
			assert.equal(hr, `+OK hup ${id}\n`);
			const r = await sippDone(u1003.sipp, 15000, 'the fallback UAS');
			assert.equal(r.code, 0, r.err + r.out);
		});

		await sub('dial (blocking): +OK Call Requested: result: [SUCCESS] / [USER_BUSY]', T,
			async () => {
				assert.ok(A && B, 'the members of the first sub-test');
				const again = await uas('1004', 'uas_media.xml');
				const mark = ev.mark();
				const before = new Set((await channels()).map((r) => r.uuid));
				assert.equal(await api(`conference ${ROOM} dial user/1004@${domain} 1234 Test`, 40000),
					'+OK Call Requested: result: [SUCCESS]\n');
				const add = await ev.wait((e) => act('add-member')(e) &&
					!before.has(e['Unique-ID']), { from: mark, what: 'add-member for the dialled leg' });
				assert.equal(add['Caller-Direction'], 'outbound');
				const id = add['Member-ID'];
				const hr = await hupMember(id);
				if (hr !== `+OK hup ${id}\n`)
					await api(`uuid_kill ${add['Unique-ID']}`);
				assert.equal(hr, `+OK hup ${id}\n`);
				const r = await sippDone(again.sipp, 15000, 'the UAS for dial');
				assert.equal(r.code, 0, r.err + r.out);
				assert.equal(await api(`conference ${ROOM} dial error/user_busy 1234 Test`),
					'+OK Call Requested: result: [USER_BUSY]\n');
				assert.match(await api(`conference ${ROOM} dial`), /^-ERR Bad Args\n/);
			});

		await sub('a locked room still takes a member it dialled out to (FreeSWITCH: the lock '
			+ 'holds only callers in)', T, async () => {
			assert.ok(A && B, 'the members of the first sub-test');
			const again = await uas('1005', 'uas_media.xml');
			assert.equal(await api(`conference ${ROOM} lock`), `+OK ${ROOM} locked\n`);
			let peer;
			try {
				const { bg, mark } = await bgdial(`user/1005@${domain}`);
				assert.equal(bg.Result, 'SUCCESS');
				peer = bg['Peer-UUID'];
				const add = await ev.wait(act('add-member', { 'Unique-ID': peer }),
					{ from: mark, what: 'add-member for the leg dialled into the locked room' });
				const id = add['Member-ID'];
				assert.equal(await hupMember(id), `+OK hup ${id}\n`);
			} finally {
				assert.equal(await api(`conference ${ROOM} unlock`), `+OK ${ROOM} unlocked\n`);
				if (peer)
					await api(`uuid_kill ${peer}`);
				const r = await h.within(again.sipp.done, 15000);
				if (!r)
					again.sipp.proc.kill('SIGKILL');
			}
		});

		/* ---- moving, the floor, levels, controls, pins, how rooms end ---------- */

		const ROOM2 = '7702';

		/* The test phone of `m` sends its own tone again (after digits, a pause). */
		function restartTone(m) {
			m.phone.startTone(m.freq, Object.assign({ pt: 0 }, m.toneOpts || {}));
		}

		/* RFC 4733 digits from `m`, its tone paused meanwhile (as the DTMF sub-test does). */
		async function press(m, digits) {
			m.phone.stopTone();
			try {
				for (const d of digits) {
					await m.phone.sendDigit(d);
					await h.sleep(60);
				}
			} finally {
				restartTone(m);
			}
		}

		/* Hang up the calls of these members that are still up (cleanup). */
		async function hangUpAll(ms) {
			const up = new Set((await channels()).map((r) => r.uuid));
			for (const m of ms)
				if (m && up.has(m.uuid))
					await api(`uuid_kill ${m.uuid}`);
		}

		/* Waits until `m` received `n` packets of `f` since `since`. */
		function hearsTone(m, f, since, what, ms = 10000, n = 5) {
			return until(what, () => ({ ok: tonePackets(m.phone, f, since) >= n,
				info: timeline(m.phone, since) }), ms);
		}

		function line(listBody, id) {
			return roomMembers(listBody).find((r) => r[0] === String(id));
		}

		let transferred = false;
		await sub('transfer: +OK Member sent to conference 7702, a transfer event, the new '
			+ 'room is made with the same member id, A and B no longer hear each other', T,
		async () => {
			assert.ok(A && B, 'the members of the first sub-test');
			const baseA = heard(A.phone).p[1400], baseB = heard(B.phone).p[1000];
			assert.ok(baseA > 0 && baseB > 0, 'A and B hear each other before the transfer');
			const mark = ev.mark();
			assert.equal(await api(`conference ${ROOM} transfer ${ROOM2} ${A.id}`),
				`+OK Member '${A.id}' sent to conference ${ROOM2}.\n`);
			transferred = true;
			const tr = await ev.wait(act('transfer', { 'Member-ID': A.id }),
				{ from: mark, what: 'transfer event in 7701' });
			assert.equal(tr['Old-Conference-Name'], ROOM);
			assert.equal(tr['New-Conference-Name'], ROOM2);
			assert.equal(tr['Unique-ID'], A.uuid, 'the member block is A\'s');
			const del = await ev.wait(act('del-member', { 'Member-ID': A.id }),
				{ from: mark, what: 'del-member for A in 7701' });
			const cr = await ev.wait(act('conference-create', {}, ROOM2),
				{ from: mark, what: 'conference-create for 7702' });
			const add = await ev.wait(act('add-member', { 'Member-ID': A.id }, ROOM2),
				{ from: mark, what: 'add-member for A in 7702' });
			assert.equal(add['Unique-ID'], A.uuid);
			assert.equal(add['Conference-Size'], '1');
			assert.ok(tr.index < del.index, 'transfer before the del-member');
			assert.ok(cr.index < add.index, 'conference-create before the add-member');
			assert.equal(await api(`conference ${ROOM2} list count`), '1');
			assert.equal(await api(`conference ${ROOM} list count`), '1');
			const l2 = roomMembers(await api(`conference ${ROOM2} list`));
			assert.deepEqual(l2.map((r) => [r[0], r[2]]), [[A.id, A.uuid]], 'A is 7702\'s member');
			assert.ok(!line(await api(`conference ${ROOM} list`), A.id), 'A left 7701');
			assert.equal(await api(`uuid_getvar ${A.uuid} last_transfered_conference`), ROOM2);
			assert.equal(await api(`uuid_getvar ${A.uuid} conference_name`), ROOM2);
			assert.equal(await api(`uuid_getvar ${A.uuid} conference_member_id`), A.id);
			await until('A no longer hears B (1400 Hz)', () => {
				const m = heard(A.phone, 400);
				return { ok: m.p[1400] * 1000 < baseA, info: show(m) };
			});
			await until('B no longer hears A (1000 Hz)', () => {
				const m = heard(B.phone, 400);
				return { ok: m.p[1000] * 1000 < baseB, info: show(m) };
			});
		});

		await sub('transfer back: 7702 is destroyed, A hears B again; a bad id and a missing '
			+ 'id', T, async () => {
			assert.ok(transferred, 'A was transferred to 7702');
			const mark = ev.mark();
			assert.equal(await api(`conference ${ROOM2} transfer ${ROOM} ${A.id}`),
				`+OK Member '${A.id}' sent to conference ${ROOM}.\n`);
			const tr = await ev.wait(act('transfer', { 'Member-ID': A.id }, ROOM2),
				{ from: mark, what: 'transfer event in 7702' });
			assert.equal(tr['Old-Conference-Name'], ROOM2);
			assert.equal(tr['New-Conference-Name'], ROOM);
			await ev.wait(act('conference-destroy', {}, ROOM2),
				{ from: mark, what: 'conference-destroy for the emptied 7702' });
			const add = await ev.wait(act('add-member', { 'Member-ID': A.id }),
				{ from: mark, what: 'add-member for A back in 7701' });
			transferred = false;
			assert.equal(add['Unique-ID'], A.uuid);
			assert.equal(add['Conference-Size'], '2');
			assert.equal(await api(`conference ${ROOM2} list`), `-ERR Conference ${ROOM2} not found\n`);
			assert.equal(await api(`conference ${ROOM} list count`), '2');
			await h.sleep(300);
			await until('A hears B again', () => {
				const m = heard(A.phone, 400);
				return { ok: hears(m, 1400), info: show(m) };
			});
			await until('B hears A again', () => {
				const m = heard(B.phone, 400);
				return { ok: hears(m, 1000), info: show(m) };
			});
			const mark2 = ev.mark();
			assert.equal(await api(`conference ${ROOM} transfer ${ROOM2} 999`),
				`-ERR No Member 999 in conference ${ROOM}.\n`);
			assert.equal(await api(`conference ${ROOM} transfer ${ROOM2}`),
				'transfer <conference_name> <member id> [...<member id>]', 'usage, no newline');
			assert.equal(await api(`conference ${ROOM2} list`), `-ERR Conference ${ROOM2} not found\n`,
				'no room made for nobody');
			await h.sleep(200);
			assert.deepEqual(ev.all((e) => e.Action === 'transfer' ||
				e['Conference-Name'] === ROOM2, mark2).map((e) => e.Action), [], 'no events');
		});

		/* The holder now, from the list's floor flags. */
		async function floorHolder() {
			const rows = roomMembers(await api(`conference ${ROOM} list`))
				.filter((r) => r[5].split('|').includes('floor'));
			assert.ok(rows.length <= 1, `at most one holder: ${rows.map((r) => r[0])}`);
			return rows.length ? rows[0][0] : null;
		}

		await sub('floor: the first member took it at join; floor <id> releases, takes, or '
			+ 'answers -ERR floor is held by <id>', T, async () => {
			assert.ok(A && B, 'the members of the first sub-test');
			const fc = ev.all(act('floor-change'), start);
			assert.ok(fc.length >= 1, 'floor-change events in 7701');
			assert.equal(fc[0]['Old-ID'], 'none', 'nobody had it before');
			assert.equal(fc[0]['New-ID'], A.id, 'the first member took it');
			assert.equal(fc[0]['Member-ID'], A.id, 'with the new holder\'s member block');
			assert.equal(fc[0].Floor, 'true');
			const addA = ev.all(act('add-member', { 'Unique-ID': A.uuid }), start)[0];
			assert.ok(addA && !ev.all(act('floor-change'), start).some((e) => e.index < addA.index),
				'no floor-change before A joined');

			let holder = await floorHolder();
			if (!holder) {
				assert.equal(await api(`conference ${ROOM} floor ${B.id}`), `+OK floor ${B.id}\n`);
				holder = B.id;
			}
			const other = holder === A.id ? B.id : A.id;
			let mark = ev.mark();
			assert.equal(await api(`conference ${ROOM} floor ${other}`),
				`-ERR floor is held by ${holder}\n`);
			assert.equal(await floorHolder(), holder, 'unchanged');
			assert.equal(await api(`conference ${ROOM} floor ${holder}`), '+OK floor none\n');
			const rel = await ev.wait(act('floor-change'), { from: mark, what: 'floor-change (release)' });
			assert.equal(rel['Old-ID'], holder);
			assert.equal(rel['New-ID'], 'none');
			assert.equal(await floorHolder(), null, 'nobody has the floor');
			mark = ev.mark();
			assert.equal(await api(`conference ${ROOM} floor ${A.id}`), `+OK floor ${A.id}\n`);
			const take = await ev.wait(act('floor-change'), { from: mark, what: 'floor-change (take)' });
			assert.equal(take['Old-ID'], 'none');
			assert.equal(take['New-ID'], A.id);
			assert.equal(take['Member-ID'], A.id);
			assert.equal(await floorHolder(), A.id, 'A has the floor');
			assert.equal(await api(`conference ${ROOM} floor 999`), '-ERR Non-Existant ID 999\n');
			assert.equal(await api(`conference ${ROOM} floor`), 'floor <member_id|last>',
				'usage, no newline');
		});

		/* Makes A the floor holder by the API, whoever has it now. */
		async function floorToA() {
			const holder = await floorHolder();
			if (holder === A.id)
				return;
			if (holder)
				assert.equal(await api(`conference ${ROOM} floor ${holder}`), '+OK floor none\n');
			assert.equal(await api(`conference ${ROOM} floor ${A.id}`), `+OK floor ${A.id}\n`);
		}

		await sub('floor: a member who starts talking while the holder is silent takes it', T,
			async () => {
				assert.ok(A && B, 'the members of the first sub-test');
				await floorToA();
				let mark = ev.mark();
				/*
				 * B falls silent first: were A's hangover to end while B's still
				 * runs, B would rightly take the floor as the one talking.
				 */
				B.phone.stopTone();
				try {
					await ev.wait(act('stop-talking', { 'Member-ID': B.id }),
						{ from: mark, what: 'stop-talking for B' });
					mark = ev.mark();
					A.phone.stopTone();
					await ev.wait(act('stop-talking', { 'Member-ID': A.id }),
						{ from: mark, what: 'stop-talking for A' });
					assert.equal(ev.all(act('floor-change'), mark).length, 0,
						'a holder who falls silent keeps the floor while nobody talks');
					mark = ev.mark();
					restartTone(B);
					await ev.wait(act('start-talking', { 'Member-ID': B.id }),
						{ from: mark, what: 'start-talking for B' });
					const fc = await ev.wait(act('floor-change'),
						{ from: mark, what: 'floor-change to B' });
					assert.equal(fc['Old-ID'], A.id);
					assert.equal(fc['New-ID'], B.id);
					assert.equal(await floorHolder(), B.id);
				} finally {
					restartTone(A);
					restartTone(B);
				}
				/* A talking again while B talks: B keeps it */
				mark = ev.mark();
				await ev.wait(act('start-talking', { 'Member-ID': A.id }),
					{ from: mark, ms: 5000, what: 'start-talking for A' }).catch(() => null);
				await h.sleep(600);
				assert.equal(await floorHolder(), B.id, 'a talking holder keeps the floor');
			});

		await sub('floor: the holder falls silent while another member talks on: the talker '
			+ 'gets the floor (FreeSWITCH moves it in its mixer, every frame)', T, async () => {
			assert.ok(A && B, 'the members of the first sub-test');
			await floorToA();
			await h.sleep(300);
			const mark = ev.mark();
			A.phone.stopTone();
			try {
				await ev.wait(act('stop-talking', { 'Member-ID': A.id }),
					{ from: mark, what: 'stop-talking for A' });
				const fc = await ev.wait(act('floor-change'),
					{ from: mark, ms: 3000, what: 'floor-change to B, who talks on' });
				assert.equal(fc['Old-ID'], A.id);
				assert.equal(fc['New-ID'], B.id);
			} finally {
				restartTone(A);
			}
		});

		await sub('energy / volume_in / volume_out on a member: outputs, events, the list and '
			+ 'json columns, and the mix by content; restored', T, async () => {
			assert.ok(A && B, 'the members of the first sub-test');
			const e = `conference ${ROOM} energy ${A.id}`;
			let mark = ev.mark();
			assert.equal(await api(e), `Energy ${A.id} = 100\n`, 'a query');
			assert.equal(await api(`${e} 300`), `Energy ${A.id} = 300\n`);
			let lv = await ev.wait(act('energy-level-member', { 'Member-ID': A.id }),
				{ from: mark, what: 'energy-level-member' });
			assert.equal(lv['Energy-Level'], '300');
			assert.equal(ev.all(act('energy-level-member'), mark).length, 1,
				'one event: the query fired none');
			mark = ev.mark();
			assert.equal(await api(`${e} up`), `Energy ${A.id} = 500\n`);
			lv = await ev.wait(act('energy-level-member', { 'Member-ID': A.id }),
				{ from: mark, what: 'energy-level-member (up)' });
			assert.equal(lv['Energy-Level'], '500');
			assert.equal(await api(`${e} down`), `Energy ${A.id} = 300\n`);
			assert.equal(await api(`${e} 99999`), `Energy ${A.id} = 1800\n`, 'clamped to 1800');
			assert.equal(await api(`${e} -5`), '-ERR Invalid energy level\n');
			assert.equal(await api(e), `Energy ${A.id} = 1800\n`, 'a refused level changes nothing');
			/* A's tone (mean |x| about 5000) passes even the highest gate */
			await h.sleep(500);
			let w = heard(B.phone, 400);
			assert.ok(hears(w, 1000), `B still hears A through a gate of 1800: ${show(w)}`);

			const baseB = heard(B.phone, 400).p[1000], baseA = heard(A.phone, 400).p[1400];
			mark = ev.mark();
			assert.equal(await api(`conference ${ROOM} volume_in ${A.id} 2`),
				`+OK Volume IN ${A.id} = 2\n`);
			lv = await ev.wait(act('volume-in-member', { 'Member-ID': A.id }),
				{ from: mark, what: 'volume-in-member' });
			assert.equal(lv['Volume-Level'], '2');
			await until('B hears A louder (volume_in 2: x2.3, power x5.3)', () => {
				const r = heard(B.phone, 400).p[1000] / baseB;
				return { ok: r > 3 && r < 9, info: r.toFixed(2) };
			});
			assert.equal(await api(`conference ${ROOM} volume_in ${A.id} up`),
				`+OK Volume IN ${A.id} = 3\n`);
			assert.equal(await api(`conference ${ROOM} volume_in ${A.id} down`),
				`+OK Volume IN ${A.id} = 2\n`);
			mark = ev.mark();
			assert.equal(await api(`conference ${ROOM} volume_out ${A.id} 9`),
				`+OK Volume OUT ${A.id} = 4\n`, 'clamped to 4');
			lv = await ev.wait(act('volume-out-member', { 'Member-ID': A.id }),
				{ from: mark, what: 'volume-out-member' });
			assert.equal(lv['Volume-Level'], '4');
			await until('A hears B louder (volume_out 4)', () => {
				const r = heard(A.phone, 400).p[1400] / baseA;
				return { ok: r > 6, info: r.toFixed(2) };
			});
			assert.equal(await api(`conference ${ROOM} volume_out ${A.id} -9`),
				`+OK Volume OUT ${A.id} = -4\n`, 'clamped to -4');
			assert.equal(await api(`conference ${ROOM} volume_out ${A.id} 4`),
				`+OK Volume OUT ${A.id} = 4\n`);
			assert.deepEqual(line(await api(`conference ${ROOM} list`), A.id).slice(6),
				['2', '4', '1800'], 'vol_in;vol_out;energy in the list');
			const jc = JSON.parse(await api(`conference ${ROOM} json_list`))
				.find((x) => x.conference_name === ROOM);
			const jm = jc.members.find((x) => String(x.id) === A.id);
			assert.deepEqual([jm.volume_in, jm.volume_out, jm.energy].map(Number), [2, 4, 1800],
				'json_list volume_in, volume_out, energy');
			assert.equal(await api(`${e} 100`), `Energy ${A.id} = 100\n`);
			assert.equal(await api(`conference ${ROOM} volume_in ${A.id} 0`),
				`+OK Volume IN ${A.id} = 0\n`);
			assert.equal(await api(`conference ${ROOM} volume_out ${A.id} 0`),
				`+OK Volume OUT ${A.id} = 0\n`);
			assert.deepEqual(line(await api(`conference ${ROOM} list`), A.id).slice(6),
				['0', '0', '100'], 'restored');
			await until('the mix is back to unity', () => {
				const rb = heard(B.phone, 400).p[1000] / baseB;
				const ra = heard(A.phone, 400).p[1400] / baseA;
				return { ok: rb > 0.6 && rb < 1.6 && ra > 0.6 && ra < 1.6,
					info: `${rb.toFixed(2)} ${ra.toFixed(2)}` };
			});
			w = heard(B.phone, 400);
			assert.ok(hears(w, 1000), show(w));
		});

		let D = null;
		await sub('the energy gate by content: a quiet member (mean |x| ~190) is heard at '
			+ 'energy 100, not at 500 (after the 400 ms hangover), again at 100', T, async () => {
			assert.ok(A && B, 'the members of the first sub-test');
			let mark = ev.mark();
			D = await dial(ROOM, 1200, { amplitude: 300 });
			const add = await ev.wait(act('add-member', { 'Unique-ID': D.uuid }),
				{ from: mark, what: 'add-member for D' });
			D.id = add['Member-ID'];
			await ev.wait(act('start-talking', { 'Member-ID': D.id }),
				{ from: mark, what: 'start-talking for the quiet D (190 > 100)' });
			await h.sleep(800);
			const quietHeard = (m) => m.p[1200] > 50 * (m.p[NOISE] || 1);
			await until('A and B hear D (1200 Hz) at energy 100', () => {
				const a = heard(A.phone, 500), b = heard(B.phone, 500);
				return { ok: quietHeard(a) && quietHeard(b), info: `A ${show(a)} B ${show(b)}` };
			});
			const baseA = heard(A.phone, 500).p[1200], baseB = heard(B.phone, 500).p[1200];
			mark = ev.mark();
			assert.equal(await api(`conference ${ROOM} energy ${D.id} 500`), `Energy ${D.id} = 500\n`);
			const st = await ev.wait(act('stop-talking', { 'Member-ID': D.id }),
				{ from: mark, what: 'stop-talking for D under the gate' });
			await h.sleep(600);
			await until('nobody hears D at energy 500', () => {
				const a = heard(A.phone, 500), b = heard(B.phone, 500);
				return { ok: a.p[1200] * 30 < baseA && b.p[1200] * 30 < baseB,
					info: `A ${show(a)} B ${show(b)}` };
			});
			const w = heard(B.phone, 500);
			assert.ok(hears(w, 1000), `B still hears A: ${show(w)}`);
			assert.equal(ev.all(act('start-talking', { 'Member-ID': D.id }), mark).length, 0,
				'D does not talk under the gate');
			mark = ev.mark();
			assert.equal(await api(`conference ${ROOM} energy ${D.id} 100`), `Energy ${D.id} = 100\n`);
			await ev.wait(act('start-talking', { 'Member-ID': D.id }),
				{ from: mark, what: 'start-talking for D again' });
			await until('B hears D again', () => {
				const b = heard(B.phone, 400);
				return { ok: quietHeard(b), info: show(b) };
			});
		});

		await sub('hup: +OK hup <id>, hup-member then del-member, no kicked sound, the '
			+ 'dialplan goes on', T, async () => {
			assert.ok(D && D.id, 'the quiet member of the energy sub-test');
			try {
				const mark = ev.mark();
				/* a file of its own still playing closes with it */
				const mf = 'tone_stream://%(20000,0,1900)';
				await api(`conference ${ROOM} play ${mf} ${D.id}`);
				await ev.wait(act('play-file-member', { 'Member-ID': D.id }),
					{ from: mark, what: 'play-file-member' });
				const t0 = Date.now();
				assert.equal(await api(`conference ${ROOM} hup ${D.id}`), `+OK hup ${D.id}\n`);
				const hu = await ev.wait(act('hup-member', { 'Member-ID': D.id }),
					{ from: mark, what: 'hup-member' });
				const del = await ev.wait(act('del-member', { 'Member-ID': D.id }),
					{ from: mark, what: 'del-member after hup' });
				assert.ok(hu.index < del.index, 'hup-member before del-member');
				const md = await ev.wait(act('play-file-member-done', { File: mf }),
					{ from: mark, what: 'play-file-member-done of the leaving member' });
				assert.ok(md.index < del.index, 'its file closes before del-member');
				assert.equal(ev.all(act('kick-member'), mark).length, 0, 'no kick-member');
				assert.ok(!line(await api(`conference ${ROOM} list`), D.id), 'D is not listed');
				assert.equal(await api(`conference ${ROOM} list count`), '2');
				await hearsTone(D, 2600, t0, 'the next playback after hup');
				assert.ok(tonePackets(D.phone, 1800, t0) <= 2,
					`no kicked sound (${timeline(D.phone, t0)})`);
				const r = await sippDone(D.uac, 15000, 'D');
				assert.equal(r.code, 0, `the dialplan ends and hangs up: ${r.err}${r.out}`);
				assert.equal(await api(`conference ${ROOM} hup ${D.id}`),
					`-ERR Non-Existant ID ${D.id}\n`, 'gone');
			} finally {
				await hangUpAll([D]);
			}
		});

		let F = null;
		await sub('DTMF controls: * deaf mute, 9/8/7 energy, 3/1/2 vol talk, 6/4/5 vol listen, '
			+ 'by their events and by content', T, async () => {
			assert.ok(A && B, 'the members of the first sub-test');
			let mark = ev.mark();
			F = await dial(ROOM, 1100, { amplitude: 4000 });
			const add = await ev.wait(act('add-member', { 'Unique-ID': F.uuid }),
				{ from: mark, what: 'add-member for F' });
			F.id = add['Member-ID'];
			await h.sleep(800);
			await until('B hears F (1100 Hz), F hears A and B', () => {
				const b = heard(B.phone, 400), f = heard(F.phone, 400);
				return { ok: hears(b, 1100) && hears(f, 1000) && hears(f, 1400),
					info: `B ${show(b)} F ${show(f)}` };
			});
			const bF = () => heard(B.phone, 400).p[1100];
			const fR = () => heard(F.phone, 400).rms;
			const baseBF = bF(), baseFR = fR();

			/* waits for one action of F after a digit */
			async function control(digit, action, extra = {}) {
				const m0 = ev.mark();
				await press(F, digit);
				const e = await ev.wait(act(action, Object.assign({ 'Member-ID': F.id }, extra)),
					{ from: m0, what: `${action} after DTMF ${digit}` });
				assert.equal(await api(`uuid_getvar ${F.uuid} conference_last_matching_digits`), digit);
				return { e, m0 };
			}

			let r = await control('*', 'mute-member');
			const dm = await ev.wait(act('deaf-member', { 'Member-ID': F.id }),
				{ from: r.m0, what: 'deaf-member after DTMF *' });
			assert.equal(dm.Hear, 'false');
			assert.equal(dm.Speak, 'false');
			await until('B stops hearing F, F hears (near) silence', () => {
				const b = heard(B.phone, 400), f = heard(F.phone, 400);
				return { ok: b.p[1100] * 1000 < baseBF && f.rms < 150, info: `B ${show(b)} F ${show(f)}` };
			});
			r = await control('*', 'unmute-member');
			const ud = await ev.wait(act('undeaf-member', { 'Member-ID': F.id }),
				{ from: r.m0, what: 'undeaf-member after the second DTMF *' });
			assert.equal(ud.Hear, 'true');
			await until('B hears F again, F hears the room again', () => {
				const b = heard(B.phone, 400), f = heard(F.phone, 400);
				return { ok: hears(b, 1100) && hears(f, 1000), info: `B ${show(b)} F ${show(f)}` };
			});

			r = await control('9', 'energy-level');
			assert.equal(r.e['New-Level'], '300', 'energy up: 100 + 200');
			r = await control('9', 'energy-level');
			assert.equal(r.e['New-Level'], '500');
			assert.equal(line(await api(`conference ${ROOM} list`), F.id)[8], '500');
			r = await control('8', 'energy-level');
			assert.equal(r.e['New-Level'], '100', 'energy equ: the profile\'s 100');
			r = await control('7', 'energy-level');
			assert.equal(r.e['New-Level'], '0', 'energy dn');
			r = await control('9', 'energy-level');
			assert.equal(r.e['New-Level'], '200');
			r = await control('8', 'energy-level');
			assert.equal(r.e['New-Level'], '100');

			r = await control('3', 'volume-level');
			assert.equal(r.e['New-Level'], '1', 'vol talk up');
			await until('F hears the room louder (x1.3)', () => {
				const q = fR() / baseFR;
				return { ok: q > 1.12 && q < 1.6, info: q.toFixed(2) };
			});
			r = await control('1', 'volume-level');
			assert.equal(r.e['New-Level'], '0', 'vol talk dn');
			r = await control('1', 'volume-level');
			assert.equal(r.e['New-Level'], '-1');
			r = await control('2', 'volume-level');
			assert.equal(r.e['New-Level'], '0', 'vol talk zero');
			await until('F hears the room at unity again', () => {
				const q = fR() / baseFR;
				return { ok: q > 0.85 && q < 1.15, info: q.toFixed(2) };
			});

			r = await control('6', 'gain-level');
			assert.equal(r.e['New-Level'], '1', 'vol listen up');
			await until('B hears F louder (x1.3, power x1.7)', () => {
				const q = bF() / baseBF;
				return { ok: q > 1.3 && q < 2.3, info: q.toFixed(2) };
			});
			r = await control('4', 'gain-level');
			assert.equal(r.e['New-Level'], '0', 'vol listen dn');
			r = await control('6', 'gain-level');
			assert.equal(r.e['New-Level'], '1');
			r = await control('5', 'gain-level');
			assert.equal(r.e['New-Level'], '0', 'vol listen zero');
			await until('B hears F at unity again', () => {
				const q = bF() / baseBF;
				return { ok: q > 0.7 && q < 1.4, info: q.toFixed(2) };
			});
			const fl = line(await api(`conference ${ROOM} list`), F.id);
			assert.deepEqual(fl.slice(6), ['0', '0', '100'], 'F\'s levels are back');
			assert.match(fl[5], /^hear\|speak\|talking/, `F hears, speaks, talks: ${fl[5]}`);
		});

		await sub('DTMF #: the member leaves (del-member), the dialplan goes on', T, async () => {
			assert.ok(F && F.id, 'the DTMF member');
			try {
				const mark = ev.mark(), t0 = Date.now();
				await press(F, '#');
				await ev.wait(act('del-member', { 'Member-ID': F.id }),
					{ from: mark, what: 'del-member after DTMF #' });
				assert.equal(ev.all(act('kick-member'), mark).length, 0, 'no kick-member');
				assert.equal(await api(`conference ${ROOM} list count`), '2');
				await hearsTone(F, 2600, t0, 'the next playback after #');
				const r = await sippDone(F.uac, 15000, 'F');
				assert.equal(r.code, 0, `the dialplan ends and hangs up: ${r.err}${r.out}`);
			} finally {
				await hangUpAll([F]);
			}
		});

		await sub('bad input: usage texts (no newline), unknown ids and members', T, async () => {
			assert.ok(A && B, 'the members of the first sub-test');
			const usage = '<member_id|all|last|non_moderator> [<newval>]';
			const mark = ev.mark();
			assert.equal(await api(`conference ${ROOM} energy`), `energy ${usage}`);
			assert.equal(await api(`conference ${ROOM} volume_in`), `volume_in ${usage}`);
			assert.equal(await api(`conference ${ROOM} volume_in abc 1`), `volume_in ${usage}`,
				'neither an id nor <var>=<value>: the usage');
			assert.equal(await api(`conference ${ROOM} volume_in nosuchvar=x 1`),
				'-ERR Non-Existant member\n');
			assert.equal(await api(`conference ${ROOM} energy 999 300`), '-ERR Non-Existant ID 999\n');
			assert.equal(await api(`conference ${ROOM} volume_out 999 1`),
				'-ERR Non-Existant ID 999\n');
			assert.equal(await api(`conference ${ROOM} hup`),
				'hup <[member_id|all|last|non_moderator]>');
			assert.equal(await api(`conference ${ROOM} hup 999`), '-ERR Non-Existant ID 999\n');
			assert.equal(await api(`conference ${ROOM} pin`), '-ERR Invalid parameters:\npin <pin#>');
			assert.equal(await api(`conference ${ROOM} volume_out ${B.id}`),
				`+OK Volume OUT ${B.id} = 0\n`, 'a query');
			assert.equal(await api(`conference ${ROOM} energy conference_member_id=${B.id}`),
				`Energy ${B.id} = 100\n`, 'a member by channel variable');
			await h.sleep(200);
			assert.deepEqual(ev.all((e) => /level|volume|hup|del-member/.test(e.Action || ''), mark)
				.map((e) => e.Action), [], 'none of these changed anything');
			assert.equal(await api(`conference ${ROOM} list count`), '2');
		});

		/* ---- pins (7703: 7803 joins with the pin 4321 in its data) ---- */
		const PINROOM = '7703';
		const pinCalls = [];
		await sub('pin: no add-member until the right digits; the prompt; pin <n> asks later '
			+ 'callers for it; nopin lets them in', T, async () => {
			try {
				let mark = ev.mark(), t0 = Date.now();
				const P = await dial('7803', 0);
				pinCalls.push(P);
				const cr = await ev.wait(act('conference-create', {}, PINROOM),
					{ from: mark, what: 'conference-create for 7703' });
				assert.equal(cr['Conference-Size'], '0');
				await hearsTone(P, 2800, t0, 'P hears the pin prompt (2800 Hz)', 10000, 10);
				await h.sleep(500);
				assert.equal(ev.all(act('add-member', { 'Unique-ID': P.uuid }, null), mark).length, 0,
					'no add-member before the pin');
				assert.equal(await api(`conference ${PINROOM} list count`), '0');
				await press(P, '4321');
				const add = await ev.wait(act('add-member', { 'Unique-ID': P.uuid }, PINROOM),
					{ from: mark, what: 'add-member after the right pin' });
				assert.equal(add['Member-Type'], 'member');
				assert.equal(await api(`conference ${PINROOM} list count`), '1');

				assert.equal(await api(`conference ${PINROOM} pin 5555`),
					`+OK Pin for conference ${PINROOM} set: 5555\n`);
				mark = ev.mark();
				t0 = Date.now();
				const Q = await dial(PINROOM, 0);      /* t_conf: no pin in the data */
				pinCalls.push(Q);
				await hearsTone(Q, 2800, t0, 'Q is asked for the room\'s pin', 10000, 10);
				await h.sleep(300);
				assert.equal(ev.all(act('add-member', { 'Unique-ID': Q.uuid }, null), mark).length, 0,
					'no add-member before the pin');
				await press(Q, '5555');
				await ev.wait(act('add-member', { 'Unique-ID': Q.uuid }, PINROOM),
					{ from: mark, what: 'add-member after the pin set by the API' });

				assert.equal(await api(`conference ${PINROOM} nopin`),
					`+OK Pin for conference ${PINROOM} deleted\n`);
				mark = ev.mark();
				t0 = Date.now();
				const R = await dial(PINROOM, 0);
				pinCalls.push(R);
				await ev.wait(act('add-member', { 'Unique-ID': R.uuid }, PINROOM),
					{ from: mark, what: 'add-member without a pin after nopin' });
				await h.sleep(300);
				assert.ok(tonePackets(R.phone, 2800, t0) <= 2, `R was not asked (${timeline(R.phone, t0)})`);
				assert.equal(await api(`conference ${PINROOM} list count`), '3');
			} catch (e) {
				await hangUpAll(pinCalls);
				throw e;
			}
		});

		await sub('a wrong pin (1111#) three times: the bad-pin sound after each, the prompt '
			+ 'again, then the app returns (the dialplan goes on), no add-member', T, async () => {
			const problems = [];
			let W;
			try {
				const mark = ev.mark(), t0 = Date.now();
				W = await dial('7803', 0);
				pinCalls.push(W);
				await hearsTone(W, 2800, t0, 'W hears the pin prompt', 10000, 10);
				const tries = [];
				let returned = false;
				for (let i = 1; i <= 3; i++) {
					const t = Date.now();
					await press(W, '1111#');
					await h.sleep(i < 3 ? 1500 : 0);
					tries.push(t);
					if (i < 3) {
						const bad = tonePackets(W.phone, 1300, t), again = tonePackets(W.phone, 2800, t);
						const after = tonePackets(W.phone, 2600, t);
						if (bad < 5)
							problems.push(`try ${i}: no bad-pin sound (${bad} packets of 1300 Hz; ` +
								`${timeline(W.phone, t)})`);
						if (after > 0) {
							problems.push(`try ${i}: the app returned already (${after} packets of ` +
								`2600 Hz; ${timeline(W.phone, t)})`);
							returned = true;
							break;
						} else if (again < 5)
							problems.push(`try ${i}: not asked again (${again} packets of 2800 Hz; ` +
								`${timeline(W.phone, t)})`);
					}
				}
				await hearsTone(W, 2600, t0, 'the next playback after the third wrong pin');
				const n = tonePackets(W.phone, 1300, tries[2]);
				if (!returned && n < 5)
					problems.push(`try 3: no bad-pin sound (${n} packets of 1300 Hz; ` +
						`${timeline(W.phone, tries[2])})`);
				const r = await sippDone(W.uac, 15000, 'W');
				assert.equal(r.code, 0, `the dialplan ends and hangs up: ${r.err}${r.out}`);
				assert.equal(ev.all((e) => e['Unique-ID'] === W.uuid && e.Action === 'add-member',
					mark).length, 0, 'no add-member for W');
				assert.equal(await api(`conference ${PINROOM} list count`), '3', 'the room unchanged');
				assert.deepEqual(problems, []);
			} finally {
				if (W)
					await hangUpAll([W]);
			}
		});

		await sub('the pin room ends with its last member', T, async () => {
			const mark = ev.mark();
			await hangUpAll(pinCalls);
			await ev.wait(act('conference-destroy', {}, PINROOM),
				{ from: mark, ms: 15000, what: 'conference-destroy for 7703' });
			assert.equal(await api(`conference ${PINROOM} list`), `-ERR Conference ${PINROOM} not found\n`);
		});

		/* ---- how rooms end: endconf, mintwo ---- */
		const ENDROOM = '7704';
		let endY1 = null, endKillAt = 0;
		await sub('endconf: when that member leaves the room ends (conference-destroy); a '
			+ 'member with hangup_after_conference=false goes on in its dialplan', T, async () => {
			const calls = [];
			try {
				const mark = ev.mark();
				const X = await dial('7804', 1000);
				calls.push(X);
				const ax = await ev.wait(act('add-member', { 'Unique-ID': X.uuid }, ENDROOM),
					{ from: mark, what: 'add-member for the endconf member' });
				const Y2 = await dial('7904', 0);
				calls.push(Y2);
				const Y1 = await dial(ENDROOM, 0);
				calls.push(Y1);
				endY1 = Y1;
				await ev.wait(act('add-member', { 'Unique-ID': Y2.uuid }, ENDROOM),
					{ from: mark, what: 'add-member for Y2' });
				await ev.wait(act('add-member', { 'Unique-ID': Y1.uuid }, ENDROOM),
					{ from: mark, what: 'add-member for Y1' });
				const jc = JSON.parse(await api(`conference ${ENDROOM} json_list`))
					.find((x) => x.conference_name === ENDROOM);
				const jx = jc && jc.members.find((x) => String(x.id) === ax['Member-ID']);
				assert.ok(jx && jx.flags.end_conference === true, 'json_list: end_conference');
				await h.sleep(500);
				await until('Y1 and Y2 hear X', () => {
					const a = heard(Y1.phone, 400), b = heard(Y2.phone, 400);
					return { ok: hears(a, 1000) && hears(b, 1000), info: `${show(a)} ${show(b)}` };
				});
				const m2 = ev.mark();
				endKillAt = Date.now();
				assert.equal(await api(`uuid_kill ${X.uuid}`), '+OK\n');
				const destroy = await ev.wait(act('conference-destroy', {}, ENDROOM),
					{ from: m2, what: 'conference-destroy for 7704' });
				const dels = ev.all(act('del-member', {}, ENDROOM), m2);
				for (const m of [X, Y1, Y2])
					assert.ok(dels.some((e) => e['Unique-ID'] === m.uuid && e.index < destroy.index),
						`del-member for ${m.uuid} before the destroy`);
				assert.equal(await api(`conference ${ENDROOM} list`), `-ERR Conference ${ENDROOM} not found\n`);
				await hearsTone(Y2, 2600, endKillAt, 'Y2 (hangup_after_conference=false) goes on');
				const r = await sippDone(Y2.uac, 15000, 'Y2');
				assert.equal(r.code, 0, r.err + r.out);
			} finally {
				await hangUpAll(calls.filter((m) => m !== endY1));
			}
		});

		await sub('endconf: a member left in the ended room is hung up, its dialplan does not '
			+ 'go on (FreeSWITCH: conference_thread_run hangs up what is left unless '
			+ 'hangup_after_conference=false)', T, async () => {
			assert.ok(endY1 && endKillAt, 'the endconf sub-test ran');
			try {
				const r = await sippDone(endY1.uac, 15000, 'Y1');
				assert.equal(r.code, 0, `Y1 gets a BYE: ${r.err}${r.out}`);
				const n = tonePackets(endY1.phone, 2600, endKillAt);
				assert.ok(n <= 2, `Y1 did not run the next action (${n} packets of 2600 Hz; ` +
					`${timeline(endY1.phone, endKillAt)})`);
			} finally {
				await hangUpAll([endY1]);
			}
		});

		await sub('endconf: the last endconf member ends the room, after '
			+ 'endconference_grace_time', T, async () => {
			const calls = [];
			try {
				const mark = ev.mark();
				const X1 = await dial('7804', 1000);
				calls.push(X1);
				await ev.wait(act('add-member', { 'Unique-ID': X1.uuid }, ENDROOM),
					{ from: mark, what: 'add-member for X1' });
				assert.equal(await api(`conference ${ENDROOM} set endconference_grace_time 2`),
					'0');
				assert.equal(await api(`conference ${ENDROOM} get endconference_grace_time`), '2');
				const X2 = await dial('7804', 1400);
				calls.push(X2);
				const Y = await dial(ENDROOM, 0);
				calls.push(Y);
				for (const m of [X2, Y])
					await ev.wait(act('add-member', { 'Unique-ID': m.uuid }, ENDROOM),
						{ from: mark, what: 'add-member' });
				/* one of two endconf members leaves: the room goes on */
				assert.equal(await api(`uuid_kill ${X1.uuid}`), '+OK\n');
				await ev.wait(act('del-member', { 'Unique-ID': X1.uuid }, ENDROOM),
					{ from: mark, what: 'del-member for X1' });
				await h.sleep(300);
				assert.equal(await api(`conference ${ENDROOM} list count`), '2');
				const m2 = ev.mark();
				const at = Date.now();
				assert.equal(await api(`uuid_kill ${X2.uuid}`), '+OK\n');
				await ev.wait(act('del-member', { 'Unique-ID': X2.uuid }, ENDROOM),
					{ from: m2, what: 'del-member for X2' });
				assert.equal(await api(`conference ${ENDROOM} list count`), '1');
				await ev.wait(act('conference-destroy', {}, ENDROOM),
					{ from: m2, ms: 10000, what: 'conference-destroy after the grace time' });
				const took = Date.now() - at;
				assert.ok(took >= 1800, `the room ended ${took} ms after the last endconf member`);
				const r = await sippDone(Y.uac, 15000, 'Y');
				assert.equal(r.code, 0, `Y gets a BYE: ${r.err}${r.out}`);
			} finally {
				await hangUpAll(calls);
			}
		});

		/* mintwo (7807 joins 7706 with it; 7906 joins it plain, hangup_after_conference=false) */
		const MINROOM = '7706';
		async function mintwo(first) {
			const calls = [];
			const mark = ev.mark();
			try {
				const order = first === 'mintwo' ? ['7807', '7906'] : ['7906', '7807'];
				const M = {};
				for (const dest of order) {
					const m = await dial(dest, dest === '7807' ? 1000 : 1400);
					calls.push(m);
					M[dest] = m;
					await ev.wait(act('add-member', { 'Unique-ID': m.uuid }, MINROOM),
						{ from: mark, what: `add-member for ${dest}` });
				}
				const mint = M['7807'], plain = M['7906'];
				await h.sleep(500);
				await until('the two hear each other', () => {
					const a = heard(mint.phone, 400), b = heard(plain.phone, 400);
					return { ok: hears(a, 1400) && hears(b, 1000), info: `${show(a)} ${show(b)}` };
				});
				const m2 = ev.mark(), t0 = Date.now();
				assert.equal(await api(`uuid_kill ${plain.uuid}`), '+OK\n');
				await ev.wait(act('del-member', { 'Unique-ID': plain.uuid }, MINROOM),
					{ from: m2, what: 'del-member for the plain member' });
				await ev.wait(act('conference-destroy', {}, MINROOM),
					{ from: m2, ms: 5000, what: 'conference-destroy: fewer than two remain' });
				await hearsTone(mint, 2600, t0, 'the mintwo member goes on in its dialplan');
				const r = await sippDone(mint.uac, 15000, 'the mintwo member');
				assert.equal(r.code, 0, r.err + r.out);
			} finally {
				/* the room is gone, and its last events are in, before the next sub-test */
				await hangUpAll(calls);
				await ev.wait(act('conference-destroy', {}, MINROOM), { from: mark, ms: 5000,
					what: 'cleanup: conference-destroy for 7706' }).catch(() => null);
			}
		}

		await sub('mintwo, joining second: the room ends when fewer than two remain', T,
			() => mintwo('plain'));

		await sub('mintwo, joining first: the room ends when fewer than two remain once two '
			+ 'were there (FreeSWITCH sets min 2 at the mintwo member\'s join)', T,
		() => mintwo('mintwo'));

		await sub('malformed data (conference @default): the call goes on past it, a log line, '
			+ 'no room', T, async () => {
			let M;
			try {
				const mark = ev.mark(), t0 = Date.now();
				M = await dial('7805', 0);
				await hearsTone(M, 2600, t0, 'the next playback after the failed conference');
				const r = await sippDone(M.uac, 15000, 'the caller');
				assert.equal(r.code, 0, r.err + r.out);
				assert.equal(ev.all((e) => e['Conference-Name'] !== ROOM, mark).length, 0,
					`no conference events: ${ev.all((e) => e['Conference-Name'] !== ROOM, mark)
						.map((e) => `${e.Action} ${e['Conference-Name']}`)}`);
				await until('the log names the bad data', () => {
					const log = server.logText();
					return { ok: /conference: bad data "@default"/.test(log),
						info: log.split('\n').filter((l) => /conference/.test(l)).slice(-5).join(' | ') };
				}, 5000);
				assert.equal(await api('conference count'), '1', 'only 7701');
			} finally {
				if (M)
					await hangUpAll([M]);
			}
		});

		await sub('a missing profile (7705@nosuchprofile): the room is made with defaults, '
			+ 'Conference-Profile-Name none', T, async () => {
			let N;
			try {
				const mark = ev.mark();
				N = await dial('7806', 0);
				const cr = await ev.wait(act('conference-create', {}, '7705'),
					{ from: mark, what: 'conference-create for 7705' });
				assert.equal(cr['Conference-Profile-Name'], 'none');
				const add = await ev.wait(act('add-member', { 'Unique-ID': N.uuid }, '7705'),
					{ from: mark, what: 'add-member for 7705' });
				assert.equal(add['Conference-Profile-Name'], 'none');
				assert.equal(add['Energy-Level'], '0', 'the default energy-level, 0');
				assert.equal(await api('conference 7705 list count'), '1');
				assert.ok(/no profile nosuchprofile/.test(server.logText()), 'a log line');
				const m2 = ev.mark();
				assert.equal(await api(`uuid_kill ${N.uuid}`), '+OK\n');
				await ev.wait(act('conference-destroy', {}, '7705'),
					{ from: m2, what: 'conference-destroy for 7705' });
			} finally {
				if (N)
					await hangUpAll([N]);
			}
		});

		/* Speech since `since` as a phone heard it: loud frames, their speech-band share. */
		function speechSince(phone, since) {
			const loud = frames(phone).filter((f) => f.at >= since && f.rms > 300);
			const all = [].concat(...loud.map((f) => f.s));
			const band = [300, 500, 800, 1200].reduce((a, f) => a + goertzel(all, f), 0);
			const high = [3700, 3900].reduce((a, f) => a + goertzel(all, f), 0);
			return { frames: loud.length, band, high,
				ok: loud.length >= 25 && band > 4 * high };
		}

		await sub('a 16 kHz room: tones heard by frequency and never echoed, a 16 kHz '
			+ 'recording of them, say to all and saymember to one', { timeout: 120000 },
		async () => {
			const W = '7550';
			const P = [];
			try {
				let mark = ev.mark();
				for (const f of [1000, 1400, 0]) {
					const m = await dial(W, f);
					P.push(m);
					await ev.wait(act('add-member', { 'Unique-ID': m.uuid }, W),
						{ from: mark, what: `add-member ${f} Hz` });
				}
				const [X, Y, Z] = P;
				assert.equal(await api(`conference ${W} get rate`), '16000');
				await hearsNotSelf('X hears Y (1400 Hz) and not itself (1000 Hz)', X.phone, 1400, 1000);
				await hearsNotSelf('Y hears X (1000 Hz) and not itself (1400 Hz)', Y.phone, 1000, 1400);
				await until('Z hears both', () => {
					const m = heard(Z.phone);
					return { ok: hears(m, 1000) && hears(m, 1400), info: show(m) };
				});

				const file = path.join(server.dir, 'conf-wide.wav');
				assert.equal(await api(`conference ${W} record ${file}`),
					`+OK Record file ${file}\n`);
				await h.sleep(1600);
				mark = ev.mark();
				assert.equal(await api(`conference ${W} norecord all`),
					'+OK Stopped recording 1 file\n');
				const sp = await ev.wait(act('stop-recording', { Path: file }, W),
					{ from: mark, what: 'stop-recording' });
				assert.equal(sp.Samplerate, '16000');
				const wav = await completeWav(file);
				assert.deepEqual(wav.fmt, { format: 1, channels: 1, rate: 16000, bits: 16 });
				assert.equal(String(wav.samples.length), sp['Samples-Out']);
				const tail = wav.samples.slice(-16000);
				const pn = goertzel(tail, NOISE, 16000) || 1;
				assert.ok(goertzel(tail, 1000, 16000) > 100 * pn, '1000 Hz in the recording');
				assert.ok(goertzel(tail, 1400, 16000) > 100 * pn, '1400 Hz in the recording');
				/* A 16 kHz file read as 8 kHz would put the tones at 500 and 700 Hz. */
				assert.ok(goertzel(tail, 500, 16000) < pn * 10, 'nothing at 500 Hz');

				/* Quiet members now: what they hear next is the speech alone. */
				for (const m of P)
					m.phone.stopTone();
				await h.sleep(600);
				let since = Date.now();
				mark = ev.mark();
				assert.equal(await api(`conference ${W} say Hello everybody, this is a test.`),
					'+OK (say) OK\n');
				const st = await ev.wait(act('speak-text', {}, W),
					{ from: mark, what: 'speak-text' });
				assert.equal(st.Text, 'Hello everybody, this is a test.');
				for (const m of P)
					await until('every member hears the speech', () => {
						const r = speechSince(m.phone, since);
						return { ok: r.ok, info: JSON.stringify(r) };
					}, 15000);
				await h.sleep(3000);

				since = Date.now();
				mark = ev.mark();
				const xid = (await ev.wait(act('add-member', { 'Unique-ID': X.uuid }, W),
					{ what: 'X\'s member id' }))['Member-ID'];
				assert.equal(await api(`conference ${W} saymember ${xid} Only for you.`),
					'+OK (saymember) OK\n');
				const sm = await ev.wait(act('speak-text-member', { 'Member-ID': xid }, W),
					{ from: mark, what: 'speak-text-member' });
				assert.equal(sm.Text, 'Only for you.');
				await until('X hears its speech', () => {
					const r = speechSince(X.phone, since);
					return { ok: r.ok, info: JSON.stringify(r) };
				}, 15000);
				await h.sleep(500);
				for (const m of [Y, Z])
					assert.equal(speechSince(m.phone, since).frames, 0, 'the others hear none');

				/* tts:// played to the room like a file is heard too (quoted: blanks). */
				await h.sleep(2000);
				since = Date.now();
				const src = 'tts://flite|kal|Speech played to the room.';
				assert.equal(await api(`conference ${W} play '${src}'`),
					`+OK (play) Playing file ${src}\n`);
				await until('Z hears tts:// played to the room', () => {
					const r = speechSince(Z.phone, since);
					return { ok: r.ok, info: JSON.stringify(r) };
				}, 15000);

				assert.equal(await api(`conference ${W} say`), '-ERR (say) Error! No text.\n');
				assert.equal(await api(`conference ${W} saymember ${xid}`),
					'-ERR (saymember) No Text!\n');
				assert.equal(await api(`conference ${W} saymember 9999 hello`),
					'-ERR (saymember) Unknown Member 9999!\n');
				/* The default profile has no tts-engine. */
				assert.equal(await api(`conference ${ROOM} say hello`), '-ERR (say) Error!\n');
			} finally {
				await hangUpAll(P);
			}
		});

		await sub('the last members hang up: del-member each, then conference-destroy', T,
			async () => {
				assert.ok(A && B, 'the members of the first sub-test');
				/* whatever an earlier failure left in the room goes first */
				const strays = (await channels()).filter((r) => r.uuid !== A.uuid &&
					r.uuid !== B.uuid);
				for (const r of strays)
					await api(`uuid_kill ${r.uuid}`);
				if (strays.length)
					await h.sleep(1000);
				const mark = ev.mark();
				assert.equal(await api(`uuid_kill ${A.uuid}`), '+OK\n');
				assert.equal(await api(`uuid_kill ${B.uuid}`), '+OK\n');
				const destroy = await ev.wait(act('conference-destroy'),
					{ from: mark, ms: 15000, what: 'conference-destroy' });
				const dels = ev.all(act('del-member'), mark);
				for (const m of [A, B])
					assert.ok(dels.some((e) => e['Member-ID'] === m.id), `del-member for ${m.id}`);
				assert.ok(dels.every((e) => e.index < destroy.index),
					'conference-destroy after the last del-member');
				for (const m of [A, B]) {
					const r = await sippDone(m.uac, 15000, `member ${m.id}`);
					assert.equal(r.code, 0, r.err + r.out);
				}
				assert.equal(await api(`conference ${ROOM} list`),
					`-ERR Conference ${ROOM} not found\n`);
				assert.equal(await api('conference list'), '+OK No active conferences.\n');
				assert.equal(await api('conference count'), '0');
			});

		await sub('the room\'s whole event history is in order', T, async () => {
			assert.ok(A && B && C, 'the members of the first sub-test');
			const room = ev.all((e) => e['Conference-Name'] === ROOM, start);
			const first = (a) => room.findIndex((e) => e.Action === a);
			assert.equal(room[0] && room[0].Action, 'conference-create',
				`the first event: ${room[0] && room[0].Action}`);
			assert.equal(room[0]['Conference-Size'], '0', 'created empty');
			assert.ok(first('conference-create') < first('add-member'),
				'conference-create before the first add-member');
			/* A came back from 7702 once per transfer into 7701 */
			const returns = ev.all((e) => e.Action === 'transfer' && e['Member-ID'] === A.id &&
				e['Conference-Name'] === ROOM2 && e['New-Conference-Name'] === ROOM, start).length;
			for (const m of [A, B, C])
				assert.equal(room.filter((e) => e.Action === 'add-member' &&
					e['Unique-ID'] === m.uuid).length, m === A ? 1 + returns : 1,
				`add-members for ${m.id}`);
			for (const m of [A, B])
				assert.ok(room.some((e) => e.Action === 'start-talking' &&
					e['Member-ID'] === m.id), `start-talking for ${m.id}`);
			assert.ok(!room.some((e) => e.Action === 'start-talking' &&
				e['Member-ID'] === C.id), 'no start-talking for the silent C');
			const destroys = room.filter((e) => e.Action === 'conference-destroy');
			assert.equal(destroys.length, 1, 'one conference-destroy');
			assert.equal(room[room.length - 1].Action, 'conference-destroy', 'the last event');
			const uuids = new Set(room.map((e) => e['Conference-Unique-ID']));
			assert.equal(uuids.size, 1, `one Conference-Unique-ID: ${[...uuids]}`);
		});

		/* Last: a room this leaves behind would fail the teardown checks above. */
		await sub('a caller who hangs up at the pin prompt of a room it made: the empty room '
			+ 'ends (a dynamic room goes when count + ghosts is 0)', T, async () => {
			const mark = ev.mark(), t0 = Date.now();
			const H = await dial('7803', 0);
			await ev.wait(act('conference-create', {}, '7703'),
				{ from: mark, what: 'conference-create for 7703' });
			await hearsTone(H, 2800, t0, 'H hears the pin prompt', 10000, 10);
			assert.equal(await api(`uuid_kill ${H.uuid}`), '+OK\n');
			const r = await sippDone(H.uac, 15000, 'H');
			assert.equal(r.code, 0, r.err + r.out);
			await ev.wait(act('conference-destroy', {}, '7703'),
				{ from: mark, ms: 5000, what: 'conference-destroy for the empty 7703' });
			assert.equal(await api('conference list'), '+OK No active conferences.\n');
		});
	});
