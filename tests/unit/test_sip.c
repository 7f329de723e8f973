/*
 * test_sip.c - the SIP endpoint's pure parts: digest checks and nonces, SDP
 * offer/answer, the location table and its expiry, dial-string targets, DTMF
 * INFO bodies, sofia.conf and directory lookups.
 */
#include <errno.h>
#include <string.h>
#include <re.h>
#include "check.h"
#include "core/config.h"
#include "core/vars.h"
#include "sip/sip_int.h"

/* RFC 2617 section 3.5, the worked example. */
static void test_digest_rfc2617(void)
{
	static const char hdr[] =
		"Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
		"nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", "
		"qop=auth, nc=00000001, cnonce=\"0a4f113b\", "
		"response=\"6629fae49393a05397450978507c4ef1\", "
		"opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
	struct httpauth_digest_resp resp;
	uint8_t ha1[16];
	struct pl pl;

	pl_set_str(&pl, hdr);
	memset(&resp, 0, sizeof(resp));
	CHECK_INT(httpauth_digest_response_decode(&resp, &pl), 0);
	sipep_ha1(ha1, "Mufasa", "testrealm@host.com", "Circle Of Life");
	CHECK_INT(sipep_digest_verify(&resp, "GET", ha1), 0);
	CHECK_INT(sipep_digest_verify(&resp, "POST", ha1), EACCES);
	sipep_ha1(ha1, "Mufasa", "testrealm@host.com", "circle of life");
	CHECK_INT(sipep_digest_verify(&resp, "GET", ha1), EACCES);
}

/* Without qop (RFC 2069 style), as many SIP phones still answer. */
static void test_digest_no_qop(void)
{
	uint8_t ha1[16], ha2[16], r[16];
	char h1[33], h2[33], hr[33], hdr[512];
	struct httpauth_digest_resp resp;
	struct pl pl;

	sipep_ha1(ha1, "1000", "127.0.0.1", "1234");
	md5_printf(ha2, "REGISTER:sip:127.0.0.1");
	re_snprintf(h1, sizeof(h1), "%w", ha1, sizeof(ha1));
	re_snprintf(h2, sizeof(h2), "%w", ha2, sizeof(ha2));
	md5_printf(r, "%s:abc:%s", h1, h2);
	re_snprintf(hr, sizeof(hr), "%w", r, sizeof(r));
	snprintf(hdr, sizeof(hdr), "Digest username=\"1000\",realm=\"127.0.0.1\","
		 "nonce=\"abc\",uri=\"sip:127.0.0.1\",response=\"%s\",algorithm=MD5", hr);
	pl_set_str(&pl, hdr);
	memset(&resp, 0, sizeof(resp));
	CHECK_INT(httpauth_digest_response_decode(&resp, &pl), 0);
	CHECK_INT(sipep_digest_verify(&resp, "REGISTER", ha1), 0);
	CHECK_INT(sipep_digest_verify(&resp, "INVITE", ha1), EACCES);
	/* qop=auth without cnonce is malformed, not a wrong password. */
	pl_set_str(&resp.qop, "auth");
	CHECK_INT(sipep_digest_verify(&resp, "REGISTER", ha1), EINVAL);
}

static void test_nonce(void)
{
	char n[64], hdr[256];
	struct pl np, realm = PL("127.0.0.1"), other = PL("example.com");

	sipep_auth_set_secret("unit-test-secret");
	CHECK_INT(sipep_nonce_make(n, sizeof(n), "127.0.0.1", 1000000), 0);
	CHECK_INT(strlen(n), 32);
	pl_set_str(&np, n);
	CHECK_INT(sipep_nonce_check(&np, &realm, 1000000, 60), 0);
	CHECK_INT(sipep_nonce_check(&np, &realm, 1000060, 60), 0);
	CHECK_INT(sipep_nonce_check(&np, &realm, 1000061, 60), ETIMEDOUT);
	CHECK_INT(sipep_nonce_check(&np, &other, 1000000, 60), EINVAL);
	n[20] = n[20] == '0' ? '1' : '0';
	CHECK_INT(sipep_nonce_check(&np, &realm, 1000000, 60), EINVAL);
	pl_set_str(&np, "short");
	CHECK_INT(sipep_nonce_check(&np, &realm, 1000000, 60), EINVAL);
	/* A different secret (a restart) makes old nonces unknown. */
	CHECK_INT(sipep_nonce_make(n, sizeof(n), "127.0.0.1", 5), 0);
	sipep_auth_set_secret("another-secret");
	pl_set_str(&np, n);
	CHECK_INT(sipep_nonce_check(&np, &realm, 5, 60), EINVAL);

	CHECK_INT(sipep_challenge_print(hdr, sizeof(hdr), true, "127.0.0.1", 7, true), 0);
	CHECK(!strncmp(hdr, "Proxy-Authenticate: Digest realm=\"127.0.0.1\", nonce=\"", 53));
	CHECK(strstr(hdr, "algorithm=MD5, qop=\"auth\", stale=true\r\n") != NULL);
	CHECK_INT(sipep_challenge_print(hdr, sizeof(hdr), false, "r", 7, false), 0);
	CHECK(!strncmp(hdr, "WWW-Authenticate: ", 18));
	CHECK(strstr(hdr, "stale") == NULL);
}

static int parse(struct sipep_sdp *sdp, const char *s)
{
	char why[128];

	return sipep_sdp_parse(sdp, s, strlen(s), why, sizeof(why));
}

static void test_sdp_parse(void)
{
	struct sipep_sdp sdp;
	char why[128];

	CHECK_INT(parse(&sdp, "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\n"
			"t=0 0\r\nm=audio 4000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
			"a=fmtp:101 0-15\r\na=ptime:30\r\n"), 0);
	CHECK(sdp.has_audio);
	CHECK_STR(sdp.addr, "10.0.0.1");
	CHECK_INT(sdp.port, 4000);
	CHECK_INT(sdp.nfmts, 3);
	CHECK_STR(sdp.fmts[0].name, "PCMA");     /* static payload types need no rtpmap */
	CHECK_STR(sdp.fmts[1].name, "PCMU");
	CHECK_STR(sdp.fmts[2].name, "telephone-event");
	CHECK_INT(sdp.ptime, 30);
	CHECK_INT(sdp.dir, SIPEP_SENDRECV);
	CHECK(!sdp.hold_addr);

	/* Video first, media-level c=, session-level direction overridden. */
	CHECK_INT(parse(&sdp, "v=0\nc=IN IP4 1.1.1.1\na=sendonly\nm=video 5000 RTP/AVP 96\n"
			"m=audio 6000 RTP/AVP 0\nc=IN IP4 2.2.2.2\na=inactive\n"), 0);
	CHECK_STR(sdp.addr, "2.2.2.2");
	CHECK_INT(sdp.nm, 2);
	CHECK_INT(sdp.audio_idx, 1);
	CHECK_INT(sdp.dir, SIPEP_INACTIVE);
	CHECK_STR(sdp.mtype[0], "video");

	/* Old-style hold; session direction applies to the stream. */
	CHECK_INT(parse(&sdp, "v=0\r\nc=IN IP4 0.0.0.0\r\na=sendonly\r\nm=audio 6000 RTP/AVP 0\r\n"),
		  0);
	CHECK(sdp.hold_addr);
	CHECK_INT(sdp.dir, SIPEP_SENDONLY);

	/* Only secure RTP, or a disabled stream: parsed, but no usable audio. */
	CHECK_INT(parse(&sdp, "v=0\r\nc=IN IP4 1.1.1.1\r\nm=audio 6000 RTP/SAVP 0\r\n"), 0);
	CHECK(!sdp.has_audio);
	CHECK_INT(parse(&sdp, "v=0\r\nc=IN IP4 1.1.1.1\r\nm=audio 0 RTP/AVP 0\r\n"), 0);
	CHECK(!sdp.has_audio);

	CHECK_INT(sipep_sdp_parse(&sdp, "", 0, why, sizeof(why)), EBADMSG);
	CHECK_INT(parse(&sdp, "hello world\r\n"), EBADMSG);
	CHECK_INT(parse(&sdp, "v=0\r\nc=IN IP4 1.1.1.1\r\n"), EBADMSG);            /* no m= */
	CHECK_INT(parse(&sdp, "v=0\r\nm=audio 6000 RTP/AVP 0\r\n"), EBADMSG);      /* no c= */
	CHECK_INT(parse(&sdp, "v=0\r\nc=IN IP4 host.example\r\nm=audio 1 RTP/AVP 0\r\n"),
		  EBADMSG);
	CHECK_INT(parse(&sdp, "v=0\r\nc=IN IP4 1.1.1.1\r\nm=audio 99999 RTP/AVP 0\r\n"),
		  EBADMSG);
	CHECK_INT(parse(&sdp, "v=0\r\nc=IN IP4 1.1.1.1\r\nm=audio 1 RTP/AVP x\r\n"), EBADMSG);
	CHECK_INT(sipep_sdp_parse(&sdp, "v=1\r\n", 5, why, sizeof(why)), EBADMSG);
	CHECK_STR(why, "unsupported version v=1");
	CHECK_INT(parse(&sdp, "v=0\r\n\x01=x\r\n"), EBADMSG);
}

static void test_sdp_negotiate(void)
{
	const enum media_codec both[] = {MEDIA_PCMU, MEDIA_PCMA};
	const enum media_codec alaw[] = {MEDIA_PCMA};
	struct sipep_sdp sdp;
	struct sipep_neg neg;

	CHECK_INT(parse(&sdp, "v=0\r\nc=IN IP4 1.1.1.1\r\nm=audio 4000 RTP/AVP 18 8 0 96\r\n"
			"a=rtpmap:18 G729/8000\r\na=rtpmap:96 telephone-event/8000\r\n"
			"a=sendonly\r\n"), 0);
	/* generous: the offerer's order wins */
	CHECK_INT(sipep_sdp_negotiate(&sdp, both, 2, false, &neg), 0);
	CHECK_INT(neg.codec, MEDIA_PCMA);
	CHECK_INT(neg.pt, 8);
	CHECK_INT(neg.te_pt, 96);
	CHECK_INT(neg.ptime, 20);
	CHECK(neg.hold);
	/* greedy: ours */
	CHECK_INT(sipep_sdp_negotiate(&sdp, both, 2, true, &neg), 0);
	CHECK_INT(neg.codec, MEDIA_PCMU);
	CHECK_INT(neg.pt, 0);

	CHECK_INT(parse(&sdp, "v=0\r\nc=IN IP4 1.1.1.1\r\nm=audio 4000 RTP/AVP 0 18\r\n"), 0);
	CHECK_INT(sipep_sdp_negotiate(&sdp, alaw, 1, false, &neg), ENOENT);
	CHECK_INT(sipep_sdp_negotiate(&sdp, both, 2, false, &neg), 0);
	CHECK_INT(neg.te_pt, 0);
	CHECK(!neg.hold);

	/* A dynamic payload type for G.711 is legal and kept in the answer. */
	CHECK_INT(parse(&sdp, "v=0\r\nc=IN IP4 1.1.1.1\r\nm=audio 4000 RTP/AVP 112\r\n"
			"a=rtpmap:112 pcmu/8000\r\n"), 0);
	CHECK_INT(sipep_sdp_negotiate(&sdp, both, 2, false, &neg), 0);
	CHECK_INT(neg.pt, 112);
	/* ...but not at another clock rate. */
	CHECK_INT(parse(&sdp, "v=0\r\nc=IN IP4 1.1.1.1\r\nm=audio 4000 RTP/AVP 112\r\n"
			"a=rtpmap:112 PCMU/16000\r\n"), 0);
	CHECK_INT(sipep_sdp_negotiate(&sdp, both, 2, false, &neg), ENOENT);

	CHECK_INT(sipep_sdp_answer_dir(SIPEP_SENDONLY), SIPEP_RECVONLY);
	CHECK_INT(sipep_sdp_answer_dir(SIPEP_RECVONLY), SIPEP_SENDONLY);
	CHECK_INT(sipep_sdp_answer_dir(SIPEP_INACTIVE), SIPEP_INACTIVE);
	CHECK_INT(sipep_sdp_answer_dir(SIPEP_SENDRECV), SIPEP_SENDRECV);
}

static char *mb_str(struct mbuf *mb)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf), "%.*s", (int)mbuf_get_left(mb), (char *)mbuf_buf(mb));
	return buf;
}

static void test_sdp_build(void)
{
	const enum media_codec both[] = {MEDIA_PCMU, MEDIA_PCMA};
	enum media_codec chosen = MEDIA_PCMA;
	struct sipep_sdp offer, back;
	struct sipep_neg neg;
	struct mbuf *mb = NULL;
	struct sipep_sdp_local l = {
		.addr = "127.0.0.1", .port = 20000, .sess_id = 7, .sess_ver = 8,
		.codecs = both, .ncodecs = 2, .te_pt = 101, .ptime = 20,
		.dir = SIPEP_SENDRECV,
	};

	CHECK_INT(sipep_sdp_build(&mb, &l), 0);
	CHECK_STR(mb_str(mb), "v=0\r\no=confab 7 8 IN IP4 127.0.0.1\r\ns=confab\r\n"
		  "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 20000 RTP/AVP 0 8 101\r\n"
		  "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
		  "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"
		  "a=ptime:20\r\na=sendrecv\r\n");
	/* What we write, we read. */
	CHECK_INT(sipep_sdp_parse(&back, (char *)mbuf_buf(mb), mbuf_get_left(mb), NULL, 0), 0);
	CHECK_INT(back.nfmts, 3);
	CHECK_INT(back.port, 20000);
	mb = mem_deref(mb);

	/* An answer mirrors the offer's m= lines and rejects what it cannot do. */
	CHECK_INT(parse(&offer, "v=0\r\nc=IN IP4 1.1.1.1\r\nm=video 5000 RTP/AVP 96\r\n"
			"m=audio 4000 RTP/AVP 8 97\r\na=rtpmap:97 telephone-event/8000\r\n"
			"a=sendonly\r\n"), 0);
	CHECK_INT(sipep_sdp_negotiate(&offer, both, 2, false, &neg), 0);
	l.codecs = &chosen;
	l.ncodecs = 1;
	l.answer_pt = neg.pt;
	l.te_pt = neg.te_pt;
	l.dir = sipep_sdp_answer_dir(neg.remote_dir);
	l.mirror = &offer;
	CHECK_INT(sipep_sdp_build(&mb, &l), 0);
	CHECK_STR(mb_str(mb), "v=0\r\no=confab 7 8 IN IP4 127.0.0.1\r\ns=confab\r\n"
		  "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\n"
		  "m=audio 20000 RTP/AVP 8 97\r\na=rtpmap:8 PCMA/8000\r\n"
		  "a=rtpmap:97 telephone-event/8000\r\na=fmtp:97 0-16\r\n"
		  "a=ptime:20\r\na=recvonly\r\n");
	mem_deref(mb);
}

static unsigned expired_n;

static void on_expired(struct sipep_reg *reg, void *arg)
{
	(void)arg;
	CHECK_STR(reg->uri, "sip:1000@10.0.0.5:5060");
	expired_n++;
}

static void test_location(void)
{
	struct sipep_loc loc;
	struct sipep_reg *r = NULL, *v[4];
	struct sipep_reg_info in = {
		.user = "1000", .domain = "example.com", .realm = "example.com",
		.profile = "internal", .uri = "sip:1000@10.0.0.5:5060", .call_id = "a@b",
		.network_ip = "10.0.0.5", .network_port = 5060, .proto = "udp",
	};
	bool fresh = false;

	sipep_loc_init(&loc);
	CHECK_INT(sipep_loc_bind(&loc, &in, 60, 1000, &r, &fresh), 0);
	CHECK(fresh);
	CHECK_INT(r->expires, 1060);
	CHECK_STR(r->contact, "sip:1000@10.0.0.5:5060");   /* defaults to the URI */
	/* Refresh: same binding, new expiry and call-id. */
	in.call_id = "c@d";
	CHECK_INT(sipep_loc_bind(&loc, &in, 120, 1030, &r, &fresh), 0);
	CHECK(!fresh);
	CHECK_INT(r->expires, 1150);
	CHECK_STR(r->call_id, "c@d");
	/* A second device. */
	in.uri = "sip:1000@10.0.0.6:5062";
	CHECK_INT(sipep_loc_bind(&loc, &in, 30, 1030, &r, &fresh), 0);
	CHECK(fresh);
	CHECK_INT(sipep_loc_lookup(&loc, "1000", "EXAMPLE.com", 1040, v, 4), 2);
	CHECK_INT(sipep_loc_lookup(&loc, "1000", NULL, 1040, v, 4), 2);
	CHECK_INT(sipep_loc_lookup(&loc, "1000", "other.com", 1040, v, 4), 0);
	CHECK_INT(sipep_loc_lookup(&loc, "1001", "example.com", 1040, v, 4), 0);
	CHECK_INT(sipep_loc_lookup(&loc, "1000", "example.com", 1040, v, 1), 1);
	/* The second one expires first; lookups stop seeing it at once. */
	CHECK_INT(sipep_loc_lookup(&loc, "1000", "example.com", 1060, v, 4), 1);
	CHECK(sipep_loc_find(&loc, "1000", "example.com", "SIP:1000@10.0.0.6:5062") != NULL);
	expired_n = 0;
	in.uri = "sip:1000@10.0.0.6:5062";
	CHECK_INT(sipep_loc_expire(&loc, 1060, NULL, NULL), 1);
	CHECK(sipep_loc_find(&loc, "1000", "example.com", in.uri) == NULL);
	CHECK_INT(sipep_loc_expire(&loc, 1149, on_expired, NULL), 0);
	CHECK_INT(sipep_loc_expire(&loc, 1150, on_expired, NULL), 1);
	CHECK_INT(expired_n, 1);
	CHECK_INT(list_count(&loc.regs), 0);
	CHECK_INT(sipep_loc_bind(&loc, &in, 0, 1000, &r, &fresh), EINVAL);
	sipep_loc_flush(&loc);
}

static void test_targets(void)
{
	struct sipep_target t;
	char user[64], domain[64];

	CHECK_INT(sipep_target_parse("internal/1000@127.0.0.1:5070", &t), 0);
	CHECK_INT(t.kind, SIPEP_TARGET_PROFILE);
	CHECK_STR(t.profile, "internal");
	CHECK_STR(t.dest, "1000@127.0.0.1:5070");
	CHECK(!t.is_uri);
	CHECK_INT(sipep_target_parse("internal/sip:1000@host;transport=tcp", &t), 0);
	CHECK(t.is_uri);
	CHECK_STR(t.dest, "sip:1000@host;transport=tcp");
	CHECK_INT(sipep_target_parse("gateway/gw1/+15551234", &t), 0);
	CHECK_INT(t.kind, SIPEP_TARGET_GATEWAY);
	CHECK_STR(t.gateway, "gw1");
	CHECK_STR(t.dest, "+15551234");
	CHECK_INT(sipep_target_parse("internal/1000%example.com", &t), 0);
	CHECK(t.registered);
	CHECK_INT(sipep_target_parse("internal/1000", &t), EINVAL);   /* no host */
	CHECK_INT(sipep_target_parse("internal/", &t), EINVAL);
	CHECK_INT(sipep_target_parse("/1000@h", &t), EINVAL);
	CHECK_INT(sipep_target_parse("gateway/gw1", &t), EINVAL);
	CHECK_INT(sipep_target_parse("gateway//123", &t), EINVAL);
	CHECK_INT(sipep_target_parse("internal/a b@h", &t), EINVAL);
	CHECK_INT(sipep_target_parse("nothing", &t), EINVAL);

	CHECK_INT(sipep_user_target_parse("1000", user, sizeof(user), domain, sizeof(domain)),
		  0);
	CHECK_STR(user, "1000");
	CHECK_STR(domain, "");
	CHECK_INT(sipep_user_target_parse("1005@example.com", user, sizeof(user), domain,
					  sizeof(domain)), 0);
	CHECK_STR(user, "1005");
	CHECK_STR(domain, "example.com");
	CHECK_INT(sipep_user_target_parse("@x", user, sizeof(user), domain, sizeof(domain)),
		  EINVAL);
	CHECK_INT(sipep_user_target_parse("1000@", user, sizeof(user), domain, sizeof(domain)),
		  EINVAL);
	CHECK_INT(sipep_user_target_parse("", user, sizeof(user), domain, sizeof(domain)),
		  EINVAL);
}

static int dtmf(const char *type, const char *sub, const char *body, char *d, unsigned *ms)
{
	struct msg_ctype ct;

	pl_set_str(&ct.type, type);
	pl_set_str(&ct.subtype, sub);
	ct.params = pl_null;
	return sipep_dtmf_info_parse(&ct, body, strlen(body), d, ms);
}

static void test_dtmf_info(void)
{
	char d = 0;
	unsigned ms = 0;

	CHECK_INT(dtmf("application", "dtmf-relay", "Signal=5\r\nDuration=160\r\n", &d, &ms), 0);
	CHECK_INT(d, '5');
	CHECK_INT(ms, 160);
	CHECK_INT(dtmf("application", "dtmf-relay", "Signal= *\nDuration= 100\n", &d, &ms), 0);
	CHECK_INT(d, '*');
	CHECK_INT(ms, 100);
	CHECK_INT(dtmf("application", "dtmf-relay", "Signal=11\r\n", &d, &ms), 0);
	CHECK_INT(d, '#');
	CHECK_INT(ms, 250);                                  /* FreeSWITCH's default */
	CHECK_INT(dtmf("application", "dtmf-relay", "Signal=a\r\nDuration=0\r\n", &d, &ms), 0);
	CHECK_INT(d, 'A');
	CHECK_INT(ms, 250);
	CHECK_INT(dtmf("application", "DTMF-Relay", "Signal=16\r\n", &d, &ms), EINVAL);
	CHECK_INT(dtmf("application", "dtmf-relay", "Duration=160\r\n", &d, &ms), EINVAL);
	CHECK_INT(dtmf("application", "dtmf-relay", "Signal=\r\n", &d, &ms), EINVAL);
	CHECK_INT(dtmf("application", "dtmf", "#\r\n", &d, &ms), 0);
	CHECK_INT(d, '#');
	CHECK_INT(dtmf("application", "dtmf", "7", &d, &ms), 0);
	CHECK_INT(d, '7');
	CHECK_INT(dtmf("application", "dtmf", "xyz", &d, &ms), EINVAL);
	CHECK_INT(dtmf("text", "plain", "5", &d, &ms), ENOTSUP);
}

static void test_contact_expires(void)
{
	struct sip_addr a;
	struct pl v, hdr = PL("300"), none = PL_INIT;

	pl_set_str(&v, "<sip:1000@10.0.0.1>;expires=60");
	CHECK_INT(sip_addr_decode(&a, &v), 0);
	CHECK_INT(sipep_contact_expires(&a, &hdr, 3600), 60);
	pl_set_str(&v, "<sip:1000@10.0.0.1>;q=0.5");
	CHECK_INT(sip_addr_decode(&a, &v), 0);
	CHECK_INT(sipep_contact_expires(&a, &hdr, 3600), 300);
	CHECK_INT(sipep_contact_expires(&a, &none, 3600), 3600);
	pl_set_str(&v, "<sip:1000@10.0.0.1>;expires=0");
	CHECK_INT(sip_addr_decode(&a, &v), 0);
	CHECK_INT(sipep_contact_expires(&a, &hdr, 3600), 0);
	CHECK_STR(sipep_reason(486), "Busy Here");
	CHECK_STR(sipep_reason(488), "Not Acceptable Here");
}

static const char sofia_xml[] =
	"<document type=\"freeswitch/xml\"><section name=\"configuration\">"
	"<configuration name=\"sofia.conf\"><profiles>"
	"<profile name=\"internal\"><gateways>"
	"<gateway name=\"gw1\"><param name=\"username\" value=\"u\"/>"
	"<param name=\"password\" value=\"p\"/><param name=\"realm\" value=\"sip.example.com\"/>"
	"<param name=\"expire-seconds\" value=\"600\"/></gateway>"
	"<gateway name=\"gw2\"><param name=\"proxy\" value=\"10.0.0.9:5080\"/>"
	"<param name=\"register\" value=\"false\"/></gateway>"
	"</gateways><settings>"
	"<param name=\"sip-port\" value=\"5070\"/><param name=\"codec-prefs\" value=\"PCMA@20i,G729,PCMU\"/>"
	"<param name=\"auth-calls\" value=\"false\"/><param name=\"dtmf-type\" value=\"info\"/>"
	"<param name=\"some-unknown-param\" value=\"x\"/>"
	"</settings></profile>"
	"<profile name=\"external\"><settings><param name=\"sip-ip\" value=\"192.0.2.1\"/>"
	"<param name=\"sip-port\" value=\"5080\"/><param name=\"rtp-ip\" value=\"192.0.2.2\"/>"
	"</settings></profile>"
	"</profiles></configuration></section></document>";

static int load_sofia(const char *xml, struct list *profiles, char *err, size_t errsz)
{
	struct config *cfg = NULL;
	int rc = config_parse_buf(&cfg, xml, strlen(xml), "t.xml", err, errsz);

	if (!rc)
		rc = sipep_cfg_load(profiles, config_module(cfg, "sofia.conf"), err, errsz);
	mem_deref(cfg);
	return rc;
}

static void test_cfg(void)
{
	struct list profiles = LIST_INIT;
	struct sipep_profile *in, *ex;
	struct sipep_gateway *gw;
	char err[256] = "";
	char bad[1024];

	CHECK_INT(load_sofia(sofia_xml, &profiles, err, sizeof(err)), 0);
	CHECK_INT(list_count(&profiles), 2);
	in = list_ledata(list_head(&profiles));
	ex = list_ledata(list_tail(&profiles));
	CHECK_STR(in->cfg.name, "internal");
	CHECK_STR(in->cfg.sip_ip, "127.0.0.1");
	CHECK_STR(in->cfg.rtp_ip, "127.0.0.1");        /* rtp-ip defaults to sip-ip */
	CHECK_INT(in->cfg.sip_port, 5070);
	CHECK_INT(in->cfg.ncodecs, 2);
	CHECK_INT(in->cfg.codecs[0], MEDIA_PCMA);
	CHECK_INT(in->cfg.codecs[1], MEDIA_PCMU);
	CHECK(!in->cfg.auth_calls);
	CHECK_INT(in->cfg.dtmf, SIPEP_DTMF_INFO);
	CHECK_STR(in->cfg.context, "default");
	CHECK_STR(in->cfg.dialplan, "XML");
	CHECK_INT(list_count(&in->gateways), 2);
	gw = list_ledata(list_head(&in->gateways));
	CHECK_STR(gw->name, "gw1");
	CHECK_STR(gw->proxy, "sip.example.com");       /* proxy defaults to realm */
	CHECK_INT(gw->expires, 600);
	CHECK(gw->reg);
	gw = list_ledata(list_tail(&in->gateways));
	CHECK_STR(gw->realm, "10.0.0.9:5080");
	CHECK(!gw->reg);
	CHECK_STR(ex->cfg.rtp_ip, "192.0.2.2");
	CHECK(ex->cfg.auth_calls);

	/* Beyond loopback with the published default password: refused. */
	CHECK_INT(sipep_cfg_check_exposure(&profiles, "1234", err, sizeof(err)), EPERM);
	CHECK(strstr(err, "external") != NULL);
	CHECK_INT(sipep_cfg_check_exposure(&profiles, "s3cret-Pa55", err, sizeof(err)), 0);
	list_flush(&profiles);
	CHECK_INT(list_count(&profiles), 0);

	snprintf(bad, sizeof(bad), "<configuration name=\"sofia.conf\"><profiles>"
		 "<profile name=\"a\"><settings><param name=\"codec-prefs\" value=\"G729\"/>"
		 "</settings></profile></profiles></configuration>");
	CHECK_INT(load_sofia(bad, &profiles, err, sizeof(err)), EINVAL);
	list_flush(&profiles);
	snprintf(bad, sizeof(bad), "<configuration name=\"sofia.conf\"><profiles>"
		 "<profile name=\"a\"/><profile name=\"b\"/></profiles></configuration>");
	CHECK_INT(load_sofia(bad, &profiles, err, sizeof(err)), EADDRINUSE);
	list_flush(&profiles);
	snprintf(bad, sizeof(bad), "<configuration name=\"sofia.conf\"><profiles>"
		 "<profile name=\"a\"><settings><param name=\"sip-ip\" value=\"nohost\"/>"
		 "</settings></profile></profiles></configuration>");
	CHECK_INT(load_sofia(bad, &profiles, err, sizeof(err)), EINVAL);
	list_flush(&profiles);
	snprintf(bad, sizeof(bad), "<configuration name=\"sofia.conf\"><profiles>"
		 "<profile name=\"a\"><gateways><gateway name=\"g\"><param name=\"realm\" "
		 "value=\"x\"/></gateway></gateways></profile></profiles></configuration>");
	CHECK_INT(load_sofia(bad, &profiles, err, sizeof(err)), EINVAL);  /* no credentials */
	list_flush(&profiles);
}

static const char dir_xml[] =
	"<document type=\"freeswitch/xml\"><section name=\"directory\">"
	"<domain name=\"example.com\"><params><param name=\"dial-string\" value=\"ds\"/>"
	"<param name=\"dial-var-foo\" value=\"domain\"/></params>"
	"<variables><variable name=\"a\" value=\"domain\"/><variable name=\"b\" value=\"domain\"/>"
	"</variables><groups><group name=\"default\"><params><param name=\"x\" value=\"grp\"/>"
	"</params><users>"
	"<user id=\"1000\" number-alias=\"5000\"><params><param name=\"password\" value=\"pw\"/>"
	"<param name=\"x\" value=\"user\"/><param name=\"dial-var-foo\" value=\"user\"/></params>"
	"<variables><variable name=\"b\" value=\"user\"/></variables></user>"
	"<user id=\"1001\" type=\"pointer\"/>"
	"</users></group></groups>"
	"<users><user id=\"2000\"><params><param name=\"password\" value=\"p2\"/></params></user>"
	"</users></domain>"
	"<domain name=\"other.org\"/></section></document>";

struct seen { char names[8][16], values[8][16]; size_t n; };

static void seen_h(const char *name, const char *value, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8) {
		snprintf(s->names[s->n], 16, "%s", name);
		snprintf(s->values[s->n++], 16, "%s", value);
	}
}

static void test_directory(void)
{
	struct config *cfg = NULL;
	struct sipep_user u;
	struct seen s = {.n = 0};
	char err[256], buf[64];

	CHECK_INT(config_parse_buf(&cfg, dir_xml, strlen(dir_xml), "d.xml", err, sizeof(err)),
		  0);
	CHECK(sipep_dir_domain(cfg, "EXAMPLE.COM") != NULL);
	CHECK(sipep_dir_domain(cfg, "nope") == NULL);
	CHECK_INT(sipep_dir_user(cfg, "example.com", "1000", &u), 0);
	CHECK_STR(u.id, "1000");
	CHECK_STR(u.domain_name, "example.com");
	CHECK_STR(sipep_dir_param(&u, "password"), "pw");
	CHECK_STR(sipep_dir_param(&u, "x"), "user");         /* user beats group */
	CHECK_STR(sipep_dir_param(&u, "dial-string"), "ds");  /* from the domain */
	CHECK(sipep_dir_param(&u, "nope") == NULL);
	sipep_dir_vars(&u, seen_h, &s);
	CHECK_INT(s.n, 3);
	CHECK_STR(s.names[2], "b");
	CHECK_STR(s.values[2], "user");                      /* applied last, wins */
	s.n = 0;
	sipep_dir_dial_vars(&u, seen_h, &s);
	CHECK_INT(s.n, 2);
	CHECK_STR(s.names[1], "foo");
	CHECK_STR(s.values[1], "user");
	CHECK_INT(sipep_dir_user(cfg, "example.com", "5000", &u), 0);   /* number-alias */
	CHECK_STR(u.id, "1000");
	CHECK_INT(sipep_dir_user(cfg, "example.com", "2000", &u), 0);   /* domain <users> */
	CHECK(u.group == NULL);
	CHECK_INT(sipep_dir_user(cfg, "example.com", "1001", &u), ENOENT);  /* pointer */
	CHECK_INT(sipep_dir_user(cfg, "example.com", "9999", &u), ENOENT);
	CHECK_INT(sipep_dir_user(cfg, "other.org", "1000", &u), ENOENT);
	CHECK_INT(sipep_dir_user(cfg, "nope", "1000", &u), ENOENT);
	vars_global_set("domain", "");
	CHECK_STR(sipep_dir_default_domain(cfg, buf, sizeof(buf)), "example.com");
	vars_global_set("domain", "other.org");
	CHECK_STR(sipep_dir_default_domain(cfg, buf, sizeof(buf)), "other.org");
	mem_deref(cfg);
}

int main(void)
{
	libre_init();
	vars_init();
	test_digest_rfc2617();
	test_digest_no_qop();
	test_nonce();
	test_sdp_parse();
	test_sdp_negotiate();
	test_sdp_build();
	test_location();
	test_targets();
	test_dtmf_info();
	test_contact_expires();
	test_cfg();
	test_directory();
	vars_close();
	libre_close();
	return check_done();
}
