/*
 * The inventory verbs: put-, get-, list- and
 * delete-bucket-inventory-configuration with aws s3api's shapes, and the
 * extensions run-inventory and list-inventory-runs. Configurations are
 * checked by inventory.c (Amazon's model, then its rules) and their job
 * template by jobcheck_create, the one CreateJob validation; every change
 * is stored, with its audit record, before the reply.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "control-cmd.h"
#include "control.h"
#include "inventory.h"
#include "invsched.h"
#include "jobcheck.h"
#include "json.h"
#include "model.h"
#include "protocol.h"
#include "server.h"
#include "store.h"

/* Amazon's page of ListBucketInventoryConfigurations. */
#define CMD_INV_PAGE		100
#define CMD_INV_RUNS_DEFAULT	100
#define CMD_INV_RUNS_MAX	1000

static const char *const cmd_inv_except[] = {
	"InventoryConfiguration.JobTemplate.Manifest", NULL
};

static int
cmd_inv_validate(struct ctl_req *req, const char *shape)
{
	char	*cause = NULL;

	if (model_validate_except(shape, req->args, cmd_inv_except,
	    &cause) != 0) {
		ctl_reply_error(req, ERR_BAD_REQUEST, "%s", cause);
		free(cause);
		return (-1);
	}
	return (0);
}

/*
 * The request checked against its model shape, then its Bucket and Id
 * (NULL where the shape leaves them out). -1 when refused: replied.
 */
static int
cmd_inv_request(struct ctl_req *req, const char *shape, const char **bucket,
    const char **id)
{
	if (cmd_inv_validate(req, shape) != 0)
		return (-1);
	*bucket = json_path_string(req->args, "Bucket");
	*id = json_path_string(req->args, "Id");
	return (0);
}

static void
cmd_inv_no_such(struct ctl_req *req, const char *bucket, const char *id)
{
	ctl_reply_error(req, ERR_NO_SUCH_CONFIGURATION, "The specified "
	    "configuration does not exist: bucket %s, Id %s", bucket, id);
}

/*
 * The job template as create-job would check it, with the Manifest a run
 * gives it: the report's manifest.json (and the configuration's filter).
 */
static int
cmd_inv_check_template(const struct inv_config *c, char **cause)
{
	struct json_object	*spec = NULL;
	char			*arn, *why = NULL;
	int			 r;

	if (c->job_template == NULL)
		return (0);
	if (json_object_deep_copy(c->job_template, &spec, NULL) != 0)
		fatalx("json_object_deep_copy");
	xasprintf(&arn, "arn:aws:s3:::%s/%s%s%s/%s/manifest.json",
	    c->dest_bucket, c->dest_prefix != NULL ? c->dest_prefix : "",
	    c->dest_prefix != NULL ? "/" : "", c->bucket, c->id);
	json_object_object_add(spec, "Manifest",
	    invsched_manifest(arn, "0", c->job_filter));
	free(arn);
	r = jobcheck_create(spec, 0, &why);
	json_object_put(spec);
	if (r != 0) {
		xasprintf(cause, "InventoryConfiguration.JobTemplate: %s", why);
		free(why);
	}
	return (r);
}

void
cmd_put_bucket_inventory_configuration(struct ctl_req *req)
{
	struct json_object	*doc;
	struct inv_config	*c = NULL;
	struct store_inv	 inv;
	const char		*bucket, *id;
	char			*cause = NULL;
	int64_t			 now;

	if (cmd_inv_request(req, "PutBucketInventoryConfigurationRequest",
	    &bucket, &id) != 0)
		return;
	doc = json_path(req->args, "InventoryConfiguration");
	if (inv_config_parse(doc, bucket, id, &c, &cause) != 0 ||
	    cmd_inv_check_template(c, &cause) != 0) {
		ctl_reply_error(req, ERR_BAD_REQUEST, "%s", cause);
		goto out;
	}
	now = (int64_t)time_now_ms();
	memset(&inv, 0, sizeof inv);
	inv.bucket = bucket;
	inv.id = id;
	inv.doc = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN|
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	inv.created_ms = inv.updated_ms = now;
	/* A new configuration's first run is its first time after now. */
	inv.last_sched = (int64_t)invsched_now(req->srv->invsched);
	if (store_inv_put(req->srv->store, &inv, &req->actor, &cause) != 0) {
		ctl_reply_error(req, ERR_INTERNAL, "%s", cause);
		goto out;
	}
	log_info("inventory %s/%s: configuration stored (%s, %s) by uid %ld",
	    bucket, id, inv_frequency_name(c->frequency),
	    c->enabled ? "enabled" : "disabled", (long)req->uid);
	invsched_changed(req->srv->invsched);
	ctl_reply(req, json_object_new_object());
out:
	free(cause);
	inv_config_free(c);
}

static int
cmd_inv_doc_cb(const struct store_inv *inv, void *arg)
{
	struct json_object	*list = arg, *doc;

	if ((doc = json_tokener_parse(inv->doc)) != NULL)
		json_object_array_add(list, doc);
	return (0);
}

void
cmd_get_bucket_inventory_configuration(struct ctl_req *req)
{
	struct json_object	*list, *r;
	const char		*bucket, *id;
	char			*cause = NULL;
	int			 rc;

	if (cmd_inv_request(req, "GetBucketInventoryConfigurationRequest",
	    &bucket, &id) != 0)
		return;
	list = json_object_new_array();
	rc = store_inv_get(req->srv->store, bucket, id, cmd_inv_doc_cb, list,
	    &cause);
	if (rc < 0)
		ctl_reply_error(req, ERR_INTERNAL, "%s", cause);
	else if (rc == 1 || json_object_array_length(list) == 0)
		cmd_inv_no_such(req, bucket, id);
	else {
		r = json_object_new_object();
		json_object_object_add(r, "InventoryConfiguration",
		    json_object_get(json_object_array_get_idx(list, 0)));
		ctl_reply(req, r);
	}
	json_object_put(list);
	free(cause);
}

void
cmd_list_bucket_inventory_configurations(struct ctl_req *req)
{
	struct json_object	*list, *r, *last;
	const char		*bucket, *token;
	char			*cause = NULL;
	size_t			 n;

	if (cmd_inv_validate(req,
	    "ListBucketInventoryConfigurationsRequest") != 0)
		return;
	bucket = json_path_string(req->args, "Bucket");
	token = json_path_string(req->args, "ContinuationToken");
	list = json_object_new_array();
	/* One more than a page says whether there is another. */
	if (store_inv_list(req->srv->store, bucket, token, CMD_INV_PAGE + 1,
	    cmd_inv_doc_cb, list, &cause) != 0) {
		ctl_reply_error(req, ERR_INTERNAL, "%s", cause);
		free(cause);
		json_object_put(list);
		return;
	}
	r = json_object_new_object();
	if (token != NULL)
		json_object_object_add(r, "ContinuationToken",
		    json_object_new_string(token));
	n = json_object_array_length(list);
	if (n > CMD_INV_PAGE) {
		json_object_array_del_idx(list, CMD_INV_PAGE, n - CMD_INV_PAGE);
		last = json_object_array_get_idx(list, CMD_INV_PAGE - 1);
		json_object_object_add(r, "IsTruncated",
		    json_object_new_boolean(1));
		json_object_object_add(r, "NextContinuationToken",
		    json_object_new_string(json_path_string(last, "Id")));
	} else
		json_object_object_add(r, "IsTruncated",
		    json_object_new_boolean(0));
	/* Amazon leaves the list out when it is empty. */
	if (n > 0)
		json_object_object_add(r, "InventoryConfigurationList", list);
	else
		json_object_put(list);
	ctl_reply(req, r);
}

void
cmd_delete_bucket_inventory_configuration(struct ctl_req *req)
{
	const char	*bucket, *id;
	char		*cause = NULL;
	int		 rc;

	if (cmd_inv_request(req, "DeleteBucketInventoryConfigurationRequest",
	    &bucket, &id) != 0)
		return;
	rc = store_inv_delete(req->srv->store, bucket, id, &req->actor, &cause);
	if (rc < 0)
		ctl_reply_error(req, ERR_INTERNAL, "%s", cause);
	else if (rc == 1)
		cmd_inv_no_such(req, bucket, id);
	else {
		log_info("inventory %s/%s: configuration deleted by uid %ld",
		    bucket, id, (long)req->uid);
		invsched_changed(req->srv->invsched);
		ctl_reply(req, json_object_new_object());
	}
	free(cause);
}

/* Bucket and Id, both required: the model's Get request says so. */
static int
cmd_inv_names(struct ctl_req *req, const char **bucket, const char **id)
{
	*bucket = json_path_string(req->args, "Bucket");
	*id = json_path_string(req->args, "Id");
	if (*bucket == NULL || *id == NULL) {
		ctl_reply_error(req, ERR_BAD_REQUEST, "%s: required",
		    *bucket == NULL ? "Bucket" : "Id");
		return (-1);
	}
	return (0);
}

/*
 * run-inventory (an extension): a run now, of an enabled configuration or
 * not (the operator asked). While one runs, another is refused, naming it.
 */
void
cmd_run_inventory(struct ctl_req *req)
{
	struct json_object	*r;
	const char		*bucket, *id;
	char			*cause = NULL, *run_id = NULL;
	int			 rc;

	if (cmd_inv_names(req, &bucket, &id) != 0)
		return;
	rc = invsched_run_now(req->srv->invsched, bucket, id, &req->actor,
	    &run_id, &cause);
	switch (rc) {
	case 0:
		r = json_object_new_object();
		json_object_object_add(r, "RunId",
		    json_object_new_string(run_id));
		ctl_reply(req, r);
		break;
	case 1:
		cmd_inv_no_such(req, bucket, id);
		break;
	case 2:
		ctl_reply_error(req, ERR_INVENTORY_RUNNING, "a run of "
		    "inventory configuration %s of bucket %s is under way "
		    "(run %s); one runs at a time", id, bucket, run_id);
		break;
	case 3:
		ctl_reply_error(req, ERR_INVENTORY_TOO_SOON, "inventory "
		    "configuration %s of bucket %s: %s", id, bucket, cause);
		break;
	default:
		ctl_reply_error(req, ERR_INTERNAL, "%s", cause);
		break;
	}
	free(run_id);
	free(cause);
}

static void
cmd_inv_time(struct json_object *o, const char *name, int64_t ms)
{
	char	 t[64];

	if (ms <= 0)
		return;
	time_format_iso((uint64_t)ms, t, sizeof t);
	json_object_object_add(o, name, json_object_new_string(t));
}

static void
cmd_inv_opt(struct json_object *o, const char *name, const char *s)
{
	if (s != NULL)
		json_object_object_add(o, name, json_object_new_string(s));
}

static int
cmd_inv_run_cb(const struct store_inv_run *sr, void *arg)
{
	struct json_object	*list = arg, *o;
	int64_t			 end;

	o = json_object_new_object();
	json_object_object_add(o, "RunId", json_object_new_string(sr->run_id));
	json_object_object_add(o, "Bucket", json_object_new_string(sr->bucket));
	json_object_object_add(o, "Id", json_object_new_string(sr->config_id));
	json_object_object_add(o, "State",
	    json_object_new_string(store_inv_state_name(sr->state)));
	json_object_object_add(o, "Trigger",
	    json_object_new_string(sr->trigger));
	cmd_inv_time(o, "ScheduledTime", sr->sched_time * 1000);
	cmd_inv_time(o, "StartTime", sr->start_ms);
	cmd_inv_time(o, "EndTime", sr->end_ms);
	end = sr->end_ms > 0 ? sr->end_ms : (int64_t)time_now_ms();
	json_object_object_add(o, "DurationSeconds", json_object_new_double(
	    end > sr->start_ms ? (double)(end - sr->start_ms) / 1000 : 0));
	json_object_object_add(o, "Objects", json_object_new_int64(sr->objects));
	json_object_object_add(o, "Rows", json_object_new_int64(sr->rows));
	json_object_object_add(o, "Bytes", json_object_new_int64(sr->bytes));
	cmd_inv_opt(o, "ReportLocation", sr->manifest_key);
	/* A JobFilter's selection beside the report, and its rows. */
	cmd_inv_opt(o, "SelectionLocation", sr->selection_key);
	if (sr->selection_key != NULL)
		json_object_object_add(o, "SelectionRows",
		    json_object_new_int64(sr->selection_rows));
	cmd_inv_opt(o, "FailureCode", sr->error_code);
	cmd_inv_opt(o, "FailureReason", sr->error);
	/* The job a configuration's JobTemplate made on the report. */
	cmd_inv_opt(o, "JobId", sr->job_id);
	cmd_inv_opt(o, "JobError", sr->job_error);
	json_object_array_add(list, o);
	return (0);
}

void
cmd_list_inventory_runs(struct ctl_req *req)
{
	struct json_object	*list, *r;
	char			*cause = NULL;
	int64_t			 max = CMD_INV_RUNS_DEFAULT;

	if (json_path(req->args, "MaxResults") != NULL &&
	    (json_path_int64(req->args, "MaxResults", &max) != 0 || max < 1 ||
	    max > CMD_INV_RUNS_MAX)) {
		ctl_reply_error(req, ERR_BAD_REQUEST, "MaxResults: not between "
		    "1 and %d", CMD_INV_RUNS_MAX);
		return;
	}
	list = json_object_new_array();
	if (store_inv_run_list(req->srv->store,
	    json_path_string(req->args, "Bucket"),
	    json_path_string(req->args, "Id"), -1, -1, (int)max, cmd_inv_run_cb,
	    list, &cause) != 0) {
		ctl_reply_error(req, ERR_INTERNAL, "%s", cause);
		free(cause);
		json_object_put(list);
		return;
	}
	r = json_object_new_object();
	json_object_object_add(r, "Runs", list);
	ctl_reply(req, r);
}
