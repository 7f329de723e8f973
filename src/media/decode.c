/*
 * decode.c - sound files decoded off the signalling thread: decoder threads
 * take players from a queue, decode their files (mplay_decode) and hand them
 * back to the signalling thread through loop_post.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/log.h"
#include "core/loop.h"
#include "media/play_int.h"

/* Two: a long file being decoded does not hold up every prompt behind it. */
#define DECODERS 2

/*
 * Two references: the decoder's (dropped once the job is back on the
 * signalling thread, or when it cannot get there) and the waiting handle's
 * (dropped by mplay_decode_cancel, or with the job when its handler ran).
 */
struct mplay_job {
	struct mplay_job *next;
	_Atomic unsigned refs;
	atomic_bool cancelled;
	struct mplay *p;
	int err;
	mplay_decoded_h *h;
	void *arg;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct mplay_job *head, *tail;
	pthread_t thr[DECODERS];
	unsigned nthr;
	bool stopping;
} D = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, {0}, 0, false};

static void job_release(struct mplay_job *j)
{
	if (atomic_fetch_sub(&j->refs, 1) != 1)
		return;
	mplay_free(j->p);
	free(j);
}

/* Signalling thread: the decoded player goes to whoever still waits for it. */
static void job_back(void *arg)
{
	struct mplay_job *j = arg;
	struct mplay *p = j->p;

	if (atomic_load(&j->cancelled)) {
		job_release(j);
		return;
	}
	/* The handler takes the player, and the handle forgets the job. */
	j->p = NULL;
	j->h(j->err, p, j->arg);
	free(j);
}

static void *decoder_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&D.lock);
	for (;;) {
		struct mplay_job *j;

		while (!D.head && !D.stopping)
			pthread_cond_wait(&D.cond, &D.lock);
		if (D.stopping)
			break;
		j = D.head;
		D.head = j->next;
		if (!D.head)
			D.tail = NULL;
		pthread_mutex_unlock(&D.lock);
		j->err = atomic_load(&j->cancelled) ? ECANCELED : mplay_decode(j->p);
		if (loop_post(job_back, j)) {
			log_err("media: a decoded sound cannot reach the signalling thread\n");
			job_release(j);
		}
		pthread_mutex_lock(&D.lock);
	}
	pthread_mutex_unlock(&D.lock);
	return NULL;
}

/* Signalling thread, with D.lock held. */
static int decoders_start(void)
{
	while (D.nthr < DECODERS) {
		char name[16];
		int err = pthread_create(&D.thr[D.nthr], NULL, decoder_main, NULL);

		if (err) {
			log_err("media: cannot start a sound decoder: %s\n", strerror(err));
			return D.nthr ? 0 : err;
		}
		snprintf(name, sizeof(name), "decode/%u", D.nthr);
		pthread_setname_np(D.thr[D.nthr], name);
		D.nthr++;
	}
	return 0;
}

int mplay_decode_start(struct mplay_job **jp, struct mplay *p, mplay_decoded_h *h,
		       void *arg)
{
	struct mplay_job *j;
	int err;

	if (!jp || !p || !h)
		return EINVAL;
	j = calloc(1, sizeof(*j));
	if (!j)
		return ENOMEM;
	atomic_init(&j->refs, 2);
	atomic_init(&j->cancelled, false);
	j->h = h;
	j->arg = arg;
	pthread_mutex_lock(&D.lock);
	err = D.stopping ? ENODEV : decoders_start();
	if (!err) {
		j->p = p;
		if (D.tail)
			D.tail->next = j;
		else
			D.head = j;
		D.tail = j;
		pthread_cond_signal(&D.cond);
	}
	pthread_mutex_unlock(&D.lock);
	if (err) {
		free(j);
		return err;
	}
	*jp = j;
	return 0;
}

void mplay_decode_cancel(struct mplay_job *j)
{
	if (!j)
		return;
	atomic_store(&j->cancelled, true);
	job_release(j);
}

void mplay_decode_close(void)
{
	struct mplay_job *j;
	unsigned i, n;

	pthread_mutex_lock(&D.lock);
	D.stopping = true;
	pthread_cond_broadcast(&D.cond);
	n = D.nthr;
	pthread_mutex_unlock(&D.lock);
	for (i = 0; i < n; i++)
		pthread_join(D.thr[i], NULL);
	pthread_mutex_lock(&D.lock);
	D.nthr = 0;
	j = D.head;
	D.head = D.tail = NULL;
	D.stopping = false;
	pthread_mutex_unlock(&D.lock);
	/* Never decoded: only their handles' references are left. */
	while (j) {
		struct mplay_job *next = j->next;

		job_release(j);
		j = next;
	}
}
