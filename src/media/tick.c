/*
 * tick.c - the media hot path, run by a worker on every 20 ms tick: read what
 * the streams' sockets hold, mix the rooms (mix.c), then give every sending
 * stream its partner's frame or its room's mix, transcoded, and send it. No allocation, no lock, no log.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include "media/g711.h"
#include "media/media_int.h"
#include "media/play_int.h"
#include "media/rtp.h"

/* Concealment: the last frame again at 3/4, 2/4, 1/4 of its level, then silence. */
#define PLC_FRAMES 3
/* A telephone-event with no packet for 240 ms and no end is over (ends were lost). */
#define TEV_IDLE_TICKS 12

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
			!memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
	return false;
}

static void rx_restart(struct mstream *st, uint32_t ssrc)
{
	st->rx_ssrc = ssrc;
	cfjb_reset(&st->jb, st->silence);
	memset(&st->tev_rx, 0, sizeof(st->tev_rx));
}

/*
 * Symmetric RTP: send where the packets come from. The first valid packet
 * latches its source. The latched source may change its SSRC (a new RTP
 * session) once the new one arrives RX_SSRC_SWITCH times in a row, so stray
 * packets mixed into the stream cannot reset it. Another address takes over
 * only after the latched one has been quiet for RX_RELATCH_QUIET ticks (the
 * phone moved, or its NAT mapping changed); while it is live, anything from
 * elsewhere is dropped as foreign (stray copies, injected audio).
 */
#define RX_SSRC_SWITCH   3
#define RX_RELATCH_QUIET 8           /* ticks: 160 ms */

static bool rx_source(struct worker *w, struct mstream *st, const struct sockaddr_storage *src,
		      socklen_t srclen, uint32_t ssrc)
{
	if (st->latched && same_addr(src, &st->remote)) {
		if (ssrc == st->rx_ssrc) {
			st->cand_n = 0;
			return true;
		}
		if (ssrc != st->cand_ssrc || !st->cand_n) {
			st->cand_ssrc = ssrc;
			st->cand_n = 0;
		}
		if (++st->cand_n < RX_SSRC_SWITCH) {
			stat_add(&st->stats.in_foreign, 1);
			return false;
		}
		st->cand_n = 0;
		rx_restart(st, ssrc);
		return true;
	}
	if (st->latched && (int32_t)(w->tick - st->last_rx_tick) < RX_RELATCH_QUIET) {
		stat_add(&st->stats.in_foreign, 1);
		return false;
	}
	memcpy(&st->remote, src, srclen);
	st->remote_len = srclen;
	st->latched = true;
	st->cand_n = 0;
	rx_restart(st, ssrc);
	media_up_post(st->id, MEDIA_UP_LATCHED, 0, 0);
	return true;
}

static void rx_event(struct worker *w, struct mstream *st, const struct cfrtp *r)
{
	struct cftev_digit d[2];
	struct rfc4733 ev;
	unsigned i, n;

	if (rfc4733_decode(&ev, r->payload, r->plen))
		return;
	n = cftev_rx_packet(&st->tev_rx, r->ts, &ev, w->tick, d);
	for (i = 0; i < n; i++)
		media_up_post(st->id, MEDIA_UP_DTMF, d[i].digit, d[i].duration_ms);
}

static void rx_packet(struct worker *w, struct mstream *st, const uint8_t *buf, size_t len,
		      const struct sockaddr_storage *src, socklen_t srclen)
{
	struct cfrtp r;
	bool audio;

	if (!st->have_prm || !st->prm.recv)
		goto skip;
	if (cfrtp_parse(&r, buf, len)) {
		stat_add(&st->stats.in_invalid, 1);
		goto skip;
	}
	audio = r.pt == st->prm.pt;
	if (!audio && (!st->prm.te_pt || r.pt != st->prm.te_pt)) {
		stat_add(&st->stats.in_wrong_pt, 1);
		goto skip;
	}
	if (!rx_source(w, st, src, srclen, r.ssrc))
		goto skip;
	st->last_rx_tick = w->tick;
	if (audio) {
		switch (cfjb_put(&st->jb, r.ts, r.payload, r.plen)) {
		case CFJB_LATE:
			stat_add(&st->stats.in_late, 1);
			goto skip;
		case CFJB_DUP:
			stat_add(&st->stats.in_dup, 1);
			goto skip;
		case CFJB_BAD:
			stat_add(&st->stats.in_invalid, 1);
			goto skip;
		case CFJB_GREW:
			stat_add(&st->stats.in_late, 1);
			break;
		default:
			break;
		}
	} else {
		rx_event(w, st, &r);
	}
	stat_add(&st->stats.in_packets, 1);
	stat_add(&st->stats.in_bytes, len);
	return;
 skip:
	stat_add(&st->stats.in_skipped, 1);
}

static void rx_datagram(struct worker *w, struct mstream *st, const struct msghdr *h,
			size_t len)
{
	if (h->msg_flags & MSG_TRUNC) {
		stat_add(&st->stats.in_invalid, 1);
		stat_add(&st->stats.in_skipped, 1);
		return;
	}
	rx_packet(w, st, h->msg_iov->iov_base, len, h->msg_name, h->msg_namelen);
}

/* Fallback: one recvmmsg per readable socket. */
static void rx_mmsg(struct worker *w, struct mstream *st)
{
	int n, i;

	for (i = 0; i < WORKER_RX_BATCH; i++)
		w->rx_msgs[i].msg_hdr.msg_namelen = sizeof(w->rx_addr[i]);
	n = recvmmsg(st->fd, w->rx_msgs, WORKER_RX_BATCH, MSG_DONTWAIT, NULL);
	for (i = 0; i < n; i++)
		rx_datagram(w, st, &w->rx_msgs[i].msg_hdr, w->rx_msgs[i].msg_len);
}

static void rx_ring_done(void *arg, uint64_t i, int32_t res)
{
	struct worker *w = arg;

	if (res >= 0)
		rx_datagram(w, w->io->rx_st[i], &w->io->rx_mh[i], (size_t)res);
}

/*
 * io_uring: one receive per readable socket, all in one system call. A socket
 * holding more (10 ms packets, a burst) stays readable and is listed again.
 */
static void rx_ring(struct worker *w, const struct epoll_event *ev, unsigned n)
{
	struct worker_io *io = w->io;
	unsigned i;

	for (i = 0; i < n; i++) {
		struct mstream *st = ev[i].data.ptr;
		struct io_uring_sqe *sqe = cfring_sqe(&w->ring);

		io->rx_st[i] = st;
		io->rx_iov[i].iov_base = io->rx_buf[i];
		io->rx_iov[i].iov_len = sizeof(io->rx_buf[i]);
		io->rx_mh[i] = (struct msghdr){.msg_name = &io->rx_addr[i],
			.msg_namelen = sizeof(io->rx_addr[i]), .msg_iov = &io->rx_iov[i],
			.msg_iovlen = 1};
		cfring_prep_msg(sqe, IORING_OP_RECVMSG, st->fd, &io->rx_mh[i], i);
	}
	cfring_submit(&w->ring, rx_ring_done, w);
}

/*
 * Packets are read once per tick, not as they arrive: playout happens on ticks
 * anyway, so nothing is played later, and a worker wakes 50 times a second
 * instead of once per packet. Level-triggered epoll lists the sockets holding
 * data; the budget stops a flooded socket from keeping the loop going.
 */
void media_tick_rx(struct worker *w)
{
	unsigned budget = 2 * w->n + WORKER_EV_BATCH;

	while (budget) {
		int n = epoll_wait(w->rxep, w->evs, WORKER_EV_BATCH, 0), i;

		if (n <= 0)
			break;
		if (w->io)
			for (i = 0; i < n; i += (int)w->ring.entries)
				rx_ring(w, w->evs + i, (unsigned)n - (unsigned)i < w->ring.entries ?
					(unsigned)n - (unsigned)i : w->ring.entries);
		else
			for (i = 0; i < n; i++)
				rx_mmsg(w, w->evs[i].data.ptr);
		budget = budget > (unsigned)n ? budget - (unsigned)n : 0;
	}
}

/* This tick's frame of p, decoded to linear, or concealed, or silence. */
void media_pull(struct worker *w, struct mstream *p)
{
	unsigned got = cfjb_get(&p->jb, w->scratch), i;

	p->frame_ready = true;
	if (got) {
		g711_decode(p->prm.codec == MEDIA_PCMA, w->scratch, p->frame, MEDIA_FRAME);
		memcpy(p->last, p->frame, sizeof(p->last));
		p->have_last = true;
		p->plc_n = 0;
		p->frame_silent = false;
		return;
	}
	if (p->have_last && p->plc_n < PLC_FRAMES) {
		int gain = PLC_FRAMES - (int)p->plc_n;     /* in quarters */

		for (i = 0; i < MEDIA_FRAME; i++)
			p->frame[i] = (int16_t)(p->last[i] * gain / (PLC_FRAMES + 1));
		p->plc_n++;
		p->frame_silent = false;
		return;
	}
	p->frame_silent = true;
}

static void tx_ring_done(void *arg, uint64_t i, int32_t res)
{
	struct worker *w = arg;
	struct mstream *st = w->io->tx_st[i];

	if (res > 0) {
		stat_add(&st->stats.out_packets, 1);
		stat_add(&st->stats.out_bytes, (uint64_t)res);
	}
}

/* io_uring: every stream's packets of this tick go out in a few system calls. */
static void tx_ring_flush(struct worker *w)
{
	if (!w->io->ntx)
		return;
	cfring_submit(&w->ring, tx_ring_done, w);
	w->io->ntx = 0;
}

/* Fallback: the packets of one stream, one sendmmsg. */
static void tx_mmsg_flush(struct worker *w, struct mstream *st)
{
	int sent = w->ntx ? sendmmsg(st->fd, w->tx_msgs, w->ntx, MSG_DONTWAIT) : 0;
	uint64_t bytes = 0;
	int i;

	for (i = 0; i < sent; i++)
		bytes += w->tx_msgs[i].msg_len;
	if (sent > 0) {
		stat_add(&st->stats.out_packets, (uint64_t)sent);
		stat_add(&st->stats.out_bytes, bytes);
	}
	w->ntx = 0;
}

/* Queue one packet; the payload must stay put until the flush (end of tick). */
static void tx_add(struct worker *w, struct mstream *st, bool marker, uint8_t pt,
		   uint32_t ts, const uint8_t *payload, size_t len)
{
	struct msghdr *h;
	struct iovec *iov;
	uint8_t *hdr;
	unsigned i;

	if (w->io) {
		if (w->io->ntx == w->ring.entries)
			tx_ring_flush(w);
		i = w->io->ntx++;
		w->io->tx_st[i] = st;
		h = &w->io->tx_mh[i];
		iov = w->io->tx_iov[i];
		hdr = w->io->tx_hdr[i];
		cfring_prep_msg(cfring_sqe(&w->ring), IORING_OP_SENDMSG, st->fd, h, i);
	} else {
		if (w->ntx == WORKER_TX_BATCH)
			return;
		i = w->ntx++;
		h = &w->tx_msgs[i].msg_hdr;
		iov = w->tx_iov[i];
		hdr = w->tx_hdr[i];
	}
	cfrtp_write(hdr, marker, pt, st->seq++, ts, st->ssrc);
	iov[0].iov_base = hdr;
	iov[0].iov_len = CFRTP_HDR;
	iov[1].iov_base = (void *)payload;
	iov[1].iov_len = len;
	*h = (struct msghdr){.msg_name = &st->remote, .msg_namelen = st->remote_len,
		.msg_iov = iov, .msg_iovlen = 2};
}

/* Encode the partner's frame into st's codec and send whole ptimes of it. */
static unsigned tx_audio(struct worker *w, struct mstream *st)
{
	struct mstream *p = st->partner;
	unsigned ps = st->prm.ptime_ms * 8, off = 0, n = 0;
	const uint8_t *enc = NULL;
	const int16_t *pcm;

	if (st->mm) {
		/* mix.c: the room's shared mix (encoded once per codec), or its own. */
		struct mmember *mm = st->mm;

		pcm = mm->hears == MIX_OWN ? mm->out8 :
			mm->hears == MIX_SHARED ? mm->room->mx->mix8 : NULL;
		if (mm->hears == MIX_SHARED && !st->player)
			enc = media_mix_encoded(mm->room, st->prm.codec);
	} else {
		if (p && !p->frame_ready)
			media_pull(w, p);
		pcm = p && !p->frame_silent ? p->frame : NULL;
	}
	/* play.c: a player's frame replaces (or is mixed over) the partner's. */
	if (st->player)
		pcm = media_player_frame(st, w->tick, pcm);
	if (!st->txlen)
		st->txts = st->ts;
	if (enc)
		memcpy(st->txbuf + st->txlen, enc, MEDIA_FRAME);
	else if (!pcm)
		memset(st->txbuf + st->txlen, st->silence, MEDIA_FRAME);
	else
		g711_encode(st->prm.codec == MEDIA_PCMA, pcm, st->txbuf + st->txlen,
			    MEDIA_FRAME);
	st->txlen += MEDIA_FRAME;
	while (st->txlen - off >= ps && n < WORKER_TX_BATCH) {
		tx_add(w, st, st->gap, st->prm.pt, st->txts + off, st->txbuf + off, ps);
		st->gap = false;
		off += ps;
		n++;
	}
	return n;
}

/* After the packets left: keep what is short of a whole ptime for next tick. */
static void tx_keep(struct mstream *st)
{
	unsigned ps = st->prm.ptime_ms * 8, off;

	if (!st->txlen || !ps)
		return;
	off = st->txlen / ps * ps;
	if (!off)
		return;
	memmove(st->txbuf, st->txbuf + off, st->txlen - off);
	st->txlen -= off;
	st->txts += off;
}

static void tx_stream(struct worker *w, struct mstream *st)
{
	unsigned n = 0;
	uint32_t ts;
	bool marker;

	if (!st->have_prm || !st->prm.send || !st->remote_len) {
		st->gap = true;
		st->txlen = 0;
		return;
	}
	if (st->prm.te_pt && cftev_tx_tick(&st->tev_tx, st->ts, st->tevbuf, &ts, &marker)) {
		/* An event replaces the audio of its ticks (RFC 4733 2.5.1.1). */
		tx_add(w, st, marker, st->prm.te_pt, ts, st->tevbuf, RFC4733_LEN);
		st->gap = true;
		st->txlen = 0;
		n = 1;
	} else if (st->partner || st->player || st->mm) {
		n = tx_audio(w, st);
	} else {
		st->gap = true;
		st->txlen = 0;
	}
	if (n && !w->io)
		tx_mmsg_flush(w, st);
}

/* record.c: the same frame into every recorder hooked on st. */
static void record_frame(struct worker *w, struct mstream *st)
{
	const int16_t *pcm;
	unsigned n, i;

	if (st->mx) {
		/* mix.c: a room records its whole mix at its own rate. */
		pcm = st->mx->mix;
		n = st->mx->flen;
	} else {
		if (!st->frame_ready)
			media_pull(w, st);
		pcm = st->frame;
		n = MEDIA_FRAME;
	}
	if (st->frame_silent)
		pcm = NULL;
	for (i = 0; i < MEDIA_REC_MAX; i++)
		if (st->recorder[i])
			mrec_put(st->recorder[i], pcm, n);
}

/* Per stream, after sending: keep unplayed buffers moving, timers, counters. */
static void housekeeping(struct worker *w, struct mstream *st)
{
	struct cftev_digit d;

	/* record.c: what the phone sends, a frame every tick; play.c: time moves on. */
	if (st->recorders)
		record_frame(w, st);
	if (st->player)
		media_player_idle(st, w->tick);
	if (!st->frame_ready && st->jb.started)
		cfjb_get(&st->jb, w->scratch);
	st->frame_ready = false;
	tx_keep(st);
	st->ts += MEDIA_FRAME;
	if (st->timeout_armed && w->timeout_ticks &&
	    (int32_t)(w->tick - st->last_rx_tick) >= (int32_t)w->timeout_ticks) {
		st->timeout_armed = false;
		media_up_post(st->id, MEDIA_UP_TIMEOUT, 0, 0);
	}
	if (st->tev_rx.active && cftev_rx_tick(&st->tev_rx, w->tick, TEV_IDLE_TICKS, &d))
		media_up_post(st->id, MEDIA_UP_DTMF, d.digit, d.duration_ms);
	atomic_store_explicit(&st->stats.concealed, st->jb.st.concealed, memory_order_relaxed);
	atomic_store_explicit(&st->stats.jb_depth, cfjb_depth(&st->jb), memory_order_relaxed);
}

void media_tick_tx(struct worker *w)
{
	unsigned i;

	/* mix.c: rooms first, so every member's mix is ready before anything is sent. */
	for (i = 0; i < w->n; i++)
		if (w->streams[i]->mx)
			media_mix_tick(w, w->streams[i]);
	for (i = 0; i < w->n; i++)
		tx_stream(w, w->streams[i]);
	if (w->io)
		tx_ring_flush(w);
	/* Only now, with every packet sent, may the send buffers move. */
	for (i = 0; i < w->n; i++)
		housekeeping(w, w->streams[i]);
	w->tick++;
}
