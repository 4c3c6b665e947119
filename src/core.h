/*
 * What the daemon core's modules (lifecycle, stages, bulk thread) share:
 * the loop, the loop's store connection, the current configuration, the
 * S3 client and the bulk thread. server.c fills it in; the core modules
 * never include server.h, so that the front ends (control, metrics) sit
 * above the core and nothing in it reaches up to them.
 */
#ifndef CORE_H
#define CORE_H

struct event_base;
struct store;
struct cfg;
struct s3;
struct bulk;

struct core {
	struct event_base	*base;
	struct store		*store;		/* the loop's connection */
	struct cfg		**cfg;		/* the current one; reload swaps */
	struct s3		*s3;		/* the one shared S3 client */
	struct bulk		*bulk;
};

#endif /* CORE_H */
