/* Debug logging: the only logging library code does. Off unless the
 * program turned it on (the CLI does for VMDRIFT_DEBUG=1); then one line
 * per call on stderr, prefixed with the seconds since it was turned on.
 * Nothing here allocates. */
#ifndef VD_LOG_H
#define VD_LOG_H

#include <stdbool.h>

void vd_log_set_debug(bool on);
void vd_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
