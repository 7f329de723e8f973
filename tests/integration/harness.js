'use strict';
/*
 * harness.js - shared helpers for confab's integration tests.
 *
 * startServer() runs a private confabd for one test file: it copies the
 * configuration in $CONFAB_CONF to a temp dir, points the event socket at a free
 * 127.0.0.1 port (plus any per-file settings), starts `$CONFABD -c DIR -log
 * DIR/confab.log -nf`, captures stdout/stderr and waits until the port accepts.
 * server.stop() sends SIGTERM to that PID only, waits for the exit and throws
 * if the exit code is non-zero or a sanitizer reported anything.
 *
 * RawClient is a byte-level event-socket client with bounded waits.
 * Every wait in here has a timeout; only 127.0.0.1 is ever used.
 */
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const HOST = '127.0.0.1';
const CONFABD = process.env.CONFABD;
const CONFAB_CONF = process.env.CONFAB_CONF;
const CONFAB_CLI = process.env.CONFAB_CLI;
const SANITIZER_MARKERS = ['ERROR: AddressSanitizer', 'runtime error:', 'LeakSanitizer'];

function requireEnv() {
	assert.ok(CONFABD, 'CONFABD must name the confabd binary');
	assert.ok(CONFAB_CONF, 'CONFAB_CONF must name the configuration directory');
	assert.ok(fs.existsSync(CONFABD), `CONFABD ${CONFABD} does not exist`);
	assert.ok(fs.existsSync(path.join(CONFAB_CONF, 'confab.xml')),
		`CONFAB_CONF ${CONFAB_CONF} has no confab.xml`);
}

/* True when the CLI binary is there; CLI tests skip otherwise. */
function cliAvailable() {
	return !!CONFAB_CLI && fs.existsSync(CONFAB_CLI);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* The promise's value, or null if it has not settled within ms (timer cleared). */
function within(promise, ms) {
	let timer;
	const t = new Promise((resolve) => { timer = setTimeout(() => resolve(null), ms); });
	return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

/* Rejects with a clear message when `promise` does not settle within `ms`. */
function withTimeout(promise, ms, what) {
	let timer;
	const timeout = new Promise((_, reject) => {
		timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
	});
	return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function freePort() {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.unref();
		srv.on('error', reject);
		srv.listen(0, HOST, () => {
			const { port } = srv.address();
			srv.close(() => resolve(port));
		});
	});
}

/* A port free for both UDP and TCP (SIP profiles listen on both). */
async function freeUdpPort() {
	const dgram = require('node:dgram');
	for (;;) {
		const port = await freePort();
		const ok = await new Promise((resolve) => {
			const s = dgram.createSocket('udp4');
			s.on('error', () => resolve(false));
			s.bind(port, HOST, () => s.close(() => resolve(true)));
		});
		if (ok)
			return port;
	}
}

function xmlEscape(s) {
	return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
		.replace(/"/g, '&quot;');
}

/*
 * Sets <param name="NAME" value="..."/> inside the <settings> of an autoload
 * config file: replaces an existing (uncommented) param, else adds it.
 * A value of null removes the param.
 */
function setParams(file, params) {
	let xml = fs.readFileSync(file, 'utf8');
	for (const [name, value] of Object.entries(params)) {
		const re = new RegExp(`[ \\t]*<param\\s+name="${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\s+value="[^"]*"\\s*/>[ \\t]*\\n?`, 'g');
		// Strip only params that are not inside an XML comment.
		xml = stripOutsideComments(xml, re);
		if (value === null || value === undefined)
			continue;
		const values = Array.isArray(value) ? value : [value];
		const lines = values.map((v) =>
			`    <param name="${name}" value="${xmlEscape(v)}"/>\n`).join('');
		assert.ok(/<settings>/.test(xml), `${file} has no <settings>`);
		xml = xml.replace(/<settings>\n?/, (m) => `${m.endsWith('\n') ? m : m + '\n'}${lines}`);
	}
	fs.writeFileSync(file, xml);
}

function stripOutsideComments(xml, re) {
	const parts = xml.split(/(<!--[\s\S]*?-->)/);
	return parts.map((p) => (p.startsWith('<!--') ? p : p.replace(re, ''))).join('');
}

/*
 * Builds the temp configuration. opts:
 *   esl:    { param: value } for autoload_configs/event_socket.conf.xml
 *   switch: { param: value } for autoload_configs/switch.conf.xml
 *   aclLists: raw XML of extra <list> elements for acl.conf.xml
 *   edit(dir): any further change to the copy
 */
function makeConfig(port, opts = {}) {
	requireEnv();
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confab-it-'));
	const conf = path.join(dir, 'conf');
	fs.cpSync(CONFAB_CONF, conf, { recursive: true });
	// Runtime leftovers of a developer's run in the source tree are not configuration.
	for (const d of ['db', 'log', 'run'])
		fs.rmSync(path.join(conf, d), { recursive: true, force: true });
	const esl = path.join(conf, 'autoload_configs', 'event_socket.conf.xml');
	setParams(esl, Object.assign({
		'listen-ip': HOST,
		'listen-port': String(port),
		// A port taken by someone else must fail the start, not retry forever.
		'stop-on-bind-error': 'true',
	}, opts.esl || {}));
	if (opts.switch)
		setParams(path.join(conf, 'autoload_configs', 'switch.conf.xml'), opts.switch);
	/* Each test daemon gets SIP ports of its own, so test files can run in parallel. */
	const sofia = path.join(conf, 'autoload_configs', 'sofia.conf.xml');
	if (opts.sipPorts && fs.existsSync(sofia)) {
		let xml = fs.readFileSync(sofia, 'utf8');
		xml = xml.replace('name="sip-port" value="5060"', `name="sip-port" value="${opts.sipPorts[0]}"`)
			.replace('name="sip-port" value="5080"', `name="sip-port" value="${opts.sipPorts[1]}"`);
		fs.writeFileSync(sofia, xml);
	}
	if (opts.aclLists) {
		const acl = path.join(conf, 'autoload_configs', 'acl.conf.xml');
		const xml = fs.readFileSync(acl, 'utf8');
		assert.ok(xml.includes('</network-lists>'), 'acl.conf.xml has no <network-lists>');
		fs.writeFileSync(acl, xml.replace('</network-lists>',
			`${opts.aclLists}\n  </network-lists>`));
	}
	if (opts.edit)
		opts.edit(conf);
	return { dir, conf };
}

function sanitizerReport(text) {
	return SANITIZER_MARKERS.filter((m) => text.includes(m));
}

/* A started confabd. */
class Server {
	constructor(proc, port, dir, conf) {
		this.proc = proc;
		this.pid = proc.pid;
		this.port = port;
		this.dir = dir;
		this.conf = conf;
		this.stdout = '';
		this.stderr = '';
		this.exit = null;         // { code, signal } once exited
		this.clients = new Set(); // sockets to destroy at teardown
		this.spawnError = null;
		this.exited = new Promise((resolve) => {
			proc.on('exit', (code, signal) => {
				this.exit = { code, signal };
				resolve(this.exit);
			});
			// e.g. EACCES/ETXTBSY while the binary is being rebuilt: no 'exit' follows.
			proc.on('error', (err) => {
				this.spawnError = err;
				if (!this.exit) {
					this.exit = { code: null, signal: null, error: err.message };
					resolve(this.exit);
				}
			});
		});
		proc.stdout.on('data', (d) => { this.stdout += d.toString('latin1'); });
		proc.stderr.on('data', (d) => { this.stderr += d.toString('latin1'); });
	}

	get output() { return this.stdout + this.stderr; }

	logText() {
		try { return fs.readFileSync(path.join(this.dir, 'confab.log'), 'latin1'); }
		catch { return ''; }
	}

	track(sock) {
		this.clients.add(sock);
		sock.once('close', () => this.clients.delete(sock));
		return sock;
	}

	/* Still running? Fails the calling test if the daemon died. */
	assertAlive() {
		assert.equal(this.exit, null,
			`confabd exited unexpectedly: ${JSON.stringify(this.exit)}\n${this.tail()}`);
	}

	tail(n = 4000) {
		const out = this.output;
		return out.length > n ? '...' + out.slice(-n) : out;
	}

	/* SIGTERM by PID, wait, then check the exit code and sanitizer output. */
	async stop({ timeoutMs = 15000 } = {}) {
		let killed = false;
		if (!this.exit) {
			this.proc.kill('SIGTERM');
			const done = await within(this.exited, timeoutMs);
			if (!done) {
				killed = true;
				this.proc.kill('SIGKILL');
				await withTimeout(this.exited, 5000, 'confabd to die after SIGKILL');
			}
		}
		// The pipes may still hold the last sanitizer lines.
		await within(Promise.all([once(this.proc.stdout, 'close'),
			once(this.proc.stderr, 'close')]), 2000);
		for (const s of this.clients)
			s.destroy();
		this.clients.clear();
		const problems = [];
		if (killed)
			problems.push(`confabd did not exit within ${timeoutMs} ms of SIGTERM`);
		else if (this.exit.code !== 0)
			problems.push(`confabd exited with ${JSON.stringify(this.exit)}`);
		const found = sanitizerReport(this.output);
		if (found.length)
			problems.push(`sanitizer reported: ${found.join(', ')}`);
		if (problems.length) {
			throw new Error(`${problems.join('; ')} (temp dir kept: ${this.dir})\n` +
				`--- confabd output ---\n${this.tail(20000)}`);
		}
		fs.rmSync(this.dir, { recursive: true, force: true });
	}
}

function once(emitter, ev) {
	if (emitter.closed || emitter.destroyed)
		return Promise.resolve();
	return new Promise((resolve) => emitter.once(ev, resolve));
}

function spawnDaemon(conf, dir) {
	return spawn(CONFABD, ['-c', conf, '-log', path.join(dir, 'confab.log'), '-nf'], {
		cwd: dir,
		stdio: ['ignore', 'pipe', 'pipe'],
		env: Object.assign({}, process.env, {
			ASAN_OPTIONS: process.env.ASAN_OPTIONS || 'detect_leaks=1:abort_on_error=0',
		}),
	});
}

/* Resolves once a TCP connect to the port succeeds (the probe is closed at once). */
async function waitPort(port, server, timeoutMs) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		if (server && server.exit)
			return false;
		const ok = await new Promise((resolve) => {
			const s = net.connect({ host: HOST, port });
			const t = setTimeout(() => { s.destroy(); resolve(false); }, 500);
			s.once('connect', () => { clearTimeout(t); s.destroy(); resolve(true); });
			s.once('error', () => { clearTimeout(t); s.destroy(); resolve(false); });
		});
		if (ok)
			return true;
		if (Date.now() > deadline)
			return false;
		await sleep(50);
	}
}

/*
 * Starts a private confabd (see makeConfig for opts). Retries with a new port if
 * another process took the chosen one in the meantime.
 */
async function startServer(opts = {}) {
	requireEnv();
	let lastErr;
	for (let attempt = 0; attempt < 3; attempt++) {
		const port = await freePort();
		const sipPorts = [await freeUdpPort(), await freeUdpPort()];
		const { dir, conf } = makeConfig(port, Object.assign({ sipPorts }, opts));
		const proc = spawnDaemon(conf, dir);
		const server = new Server(proc, port, dir, conf);
		server.sipPort = sipPorts[0];
		server.sipPortExternal = sipPorts[1];
		const up = await waitPort(port, server, opts.startTimeoutMs || 15000);
		if (up)
			return server;
		if (!server.exit) {
			proc.kill('SIGKILL');
			await withTimeout(server.exited, 5000, 'confabd to die');
		}
		lastErr = new Error(`confabd did not start on port ${port}: ` +
			`${JSON.stringify(server.exit)}\n${server.tail()}`);
		const busy = /in use/i.test(server.output);
		fs.rmSync(dir, { recursive: true, force: true });
		if (!busy)
			break;
	}
	throw lastErr;
}

/*
 * Runs confabd on a configuration that is expected to be refused and returns
 * { code, signal, output, ms }. Kills it (by PID) if it is still running after
 * timeoutMs and reports code null.
 */
async function runExpectExit(opts = {}, timeoutMs = 10000) {
	requireEnv();
	const port = await freePort();
	const sipPorts = [await freeUdpPort(), await freeUdpPort()];
	const { dir, conf } = makeConfig(port, Object.assign({ sipPorts }, opts));
	const t0 = Date.now();
	const proc = spawnDaemon(conf, dir);
	const server = new Server(proc, port, dir, conf);
	const res = await within(server.exited, timeoutMs);
	if (!res) {
		proc.kill('SIGKILL');
		await withTimeout(server.exited, 5000, 'confabd to die');
	}
	await within(Promise.all([once(proc.stdout, 'close'), once(proc.stderr, 'close')]), 2000);
	const out = { code: res ? res.code : null, signal: res ? res.signal : null,
		output: server.output, log: server.logText(), ms: Date.now() - t0, dir };
	fs.rmSync(dir, { recursive: true, force: true });
	return out;
}

/* ------------------------------------------------------------------------ */
/* Raw event-socket client                                                   */
/* ------------------------------------------------------------------------ */

/* Parses "Name: value" lines (LF only, as FreeSWITCH sends). */
function parseHeaderBlock(text) {
	const list = [];
	const map = {};
	for (const line of text.split('\n')) {
		if (!line)
			continue;
		const i = line.indexOf(':');
		const name = i < 0 ? line : line.slice(0, i);
		const value = i < 0 ? '' : line.slice(i + 1).replace(/^ +/, '');
		list.push([name, value]);
		if (!(name in map))
			map[name] = value;
	}
	return { list, map };
}

/*
 * A frame: { raw (Buffer), headers (first value per name), headerList
 * ([name, value] in order), body (string), type }.
 */
function tryParseFrame(buf) {
	const end = buf.indexOf('\n\n');
	if (end < 0)
		return null;
	const head = buf.subarray(0, end).toString('latin1');
	const { list, map } = parseHeaderBlock(head);
	let total = end + 2;
	let body = '';
	if ('Content-Length' in map) {
		const n = parseInt(map['Content-Length'], 10);
		if (buf.length < total + n)
			return null;
		body = buf.subarray(total, total + n).toString('utf8');
		total += n;
	}
	return {
		frame: { raw: Buffer.from(buf.subarray(0, total)), headers: map, headerList: list,
			body, type: map['Content-Type'] },
		used: total,
	};
}

/* Parses a text/event-plain body into an ordered list and a map (values URL-decoded). */
function parsePlainEvent(body) {
	const end = body.indexOf('\n\n');
	const head = end < 0 ? body : body.slice(0, end);
	const { list } = parseHeaderBlock(head);
	const decoded = list.map(([n, v]) => [n, safeDecode(v)]);
	const map = {};
	for (const [n, v] of decoded) {
		if (!(n in map))
			map[n] = v;
	}
	let evBody = '';
	if (end >= 0 && 'Content-Length' in map)
		evBody = body.slice(end + 2);
	return { list: decoded, rawList: list, map, body: evBody };
}

function safeDecode(v) {
	try { return decodeURIComponent(v); } catch { return v; }
}

class RawClient {
	constructor(sock) {
		this.sock = sock;
		this.buf = Buffer.alloc(0);
		this.closed = false;
		this.error = null;
		this.waiters = new Set();
		this.received = 0;
		sock.on('data', (d) => {
			this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
			this.received += d.length;
			this._kick();
		});
		sock.on('error', (e) => { this.error = e; });
		sock.on('close', () => { this.closed = true; this._kick(); });
	}

	static connect(port, server, { timeoutMs = 5000, pause = false } = {}) {
		return withTimeout(new Promise((resolve, reject) => {
			const sock = net.connect({ host: HOST, port });
			if (server)
				server.track(sock);
			sock.once('error', reject);
			sock.once('connect', () => {
				sock.removeListener('error', reject);
				const c = new RawClient(sock);
				if (pause)
					sock.pause();
				resolve(c);
			});
		}), timeoutMs, `connect to ${HOST}:${port}`);
	}

	_kick() {
		for (const w of [...this.waiters])
			w();
	}

	/* Waits until check() returns a non-undefined value (re-run on data/close). */
	_wait(check, timeoutMs, what) {
		return new Promise((resolve, reject) => {
			let timer;
			const w = () => {
				let v;
				try { v = check(); } catch (e) {
					this.waiters.delete(w); clearTimeout(timer); reject(e); return;
				}
				if (v !== undefined) {
					this.waiters.delete(w);
					clearTimeout(timer);
					resolve(v);
				}
			};
			timer = setTimeout(() => {
				this.waiters.delete(w);
				reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ` +
					`buffered ${this.buf.length} bytes: ` +
					JSON.stringify(this.buf.subarray(0, 400).toString('latin1'))));
			}, timeoutMs);
			this.waiters.add(w);
			w();
		});
	}

	write(data) {
		if (!this.sock.destroyed)
			this.sock.write(data);
	}

	/* Resolves when the write buffer has been handed to the kernel. */
	writeAndDrain(data, timeoutMs = 10000) {
		return withTimeout(new Promise((resolve, reject) => {
			this.sock.write(data, (err) => (err ? reject(err) : resolve()));
		}), timeoutMs, 'socket write');
	}

	/* Next complete frame. */
	readFrame(timeoutMs = 5000) {
		return this._wait(() => {
			const r = tryParseFrame(this.buf);
			if (r) {
				this.buf = this.buf.subarray(r.used);
				return r.frame;
			}
			if (this.closed)
				throw new Error('connection closed while waiting for a frame; buffered: ' +
					JSON.stringify(this.buf.toString('latin1')));
			return undefined;
		}, timeoutMs, 'a frame');
	}

	/* Next frame whose Content-Type is one of `types` (others are kept in `skipped`). */
	async readFrameOfType(types, timeoutMs = 5000) {
		const want = Array.isArray(types) ? types : [types];
		const deadline = Date.now() + timeoutMs;
		this.skipped = this.skipped || [];
		for (;;) {
			const f = await this.readFrame(Math.max(1, deadline - Date.now()));
			if (want.includes(f.type))
				return f;
			this.skipped.push(f);
		}
	}

	/* Exactly n bytes. */
	readBytes(n, timeoutMs = 5000) {
		return this._wait(() => {
			if (this.buf.length >= n) {
				const out = Buffer.from(this.buf.subarray(0, n));
				this.buf = this.buf.subarray(n);
				return out;
			}
			if (this.closed)
				throw new Error(`connection closed after ${this.buf.length} of ${n} bytes: ` +
					JSON.stringify(this.buf.toString('latin1')));
			return undefined;
		}, timeoutMs, `${n} bytes`);
	}

	/* Everything until the server closes; returns the remaining bytes. */
	readUntilClose(timeoutMs = 5000) {
		return this._wait(() => {
			if (!this.closed)
				return undefined;
			const out = this.buf;
			this.buf = Buffer.alloc(0);
			return out;
		}, timeoutMs, 'the server to close the connection');
	}

	/* Resolves true if the server closes within ms, false if it is still open. */
	async closesWithin(ms) {
		try {
			await this._wait(() => (this.closed ? true : undefined), ms, 'close');
			return true;
		} catch {
			return false;
		}
	}

	async greeting(timeoutMs = 5000) {
		const f = await this.readFrame(timeoutMs);
		assert.equal(f.raw.toString('latin1'), 'Content-Type: auth/request\n\n');
		return f;
	}

	async auth(password = 'ClueCon', timeoutMs = 5000) {
		await this.greeting(timeoutMs);
		this.write(`auth ${password}\n\n`);
		const f = await this.readFrame(timeoutMs);
		assert.equal(f.headers['Reply-Text'], '+OK accepted');
		return f;
	}

	/* Sends a command (with optional headers and body) and returns the next reply frame. */
	async cmd(command, { headers = {}, body, timeoutMs = 5000 } = {}) {
		this.write(buildCommand(command, headers, body));
		return this.readFrameOfType(['command/reply', 'api/response'], timeoutMs);
	}

	destroy() {
		this.sock.destroy();
	}
}

function buildCommand(command, headers = {}, body) {
	let s = `${command}\n`;
	for (const [k, v] of Object.entries(headers))
		s += `${k}: ${v}\n`;
	if (body !== undefined)
		s += `Content-Length: ${Buffer.byteLength(body)}\n`;
	s += '\n';
	if (body !== undefined)
		s += body;
	return s;
}

/* Connects and authenticates a RawClient. */
async function rawAuthed(server, opts) {
	const c = await RawClient.connect(server.port, server, opts);
	await c.auth();
	return c;
}

const BYE = 'Content-Type: text/disconnect-notice\nContent-Length: 67\n\n' +
	'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';

module.exports = {
	HOST, CONFABD, CONFAB_CONF, CONFAB_CLI, BYE,
	cliAvailable, sleep, within, withTimeout, freePort, freeUdpPort, startServer, runExpectExit, makeConfig,
	setParams, RawClient, rawAuthed, buildCommand, tryParseFrame, parsePlainEvent,
	parseHeaderBlock, sanitizerReport,
};
