/*
 * Fuzz target for control messages, both ways: the daemon's parsing of a
 * request line's envelope and of a chunk frame header (control.c), and the
 * client's parsing of a reply line (client.c). Every one must reject bad
 * bytes with a cause and never crash, leak or read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "client.h"
#include "control.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct ctl_message	 m;
	struct client_reply	 r;
	const char		*code;
	char			*line, *cause = NULL;
	uint64_t		 size;

	line = malloc(len + 1);
	memcpy(line, data, len);
	line[len] = '\0';

	if (ctl_message_parse(line, len, &m, &code, &cause) == 0) {
		(void)ctl_message_mutating(&m);
		ctl_message_free(&m);
	} else if (cause == NULL || code == NULL)
		abort();
	free(cause);
	cause = NULL;

	if (ctl_chunk_parse(line, len, &size, &cause) == 0) {
		if (size > 1024 * 1024)
			abort();
	} else if (cause == NULL)
		abort();
	free(cause);
	cause = NULL;

	memset(&r, 0, sizeof r);
	if (client_parse_reply(line, len, 1, &r, &cause) == 0)
		client_reply_free(&r);
	free(cause);
	free(line);
	return (0);
}
