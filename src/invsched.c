/* Placeholder while issue 9 is built; its owner replaces this file. */
#include "s3batchd.h"
