/* Prometheus metrics: the text exposition format on metrics_listen. */
#ifndef METRICS_H
#define METRICS_H

struct server;
struct metrics;
struct buf;

/* NULL with *cause on a bad or busy address; NULL without when disabled. */
struct metrics	*metrics_new(struct server *, const char *, char **);
void		 metrics_free(struct metrics *);
/* The whole exposition (for tests and the endpoint). */
void		 metrics_render(struct server *, struct buf *);

#endif /* METRICS_H */
