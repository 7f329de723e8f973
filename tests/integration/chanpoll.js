'use strict';
/*
 * Polling a test daemon's channels over an authenticated event-socket client,
 * and the audio a test phone received, shared by the SIP call tests.
 */
const h = require('./harness');
const { rms, ulawDecode } = require('./rtp');

/* The body of `api <cmd>`. */
async function api(c, cmd) {
	return (await c.cmd(`api ${cmd}`, { timeoutMs: 20000 })).body;
}

/* The inbound channel to `dest`, polled for up to ms. */
async function waitChannel(c, dest, ms = 8000) {
	const deadline = Date.now() + ms;
	while (Date.now() < deadline) {
		const j = JSON.parse(await api(c, 'show channels as json'));
		const row = (j.rows || []).find((r) => r.direction === 'inbound' && r.dest === dest);
		if (row)
			return row;
		await h.sleep(50);
	}
	throw new Error(`no channel for ${dest}`);
}

/* Polls uuid_getvar until it gives `want` (or anything, with want undefined). */
async function waitVar(c, uuid, name, want, ms = 15000) {
	const deadline = Date.now() + ms;
	let v;
	while (Date.now() < deadline) {
		v = (await api(c, `uuid_getvar ${uuid} ${name}`)).trim();
		if (want === undefined ? v && v !== '_undef_' : v === want)
			return v;
		await h.sleep(100);
	}
	return v;
}

/* 20 ms packets of the phone's received PCMU audio, each as its RMS and its samples. */
function frames(phone) {
	return phone.packets.filter((p) => p.pt === 0).map((p) => {
		const s = Array.from(p.payload, ulawDecode);
		return { at: p.at, rms: rms(s), s };
	});
}

module.exports = { api, waitChannel, waitVar, frames };
