#include "vd_testpoint.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

void vd_test_point(const char *name) {
        static const char *list;
        static int read_env;
        if (!read_env) {
                list = getenv("VMDRIFT_TEST_STOP_AT");
                read_env = 1;
        }
        if (!list || !*list)
                return;
        size_t n = strlen(name);
        for (const char *p = list; *p;) {
                size_t k = strcspn(p, ",");
                if (k == n && memcmp(p, name, n) == 0) {
                        raise(SIGSTOP);
                        return;
                }
                p += k;
                if (*p == ',')
                        p++;
        }
}
