/*
 * sip_auth.c - digest authentication (RFC 2617 as used by RFC 3261 22.4):
 * stateless nonces that carry their own time and a MAC, and the check of a
 * client's response against HA1 = MD5(user:realm:password).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <re.h>
#include "sip/sip_int.h"

/* Changes on every start: nonces from a previous run are simply stale. */
static char secret[33];

void sipep_auth_init(void)
{
	rand_str(secret, sizeof(secret));
}

void sipep_auth_set_secret(const char *s)
{
	snprintf(secret, sizeof(secret), "%s", s);
}

static void nonce_mac(char out[25], const char *ts, size_t tslen, const struct pl *realm)
{
	uint8_t d[MD5_SIZE];

	md5_printf(d, "%s:%b:%r", secret, ts, tslen, realm);
	re_snprintf(out, 25, "%w", d, (size_t)12);
}

int sipep_nonce_make(char *buf, size_t sz, const char *realm, uint64_t now)
{
	char ts[9], mac[25];
	struct pl r;

	if (!buf || sz < 33 || !realm)
		return EINVAL;
	if (!secret[0])
		sipep_auth_init();
	snprintf(ts, sizeof(ts), "%08x", (unsigned)(now & 0xffffffffu));
	pl_set_str(&r, realm);
	nonce_mac(mac, ts, 8, &r);
	snprintf(buf, sz, "%s%s", ts, mac);
	return 0;
}

int sipep_nonce_check(const struct pl *nonce, const struct pl *realm, uint64_t now,
		      uint32_t ttl)
{
	char mac[25], ts[9];
	uint32_t t, n32 = (uint32_t)(now & 0xffffffffu);

	if (!nonce || !realm || nonce->l != 32 || !secret[0])
		return EINVAL;
	memcpy(ts, nonce->p, 8);
	ts[8] = '\0';
	nonce_mac(mac, ts, 8, realm);
	if (strncasecmp(mac, nonce->p + 8, 24))
		return EINVAL;
	{
		struct pl tpl = {nonce->p, 8};

		t = pl_x32(&tpl);
	}
	/* Unsigned difference: correct across the 32-bit wrap of the stamp. */
	if ((uint32_t)(n32 - t) > ttl)
		return ETIMEDOUT;
	return 0;
}

void sipep_ha1(uint8_t ha1[16], const char *user, const char *realm, const char *pw)
{
	md5_printf(ha1, "%s:%s:%s", user ? user : "", realm ? realm : "", pw ? pw : "");
}

int sipep_digest_verify(const struct httpauth_digest_resp *resp, const char *method,
			const uint8_t ha1[16])
{
	struct pl met;
	int err;

	if (!resp || !method || !ha1 || !pl_isset(&resp->response) ||
	    !pl_isset(&resp->uri) || !pl_isset(&resp->nonce))
		return EINVAL;
	/* qop=auth needs nc and cnonce; auth-int is not offered. */
	if (pl_isset(&resp->qop) &&
	    (pl_strcasecmp(&resp->qop, "auth") || !pl_isset(&resp->nc) ||
	     !pl_isset(&resp->cnonce)))
		return EINVAL;
	pl_set_str(&met, method);
	err = httpauth_digest_response_auth(resp, &met, ha1);
	if (err == ENOMEM || err == EINVAL)
		return err;
	return err ? EACCES : 0;
}

int sipep_challenge_print(char *buf, size_t sz, bool proxy, const char *realm,
			  uint64_t now, bool stale)
{
	char nonce[40];
	int n;

	if (sipep_nonce_make(nonce, sizeof(nonce), realm, now))
		return EINVAL;
	n = snprintf(buf, sz, "%s: Digest realm=\"%s\", nonce=\"%s\", algorithm=MD5, "
		     "qop=\"auth\"%s\r\n", proxy ? "Proxy-Authenticate" : "WWW-Authenticate",
		     realm, nonce, stale ? ", stale=true" : "");
	return n < 0 || (size_t)n >= sz ? ENOSPC : 0;
}
