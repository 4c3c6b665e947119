/*
 * The bulk thread. Results go back to the loop through an event made
 * active from this thread.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "s3batchd.h"
#include "bulk.h"
#include "store.h"

struct bulk_item {
	void			 (*fn)(struct store *, void *);
	void			 (*fn_done)(void *);
	void			*arg;
	struct bulk_item	*next;
};

struct bulk {
	struct store		*store;		/* this thread's connection */
	pthread_t		 thread;
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	struct bulk_item	*queue, *tail;	/* to do */
	struct bulk_item	*done;		/* for the loop */
	unsigned		 pending;
	int			 stop;		/* atomic: read unlocked */
	struct event		*ev_done;
};

static void *
bulk_main(void *arg)
{
	struct bulk		*w = arg;
	struct bulk_item	*it;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (w->queue == NULL && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->stop)
			break;
		it = w->queue;
		w->queue = it->next;
		if (w->queue == NULL)
			w->tail = NULL;
		pthread_mutex_unlock(&w->lock);

		it->fn(w->store, it->arg);

		pthread_mutex_lock(&w->lock);
		it->next = w->done;
		w->done = it;
		w->pending--;
		event_active(w->ev_done, EV_READ, 0);
	}
	pthread_mutex_unlock(&w->lock);
	return (NULL);
}

/* On the loop: the done of every item the thread finished. */
static void
bulk_done_cb(evutil_socket_t fd, short events, void *arg)
{
	struct bulk		*w = arg;
	struct bulk_item	*done, *it;

	pthread_mutex_lock(&w->lock);
	done = w->done;
	w->done = NULL;
	pthread_mutex_unlock(&w->lock);
	while ((it = done) != NULL) {
		done = it->next;
		it->fn_done(it->arg);
		free(it);
	}
}

struct bulk *
bulk_new(struct event_base *base, const char *state_dir, char **cause)
{
	struct bulk	*w;
	int		 error;

	w = xcalloc(1, sizeof *w);
	if ((w->store = store_open(state_dir, 0, cause)) == NULL) {
		free(w);
		return (NULL);
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->ev_done = event_new(base, -1, 0, bulk_done_cb, w);
	if ((error = pthread_create(&w->thread, NULL, bulk_main, w)) != 0)
		fatalx("bulk: pthread_create: %s", strerror(error));
	return (w);
}

void
bulk_free(struct bulk *w)
{
	struct bulk_item	*it;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	__atomic_store_n(&w->stop, 1, __ATOMIC_RELAXED);
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	while ((it = w->done) != NULL) {
		w->done = it->next;
		it->fn_done(it->arg);
		free(it);
	}
	while ((it = w->queue) != NULL) {
		w->queue = it->next;
		it->fn_done(it->arg);
		free(it);
	}
	event_free(w->ev_done);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	store_close(w->store);
	free(w);
}

static void
bulk_enqueue(struct bulk *w, struct bulk_item *it)
{
	pthread_mutex_lock(&w->lock);
	if (w->tail != NULL)
		w->tail->next = it;
	else
		w->queue = it;
	w->tail = it;
	w->pending++;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

void
bulk_run(struct bulk *w, void (*fn)(struct store *, void *),
    void (*done)(void *), void *arg)
{
	struct bulk_item	*it;

	it = xcalloc(1, sizeof *it);
	it->fn = fn;
	it->fn_done = done;
	it->arg = arg;
	bulk_enqueue(w, it);
}

int
bulk_stopping(struct bulk *w)
{
	return (__atomic_load_n(&w->stop, __ATOMIC_RELAXED));
}

unsigned
bulk_pending(struct bulk *w)
{
	unsigned	n;

	pthread_mutex_lock(&w->lock);
	n = w->pending;
	pthread_mutex_unlock(&w->lock);
	return (n);
}
