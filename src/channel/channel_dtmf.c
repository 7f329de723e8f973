/*
 * channel_dtmf.c - the channel's DTMF type-ahead queue: digits received while
 * nothing listens, kept for the next reader (switch_channel_queue_dtmf).
 */
#include <string.h>
#include <re.h>
#include "channel/channel_int.h"
#include "core/log.h"

void channel_dtmf_queue(struct channel *ch, char digit)
{
	if (ch->dtmfq_n >= CHANNEL_DTMF_QUEUE) {
		if (!ch->dtmfq_full_logged)
			log_warn("%s: DTMF queue full (%u digits), dropping %c and what "
				 "follows until it is read\n", channel_name(ch),
				 CHANNEL_DTMF_QUEUE, digit);
		ch->dtmfq_full_logged = true;
		return;
	}
	ch->dtmfq[ch->dtmfq_n++] = digit;
	ch->dtmfq[ch->dtmfq_n] = '\0';
}

void channel_dtmf_take(struct channel *ch)
{
	if (ch)
		ch->dtmf_taken = true;
}

bool channel_dtmf_pop(struct channel *ch, char *digit)
{
	if (!ch || !ch->dtmfq_n)
		return false;
	*digit = ch->dtmfq[0];
	memmove(ch->dtmfq, ch->dtmfq + 1, ch->dtmfq_n--);
	if (!ch->dtmfq_n)
		ch->dtmfq_full_logged = false;
	return true;
}

size_t channel_dtmf_pending(const struct channel *ch)
{
	return ch ? ch->dtmfq_n : 0;
}

void channel_dtmf_flush(struct channel *ch)
{
	if (!ch)
		return;
	ch->dtmfq_n = 0;
	ch->dtmfq[0] = '\0';
	ch->dtmfq_full_logged = false;
}
