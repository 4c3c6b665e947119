/*
 * s3batchctl's inventory verbs: the text forms of their replies (the
 * flags are rows of client-cmd.c's table; --output json prints the
 * replies as they come, in aws s3api's shapes).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "client.h"

/* get-bucket-inventory-configuration: the document, as JSON. */
void
cli_text_inventory_config(struct buf *b, json_object *result)
{
	json_object	*doc;

	if (result == NULL ||
	    !json_object_object_get_ex(result, "InventoryConfiguration", &doc))
		return;
	buf_addf(b, "%s\n", json_object_to_json_string_ext(doc,
	    JSON_C_TO_STRING_PRETTY|JSON_C_TO_STRING_SPACED|
	    JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* list-bucket-inventory-configurations: one line per configuration. */
void
cli_text_inventory_configs(struct buf *b, json_object *result)
{
	json_object	*list, *c;
	const char	*freq, *dest, *tod;
	size_t		 i, n;

	if (result == NULL || !json_object_object_get_ex(result,
	    "InventoryConfigurationList", &list) ||
	    !json_object_is_type(list, json_type_array))
		return;
	n = json_object_array_length(list);
	buf_addf(b, "%-24s  %-7s  %-6s  %-8s  %-5s  %s\n", "ID", "ENABLED",
	    "FORMAT", "SCHEDULE", "TIME", "DESTINATION");
	for (i = 0; i < n; i++) {
		c = json_object_array_get_idx(list, i);
		freq = json_path_string(c, "Schedule.Frequency");
		tod = json_path_string(c, "Schedule.TimeOfDay");
		dest = json_path_string(c, "Destination.S3BucketDestination."
		    "Bucket");
		buf_addf(b, "%-24s  %-7s  %-6s  %-8s  %-5s  %s\n",
		    json_path_string(c, "Id"),
		    json_path_bool(c, "IsEnabled") == 1 ? "yes" : "no",
		    json_path_string(c, "Destination.S3BucketDestination."
		    "Format"), freq != NULL ? freq : "-",
		    tod != NULL ? tod : "00:00", dest != NULL ? dest : "-");
	}
	if (json_path_bool(result, "IsTruncated") == 1)
		buf_addf(b, "(more: --continuation-token %s)\n",
		    json_path_string(result, "NextContinuationToken"));
}

/* run-inventory: the run's id. */
void
cli_text_inventory_run_id(struct buf *b, json_object *result)
{
	cli_text_field(b, result, "RunId");
}

/* list-inventory-runs: newest first, one line each, the error below. */
void
cli_text_inventory_runs(struct buf *b, json_object *result)
{
	json_object	*runs, *r, *v;
	const char	*s;
	char		 start[64], dur[32], name[160];
	int64_t		 objects, rows, bytes;
	size_t		 i, n;

	if (result == NULL || !json_object_object_get_ex(result, "Runs",
	    &runs) || !json_object_is_type(runs, json_type_array))
		return;
	n = json_object_array_length(runs);
	buf_addf(b, "%-36s  %-24s  %-9s  %-19s  %9s  %10s  %10s  %12s  %s\n",
	    "RUN ID", "BUCKET/ID", "STATE", "START", "DURATION", "OBJECTS",
	    "ROWS", "BYTES", "REPORT");
	for (i = 0; i < n; i++) {
		r = json_object_array_get_idx(runs, i);
		if (!json_object_object_get_ex(r, "StartTime", &v))
			v = NULL;
		cli_format_time(v, start, sizeof start);
		if (json_object_object_get_ex(r, "DurationSeconds", &v))
			snprintf(dur, sizeof dur, "%.1fs",
			    json_object_get_double(v));
		else
			snprintf(dur, sizeof dur, "-");
		if (json_path_int64(r, "Objects", &objects) != 0)
			objects = 0;
		if (json_path_int64(r, "Rows", &rows) != 0)
			rows = 0;
		if (json_path_int64(r, "Bytes", &bytes) != 0)
			bytes = 0;
		snprintf(name, sizeof name, "%s/%s",
		    json_path_string(r, "Bucket"), json_path_string(r, "Id"));
		s = json_path_string(r, "ReportLocation");
		buf_addf(b, "%-36s  %-24s  %-9s  %-19s  %9s  %10" PRId64
		    "  %10" PRId64 "  %12" PRId64 "  %s\n",
		    json_path_string(r, "RunId"), name,
		    json_path_string(r, "State"), start, dur, objects, rows,
		    bytes, s != NULL ? s : "-");
		if ((s = json_path_string(r, "FailureReason")) != NULL)
			buf_addf(b, "    %s: %s\n",
			    json_path_string(r, "FailureCode"), s);
	}
}
