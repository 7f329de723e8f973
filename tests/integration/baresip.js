'use strict';
/*
 * baresip.js - one real softphone for the SIP tests: runs baresip (Debian
 * package `baresip`) headless from a config directory generated in a temp dir
 * and drives it over its ctrl_tcp module (netstring-framed JSON commands and
 * events, https://github.com/baresip/baresip/blob/main/modules/ctrl_tcp).
 *
 * No sound card is needed: the audio source is the ausine module (a sine at
 * 48 kHz stereo, resampled by baresip) and no audio player module is loaded,
 * so what arrives is decoded and dropped. Everything is bound to 127.0.0.1
 * (net_interface 127.0.0.1; "lo" does not work in baresip 1.0, it finds no
 * IPv4 address on it). baresip also listens for SIP over TLS on sip port + 1,
 * so that port must be free too and must not be the ctrl_tcp port.
 *
 * stop() asks baresip to quit (it unregisters), then SIGTERM and SIGKILL by
 * PID if it is still running; -t makes it quit by itself in any case.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const h = require('./harness');

const BARESIP = process.env.BARESIP || '/usr/bin/baresip';
const MODULES = process.env.BARESIP_MODULES || '/usr/lib/baresip/modules';
const NEEDED = ['g711', 'ausine', 'account', 'menu', 'ctrl_tcp'];

/* Why baresip cannot be used here, or null when it can. */
function unavailable() {
	try {
		fs.accessSync(BARESIP, fs.constants.X_OK);
	} catch {
		return `${BARESIP} not found (install the Debian package baresip)`;
	}
	const missing = NEEDED.filter((m) => !fs.existsSync(path.join(MODULES, `${m}.so`)));
	if (missing.length)
		return `baresip modules missing in ${MODULES}: ${missing.join(', ')}`;
	return null;
}

function tcpFree(port) {
	return new Promise((resolve) => {
		const s = net.createServer();
		s.once('error', () => resolve(false));
		s.listen(port, h.HOST, () => s.close(() => resolve(true)));
	});
}

/* A SIP port free on UDP and TCP whose successor (baresip's TLS port) is free on TCP. */
async function sipPorts() {
	for (let i = 0; i < 50; i++) {
		const p = await h.freeUdpPort();
		if (p < 65535 && await tcpFree(p + 1))
			return p;
	}
	throw new Error('no free port pair for baresip');
}

class Baresip {
	/*
	 * opts: user, password, registrar ("host:port" of confab's profile),
	 * regint (s), toneHz (ausine frequency), maxSecs (baresip's own -t limit).
	 */
	constructor(opts) {
		this.opts = Object.assign({ regint: 60, toneHz: 1000, maxSecs: 120 }, opts);
		this.events = [];       // parsed JSON events, with .at
		this.responses = new Map();
		this.waiters = new Set();
		this.out = '';
		this.exit = null;
		this.token = 0;
	}

	async start() {
		const o = this.opts;
		this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confab-baresip-'));
		this.sipPort = await sipPorts();
		do
			this.ctrlPort = await h.freePort();
		while (this.ctrlPort === this.sipPort + 1 || this.ctrlPort === this.sipPort);
		const config = [
			'poll_method\t\tepoll',
			'call_local_timeout\t30',
			'call_max_calls\t\t2',
			`sip_listen\t\t${h.HOST}:${this.sipPort}`,
			`net_interface\t\t${h.HOST}`,
			`audio_source\t\tausine,${o.toneHz}`,
			'ausrc_srate\t\t48000',   // ausine only does 48 kHz stereo
			'ausrc_channels\t\t2',
			'audio_level\t\tno',
			'rtp_stats\t\tno',
			'jitter_buffer_delay\t5-10',
			`module_path\t\t${MODULES}`,
			'module\t\t\tg711.so',
			'module\t\t\tausine.so',
			'module_tmp\t\tuuid.so',
			'module_tmp\t\taccount.so',
			'module_app\t\tmenu.so',
			'module_app\t\tctrl_tcp.so',
			`ctrl_tcp_listen\t\t${h.HOST}:${this.ctrlPort}`,
			'',
		].join('\n');
		fs.writeFileSync(path.join(this.dir, 'config'), config);
		fs.writeFileSync(path.join(this.dir, 'accounts'),
			`<sip:${o.user}@${o.registrar}>;auth_pass=${o.password};regint=${o.regint}\n`);
		fs.writeFileSync(path.join(this.dir, 'contacts'), '');
		this.proc = spawn(BARESIP, ['-4', '-f', this.dir, '-t', String(o.maxSecs)], {
			cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
		this.pid = this.proc.pid;
		this.proc.stdout.on('data', (d) => { this.out += d.toString('latin1'); });
		this.proc.stderr.on('data', (d) => { this.out += d.toString('latin1'); });
		this.exited = new Promise((resolve) => {
			this.proc.on('exit', (code, signal) => { this.exit = { code, signal }; resolve(this.exit); this._kick(); });
			this.proc.on('error', (e) => { this.exit = { error: e.message }; resolve(this.exit); this._kick(); });
		});
		await this._connect(10000);
		return this;
	}

	async _connect(ms) {
		const deadline = Date.now() + ms;
		for (;;) {
			if (this.exit)
				throw new Error(`baresip exited at start: ${JSON.stringify(this.exit)}\n${this.out}`);
			const sock = await new Promise((resolve) => {
				const s = net.connect({ host: h.HOST, port: this.ctrlPort });
				s.once('connect', () => resolve(s));
				s.once('error', () => { s.destroy(); resolve(null); });
			});
			if (sock) {
				this.sock = sock;
				this.buf = Buffer.alloc(0);
				sock.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this._parse(); });
				sock.on('error', () => {});
				return;
			}
			if (Date.now() > deadline)
				throw new Error(`baresip ctrl_tcp did not listen on ${this.ctrlPort}\n${this.out}`);
			await h.sleep(100);
		}
	}

	/* Netstrings: "<len>:<json>,". */
	_parse() {
		for (;;) {
			const colon = this.buf.indexOf(':');
			if (colon < 0)
				return;
			const len = parseInt(this.buf.subarray(0, colon).toString(), 10);
			if (!(len >= 0) || this.buf.length < colon + 1 + len + 1)
				return;
			const json = this.buf.subarray(colon + 1, colon + 1 + len).toString('utf8');
			this.buf = this.buf.subarray(colon + 1 + len + 1);
			let msg;
			try { msg = JSON.parse(json); } catch { continue; }
			msg.at = Date.now();
			if (msg.response)
				this.responses.set(String(msg.token), msg);
			else if (msg.event)
				this.events.push(msg);
			this._kick();
		}
	}

	_kick() {
		for (const w of [...this.waiters])
			w();
	}

	_wait(check, ms, what) {
		return new Promise((resolve, reject) => {
			let timer;
			const w = () => {
				const v = check();
				if (v !== undefined) {
					this.waiters.delete(w);
					clearTimeout(timer);
					resolve(v);
				} else if (this.exit) {
					this.waiters.delete(w);
					clearTimeout(timer);
					reject(new Error(`baresip exited (${JSON.stringify(this.exit)}) while waiting for ${what}\n${this.out.slice(-3000)}`));
				}
			};
			timer = setTimeout(() => {
				this.waiters.delete(w);
				reject(new Error(`timed out after ${ms} ms waiting for baresip ${what}; events: ` +
					JSON.stringify(this.events.map((e) => e.type)) + `\n${this.out.slice(-3000)}`));
			}, ms);
			this.waiters.add(w);
			w();
		});
	}

	/* A menu command (dial, hangup, reginfo, quit ...); resolves to its response. */
	command(command, params = '', ms = 5000) {
		const token = String(++this.token);
		const j = JSON.stringify({ command, params, token });
		this.sock.write(`${Buffer.byteLength(j)}:${j},`);
		return this._wait(() => this.responses.get(token), ms, `response to ${command}`);
	}

	/* The first event (from index `from`) whose type is `type` and for which pick() holds. */
	waitEvent(type, { from = 0, ms = 8000, pick = () => true } = {}) {
		return this._wait(() => {
			for (let i = from; i < this.events.length; i++) {
				if (this.events[i].type === type && pick(this.events[i]))
					return this.events[i];
			}
			return undefined;
		}, ms, `event ${type}`);
	}

	async stop() {
		if (!this.proc)
			return;
		if (!this.exit && this.sock && !this.sock.destroyed) {
			try { await this.command('quit', '', 2000); } catch { /* exits anyway */ }
		}
		if (!this.exit && !await h.within(this.exited, 5000))
			this.proc.kill('SIGTERM');
		if (!this.exit && !await h.within(this.exited, 3000))
			this.proc.kill('SIGKILL');
		await h.within(this.exited, 3000);
		if (this.sock)
			this.sock.destroy();
		fs.rmSync(this.dir, { recursive: true, force: true });
	}
}

module.exports = { Baresip, unavailable };
