/* A baseline file may be hostile (a compromised or careless backup, a
 * swapped file). Loading it must never crash or leak, whatever the bytes.
 * SQLite parses the file; our loader bounds and checks every row. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "baseline/vd_baseline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char path[] = "/tmp/vd-fuzz-baseline.XXXXXX";
        int fd = mkstemp(path);
        if (fd < 0)
                return 0;
        if (write(fd, data, size) != (ssize_t)size) {
                close(fd);
                unlink(path);
                return 0;
        }
        close(fd);
        vd_baseline *b = NULL;
        vd_err err = VD_ERR_INIT;
        if (vd_baseline_load(path, &b, &err) == 0) {
                /* What loads is consistent: sorted, absolute, bounded. */
                for (size_t i = 0; i < b->entries.n; i++)
                        if (b->entries.v[i]->path[0] != '/' || b->entries.v[i]->hash_len > VD_HASH_MAX)
                                __builtin_trap();
                vd_baseline_free(b);
        }
        unlink(path);
        return 0;
}
