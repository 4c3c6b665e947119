/* Commands about the daemon itself rather than one job: status. */
#include <stdlib.h>
#include <unistd.h>

#include <json-c/json.h>

#include "s3batchd.h"
#include "cfg.h"
#include "cmd.h"
#include "control.h"
#include "job.h"
#include "protocol.h"
#include "server.h"
#include "store.h"
#include "worker.h"

void
cmd_status(struct ctl_req *req)
{
	struct server		*srv = req->srv;
	struct json_object	*r, *jobs;
	uint64_t		 counts[JOB_NSTATUS];
	char			*cause = NULL;
	int			 i;

	if (store_job_counts(srv->store, counts, &cause) != 0) {
		ctl_reply_error(req, ERR_INTERNAL, "%s", cause);
		free(cause);
		return;
	}
	r = json_object_new_object();
	json_object_object_add(r, "Version", json_object_new_string(VERSION));
	json_object_object_add(r, "ProtocolVersion",
	    json_object_new_int(PROTOCOL_VERSION));
	json_object_object_add(r, "Pid", json_object_new_int((int)getpid()));
	json_object_object_add(r, "UptimeSeconds", json_object_new_int64(
	    (int64_t)((time_now_ms() - srv->started_ms) / 1000)));
	json_object_object_add(r, "StateDir",
	    json_object_new_string(srv->cfg->state_dir));
	json_object_object_add(r, "Stopping",
	    json_object_new_boolean(srv->stopping));
	json_object_object_add(r, "ControlConnections", json_object_new_int64(
	    (int64_t)control_connections(srv->control)));
	json_object_object_add(r, "WorkerQueue", json_object_new_int64(
	    worker_pending(srv->worker)));
	jobs = json_object_new_object();
	for (i = 0; i < JOB_NSTATUS; i++)
		json_object_object_add(jobs, job_status_name((enum job_status)i),
		    json_object_new_int64((int64_t)counts[i]));
	json_object_object_add(r, "Jobs", jobs);
	ctl_reply(req, r);
}
