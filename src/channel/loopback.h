/*
 * loopback.h - the loopback/<exten>[/<context>[/<dialplan>]] endpoint: a pair of
 * channels, the -a leg handed to the originator and the -b leg routed like an
 * inbound call to <exten>; each leg follows the other's answer and hangup.
 */
#ifndef CONFAB_LOOPBACK_H
#define CONFAB_LOOPBACK_H

#include "channel/channel.h"

channel_ep_call_h loopback_call;

#endif
