'use strict';
/*
 * lua_expand.test.js - ${lua(...)} in dialplan action data whose script waits
 * (freeswitch.msleep): the action waits for the script's output without
 * stopping the server, several and nested calls each run once, and a hangup
 * while waiting ends the execution cleanly (server.stop checks leaks).
 *
 * wait.lua <ms> <name> <value> counts its runs in the global <name>, sleeps,
 * writes <value> to its stream and then sets the global <name>_done.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');
const sipp = require('./sipp');
const { api, waitVar, phoneCall } = require('./chanpoll');
const { EventLog, closeClient, is, sippDone } = require('./siptest');

const WAIT_LUA = `
local ms, name, value = tonumber(argv[1]), argv[2], argv[3]
local n = tonumber(freeswitch.getGlobalVariable(name) or "0") or 0
freeswitch.setGlobalVariable(name, tostring(n + 1))
freeswitch.msleep(ms)
stream:write(value)
freeswitch.setGlobalVariable(name .. "_done", "1")
`;

const DIALPLAN = `<include>
  <extension name="t_lexp_one">
    <condition field="destination_number" expression="^7321$">
      <action application="answer"/>
      <action application="set" data="route=\${lua(wait.lua 1500 lexp_one one)}"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_lexp_two">
    <condition field="destination_number" expression="^7322$">
      <action application="answer"/>
      <action application="set" data="pair=\${lua(wait.lua 500 lexp_a A)}-\${lua(wait.lua 500 lexp_b B)}"/>
      <action application="set" data="nest=\${lua(wait.lua 300 lexp_n \${lua(wait.lua 300 lexp_m inner)})}"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="t_lexp_hangup">
    <condition field="destination_number" expression="^7323$">
      <action application="answer"/>
      <action application="set" data="late=\${lua(wait.lua 2000 lexp_h never)}"/>
      <action application="park"/>
    </condition>
  </extension>
</include>
`;

/* A global variable, polled until it is `want`. */
async function waitGlobal(c, name, want, ms = 15000) {
	const deadline = Date.now() + ms;
	let v;
	while (Date.now() < deadline) {
		v = (await api(c, `global_getvar ${name}`)).trim();
		if (v === want)
			return v;
		await h.sleep(100);
	}
	return v;
}

test('${lua()} in action data waits for a script that waits',
	{ skip: !sipp.available() && 'sipp not installed', timeout: 120000 }, async (t) => {
		const server = await h.startServer({
			edit(conf) {
				const dp = path.join(conf, 'dialplan', 'default');
				fs.mkdirSync(dp, { recursive: true });
				fs.writeFileSync(path.join(dp, '90_lua_expand_test.xml'), DIALPLAN);
				const scripts = path.join(conf, 'scripts');
				fs.mkdirSync(scripts, { recursive: true });
				fs.writeFileSync(path.join(scripts, 'wait.lua'), WAIT_LUA);
			},
		});
		const c = await h.rawAuthed(server);
		const ev = await EventLog.open(server, 'CHANNEL_EXECUTE CHANNEL_HANGUP_COMPLETE');
		/* Every call's phone socket and SIPp: an open socket keeps node from exiting. */
		const calls = [];
		t.after(async () => {
			for (const { phone, uac } of calls) {
				phone.close();
				if (uac.proc.exitCode === null && uac.proc.signalCode === null)
					uac.proc.kill('SIGKILL');
			}
			await closeClient(ev.c);
			await closeClient(c);
			await server.stop();
		});

		async function call(dest) {
			const pc = await phoneCall(server, c, dest);
			calls.push(pc);
			return pc;
		}

		async function hangup(uuid, uac, phone) {
			assert.equal(await api(c, `uuid_kill ${uuid}`), '+OK\n');
			const r = await sippDone(uac, 10000, 'the caller');
			phone.close();
			assert.equal(r.code, 0, r.err + r.out);
		}

		await t.test('set waits for the output; the server answers meanwhile', async () => {
			const mark = ev.mark();
			const { uac, uuid, phone } = await call('7321');
			assert.equal(await waitGlobal(c, 'lexp_one', '1'), '1', 'the script started');
			/* Still sleeping: the event socket answers and the variable is not set yet. */
			assert.match(await api(c, 'status'), /^UP /);
			assert.notEqual((await api(c, 'global_getvar lexp_one_done')).trim(), '1');
			assert.equal((await api(c, `uuid_getvar ${uuid} route`)).trim(), '_undef_');
			assert.equal(ev.all((e) => is('CHANNEL_EXECUTE', uuid)(e) &&
				e.Application === 'set', mark).length, 0, 'no CHANNEL_EXECUTE of set yet');
			assert.equal(await waitVar(c, uuid, 'route', 'one'), 'one');
			const ex = await ev.wait((e) => is('CHANNEL_EXECUTE', uuid)(e) &&
				e.Application === 'set', { from: mark, what: 'CHANNEL_EXECUTE of set' });
			assert.equal(ex['Application-Data'], 'route=one');
			assert.equal(await waitVar(c, uuid, 'current_application', 'park'), 'park');
			assert.equal((await api(c, 'global_getvar lexp_one')).trim(), '1', 'ran once');
			await hangup(uuid, uac, phone);
		});

		await t.test('two calls in one data string and nested calls each run once', async () => {
			const { uac, uuid, phone } = await call('7322');
			assert.equal(await waitVar(c, uuid, 'pair', 'A-B'), 'A-B');
			assert.equal(await waitVar(c, uuid, 'nest', 'inner'), 'inner');
			for (const g of ['lexp_a', 'lexp_b', 'lexp_m', 'lexp_n'])
				assert.equal((await api(c, `global_getvar ${g}`)).trim(), '1', `${g} ran once`);
			await hangup(uuid, uac, phone);
		});

		await t.test('a hangup while waiting ends the execution', async () => {
			const mark = ev.mark();
			const { uac, uuid, phone } = await call('7323');
			assert.equal(await waitGlobal(c, 'lexp_h', '1'), '1', 'the script started');
			await hangup(uuid, uac, phone);
			await ev.wait(is('CHANNEL_HANGUP_COMPLETE', uuid),
				{ from: mark, what: 'CHANNEL_HANGUP_COMPLETE' });
			/* The abandoned script runs to its end; nothing is left to hear of it. */
			assert.equal(await waitGlobal(c, 'lexp_h_done', '1'), '1', 'the script ended');
			await h.sleep(200);
			server.assertAlive();
			assert.match(await api(c, 'status'), /^UP /);
			assert.equal(ev.all((e) => is('CHANNEL_EXECUTE', uuid)(e) &&
				e.Application === 'set', mark).length, 0, 'set never started');
			assert.equal((await api(c, 'global_getvar lexp_h')).trim(), '1', 'ran once');
		});
	});
