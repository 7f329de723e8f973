'use strict';
/*
 * confab-cli's one-shot mode (-x) against a private confabd. Skipped when the
 * CLI binary ($CONFAB_CLI) has not been built.
 */
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const h = require('./harness');

const skip = h.cliAvailable() ? false : `confab-cli not built (CONFAB_CLI=${h.CONFAB_CLI || ''})`;
const T = { timeout: 20000 };

/* Runs confab-cli with args; resolves { code, stdout, stderr } (bounded in time). */
function cli(args) {
	return new Promise((resolve) => {
		execFile(h.CONFAB_CLI, args, { timeout: 15000, killSignal: 'SIGKILL' },
			(err, stdout, stderr) => {
				const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
				resolve({ code, stdout, stderr, killed: !!(err && err.killed) });
			});
	});
}

describe('confab-cli -x', { skip }, () => {
	let srv;
	let base;

	before(async () => {
		srv = await h.startServer({});
		base = ['-H', h.HOST, '-P', String(srv.port), '-p', 'ClueCon', '-t', '5000', '-q'];
	});
	after(async () => {
		await srv.stop();
	});

	test('status: exit 0, the api output on stdout', T, async () => {
		const r = await cli([...base, '-x', 'status']);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /^UP \d+ years/);
		assert.match(r.stdout, /is ready\n/);
		assert.deepEqual(h.sanitizerReport(r.stderr), []);
	});

	test('several -x run in order', T, async () => {
		const r = await cli([...base, '-x', 'echo one', '-x', 'echo two', '-x', 'show calls count']);
		assert.equal(r.code, 0, r.stderr);
		const one = r.stdout.indexOf('one');
		const two = r.stdout.indexOf('two');
		assert.ok(one >= 0 && two > one, JSON.stringify(r.stdout));
		assert.match(r.stdout, /0 total\./);
	});

	test('an unknown command: exit 1', T, async () => {
		const r = await cli([...base, '-x', 'nosuchcommand']);
		assert.equal(r.code, 1, `${r.stdout}${r.stderr}`);
		assert.match(r.stdout + r.stderr, /-ERR nosuchcommand Command not found!/);
	});

	test('a wrong password: exit 2', T, async () => {
		const r = await cli(['-H', h.HOST, '-P', String(srv.port), '-p', 'wrong', '-t', '5000', '-q',
			'-x', 'status']);
		assert.equal(r.code, 2, `${r.stdout}${r.stderr}`);
		assert.doesNotMatch(r.stdout, /^UP /);
	});

	test('nothing listening: exit 2', T, async () => {
		const port = await h.freePort();
		const r = await cli(['-H', h.HOST, '-P', String(port), '-t', '2000', '-q', '-x', 'status']);
		assert.equal(r.code, 2, `${r.stdout}${r.stderr}`);
	});
});
