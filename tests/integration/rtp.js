'use strict';
/*
 * rtp.js - a test phone's media side: sends G.711 tones and RFC 4733 digits as
 * RTP from a UDP port on 127.0.0.1, records what arrives, and measures it by
 * content (tone frequency with the Goertzel algorithm, energy, RTP header
 * sanity). SIPp does the signalling and advertises this port in its SDP.
 */
const dgram = require('node:dgram');

const RATE = 8000;
const FRAME = 160;           /* 20 ms at 8 kHz */

/* ITU-T G.711 µ-law and A-law, written out so the tests check confab's tables. */
function ulawEncode(s) {
	const BIAS = 0x84, CLIP = 32635;
	let sign = (s >> 8) & 0x80;
	if (sign) s = -s;
	if (s > CLIP) s = CLIP;
	s += BIAS;
	let exp = 7;
	for (let mask = 0x4000; (s & mask) === 0 && exp > 0; mask >>= 1) exp--;
	const mant = (s >> (exp + 3)) & 0x0f;
	return (~(sign | (exp << 4) | mant)) & 0xff;
}

function ulawDecode(u) {
	u = ~u & 0xff;
	const sign = u & 0x80, exp = (u >> 4) & 7, mant = u & 0x0f;
	const s = (((mant << 3) + 0x84) << exp) - 0x84;
	return sign ? -s : s;
}

function alawEncode(s) {
	let sign = s >= 0 ? 0x80 : 0;
	if (!sign) s = -s - 1;
	if (s > 32767) s = 32767;
	let exp = 7;
	for (let mask = 0x4000; (s & mask) === 0 && exp > 0; mask >>= 1) exp--;
	const mant = exp ? (s >> (exp + 3)) & 0x0f : (s >> 4) & 0x0f;
	return ((sign | (exp << 4) | mant) ^ 0x55) & 0xff;
}

function alawDecode(a) {
	a ^= 0x55;
	const sign = a & 0x80, exp = (a >> 4) & 7, mant = a & 0x0f;
	let s = exp ? ((mant << 4) + 0x108) << (exp - 1) : (mant << 4) + 8;
	return sign ? s : -s;
}

/* Power of `freq` in `samples` at `rate` (Goertzel), normalised by length. */
function goertzel(samples, freq, rate = RATE) {
	const k = 2 * Math.cos(2 * Math.PI * freq / rate);
	let s1 = 0, s2 = 0;
	for (const x of samples) {
		const s0 = x + k * s1 - s2;
		s2 = s1;
		s1 = s0;
	}
	return (s1 * s1 + s2 * s2 - k * s1 * s2) / samples.length;
}

/* The strongest of `candidates` (Hz) and how it compares with the others. */
function dominant(samples, candidates) {
	const p = candidates.map((f) => ({ f, p: goertzel(samples, f) }))
		.sort((a, b) => b.p - a.p);
	return { freq: p[0].f, power: p[0].p, ratio: p[1] ? p[0].p / (p[1].p || 1) : Infinity };
}

function rms(samples) {
	if (!samples.length) return 0;
	let sum = 0;
	for (const x of samples) sum += x * x;
	return Math.sqrt(sum / samples.length);
}

/* 20 ms of a tone starting at sample n, G.711-encoded (pt 0 PCMU, 8 PCMA). */
function toneFrame(freq, n, { pt = 0, amplitude = 8000 } = {}) {
	const payload = Buffer.alloc(FRAME);
	for (let i = 0; i < FRAME; i++, n++) {
		const s = Math.round(amplitude * Math.sin(2 * Math.PI * freq * n / RATE));
		payload[i] = pt === 8 ? alawEncode(s) : ulawEncode(s);
	}
	return payload;
}

const DTMF_EVENTS = '0123456789*#ABCD';

class RtpPhone {
	constructor() {
		this.sock = dgram.createSocket('udp4');
		this.packets = [];         /* { pt, seq, ts, ssrc, marker, payload, at } */
		this.remote = null;
		this.seq = Math.floor(Math.random() * 60000);
		this.ts = Math.floor(Math.random() * 1e9);
		this.ssrc = Math.floor(Math.random() * 0xffffffff) >>> 0;
		this.sock.on('message', (msg) => this.onPacket(msg));
	}

	async open() {
		await new Promise((resolve) => this.sock.bind(0, '127.0.0.1', resolve));
		this.port = this.sock.address().port;
		return this.port;
	}

	close() {
		clearInterval(this.timer);
		try { this.sock.close(); } catch (e) { /* already closed */ }
	}

	onPacket(msg) {
		if (msg.length < 12 || (msg[0] >> 6) !== 2)
			return;
		const cc = msg[0] & 0x0f;
		let off = 12 + cc * 4;
		if (msg[0] & 0x10 && msg.length >= off + 4)
			off += 4 + msg.readUInt16BE(off + 2) * 4;
		let end = msg.length;
		if (msg[0] & 0x20)
			end -= msg[msg.length - 1];
		if (off > end)
			return;
		this.packets.push({
			pt: msg[1] & 0x7f, marker: !!(msg[1] & 0x80), seq: msg.readUInt16BE(2),
			ts: msg.readUInt32BE(4), ssrc: msg.readUInt32BE(8),
			payload: msg.subarray(off, end), at: Date.now(),
		});
	}

	packet(pt, marker, payload, ts) {
		const h = Buffer.alloc(12);
		h[0] = 0x80;
		h[1] = (marker ? 0x80 : 0) | pt;
		h.writeUInt16BE(this.seq, 2);
		this.seq = (this.seq + 1) & 0xffff;
		h.writeUInt32BE(ts >>> 0, 4);
		h.writeUInt32BE(this.ssrc, 8);
		return Buffer.concat([h, payload]);
	}

	send(buf) {
		if (this.remote)
			this.sock.send(buf, this.remote.port, this.remote.host);
	}

	/*
	 * Stream a continuous tone (freq Hz, 0 for silence) in 20 ms packets until
	 * stop(); pt 0 is PCMU, 8 is PCMA.
	 */
	startTone(freq, { pt = 0, amplitude = 8000, after } = {}) {
		let n = 0, first = true;
		this.stopTone();
		this.timer = setInterval(() => {
			this.send(this.packet(pt, first, toneFrame(freq, n, { pt, amplitude }), this.ts));
			n += FRAME;
			this.ts += FRAME;
			first = false;
			/* More to send right behind each packet (tests of what arrives interleaved). */
			if (after)
				after();
		}, 20);
	}

	/* The next 20 ms of a tone as one packet of this phone's stream (no timer). */
	sendToneFrame(freq, { pt = 0, amplitude = 8000 } = {}) {
		this.toneN = this.toneN || 0;
		this.send(this.packet(pt, false, toneFrame(freq, this.toneN, { pt, amplitude }), this.ts));
		this.toneN += FRAME;
		this.ts += FRAME;
	}

	stopTone() {
		clearInterval(this.timer);
		this.timer = null;
	}

	/* One RFC 4733 digit: events every 20 ms, then three end packets. */
	async sendDigit(digit, { pt = 101, ms = 100 } = {}) {
		const ev = DTMF_EVENTS.indexOf(String(digit).toUpperCase());
		if (ev < 0) throw new Error(`not a DTMF digit: ${digit}`);
		const ts = this.ts;
		const steps = Math.max(1, Math.round(ms / 20));
		for (let i = 1; i <= steps; i++) {
			const p = Buffer.from([ev, 10, 0, 0]);
			p.writeUInt16BE(i * FRAME, 2);
			this.send(this.packet(pt, i === 1, p, ts));
			await new Promise((r) => setTimeout(r, 20));
		}
		for (let i = 0; i < 3; i++) {
			const p = Buffer.from([ev, 0x80 | 10, 0, 0]);
			p.writeUInt16BE(steps * FRAME, 2);
			this.send(this.packet(pt, false, p, ts));
		}
		this.ts += steps * FRAME;
	}

	/* Decoded audio of packets with payload type pt received since `since`. */
	samples(pt = 0, since = 0) {
		const out = [];
		for (const p of this.packets) {
			if (p.pt !== pt || p.at < since) continue;
			for (const b of p.payload) out.push(pt === 8 ? alawDecode(b) : ulawDecode(b));
		}
		return out;
	}

	/* Digits received as RFC 4733 events (one per event, from its end packets). */
	digits(pt = 101) {
		const seen = new Set();
		let s = '';
		for (const p of this.packets) {
			if (p.pt !== pt || p.payload.length < 4 || !(p.payload[1] & 0x80)) continue;
			const key = `${p.ts}`;
			if (seen.has(key)) continue;
			seen.add(key);
			s += DTMF_EVENTS[p.payload[0]] || '?';
		}
		return s;
	}

	clear() {
		this.packets = [];
	}
}

module.exports = { RtpPhone, goertzel, dominant, rms, ulawEncode, ulawDecode, alawEncode,
	alawDecode, RATE, FRAME };
