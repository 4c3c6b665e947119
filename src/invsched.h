/* Placeholder while issue 9 is built. */
#ifndef INVSCHED_H
#define INVSCHED_H
#endif
