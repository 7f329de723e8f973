'use strict';
/*
 * ivr.test.js - IVR menus on real calls (SIPp phone, RFC 4733 digits): the ivr
 * application with menus of autoload_configs/ivr.conf.xml, and a Lua script
 * building the same menus with freeswitch.IVRMenu. Every sound is a tone of
 * its own frequency, so what the phone hears tells which one played; what the
 * actions did shows in channel variables. Also: a bad menu refuses the start
 * (file:line) and a bad reloadxml keeps the menus.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');
const sipp = require('./sipp');
const { dominant } = require('./rtp');
const { api, waitVar, frames, phoneCall } = require('./chanpoll');

const T = { timeout: 60000 };
/* The menus' sounds: long and short greetings, invalid, exit, submenu, played sound. */
const HZ = { long: 440, short: 350, invalid: 1400, exit: 2000, sub: 1000, sound: 1700 };
const tone = (hz, ms = 400) => `tone_stream://%(${ms},0,${hz})`;

const MENUS = `<configuration name="ivr.conf">
  <menus>
    <menu name="t_main" greet-long="${tone(HZ.long, 600)}" greet-short="${tone(HZ.short)}"
          invalid-sound="${tone(HZ.invalid)}" exit-sound="${tone(HZ.exit)}"
          timeout="4000" inter-digit-timeout="700" max-failures="2" max-timeouts="2"
          digit-len="3">
      <entry action="menu-exec-app" digits="1" param="set ivr_choice=one"/>
      <entry action="menu-exec-app" digits="2" param="transfer 7299 XML default"/>
      <entry action="menu-sub" digits="3" param="t_sub"/>
      <entry action="menu-play-sound" digits="4" param="${tone(HZ.sound)}"/>
      <entry action="menu-exec-app" digits="6" param="playback ${tone(HZ.sound)}"/>
      <entry action="menu-exec-app" digits="/^(5[0-9])$/" param="set ivr_ext=$1"/>
      <entry action="menu-exit" digits="8"/>
    </menu>
    <menu name="t_sub" greet-long="${tone(HZ.sub, 600)}" invalid-sound="${tone(HZ.invalid)}"
          timeout="4000" max-failures="2">
      <entry action="menu-exec-app" digits="1" param="set sub_choice=yes"/>
      <entry action="menu-back" digits="0"/>
      <entry action="menu-top" digits="9"/>
    </menu>
    <menu name="t_confirm" greet-long="${tone(HZ.long, 300)}" confirm-macro="t_confirm_macro"
          confirm-key="1" confirm-attempts="2" timeout="1500" digit-len="2" max-failures="2">
      <entry action="menu-exec-app" digits="/^(5[0-9])$/" param="set confirmed=$1"/>
    </menu>
    <menu name="t_quiet" greet-long="${tone(HZ.long, 200)}" exit-sound="${tone(HZ.exit)}"
          timeout="700" max-timeouts="2">
      <entry action="menu-exit" digits="8"/>
    </menu>
    <menu name="t_limits" greet-long="${tone(HZ.long, 200)}" exit-sound="${tone(HZ.exit)}"
          timeout="1500" max-failures="1" max-timeouts="2"
          exec-on-max-failures="set on_fail=\${ivr_menu_status}"
          exec-on-max-timeouts="playback ${tone(HZ.sound, 600)}">
      <entry action="menu-sub" digits="3" param="t_limits_sub"/>
    </menu>
    <menu name="t_limits_sub" greet-long="${tone(HZ.sub, 200)}" timeout="700"
          max-timeouts="1" exec-on-max-timeouts="set sub_limit=\${ivr_menu_status}">
      <entry action="menu-back" digits="0"/>
    </menu>
  </menus>
</configuration>
`;

const LUA = `-- the menus of ivr.conf's t_main and t_sub, built in the script
local main = freeswitch.IVRMenu(nil, "l_main", "${tone(HZ.long, 600)}", "${tone(HZ.short)}",
  "${tone(HZ.invalid)}", "${tone(HZ.exit)}", nil, nil, nil, nil, nil,
  -1, 700, 3, 4000, 2, 2)
local sub = freeswitch.IVRMenu(main, "l_sub", "${tone(HZ.sub, 600)}", nil,
  "${tone(HZ.invalid)}", nil, nil, nil, nil, nil, nil, -1, 0, 0, 4000, 2, -1)
main:bindAction("menu-exec-app", "set ivr_choice=one", "1")
main:bindAction("menu-exec-app", "transfer 7299 XML default", "2")
main:bindAction("menu-sub", "l_sub", "3")
main:bindAction("menu-exec-app", "set ivr_ext=$1", "/^(5[0-9])$/")
main:bindAction("menu-exit", "", "8")
main:bindAction("menu-dance", "", "7")
sub:bindAction("menu-exec-app", "set sub_choice=yes", "1")
sub:bindAction("menu-back", "", "0")
session:answer()
main:execute(session, "l_nowhere")
session:setVariable("lua_nowhere", session:getVariable("ivr_menu_status") or "none")
main:execute(session, "l_main")
session:setVariable("lua_after", session:getVariable("ivr_menu_status") or "none")
`;

/* The confirm-macro: it says the answer back (here: a tone when it is digits). */
const MACRO = `<macro name="t_confirm_macro">
          <input pattern="^(\\d+)$">
            <match>
              <action function="play-file" data="${tone(HZ.sound)}"/>
            </match>
          </input>
        </macro>
`;

const DIALPLAN = `<include>
  <extension name="t_ivr">
    <condition field="destination_number" expression="^7200$">
      <action application="answer"/>
      <action application="ivr" data="t_main"/>
      <action application="set" data="after_ivr=\${ivr_menu_status}"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_ivr_quiet">
    <condition field="destination_number" expression="^7201$">
      <action application="answer"/>
      <action application="ivr" data="t_quiet"/>
      <action application="set" data="after_ivr=\${ivr_menu_status}"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_ivr_confirm">
    <condition field="destination_number" expression="^7202$">
      <action application="answer"/>
      <action application="ivr" data="t_confirm"/>
      <action application="set" data="after_ivr=\${ivr_menu_status}"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_ivr_unknown">
    <condition field="destination_number" expression="^7203$">
      <action application="answer"/>
      <action application="ivr" data="t_nowhere"/>
      <action application="set" data="after_ivr=\${ivr_menu_status}"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_ivr_limits">
    <condition field="destination_number" expression="^7204$">
      <action application="answer"/>
      <action application="ivr" data="t_limits"/>
      <action application="set" data="after_ivr=\${ivr_menu_status}"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_ivr_lua">
    <condition field="destination_number" expression="^7210$">
      <action application="lua" data="ivr_test.lua"/>
      <action application="set" data="after_lua=yes"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_ivr_landed">
    <condition field="destination_number" expression="^7299$">
      <action application="set" data="landed=7299"/>
      <action application="park"/>
    </condition>
  </extension>
</include>
`;

function writeConf(conf, menus) {
	fs.writeFileSync(path.join(conf, 'autoload_configs', 'ivr.conf.xml'), menus);
}

const ALL_HZ = Object.values(HZ);

/* 20 ms packets the phone received from `since` (ms, Date.now()) on that are tone `hz`. */
function heard(phone, hz, since = 0) {
	return frames(phone).filter((f) => {
		if (f.at < since || f.rms < 1000)
			return false;
		const d = dominant(f.s, ALL_HZ);
		return d.freq === hz && d.ratio > 4;
	}).length;
}

/* Waits until the phone hears 100 ms of `hz` after `since`; false after ms. */
async function hears(phone, hz, since, ms = 8000) {
	const deadline = Date.now() + ms;
	while (Date.now() < deadline) {
		if (heard(phone, hz, since) >= 5)
			return true;
		await h.sleep(100);
	}
	return false;
}

async function press(phone, s) {
	for (const d of s) {
		await phone.sendDigit(d);
		await h.sleep(80);
	}
}

test('IVR menus', { skip: !sipp.available() && 'sipp not installed', timeout: 300000 },
	async (t) => {
		const server = await h.startServer({
			edit(conf) {
				const dir = path.join(conf, 'dialplan', 'default');
				fs.mkdirSync(dir, { recursive: true });
				fs.writeFileSync(path.join(dir, '90_ivr_test.xml'), DIALPLAN);
				writeConf(conf, MENUS);
				const lang = path.join(conf, 'lang', 'en', 'en.xml');
				fs.writeFileSync(lang, fs.readFileSync(lang, 'utf8')
					.replace('<macros>', `<macros>\n${MACRO}`));
				const scripts = path.join(conf, 'scripts');
				fs.mkdirSync(scripts, { recursive: true });
				fs.writeFileSync(path.join(scripts, 'ivr_test.lua'), LUA);
			},
		});
		const c = await h.rawAuthed(server);
		t.after(async () => { c.destroy(); await server.stop(); });

		/* A call to `dest` for fn(phone, uuid), hung up afterwards even when fn fails. */
		async function onCall(dest, fn) {
			const { phone, uac, uuid } = await phoneCall(server, c, dest);
			let ok = false;
			try {
				await fn(phone, uuid);
				ok = true;
			} finally {
				const killed = await api(c, `uuid_kill ${uuid}`);
				const r = await uac.done;
				phone.close();
				if (ok) {
					assert.equal(killed, '+OK\n');
					assert.equal(r.code, 0, r.err + r.out);
				}
			}
		}

		/* The same walk through t_main for the ivr application and the Lua menus. */
		async function walk(phone, uuid, statusVar) {
			assert.ok(await hears(phone, HZ.long, 0), 'the long greeting (440 Hz) played');
			assert.ok(heard(phone, HZ.short) < 3, 'not the short one yet');

			/* 1: one digit of three, then the inter-digit timeout; menu-exec-app set. */
			await press(phone, '1');
			assert.equal(await waitVar(c, uuid, 'ivr_choice', 'one'), 'one');
			assert.ok(await hears(phone, HZ.short, 0), 'then the short greeting (350 Hz)');

			/* 7#: no entry; the invalid sound, one failure, the menu goes on. */
			let since = Date.now();
			await press(phone, '7#');
			assert.ok(await hears(phone, HZ.invalid, since), 'the invalid sound (1400 Hz)');
			assert.ok(await hears(phone, HZ.short, Date.now()), 'the menu goes on');
			assert.equal(await api(c, `uuid_getvar ${uuid} ${statusVar}`), '_undef_');

			/* 55#: the /^(5[0-9])$/ entry with $1 (a good answer resets the failures). */
			await press(phone, '55#');
			assert.equal(await waitVar(c, uuid, 'ivr_ext', '55'), '55');

			/* 3#: the submenu's greeting; its 1 (one digit: at once), then 0 goes back. */
			since = Date.now();
			await press(phone, '3#');
			assert.ok(await hears(phone, HZ.sub, since), 'the submenu greeting (1000 Hz)');
			await press(phone, '1');
			assert.equal(await waitVar(c, uuid, 'sub_choice', 'yes'), 'yes');
			await h.sleep(300);
			since = Date.now();
			await press(phone, '0');
			assert.ok(await hears(phone, HZ.long, since),
				'menu-back: the main menu starts over with its long greeting');

			/* Two invalid answers in a row: max-failures 2 ends the menu, exit sound. */
			await h.sleep(300);
			await press(phone, '77#');
			assert.ok(await hears(phone, HZ.invalid, since));
			/* Keys count again once the menu is back (after the 1 s pause). */
			since = Date.now();
			assert.ok(await hears(phone, HZ.short, since));
			since = Date.now();
			await press(phone, '77#');
			assert.equal(await waitVar(c, uuid, statusVar, 'failure'), 'failure');
			assert.ok(await hears(phone, HZ.exit, since), 'the exit sound (2000 Hz)');
		}

		await t.test('ivr: greeting, menu-exec-app, invalid, regex $1, menu-sub, ' +
			'menu-back, max-failures', T, async () => {
			await onCall('7200', (phone, uuid) => walk(phone, uuid, 'after_ivr'));
		});

		await t.test('ivr: menu-play-sound, menu-exec-app playback, then menu-exit runs the rest of the extension', T,
			() => onCall('7200', async (phone, uuid) => {
				assert.ok(await hears(phone, HZ.long, 0));
				await press(phone, '4#');
				assert.ok(await hears(phone, HZ.sound, 0), 'the sound of the entry (1700 Hz)');
				/* Keys count again at the greeting after it, as in FreeSWITCH. */
				let since = Date.now();
				assert.ok(await hears(phone, HZ.short, since), 'then the short greeting');
				/* An application that takes time (playback): the menu waits for it. */
				since = Date.now();
				await press(phone, '6#');
				assert.ok(await hears(phone, HZ.sound, since), 'playback of menu-exec-app');
				since = Date.now();
				assert.ok(await hears(phone, HZ.short, since), 'then the short greeting');
				since = Date.now();
				await press(phone, '8#');
				assert.equal(await waitVar(c, uuid, 'after_ivr', 'success'), 'success');
				assert.ok(await hears(phone, HZ.exit, since), 'the exit sound');
			}));

		await t.test('ivr: menu-exec-app transfer moves the call on; the menu stops', T,
			() => onCall('7200', async (phone, uuid) => {
				assert.ok(await hears(phone, HZ.long, 0));
				await press(phone, '2#');
				assert.equal(await waitVar(c, uuid, 'landed', '7299'), '7299');
				const since = Date.now();
				await h.sleep(1500);
				assert.equal(await api(c, `uuid_getvar ${uuid} after_ivr`), '_undef_');
				assert.ok(heard(phone, HZ.short, since) < 3, 'no greeting after the transfer');
				assert.ok(heard(phone, HZ.exit, since) < 3, 'nor the exit sound');
			}));

		await t.test('ivr: silence counts timeouts; max-timeouts ends with "timeout"', T,
			() => onCall('7201', async (phone, uuid) => {
				assert.equal(await waitVar(c, uuid, 'after_ivr', 'timeout'), 'timeout');
				assert.ok(await hears(phone, HZ.exit, 0));
			}));

		/* The first 20 ms packet of tone `hz` the phone got after `since`, or undefined. */
		const firstOf = (phone, hz, since) => frames(phone).find((f) => f.at >= since &&
			f.rms >= 1000 && dominant(f.s, ALL_HZ).freq === hz);

		await t.test('ivr: exec-on-max-timeouts runs (a playback), then the exit sound', T,
			() => onCall('7204', async (phone, uuid) => {
				assert.equal(await waitVar(c, uuid, 'after_ivr', 'timeout'), 'timeout');
				const sound = firstOf(phone, HZ.sound, 0), exit = firstOf(phone, HZ.exit, 0);
				assert.ok(sound, 'the exec-on-max-timeouts playback (1700 Hz) played');
				assert.ok(exit, 'the exit sound played');
				assert.ok(sound.at < exit.at, 'the application first, then the exit sound');
				assert.equal(await api(c, `uuid_getvar ${uuid} on_fail`), '_undef_');
			}));

		await t.test('ivr: a submenu\'s exec-on-max-timeouts returns to its menu; ' +
			'exec-on-max-failures sees ivr_menu_status', T,
			() => onCall('7204', async (phone, uuid) => {
				assert.ok(await hears(phone, HZ.long, 0));
				let since = Date.now();
				await press(phone, '3');
				assert.ok(await hears(phone, HZ.sub, since), 'the submenu greeting');
				assert.equal(await waitVar(c, uuid, 'sub_limit', 'timeout'), 'timeout');
				since = Date.now();
				assert.ok(await hears(phone, HZ.long, since), 'back in t_limits, from the top');
				await press(phone, '7');
				assert.equal(await waitVar(c, uuid, 'after_ivr', 'failure'), 'failure');
				assert.equal(await api(c, `uuid_getvar ${uuid} on_fail`), 'failure');
				assert.ok(await hears(phone, HZ.exit, since), 'the exit sound');
				assert.equal(firstOf(phone, HZ.sound, 0), undefined,
					'not the exec-on-max-timeouts playback');
			}));

		await t.test('ivr: an unknown menu fails at once and the extension goes on', T,
			() => onCall('7203', async (phone, uuid) => {
				assert.equal(await waitVar(c, uuid, 'after_ivr', 'failure'), 'failure');
				assert.match(server.logText(), /Invalid Menu! \(t_nowhere\)/);
			}));

		await t.test('ivr: confirm-macro and confirm-key: confirmed, another key, silence', T,
			() => onCall('7202', async (phone, uuid) => {
				assert.ok(await hears(phone, HZ.long, 0));
				/* 55: the macro plays; 1 (the confirm key) lets the entry run. */
				let since = Date.now();
				await press(phone, '55');
				assert.ok(await hears(phone, HZ.sound, since), 'the confirm macro played');
				await press(phone, '1');
				assert.equal(await waitVar(c, uuid, 'confirmed', '55'), '55');
				/* 56, then 2: rejected, a failure; the entry does not run. */
				since = Date.now();
				assert.ok(await hears(phone, HZ.long, since), 'the menu again');
				since = Date.now();
				await press(phone, '56');
				assert.ok(await hears(phone, HZ.sound, since));
				await press(phone, '2');
				since = Date.now();
				assert.ok(await hears(phone, HZ.long, since), 'the menu again after the pause');
				assert.equal(await api(c, `uuid_getvar ${uuid} confirmed`), '55');
				assert.equal(await api(c, `uuid_getvar ${uuid} after_ivr`), '_undef_');
				/* 57 and no key: asked twice (confirm-attempts), then the second failure. */
				since = Date.now();
				await press(phone, '57');
				assert.equal(await waitVar(c, uuid, 'after_ivr', 'failure'), 'failure');
				assert.ok(heard(phone, HZ.sound, since) >= 30,
					`the macro played twice (${heard(phone, HZ.sound, since)} packets)`);
				assert.equal(await api(c, `uuid_getvar ${uuid} confirmed`), '55');
			}));

		await t.test('Lua freeswitch.IVRMenu: the same walk with bindAction and execute', T,
			() => onCall('7210', async (phone, uuid) => {
				assert.equal(await waitVar(c, uuid, 'lua_nowhere', 'failure'), 'failure',
					'execute of a menu the set does not have returns at once');
				await walk(phone, uuid, 'lua_after');
				assert.equal(await waitVar(c, uuid, 'after_lua', 'yes'), 'yes');
				assert.match(server.logText(), /invalid action menu-dance/);
			}));

		await t.test('Lua IVRMenu: a transfer from the menu ends the script\'s wait', T,
			() => onCall('7210', async (phone, uuid) => {
				assert.ok(await hears(phone, HZ.long, 0));
				await press(phone, '2#');
				assert.equal(await waitVar(c, uuid, 'landed', '7299'), '7299');
				await h.sleep(500);
				assert.equal(await api(c, `uuid_getvar ${uuid} after_lua`), '_undef_');
			}));

		await t.test('reloadxml with a bad menu keeps the loaded menus', T, async () => {
			writeConf(server.conf, MENUS.replace('menu-play-sound', 'menu-sing'));
			const r = await api(c, 'reloadxml');
			assert.match(r, /ivr\.conf\.xml:\d+: ivr menu entry: unknown action "menu-sing"/);
			writeConf(server.conf, MENUS);
			assert.equal(await api(c, 'reloadxml'), '+OK [Success]\n');
			assert.deepEqual(h.sanitizerReport(server.output), []);
		});
	});

test('a bad ivr.conf refuses the start with file and line', { timeout: 30000 }, async () => {
	const r = await h.runExpectExit({
		edit(conf) {
			writeConf(conf, MENUS.replace('param="t_sub"', 'param="t_nowhere"'));
		},
	});
	assert.ok(r.code !== null && r.code !== 0, `exit ${r.code}\n${r.output}`);
	assert.match(r.output + r.log,
		/ivr\.conf\.xml:\d+: ivr menu entry: menu-sub to unknown menu "t_nowhere"/);
	assert.deepEqual(h.sanitizerReport(r.output), []);
});
