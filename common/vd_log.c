#include "vd_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void vd_debug(const char *fmt, ...) {
        static int enabled = -1;
        static struct timespec t0;
        if (enabled < 0) {
                const char *e = getenv("VMDRIFT_DEBUG");
                enabled = e && *e && *e != '0';
                clock_gettime(CLOCK_MONOTONIC, &t0);
        }
        if (!enabled)
                return;
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        double s = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
        char line[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        fprintf(stderr, "vmdrift[debug %7.2fs] %s\n", s, line);
}
