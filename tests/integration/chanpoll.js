'use strict';
/*
 * Test-phone calls into a test daemon, polling its channels over an
 * authenticated event-socket client, and the audio the phone received.
 */
const assert = require('node:assert/strict');
const h = require('./harness');
const sipp = require('./sipp');
const { RtpPhone, rms, ulawDecode } = require('./rtp');

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

/*
 * Calls `dest` on `server` from a test phone (SIPp's uac_media.xml as user 1000,
 * PCMU); resolves once confab's media address is known. `c`: a client of it.
 */
async function phoneCall(server, c, dest) {
	const phone = new RtpPhone();
	const port = await phone.open();
	const uac = sipp.start({ scenario: 'uac_media.xml', target: `${h.HOST}:${server.sipPort}`,
		user: dest, port: await h.freeUdpPort(), auth: { user: '1000', password: '1234' },
		vars: { caller: '1000', rtp_port: port, pt: 0 }, timeoutS: 40 });
	const row = await waitChannel(c, dest);
	const lport = Number(await waitVar(c, row.uuid, 'local_media_port'));
	assert.ok(lport > 0, 'local_media_port');
	phone.remote = { host: h.HOST, port: lport };
	return { phone, uac, uuid: row.uuid };
}

module.exports = { api, waitChannel, waitVar, frames, phoneCall };
