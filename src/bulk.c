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
	struct bulk		*b = arg;
	struct bulk_item	*it;

	pthread_mutex_lock(&b->lock);
	for (;;) {
		while (b->queue == NULL && !b->stop)
			pthread_cond_wait(&b->cond, &b->lock);
		if (b->stop)
			break;
		it = b->queue;
		b->queue = it->next;
		if (b->queue == NULL)
			b->tail = NULL;
		pthread_mutex_unlock(&b->lock);

		it->fn(b->store, it->arg);

		pthread_mutex_lock(&b->lock);
		it->next = b->done;
		b->done = it;
		b->pending--;
		event_active(b->ev_done, EV_READ, 0);
	}
	pthread_mutex_unlock(&b->lock);
	return (NULL);
}

/* On the loop: the done of every item the thread finished. */
static void
bulk_done_cb(evutil_socket_t fd, short events, void *arg)
{
	struct bulk		*b = arg;
	struct bulk_item	*done, *it, *prev, *next;

	pthread_mutex_lock(&b->lock);
	done = b->done;
	b->done = NULL;
	pthread_mutex_unlock(&b->lock);
	/* The thread pushed them last first: end them in the order run. */
	for (prev = NULL; done != NULL; done = next) {
		next = done->next;
		done->next = prev;
		prev = done;
	}
	done = prev;
	while ((it = done) != NULL) {
		done = it->next;
		it->fn_done(it->arg);
		free(it);
	}
}

struct bulk *
bulk_new(struct event_base *base, const char *state_dir, char **cause)
{
	struct bulk	*b;
	int		 error;

	b = xcalloc(1, sizeof *b);
	if ((b->store = store_open(state_dir, 0, cause)) == NULL) {
		free(b);
		return (NULL);
	}
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);
	b->ev_done = event_new(base, -1, 0, bulk_done_cb, b);
	if ((error = pthread_create(&b->thread, NULL, bulk_main, b)) != 0)
		fatalx("bulk: pthread_create: %s", strerror(error));
	return (b);
}

void
bulk_free(struct bulk *b)
{
	struct bulk_item	*it;

	if (b == NULL)
		return;
	pthread_mutex_lock(&b->lock);
	__atomic_store_n(&b->stop, 1, __ATOMIC_RELAXED);
	pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
	pthread_join(b->thread, NULL);
	while ((it = b->done) != NULL) {
		b->done = it->next;
		it->fn_done(it->arg);
		free(it);
	}
	while ((it = b->queue) != NULL) {
		b->queue = it->next;
		it->fn_done(it->arg);
		free(it);
	}
	event_free(b->ev_done);
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->cond);
	store_close(b->store);
	free(b);
}

static void
bulk_enqueue(struct bulk *b, struct bulk_item *it)
{
	pthread_mutex_lock(&b->lock);
	if (b->tail != NULL)
		b->tail->next = it;
	else
		b->queue = it;
	b->tail = it;
	b->pending++;
	pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

void
bulk_run(struct bulk *b, void (*fn)(struct store *, void *),
    void (*done)(void *), void *arg)
{
	struct bulk_item	*it;

	it = xcalloc(1, sizeof *it);
	it->fn = fn;
	it->fn_done = done;
	it->arg = arg;
	bulk_enqueue(b, it);
}

int
bulk_stopping(struct bulk *b)
{
	return (__atomic_load_n(&b->stop, __ATOMIC_RELAXED));
}

unsigned
bulk_pending(struct bulk *b)
{
	unsigned	n;

	pthread_mutex_lock(&b->lock);
	n = b->pending;
	pthread_mutex_unlock(&b->lock);
	return (n);
}
