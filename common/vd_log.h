/* Debug logging: the only logging library code does. Off unless the
 * environment has VMDRIFT_DEBUG=1; then one line per call on stderr,
 * prefixed with the seconds since the first call. */
#ifndef VD_LOG_H
#define VD_LOG_H

void vd_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
