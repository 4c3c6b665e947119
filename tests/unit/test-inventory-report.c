/* Placeholder while issue 9 is built: skipped. */
#include "unit.h"

int
main(void)
{
	return 77;
}
