'use strict';
/*
 * apps_media.test.js - playback, read, play_and_get_digits and record on real
 * SIP calls: SIPp places the call into a test dialplan, a test phone (rtp.js)
 * is its media, and everything is checked by content: the tone the phone
 * hears, the digits it sends (RFC 4733) landing in channel variables, the
 * 440 Hz it sends landing in a WAV file that the test reads back.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');
const sipp = require('./sipp');
const { dominant, goertzel, rms, RATE } = require('./rtp');
const { api, waitVar, frames, phoneCall } = require('./chanpoll');
const { readWav, writeWav } = require('./wav');

const T = { timeout: 60000 };
const FREQS = [350, 440, 1000, 1400, 2000];
const SOUNDS_SH = path.join(__dirname, '..', '..', 'scripts', 'sounds.sh');

function haveTools() {
	try {
		execFileSync('sh', ['-c', 'command -v espeak-ng && command -v sox'], { stdio: 'ignore' });
		return true;
	} catch (e) {
		return false;
	}
}

/* The test extensions, in the default context (dialplan/default/*.xml). */
const DIALPLAN = `<include>
  <extension name="t_tone">
    <condition field="destination_number" expression="^7100$">
      <action application="answer"/>
      <action application="playback" data="tone_stream://%(1000,0,1000);loops=2"/>
    </condition>
  </extension>
  <extension name="t_named_tone">
    <condition field="destination_number" expression="^7115$">
      <action application="answer"/>
      <action application="playback" data="tone_stream://\${us-ring}"/>
    </condition>
  </extension>
  <extension name="t_file">
    <condition field="destination_number" expression="^7101$">
      <action application="answer"/>
      <action application="set" data="sound_prefix=$\${sounds_dir}/test"/>
      <action application="playback" data="no-such-prompt.wav"/>
      <action application="set" data="missing_response=\${current_application_response}"/>
      <action application="playback" data="file_string://silence_stream://100!tone16k.wav"/>
      <action application="set" data="played_response=\${current_application_response}"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_read">
    <condition field="destination_number" expression="^7102$">
      <action application="answer"/>
      <action application="read" data="3 4 tone_stream://%(400,0,440) digits 4000 #"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_pagd">
    <condition field="destination_number" expression="^7103$">
      <action application="answer"/>
      <action application="play_and_get_digits" data="2 3 3 4000 # tone_stream://%(300,0,440) tone_stream://%(300,0,350) pin ^12$ 2000"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_pagd_fail">
    <condition field="destination_number" expression="^7104$">
      <action application="answer"/>
      <action application="play_and_get_digits" data="1 1 2 500 # silence_stream://100 silence_stream://100 choice ^5$ 500 '7105 XML default'"/>
      <action application="set" data="not_reached=true"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_failed_over">
    <condition field="destination_number" expression="^7105$">
      <action application="set" data="landed=7105"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_record">
    <condition field="destination_number" expression="^7106$">
      <action application="answer"/>
      <action application="record" data="calls/rec-7106.wav 2"/>
    </condition>
  </extension>
  <extension name="t_record_bad">
    <condition field="destination_number" expression="^7107$">
      <action application="answer"/>
      <action application="record" data="/proc/no/such/dir/x.wav 5"/>
      <action application="playback" data="tone_stream://%(1000,0,1400)"/>
    </condition>
  </extension>
  <extension name="t_terminator">
    <condition field="destination_number" expression="^7108$">
      <action application="answer"/>
      <action application="playback" data="tone_stream://%(20000,0,1000)"/>
      <action application="set" data="term=\${playback_terminator_used}"/>
      <action application="playback" data="tone_stream://%(20000,0,1400)"/>
    </condition>
  </extension>
  <extension name="t_record_hangup">
    <condition field="destination_number" expression="^7110$">
      <action application="answer"/>
      <action application="record" data="calls/rec-7110.wav"/>
    </condition>
  </extension>
  <extension name="t_record_silence">
    <condition field="destination_number" expression="^7111$">
      <action application="answer"/>
      <action application="sleep" data="1000"/>
      <action application="record" data="calls/rec-7111.wav 30 4500 2"/>
      <action application="set" data="rec_after=true"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_record_quiet_tone">
    <condition field="destination_number" expression="^7112$">
      <action application="answer"/>
      <action application="sleep" data="1000"/>
      <action application="record" data="calls/rec-7112.wav 30 5500 1"/>
      <action application="set" data="rec_after=true"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_prompt">
    <condition field="destination_number" expression="^7109$">
      <action application="answer"/>
      <action application="playback" data="conference/conf-alone.wav"/>
      <action application="set" data="resp=\${current_application_response}"/>
      <action application="park"/>
    </condition>
  </extension>
</include>
`;

/* The loud packets a phone got, checked to be about 2 s worth, and their samples. */
function twoSecondsOfTone(phone) {
	const heard = frames(phone).filter((f) => f.rms > 2000);
	assert.ok(heard.length >= 90 && heard.length <= 106,
		`about 100 packets of tone, got ${heard.length}`);
	return { heard, all: [].concat(...heard.map((f) => f.s)) };
}

test('media applications', { skip: !sipp.available() && 'sipp not installed', timeout: 240000 },
	async (t) => {
		const server = await h.startServer({
			edit(conf) {
				const dir = path.join(conf, 'dialplan', 'default');
				fs.mkdirSync(dir, { recursive: true });
				fs.writeFileSync(path.join(dir, '90_media_test.xml'), DIALPLAN);
			},
		});
		const c = await h.rawAuthed(server);
		t.after(async () => { c.destroy(); await server.stop(); });

		const call = (dest) => phoneCall(server, c, dest);

		async function digits(phone, s) {
			for (const d of s) {
				await phone.sendDigit(d);
				await h.sleep(80);
			}
		}

		await t.test('playback of tone_stream://%(1000,0,1000);loops=2: 2 s of 1000 Hz', T,
			async () => {
				const { phone, uac } = await call('7100');
				const t0 = Date.now();
				const r = await uac.done;
				phone.close();
				assert.equal(r.code, 0, r.err + r.out);
				const { heard, all } = twoSecondsOfTone(phone);
				const d = dominant(all, FREQS);
				assert.equal(d.freq, 1000);
				assert.ok(d.ratio > 100, `pure 1000 Hz (ratio ${d.ratio})`);
				const span = heard[heard.length - 1].at - heard[0].at;
				assert.ok(span >= 1800 && span <= 2400, `lasted ${span} ms`);
				assert.ok(Date.now() - t0 < 5000, 'then the call ended');
			});

		await t.test('a named tone of vars.xml: tone_stream://${us-ring} is 2 s of 440+480 Hz', T,
			async () => {
				const { phone, uac } = await call('7115');
				const r = await uac.done;
				phone.close();
				assert.equal(r.code, 0, r.err + r.out);
				const { all } = twoSecondsOfTone(phone);
				const off = goertzel(all, 1000);
				assert.ok(goertzel(all, 440) > 50 * off && goertzel(all, 480) > 50 * off,
					'both frequencies of the ring');
			});

		await t.test('playback of a 16 kHz file (resampled) and of a missing one', T,
			async () => {
				writeWav(path.join(server.dir, 'sounds', 'test', 'tone16k.wav'), 16000, 1400,
					1.0);
				const { phone, uac, uuid } = await call('7101');
				assert.equal(await waitVar(c, uuid, 'played_response', 'FILE PLAYED'),
					'FILE PLAYED');
				assert.equal(await api(c, `uuid_getvar ${uuid} missing_response`),
					'FILE NOT FOUND');
				const heard = frames(phone).filter((f) => f.rms > 2000);
				const all = [].concat(...heard.map((f) => f.s));
				assert.ok(heard.length >= 45 && heard.length <= 55,
					`1 s of the file, got ${heard.length} packets`);
				assert.equal(dominant(all, FREQS).freq, 1400);
				assert.ok(Number(await api(c, `uuid_getvar ${uuid} playback_ms`)) >= 1000);
				assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
				const r = await uac.done;
				phone.close();
				assert.equal(r.code, 0, r.err + r.out);
			});

		await t.test('read collects RFC 4733 digits up to the terminator', T, async () => {
			const { phone, uac, uuid } = await call('7102');
			await h.sleep(200);
			await digits(phone, '123#');
			assert.equal(await waitVar(c, uuid, 'digits', '123'), '123');
			assert.equal(await api(c, `uuid_getvar ${uuid} read_result`), 'success');
			assert.equal(await api(c, `uuid_getvar ${uuid} read_terminator_used`), '#');
			/* Caller-profile fields answer when no variable has the name. */
			const cid = await api(c, `uuid_getvar ${uuid} caller_id_number`);
			assert.notEqual(cid, '_undef_');
			assert.equal(await api(c, `uuid_getvar ${uuid} ani`), cid);
			const heard = frames(phone).filter((f) => f.rms > 2000);
			assert.ok(heard.length > 3, 'the prompt played');
			assert.equal(dominant([].concat(...heard.map((f) => f.s)), FREQS).freq, 440);
			assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
			const r = await uac.done;
			phone.close();
			assert.equal(r.code, 0, r.err + r.out);
		});

		await t.test('play_and_get_digits: an invalid try, then a valid one', T, async () => {
			const { phone, uac, uuid } = await call('7103');
			await h.sleep(500);
			await digits(phone, '99#');
			await h.sleep(700);          /* the invalid prompt (350 Hz) plays */
			await digits(phone, '12#');
			assert.equal(await waitVar(c, uuid, 'pin', '12'), '12');
			assert.equal(await api(c, `uuid_getvar ${uuid} pin_invalid`), '99');
			const heard = frames(phone).filter((f) => f.rms > 2000);
			const all = [].concat(...heard.map((f) => f.s));
			assert.ok(goertzel(all, 350) > 1000,
				'the invalid prompt was heard');
			assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
			const r = await uac.done;
			phone.close();
			assert.equal(r.code, 0, r.err + r.out);
		});

		await t.test('play_and_get_digits: no answer, tries used up: transfer_on_fail', T,
			async () => {
				const { phone, uac, uuid } = await call('7104');
				assert.equal(await waitVar(c, uuid, 'landed', '7105'), '7105');
				assert.equal(await api(c, `uuid_getvar ${uuid} not_reached`), '_undef_');
				assert.equal(await api(c, `uuid_getvar ${uuid} choice`), '_undef_');
				assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
				const r = await uac.done;
				phone.close();
				assert.equal(r.code, 0, r.err + r.out);
			});

		await t.test('record 2 s of the phone\'s 440 Hz into a WAV', T, async () => {
			const { phone, uac, uuid } = await call('7106');
			phone.startTone(440, { pt: 0 });
			const r = await uac.done;
			phone.close();
			assert.equal(r.code, 0, r.err + r.out);
			const file = path.join(server.dir, 'recordings', 'calls', 'rec-7106.wav');
			assert.ok(fs.existsSync(file), `${file} exists`);
			const { fmt, samples } = readWav(file);
			assert.deepEqual(fmt, { format: 1, channels: 1, rate: 8000, bits: 16 });
			assert.equal(samples.length, 2 * RATE, 'exactly the 2 s time limit');
			/* the phone starts a moment after the answer: judge the last 1.5 s */
			const tail = samples.slice(samples.length - 1.5 * RATE);
			const d = dominant(tail, FREQS);
			assert.equal(d.freq, 440);
			assert.ok(rms(tail) > 2000, `at a useful level (${rms(tail)})`);
			void uuid;
		});

		await t.test('record without a limit, ended by the hangup: a valid WAV', T, async () => {
			const { phone, uac, uuid } = await call('7110');
			phone.startTone(440, { pt: 0 });
			await h.sleep(1500);
			assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
			const r = await uac.done;
			phone.close();
			assert.equal(r.code, 0, r.err + r.out);
			const { fmt, samples } = readWav(path.join(server.dir, 'recordings', 'calls',
				'rec-7110.wav'));
			assert.equal(fmt.rate, 8000);
			assert.ok(samples.length >= 1.2 * RATE && samples.length <= 1.8 * RATE,
				`about 1.5 s (${samples.length / RATE} s)`);
			assert.equal(dominant(samples.slice(samples.length - RATE), FREQS).freq, 440);
		});

		/*
		 * The phone's 440 Hz at amplitude 8000 scores a mean |sample| of about
		 * 5100 (FreeSWITCH's score): loud against threshold 4500, quiet against 5500.
		 */
		await t.test('record with silence_hits: the tone, then 2 s of silence end it', T,
			async () => {
				const { phone, uac, uuid } = await call('7111');
				phone.startTone(440, { pt: 0 });
				await h.sleep(3000);             /* the 1 s sleep, then about 2 s of tone */
				phone.startTone(0, { pt: 0 });
				assert.equal(await waitVar(c, uuid, 'rec_after', 'true'), 'true',
					'record ended by itself, the dialplan went on');
				assert.equal(await api(c, `uuid_getvar ${uuid} silence_hits_exhausted`), 'true');
				assert.equal(await api(c, `uuid_getvar ${uuid} record_error`), '_undef_');
				const n = Number(await api(c, `uuid_getvar ${uuid} record_samples`));
				assert.equal(await api(c, `uuid_getvar ${uuid} record_ms`), String(n / 8));
				assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
				const r = await uac.done;
				phone.close();
				assert.equal(r.code, 0, r.err + r.out);
				const { samples } = readWav(path.join(server.dir, 'recordings', 'calls',
					'rec-7111.wav'));
				assert.equal(samples.length, n, 'record_samples is the file\'s length');
				assert.ok(samples.length > 2.5 * RATE && samples.length < 10 * RATE,
					`tone and silence, far below the 30 s limit (${samples.length / RATE} s)`);
				const head = samples.slice(0, RATE);
				assert.equal(dominant(head, FREQS).freq, 440);
				assert.ok(rms(head) > 2000, `the tone at a useful level (${rms(head)})`);
				/* 100 quiet frames in a row end it; the 100th is not written. */
				let quiet = 0;
				while (quiet < samples.length && Math.abs(samples[samples.length - 1 - quiet]) < 50)
					quiet++;
				assert.ok(quiet >= 1.9 * RATE && quiet <= 1.98 * RATE,
					`ends after the 2 s of silence (${quiet / RATE} s of it kept)`);
			});

		await t.test('record: a tone below silence_thresh is silence, 1 s of it ends it', T,
			async () => {
				const { phone, uac, uuid } = await call('7112');
				phone.startTone(440, { pt: 0 });
				assert.equal(await waitVar(c, uuid, 'rec_after', 'true'), 'true',
					'record ended although the tone goes on');
				assert.equal(await api(c, `uuid_getvar ${uuid} silence_hits_exhausted`), 'true');
				assert.equal(await api(c, `uuid_getvar ${uuid} record_samples`), String(49 * 160));
				assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
				const r = await uac.done;
				phone.close();
				assert.equal(r.code, 0, r.err + r.out);
				const { samples } = readWav(path.join(server.dir, 'recordings', 'calls',
					'rec-7112.wav'));
				/* 50 frames of 20 ms scored quiet; the 50th is not written. */
				assert.equal(samples.length, 49 * 160);
				assert.equal(dominant(samples, FREQS).freq, 440);
				assert.ok(rms(samples) > 2000, `all of it the tone (${rms(samples)})`);
			});

		await t.test('record to an unwritable path: logged, the call goes on', T, async () => {
			const { phone, uac } = await call('7107');
			const r = await uac.done;
			phone.close();
			assert.equal(r.code, 0, r.err + r.out);
			const heard = frames(phone).filter((f) => f.rms > 2000);
			assert.ok(heard.length >= 40, `the next playback ran (${heard.length})`);
			assert.equal(dominant([].concat(...heard.map((f) => f.s)), FREQS).freq, 1400);
		});

		await t.test('playback_terminators: * stops a playback, the next one runs', T,
			async () => {
				const { phone, uac, uuid } = await call('7108');
				await h.sleep(1000);
				const mark = Date.now();
				await phone.sendDigit('*');
				await h.sleep(1000);
				const after = frames(phone).filter((f) => f.at > mark + 300 && f.rms > 2000);
				assert.ok(after.length > 20, 'still playing');
				assert.equal(dominant([].concat(...after.map((f) => f.s)), FREQS).freq, 1400);
				assert.equal(await api(c, `uuid_getvar ${uuid} term`), '*');
				assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
				const r = await uac.done;
				phone.close();
				assert.equal(r.code, 0, r.err + r.out);
			});

		await t.test('prompts from scripts/sounds.sh play through the default sound_prefix',
			{ timeout: 60000, skip: !haveTools() && 'espeak-ng or sox missing' }, async () => {
				execFileSync(SOUNDS_SH, [path.join(server.dir, 'sounds')], { stdio: 'ignore' });
				const { phone, uac, uuid } = await call('7109');
				assert.equal(await waitVar(c, uuid, 'resp', 'FILE PLAYED', 10000), 'FILE PLAYED');
				const spoken = frames(phone).filter((f) => f.rms > 300);
				assert.ok(spoken.length > 50, `speech was heard (${spoken.length} packets)`);
				assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
				const r = await uac.done;
				phone.close();
				assert.equal(r.code, 0, r.err + r.out);
			});
	});
