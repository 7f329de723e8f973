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
