'use strict';
/*
 * fakepg.js - a PostgreSQL server just big enough for Dbh tests: the v3
 * startup (SSL and GSS encryption refused, no authentication) and simple
 * queries, each statement answered from a small script of its own words:
 *
 *   rows            id and name of three rows, the last name NULL
 *   update          UPDATE 7
 *   copy            COPY FROM STDIN: the client must refuse it (CopyFail)
 *   sleep <ms> ...  waits, then answers the rest of the statement
 *   hang            never answers
 *   drop            sends the row description and one row, then closes
 *   anything else   a syntax error
 *
 * A database named "mute" accepts the connection and never answers it.
 * Events: 'query' (sql) when a query arrives, 'answer' (sql) just before the
 * answer to a whole query is written.
 */
const net = require('node:net');
const { EventEmitter } = require('node:events');

const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;
const TEXT_OID = 25;

function msg(type, body) {
	const head = Buffer.alloc(5);
	head.write(type, 0, 'latin1');
	head.writeInt32BE(body.length + 4, 1);
	return Buffer.concat([head, body]);
}

function cstr(s) {
	return Buffer.from(s + '\0', 'utf8');
}

function int16(n) {
	const b = Buffer.alloc(2);
	b.writeInt16BE(n);
	return b;
}

function int32(n) {
	const b = Buffer.alloc(4);
	b.writeInt32BE(n);
	return b;
}

const ready = () => msg('Z', Buffer.from('I'));
const complete = (tag) => msg('C', cstr(tag));

function error(text, code = '42601') {
	return msg('E', Buffer.concat([
		Buffer.from('S'), cstr('ERROR'), Buffer.from('V'), cstr('ERROR'),
		Buffer.from('C'), cstr(code), Buffer.from('M'), cstr(text), Buffer.from([0]),
	]));
}

function rowDescription(names) {
	return msg('T', Buffer.concat([int16(names.length), ...names.map((n) => Buffer.concat([
		cstr(n), int32(0), int16(0), int32(TEXT_OID), int16(-1), int32(-1), int16(0),
	]))]));
}

function dataRow(values) {
	return msg('D', Buffer.concat([int16(values.length), ...values.map((v) => {
		if (v === null)
			return int32(-1);
		const b = Buffer.from(v, 'utf8');
		return Buffer.concat([int32(b.length), b]);
	})]));
}

const ROWS = [['1', 'one'], ['2', 'two'], ['3', null]];

class FakePg extends EventEmitter {
	constructor() {
		super();
		this.sockets = new Set();
		this.server = net.createServer((sock) => this.accept(sock));
	}

	listen() {
		return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => {
			this.port = this.server.address().port;
			resolve(this.port);
		}));
	}

	/* Closes every connection (a server gone away) and stops listening. */
	close() {
		for (const s of this.sockets)
			s.destroy();
		return new Promise((resolve) => this.server.close(resolve));
	}

	dropAll() {
		for (const s of this.sockets)
			s.destroy();
	}

	accept(sock) {
		const st = { buf: Buffer.alloc(0), started: false, mute: false, busy: Promise.resolve() };

		this.sockets.add(sock);
		sock.on('close', () => this.sockets.delete(sock));
		sock.on('error', () => {});
		sock.on('data', (d) => {
			st.buf = Buffer.concat([st.buf, d]);
			this.consume(sock, st);
		});
	}

	consume(sock, st) {
		for (;;) {
			if (!st.started) {
				if (st.buf.length < 8)
					return;
				const len = st.buf.readInt32BE(0);
				if (st.buf.length < len)
					return;
				const code = st.buf.readInt32BE(4);
				const body = st.buf.subarray(8, len);
				st.buf = st.buf.subarray(len);
				if (code === SSL_REQUEST || code === GSS_REQUEST) {
					sock.write('N');
				} else if (code === PROTOCOL_3) {
					st.started = true;
					this.startup(sock, st, body);
				} else if (code === CANCEL_REQUEST) {
					sock.end();
					return;
				} else {
					sock.destroy();
					return;
				}
				continue;
			}
			if (st.buf.length < 5)
				return;
			const type = String.fromCharCode(st.buf[0]);
			const len = st.buf.readInt32BE(1);
			if (st.buf.length < len + 1)
				return;
			const body = st.buf.subarray(5, len + 1);
			st.buf = st.buf.subarray(len + 1);
			if (st.mute)
				continue;
			if (type === 'X') {
				sock.end();
				return;
			}
			if (type === 'Q') {
				const sql = body.subarray(0, body.length - 1).toString('utf8');
				this.emit('query', sql);
				st.busy = st.busy.then(() => this.query(sock, st, sql));
			} else if (type === 'f') {
				st.copyFail = body.subarray(0, body.indexOf(0)).toString('utf8');
				if (st.copyWait)
					st.copyWait();
			}
		}
	}

	startup(sock, st, body) {
		const parts = body.toString('utf8').split('\0');
		const params = {};
		for (let i = 0; i + 1 < parts.length; i += 2)
			params[parts[i]] = parts[i + 1];
		this.emit('startup', params);
		if (params.database === 'mute') {
			st.mute = true;
			return;
		}
		sock.write(Buffer.concat([
			msg('R', int32(0)),
			msg('S', Buffer.concat([cstr('server_version'), cstr('16.0')])),
			msg('S', Buffer.concat([cstr('client_encoding'), cstr('UTF8')])),
			msg('S', Buffer.concat([cstr('standard_conforming_strings'), cstr('on')])),
			msg('K', Buffer.concat([int32(4242), int32(1234)])),
			ready(),
		]));
	}

	/* Answers each statement in turn; an error skips the rest, as a server does. */
	async query(sock, st, sql) {
		const out = [];
		for (const stmt of sql.split(';').map((s) => s.trim()).filter((s) => s)) {
			const r = await this.statement(sock, st, stmt, out);
			if (r === 'gone')
				return;
			if (r === 'error')
				break;
		}
		this.emit('answer', sql);
		out.push(ready());
		if (!sock.destroyed)
			sock.write(Buffer.concat(out));
	}

	async statement(sock, st, stmt, out) {
		let words = stmt.split(/\s+/);
		if (words[0] === 'sleep') {
			await new Promise((r) => setTimeout(r, Number(words[1])));
			words = words.slice(2);
		}
		switch (words[0]) {
		case 'rows':
			out.push(rowDescription(['id', 'name']), ...ROWS.map(dataRow), complete('SELECT 3'));
			return 'ok';
		case 'update':
			out.push(complete('UPDATE 7'));
			return 'ok';
		case 'copy':
			return this.copy(sock, st, out);
		case 'hang':
			return 'gone';
		case 'drop':
			sock.write(Buffer.concat([...out, rowDescription(['id', 'name']), dataRow(ROWS[0])]));
			sock.destroy();
			return 'gone';
		default:
			out.push(error(`syntax error at or near "${words[0]}"`));
			return 'error';
		}
	}

	/* CopyInResponse, then the client's CopyFail is turned into the server's error. */
	async copy(sock, st, out) {
		sock.write(Buffer.concat([...out, msg('G', Buffer.concat([Buffer.from([0]), int16(0)]))]));
		out.length = 0;
		if (st.copyFail === undefined)
			await new Promise((r) => { st.copyWait = r; });
		out.push(error(`COPY from stdin failed: ${st.copyFail}`, '57014'));
		st.copyFail = undefined;
		st.copyWait = undefined;
		return 'error';
	}
}

module.exports = { FakePg };
