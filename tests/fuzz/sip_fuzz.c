/*
 * sip_fuzz.c - fuzz target for SIP message decoding (libre's sip_msg_decode)
 * and the endpoint's parsers of request content: Contact and its expiry,
 * Authorization with the digest check and nonce, DTMF INFO bodies, SDP
 * bodies, and the Request-URI as a dial target.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <re.h>
#include "sip/sip_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool contact_h(const struct sip_hdr *hdr, const struct sip_msg *msg, void *arg)
{
	struct sip_addr a;

	if (!sip_addr_decode(&a, &hdr->val))
		*(uint32_t *)arg += sipep_contact_expires(&a, &msg->expires, 3600);
	return false;
}

static bool auth_h(const struct sip_hdr *hdr, const struct sip_msg *msg, void *arg)
{
	struct httpauth_digest_resp resp;
	uint8_t ha1[16];
	char met[32], user[64];

	(void)arg;
	memset(&resp, 0, sizeof(resp));
	if (httpauth_digest_response_decode(&resp, &hdr->val))
		return false;
	sipep_pl_str(&resp.username, user, sizeof(user));
	sipep_ha1(ha1, user, "realm", "1234");
	(void)sipep_digest_verify(&resp, sipep_pl_str(&msg->met, met, sizeof(met)), ha1);
	(void)sipep_nonce_check(&resp.nonce, &resp.realm, 1000, 60);
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_msg *msg = NULL;
	struct mbuf *mb = mbuf_alloc(size + 1);
	uint32_t sum = 0;

	if (!mb)
		return 0;
	sipep_auth_set_secret("fuzz");
	mbuf_write_mem(mb, data, size);
	mb->pos = 0;
	if (sip_msg_decode(&msg, mb)) {
		mem_deref(mb);
		return 0;
	}
	sip_msg_hdr_apply(msg, true, SIP_HDR_CONTACT, contact_h, &sum);
	sip_msg_hdr_apply(msg, true, SIP_HDR_AUTHORIZATION, auth_h, NULL);
	sip_msg_hdr_apply(msg, true, SIP_HDR_PROXY_AUTHORIZATION, auth_h, NULL);
	if (mbuf_get_left(msg->mb)) {
		const char *body = (const char *)mbuf_buf(msg->mb);
		size_t len = mbuf_get_left(msg->mb);
		struct sipep_sdp sdp;
		char digit, why[160];
		unsigned ms;

		(void)sipep_dtmf_info_parse(&msg->ctyp, body, len, &digit, &ms);
		(void)sipep_sdp_parse(&sdp, body, len, why, sizeof(why));
	}
	if (msg->req) {
		char ruri[600], user[128], domain[128];
		struct sipep_target t;

		sipep_pl_str(&msg->ruri, ruri, sizeof(ruri));
		(void)sipep_target_parse(ruri, &t);
		sipep_pl_str(&msg->uri.user, ruri, sizeof(ruri));
		(void)sipep_user_target_parse(ruri, user, sizeof(user), domain, sizeof(domain));
	}
	mem_deref(msg);
	mem_deref(mb);
	return (int)(sum & 0);
}
