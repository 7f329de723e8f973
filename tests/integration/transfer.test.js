'use strict';
/*
 * transfer.test.js - uuid_transfer of a leg that originate started with an
 * inline application (&park()): the transfer breaks the application off and
 * the dialplan takes the leg on; the leg must neither hang up nor crash the
 * server.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

/* An extension that answers and waits: a loopback leg to it answers. */
const DIALPLAN = `<include>
  <extension name="t_answer_park">
    <condition field="destination_number" expression="^7990$">
      <action application="answer"/>
      <action application="park"/>
    </condition>
  </extension>
</include>
`;

const T = { timeout: 30000 };

async function api(c, cmd) {
	return (await c.cmd(`api ${cmd}`, { timeoutMs: 15000 })).body;
}

test('uuid_transfer of an originated &park() leg', T, async (t) => {
	const server = await h.startServer({
		edit(conf) {
			const dir = path.join(conf, 'dialplan', 'default');
			fs.mkdirSync(dir, { recursive: true });
			fs.writeFileSync(path.join(dir, '90_transfer_test.xml'), DIALPLAN);
		},
	});
	const c = await h.rawAuthed(server);
	t.after(async () => { c.destroy(); await server.stop(); });

	const out = await api(c, 'originate loopback/7990 &park()');
	const m = /^\+OK ([0-9a-f-]{36})\n$/.exec(out);
	assert.ok(m, `originate: ${out}`);
	const uuid = m[1];
	/* 9664 parks: the leg stays up in the dialplan. */
	assert.equal(await api(c, `uuid_transfer ${uuid} 9664`), '+OK\n');
	await h.sleep(800);
	server.assertAlive();
	assert.equal(await api(c, `uuid_exists ${uuid}`), 'true');
	assert.equal((await api(c, `uuid_getvar ${uuid} current_application`)).trim(), 'park');
	/* eval uuid: expands with the channel's variables, an unknown uuid with the globals. */
	assert.equal(await api(c, `eval uuid:${uuid} app=\${current_application}`), 'app=park');
	assert.equal(await api(c, 'eval uuid:00000000-0000-0000-0000-000000000000 x\${current_application}y'),
		'xy');
	assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
});
