/*
 * test_loop.c - handing work to the signalling thread: jobs run in order, from
 * other threads too, and a job posted while the queue is being drained is not
 * forgotten.
 */
#include <pthread.h>
#include <re.h>
#include "check.h"
#include "core/loop.h"

static int order[8], norder;
static bool from_thread_ran, late_ran;

static void record(void *arg)
{
	if (norder < 8)
		order[norder++] = (int)(intptr_t)arg;
}

static void late(void *arg)
{
	(void)arg;
	late_ran = true;
}

/* Posts while the drain that runs it still has another job queued. */
static void poster(void *arg)
{
	(void)arg;
	loop_post(late, NULL);
}

static void thread_job(void *arg)
{
	(void)arg;
	from_thread_ran = true;
}

static void *thread_main(void *arg)
{
	(void)arg;
	loop_post(thread_job, NULL);
	return NULL;
}

static void stop(void *arg)
{
	(void)arg;
	re_cancel();
}

int main(void)
{
	struct tmr t;
	pthread_t th;

	libre_init();
	CHECK_INT(loop_init(), 0);
	CHECK(loop_is_main());
	tmr_init(&t);
	tmr_start(&t, 500, stop, NULL);
	loop_post(record, (void *)1);
	loop_post(poster, NULL);
	loop_post(record, (void *)2);
	pthread_create(&th, NULL, thread_main, NULL);
	pthread_join(th, NULL);
	re_main(NULL);
	CHECK_INT(norder, 2);
	CHECK_INT(order[0], 1);
	CHECK_INT(order[1], 2);
	CHECK(late_ran);
	CHECK(from_thread_ran);
	CHECK_INT(loop_post(NULL, NULL), EINVAL);
	tmr_cancel(&t);
	loop_close();
	libre_close();
	return check_done();
}
