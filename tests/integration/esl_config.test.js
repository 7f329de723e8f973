'use strict';
/*
 * Configuration that shapes the event socket: inbound ACLs, the refusal to
 * expose the default password, broken XML at start-up and on reloadxml.
 */
const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

const T = { timeout: 30000 };
const RUDE = 'Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n';
const NOBODY = '<list name="nobody" default="deny"></list>';

/* Starts a server, runs fn(srv), always stops it (and so checks its exit). */
async function withServer(opts, fn) {
	const srv = await h.startServer(opts);
	let failure = null;
	try {
		await fn(srv);
	} catch (e) {
		failure = e;
	}
	try {
		await srv.stop();
	} catch (e) {
		failure = failure || e;
	}
	if (failure)
		throw failure;
}

/* Connects and returns everything the server sends before it closes. */
async function rejectedBytes(srv) {
	const c = await h.RawClient.connect(srv.port, srv);
	return (await c.readUntilClose(5000)).toString('latin1');
}

async function accepted(srv) {
	const c = await h.rawAuthed(srv);
	const f = await c.cmd('api echo ok');
	assert.equal(f.body, 'ok');
	c.destroy();
}

describe('apply-inbound-acl', () => {
	test('a list that excludes 127.0.0.1: rude rejection, then close', T, async () => {
		await withServer({ aclLists: NOBODY, esl: { 'apply-inbound-acl': 'nobody' } },
			async (srv) => {
				assert.equal(await rejectedBytes(srv), RUDE);
				// Again: the listener stays up and keeps rejecting.
				assert.equal(await rejectedBytes(srv), RUDE);
				srv.assertAlive();
			});
	});

	test('every listed ACL must pass', T, async () => {
		await withServer({ aclLists: NOBODY,
			esl: { 'apply-inbound-acl': ['loopback.auto', 'nobody'] } }, async (srv) => {
			assert.equal(await rejectedBytes(srv), RUDE);
		});
		await withServer({ esl: { 'apply-inbound-acl': ['loopback.auto', 'lan'] } },
			async (srv) => {
				await accepted(srv);
			});
	});

	test('the default (no apply-inbound-acl) admits loopback', T, async () => {
		await withServer({ esl: { 'apply-inbound-acl': null } }, accepted);
	});

	test('a CIDR in apply-inbound-acl', T, async () => {
		await withServer({ esl: { 'apply-inbound-acl': '10.0.0.0/8' } }, async (srv) => {
			assert.equal(await rejectedBytes(srv), RUDE);
		});
		await withServer({ esl: { 'apply-inbound-acl': '127.0.0.1/32' } }, accepted);
	});

	test('an unknown list name refuses to start', T, async () => {
		const r = await h.runExpectExit({ esl: { 'apply-inbound-acl': 'no-such-list' } });
		assert.ok(r.code !== null && r.code !== 0, `exit ${r.code}\n${r.output}`);
		assert.match(r.output + r.log, /no-such-list/);
		assert.deepEqual(h.sanitizerReport(r.output), []);
	});
});

describe('start-up refusals', () => {
	for (const ip of ['0.0.0.0', '::']) {
		test(`listen-ip ${ip} with the default password: exits non-zero, says "refusing"`, T,
			async () => {
				const r = await h.runExpectExit({ esl: { 'listen-ip': ip, password: 'ClueCon' } });
				assert.ok(r.code !== null, `still running after 10 s\n${r.output}`);
				assert.notEqual(r.code, 0);
				assert.ok(r.ms < 8000, `took ${r.ms} ms to give up`);
				assert.match(r.output, /refusing/);
				assert.deepEqual(h.sanitizerReport(r.output), []);
			});
	}

	test('listen-ip 0.0.0.0 with an empty password: refused too', T, async () => {
		const r = await h.runExpectExit({ esl: { 'listen-ip': '0.0.0.0', password: '' } });
		assert.ok(r.code !== null && r.code !== 0, `exit ${r.code}\n${r.output}`);
		assert.match(r.output, /refusing/);
	});

	test('an XML syntax error: exits non-zero naming file:line', T, async () => {
		const r = await h.runExpectExit({
			edit(conf) {
				const f = path.join(conf, 'autoload_configs', 'switch.conf.xml');
				const xml = fs.readFileSync(f, 'utf8');
				// Line 4 loses its "/": the element is never closed.
				const broken = xml.replace('<param name="max-sessions" value="1000"/>',
					'<param name="max-sessions" value="1000">');
				assert.notEqual(broken, xml);
				fs.writeFileSync(f, broken);
			},
		});
		assert.ok(r.code !== null && r.code !== 0, `exit ${r.code}\n${r.output}`);
		assert.match(r.output, /switch\.conf\.xml:\d+/, r.output);
		assert.deepEqual(h.sanitizerReport(r.output), []);
	});

	test('a bad listen-port value: exits non-zero naming file:line', T, async () => {
		const r = await h.runExpectExit({ esl: { 'listen-port': 'eighty' } });
		assert.ok(r.code !== null && r.code !== 0, `exit ${r.code}\n${r.output}`);
		assert.match(r.output + r.log, /event_socket\.conf\.xml:\d+/);
	});

	test('the port already taken with stop-on-bind-error: exits non-zero', T, async () => {
		await withServer({}, async (srv) => {
			const r = await h.runExpectExit({ esl: { 'listen-port': String(srv.port) } });
			assert.ok(r.code !== null && r.code !== 0, `exit ${r.code}\n${r.output}`);
			assert.match(r.output + r.log, /in use/i);
			await accepted(srv);
		});
	});
});

describe('reloadxml with a broken file', () => {
	test('keeps the running configuration and reports the error', T, async () => {
		await withServer({}, async (srv) => {
			const f = path.join(srv.conf, 'autoload_configs', 'switch.conf.xml');
			const good = fs.readFileSync(f, 'utf8');
			fs.writeFileSync(f, good.replace('</settings>', '<settings>'));
			const c = await h.rawAuthed(srv);
			let r = await c.cmd('api reloadxml');
			assert.match(r.body, /^\+OK \[.+\]\n$/);
			assert.notEqual(r.body, '+OK [Success]\n');
			assert.match(r.body, /switch\.conf\.xml:\d+/);
			assert.equal((await c.cmd('api echo still')).body, 'still');
			fs.writeFileSync(f, good);
			r = await c.cmd('api reloadxml');
			assert.equal(r.body, '+OK [Success]\n');
			c.destroy();
		});
	});
});

describe('shutdown', () => {
	test('SIGTERM: connected clients get the shut-down notice; subscribers get SHUTDOWN first', T,
		async () => {
			const srv = await h.startServer({});
			// Not tracked by the server object: stop() must not destroy them, we read them after.
			const authed = await h.RawClient.connect(srv.port, null);
			await authed.auth();
			const sub = await h.RawClient.connect(srv.port, null);
			await sub.auth();
			assert.equal((await sub.cmd('event plain SHUTDOWN')).headers['Reply-Text'],
				'+OK event listener enabled plain');
			const fresh = await h.RawClient.connect(srv.port, null);
			await fresh.greeting();
			try {
				await srv.stop();
				const notice = 'Content-Type: text/disconnect-notice\nContent-Length: 31\n\n' +
					'The system is being shut down.\n';
				for (const [name, c] of [['authed', authed], ['unauthenticated', fresh]])
					assert.equal((await c.readUntilClose(5000)).toString('latin1'), notice, name);
				const rest = (await sub.readUntilClose(5000)).toString('latin1');
				assert.ok(rest.endsWith(notice), JSON.stringify(rest.slice(-200)));
				const frames = [];
				for (let buf = Buffer.from(rest, 'latin1'); ;) {
					const r = h.tryParseFrame(buf);
					if (!r)
						break;
					frames.push(r.frame);
					buf = buf.subarray(r.used);
				}
				const ev = frames.find((f) => f.type === 'text/event-plain');
				assert.ok(ev, 'the SHUTDOWN event was not delivered before the disconnect notice');
				assert.equal(h.parsePlainEvent(ev.body).map['Event-Name'], 'SHUTDOWN');
			} finally {
				for (const c of [authed, sub, fresh])
					c.destroy();
			}
		});
});
