'use strict';
/*
 * More core checks against a real confabd: the hostname, help/show api and
 * "show channels as xml" API commands (docs/api.md), the API and LOG events and
 * log/data frames (docs/events.md, docs/event-socket.md), and daemon mode with a
 * pid file, a log file and -loglevel debug (docs/operations.md).
 */
const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const h = require('./harness');

const T = { timeout: 20000 };

/* The body of an api/response frame, after checking the frame type. */
async function api(c, command) {
	const f = await c.cmd(`api ${command}`);
	assert.equal(f.type, 'api/response', `api ${command}: ${JSON.stringify(f.raw.toString())}`);
	return f.body;
}

/*
 * A small strict XML well-formedness check (elements, attributes, text, entity
 * references); returns the root element as { name, attrs, children }.
 */
function parseXml(text) {
	let i = 0;
	const fail = (msg) => { throw new Error(`not well-formed XML at ${i}: ${msg}: ${JSON.stringify(text)}`); };
	const NAME = /[A-Za-z_:][-A-Za-z0-9_.:]*/y;
	const name = () => {
		NAME.lastIndex = i;
		const m = NAME.exec(text);
		if (!m)
			fail('expected a name');
		i += m[0].length;
		return m[0];
	};
	const ws = () => { while (i < text.length && /\s/.test(text[i])) i++; };
	const checkText = (s) => {
		if (s.includes('<'))
			fail('raw < in text');
		for (const m of s.matchAll(/&([^;]*);?/g)) {
			if (!/^(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+)$/.test(m[1]) || !m[0].endsWith(';'))
				fail(`bad entity ${m[0]}`);
		}
	};
	const element = () => {
		if (text[i] !== '<')
			fail('expected <');
		i++;
		const el = { name: name(), attrs: {}, children: [] };
		for (;;) {
			ws();
			if (text.startsWith('/>', i)) { i += 2; return el; }
			if (text[i] === '>') { i++; break; }
			const a = name();
			if (a in el.attrs)
				fail(`duplicate attribute ${a}`);
			ws();
			if (text[i] !== '=') fail('expected =');
			i++;
			ws();
			const q = text[i];
			if (q !== '"' && q !== "'") fail('expected a quote');
			const end = text.indexOf(q, i + 1);
			if (end < 0) fail('unterminated attribute');
			const v = text.slice(i + 1, end);
			checkText(v);
			el.attrs[a] = v;
			i = end + 1;
		}
		for (;;) {
			const lt = text.indexOf('<', i);
			if (lt < 0) fail(`unclosed <${el.name}>`);
			checkText(text.slice(i, lt));
			i = lt;
			if (text.startsWith('</', i)) {
				i += 2;
				const n = name();
				if (n !== el.name) fail(`</${n}> closes <${el.name}>`);
				ws();
				if (text[i] !== '>') fail('expected >');
				i++;
				return el;
			}
			el.children.push(element());
		}
	};
	if (text.startsWith('<?xml')) {
		const e = text.indexOf('?>');
		if (e < 0) fail('unterminated declaration');
		i = e + 2;
	}
	ws();
	const root = element();
	ws();
	if (i !== text.length)
		fail('content after the root element');
	return root;
}

/* Rows of a comma-separated command table: header, rows, '', '<N> total.'. */
function checkCommandTable(body, what) {
	assert.ok(body.endsWith('\n'), `${what} ends with a newline`);
	const lines = body.slice(0, -1).split('\n');
	assert.equal(lines[0], 'name,description,syntax,ikey', `${what} header`);
	const m = /^(\d+) total\.$/.exec(lines[lines.length - 1]);
	assert.ok(m, `${what} ends with "<N> total.": ${JSON.stringify(lines.slice(-3))}`);
	assert.equal(lines[lines.length - 2], '', `${what}: a blank line before the count`);
	/*
	 * One row per command; a syntax of several lines (conference's, as in
	 * FreeSWITCH) continues on lines that start with a tab.
	 */
	const rows = [];
	for (const l of lines.slice(1, -2)) {
		if (l.startsWith('\t')) {
			assert.ok(rows.length, `${what}: a continuation line before any row`);
			rows[rows.length - 1] += `\n${l}`;
		} else {
			rows.push(l);
		}
	}
	assert.equal(Number(m[1]), rows.length, `${what}: count = rows`);
	const names = rows.map((r) => r.split(',')[0]);
	assert.deepEqual(names, [...names].sort(), `${what}: alphabetical order`);
	assert.equal(new Set(names).size, names.length, `${what}: no duplicates`);
	for (const r of rows) {
		const cols = r.split(',');
		assert.ok(cols.length >= 4, `${what}: row has 4 columns: ${r}`);
		assert.equal(cols[cols.length - 1], 'confab', `${what}: ikey is confab: ${r}`);
	}
	return Object.fromEntries(rows.map((r) => [r.split(',')[0], r]));
}

describe('core API commands', () => {
	let srv;
	let c;

	before(async () => {
		srv = await h.startServer();
		c = await h.rawAuthed(srv);
	});
	after(async () => {
		if (c)
			c.destroy();
		if (srv)
			await srv.stop();
	});

	test('api hostname is os.hostname(), without a newline', T, async () => {
		assert.equal(await api(c, 'hostname'), os.hostname());
	});

	test('help and show api list status, conference and originate in the documented format', T,
		async () => {
			const help = await api(c, 'help');
			const show = await api(c, 'show api');
			assert.equal(help, show, 'help and show api print the same list');
			const rows = checkCommandTable(show, 'show api');
			assert.equal(rows.status, 'status,Show current status,,confab');
			assert.equal(rows.originate, 'originate,Originate a call,<call url> <exten>|' +
				'&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] ' +
				'[<cid_num>] [<timeout_sec>],confab');
			assert.equal(rows.hostname, 'hostname,Return the system hostname,,confab');
			assert.equal(rows.help, 'help,Show help for all the api commands,,confab');
			assert.ok(rows.conference, `conference is listed:\n${show}`);
			assert.match(rows.conference, /^conference,Conference module commands,[^]*,confab$/);
			for (const sub of ['list [delim <string>]|[count]', 'kick ', 'xml_list'])
				assert.ok(rows.conference.includes(sub), `conference syntax has ${sub}`);
		});

	test('show channels as xml: well-formed, <result row_count="0"/> with no calls', T,
		async () => {
			const body = await api(c, 'show channels as xml');
			const root = parseXml(body);
			assert.equal(root.name, 'result');
			assert.equal(root.attrs.row_count, '0');
			assert.equal(root.children.length, 0, 'no <row> elements');
			assert.equal(body, '<result row_count="0"/>\n', 'the documented bytes');
			assert.equal(await api(c, 'show channels count'), '\n0 total.\n');
		});
});

describe('API and LOG events', () => {
	let srv;

	before(async () => {
		srv = await h.startServer();
	});
	after(async () => {
		if (srv)
			await srv.stop();
	});

	/* The next event of that name (other frames and events are skipped). */
	async function nextEvent(c, name, match = () => true, timeoutMs = 5000) {
		const deadline = Date.now() + timeoutMs;
		const seen = [];
		for (;;) {
			let f;
			try {
				f = await c.readFrameOfType('text/event-plain', Math.max(1, deadline - Date.now()));
			} catch (e) {
				throw new Error(`no ${name} event; saw ${JSON.stringify(seen)}: ${e.message}`);
			}
			const ev = h.parsePlainEvent(f.body);
			seen.push(ev.map['Event-Name']);
			if (ev.map['Event-Name'] === name && match(ev))
				return ev;
		}
	}

	test('API event with API-Command and API-Command-Argument for another client\'s api', T,
		async () => {
			const sub = await h.rawAuthed(srv);
			const r = await sub.cmd('event plain API');
			assert.equal(r.headers['Reply-Text'], '+OK event listener enabled plain');
			const other = await h.rawAuthed(srv);
			assert.match(await api(other, 'status'), /UP /);
			const ev = await nextEvent(sub, 'API', (e) => e.map['API-Command'] === 'status');
			assert.equal(ev.map['API-Command'], 'status');
			assert.equal(ev.map['API-Command-Argument'], undefined,
				'no API-Command-Argument when there is none');

			await api(other, 'echo a&b c');
			const ev2 = await nextEvent(sub, 'API', (e) => e.map['API-Command'] === 'echo');
			assert.equal(ev2.map['API-Command-Argument'], 'a&b c');
			assert.ok(ev2.rawList.some(([n, v]) => n === 'API-Command-Argument' && v === 'a%26b%20c'),
				'the argument is URL-encoded in plain format');

			// Unknown commands fire nothing.
			await api(other, 'nosuchcommand x');
			await api(other, 'echo marker');
			const ev3 = await nextEvent(sub, 'API');
			assert.equal(ev3.map['API-Command'], 'echo');
			assert.equal(ev3.map['API-Command-Argument'], 'marker');
			sub.destroy();
			other.destroy();
		});

	test('LOG event for an INFO line (reloadxml) at the default level', T, async () => {
		const sub = await h.rawAuthed(srv);
		const r = await sub.cmd('event plain LOG API');
		assert.equal(r.headers['Reply-Text'], '+OK event listener enabled plain');
		const other = await h.rawAuthed(srv);
		const out = await api(other, 'reloadxml');
		assert.match(out, /^\+OK/);
		const ev = await nextEvent(sub, 'LOG', (e) => /Reloading XML/.test(e.body));
		assert.equal(ev.map['Log-Level'], '6');
		assert.equal(ev.map['Text-Channel'], '0');
		assert.ok(ev.map['Log-File'], 'Log-File');
		assert.ok(ev.map['Log-Func'], 'Log-Func');
		assert.match(ev.map['Log-Line'], /^\d+$/);
		assert.equal(ev.map['Content-Length'], String(Buffer.byteLength(ev.body)));
		assert.match(ev.body,
			/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} \d+\.\d\d% \[INFO\] [\w.]+:\d+ Reloading XML\n$/);
		assert.ok(ev.body.includes(`${ev.map['Log-File']}:${ev.map['Log-Line']} `),
			'the line names Log-File:Log-Line');
		sub.destroy();
		other.destroy();
	});

	test('log debug: log/data frames, DEBUG lines included, and nolog', T, async () => {
		const sub = await h.rawAuthed(srv);
		const r = await sub.cmd('log debug');
		assert.equal(r.headers['Reply-Text'], '+OK log level debug [7]');
		// A new connection and login log at DEBUG (docs/operations.md, Levels).
		const other = await h.rawAuthed(srv);
		const deadline = Date.now() + 5000;
		let f;
		for (;;) {
			f = await sub.readFrameOfType('log/data', Math.max(1, deadline - Date.now()));
			if (f.headers['Log-Level'] === '7')
				break;
		}
		assert.equal(f.headers['Text-Channel'], '0');
		assert.ok(f.headers['Log-File'] && f.headers['Log-Func'], 'Log-File and Log-Func');
		assert.match(f.headers['Log-Line'], /^\d+$/);
		assert.match(f.body, /\[DEBUG\] [\w.]+:\d+ .*\n$/);
		const nolog = await sub.cmd('nolog');
		assert.equal(nolog.headers['Reply-Text'], '+OK no longer logging');
		const again = await sub.cmd('nolog');
		assert.equal(again.headers['Reply-Text'], '-ERR not loging');
		other.destroy();
		sub.destroy();
	});
});

/* Polls until fn() is true or the time is up; returns the last value. */
async function until(fn, ms, step = 50) {
	const deadline = Date.now() + ms;
	for (;;) {
		const v = fn();
		if (v || Date.now() > deadline)
			return v;
		await h.sleep(step);
	}
}

function alive(pid) {
	try {
		process.kill(pid, 0);
	} catch (e) {
		return e.code === 'EPERM';
	}
	// A zombie still answers kill(0); treat it as gone.
	try {
		return !/^\d+ \(.*\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'latin1'));
	} catch {
		return false;
	}
}

function procSession(pid) {
	const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
	const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
	// state ppid pgrp session ...
	return Number(rest[3]);
}

describe('daemon mode (-nc -pid -log -loglevel debug)', () => {
	test('starts in the background, writes the pid file, logs DEBUG, SIGTERM stops it', T,
		async (t) => {
			const port = await h.freePort();
			const sipPorts = [await h.freeUdpPort(), await h.freeUdpPort()];
			const { dir, conf } = h.makeConfig(port, { sipPorts });
			const pidFile = path.join(dir, 'confab.pid');
			const logFile = path.join(dir, 'x.log');
			const asanBase = path.join(dir, 'asan');
			let daemonPid = null;
			t.after(() => {
				// Never leave our daemon behind, whatever failed.
				if (daemonPid && alive(daemonPid)) {
					try { process.kill(daemonPid, 'SIGKILL'); } catch { /* gone */ }
				}
			});

			const launcher = spawn(h.CONFABD, ['-nc', '-pid', pidFile, '-log', logFile,
				'-loglevel', 'debug', '-c', conf], {
				cwd: dir,
				stdio: ['ignore', 'pipe', 'pipe'],
				env: Object.assign({}, process.env, {
					// The daemon's stderr is /dev/null: sanitizer reports go to files.
					ASAN_OPTIONS: `${process.env.ASAN_OPTIONS || 'detect_leaks=1:abort_on_error=0'}` +
						`:log_path=${asanBase}`,
					UBSAN_OPTIONS: `log_path=${asanBase}`,
				}),
			});
			let out = '';
			launcher.stdout.on('data', (d) => { out += d; });
			launcher.stderr.on('data', (d) => { out += d; });
			const res = await h.withTimeout(new Promise((resolve, reject) => {
				launcher.on('error', reject);
				launcher.on('close', (code, signal) => resolve({ code, signal }));
			}), 15000, 'the confabd -nc launcher to exit');
			assert.deepEqual(res, { code: 0, signal: null },
				`the launcher exits 0 once confab is up:\n${out}`);

			// The pid file: the daemon's pid and a newline, written before the launcher exits.
			assert.ok(fs.existsSync(pidFile), 'pid file exists when the launcher has exited');
			const text = fs.readFileSync(pidFile, 'latin1');
			assert.match(text, /^\d+\n$/, `pid file is "<pid>\\n": ${JSON.stringify(text)}`);
			daemonPid = Number(text);
			assert.notEqual(daemonPid, launcher.pid, 'the daemon is a forked process');
			assert.ok(alive(daemonPid), 'the daemon keeps running after the launcher exited');

			// In the background: a new session, stdio on /dev/null.
			assert.notEqual(procSession(daemonPid), procSession(process.pid),
				'the daemon runs in a new session');
			for (const fd of [0, 1, 2]) {
				assert.equal(fs.readlinkSync(`/proc/${daemonPid}/fd/${fd}`), '/dev/null',
					`fd ${fd} is /dev/null`);
			}

			// It serves: an event-socket login works and the pid file is right.
			const srvLike = { track: (s) => s };
			const c = await h.RawClient.connect(port, srvLike);
			await c.auth();
			const stat = await c.cmd('api status');
			assert.match(stat.body, /^UP /);
			c.write('exit\n\n');
			await c.readUntilClose();
			await h.sleep(300);
			assert.ok(alive(daemonPid), 'still running after a client session');

			// -loglevel debug: DEBUG lines in the -log file (client connects/logins).
			const log = await until(() => {
				const l = fs.readFileSync(logFile, 'latin1');
				return /\[DEBUG\]/.test(l) ? l : null;
			}, 3000);
			assert.ok(log, `the log file has DEBUG lines:\n${fs.readFileSync(logFile, 'latin1')}`);
			assert.match(log, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} \d+\.\d\d% \[DEBUG\] [\w.]+:\d+ /m);
			assert.match(log, /\[NOTICE\] [\w.]+:\d+ confab \S+ .*ready \(Core-UUID [0-9a-f-]{36}\)/,
				'the ready line');

			// SIGTERM by that pid: orderly shutdown, the pid file is removed (operations.md).
			process.kill(daemonPid, 'SIGTERM');
			const gone = await until(() => !alive(daemonPid), 15000);
			assert.ok(gone, 'the daemon exits within 15 s of SIGTERM');
			const finalLog = fs.readFileSync(logFile, 'latin1');
			assert.match(finalLog, /\[NOTICE\] [\w.]+:\d+ signal 15 received, shutting down/);
			assert.equal(fs.existsSync(pidFile), false,
				'the pid file is removed at a normal stop');
			const reports = fs.readdirSync(dir).filter((f) => f.startsWith('asan'));
			const bodies = reports.map((f) => fs.readFileSync(path.join(dir, f), 'latin1'));
			const found = bodies.filter((b) => h.sanitizerReport(b).length);
			assert.deepEqual(found, [], 'no sanitizer report from the daemon');
			daemonPid = null;
			fs.rmSync(dir, { recursive: true, force: true });
		});
});
