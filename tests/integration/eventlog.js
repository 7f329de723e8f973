'use strict';
/*
 * eventlog.js - waiting in tests: until() polls a condition, EventLog keeps
 * every event one event-socket connection receives and waits, bounded, for
 * the first after a mark that matches. Shared by the test files.
 */
const assert = require('node:assert/strict');
const h = require('./harness');

/* Polls fn() (which returns { ok, ... }) until ok; fails with the last result. */
async function until(what, fn, ms = 10000, step = 100) {
	const deadline = Date.now() + ms;
	let last;
	for (;;) {
		last = await fn();
		if (last.ok)
			return last;
		if (Date.now() > deadline)
			throw new Error(`${what}: not within ${ms} ms; last: ${last.info || ''}`);
		await h.sleep(step);
	}
}

/* One line per event in a timeout's report: its name and the fields tests match on. */
function describe(e) {
	const sub = e['Event-Subclass'] ? '/' + e['Event-Subclass'] : '';
	const extra = ['Action', 'Member-ID', 'Result', 'Hook-Action', 'Test']
		.filter((k) => e[k]).map((k) => e[k]).join(' ');
	const uuid = e['Unique-ID'] ? ' ' + e['Unique-ID'].slice(0, 8) : '';
	return `${e['Event-Name']}${sub}${extra ? ' ' + extra : ''}${uuid}`;
}

/* Events every subscription to ALL sees that no test waits for. */
const NOISE = ['HEARTBEAT', 'RE_SCHEDULE', 'LOG', 'API'];

class EventLog {
	/* subscription: what `event plain` asks for, e.g. "CUSTOM conference::maintenance" (ALL). */
	static async open(server, subscription = 'ALL') {
		const c = await h.rawAuthed(server);
		const r = await c.cmd(`event plain ${subscription}`);
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
				continue;
			}
			if (f.type !== 'text/event-plain')
				continue;
			const e = h.parsePlainEvent(f.body).map;
			e.at = Date.now();
			e.index = this.events.length;
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

	wait(pred, { from = 0, ms = 10000, what = 'an event' } = {}) {
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
					.filter((e) => !NOISE.includes(e['Event-Name'])).map(describe);
				reject(new Error(`timed out after ${ms} ms waiting for ${what}; since the mark: ` +
					JSON.stringify(seen.slice(-40))));
			}, ms);
			this.waiters.add(w);
			w();
		});
	}
}

module.exports = { until, EventLog };
