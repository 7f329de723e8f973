'use strict';
/*
 * cli_session.test.js - confab-cli as a console: a scripted session on stdin
 * (not a terminal, so no line editing) mixing api lines and /commands.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const h = require('./harness');

function runCli(args, input, timeoutMs) {
	return new Promise((resolve, reject) => {
		const p = spawn(h.CONFAB_CLI, args, { stdio: ['pipe', 'pipe', 'pipe'] });
		let out = '', err = '';
		const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error('cli timed out')); },
			timeoutMs);
		p.stdout.on('data', (d) => { out += d; });
		p.stderr.on('data', (d) => { err += d; });
		p.on('close', (code) => { clearTimeout(timer); resolve({ code, out, err }); });
		p.stdin.end(input);
	});
}

test('a scripted console session', { skip: !h.cliAvailable() && 'confab-cli not built',
	timeout: 30000 }, async (t) => {
	const server = await h.startServer();
	t.after(() => server.stop());
	const r = await runCli(['-H', h.HOST, '-P', String(server.port), '-p', 'ClueCon', '-q'],
		'version\n/log info\nreloadxml\nuptime ms\n/exit\n', 15000);
	assert.equal(r.code, 0, r.err);
	assert.match(r.out, /confab Version/);
	assert.match(r.out, /\+OK \[Success\]/);
	assert.match(r.out, /^\d+$/m);
	assert.doesNotMatch(r.out, /\x1b\[/, 'no escape codes when stdout is not a terminal');
});

/* Lines written one at a time, the output read as it comes. */
function startCli(args) {
	const p = spawn(h.CONFAB_CLI, args, { stdio: ['pipe', 'pipe', 'pipe'] });
	const s = { p, out: '', err: '', code: undefined };
	p.stdout.on('data', (d) => { s.out += d; });
	p.stderr.on('data', (d) => { s.err += d; });
	s.closed = new Promise((resolve) => p.on('close', (code) => { s.code = code; resolve(code); }));
	return s;
}

async function until(fn, ms, what) {
	const deadline = Date.now() + ms;
	while (Date.now() < deadline) {
		if (fn())
			return;
		await h.sleep(50);
	}
	throw new Error(`${what}: not within ${ms} ms`);
}

test('/event shows events as they come, /noevents stops them', {
	skip: !h.cliAvailable() && 'confab-cli not built', timeout: 30000 }, async (t) => {
	const server = await h.startServer();
	const c = await h.rawAuthed(server);
	const s = startCli(['-H', h.HOST, '-P', String(server.port), '-p', 'ClueCon', '-q']);
	t.after(async () => {
		if (s.code === undefined)
			s.p.kill('SIGKILL');
		c.destroy();
		await server.stop();
	});
	const fire = (n) => c.cmd(`sendevent CUSTOM\nEvent-Subclass: test::cli\nProbe: n${n}`);

	s.p.stdin.write('/event plain CUSTOM test::cli\n');
	await until(() => /\+OK event listener enabled plain/.test(s.out), 5000, 'the subscription');
	await fire(1);
	await until(() => /Probe: n1/.test(s.out), 5000, 'the event shown');
	assert.match(s.out, /Event-Subclass: test::cli/);
	s.p.stdin.write('/noevents\n');
	await until(() => /\+OK no longer listening for events/.test(s.out), 5000, '/noevents');
	await fire(2);
	await h.sleep(500);
	assert.doesNotMatch(s.out, /Probe: n2/, 'no event after /noevents');
	s.p.stdin.end('/exit\n');
	assert.equal(await h.within(s.closed, 5000), 0, s.err);
});
