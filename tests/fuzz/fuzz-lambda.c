/*
 * Fuzz target for LambdaInvoke's parsers of untrusted bytes (op-lambda.h):
 * a function's answer, judged as a 200, as a 200 with X-Amz-Function-Error
 * and as a 500, and the same bytes as a FunctionArn.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s3batchd.h"
#include "http.h"
#include "op-lambda.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_judge(const uint8_t *data, size_t size, int status,
    struct http_header *h, size_t nh)
{
	struct http_response	 resp;
	struct lambda_verdict	 v;

	memset(&resp, 0, sizeof resp);
	resp.status = status;
	resp.headers = h;
	resp.nheaders = nh;
	buf_init(&resp.body);
	buf_add(&resp.body, data, size);
	lambda_judge(&resp, "t1", &v);
	/* A verdict always says something: a code, or success. */
	if (!v.succeeded && (v.code == NULL || v.message == NULL))
		abort();
	if (v.succeeded && v.retry)
		abort();
	lambda_verdict_free(&v);
	buf_free(&resp.body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char		 fe_name[] = "X-Amz-Function-Error";
	static char		 fe_value[] = "Unhandled";
	static char		 et_name[] = "x-amzn-ErrorType";
	static char		 et_value[] = "ServiceException:";
	struct http_header	 fe = { fe_name, fe_value };
	struct http_header	 et = { et_name, et_value };
	struct lambda_target	 t;
	enum lambda_result	 r;
	char			*s, *rs = NULL, *cause = NULL;

	if (lambda_parse_response((const char *)data, size, "t1", &r, &rs,
	    &cause) == 0) {
		if (cause != NULL)
			abort();
	} else if (cause == NULL || rs != NULL)
		abort();
	free(rs);
	free(cause);

	fuzz_judge(data, size, 200, NULL, 0);
	fuzz_judge(data, size, 200, &fe, 1);
	fuzz_judge(data, size, 500, &et, 1);

	s = xstrndup((const char *)data, size);
	cause = NULL;
	if (lambda_target_parse(s, &t, &cause) == 0) {
		if (t.function == NULL || strcmp(t.function, s) != 0)
			abort();
		lambda_target_free(&t);
	} else if (cause == NULL)
		abort();
	free(cause);
	free(s);
	return (0);
}
