/*
 * test_media.c - the media layer: G.711 tables, RTP parsing, the jitter
 * buffer, RFC 4733 events, the port pool, and end to end inside the process:
 * real workers and streams on 127.0.0.1, with plain UDP sockets as phones.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <re.h>
#include "check.h"
#include "core/loop.h"
#include "media/dtmf.h"
#include "media/g711.h"
#include "media/jbuf.h"
#include "media/media.h"
#include "media/media_int.h"
#include "media/rtp.h"

#define PORT_LO 41000
#define PORT_HI 41999

/* ---- G.711 ---------------------------------------------------------------- */

static void test_g711(void)
{
	unsigned i, bad_u = 0, bad_a = 0, slow = 0;
	int x;

	for (i = 0; i < 256; i++) {
		uint8_t u = g711_lin_to_ulaw(g711_ulaw_to_lin((uint8_t)i));
		uint8_t a = g711_lin_to_alaw(g711_alaw_to_lin((uint8_t)i));

		/* u-law has two zeros: 0x7f (-0) decodes to 0, which encodes as 0xff. */
		if (u != i && !(i == 0x7f && u == 0xff))
			bad_u++;
		if (a != i)
			bad_a++;
	}
	CHECK_INT(bad_u, 0);
	CHECK_INT(bad_a, 0);
	for (x = -32768; x <= 32767; x++)
		if (g711_lin_to_ulaw((int16_t)x) != g711_ulaw_encode_slow((int16_t)x) ||
		    g711_lin_to_alaw((int16_t)x) != g711_alaw_encode_slow((int16_t)x))
			slow++;
	CHECK_INT(slow, 0);

	/* Known values (G.711 tables 1a/2a, the Sun reference code). */
	CHECK_INT(g711_ulaw_to_lin(0xff), 0);
	CHECK_INT(g711_ulaw_to_lin(0x7f), 0);
	CHECK_INT(g711_ulaw_to_lin(0x00), -32124);
	CHECK_INT(g711_ulaw_to_lin(0x80), 32124);
	CHECK_INT(g711_ulaw_to_lin(0x7e), -8);
	CHECK_INT(g711_alaw_to_lin(0xd5), 8);
	CHECK_INT(g711_alaw_to_lin(0x55), -8);
	CHECK_INT(g711_alaw_to_lin(0xaa), 32256);
	CHECK_INT(g711_alaw_to_lin(0x2a), -32256);
	CHECK_INT(g711_lin_to_ulaw(0), G711_ULAW_SILENCE);
	CHECK_INT(g711_lin_to_alaw(0), G711_ALAW_SILENCE);
	CHECK_INT(g711_lin_to_ulaw(32767), 0x80);
	CHECK_INT(g711_lin_to_ulaw(-32768), 0x00);
	CHECK_INT(g711_lin_to_alaw(32767), 0xaa);
	CHECK_INT(g711_lin_to_alaw(-32768), 0x2a);
	/* Monotonic: a louder sample never encodes to a quieter code. */
	for (x = -32768, slow = 0; x < 32767; x++)
		if (g711_ulaw_to_lin(g711_lin_to_ulaw((int16_t)(x + 1))) <
		    g711_ulaw_to_lin(g711_lin_to_ulaw((int16_t)x)))
			slow++;
	CHECK_INT(slow, 0);
}

/* ---- RTP ------------------------------------------------------------------ */

static void test_rtp(void)
{
	uint8_t p[200] = {0};
	struct cfrtp r;
	size_t n;

	n = cfrtp_write(p, true, 8, 0xfffe, 0x12345678, 0xdeadbeef);
	CHECK_INT(n, 12);
	memset(p + 12, 0xd5, 160);
	CHECK_INT(cfrtp_parse(&r, p, 172), 0);
	CHECK(r.marker);
	CHECK_INT(r.pt, 8);
	CHECK_INT(r.seq, 0xfffe);
	CHECK_INT(r.ts, 0x12345678);
	CHECK_INT(r.ssrc, 0xdeadbeef);
	CHECK_INT(r.plen, 160);
	CHECK(r.payload == p + 12);

	/* Two CSRCs, a one-word extension, 4 bytes of padding. */
	p[0] = 0x80 | 0x20 | 0x10 | 2;
	p[20] = 0xbe; p[21] = 0xde; p[22] = 0; p[23] = 1;
	p[171] = 4;
	CHECK_INT(cfrtp_parse(&r, p, 172), 0);
	CHECK(r.payload == p + 12 + 8 + 8);
	CHECK_INT(r.plen, 172 - 28 - 4);

	/* Garbage is refused. */
	CHECK_INT(cfrtp_parse(&r, p, 11), EBADMSG);
	CHECK_INT(cfrtp_parse(&r, p, 0), EBADMSG);
	p[0] = 0x40;                                    /* version 1 */
	CHECK_INT(cfrtp_parse(&r, p, 172), EBADMSG);
	p[0] = 0x8f;                                    /* 15 CSRCs in 20 bytes */
	CHECK_INT(cfrtp_parse(&r, p, 20), EBADMSG);
	p[0] = 0x90;                                    /* extension header cut off */
	CHECK_INT(cfrtp_parse(&r, p, 14), EBADMSG);
	p[14] = 0xff; p[15] = 0xff;                     /* extension longer than packet */
	CHECK_INT(cfrtp_parse(&r, p, 100), EBADMSG);
	p[0] = 0xa0;                                    /* padding count 0 */
	p[99] = 0;
	CHECK_INT(cfrtp_parse(&r, p, 100), EBADMSG);
	p[99] = 89;                                     /* more padding than payload */
	CHECK_INT(cfrtp_parse(&r, p, 100), EBADMSG);
	p[99] = 88;                                     /* all payload is padding */
	CHECK_INT(cfrtp_parse(&r, p, 100), 0);
	CHECK_INT(r.plen, 0);
	p[0] = 0x80;
	CHECK_INT(cfrtp_parse(&r, p, 12), 0);           /* empty payload is RTP */
	CHECK_INT(r.plen, 0);
}

/* ---- jitter buffer ------------------------------------------------------- */

static uint8_t pkt[CFJB_MAX_PACKET + 1];

static enum cfjb_res put(struct cfjb *jb, uint32_t ts, uint8_t mark, size_t n)
{
	memset(pkt, mark, n);
	return cfjb_put(jb, ts, pkt, n);
}

/* Read one frame: its first byte (the packet's mark) or -1 if missing. */
static int get(struct cfjb *jb)
{
	uint8_t f[CFJB_FRAME];

	return cfjb_get(jb, f) ? f[0] : -1;
}

static void test_jbuf(void)
{
	static struct cfjb jb;
	const uint32_t T = 0xfffffe00u;    /* wraps the timestamp on the way */
	uint8_t f[CFJB_FRAME];
	unsigned i;

	/* In order, reordered, duplicated. */
	cfjb_reset(&jb, 0xff);
	CHECK_INT(get(&jb), -1);                          /* not started */
	CHECK_INT(put(&jb, T, 1, 160), CFJB_OK);
	CHECK_INT(put(&jb, T + 320, 3, 160), CFJB_OK);
	CHECK_INT(put(&jb, T + 160, 2, 160), CFJB_OK);
	CHECK_INT(put(&jb, T + 160, 2, 160), CFJB_DUP);
	CHECK_INT(jb.st.dup, 1);
	CHECK_INT(cfjb_depth(&jb), 640);
	CHECK_INT(get(&jb), -1);                          /* the 20 ms of slack */
	CHECK_INT(get(&jb), 1);
	CHECK_INT(get(&jb), 2);
	CHECK_INT(get(&jb), 3);

	/* Loss: a missing frame reads as missing, the next one plays. */
	CHECK_INT(put(&jb, T + 640, 5, 160), CFJB_OK);
	CHECK_INT(get(&jb), -1);                          /* T+480 never came */
	CHECK_INT(get(&jb), 5);

	/* Late: T+960 missed its turn; it is played late and the buffer grew. */
	CHECK_INT(put(&jb, T + 1120, 7, 160), CFJB_OK);
	CHECK_INT(get(&jb), -1);                          /* T+800 never came */
	CHECK_INT(get(&jb), -1);                          /* T+960 is not there yet */
	CHECK_INT(put(&jb, T + 960, 6, 160), CFJB_GREW);
	CHECK_INT(jb.st.late, 1);
	CHECK_INT(jb.st.grow, 1);
	CHECK_INT(get(&jb), 6);
	CHECK_INT(get(&jb), 7);

	/* Too late with the buffer already full: dropped. */
	cfjb_reset(&jb, 0xff);
	CHECK_INT(put(&jb, 1000, 1, 160), CFJB_OK);       /* play from 840 */
	CHECK_INT(put(&jb, 1000 + 1440, 2, 160), CFJB_OK);   /* 200 ms ahead */
	CHECK_INT(get(&jb), -1);
	CHECK_INT(get(&jb), 1);
	CHECK_INT(put(&jb, 840, 9, 160), CFJB_LATE);

	/* A jump of the sender's clock restarts the buffer. */
	CHECK_INT(put(&jb, 500000, 4, 160), CFJB_RESYNC);
	CHECK_INT(get(&jb), -1);
	CHECK_INT(get(&jb), 4);

	/* 10 ms packets fill a frame in two halves; half a frame reads as partial. */
	cfjb_reset(&jb, 0xff);
	CHECK_INT(put(&jb, 8000, 1, 80), CFJB_OK);
	CHECK_INT(put(&jb, 8080, 2, 80), CFJB_OK);
	CHECK_INT(put(&jb, 8160, 3, 80), CFJB_OK);
	CHECK_INT(get(&jb), -1);
	CHECK_INT(cfjb_get(&jb, f), 160);
	CHECK(f[0] == 1 && f[79] == 1 && f[80] == 2 && f[159] == 2);
	CHECK_INT(cfjb_get(&jb, f), 80);
	CHECK(f[0] == 3 && f[79] == 3 && f[80] == 0xff && f[159] == 0xff);
	CHECK_INT(put(&jb, 9000, 1, CFJB_MAX_PACKET + 1), CFJB_BAD);

	/* Packets that keep arriving 60 ms early: the buffer shrinks, slowly. */
	cfjb_reset(&jb, 0xff);
	memset(&jb.st, 0, sizeof(jb.st));
	put(&jb, 0, 0, 160);
	for (i = 1; i < 1000; i++) {
		cfjb_get(&jb, f);
		put(&jb, 160 * (i + 2), (uint8_t)i, 160);
	}
	CHECK_INT(jb.st.shrink, 2);       /* lead 480 -> 320 -> 160, then it stays */
	CHECK_INT(jb.st.late, 0);
	CHECK_INT(cfjb_depth(&jb), 480 - 320 + 160);
}

/* ---- RFC 4733 -------------------------------------------------------------- */

static void test_rfc4733(void)
{
	struct rfc4733 ev = {.event = 11, .end = true, .volume = 10, .duration = 800}, d;
	struct cftev_digit out[2];
	struct cftev_rx rx = {0};
	struct cftev_tx tx = {0};
	uint8_t p[4];
	uint32_t ts;
	bool marker;
	unsigned i, n, ends = 0, pkts = 0;

	rfc4733_encode(p, &ev);
	CHECK(p[0] == 11 && p[1] == 0x8a && p[2] == 0x03 && p[3] == 0x20);
	CHECK_INT(rfc4733_decode(&d, p, 4), 0);
	CHECK(d.event == 11 && d.end && d.volume == 10 && d.duration == 800);
	CHECK_INT(rfc4733_decode(&d, p, 3), EBADMSG);
	CHECK_INT(rfc4733_digit(0), '0');
	CHECK_INT(rfc4733_digit(10), '*');
	CHECK_INT(rfc4733_digit(11), '#');
	CHECK_INT(rfc4733_digit(15), 'D');
	CHECK_INT(rfc4733_digit(16), 0);
	CHECK_INT(rfc4733_event('#'), 11);
	CHECK_INT(rfc4733_event('b'), 13);
	CHECK_INT(rfc4733_event('x'), -1);

	/* Receive: updates, then the end three times: one digit. */
	for (i = 1, n = 0; i <= 3; i++) {
		d = (struct rfc4733){.event = 5, .duration = (uint16_t)(160 * i)};
		n += cftev_rx_packet(&rx, 4000, &d, i, out);
	}
	CHECK_INT(n, 0);
	d.end = true;
	for (i = 0; i < 3; i++)
		n += cftev_rx_packet(&rx, 4000, &d, 4 + i, out);
	CHECK_INT(n, 1);
	CHECK_INT(out[0].digit, '5');
	CHECK_INT(out[0].duration_ms, 60);
	CHECK(!cftev_rx_tick(&rx, 100, 12, &out[0]));

	/* Ends lost: the next event reports it, and silence reports the last. */
	d = (struct rfc4733){.event = 1, .duration = 320};
	CHECK_INT(cftev_rx_packet(&rx, 8000, &d, 200, out), 0);
	d = (struct rfc4733){.event = 2, .duration = 160};
	CHECK_INT(cftev_rx_packet(&rx, 9600, &d, 210, out), 1);
	CHECK(out[0].digit == '1' && out[0].duration_ms == 40);
	CHECK(!cftev_rx_tick(&rx, 215, 12, &out[0]));
	CHECK(cftev_rx_tick(&rx, 222, 12, &out[0]));
	CHECK(out[0].digit == '2' && out[0].duration_ms == 20);
	d = (struct rfc4733){.event = 16, .duration = 160};     /* flash: not DTMF */
	CHECK_INT(cftev_rx_packet(&rx, 20000, &d, 300, out), 0);

	/* Send: '5' for 100 ms then '#': 5 updates (3 with E) ... a gap ... */
	CHECK(cftev_tx_queue(&tx, '5', 100));
	CHECK(cftev_tx_queue(&tx, '#', 40));
	CHECK(!cftev_tx_queue(&tx, 'x', 40));
	for (i = 0; i < 7; i++) {
		CHECK(cftev_tx_tick(&tx, 1000 + 160 * i, p, &ts, &marker));
		rfc4733_decode(&d, p, 4);
		CHECK_INT(ts, 1000);
		CHECK_INT(marker, i == 0);
		CHECK_INT(d.event, 5);
		CHECK_INT(d.duration, i < 5 ? 160 * (i + 1) : 800);
		ends += d.end;
	}
	CHECK_INT(ends, 3);
	for (i = 7; i < 10; i++)
		CHECK(!cftev_tx_tick(&tx, 1000 + 160 * i, p, &ts, &marker));
	for (ends = 0; cftev_tx_tick(&tx, 1000 + 160 * i, p, &ts, &marker); i++, pkts++) {
		rfc4733_decode(&d, p, 4);
		CHECK_INT(ts, 1000 + 160 * 10);
		CHECK_INT(d.event, 11);
		ends += d.end;
	}
	CHECK_INT(pkts, 4);               /* 2 updates (the second ends it) + 2 ends */
	CHECK_INT(ends, 3);
	CHECK(!cftev_tx_busy(&tx));
}

/* ---- port pool ------------------------------------------------------------- */

static void test_ports(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(PORT_LO)};
	int blocker = socket(AF_INET, SOCK_DGRAM, 0), fd[3] = {-1, -1, -1};
	uint16_t port[3] = {0};

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	CHECK_INT(media_ports_init(PORT_LO, PORT_LO + 4), 0);   /* 41000, 41002 */
	/* Another process has 41000: skipped. */
	CHECK_INT(bind(blocker, (struct sockaddr *)&sin, sizeof(sin)), 0);
	CHECK_INT(media_port_open("127.0.0.1", &fd[0], &port[0]), 0);
	CHECK_INT(port[0], PORT_LO + 2);
	CHECK_INT(media_port_open("127.0.0.1", &fd[1], &port[1]), EADDRINUSE);
	close(blocker);
	CHECK_INT(media_port_open("127.0.0.1", &fd[1], &port[1]), 0);
	CHECK_INT(port[1], PORT_LO);
	CHECK_INT(media_port_open("127.0.0.1", &fd[2], &port[2]), EADDRINUSE);
	CHECK_INT(media_port_open("not an address", &fd[2], &port[2]), EINVAL);
	close(fd[0]);
	media_port_release(port[0]);
	CHECK_INT(media_port_open("127.0.0.1", &fd[2], &port[2]), 0);
	CHECK_INT(port[2], PORT_LO + 2);
	close(fd[1]);
	close(fd[2]);
	media_ports_close();
	CHECK_INT(media_ports_init(PORT_LO, PORT_LO), EINVAL);  /* no room for RTCP */
	media_ports_close();
}

/* ---- end to end -------------------------------------------------------------- */

#define LOG_MAX 400

struct rx_pkt {
	uint8_t pt;
	bool marker;
	uint16_t seq;
	uint32_t ts, ssrc;
	size_t plen;
	uint8_t payload[160];
};

/* A phone: a plain UDP socket that sends a tone (or silence) and logs what comes. */
struct phone {
	int fd;
	struct sa dest;
	bool send;
	bool tone;
	enum media_codec codec;
	uint16_t seq;
	uint32_t ts, ssrc, n;
	int dtmf_step;              /* >= 0: sending a telephone-event, this packet */
	uint32_t dtmf_ts;
	struct rx_pkt log[LOG_MAX];
	unsigned nlog;
};

struct stream_events {
	unsigned dtmf, timeout, latched;
	char digit;
	unsigned duration;
	uint64_t timeout_at;
};

static struct {
	struct phone ph[5];
	struct media_stream *a, *b, *c, *d;
	struct stream_events ev_a, ev_b, ev_c, ev_d;
	struct tmr tmr;
	unsigned t;
	uint64_t c_remote_at;
} E;

static void phone_rx(int flags, void *arg)
{
	struct phone *p = arg;
	uint8_t buf[1500];
	ssize_t n;

	(void)flags;
	while ((n = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		struct cfrtp r;
		struct rx_pkt *l;

		if (cfrtp_parse(&r, buf, (size_t)n) || p->nlog >= LOG_MAX)
			continue;
		l = &p->log[p->nlog++];
		l->pt = r.pt;
		l->marker = r.marker;
		l->seq = r.seq;
		l->ts = r.ts;
		l->ssrc = r.ssrc;
		l->plen = r.plen < 160 ? r.plen : 160;
		memcpy(l->payload, r.payload, l->plen);
	}
}

static void phone_open(struct phone *p, const struct media_stream *ms, enum media_codec codec)
{
	struct sa local;

	memset(p, 0, sizeof(*p));
	p->fd = socket(AF_INET, SOCK_DGRAM, 0);
	sa_set_str(&local, "127.0.0.1", 0);
	CHECK_INT(bind(p->fd, &local.u.sa, local.len), 0);
	sa_set_str(&p->dest, "127.0.0.1", media_stream_port(ms));
	p->codec = codec;
	p->seq = 1000;
	p->ts = 50000;
	p->ssrc = 0x1234 + (uint32_t)p->fd;
	p->dtmf_step = -1;
	fd_listen(p->fd, FD_READ, phone_rx, p);
}

static void phone_addr(const struct phone *p, struct sa *sa)
{
	sa->len = sizeof(sa->u.in);
	getsockname(p->fd, &sa->u.sa, &sa->len);
}

static void phone_send(struct phone *p, uint8_t pt, bool marker, uint32_t ts,
		       const uint8_t *payload, size_t n)
{
	uint8_t buf[200];

	cfrtp_write(buf, marker, pt, p->seq++, ts, p->ssrc);
	memcpy(buf + 12, payload, n);
	(void)sendto(p->fd, buf, 12 + n, 0, &p->dest.u.sa, p->dest.len);
}

/* Every 20 ms: 160 samples of 1000 Hz (or silence), or the next event packet. */
static void phone_tick(struct phone *p)
{
	uint8_t payload[160];
	int16_t lin[160];
	unsigned i;

	if (p->dtmf_step >= 0) {
		/* '#' for 60 ms: three updates, then the end three times. */
		struct rfc4733 ev = {.event = 11, .volume = 10};

		ev.duration = (uint16_t)(160 * (p->dtmf_step < 3 ? p->dtmf_step + 1 : 3));
		ev.end = p->dtmf_step >= 2;
		rfc4733_encode(payload, &ev);
		phone_send(p, 101, p->dtmf_step == 0, p->dtmf_ts, payload, 4);
		if (++p->dtmf_step == 5)
			p->dtmf_step = -1;
		p->ts += 160;
		return;
	}
	if (!p->send)
		return;
	for (i = 0; i < 160; i++)
		lin[i] = p->tone ? (int16_t)(8000 * sin(2 * M_PI * 1000 * (p->n + i) / 8000))
			: 0;
	p->n += 160;
	g711_encode(p->codec == MEDIA_PCMA, lin, payload, 160);
	phone_send(p, (uint8_t)p->codec, false, p->ts, payload, 160);
	p->ts += 160;
}

/* How much of the frame's energy is at 1000 Hz (Goertzel), and its RMS. */
static double tone_ratio(const int16_t *x, unsigned n, double *rms)
{
	double k = 2 * cos(2 * M_PI * 1000.0 / 8000.0), s1 = 0, s2 = 0, e = 0, power;
	unsigned i;

	for (i = 0; i < n; i++) {
		double s = x[i] + k * s1 - s2;

		s2 = s1;
		s1 = s;
		e += (double)x[i] * x[i];
	}
	power = s1 * s1 + s2 * s2 - k * s1 * s2;
	*rms = sqrt(e / n);
	return e > 0 ? power / (e * n / 2) : 0;
}

/*
 * The last `want` audio packets the phone received: payload type, sequence
 * and timestamp steps, one SSRC, and the 1000 Hz tone. Under load (CTest runs
 * suites in parallel) a few frames may be concealed: the tone at a lower level,
 * or silence once concealment ran out; anything else is garbage.
 */
static void check_tone(const struct phone *p, uint8_t pt, unsigned want)
{
	unsigned i, n = 0, first, tone_ok = 0, garbage = 0, steps_ok = 0;
	double rms = 0;

	for (i = p->nlog; i-- > 0 && n < want; n++)
		if (p->log[i].pt != pt)
			break;
	CHECK_INT(n, want);
	if (n != want)
		return;
	first = p->nlog - want;
	for (i = first; i < p->nlog; i++) {
		const struct rx_pkt *l = &p->log[i];
		int16_t lin[160];
		double r = 0;

		if (i > first && l->seq == (uint16_t)(l[-1].seq + 1) &&
		    l->ts == l[-1].ts + 160 && l->ssrc == l[-1].ssrc && !l->marker)
			steps_ok++;
		g711_decode(pt == MEDIA_PCMA, l->payload, lin, l->plen);
		/* The phone sends amplitude 8000 (RMS 5657); concealment 3/4, 2/4, 1/4. */
		if (l->plen == 160 && tone_ratio(lin, 160, &r) > 0.95 && r > 1000 && r < 6000)
			tone_ok++;
		else if (l->plen != 160 || r > 100)
			garbage++;
		rms = r;
	}
	CHECK_INT(steps_ok, want - 1);
	CHECK_INT(garbage, 0);
	CHECK(tone_ok >= want - 2);
	if (garbage || tone_ok < want - 2)
		fprintf(stderr, "  %u tone frames of %u, last frame rms %.0f\n", tone_ok, want, rms);
}

/* The telephone-event packets phone 2 got for B's '5' (100 ms). */
static void check_dtmf_out(const struct phone *p)
{
	unsigned i, n = 0, ends = 0, markers = 0, seq_ok = 0, start = 0;
	uint32_t ts = 0;
	uint16_t last_dur = 0;
	bool ts_ok = true, dur_ok = true;

	for (i = 0; i < p->nlog; i++) {
		const struct rx_pkt *l = &p->log[i];
		struct rfc4733 ev;

		if (i && l->seq == (uint16_t)(l[-1].seq + 1))
			seq_ok++;
		if (l->pt != 101)
			continue;
		if (!n++) {
			ts = l->ts;
			start = i;
		}
		if (rfc4733_decode(&ev, l->payload, l->plen) || ev.event != 5)
			continue;
		ts_ok &= l->ts == ts;
		dur_ok &= ev.duration >= last_dur;
		last_dur = ev.duration;
		markers += l->marker;
		ends += ev.end;
	}
	CHECK_INT(n, 7);
	CHECK_INT(ends, 3);
	CHECK_INT(markers, 1);
	CHECK(p->log[start].marker);
	CHECK(ts_ok);
	CHECK(dur_ok);
	CHECK_INT(last_dur, 800);
	CHECK_INT(seq_ok, p->nlog - 1);     /* one sequence across audio and events */
	/* Audio resumes after the event, with a later timestamp and the marker. */
	CHECK(start + n < p->nlog && p->log[start + n].pt == MEDIA_PCMA &&
	      p->log[start + n].marker && (int32_t)(p->log[start + n].ts - ts) >= 800);
}

static void on_event(struct media_stream *ms, enum media_ev ev, const struct media_ev_data *d,
		     void *arg)
{
	struct stream_events *se = arg;

	(void)ms;
	switch (ev) {
	case MEDIA_EV_DTMF:
		se->dtmf++;
		se->digit = d->digit;
		se->duration = d->duration_ms;
		break;
	case MEDIA_EV_TIMEOUT:
		se->timeout++;
		se->timeout_at = tmr_jiffies();
		break;
	case MEDIA_EV_LATCHED:
		se->latched++;
		break;
	case MEDIA_EV_PLAY_DONE:
		break;
	}
}

static void set_remote(struct media_stream *ms, const struct phone *p, enum media_codec c)
{
	struct media_params prm = {.codec = c, .pt = (uint8_t)c, .te_pt = 101,
		.ptime_ms = 20, .send = true, .recv = true};
	struct sa sa;

	phone_addr(p, &sa);
	CHECK_INT(media_stream_set_remote(ms, &sa, &prm), 0);
}

static void step(void *arg)
{
	struct phone *p1 = &E.ph[0], *p2 = &E.ph[1], *p4 = &E.ph[3];
	unsigned i;

	(void)arg;
	for (i = 0; i < 5; i++)
		phone_tick(&E.ph[i]);
	switch (++E.t) {
	case 30:    /* 600 ms: A -> B in PCMU, D echoes in PCMA, C timed out */
		check_tone(p2, MEDIA_PCMU, 10);
		check_tone(p4, MEDIA_PCMA, 10);
		CHECK_INT(E.ev_a.latched, 1);
		CHECK_INT(E.ev_b.latched, 1);
		CHECK_INT(E.ev_c.timeout, 1);
		CHECK(E.ev_c.timeout_at - E.c_remote_at >= 280);
		/* B's phone renegotiates to A-law: transcoding from A's u-law. */
		set_remote(E.b, p2, MEDIA_PCMA);
		p2->codec = MEDIA_PCMA;
		p2->nlog = 0;
		break;
	case 55:    /* 1.1 s */
		check_tone(p2, MEDIA_PCMA, 10);
		p2->nlog = 0;
		CHECK_INT(media_stream_send_dtmf(E.b, "5", 100), 0);
		CHECK_INT(media_stream_send_dtmf(E.b, "5x", 100), EINVAL);
		break;
	case 75:    /* 1.5 s */
		check_dtmf_out(p2);
		p1->dtmf_step = 0;
		p1->dtmf_ts = p1->ts;
		break;
	case 80: {  /* 1.6 s: symmetric RTP's rules on A */
		struct phone *p5 = &E.ph[4];
		uint8_t junk[160] = {0};

		uint32_t keep = p1->ssrc;

		/* A stray SSRC once from the latched source: dropped, no reset. */
		p1->ssrc = 0x5eed;
		phone_send(p1, 0, false, p1->ts, junk, 160);
		p1->ssrc = keep;
		p1->send = false;
		/* Another address with the latched SSRC: dropped as foreign. */
		p5->ssrc = p1->ssrc;
		phone_send(p5, 0, false, p1->ts, junk, 160);
		/* The right source, a payload type nobody negotiated; then not RTP. */
		phone_send(p1, 18, false, p1->ts, junk, 20);
		(void)sendto(p1->fd, "hello", 5, 0, &p1->dest.u.sa, p1->dest.len);
		break;
	}
	case 82:    /* a new SSRC from a new address: A follows once phone 1 is quiet */
		E.ph[4].ssrc = 0xabcdef;
		E.ph[4].send = E.ph[4].tone = true;
		break;
	case 84:    /* not while phone 1 may still be talking */
		CHECK_INT(E.ev_a.latched, 1);
		break;
	case 100: { /* 2 s */
		struct media_stats sa, sb;

		CHECK_INT(E.ev_a.dtmf, 1);
		CHECK_INT(E.ev_a.digit, '#');
		CHECK_INT(E.ev_a.duration, 60);
		CHECK_INT(E.ev_a.timeout + E.ev_b.timeout + E.ev_d.timeout, 0);
		CHECK_INT(E.ev_c.timeout, 1);
		CHECK_INT(E.ev_a.latched, 2);
		CHECK(E.ph[4].nlog >= 5);           /* A now sends to phone 5 */
		media_stream_stats(E.a, &sa);
		media_stream_stats(E.b, &sb);
		CHECK(sa.in_packets >= 80);
		CHECK(sb.out_packets >= 80);
		CHECK(sa.in_foreign >= 3);          /* the stray, the copy, phone 5 early */
		CHECK_INT(sa.in_wrong_pt, 1);
		CHECK_INT(sa.in_invalid, 1);
		CHECK_INT(sa.in_skipped, sa.in_foreign + 2);
		CHECK(sa.in_bytes > 80 * 172);
		/* A stream freed while its worker may still send: no event reaches it. */
		E.a = mem_deref(E.a);
		E.c = mem_deref(E.c);
		break;
	}
	case 105:
		E.b = mem_deref(E.b);
		E.d = mem_deref(E.d);
		re_cancel();
		return;
	}
	(void)p4;
	tmr_start(&E.tmr, 20, step, NULL);
}

static void test_end_to_end(const char *io)
{
	struct media_cfg cfg = {.rtp_start = PORT_LO, .rtp_end = PORT_HI, .workers = 2,
		.media_timeout_ms = 300};
	struct phone *p1 = &E.ph[0], *p2 = &E.ph[1], *p3 = &E.ph[2], *p4 = &E.ph[3];
	unsigned i;

	/* Both socket paths: io_uring batches (where the kernel allows) and *mmsg. */
	memset(&E, 0, sizeof(E));
	setenv("CONFAB_MEDIA_IO", io, 1);
	CHECK_INT(media_init(&cfg), 0);
	CHECK_INT(media_init(&cfg), EALREADY);
	CHECK_INT(media_stream_alloc(&E.a, "127.0.0.1", on_event, &E.ev_a), 0);
	CHECK_INT(media_stream_alloc(&E.b, "127.0.0.1", on_event, &E.ev_b), 0);
	CHECK_INT(media_stream_alloc(&E.c, "127.0.0.1", on_event, &E.ev_c), 0);
	CHECK_INT(media_stream_alloc(&E.d, "127.0.0.1", on_event, &E.ev_d), 0);
	if (!E.a || !E.b || !E.c || !E.d)
		return;
	CHECK(media_stream_port(E.a) % 2 == 0 && media_stream_port(E.a) >= PORT_LO);
	CHECK(media_stream_port(E.a) != media_stream_port(E.b));

	phone_open(p1, E.a, MEDIA_PCMU);
	phone_open(p2, E.b, MEDIA_PCMU);
	phone_open(p3, E.c, MEDIA_PCMU);
	phone_open(p4, E.d, MEDIA_PCMA);
	phone_open(&E.ph[4], E.a, MEDIA_PCMU);
	set_remote(E.a, p1, MEDIA_PCMU);
	set_remote(E.b, p2, MEDIA_PCMU);
	set_remote(E.c, p3, MEDIA_PCMU);
	set_remote(E.d, p4, MEDIA_PCMA);
	E.c_remote_at = tmr_jiffies();
	CHECK_INT(media_stream_params(E.d)->codec, MEDIA_PCMA);
	/* With two workers A and B start apart: linking moves one of them. */
	CHECK_INT(media_stream_link(E.a, E.b), 0);
	CHECK_INT(media_stream_link(E.d, E.d), 0);
	p1->send = p1->tone = true;
	p2->send = true;
	p4->send = p4->tone = true;
	(void)p3;

	tmr_init(&E.tmr);
	tmr_start(&E.tmr, 20, step, NULL);
	re_main(NULL);
	tmr_cancel(&E.tmr);
	CHECK_INT(E.t, 105);
	media_close();
	for (i = 0; i < 5; i++) {
		fd_close(E.ph[i].fd);
		close(E.ph[i].fd);
	}
}

/* Handles that outlive media_close are inert; media_close twice is harmless. */
static void test_close_order(void)
{
	struct media_cfg cfg = {.rtp_start = PORT_LO, .rtp_end = PORT_HI, .workers = 1};
	struct media_stream *ms = NULL, *ms2 = NULL;
	struct media_stats st;
	struct sa sa;
	struct media_params prm = {.codec = MEDIA_PCMU, .send = true, .recv = true};

	CHECK_INT(media_stream_alloc(&ms, "127.0.0.1", NULL, NULL), ENODEV);
	CHECK_INT(media_init(&cfg), 0);
	CHECK_INT(media_stream_alloc(&ms, "127.0.0.1", NULL, NULL), 0);
	CHECK_INT(media_stream_alloc(&ms2, "127.0.0.1", NULL, NULL), 0);
	CHECK_INT(media_stream_alloc(&ms2, "no.such.ip", NULL, NULL), EINVAL);
	sa_set_str(&sa, "127.0.0.1", 9);
	CHECK_INT(media_stream_set_remote(ms, &sa, &prm), 0);
	CHECK_INT(media_stream_link(ms, ms2), 0);
	prm.codec = 9;
	CHECK_INT(media_stream_set_remote(ms, &sa, &prm), ENOTSUP);
	media_close();
	media_close();
	media_stream_stats(ms, &st);
	CHECK_INT(st.in_packets, 0);
	CHECK_INT(media_stream_link(ms, ms2), ENODEV);
	mem_deref(ms);
	mem_deref(ms2);
}

int main(void)
{
	test_g711();
	test_rtp();
	test_jbuf();
	test_rfc4733();
	test_ports();
	CHECK_INT(libre_init(), 0);
	CHECK_INT(loop_init(), 0);
	test_end_to_end("auto");
	test_end_to_end("mmsg");
	unsetenv("CONFAB_MEDIA_IO");
	test_close_order();
	loop_close();
	libre_close();
	return check_done();
}
