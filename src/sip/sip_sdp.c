/*
 * sip_sdp.c - SDP offer/answer for one audio stream (RFC 3264): read a peer's
 * description, pick the codec and telephone-event payload, and write ours.
 * Only G.711 is spoken; other m= lines are answered with port 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "sip/sip_int.h"

const char *sipep_codec_name(enum media_codec c)
{
	return c == MEDIA_PCMA ? "PCMA" : "PCMU";
}

int sipep_codec_parse(const char *name, enum media_codec *c)
{
	if (!strcasecmp(name, "PCMU") || !strcasecmp(name, "G711U")) {
		*c = MEDIA_PCMU;
		return 0;
	}
	if (!strcasecmp(name, "PCMA") || !strcasecmp(name, "G711A")) {
		*c = MEDIA_PCMA;
		return 0;
	}
	return ENOENT;
}

/* RFC 3551 table 4: the static payload types a peer may leave without rtpmap. */
static void static_fmt(struct sipep_sdp_fmt *f)
{
	static const struct { uint8_t pt; const char *name; } tab[] = {
		{0, "PCMU"}, {3, "GSM"}, {4, "G723"}, {8, "PCMA"}, {9, "G722"},
		{13, "CN"}, {18, "G729"},
	};
	size_t i;

	f->rate = 8000;
	for (i = 0; i < sizeof(tab) / sizeof(*tab); i++)
		if (tab[i].pt == f->pt)
			snprintf(f->name, sizeof(f->name), "%s", tab[i].name);
}

static bool usable_proto(const char *proto)
{
	return !strcasecmp(proto, "RTP/AVP") || !strcasecmp(proto, "RTP/AVPF");
}

struct parse_state {
	struct sipep_sdp *sdp;
	char sess_addr[64];
	bool sess_hold;
	enum sipep_mdir sess_dir;
	bool in_audio;          /* attributes belong to the chosen audio stream */
	bool in_media;
	bool media_c;           /* the chosen stream has its own c= */
	char *why;
	size_t whysz;
};

/* The reason may end up in a status line: printable ASCII only. */
static int fail(struct parse_state *s, const char *fmt, const char *arg)
{
	size_t i;

	if (!s->why || !s->whysz)
		return EBADMSG;
	snprintf(s->why, s->whysz, fmt, arg);
	for (i = 0; s->why[i]; i++)
		if ((unsigned char)s->why[i] < 0x20 || (unsigned char)s->why[i] > 0x7e)
			s->why[i] = '?';
	return EBADMSG;
}

static int parse_c(struct parse_state *s, const char *v, char *addr, size_t asz, bool *hold)
{
	char nettype[8], atype[8], a[64];
	struct sa sa;
	char *slash;

	if (sscanf(v, "%7s %7s %63s", nettype, atype, a) != 3 || strcasecmp(nettype, "IN"))
		return fail(s, "bad c= line '%s'", v);
	slash = strchr(a, '/');     /* multicast TTL */
	if (slash)
		*slash = '\0';
	if (sa_set_str(&sa, a, 0))
		return fail(s, "c= address '%s' is not an IP address", a);
	snprintf(addr, asz, "%s", a);
	*hold = sa_af(&sa) == AF_INET && sa_in(&sa) == 0;
	return 0;
}

static int parse_m(struct parse_state *s, const char *v)
{
	struct sipep_sdp *sdp = s->sdp;
	char type[16], proto[24], rest[512] = "";
	unsigned port;
	int n = 0;
	size_t idx = sdp->nm;

	if (sscanf(v, "%15s %u%*[/0-9] %23s%n", type, &port, proto, &n) < 3 &&
	    sscanf(v, "%15s %u %23s%n", type, &port, proto, &n) < 3)
		return fail(s, "bad m= line '%s'", v);
	if (port > 65535)
		return fail(s, "bad port in m= line '%s'", v);
	snprintf(rest, sizeof(rest), "%s", v + n);
	s->in_media = true;
	s->in_audio = false;
	if (idx < SIPEP_SDP_MAXM) {
		char fmt[8] = "0";

		snprintf(sdp->mtype[idx], sizeof(sdp->mtype[idx]), "%s", type);
		snprintf(sdp->mproto[idx], sizeof(sdp->mproto[idx]), "%s", proto);
		sscanf(rest, " %7s", fmt);
		snprintf(sdp->mfmt[idx], sizeof(sdp->mfmt[idx]), "%s", fmt);
	}
	sdp->nm++;
	if (sdp->has_audio || strcasecmp(type, "audio") || !port || !usable_proto(proto))
		return 0;
	if (idx >= SIPEP_SDP_MAXM)
		return 0;
	sdp->has_audio = true;
	sdp->audio_idx = idx;
	sdp->port = (uint16_t)port;
	snprintf(sdp->proto, sizeof(sdp->proto), "%s", proto);
	s->in_audio = true;
	{
		char *save = NULL, *tok;

		for (tok = strtok_r(rest, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
			char *end;
			long pt = strtol(tok, &end, 10);
			struct sipep_sdp_fmt *f;

			if (*end || pt < 0 || pt > 127)
				return fail(s, "bad payload type '%s'", tok);
			if (sdp->nfmts >= SIPEP_SDP_MAXFMT)
				break;
			f = &sdp->fmts[sdp->nfmts++];
			memset(f, 0, sizeof(*f));
			f->pt = (uint8_t)pt;
			static_fmt(f);
		}
	}
	return 0;
}

static void parse_rtpmap(struct sipep_sdp *sdp, const char *v)
{
	unsigned pt, rate = 8000;
	char name[32];
	size_t i;

	if (sscanf(v, "%u %31[^/]/%u", &pt, name, &rate) < 2)
		return;
	for (i = 0; i < sdp->nfmts; i++) {
		if (sdp->fmts[i].pt == pt) {
			snprintf(sdp->fmts[i].name, sizeof(sdp->fmts[i].name), "%s", name);
			sdp->fmts[i].rate = rate;
		}
	}
}

static bool parse_dir(const char *v, enum sipep_mdir *d)
{
	if (!strcasecmp(v, "sendrecv"))
		*d = SIPEP_SENDRECV;
	else if (!strcasecmp(v, "sendonly"))
		*d = SIPEP_SENDONLY;
	else if (!strcasecmp(v, "recvonly"))
		*d = SIPEP_RECVONLY;
	else if (!strcasecmp(v, "inactive"))
		*d = SIPEP_INACTIVE;
	else
		return false;
	return true;
}

static int parse_a(struct parse_state *s, const char *v)
{
	struct sipep_sdp *sdp = s->sdp;
	enum sipep_mdir d;

	if (parse_dir(v, &d)) {
		if (!s->in_media)
			s->sess_dir = d;
		else if (s->in_audio)
			sdp->dir = d;
		return 0;
	}
	if (!s->in_audio)
		return 0;
	if (!strncasecmp(v, "rtpmap:", 7))
		parse_rtpmap(sdp, v + 7);
	else if (!strncasecmp(v, "ptime:", 6))
		sdp->ptime = (unsigned)strtoul(v + 6, NULL, 10);
	return 0;
}

static int parse_line(struct parse_state *s, const char *line)
{
	char type = line[0];
	const char *v = line + 2;

	if (!((type >= 'a' && type <= 'z') || (type >= 'A' && type <= 'Z')) || line[1] != '=')
		return fail(s, "malformed line '%.40s'", line);
	switch (type) {
	case 'v':
		if (strcmp(v, "0"))
			return fail(s, "unsupported version v=%s", v);
		return 0;
	case 'c':
		if (!s->in_media)
			return parse_c(s, v, s->sess_addr, sizeof(s->sess_addr), &s->sess_hold);
		if (!s->in_audio)
			return 0;
		s->media_c = true;
		return parse_c(s, v, s->sdp->addr, sizeof(s->sdp->addr), &s->sdp->hold_addr);
	case 'm':
		return parse_m(s, v);
	case 'a':
		return parse_a(s, v);
	default:
		return 0;
	}
}

int sipep_sdp_parse(struct sipep_sdp *sdp, const char *buf, size_t len, char *why,
		    size_t whysz)
{
	struct parse_state s = {.sdp = sdp, .sess_dir = SIPEP_SENDRECV, .why = why,
				.whysz = whysz};
	bool dir_set = false;
	size_t pos = 0;
	int err;

	memset(sdp, 0, sizeof(*sdp));
	sdp->dir = (enum sipep_mdir)-1;
	if (why && whysz)
		why[0] = '\0';
	if (!buf || !len)
		return fail(&s, "%s", "empty session description");
	while (pos < len) {
		char line[1024];
		size_t end = pos, l;

		while (end < len && buf[end] != '\n')
			end++;
		l = end - pos;
		if (l && buf[pos + l - 1] == '\r')
			l--;
		if (l >= sizeof(line))
			return fail(&s, "%s", "line too long");
		memcpy(line, buf + pos, l);
		line[l] = '\0';
		pos = end + 1;
		if (!l)
			continue;
		if (memchr(line, '\0', l))
			return fail(&s, "%s", "NUL in description");
		if (l < 2)
			return fail(&s, "malformed line '%s'", line);
		err = parse_line(&s, line);
		if (err)
			return err;
	}
	if (!sdp->nm)
		return fail(&s, "%s", "no m= line");
	dir_set = (int)sdp->dir != -1;
	if (!dir_set)
		sdp->dir = s.sess_dir;
	if (sdp->has_audio && !s.media_c) {
		if (!s.sess_addr[0])
			return fail(&s, "%s", "no c= line for the audio stream");
		snprintf(sdp->addr, sizeof(sdp->addr), "%s", s.sess_addr);
		sdp->hold_addr = s.sess_hold;
	}
	return 0;
}

static bool fmt_is(const struct sipep_sdp_fmt *f, const char *name)
{
	return !strcasecmp(f->name, name) && f->rate == 8000;
}

static void pick_te(const struct sipep_sdp *sdp, struct sipep_neg *neg)
{
	size_t i;

	neg->te_pt = 0;
	for (i = 0; i < sdp->nfmts; i++) {
		if (fmt_is(&sdp->fmts[i], "telephone-event") && sdp->fmts[i].pt) {
			neg->te_pt = sdp->fmts[i].pt;
			return;
		}
	}
}

static void fill_common(const struct sipep_sdp *sdp, struct sipep_neg *neg)
{
	pick_te(sdp, neg);
	neg->ptime = sdp->ptime ? sdp->ptime : 20;
	neg->remote_dir = sdp->dir;
	neg->hold = sdp->dir == SIPEP_SENDONLY || sdp->dir == SIPEP_INACTIVE || sdp->hold_addr;
}

int sipep_sdp_negotiate(const struct sipep_sdp *offer, const enum media_codec *prefs,
			size_t nprefs, bool greedy, struct sipep_neg *neg)
{
	size_t i, j;

	memset(neg, 0, sizeof(*neg));
	if (!offer->has_audio || !nprefs)
		return ENOENT;
	if (greedy) {
		/* Our order: the first of our codecs the peer offers. */
		for (j = 0; j < nprefs; j++)
			for (i = 0; i < offer->nfmts; i++)
				if (fmt_is(&offer->fmts[i], sipep_codec_name(prefs[j])))
					goto found;
		return ENOENT;
	}
	/* "generous" (FreeSWITCH's default): the peer's order. */
	for (i = 0; i < offer->nfmts; i++)
		for (j = 0; j < nprefs; j++)
			if (fmt_is(&offer->fmts[i], sipep_codec_name(prefs[j])))
				goto found;
	return ENOENT;
 found:
	neg->codec = prefs[j];
	neg->pt = offer->fmts[i].pt;
	fill_common(offer, neg);
	return 0;
}

int sipep_sdp_accept_answer(const struct sipep_sdp *ans, const enum media_codec *prefs,
			    size_t nprefs, struct sipep_neg *neg)
{
	/* The answerer lists what it will send first: take its order. */
	return sipep_sdp_negotiate(ans, prefs, nprefs, false, neg);
}

enum sipep_mdir sipep_sdp_answer_dir(enum sipep_mdir remote)
{
	switch (remote) {
	case SIPEP_SENDONLY: return SIPEP_RECVONLY;
	case SIPEP_RECVONLY: return SIPEP_SENDONLY;
	case SIPEP_INACTIVE: return SIPEP_INACTIVE;
	default:             return SIPEP_SENDRECV;
	}
}

static const char *dir_name(enum sipep_mdir d)
{
	switch (d) {
	case SIPEP_SENDONLY: return "sendonly";
	case SIPEP_RECVONLY: return "recvonly";
	case SIPEP_INACTIVE: return "inactive";
	default:             return "sendrecv";
	}
}

static int print_rejected(struct mbuf *mb, const struct sipep_sdp *m, size_t i)
{
	return mbuf_printf(mb, "m=%s 0 %s %s\r\n", m->mtype[i], m->mproto[i], m->mfmt[i]);
}

int sipep_sdp_build(struct mbuf **mbp, const struct sipep_sdp_local *l)
{
	const char *ipv = strchr(l->addr, ':') ? "IP6" : "IP4";
	const struct sipep_sdp *m = l->mirror;
	size_t i, nm = m ? (m->nm < SIPEP_SDP_MAXM ? m->nm : SIPEP_SDP_MAXM) : 1;
	size_t audio = m ? m->audio_idx : 0;
	struct mbuf *mb = mbuf_alloc(512);
	int err = 0;

	if (!mb)
		return ENOMEM;
	err |= mbuf_printf(mb, "v=0\r\no=confab %llu %llu IN %s %s\r\ns=confab\r\n"
			   "c=IN %s %s\r\nt=0 0\r\n", (unsigned long long)l->sess_id,
			   (unsigned long long)l->sess_ver, ipv, l->addr, ipv, l->addr);
	for (i = 0; i < nm; i++) {
		size_t c;

		if (i != audio) {
			err |= print_rejected(mb, m, i);
			continue;
		}
		err |= mbuf_printf(mb, "m=audio %u %s", l->port,
				   m && m->proto[0] ? m->proto : "RTP/AVP");
		for (c = 0; c < l->ncodecs; c++)
			err |= mbuf_printf(mb, " %u", m ? l->answer_pt : (unsigned)l->codecs[c]);
		if (l->te_pt)
			err |= mbuf_printf(mb, " %u", l->te_pt);
		err |= mbuf_printf(mb, "\r\n");
		for (c = 0; c < l->ncodecs; c++)
			err |= mbuf_printf(mb, "a=rtpmap:%u %s/8000\r\n",
					   m ? l->answer_pt : (unsigned)l->codecs[c],
					   sipep_codec_name(l->codecs[c]));
		if (l->te_pt)
			err |= mbuf_printf(mb, "a=rtpmap:%u telephone-event/8000\r\n"
					   "a=fmtp:%u 0-16\r\n", l->te_pt, l->te_pt);
		err |= mbuf_printf(mb, "a=ptime:%u\r\na=%s\r\n", l->ptime ? l->ptime : 20,
				   dir_name(l->dir));
	}
	if (err) {
		mem_deref(mb);
		return err;
	}
	mb->pos = 0;
	*mbp = mb;
	return 0;
}
