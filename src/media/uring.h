/*
 * uring.h - a minimal io_uring (no liburing) used by a media worker to batch
 * socket operations across many sockets: one system call sends or receives a
 * tick's packets for every stream. Operations are non-blocking (MSG_DONTWAIT)
 * and complete inside cfring_submit, so no request outlives the call.
 * One ring per worker thread; not thread-safe.
 */
#ifndef CONFAB_MEDIA_URING_H
#define CONFAB_MEDIA_URING_H

#include <stddef.h>
#include <stdint.h>
#include <linux/io_uring.h>

struct cfring {
	int fd;
	unsigned entries;
	unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
	unsigned *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	void *sq_map, *cq_map;
	size_t sq_len, cq_len, sqes_len;
	unsigned queued;              /* SQEs prepared, not yet submitted */
};

typedef void (cfring_cqe_h)(void *arg, uint64_t user_data, int32_t res);

/*
 * Set up a ring of `entries` SQEs on the calling thread and check that a
 * non-blocking receive on an empty socket completes at once with EAGAIN (the
 * behaviour everything here relies on). Returns 0 or an errno value
 * (ENOSYS/EPERM where io_uring is missing or forbidden).
 */
int  cfring_open(struct cfring *r, unsigned entries);
void cfring_close(struct cfring *r);

/* The next SQE, zeroed; NULL when `entries` are already queued. */
struct io_uring_sqe *cfring_sqe(struct cfring *r);

/* Submit what is queued, wait until all of it completed, run h for each. */
int  cfring_submit(struct cfring *r, cfring_cqe_h *h, void *arg);

static inline void cfring_prep_msg(struct io_uring_sqe *s, uint8_t op, int fd,
				   void *msg, uint64_t user_data)
{
	s->opcode = op;
	s->fd = fd;
	s->addr = (uint64_t)(uintptr_t)msg;
	s->len = 1;
	s->msg_flags = 0x40;          /* MSG_DONTWAIT: fail with EAGAIN, never wait */
	s->user_data = user_data;
}

#endif
