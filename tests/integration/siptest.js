'use strict';
/*
 * siptest.js - what the SIP test files share: the event log (eventlog.js),
 * api() (chanpoll.js), SIPp runs tied to a subtest, and registering a SIPp phone as a
 * directory user.
 */
const assert = require('node:assert/strict');
const h = require('./harness');
const sipp = require('./sipp');
const { EventLog } = require('./eventlog');
const { api } = require('./chanpoll');

/*
 * Ends an event-socket client the polite way (exit, then wait for confab to
 * close) before the daemon is stopped. A client that just vanishes right before
 * SIGTERM can hit a use-after-free in esl_stop (esl_conn_disconnect after a
 * failed write); that bug is reported, and it must not make these SIP tests flaky.
 */
async function closeClient(c) {
	if (!c.closed) {
		c.write('exit\n\n');
		await c.closesWithin(3000);
	}
	c.destroy();
}

/* Event predicate: this event name (and this channel, if given). */
const is = (name, uuid) => (e) => e['Event-Name'] === name && (!uuid || e['Unique-ID'] === uuid);

/* sipp.start, and kill that SIPp (by PID) when the subtest ends, should it still run. */
function sippStart(t, opts) {
	const run = sipp.start(opts);
	t.after(() => {
		if (run.proc.exitCode === null && run.proc.signalCode === null)
			run.proc.kill('SIGKILL');
	});
	return run;
}

/* Waits for a SIPp run, bounded; returns its result. */
async function sippDone(run, ms, what) {
	const r = await h.within(run.done, ms);
	if (!r) {
		run.proc.kill('SIGKILL');
		throw new Error(`SIPp ${what} did not finish within ${ms} ms`);
	}
	return r;
}

function sippOk(r) {
	assert.equal(r.code, 0, `SIPp failed (exit ${r.code}):\n${r.err}\n${r.out.slice(-3000)}`);
}

/* Registers `user` (password 1234) from SIPp's `port`; opts.transport 't1' for TCP. */
function register(server, user, port, { expires = 300, transport } = {}) {
	return sipp.run({ scenario: 'register.xml', target: `${h.HOST}:${server.sipPort}`, port,
		user, auth: { user, password: '1234' }, vars: { expires }, timeoutS: 10,
		extra: transport ? ['-t', transport] : [] });
}

module.exports = { api, EventLog, closeClient, is, sippStart, sippDone, sippOk, register };
