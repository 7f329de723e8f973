'use strict';
/*
 * confab-cli against FreeSWITCH's own bytes: a stand-in server replays what a
 * real FreeSWITCH 1.10.12 mod_event_socket sent in a recorded session (the
 * greeting, the auth reply, api/response frames, the disconnect notice), so
 * the console is checked against FreeSWITCH's wire format, not only confab's.
 */
const { test } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { execFile } = require('node:child_process');
const h = require('./harness');

const skip = h.cliAvailable() ? false : `confab-cli not built (CONFAB_CLI=${h.CONFAB_CLI || ''})`;

/* Recorded FreeSWITCH 1.10.12 replies, byte for byte. */
const STATUS = 'UP 0 years, 0 days, 0 hours, 1 minute, 23 seconds, 261 milliseconds, ' +
	'299 microseconds\n' +
	'FreeSWITCH (Version 1.10.12-release git a88d069 2024-08-02 21:02:27Z 64bit) is ready\n' +
	'0 session(s) since startup\n' +
	'0 session(s) - peak 0, last 5min 0 \n' +
	'0 session(s) per Sec out of max 30, peak 0, last 5min 0 \n' +
	'1000 session(s) max\n' +
	'min idle cpu 0.00/94.27\n' +
	'Current Stack Size/Max 240K/8192K\n';
const NOT_FOUND = '-ERR nosuchcommand Command not found!\n';
const BYE = 'Content-Type: command/reply\nReply-Text: +OK bye\n\n' +
	'Content-Type: text/disconnect-notice\nContent-Length: 67\n\n' +
	'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';

function apiResponse(body) {
	return `Content-Type: api/response\nContent-Length: ${Buffer.byteLength(body)}\n\n${body}`;
}

/* A stand-in FreeSWITCH: answers auth, `api status`, `api nosuchcommand`, exit. */
function fakeFreeSwitch(seen) {
	return net.createServer((sock) => {
		let buf = '';
		sock.write('Content-Type: auth/request\n\n');
		sock.on('data', (d) => {
			buf += d.toString('latin1');
			let i;
			while ((i = buf.indexOf('\n\n')) >= 0) {
				const cmd = buf.slice(0, i).split('\n')[0];
				buf = buf.slice(i + 2);
				seen.push(cmd);
				if (cmd === 'auth ClueCon')
					sock.write('Content-Type: command/reply\nReply-Text: +OK accepted\n\n');
				else if (cmd.startsWith('auth '))
					sock.write('Content-Type: command/reply\nReply-Text: -ERR invalid\n\n');
				else if (cmd === 'api status')
					sock.write(apiResponse(STATUS));
				else if (cmd.startsWith('api '))
					sock.write(apiResponse(NOT_FOUND));
				else if (cmd === 'exit')
					sock.end(BYE);
				else
					sock.write('Content-Type: command/reply\nReply-Text: -ERR command not found\n\n');
			}
		});
		sock.on('error', () => {});
	});
}

function cli(args) {
	return new Promise((resolve) => {
		execFile(h.CONFAB_CLI, args, { timeout: 15000, killSignal: 'SIGKILL' },
			(err, stdout, stderr) => {
				const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
				resolve({ code, stdout, stderr });
			});
	});
}

test('confab-cli -x against FreeSWITCH\'s recorded replies', { skip, timeout: 30000 },
	async (t) => {
		const seen = [];
		const srv = fakeFreeSwitch(seen);
		await new Promise((r) => srv.listen(0, h.HOST, r));
		t.after(() => srv.close());
		const base = ['-H', h.HOST, '-P', String(srv.address().port), '-p', 'ClueCon',
			'-t', '5000', '-q'];

		await t.test('status: FreeSWITCH\'s output, exit 0', async () => {
			const r = await cli([...base, '-x', 'status']);
			assert.equal(r.code, 0, r.stderr);
			assert.equal(r.stdout.trimEnd(), STATUS.trimEnd());
			assert.ok(seen.includes('auth ClueCon') && seen.includes('api status'), seen.join('|'));
		});

		await t.test('an unknown command: FreeSWITCH\'s -ERR, exit 1', async () => {
			const r = await cli([...base, '-x', 'nosuchcommand']);
			assert.equal(r.code, 1, r.stderr);
			assert.equal(r.stdout.trimEnd(), NOT_FOUND.trimEnd());
		});

		await t.test('a wrong password: a clear error, exit status not 0', async () => {
			const r = await cli(['-H', h.HOST, '-P', String(srv.address().port), '-p', 'wrong',
				'-t', '5000', '-q', '-x', 'status']);
			assert.notEqual(r.code, 0);
			assert.match(r.stderr, /auth|password|denied|invalid/i, r.stderr);
		});
	});
