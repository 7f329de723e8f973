/*
 * uring.c - io_uring set-up, submission and completion by the raw system
 * calls (io_uring_setup(2), io_uring_enter(2)) and the shared ring memory.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include "media/uring.h"

#define LOAD_ACQ(p)     atomic_load_explicit((_Atomic unsigned *)(p), memory_order_acquire)
#define STORE_REL(p, v) atomic_store_explicit((_Atomic unsigned *)(p), (v), memory_order_release)

static int ring_setup(unsigned entries, struct io_uring_params *p)
{
	/* Newer flags first; older kernels refuse them with EINVAL. */
	static const unsigned flags[] = {
		IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER,
		IORING_SETUP_SUBMIT_ALL,
		0,
	};
	unsigned i;
	int fd = -1;

	for (i = 0; i < sizeof(flags) / sizeof(*flags); i++) {
		memset(p, 0, sizeof(*p));
		p->flags = flags[i];
		fd = (int)syscall(__NR_io_uring_setup, entries, p);
		if (fd >= 0 || errno != EINVAL)
			break;
	}
	return fd;
}

static void *ring_map(int fd, size_t len, off_t off)
{
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, off);

	return m == MAP_FAILED ? NULL : m;
}

static void probe_h(void *arg, uint64_t user_data, int32_t res)
{
	(void)user_data;
	*(int32_t *)arg = res;
}

/* A receive on an empty socket must come back at once with EAGAIN. */
static int probe(struct cfring *r)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	uint8_t buf[16];
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct io_uring_sqe *s;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;
	int32_t res = 1;
	unsigned head, tail;

	if (fd < 0)
		return errno;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		err = errno;
		goto out;
	}
	s = cfring_sqe(r);
	cfring_prep_msg(s, IORING_OP_RECVMSG, fd, &mh, 0);
	STORE_REL(r->sq_tail, *r->sq_tail + 1);
	r->queued = 0;
	/* No waiting here: if the kernel parked the request, we must not block. */
	if (syscall(__NR_io_uring_enter, r->fd, 1, 0, IORING_ENTER_GETEVENTS, NULL, 0) < 0) {
		err = errno;
		goto out;
	}
	head = *r->cq_head;
	tail = LOAD_ACQ(r->cq_tail);
	if (head != tail) {
		probe_h(&res, 0, r->cqes[head & *r->cq_mask].res);
		STORE_REL(r->cq_head, head + 1);
	}
	if (res != -EAGAIN)
		err = ENOTSUP;
 out:
	/* Closing the socket ends a parked request; closing the ring reaps it. */
	close(fd);
	return err;
}

int cfring_open(struct cfring *r, unsigned entries)
{
	struct io_uring_params p;
	int err;

	memset(r, 0, sizeof(*r));
	r->fd = ring_setup(entries, &p);
	if (r->fd < 0)
		return errno;
	r->entries = p.sq_entries;
	r->sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	r->cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		if (r->cq_len > r->sq_len)
			r->sq_len = r->cq_len;
		r->cq_len = 0;
	}
	r->sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
	r->sq_map = ring_map(r->fd, r->sq_len, IORING_OFF_SQ_RING);
	r->cq_map = r->cq_len ? ring_map(r->fd, r->cq_len, IORING_OFF_CQ_RING) : r->sq_map;
	r->sqes = ring_map(r->fd, r->sqes_len, IORING_OFF_SQES);
	if (!r->sq_map || !r->cq_map || !r->sqes) {
		err = errno ? errno : ENOMEM;
		cfring_close(r);
		return err;
	}
	r->sq_head = (unsigned *)((char *)r->sq_map + p.sq_off.head);
	r->sq_tail = (unsigned *)((char *)r->sq_map + p.sq_off.tail);
	r->sq_mask = (unsigned *)((char *)r->sq_map + p.sq_off.ring_mask);
	r->sq_array = (unsigned *)((char *)r->sq_map + p.sq_off.array);
	r->cq_head = (unsigned *)((char *)r->cq_map + p.cq_off.head);
	r->cq_tail = (unsigned *)((char *)r->cq_map + p.cq_off.tail);
	r->cq_mask = (unsigned *)((char *)r->cq_map + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)((char *)r->cq_map + p.cq_off.cqes);
	err = probe(r);
	if (err)
		cfring_close(r);
	return err;
}

void cfring_close(struct cfring *r)
{
	if (r->sqes)
		munmap(r->sqes, r->sqes_len);
	if (r->cq_map && r->cq_map != r->sq_map)
		munmap(r->cq_map, r->cq_len);
	if (r->sq_map)
		munmap(r->sq_map, r->sq_len);
	if (r->fd > 0)
		close(r->fd);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

struct io_uring_sqe *cfring_sqe(struct cfring *r)
{
	unsigned tail = *r->sq_tail + r->queued, idx;
	struct io_uring_sqe *s;

	if (r->queued >= r->entries)
		return NULL;
	idx = tail & *r->sq_mask;
	s = &r->sqes[idx];
	memset(s, 0, sizeof(*s));
	r->sq_array[idx] = idx;
	r->queued++;
	return s;
}

int cfring_submit(struct cfring *r, cfring_cqe_h *h, void *arg)
{
	unsigned n = r->queued, done = 0, sent = 0, idle = 0, head, tail;
	long ret;

	if (!n)
		return 0;
	STORE_REL(r->sq_tail, *r->sq_tail + n);
	r->queued = 0;
	while (done < n) {
		/* Wait only once everything is in: what was not submitted never completes. */
		ret = syscall(__NR_io_uring_enter, r->fd, n - sent, sent == n ? n - done : 0,
			      IORING_ENTER_GETEVENTS, NULL, 0);
		if (ret < 0 && errno != EINTR && errno != EAGAIN && errno != EBUSY)
			return -errno;
		if (ret > 0 && sent < n)
			sent += (unsigned)ret;
		head = *r->cq_head;
		tail = LOAD_ACQ(r->cq_tail);
		if (head == tail && ret <= 0 && ++idle > 1000)
			return -EIO;          /* the kernel is not taking our SQEs */
		for (; head != tail; head++, done++) {
			const struct io_uring_cqe *c = &r->cqes[head & *r->cq_mask];

			h(arg, c->user_data, c->res);
		}
		STORE_REL(r->cq_head, head);
	}
	return (int)n;
}
