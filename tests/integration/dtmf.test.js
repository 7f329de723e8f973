'use strict';
/*
 * dtmf.test.js - DTMF type-ahead on real SIP calls: RFC 4733 digits a test
 * phone (rtp.js) sends while no application reads them wait in the channel's
 * queue for the next read or Lua getDigits; flush_dtmf and flushDigits empty
 * it; a playback reads (and drops) what it hears; feature codes never queue.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');
const sipp = require('./sipp');
const { api, waitVar, phoneCall } = require('./chanpoll');

const T = { timeout: 60000 };

/*
 * Each extension waits (sleep: nothing reads digits) long enough for the test
 * to send its digits, then reads them; done=yes marks the end.
 */
const DIALPLAN = `<include>
  <extension name="t_typeahead_read">
    <condition field="destination_number" expression="^7201$">
      <action application="answer"/>
      <action application="sleep" data="4000"/>
      <action application="read" data="3 3 silence_stream://100 typed 3000 #"/>
      <action application="set" data="done=yes"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_typeahead_flush">
    <condition field="destination_number" expression="^7202$">
      <action application="answer"/>
      <action application="sleep" data="4000"/>
      <action application="flush_dtmf"/>
      <action application="read" data="1 3 silence_stream://100 typed 1000 #"/>
      <action application="set" data="done=yes"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_typeahead_playback">
    <condition field="destination_number" expression="^7203$">
      <action application="answer"/>
      <action application="set" data="playback_terminators=#"/>
      <action application="playback" data="tone_stream://%(4000,0,440)"/>
      <action application="read" data="1 3 silence_stream://100 typed 1000 #"/>
      <action application="set" data="done=yes"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_typeahead_lua">
    <condition field="destination_number" expression="^7204$">
      <action application="answer"/>
      <action application="sleep" data="4000"/>
      <action application="lua" data="dtmf_typeahead.lua"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_typeahead_meta">
    <condition field="destination_number" expression="^7205$">
      <action application="answer"/>
      <action application="bind_meta_app" data="1 a s set::meta_hit=yes"/>
      <action application="sleep" data="4000"/>
      <action application="read" data="1 3 silence_stream://100 typed 3000 #"/>
      <action application="set" data="done=yes"/>
      <action application="park"/>
    </condition>
  </extension>
</include>
`;

/* getDigits takes what came before the script; flushDigits drops the rest. */
const SCRIPT = `
local first = session:getDigits(2, "", 2000)
local flushed = session:flushDigits()
local after = session:getDigits(1, "", 500)
session:setVariable("lua_first", first)
session:setVariable("lua_flushed", tostring(flushed))
session:setVariable("lua_after", after == "" and "empty" or after)
session:setVariable("done", "yes")
`;

test('dtmf type-ahead', { skip: !sipp.available() && 'sipp not installed', timeout: 180000 },
	async (t) => {
		const server = await h.startServer({
			edit(conf) {
				const dp = path.join(conf, 'dialplan', 'default');
				fs.mkdirSync(dp, { recursive: true });
				fs.writeFileSync(path.join(dp, '90_dtmf_test.xml'), DIALPLAN);
				const scripts = path.join(conf, 'scripts');
				fs.mkdirSync(scripts, { recursive: true });
				fs.writeFileSync(path.join(scripts, 'dtmf_typeahead.lua'), SCRIPT);
			},
		});
		const c = await h.rawAuthed(server);
		t.after(async () => { c.destroy(); await server.stop(); });

		async function digits(phone, s) {
			for (const d of s) {
				await phone.sendDigit(d);
				await h.sleep(80);
			}
		}

		/* Call, send `keys` while the first application runs, wait for done=yes. */
		async function typeahead(dest, keys) {
			const { phone, uac, uuid } = await phoneCall(server, c, dest);
			await h.sleep(200);
			await digits(phone, keys);
			assert.equal(await waitVar(c, uuid, 'done', 'yes', 20000), 'yes', 'the plan ran');
			const vars = async (name) => (await api(c, `uuid_getvar ${uuid} ${name}`)).trim();
			return {
				vars,
				async end() {
					assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
					const r = await uac.done;
					phone.close();
					assert.equal(r.code, 0, r.err + r.out);
				},
			};
		}

		await t.test('digits sent during a sleep are the next read\'s answer', T, async () => {
			const call = await typeahead('7201', '1234');
			assert.equal(await call.vars('typed'), '123');
			assert.equal(await call.vars('read_result'), 'success');
			await call.end();
		});

		await t.test('flush_dtmf drops them: the read times out', T, async () => {
			const call = await typeahead('7202', '123');
			assert.equal(await call.vars('read_result'), 'timeout');
			assert.equal(await call.vars('typed'), '_undef_');
			await call.end();
		});

		await t.test('a playback reads the digits it hears: none left for the read', T,
			async () => {
				const call = await typeahead('7203', '12');
				assert.equal(await call.vars('read_result'), 'timeout');
				assert.equal(await call.vars('playback_terminator_used'), '_undef_');
				await call.end();
			});

		await t.test('Lua getDigits gets digits sent before the script; flushDigits', T,
			async () => {
				const call = await typeahead('7204', '123');
				assert.equal(await call.vars('lua_first'), '12');
				assert.equal(await call.vars('lua_flushed'), '0');
				assert.equal(await call.vars('lua_after'), 'empty');
				await call.end();
			});

		await t.test('a bind_meta_app code runs and is not queued', T, async () => {
			const call = await typeahead('7205', '*17');
			assert.equal(await call.vars('meta_hit'), 'yes');
			assert.equal(await call.vars('typed'), '7');
			await call.end();
		});
	});
