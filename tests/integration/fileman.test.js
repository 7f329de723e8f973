'use strict';
/*
 * fileman.test.js - control of a file while it plays: the replies of a mod_lua
 * input callback during session:streamFile (pause, seek, restart, volume,
 * truncate, break), uuid_fileman on the playback application, and the input
 * callback during session:recordFile. Real SIP calls (SIPp) with a test phone
 * (rtp.js) as their media; the phone's RFC 4733 digits drive the callbacks.
 *
 * What plays is a sequence of three one-second tones, 1000, 1400 and 2000 Hz;
 * after it 2600 Hz for half a second marks "the script (or dialplan) went on".
 * Each control shows in the tones the phone hears: how many 20 ms packets of
 * each, in which order, at what level.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');
const sipp = require('./sipp');
const { dominant, RATE } = require('./rtp');
const { api, waitVar, frames, phoneCall } = require('./chanpoll');
const { readWav } = require('./wav');

const T = { timeout: 60000 };
const FREQS = [440, 1000, 1400, 2000, 2600];
const SEQ = 'tone_stream://%(1000,0,1000);%(1000,0,1400);%(1000,0,2000)';
const MARK = 'tone_stream://%(500,0,2600)';

/* Digit -> reply; the script reports what streamFile returned. */
const SCRIPTS = {
	'fctl.lua': `
local replies = { ["5"] = "pause", ["6"] = "seek:+1500", ["7"] = "restart",
	["8"] = "volume:-4", ["9"] = "truncate", ["0"] = "break", ["1"] = "seek:0",
	["2"] = "speed:-2" }
function on_input(s, kind, obj)
	if kind == "dtmf" then
		return replies[obj.digit] or ""
	end
end
session:answer()
session:setInputCallback("on_input")
local rc = session:streamFile("${SEQ}")
session:setVariable("fctl_rc", tostring(rc))
session:streamFile("${MARK}")
session:hangup()
`,
	'fctl_rec.lua': `
local digits = ""
function on_input(s, kind, obj)
	if kind == "dtmf" then
		digits = digits .. obj.digit
		session:setVariable("rec_digits", digits)
		if obj.digit == "5" then
			return "break"
		elseif obj.digit == "9" then
			return "truncate"
		end
	end
	return "true"
end
session:answer()
session:setInputCallback("on_input")
session:recordFile(argv[1], 20)
session:setVariable("rec_returned", "yes")
session:streamFile("${MARK}")
session:hangup()
`,
};

const DIALPLAN = `<include>
  <extension name="t_fctl_lua">
    <condition field="destination_number" expression="^7300$">
      <action application="lua" data="fctl.lua"/>
    </condition>
  </extension>
  <extension name="t_fctl_rec">
    <condition field="destination_number" expression="^7301$">
      <action application="lua" data="fctl_rec.lua fctl/rec-7301.wav"/>
    </condition>
  </extension>
  <extension name="t_fctl_rec_truncate">
    <condition field="destination_number" expression="^7303$">
      <action application="lua" data="fctl_rec.lua fctl/rec-7303.wav"/>
    </condition>
  </extension>
  <extension name="t_fileman">
    <condition field="destination_number" expression="^7302$">
      <action application="answer"/>
      <action application="playback" data="${SEQ}"/>
      <action application="playback" data="${MARK}"/>
    </condition>
  </extension>
</include>
`;

/* The tone of each 20 ms packet heard (null: silence or noise), with its time and RMS. */
function tones(phone, freqs = FREQS) {
	return frames(phone).map((f) => {
		if (f.rms < 500)
			return { at: f.at, rms: f.rms, f: null };
		const d = dominant(f.s, freqs);
		return { at: f.at, rms: f.rms, f: d.ratio > 10 ? d.freq : null };
	});
}

function count(tt, freq) {
	return tt.filter((x) => x.f === freq).length;
}

function summary(tt) {
	return JSON.stringify(Object.fromEntries(FREQS.map((f) => [f, count(tt, f)])));
}

/* Resolves once the phone has heard `n` packets of tone `freq`. */
async function heard(phone, freq, n = 5, ms = 10000) {
	const deadline = Date.now() + ms;
	while (Date.now() < deadline) {
		if (count(tones(phone), freq) >= n)
			return;
		await h.sleep(20);
	}
	throw new Error(`never heard ${freq} Hz`);
}

function median(a) {
	const s = [...a].sort((x, y) => x - y);
	return s.length ? s[Math.floor(s.length / 2)] : 0;
}

test('file control', { skip: !sipp.available() && 'sipp not installed', timeout: 240000 },
	async (t) => {
		const server = await h.startServer({
			edit(conf) {
				const dir = path.join(conf, 'dialplan', 'default');
				fs.mkdirSync(dir, { recursive: true });
				fs.writeFileSync(path.join(dir, '90_fileman_test.xml'), DIALPLAN);
				const scripts = path.join(conf, 'scripts');
				fs.mkdirSync(scripts, { recursive: true });
				for (const [name, text] of Object.entries(SCRIPTS))
					fs.writeFileSync(path.join(scripts, name), text);
			},
		});
		const c = await h.rawAuthed(server);
		t.after(async () => { c.destroy(); await server.stop(); });

		/* A call to the script: the digits after `wait` packets of 1000 Hz, then to the end. */
		async function luaCall(digits, wait = 10, freqs = FREQS) {
			const { phone, uac, uuid } = await phoneCall(server, c, '7300');
			await heard(phone, 1000, wait);
			for (const d of digits) {
				if (typeof d === 'number') {
					await h.sleep(d);
					continue;
				}
				await phone.sendDigit(d);
			}
			const rc = await waitVar(c, uuid, 'fctl_rc');
			const r = await uac.done;
			phone.close();
			assert.equal(r.code, 0, r.err + r.out);
			return { tt: tones(phone, freqs), rc };
		}

		await t.test('no reply: the three tones in full, then the mark', T, async () => {
			const { tt, rc } = await luaCall(['3']);
			assert.equal(rc, '1');
			for (const f of [1000, 1400, 2000])
				assert.ok(count(tt, f) >= 46 && count(tt, f) <= 54, summary(tt));
			assert.ok(count(tt, 2600) >= 20, summary(tt));
		});

		await t.test('"pause" twice: silence, then the first tone goes on where it stopped',
			T, async () => {
				const { tt } = await luaCall(['5', 1200, '5'], 15);
				const first = tt.findIndex((x) => x.f === 1000);
				const next = tt.findIndex((x) => x.f === 1400);
				const mid = tt.slice(first, next);
				/* the longest silent run inside the first tone */
				let run = 0, best = 0;
				for (const x of mid) {
					run = x.rms < 100 ? run + 1 : 0;
					best = Math.max(best, run);
				}
				assert.ok(best >= 40, `a pause of ${best * 20} ms inside 1000 Hz`);
				/* nothing skipped, nothing repeated */
				assert.ok(count(tt, 1000) >= 46 && count(tt, 1000) <= 54, summary(tt));
				assert.ok(mid.slice(-10).every((x) => x.f === 1000),
					'1000 Hz again after the pause');
				assert.ok(count(tt, 1400) >= 46 && count(tt, 2000) >= 46, summary(tt));
			});

		await t.test('"seek:+1500": the second tone comes early and short', T, async () => {
			const { tt } = await luaCall(['6']);
			assert.ok(count(tt, 1000) <= 35, summary(tt));
			assert.ok(count(tt, 1400) <= 35, summary(tt));
			assert.ok(count(tt, 2000) >= 46, summary(tt));
			assert.ok(count(tt, 2600) >= 20, summary(tt));
		});

		await t.test('"restart": the first tone again from its start', T, async () => {
			const { tt } = await luaCall(['7'], 20);
			assert.ok(count(tt, 1000) >= 65, summary(tt));
			assert.ok(count(tt, 1400) >= 46 && count(tt, 2000) >= 46, summary(tt));
		});

		await t.test('"seek:0" after "seek:+1500": back to the start', T, async () => {
			/* some 1000 Hz, some 1400 Hz, then all three tones in full */
			const { tt } = await luaCall(['6', 300, '1']);
			assert.ok(count(tt, 1000) >= 56, summary(tt));
			assert.ok(count(tt, 1400) >= 56 && count(tt, 2000) >= 46, summary(tt));
		});

		await t.test('"volume:-4": what follows at a fifth of the level', T, async () => {
			const { tt } = await luaCall(['8']);
			const loud = median(tt.filter((x) => x.f === 1000).slice(0, 8).map((x) => x.rms));
			const soft = median(tt.filter((x) => x.f === 2000).map((x) => x.rms));
			assert.ok(count(tt, 2000) >= 40, summary(tt));
			assert.ok(soft < 0.3 * loud && soft > 0.1 * loud, `rms ${soft} after ${loud}`);
		});

		await t.test('"speed:-2": what follows at two thirds of the pace and pitch', T,
			async () => {
				/* 1400 and 2000 Hz come as 933 and 1333 Hz, for 1.5 s each */
				const slow = [2000 / 3, 2800 / 3, 4000 / 3];
				const { tt } = await luaCall(['2'], 10, [...FREQS, ...slow]);
				const seen = JSON.stringify(Object.fromEntries(
					[...FREQS, ...slow].map((f) => [Math.round(f), count(tt, f)])));
				for (const f of slow.slice(1))
					assert.ok(count(tt, f) >= 68 && count(tt, f) <= 80, seen);
				assert.ok(count(tt, slow[0]) >= 20, seen);
				assert.ok(count(tt, 1400) + count(tt, 2000) <= 2, seen);
				/* the next streamFile plays at its own pace */
				assert.ok(count(tt, 2600) >= 20 && count(tt, 2600) <= 27, seen);
			});

		for (const [digit, reply] of [['9', 'truncate'], ['0', 'break']]) {
			await t.test(`"${reply}": streamFile returns, the script goes on`, T, async () => {
				const { tt, rc } = await luaCall([digit]);
				assert.equal(rc, '1');
				assert.ok(count(tt, 1000) <= 35, summary(tt));
				assert.ok(count(tt, 1400) + count(tt, 2000) <= 2, summary(tt));
				assert.ok(count(tt, 2600) >= 20, summary(tt));
			});
		}

		await t.test('uuid_fileman on playback: seek, then stop; the dialplan goes on', T,
			async () => {
				assert.equal(await api(c, 'uuid_fileman'), '-USAGE: <uuid> <cmd>:<val>\n');
				assert.equal(await api(c, 'uuid_fileman no-such-uuid pause'),
					'-ERR No such channel!\n');
				const { phone, uac, uuid } = await phoneCall(server, c, '7302');
				await heard(phone, 1000, 10);
				assert.equal(await api(c, `uuid_fileman ${uuid} seek:+1500`), '+OK\n');
				await heard(phone, 2000, 10);
				assert.equal(await api(c, `uuid_fileman ${uuid} stop`), '+OK\n');
				await heard(phone, 2600, 10);
				const r = await uac.done;
				phone.close();
				assert.equal(r.code, 0, r.err + r.out);
				const tt = tones(phone);
				assert.ok(count(tt, 1000) <= 35 && count(tt, 1400) <= 35, summary(tt));
				assert.ok(count(tt, 2000) <= 35, summary(tt));
				assert.ok(count(tt, 2600) >= 20, summary(tt));
				assert.equal(await api(c, `uuid_fileman ${uuid} pause`),
					'-ERR No such channel!\n');
			});

		await t.test('recordFile: digits reach the callback, "break" ends the recording', T,
			async () => {
				const file = path.join(server.dir, 'recordings', 'fctl', 'rec-7301.wav');
				const { phone, uac, uuid } = await phoneCall(server, c, '7301');
				phone.startTone(440, { pt: 0 });
				await h.sleep(800);
				await phone.sendDigit('3');
				assert.equal(await waitVar(c, uuid, 'rec_digits', '3'), '3');
				await h.sleep(700);
				const t0 = Date.now();
				await phone.sendDigit('5');
				assert.equal(await waitVar(c, uuid, 'rec_returned', 'yes'), 'yes');
				assert.ok(Date.now() - t0 < 5000, 'recordFile returned at the digit');
				await heard(phone, 2600, 10);
				const r = await uac.done;
				phone.close();
				assert.equal(r.code, 0, r.err + r.out);
				const { fmt, samples } = readWav(file);
				assert.equal(fmt.rate, 8000);
				const secs = samples.length / RATE;
				assert.ok(secs >= 1.2 && secs <= 4, `recorded ${secs} s, not the 20 s limit`);
				assert.equal(dominant(samples.slice(samples.length / 2), FREQS).freq, 440);
			});

		await t.test('recordFile: "truncate" empties the file and ends the recording', T,
			async () => {
				const file = path.join(server.dir, 'recordings', 'fctl', 'rec-7303.wav');
				const { phone, uac, uuid } = await phoneCall(server, c, '7303');
				phone.startTone(440, { pt: 0 });
				await h.sleep(1000);
				await phone.sendDigit('9');
				assert.equal(await waitVar(c, uuid, 'rec_returned', 'yes'), 'yes');
				const r = await uac.done;
				phone.close();
				assert.equal(r.code, 0, r.err + r.out);
				const { fmt, samples } = readWav(file);
				assert.equal(fmt.rate, 8000);
				assert.equal(samples.length, 0, 'nothing left of the recording');
			});
	});
