/* Daemon-side control commands: one handler each, listed in control.c's table. */
#ifndef CONTROL_CMD_H
#define CONTROL_CMD_H

struct ctl_req;

void	cmd_create_job(struct ctl_req *);
void	cmd_describe_job(struct ctl_req *);
void	cmd_list_jobs(struct ctl_req *);
void	cmd_update_job_priority(struct ctl_req *);
void	cmd_update_job_status(struct ctl_req *);
void	cmd_get_job_tagging(struct ctl_req *);
void	cmd_put_job_tagging(struct ctl_req *);
void	cmd_delete_job_tagging(struct ctl_req *);
void	cmd_clone_job(struct ctl_req *);
void	cmd_status(struct ctl_req *);
void	cmd_report(struct ctl_req *);
void	cmd_retry_report(struct ctl_req *);
void	cmd_check_endpoint(struct ctl_req *);
void	cmd_put_bucket_inventory_configuration(struct ctl_req *);
void	cmd_get_bucket_inventory_configuration(struct ctl_req *);
void	cmd_list_bucket_inventory_configurations(struct ctl_req *);
void	cmd_delete_bucket_inventory_configuration(struct ctl_req *);
void	cmd_run_inventory(struct ctl_req *);
void	cmd_list_inventory_runs(struct ctl_req *);

#endif /* CONTROL_CMD_H */
