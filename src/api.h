/*
 * The S3 Control API over HTTP(S) ([api]): Amazon's restXml job
 * operations, SigV4-authenticated against the configured access keys,
 * reaching the same command code as the control socket.
 */
#ifndef API_H
#define API_H

struct buf;
struct server;
struct api;

/* Listen as [api] says; NULL with *cause on error, NULL and no cause when
 * no API is configured. */
struct api	*api_new(struct server *, char **);
void		 api_free(struct api *);
/* Prometheus lines for requests by operation and outcome. */
void		 api_metrics(struct api *, struct buf *);

#endif /* API_H */
