'use strict';
/*
 * siptest.js - what the SIP test files share: an event log of one event-socket
 * connection with bounded waits, api(), SIPp runs tied to a subtest, and
 * registering a SIPp phone as a directory user.
 */
const assert = require('node:assert/strict');
const h = require('./harness');
const sipp = require('./sipp');

async function api(c, cmd) {
	const f = await c.cmd(`api ${cmd}`, { timeoutMs: 20000 });
	return f.body;
}

/*
 * Every event of one event-socket connection (`event plain ALL`), kept in
 * order, with bounded waits for the first one after a mark that matches.
 */
class EventLog {
	static async open(server) {
		const c = await h.rawAuthed(server);
		const r = await c.cmd('event plain ALL');
		assert.equal(r.headers['Reply-Text'], '+OK event listener enabled plain');
		const log = new EventLog(c);
		log.pump();
		return log;
	}

	constructor(c) {
		this.c = c;
		this.events = [];
		this.waiters = new Set();
	}

	async pump() {
		while (!this.c.closed) {
			let f;
			try {
				f = await this.c.readFrame(1000);
			} catch {
				continue; /* a quiet second, or the connection closed */
			}
			if (f.type !== 'text/event-plain')
				continue;
			const e = h.parsePlainEvent(f.body).map;
			e.at = Date.now();
			this.events.push(e);
			for (const w of [...this.waiters])
				w();
		}
	}

	mark() {
		return this.events.length;
	}

	all(pred, from = 0) {
		return this.events.slice(from).filter(pred);
	}

	wait(pred, { from = 0, ms = 8000, what = 'an event' } = {}) {
		return new Promise((resolve, reject) => {
			let timer, i = from;
			const w = () => {
				for (; i < this.events.length; i++) {
					if (pred(this.events[i])) {
						this.waiters.delete(w);
						clearTimeout(timer);
						resolve(this.events[i]);
						return;
					}
				}
			};
			timer = setTimeout(() => {
				this.waiters.delete(w);
				const seen = this.events.slice(from)
					.filter((e) => !['HEARTBEAT', 'RE_SCHEDULE', 'LOG', 'API'].includes(e['Event-Name']))
					.map((e) => `${e['Event-Name']}${e['Event-Subclass'] ? ' ' + e['Event-Subclass'] : ''}` +
						`${e['Unique-ID'] ? ' ' + e['Unique-ID'].slice(0, 8) : ''}`);
				reject(new Error(`timed out after ${ms} ms waiting for ${what}; since the mark: ` +
					JSON.stringify(seen.slice(-40))));
			}, ms);
			this.waiters.add(w);
			w();
		});
	}
}

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
