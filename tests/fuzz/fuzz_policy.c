/* The YAML policy loader: an operator's file, but maybe a wrong or hostile one. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "policy/vd_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        vd_policy *p = NULL;
        vd_err e = VD_ERR_INIT;
        if (vd_policy_parse("fuzz.yaml", (const char *)data, size, &p, &e) == 0) {
                static const char *const paths[] = {"/", "/etc/ssh/sshd_config", "/var/log/a/b/c", "/tmp/x\n\xff"};
                for (size_t i = 0; i < 4; i++)
                        (void)vd_policy_match(p, paths[i], strlen(paths[i]), 1);
                vd_buf b;
                vd_buf_init(&b, 0);
                (void)vd_policy_canonical(p, &b);
                vd_buf_release(&b);
                vd_policy_free(p);
        }
        return 0;
}
