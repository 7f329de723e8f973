'use strict';
/*
 * conference_audio.test.js - what conference rooms make heard, by content, on
 * real SIP calls (SIPp, test phones from rtp.js): files played into wideband
 * rooms keep their band (the room's recording holds it), music on hold while
 * a member is alone or waits for the moderator, and `relate` (nospeak,
 * nohear) in the N-1 mix.
 *
 * Frequencies: members send 1000, 1400 and 1800 Hz; the hold music is
 * 2000 Hz (the profile's) or 2400 Hz (conference_moh_sound, `moh <file>`);
 * wideband files hold 1000 + 6000 Hz. 3000 Hz is never sent: the noise
 * reference.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const h = require('./harness');
const sipp = require('./sipp');
const { until, EventLog } = require('./eventlog');
const { goertzel, rms } = require('./rtp');
const { api, phoneCall } = require('./chanpoll');
const { readWav, writeWav } = require('./wav');

const T = { timeout: 60000 };
const SUB = 'conference::maintenance';
const NOISE = 3000;

/*
 * 74RRN: room 74RR (N tells the callers apart); 73RRN: the same room with
 * flags{nomoh}; 72RRN: the moderator of it; 71RRN: its creator asks for
 * wait-mod and another hold music (conference_moh_sound); 75RRN: room 75RR
 * at 16 kHz; 76RRN: room 76RR at 8 kHz.
 */
const DIALPLAN = `<include>
  <extension name="t_moh">
    <condition field="destination_number" expression="^74(\\d\\d)\\d$">
      <action application="answer"/>
      <action application="conference" data="74$1@moh"/>
    </condition>
  </extension>
  <extension name="t_moh_nomoh">
    <condition field="destination_number" expression="^73(\\d\\d)\\d$">
      <action application="answer"/>
      <action application="conference" data="74$1@moh+flags{nomoh}"/>
    </condition>
  </extension>
  <extension name="t_moh_moderator">
    <condition field="destination_number" expression="^72(\\d\\d)\\d$">
      <action application="answer"/>
      <action application="conference" data="74$1@moh+flags{moderator}"/>
    </condition>
  </extension>
  <extension name="t_moh_waitmod">
    <condition field="destination_number" expression="^71(\\d\\d)\\d$">
      <action application="set" data="conference_flags=wait-mod"/>
      <action application="set" data="conference_moh_sound=moh-2400.wav"/>
      <action application="answer"/>
      <action application="conference" data="74$1@moh"/>
    </condition>
  </extension>
  <extension name="t_wide">
    <condition field="destination_number" expression="^75(\\d\\d)\\d$">
      <action application="answer"/>
      <action application="conference" data="75$1@wide16"/>
    </condition>
  </extension>
  <extension name="t_narrow">
    <condition field="destination_number" expression="^76(\\d\\d)\\d$">
      <action application="answer"/>
      <action application="conference" data="76$1@default"/>
    </condition>
  </extension>
</include>
`;

const PROFILES = `    <profile name="wide16">
      <param name="rate" value="16000"/>
      <param name="energy-level" value="100"/>
    </profile>
    <profile name="moh">
      <param name="energy-level" value="100"/>
      <param name="moh-sound" value="moh-2000.wav"/>
      <param name="caller-controls" value="mohctl"/>
    </profile>
  </profiles>`;

/* DTMF 5 in the moh rooms: FreeSWITCH's "moh toggle" caller control. */
const CONTROLS = `    <group name="mohctl">
      <control action="moh toggle" digits="5"/>
    </group>
  </caller-controls>`;

/* Tone powers in what a phone heard over the last `ms`. */
function heard(phone, freqs, ms = 600) {
	const s = phone.samples(0, Date.now() - ms);
	const p = { n: s.length, rms: Math.round(rms(s)) };
	for (const f of [...freqs, NOISE])
		p[f] = s.length ? Number(goertzel(s, f).toPrecision(2)) : 0;
	return p;
}

/* A clear tone `f`: loud, far above the noise reference. */
function clear(p, f) {
	return p.n >= 12 * 160 && p.rms > 300 && p[f] > 100 * (p[NOISE] || 1);
}

function hearsTone(what, phone, f, ms = 10000) {
	return until(what, () => {
		const p = heard(phone, [f]);
		return { ok: clear(p, f), info: JSON.stringify(p) };
	}, ms);
}

/*
 * Not a trace of `f` over a whole second, checked `settle` ms from now: the
 * second must not reach back to before what should have stopped it.
 */
async function hearsNoTone(what, phone, f, settle = 1200) {
	await h.sleep(settle);
	const p = heard(phone, [f], 1000);
	assert.ok(p.n >= 25 * 160, `${what}: audio arrives (${JSON.stringify(p)})`);
	/* A tone at the levels here is ~1e11; leakage of the others stays near the noise. */
	assert.ok(p[f] < 100 * (p[NOISE] || 1) && p[f] < 1e8, `${what}: ${JSON.stringify(p)}`);
}

test('conference audio: wideband files, music on hold, relate',
	{ skip: !sipp.available() && 'sipp not installed', timeout: 300000 }, async (t) => {
		const server = await h.startServer({
			edit(conf) {
				const dir = path.join(conf, 'dialplan', 'default');
				fs.mkdirSync(dir, { recursive: true });
				fs.writeFileSync(path.join(dir, '90_conference_audio_test.xml'), DIALPLAN);
				const cc = path.join(conf, 'autoload_configs', 'conference.conf.xml');
				fs.writeFileSync(cc, fs.readFileSync(cc, 'utf8').replace('  </profiles>',
					PROFILES).replace('  </caller-controls>', CONTROLS));
			},
		});
		const c = await h.rawAuthed(server);
		const ev = await EventLog.open(server, `CUSTOM ${SUB}`);
		const calls = [];
		let failed = 0;
		t.after(async () => {
			/* a failed run keeps confab's log for whoever looks into it */
			if (failed) {
				const keep = path.join(os.tmpdir(),
					`conference-audio-test-${process.pid}.log`);
				fs.writeFileSync(keep, server.logText());
				console.log(`# ${failed} sub-test(s) failed; confab's log: ${keep}`);
			}
			for (const m of calls) {
				if (m.uac.proc.exitCode === null && m.uac.proc.signalCode === null)
					m.uac.proc.kill('SIGKILL');
				m.phone.close();
			}
			ev.c.destroy();
			c.destroy();
			await server.stop();
		});

		/* A sub-test that counts its failure (the log is kept). */
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

		function act(action, extra = {}) {
			return (e) => e['Event-Subclass'] === SUB && e.Action === action &&
				Object.entries(extra).every(([k, v]) => e[k] === String(v));
		}

		/* A member of `room` sending `freq` (0: digital silence); its member id. */
		async function join(dest, room, freq) {
			const mark = ev.mark();
			const m = await phoneCall(server, c, dest);
			calls.push(m);
			m.phone.startTone(freq);
			const add = await ev.wait(act('add-member', { 'Unique-ID': m.uuid,
				'Conference-Name': room }), { from: mark, what: `add-member for ${dest}` });
			m.id = add['Member-ID'];
			return m;
		}

		async function hangUp(...members) {
			for (const m of members) {
				m.phone.stopTone();
				await api(c, `uuid_kill ${m.uuid}`);
			}
			for (const m of members) {
				const r = await h.within(m.uac.done, 15000);
				assert.ok(r && r.code === 0, `the call to ${m.uuid} ended cleanly`);
			}
		}

		/* The room's recording while `file` plays into it once. */
		async function recordPlay(room, file, wav) {
			assert.equal(await api(c, `conference ${room} record ${wav}`),
				`+OK Record file ${wav}\n`);
			const mark = ev.mark();
			assert.equal(await api(c, `conference ${room} play ${file}`),
				`+OK (play) Playing file ${file}\n`);
			await ev.wait(act('play-file-done', { 'Conference-Name': room, File: file }),
				{ from: mark, what: `play-file-done in ${room}` });
			assert.equal(await api(c, `conference ${room} norecord all`),
				'+OK Stopped recording 1 file\n');
			let w;
			await until(`${wav} is complete`, () => {
				try {
					w = readWav(wav);
					return { ok: true };
				} catch (e) {
					return { ok: false, info: e.message };
				}
			}, 5000);
			return w;
		}

		/* The loudest second of a recording. */
		function loudest(samples, rate) {
			let best = [], bestRms = -1;
			for (let i = 0; i + rate <= samples.length; i += rate / 5) {
				const s = samples.slice(i, i + rate), r = rms(s);
				if (r > bestRms) {
					best = s;
					bestRms = r;
				}
			}
			return best;
		}

		const prefix = (await api(c, 'global_getvar sound_prefix')).trim();
		assert.ok(prefix.startsWith('/'), `sound_prefix is a directory: ${prefix}`);
		writeWav(path.join(prefix, 'moh-2000.wav'), 8000, 2000, 0.5, 8000);
		writeWav(path.join(prefix, 'moh-2400.wav'), 8000, 2400, 0.5, 8000);
		const wide = path.join(server.dir, 'wide-1000-6000.wav');
		writeWav(wide, 16000, [1000, 6000], 2.0, 6000);

		await sub('play_status and file_seek: a seek forward brings the second tone of a file sooner',
			T, async () => {
				/* 20 s of 2600 Hz, then 5 s of 2900 Hz */
				const a = path.join(server.dir, 'seek-a.wav'), b = path.join(server.dir, 'seek-b.wav');
				writeWav(a, 8000, 2600, 20, 8000);
				writeWav(b, 8000, 2900, 5, 8000);
				const file = `file_string://${a}!${b}`;
				const S = await join('76051', '7605', 0);
				try {
					assert.equal(await api(c, 'conference 7605 play_status'), '-ERR Nothing is playing\n');
					assert.equal(await api(c, 'conference 7605 play_status 999'),
						'-ERR Member: 999 not found.\n');
					const mark = ev.mark();
					await api(c, `conference 7605 play ${file}`);
					await ev.wait(act('play-file', { File: file }), { from: mark, what: 'play-file' });
					await hearsTone('the first tone', S.phone, 2600);
					const st = await api(c, 'conference 7605 play_status');
					const m = /^\+OK (\d+)\/(\d+) (.*)\n$/.exec(st);
					assert.ok(m, `play_status: ${JSON.stringify(st)}`);
					assert.equal(m[2], '20000');
					assert.equal(m[3], file);
					const r = await api(c, 'conference 7605 file_seek +18000');
					const sk = /^\+OK seek to position (\d+)\n$/.exec(r);
					assert.ok(sk && Number(sk[1]) >= 18000 * 8, `file_seek: ${JSON.stringify(r)}`);
					const t0 = Date.now();
					await hearsTone('the second tone after the seek', S.phone, 2900, 8000);
					assert.ok(Date.now() - t0 < 8000, 'well before the 20 s of the first tone');
					assert.equal(await api(c, 'conference 7605 file_seek 0'),
						'+OK seek to position 0\n');
					await hearsTone('the second file from its start', S.phone, 2900, 8000);
					assert.equal(await api(c, 'conference 7605 stop'), '+OK Stopped 1 files.\n');
					assert.equal(await api(c, 'conference 7605 file_seek +1000'), '-ERR no reply\n');
				} finally {
					await hangUp(S);
				}
			});

		await sub('a long file is decoded off the signalling thread: the server answers at once',
			T, async () => {
				/* four minutes at 48 kHz: long to decode and resample */
				const long = path.join(server.dir, 'long-2700.wav');
				writeWav(long, 48000, 2700, 240, 8000);
				const S = await join('76061', '7606', 0);
				try {
					const t0 = Date.now();
					assert.equal(await api(c, `conference 7606 play ${long}`),
						`+OK (play) Playing file ${long}\n`);
					assert.match(await api(c, 'status'), /UP /);
					const answered = Date.now() - t0;
					await hearsTone('the long file', S.phone, 2700, 50000);
					const heardAt = Date.now() - t0;
					/* decoded on the signalling thread, the replies would wait as long as the tone */
					assert.ok(answered < heardAt / 2, `answered after ${answered} ms, ` +
						`the file heard after ${heardAt} ms`);
					assert.equal(await api(c, 'conference 7606 stop'), '+OK Stopped 1 files.\n');
				} finally {
					fs.rmSync(long, { force: true });
					await hangUp(S);
				}
			});

		await sub('a 16 kHz file played into a 16 kHz room keeps its 6 kHz (the room '
			+ 'records it at 16 kHz); an 8 kHz room filters it out instead of folding it', T,
		async () => {
			const W = await join('75011', '7501', 0);
			const N = await join('76011', '7601', 0);
			try {
				const w16 = await recordPlay('7501', wide, path.join(server.dir, 'w16.wav'));
				assert.equal(w16.fmt.rate, 16000);
				const s16 = loudest(w16.samples, 16000);
				const pn16 = goertzel(s16, NOISE, 16000) || 1;
				assert.ok(goertzel(s16, 1000, 16000) > 100 * pn16, '1000 Hz in the 16 kHz room');
				assert.ok(goertzel(s16, 6000, 16000) > 100 * pn16,
					`6000 Hz in the 16 kHz room (${goertzel(s16, 6000, 16000)} vs ${pn16})`);
				assert.ok(goertzel(s16, 6000, 16000) > goertzel(s16, 1000, 16000) / 4,
					'6000 Hz at about the level of 1000 Hz');

				const w8 = await recordPlay('7601', wide, path.join(server.dir, 'w8.wav'));
				assert.equal(w8.fmt.rate, 8000);
				const s8 = loudest(w8.samples, 8000);
				const p1000 = goertzel(s8, 1000, 8000);
				assert.ok(p1000 > 100 * (goertzel(s8, NOISE, 8000) || 1), '1000 Hz in the 8 kHz room');
				/* 6 kHz folded at 8 kHz would be 2 kHz. */
				assert.ok(goertzel(s8, 2000, 8000) * 1000 < p1000, 'no 2000 Hz alias');
			} finally {
				await hangUp(W, N);
			}
		});

		await sub('music on hold: the member alone hears it, looping; a second member '
			+ 'stops it for both, it comes back when one is alone again; moh off|on|toggle|'
			+ '<file>|reset', T, async () => {
			const A = await join('74011', '7401', 1000);
			let B;
			try {
				await hearsTone('A alone hears the hold music (2000 Hz)', A.phone, 2000);
				/* The file is 0.5 s long: still there 2 s on, it loops. */
				await h.sleep(2000);
				await hearsTone('A still hears it 2 s later', A.phone, 2000, 1000);

				B = await join('74012', '7401', 1400);
				await hearsTone('A hears B (1400 Hz)', A.phone, 1400);
				await hearsTone('B hears A (1000 Hz)', B.phone, 1000);
				await hearsNoTone('with two members A hears no hold music', A.phone, 2000);
				await hearsNoTone('nor does B', B.phone, 2000);
				await hangUp(B);
				B = null;
				await hearsTone('alone again, A hears the hold music', A.phone, 2000);

				assert.equal(await api(c, 'conference 7401 moh'), 'moh <file_path>|toggle|[on|off]');
				assert.equal(await api(c, 'conference 7401 moh off'), '+OK moh\n');
				await hearsNoTone('moh off: none', A.phone, 2000);
				assert.equal(await api(c, 'conference 7401 moh on'), '+OK moh\n');
				await hearsTone('moh on: the music again', A.phone, 2000);
				assert.equal(await api(c, 'conference 7401 moh toggle'), '+OK moh\n');
				await hearsNoTone('moh toggle: off', A.phone, 2000);
				assert.equal(await api(c, 'conference 7401 moh toggle'), '+OK moh\n');
				await hearsTone('moh toggle again: on', A.phone, 2000);
				assert.equal(await api(c, 'conference 7401 moh moh-2400.wav'), '+OK moh\n');
				await hearsTone('moh <file>: that file (2400 Hz) instead', A.phone, 2400);
				await hearsNoTone('and not the profile\'s', A.phone, 2000);
				assert.equal(await api(c, 'conference 7401 moh reset'), '+OK moh\n');
				await hearsTone('moh reset: the profile\'s again', A.phone, 2000);
				for (const [what, on] of [['DTMF 5 (moh toggle): off', false],
					['DTMF 5 again: on', true]]) {
					A.phone.stopTone();
					await A.phone.sendDigit('5');
					A.phone.startTone(1000);
					if (on)
						await hearsTone(what, A.phone, 2000);
					else
						await hearsNoTone(what, A.phone, 2000);
				}
			} finally {
				await hangUp(...[A, B].filter(Boolean));
			}
		});

		await sub('nomoh: a member alone with flags{nomoh} hears no hold music', T,
			async () => {
				const N = await join('73021', '7402', 1000);
				try {
					await hearsNoTone('the nomoh member hears none', N.phone, 2000, 1500);
				} finally {
					await hangUp(N);
				}
			});

		await sub('wait-mod: the members waiting for the moderator hear the hold music '
			+ '(conference_moh_sound, 2400 Hz) and not each other; the moderator stops it',
		T, async () => {
			const W1 = await join('71031', '7403', 1000);
			const P = [W1];
			try {
				await hearsTone('W1 waits with the hold music', W1.phone, 2400);
				const W2 = await join('74032', '7403', 1400);
				P.push(W2);
				await hearsTone('W2 waits with it too', W2.phone, 2400);
				await hearsNoTone('W1 does not hear W2 while waiting', W1.phone, 1400);
				const M = await join('72033', '7403', 1800);
				P.push(M);
				await hearsTone('the moderator is in: W1 hears W2', W1.phone, 1400);
				await hearsTone('and the moderator', W1.phone, 1800);
				await hearsNoTone('the hold music stopped for W1', W1.phone, 2400);
				await hearsNoTone('and for the moderator', M.phone, 2400);
			} finally {
				await hangUp(...P);
			}
		});

		await sub('relate: nospeak keeps <id> out of what <oid> hears, nohear keeps <oid> out '
			+ 'of what <id> hears; clear, the listing, bad ids and actions', T, async () => {
			const A = await join('76051', '7605', 1000);
			const B = await join('76052', '7605', 1400);
			const C = await join('76053', '7605', 1800);
			const P = [A, B, C];
			const rel = (args) => api(c, `conference 7605 relate ${args}`);
			try {
				assert.equal(await rel(''), '+OK No relationships\n');
				await hearsTone('B hears A before', B.phone, 1000);

				assert.equal(await rel(`${A.id} ${B.id} nospeak`),
					`+OK ${A.id}->${B.id} nospeak set\n`);
				await hearsNoTone('nospeak: B does not hear A', B.phone, 1000);
				await hearsTone('B still hears C', B.phone, 1800);
				await hearsTone('C still hears A', C.phone, 1000);
				await hearsTone('A still hears B', A.phone, 1400);
				assert.equal(await rel(''), `${A.id} -> ${B.id} NOSPEAK HEAR NOSENDVIDEO \n`);

				assert.equal(await rel(`${A.id} ${B.id} clear`),
					`+OK relationship ${A.id}->${B.id} cleared.\n`);
				await hearsTone('cleared: B hears A again', B.phone, 1000);
				assert.equal(await rel(`${A.id} ${B.id} clear`),
					`-ERR relationship ${A.id}->${B.id} not found.\n`);

				assert.equal(await rel(`${A.id} ${B.id},${C.id} nohear`),
					`+OK ${A.id}->${B.id} nohear set\n+OK ${A.id}->${C.id} nohear set\n`);
				await hearsNoTone('nohear: A does not hear B', A.phone, 1400);
				await hearsNoTone('nor C', A.phone, 1800, 0);
				await hearsTone('B hears A', B.phone, 1000);
				await hearsTone('C hears B', C.phone, 1400);
				assert.equal(await rel(`${A.id}`),
					`${A.id} -> ${C.id} SPEAK NOHEAR NOSENDVIDEO \n` +
					`${A.id} -> ${B.id} SPEAK NOHEAR NOSENDVIDEO \n`);
				assert.equal(await rel(`${B.id}`), '+OK No relationships\n');

				assert.equal(await rel(`${A.id} 9999 nospeak`),
					`-ERR relationship ${A.id}->9999 not found.\n`);
				const usage = 'relate <member_id>[,<member_id>] ' +
					'<other_member_id>[,<other_member_id>] [nospeak|nohear|clear]';
				assert.equal(await rel(`${A.id} ${B.id} loud`), usage);
				assert.equal(await rel(`${A.id} ${B.id}`), usage);

				/* B leaves: the relationships to it go with it. */
				await hangUp(B);
				P.splice(P.indexOf(B), 1);
				assert.equal(await rel(''), `${A.id} -> ${C.id} SPEAK NOHEAR NOSENDVIDEO \n`);
			} finally {
				await hangUp(...P);
			}
		});
	});
