/*
 * jobcheck: the one validation of a CreateJob request. The daemon's
 * create-job and clone-job, the fuzzer and the unit tests all call it, so
 * what they test is what users meet.
 */
#ifndef JOBCHECK_H
#define JOBCHECK_H

struct json_object;

/*
 * Check a CreateJob request (without the control protocol's own
 * ManifestStream member): Amazon's model and the semantic checks
 * (jobspec_check: the manifest or its generator, the report, ARNs, tags,
 * and with have_local_manifest nonzero a streamed CSV manifest), then the
 * operation's parameters, compiled as the scheduler will compile them and
 * freed at once. Pure: no I/O, no configuration. Returns 0, or -1 with
 * *cause naming the field, the message create-job sends back.
 */
int		 jobcheck_create(struct json_object *, int, char **);

#endif /* JOBCHECK_H */
