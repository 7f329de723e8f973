'use strict';
/*
 * sipp.js - runs SIPp (Debian's sip-tester) scenarios from tests/integration/sipp
 * against a test's confabd on 127.0.0.1, bounded in time, and reports how the
 * calls ended. Scenario variables are passed with -set (SIPp's [$name]).
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

const SIPP = process.env.SIPP || 'sipp';
const DIR = path.join(__dirname, 'sipp');

/*
 * Start one SIPp run. opts: scenario (file name in sipp/), target ("host:port"),
 * port (SIPp's own SIP port, 0 = any), vars ({ name: value } for -set), calls
 * (default 1), rate, timeoutS (whole run), extra (more arguments).
 * Returns { proc, done }: done resolves to { code, out, err } when SIPp exits.
 */
function start(opts) {
	const args = ['-sf', path.join(DIR, opts.scenario), '-i', h.HOST, '-p',
		String(opts.port || 0), '-m', String(opts.calls || 1), '-nostdin', '-timeout',
		`${opts.timeoutS || 20}s`, '-timeout_error', '-trace_err',
		'-error_file', path.join(opts.logDir || '/tmp', `sipp-${process.pid}-${Date.now()}.err`)];
	if (opts.rate)
		args.push('-r', String(opts.rate));
	if (opts.user)
		args.push('-s', opts.user);
	if (opts.auth)
		args.push('-au', opts.auth.user, '-ap', opts.auth.password);
	for (const [k, v] of Object.entries(opts.vars || {}))
		args.push('-set', k, String(v));
	args.push(...(opts.extra || []));
	if (opts.target)
		args.push(opts.target);
	const proc = spawn(SIPP, args, { stdio: ['ignore', 'pipe', 'pipe'] });
	let out = '', err = '';
	proc.stdout.on('data', (d) => { out += d; });
	proc.stderr.on('data', (d) => { err += d; });
	const done = new Promise((resolve) => {
		proc.on('close', (code, signal) => resolve({ code, signal, out, err, args }));
	});
	return { proc, done };
}

/* Run to the end; rejects if it outlives timeoutS + 10 s (then kills it by PID). */
async function run(opts) {
	const r = start(opts);
	const res = await h.within(r.done, ((opts.timeoutS || 20) + 10) * 1000);
	if (!res) {
		r.proc.kill('SIGKILL');
		throw new Error(`sipp ${opts.scenario} did not finish`);
	}
	return res;
}

function available() {
	try {
		fs.accessSync('/usr/bin/sipp', fs.constants.X_OK);
		return true;
	} catch (e) {
		return !!process.env.SIPP;
	}
}

module.exports = { start, run, available, DIR };
