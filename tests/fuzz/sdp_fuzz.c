/*
 * sdp_fuzz.c - fuzz target for the SIP endpoint's SDP reader (sipep_sdp_parse)
 * and what runs on its result: codec negotiation and the answer we write.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <re.h>
#include "sip/sip_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum media_codec prefs[] = {MEDIA_PCMU, MEDIA_PCMA};
	struct sipep_sdp sdp;
	struct sipep_neg neg;
	struct mbuf *mb = NULL;
	enum media_codec chosen;
	char why[160];

	if (sipep_sdp_parse(&sdp, (const char *)data, size, why, sizeof(why))) {
		/* The reason goes into a status line: it must be printable. */
		for (size_t i = 0; why[i]; i++)
			if ((unsigned char)why[i] < 0x20 || (unsigned char)why[i] > 0x7e)
				__builtin_trap();
		return 0;
	}
	if (sipep_sdp_negotiate(&sdp, prefs, 2, size & 1, &neg))
		return 0;
	chosen = neg.codec;
	{
		struct sipep_sdp_local l = {
			.addr = "127.0.0.1", .port = 16384, .sess_id = 1, .sess_ver = 2,
			.codecs = &chosen, .ncodecs = 1, .answer_pt = neg.pt,
			.te_pt = neg.te_pt, .ptime = neg.ptime,
			.dir = sipep_sdp_answer_dir(neg.remote_dir), .mirror = &sdp,
		};
		struct sipep_sdp back;

		if (sipep_sdp_build(&mb, &l))
			return 0;
		/* Our own answer always reads back. */
		if (sipep_sdp_parse(&back, (const char *)mbuf_buf(mb), mbuf_get_left(mb), NULL,
				    0) || !back.has_audio)
			__builtin_trap();
	}
	mem_deref(mb);
	return 0;
}
