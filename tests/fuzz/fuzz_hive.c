/* A registry hive comes from the guest (System32/config/SOFTWARE, a
 * profile's NTUSER.DAT): any bytes. Opening and walking it must never
 * crash, leak or hang; every value it yields is bounded. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/vd_hive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        vd_hive *h = NULL;
        if (vd_hive_open("fuzz", data, size, &h, NULL) < 0)
                return 0;
        static const char *const keys[] = {"", "CurrentControlSet\\Services", "Select", NULL};
        for (size_t k = 0; keys[k]; k++) {
                vd_settings s;
                vd_settings_init(&s);
                if (vd_hive_values(h, keys[k], VD_HIVE_DEPTH_MAX, &s, NULL) == 0)
                        for (size_t i = 0; i < s.n; i++)
                                if (strlen(s.v[i].key) > VD_CONF_KEY_MAX || s.v[i].value_len > VD_CONF_VALUE_MAX)
                                        __builtin_trap();
                vd_settings_release(&s);
        }
        char **names = NULL;
        size_t n = 0;
        if (vd_hive_subkeys(h, "", 1000, &names, &n, NULL) == 0) {
                for (size_t i = 0; i < n; i++)
                        free(names[i]);
                free(names);
        }
        vd_hive_close(h);
        return 0;
}
