/*
 * loop.c - hands work from any thread to the signalling thread: a mutex-guarded
 * queue and an eventfd that libre's main loop watches.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <re.h>
#include "core/loop.h"

struct job {
	loop_h *h;
	void *arg;
};

static struct {
	pthread_t main;
	pthread_mutex_t lock;
	int efd;
	struct job *q;          /* ring of jobs */
	size_t cap, head, len;
	bool ready;
} L = {.efd = -1, .lock = PTHREAD_MUTEX_INITIALIZER};

/* Run every queued job; jobs posted while running wait for the next wakeup. */
static void loop_drain(int flags, void *arg)
{
	uint64_t v;
	size_t n;

	(void)flags;
	(void)arg;
	if (read(L.efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;

	pthread_mutex_lock(&L.lock);
	n = L.len;
	pthread_mutex_unlock(&L.lock);

	while (n--) {
		struct job j;

		pthread_mutex_lock(&L.lock);
		j = L.q[L.head];
		L.head = (L.head + 1) % L.cap;
		L.len--;
		pthread_mutex_unlock(&L.lock);
		j.h(j.arg);
	}
	/*
	 * Jobs posted while draining found the queue non-empty and did not signal;
	 * signal for them now, or they would wait for a post that may never come.
	 */
	pthread_mutex_lock(&L.lock);
	if (L.len) {
		uint64_t one = 1;
		/* Only EAGAIN is possible (counter saturated), which still wakes us. */
		ssize_t w = write(L.efd, &one, sizeof(one));

		(void)w;
	}
	pthread_mutex_unlock(&L.lock);
}

int loop_init(void)
{
	int err;

	L.main = pthread_self();
	L.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (L.efd < 0)
		return errno;
	L.cap = 1024;
	L.q = calloc(L.cap, sizeof(*L.q));
	if (!L.q) {
		close(L.efd);
		L.efd = -1;
		return ENOMEM;
	}
	err = fd_listen(L.efd, FD_READ, loop_drain, NULL);
	if (err) {
		free(L.q);
		close(L.efd);
		L.efd = -1;
		return err;
	}
	L.ready = true;
	return 0;
}

void loop_close(void)
{
	if (L.efd >= 0) {
		fd_close(L.efd);
		close(L.efd);
		L.efd = -1;
	}
	free(L.q);
	L.q = NULL;
	L.cap = L.head = L.len = 0;
	L.ready = false;
}

bool loop_is_main(void)
{
	return L.ready && pthread_equal(pthread_self(), L.main);
}

static int grow(void)
{
	size_t ncap = L.cap * 2, i;
	struct job *nq = calloc(ncap, sizeof(*nq));

	if (!nq)
		return ENOMEM;
	for (i = 0; i < L.len; i++)
		nq[i] = L.q[(L.head + i) % L.cap];
	free(L.q);
	L.q = nq;
	L.cap = ncap;
	L.head = 0;
	return 0;
}

int loop_post(loop_h *handler, void *arg)
{
	uint64_t one = 1;
	bool wake;
	int err = 0;

	if (!handler)
		return EINVAL;
	pthread_mutex_lock(&L.lock);
	if (!L.q) {
		err = ENODEV;
		goto out;
	}
	if (L.len == L.cap) {
		err = grow();
		if (err)
			goto out;
	}
	L.q[(L.head + L.len) % L.cap] = (struct job){handler, arg};
	wake = L.len++ == 0;
	/* One eventfd write per empty-to-busy transition, not per job. */
	if (wake && write(L.efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		err = errno;
 out:
	pthread_mutex_unlock(&L.lock);
	return err;
}
