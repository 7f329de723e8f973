'use strict';
/*
 * wav.js - the integration tests' WAV files: a tone written as 16-bit mono
 * PCM, and a reader that checks the header agrees with the file (recordings
 * must be valid at every moment).
 */
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

/* Samples of a 16-bit PCM WAV, checking the header agrees with the file. */
function readWav(file) {
	const b = fs.readFileSync(file);
	assert.equal(b.toString('latin1', 0, 4), 'RIFF');
	assert.equal(b.toString('latin1', 8, 12), 'WAVE');
	assert.equal(b.readUInt32LE(4), b.length - 8, 'RIFF size matches the file');
	let off = 12, fmt = null, data = null;
	while (off + 8 <= b.length) {
		const id = b.toString('latin1', off, off + 4), len = b.readUInt32LE(off + 4);
		if (id === 'fmt ')
			fmt = { format: b.readUInt16LE(off + 8), channels: b.readUInt16LE(off + 10),
				rate: b.readUInt32LE(off + 12), bits: b.readUInt16LE(off + 22) };
		if (id === 'data') {
			assert.ok(off + 8 + len <= b.length, 'data chunk inside the file');
			data = b.subarray(off + 8, off + 8 + len);
		}
		off += 8 + len + (len & 1);
	}
	assert.ok(fmt && data, 'fmt and data chunks');
	const samples = [];
	for (let i = 0; i + 1 < data.length; i += 2)
		samples.push(data.readInt16LE(i));
	return { fmt, samples };
}

/* A mono 16-bit WAV of `hz` (or the sum of several, each at `amplitude`) at `rate`. */
function writeWav(file, rate, hz, secs, amplitude = 12000) {
	const tones = [].concat(hz);
	const n = Math.round(rate * secs), b = Buffer.alloc(44 + 2 * n);
	b.write('RIFF', 0, 'latin1');
	b.writeUInt32LE(36 + 2 * n, 4);
	b.write('WAVEfmt ', 8, 'latin1');
	b.writeUInt32LE(16, 16);
	b.writeUInt16LE(1, 20);
	b.writeUInt16LE(1, 22);
	b.writeUInt32LE(rate, 24);
	b.writeUInt32LE(rate * 2, 28);
	b.writeUInt16LE(2, 32);
	b.writeUInt16LE(16, 34);
	b.write('data', 36, 'latin1');
	b.writeUInt32LE(2 * n, 40);
	for (let i = 0; i < n; i++)
		b.writeInt16LE(Math.round(tones.reduce((a, f) =>
			a + amplitude * Math.sin(2 * Math.PI * f * i / rate), 0)), 44 + 2 * i);
	fs.mkdirSync(path.dirname(file), { recursive: true });
	fs.writeFileSync(file, b);
}

module.exports = { readWav, writeWav };
