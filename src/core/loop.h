/*
 * loop.h - the signalling thread's event loop (libre's re_main) and the one way
 * other threads hand work to it.
 */
#ifndef CONFAB_LOOP_H
#define CONFAB_LOOP_H

#include <stdbool.h>

typedef void (loop_h)(void *arg);

/* Call once on the thread that will run re_main, after libre_init(). */
int  loop_init(void);
void loop_close(void);

/* True on the signalling thread. */
bool loop_is_main(void);

/*
 * Queue handler(arg) to run on the signalling thread. Safe from any thread; the
 * call is always deferred, even when made on the signalling thread, so the caller
 * never re-enters its own code. Returns ENOMEM if the queue cannot grow.
 */
int  loop_post(loop_h *handler, void *arg);

#endif
