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
    </profile>
  </profiles>`;

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

/* Not a trace of `f` over a whole second (checked after `settle` ms). */
async function hearsNoTone(what, phone, f, settle = 600) {
	await h.sleep(settle);
	const p = heard(phone, [f], 1000);
	assert.ok(p.n >= 40 * 160, `${what}: audio arrives (${JSON.stringify(p)})`);
	assert.ok(p[f] < 100 * (p[NOISE] || 1) && p[f] < 1e4, `${what}: ${JSON.stringify(p)}`);
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
					PROFILES));
			},
		});
		const c = await h.rawAuthed(server);
		const ev = await EventLog.open(server, `CUSTOM ${SUB}`);
		const calls = [];
		t.after(async () => {
			for (const m of calls) {
				if (m.uac.proc.exitCode === null && m.uac.proc.signalCode === null)
					m.uac.proc.kill('SIGKILL');
				m.phone.close();
			}
			ev.c.destroy();
			c.destroy();
			await server.stop();
		});

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

		await t.test('a 16 kHz file played into a 16 kHz room keeps its 6 kHz (the room '
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
	});
