'use strict';
/*
 * Hostile and careless clients: after (and during) each of them confabd must
 * still be running and serve a well-behaved client.
 */
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

const T = { timeout: 30000 };
const PARSE_ERROR = 'Content-Type: command/reply\nReply-Text: -ERR command parse error.\n\n';

/* A second, well-behaved client: auth, api status, exit. */
async function assertServes(srv) {
	srv.assertAlive();
	const c = await h.RawClient.connect(srv.port, srv);
	try {
		await c.auth();
		const f = await c.cmd('api status');
		assert.equal(f.type, 'api/response');
		assert.ok(f.body.startsWith('UP '), f.body.slice(0, 80));
		c.write('exit\n\n');
		await c.readUntilClose(5000);
	} finally {
		c.destroy();
	}
	srv.assertAlive();
}

/* Deterministic pseudo-random bytes (xorshift32), so a failure can be replayed. */
function garbage(n, seed) {
	const out = Buffer.alloc(n);
	let x = seed >>> 0 || 1;
	for (let i = 0; i < n; i++) {
		x ^= x << 13; x >>>= 0;
		x ^= x >>> 17;
		x ^= x << 5; x >>>= 0;
		out[i] = x & 0xff;
	}
	return out;
}

/* Writes ignoring EPIPE/ECONNRESET: the server may hang up mid-write. */
function writeQuietly(c, data) {
	return new Promise((resolve) => {
		if (c.sock.destroyed)
			return resolve(false);
		c.sock.write(data, (err) => resolve(!err));
	});
}

/* The connection must close; whatever came before the close must be a parse error (or nothing). */
async function expectDropped(c, what, timeoutMs = 5000) {
	const rest = await c.readUntilClose(timeoutMs).catch((e) => {
		throw new Error(`${what}: the server did not drop the connection (${e.message})`);
	});
	const s = rest.toString('latin1');
	assert.ok(s === '' || s.startsWith(PARSE_ERROR),
		`${what}: unexpected bytes before the close: ${JSON.stringify(s.slice(0, 200))}`);
	return s;
}

describe('event socket under bad input', () => {
	let srv;

	before(async () => {
		srv = await h.startServer({ esl: { 'auth-timeout': '1', 'event-queue-size': '1000' } });
	});
	after(async () => {
		await srv.stop();
	});

	test('garbage binary bytes before auth', T, async () => {
		const c = await h.RawClient.connect(srv.port, srv);
		await c.greeting();
		await writeQuietly(c, garbage(256 * 1024, 1));
		await assertServes(srv);          // while the garbage client is still there
		c.destroy();
		await assertServes(srv);
	});

	test('garbage binary bytes after auth', T, async () => {
		for (const seed of [2, 3, 4]) {
			const c = await h.rawAuthed(srv);
			// No byte sequence here may spell a real command: drop every 'e'/'E'/'a'/'A'/'l'/'L'/'s'/'S'/'f'/'F'
			// (exit, api, log, sendevent, filter, event...) so the garbage stays garbage.
			const g = garbage(128 * 1024, seed).map((b) => ('aAeElLsSfFnN.'.includes(String.fromCharCode(b)) ? 0x7f : b));
			await writeQuietly(c, g);
			await assertServes(srv);
			c.destroy();
		}
		await assertServes(srv);
	});

	test('NUL bytes and CR-only lines in a frame', T, async () => {
		const c = await h.rawAuthed(srv);
		c.write('api echo a\0b\r\r\n\0\0\n\n');
		c.write('\r\r\r\r\n\n');
		c.write('api echo after\n\n');
		const deadline = Date.now() + 5000;
		for (;;) {
			const f = await c.readFrame(Math.max(1, deadline - Date.now()));
			if (f.type === 'api/response' && f.body === 'after')
				break;
		}
		c.destroy();
		await assertServes(srv);
	});

	test('a frame without its blank line, then the client goes away', T, async () => {
		for (const authed of [false, true]) {
			const c = authed ? await h.rawAuthed(srv) : await h.RawClient.connect(srv.port, srv);
			await writeQuietly(c, 'api status\nX-Header: 1\nX-Other: 2\n');
			await h.sleep(50);
			c.destroy();
			await assertServes(srv);
		}
		// Same, with a half-sent body.
		const c = await h.rawAuthed(srv);
		await writeQuietly(c, 'sendevent CUSTOM\nEvent-Subclass: x::y\nContent-Length: 10\n\nabc');
		await h.sleep(50);
		c.sock.end();
		await h.sleep(50);
		c.destroy();
		await assertServes(srv);
	});

	test('a frame with 150 headers: none dropped, a trailing Content-Length still frames the body', T,
		async () => {
			// If headers past some count were dropped, a Content-Length among them would
			// be lost and the body would be run as commands of its own.
			const c = await h.rawAuthed(srv);
			await c.cmd('event plain CUSTOM my::many');
			let frame = 'sendevent CUSTOM\nEvent-Subclass: my::many\n';
			for (let i = 0; i < 150; i++)
				frame += `X-H${i}: v${i}\n`;
			const body = 'api echo INJECTED\n\n';
			frame += `Content-Length: ${body.length}\n\n${body}`;
			c.write(frame);
			c.write('api echo after\n\n');
			const frames = [];
			for (;;) {
				const f = await c.readFrame(5000);
				frames.push(f);
				if (f.type === 'api/response' && f.body === 'after')
					break;
			}
			assert.ok(!frames.some((f) => f.type === 'api/response' && f.body === 'INJECTED'),
				'the body of a sendevent was executed as a command');
			const evf = frames.find((f) => f.type === 'text/event-plain');
			assert.ok(evf, 'no event delivered');
			const ev = h.parsePlainEvent(evf.body);
			const xh = ev.list.filter(([n]) => /^X-H\d+$/.test(n)).length;
			assert.equal(xh, 150, `only ${xh} of 150 client headers kept`);
			assert.equal(ev.body, body);
			c.destroy();
			await assertServes(srv);
		});

	test('a 2 MB header line: parse error and disconnect (or just a disconnect)', T, async () => {
		const c = await h.rawAuthed(srv);
		const big = 'api status\nX-Big: ' + 'a'.repeat(2 * 1024 * 1024) + '\n\n';
		const writing = writeQuietly(c, big);
		await assertServes(srv);          // served while the big line is streaming in
		await expectDropped(c, '2 MB header line', 10000);
		await writing;
		await assertServes(srv);
	});

	test('a 2 MB command line: parse error and disconnect (or just a disconnect)', T, async () => {
		const c = await h.rawAuthed(srv);
		const writing = writeQuietly(c, 'api echo ' + 'b'.repeat(2 * 1024 * 1024));
		await expectDropped(c, '2 MB command line', 10000);
		await writing;
		await assertServes(srv);
	});

	test('a 2 MB line before auth is dropped too', T, async () => {
		const c = await h.RawClient.connect(srv.port, srv);
		await c.greeting();
		const writing = writeQuietly(c, 'auth ' + 'c'.repeat(2 * 1024 * 1024) + '\n\n');
		await expectDropped(c, '2 MB auth line', 10000);
		await writing;
		await assertServes(srv);
	});

	test('Content-Length larger than what is sent, then close', T, async () => {
		const c = await h.rawAuthed(srv);
		c.write('sendevent CUSTOM\nEvent-Subclass: my::short\nContent-Length: 1000\n\nshort body');
		// The server waits for the rest of the body: no reply yet...
		await h.sleep(200);
		assert.equal(c.buf.length, 0, `no reply to an incomplete body: ${c.buf.toString('latin1')}`);
		assert.equal(c.closed, false);
		await assertServes(srv);
		c.sock.end();
		await c.closesWithin(2000);
		c.destroy();
		await assertServes(srv);
	});

	test('Content-Length negative: dropped', T, async () => {
		const c = await h.rawAuthed(srv);
		c.write('sendevent CUSTOM\nEvent-Subclass: my::neg\nContent-Length: -5\n\nhello');
		await expectDropped(c, 'negative Content-Length');
		await assertServes(srv);
	});

	test('Content-Length of 100 MB: dropped at once', T, async () => {
		const c = await h.rawAuthed(srv);
		c.write('sendevent CUSTOM\nEvent-Subclass: my::huge\nContent-Length: 104857600\n\nhello');
		await expectDropped(c, '100 MB Content-Length');
		await assertServes(srv);
	});

	test('Content-Length absurdly long number: dropped', T, async () => {
		const c = await h.rawAuthed(srv);
		c.write(`api echo x\nContent-Length: ${'9'.repeat(40)}\n\n`);
		await expectDropped(c, '40-digit Content-Length');
		await assertServes(srv);
	});

	test('Content-Length not a number: dropped, or ignored and the connection still works', T,
		async () => {
			for (const bad of ['abc', '12abc', '', ' ', '0x10', '1e3']) {
				const c = await h.rawAuthed(srv);
				c.write(`api echo cl\nContent-Length: ${bad}\n\n`);
				c.write('api echo still-here\n\n');
				let f;
				try {
					f = await c.readFrame(3000);
				} catch (e) {
					// A drop is fine; it must be a clean one.
					assert.ok(c.closed, `Content-Length ${JSON.stringify(bad)}: no reply and no close`);
					c.destroy();
					continue;
				}
				if (f.raw.toString('latin1') === PARSE_ERROR) {
					const rest = (await c.readUntilClose(5000)).toString('latin1');
					assert.ok(rest === '' || rest === h.BYE, `after the parse error: ${JSON.stringify(rest)}`);
				} else {
					assert.equal(f.type, 'api/response', `Content-Length ${JSON.stringify(bad)}`);
				}
				c.destroy();
			}
			await assertServes(srv);
		});

	test('a client that never sends anything is dropped after auth-timeout (1 s)', T, async () => {
		const t0 = Date.now();
		const c = await h.RawClient.connect(srv.port, srv);
		await c.greeting();
		const rest = await c.readUntilClose(4000).catch((e) => {
			throw new Error(`idle unauthenticated client not dropped: ${e.message}`);
		});
		const ms = Date.now() - t0;
		assert.ok(ms >= 800, `dropped after ${ms} ms, before the 1 s auth-timeout`);
		const s = rest.toString('latin1');
		assert.ok(s === '' || s === h.BYE, `bytes at the drop: ${JSON.stringify(s)}`);
		await assertServes(srv);
	});

	test('a client that sends half a line and stalls is dropped after auth-timeout', T,
		async () => {
			const c = await h.RawClient.connect(srv.port, srv);
			await c.greeting();
			c.write('auth Clue');
			assert.ok(await c.closesWithin(4000), 'stalled half-line client not dropped');
			await assertServes(srv);
		});

	// Stricter than FreeSWITCH, whose pre-auth loop times only the first packet:
	// here auth-timeout runs until a successful auth, so one junk line does not
	// let a never-authenticated client hold its connection for ever.
	test('an unauthenticated client that sent one bogus command is still dropped', T,
		async () => {
			const c = await h.RawClient.connect(srv.port, srv);
			await c.greeting();
			c.write('api status\n\n');
			const f = await c.readFrame();
			assert.equal(f.headers['Reply-Text'], '-ERR command not found');
			assert.ok(await c.closesWithin(4000),
				'unauthenticated client kept open after its auth-timeout expired');
			await assertServes(srv);
		});

	test('an authenticated client is not dropped for being idle', T, async () => {
		const c = await h.rawAuthed(srv);
		assert.equal(await c.closesWithin(2000), false, 'authed idle client was dropped');
		assert.equal((await c.cmd('api echo alive')).body, 'alive');
		c.destroy();
	});

	test('clients vanishing mid-work: after bgapi, with queued events, after exit', T, async () => {
		// bgapi then gone before the job's event.
		for (let i = 0; i < 5; i++) {
			const c = await h.rawAuthed(srv);
			c.write('event plain BACKGROUND_JOB\n\nbgapi status\n\nbgapi echo x\n\n');
			c.destroy();
		}
		// A subscriber with a full queue and a full socket goes away.
		const sub = await h.rawAuthed(srv);
		await sub.cmd('event plain ALL');
		sub.sock.pause();
		const snd = await h.rawAuthed(srv);
		let batch = '';
		for (let i = 0; i < 3000; i++)
			batch += `sendevent CUSTOM\nEvent-Subclass: gone::test\nX-I: ${i}\n\n`;
		snd.write(batch);
		snd.write('api echo done\n\n');
		await snd.readFrameOfType('api/response', 20000);
		sub.destroy();
		// Commands after exit are ignored; the connection still closes cleanly.
		const c = await h.rawAuthed(srv);
		c.write('exit\n\napi status\n\nevent plain ALL\n\n');
		const rest = (await c.readUntilClose()).toString('latin1');
		assert.equal(rest, 'Content-Type: command/reply\nReply-Text: +OK bye\n\n' + h.BYE);
		snd.destroy();
		await assertServes(srv);
	});
});

describe('event socket under load', () => {
	// A normal auth-timeout here: under load a client may take longer than 1 s to
	// get its greeting answered, which is not what these tests are about.
	let srv;

	before(async () => {
		srv = await h.startServer({ esl: { 'event-queue-size': '1000' } });
	});
	after(async () => {
		await srv.stop();
	});

	test('200 clients at once, each running api status', { timeout: 60000 }, async () => {
		const N = 200;
		const one = async () => {
			const c = await h.RawClient.connect(srv.port, srv, { timeoutMs: 20000 });
			try {
				await c.auth('ClueCon', 20000);
				const f = await c.cmd('api status', { timeoutMs: 20000 });
				assert.ok(f.body.startsWith('UP '), f.body.slice(0, 60));
				return true;
			} finally {
				c.destroy();
			}
		};
		const t0 = Date.now();
		const results = await Promise.allSettled(Array.from({ length: N }, one));
		const failed = results.filter((r) => r.status === 'rejected');
		assert.equal(failed.length, 0, `${failed.length} of ${N} failed, first: ${
			failed[0] && failed[0].reason && failed[0].reason.message}`);
		assert.ok(Date.now() - t0 < 30000, `took ${Date.now() - t0} ms`);
		await assertServes(srv);
	});

	test('a slow subscriber does not hold up a fast sender; it is told what it lost', { timeout: 90000 },
		async () => {
			const N = 50000;
			const slow = await h.rawAuthed(srv);
			assert.equal((await slow.cmd('event plain ALL')).headers['Reply-Text'],
				'+OK event listener enabled plain');
			slow.sock.pause();                 // never reads from here on

			const snd = await h.rawAuthed(srv);
			// Count the sender's +OK replies straight off the stream.
			let ok = 0;
			let tail = '';
			let wake = null;
			snd.sock.removeAllListeners('data');
			snd.sock.on('data', (d) => {
				const parts = (tail + d.toString('latin1')).split('Reply-Text: +OK ');
				ok += parts.length - 1;
				tail = parts[parts.length - 1].slice(-32);
				if (wake)
					wake();
			});
			const until = (n, ms) => h.withTimeout(new Promise((resolve) => {
				wake = () => { if (ok >= n) { wake = null; resolve(); } };
				wake();
			}), ms, `${n} sendevent replies (have ${ok})`);

			const t0 = Date.now();
			const BATCH = 1000;
			for (let i = 0; i < N; i += BATCH) {
				let chunk = '';
				for (let j = i; j < i + BATCH; j++)
					chunk += `sendevent CUSTOM\nEvent-Subclass: load::test\nX-I: ${j}\n\n`;
				snd.write(chunk);
				// Keep at most two batches in flight.
				await until(Math.max(0, i - BATCH), 20000);
			}
			await until(N, 20000);
			const sendMs = Date.now() - t0;
			assert.ok(sendMs < 30000, `50,000 sendevents took ${sendMs} ms`);
			srv.assertAlive();
			await assertServes(srv);

			// Now read everything the slow client was sent.
			slow.sock.resume();
			let delivered = 0;
			let lostHeader = null;
			let lastLost = 0;
			let lastI = -1;
			let others = 0;
			const deadline = Date.now() + 30000;
			for (;;) {
				let f;
				try {
					f = await slow.readFrame(1500);
				} catch (e) {
					if (slow.closed || /timed out/.test(e.message))
						break;
					throw e;
				}
				assert.ok(Date.now() < deadline, 'draining the slow client took too long');
				if (f.headers['Events-Lost'] !== undefined) {
					lostHeader = lostHeader || f.headers['Events-Lost'];
					lastLost = Number(f.headers['Events-Lost']);
				}
				if (f.type === 'text/event-plain' && f.body.includes('Event-Subclass: load%3A%3Atest')) {
					const i = Number(/\nX-I: (\d+)\n/.exec(f.body)[1]);
					assert.ok(i > lastI, `load events out of order or repeated: ${i} after ${lastI}`);
					lastI = i;
					delivered++;
				} else {
					others++;
				}
			}
			assert.ok(lostHeader !== null, `no Events-Lost header in ${delivered} frames`);
			assert.match(lostHeader, /^\d+$/);
			assert.ok(lastLost > 0 && lastLost <= N, `Events-Lost ${lastLost}`);
			assert.ok(delivered > 0, 'the slow client got nothing at all');
			// Every load event was either delivered or counted as lost (the count is
			// cumulative and also covers other events lost meanwhile, e.g. HEARTBEAT).
			if (!slow.closed) {
				assert.ok(delivered + lastLost >= N, `delivered ${delivered} + lost ${lastLost} < ${N}`);
				assert.ok(delivered + lastLost <= N + 100,
					`delivered ${delivered} + lost ${lastLost} (+${others} other events) >> ${N}`);
			}
			slow.destroy();
			snd.destroy();
			await assertServes(srv);
		});
});

describe('repeated wrong passwords', () => {
	let srv;

	before(async () => {
		srv = await h.startServer({});
	});
	after(async () => {
		await srv.stop();
	});

	async function wrongOnce() {
		const c = await h.RawClient.connect(srv.port, srv);
		await c.greeting();
		const t0 = Date.now();
		c.write('auth wrong\n\n');
		const rest = await c.readUntilClose(15000);
		const ms = Date.now() - t0;
		assert.equal(rest.toString('latin1'),
			'Content-Type: command/reply\nReply-Text: -ERR invalid\n\n' + h.BYE);
		return ms;
	}

	test('three wrong passwords from one address: later rejections are delayed', { timeout: 30000 },
		async () => {
			const first = await wrongOnce();
			const second = await wrongOnce();
			// While a delayed rejection is pending, others are served.
			const third = wrongOnce();
			await assertServes(srv);
			const thirdMs = await third;
			assert.ok(first < 200, `first rejection took ${first} ms`);
			assert.ok(thirdMs >= 200, `third rejection came after ${thirdMs} ms (second: ${second})`);
			// The right password is still accepted at once.
			const c = await h.RawClient.connect(srv.port, srv);
			const t0 = Date.now();
			await c.auth();
			assert.ok(Date.now() - t0 < 1000);
			c.destroy();
		});
});
