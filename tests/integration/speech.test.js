'use strict';
/*
 * speech.test.js - say, phrase and speak on real SIP calls, checked by what
 * the test phone hears: the say files are tones of distinct frequencies, so
 * their order shows in the Goertzel levels; speech is checked for energy in
 * the speech band, for a plausible length, and for ending.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');
const sipp = require('./sipp');
const { dominant, goertzel } = require('./rtp');
const { api, waitVar, frames, phoneCall } = require('./chanpoll');
const { writeWav } = require('./wav');

const T = { timeout: 60000 };
/* The say files of "one hundred twenty three", each a tone of its own. */
const WORDS = { 'digits/1': 500, 'digits/hundred': 800, 'digits/20': 1200, 'digits/3': 1800,
	'digits/2': 2600 };
const FREQS = Object.values(WORDS);

const DIALPLAN = `<include>
  <extension name="t_say">
    <condition field="destination_number" expression="^7200$">
      <action application="answer"/>
      <action application="set" data="sound_prefix=$\${sounds_dir}/saytest"/>
      <action application="say" data="en number pronounced 123"/>
      <action application="set" data="said=\${current_application_response}"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_phrase">
    <condition field="destination_number" expression="^72(0[12])$">
      <action application="answer"/>
      <action application="set" data="sound_prefix=$\${sounds_dir}/saytest"/>
      <action application="set" data="default_language=xx"/>
      <action application="phrase" data="pick,$1"/>
      <action application="set" data="phrased=done"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_speak">
    <condition field="destination_number" expression="^7203$">
      <action application="answer"/>
      <action application="speak" data="flite|kal|Hello, this is a test of the speech engine."/>
      <action application="set" data="spoke=\${current_application_response}"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_speak_bad">
    <condition field="destination_number" expression="^7204$">
      <action application="answer"/>
      <action application="speak" data="nosuch|kal|Hello"/>
      <action application="set" data="bad_engine=\${current_application_response}"/>
      <action application="speak" data="espeak|nosuchvoice|Hello"/>
      <action application="set" data="bad_voice=\${current_application_response}"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_lua_say">
    <condition field="destination_number" expression="^7205$">
      <action application="answer"/>
      <action application="set" data="sound_prefix=$\${sounds_dir}/saytest"/>
      <action application="lua" data="speech_test.lua"/>
      <action application="park"/>
    </condition>
  </extension>
</include>
`;

/* session:say, then session:sayPhrase in language xx, each result kept in a variable. */
const LUA_SCRIPT = `local said = session:say("123", "en", "number", "pronounced")
local phrased = session:sayPhrase("pick", "02", "xx")
session:setVariable("lua_spoken", tostring(said) .. "," .. tostring(phrased))
`;

/* "01": the ^1$ input matches, plays digits/1; "02" says 2 through the nomatch branch. */
const LANG = `<include>
  <language name="xx" say-module="en">
    <phrases><macros>
      <macro name="pick">
        <input pattern="^01$" break_on_match="true">
          <match><action function="play-file" data="digits/1.wav"/></match>
        </input>
        <input pattern="^0(\\d)$">
          <match><action function="say" data="$1" method="pronounced" type="number"/></match>
          <nomatch><action function="play-file" data="digits/hundred.wav"/></nomatch>
        </input>
      </macro>
    </macros></phrases>
  </language>
</include>
`;

/* The tones heard, in order, each once per run of frames. */
function toneOrder(phone) {
	const order = [];
	for (const f of frames(phone).filter((x) => x.rms > 2000)) {
		const d = dominant(f.s, FREQS);
		if (d.ratio > 10 && order[order.length - 1] !== d.freq)
			order.push(d.freq);
	}
	return order;
}

test('speech applications', { skip: !sipp.available() && 'sipp not installed',
	timeout: 240000 }, async (t) => {
	const server = await h.startServer({
		edit(conf) {
			const dir = path.join(conf, 'dialplan', 'default');
			fs.mkdirSync(dir, { recursive: true });
			fs.writeFileSync(path.join(dir, '90_speech_test.xml'), DIALPLAN);
			fs.mkdirSync(path.join(conf, 'lang', 'xx'), { recursive: true });
			fs.writeFileSync(path.join(conf, 'lang', 'xx', 'xx.xml'), LANG);
			fs.mkdirSync(path.join(conf, 'scripts'), { recursive: true });
			fs.writeFileSync(path.join(conf, 'scripts', 'speech_test.lua'), LUA_SCRIPT);
		},
	});
	for (const [name, hz] of Object.entries(WORDS))
		writeWav(path.join(server.dir, 'sounds', 'saytest', `${name}.wav`), 8000, hz, 0.3);
	const c = await h.rawAuthed(server);
	t.after(async () => { c.destroy(); await server.stop(); });

	const call = (dest) => phoneCall(server, c, dest);

	async function hangup(uuid, phone, uac) {
		assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
		const r = await uac.done;
		phone.close();
		assert.equal(r.code, 0, r.err + r.out);
	}

	await t.test('say en number pronounced 123: one, hundred, twenty, three in order', T,
		async () => {
			const { phone, uac, uuid } = await call('7200');
			assert.equal(await waitVar(c, uuid, 'said', 'FILE PLAYED'), 'FILE PLAYED');
			await h.sleep(100);
			assert.deepEqual(toneOrder(phone), [500, 800, 1200, 1800]);
			await hangup(uuid, phone, uac);
		});

	await t.test('a phrase macro: the matching input, then the nomatch branch', T,
		async () => {
			let { phone, uac, uuid } = await call('7201');
			assert.equal(await waitVar(c, uuid, 'phrased', 'done'), 'done');
			await h.sleep(100);
			/* break_on_match: the second input never runs. */
			assert.deepEqual(toneOrder(phone), [500]);
			await hangup(uuid, phone, uac);
			({ phone, uac, uuid } = await call('7202'));
			assert.equal(await waitVar(c, uuid, 'phrased', 'done'), 'done');
			await h.sleep(100);
			/* "02": ^01$ fails (its nomatch is empty), ^0(\d)$ says $1 = 2. */
			assert.deepEqual(toneOrder(phone), [2600]);
			await hangup(uuid, phone, uac);
		});

	await t.test('Lua session:say and sayPhrase play the same words in order', T,
		async () => {
			const { phone, uac, uuid } = await call('7205');
			assert.equal(await waitVar(c, uuid, 'lua_spoken'), '1,1');
			await h.sleep(100);
			assert.deepEqual(toneOrder(phone), [500, 800, 1200, 1800, 2600]);
			await hangup(uuid, phone, uac);
		});

	await t.test('speak: speech-band audio of a plausible length, then the next action', T,
		async () => {
			const { phone, uac, uuid } = await call('7203');
			assert.equal(await waitVar(c, uuid, 'spoke', 'FILE PLAYED'), 'FILE PLAYED');
			const heard = frames(phone).filter((f) => f.rms > 300);
			const span = heard.length ? heard[heard.length - 1].at - heard[0].at : 0;
			assert.ok(span > 1000 && span < 8000, `speech lasted ${span} ms`);
			const all = [].concat(...heard.map((f) => f.s));
			const band = [300, 500, 800, 1200].reduce((a, f) => a + goertzel(all, f), 0);
			const high = [3700, 3900].reduce((a, f) => a + goertzel(all, f), 0);
			assert.ok(band > 4 * high, `energy in the speech band (${band} vs ${high})`);
			/* Ended: nothing loud once the application completed. */
			const after = Date.now();
			await h.sleep(500);
			const late = frames(phone).filter((f) => f.at > after + 100 && f.rms > 300);
			assert.equal(late.length, 0, 'silent after the speech');
			await hangup(uuid, phone, uac);
		});

	await t.test('speak with a bad engine or voice fails cleanly, the call goes on', T,
		async () => {
			const { phone, uac, uuid } = await call('7204');
			assert.equal(await waitVar(c, uuid, 'bad_voice', 'PLAYBACK ERROR'),
				'PLAYBACK ERROR');
			assert.equal(await api(c, `uuid_getvar ${uuid} bad_engine`), 'PLAYBACK ERROR');
			const log = server.logText();
			assert.match(log, /tts: unknown engine 'nosuch'/);
			assert.match(log, /tts: espeak-ng failed \(exit 1\).*voice/);
			await hangup(uuid, phone, uac);
		});
});
