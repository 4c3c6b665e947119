/*
 * Job events (JobCreated, JobStatusChanged, inventory run completions)
 * delivered to the configured webhooks from a durable outbox in the store,
 * at least once, and written to the journal with structured fields.
 */
#ifndef EVENTS_H
#define EVENTS_H

struct buf;
struct core;
struct events;

/* Start delivering from the outbox; never NULL. */
struct events	*events_new(struct core *);
void		 events_free(struct events *);
/* The configuration changed (webhooks added, removed or edited). */
void		 events_reload(struct events *);
/* Prometheus lines for deliveries, failures and the outbox. */
void		 events_metrics(struct events *, struct buf *);

#endif /* EVENTS_H */
