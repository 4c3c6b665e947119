/* Placeholder while issue 9 is built. */
#ifndef INVFILTER_H
#define INVFILTER_H
#endif
