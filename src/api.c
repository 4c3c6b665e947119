/* PLACEHOLDER: the API helper replaces this file (issue 10, deliver 1-3). */
#include <stdlib.h>

#include "s3batchd.h"
#include "server.h"
#include "api.h"

struct api {
	struct server	*srv;
};

struct api *
api_new(struct server *srv, char **cause)
{
	(void)srv;
	*cause = NULL;
	return (NULL);
}

void
api_free(struct api *api)
{
	free(api);
}

void
api_metrics(struct api *api, struct buf *b)
{
	(void)api;
	(void)b;
}
