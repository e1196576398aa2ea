/* The environment, read once, here: the library below cli/ takes every
 * setting as an option. What each variable means is in vmdrift(1)
 * ENVIRONMENT; the VMDRIFT_* knobs below "tests and benchmarks" change no
 * result an operator relies on, only how it is reached. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/vd_str.h"

/* A number of seconds, 1 to a day; 0 if unset or not one. */
static long seconds(const char *name) {
        const char *e = getenv(name);
        char *end;
        long v = e && *e ? strtol(e, &end, 10) : 0;
        return e && *e && !*end && v > 0 && v <= 86400 ? v : 0;
}

static bool is(const char *name, const char *value) {
        const char *e = getenv(name);
        return e && strcmp(e, value) == 0;
}

static const char *nonempty(const char *name) {
        const char *e = getenv(name);
        return e && *e ? e : NULL;
}

const cli_env *cli_env_get(void) {
        static cli_env env;
        static bool read;
        if (read)
                return &env;
        read = true;
        env.host.tmp_dir = nonempty("TMPDIR");
        env.host.walker = nonempty("VMDRIFT_WALKER");
        /* the direct backend needs no daemon; a domain's disks are found
         * through libvirt all the same. The operator's choice stands. */
        env.host.guestfs_backend = getenv("LIBGUESTFS_BACKEND") ? NULL : "direct";
        env.sudo_user = nonempty("SUDO_USER");
        env.host.state_directory = nonempty("STATE_DIRECTORY");
        env.test_stop_at = nonempty("VMDRIFT_TEST_STOP_AT");
        const char *d = getenv("VMDRIFT_DEBUG");
        env.debug = d && *d && *d != '0';
        env.no_color = nonempty("NO_COLOR") != NULL;
        env.host.notice = cli_notice;
        env.test_worker_dies = nonempty("VMDRIFT_TEST_WORKER_DIES");
        uint64_t hm;
        const char *hms = getenv("VMDRIFT_HOST_HASH_MIN");
        if (hms && vd_parse_u64(hms, &hm) && hm > 0)
                env.host.host_hash_min = hm;
        env.host.knobs.launch_timeout_s = seconds("VMDRIFT_LAUNCH_TIMEOUT");
        env.host.knobs.kvm_launch_timeout_s = seconds("VMDRIFT_KVM_LAUNCH_TIMEOUT");
        env.host.knobs.emulated_launch_timeout_s = seconds("VMDRIFT_EMULATED_LAUNCH_TIMEOUT");
        /* tests and benchmarks */
        env.host.knobs.delta_verify = is("VMDRIFT_DELTA_VERIFY", "1");
        env.host.knobs.no_read_ahead = is("VMDRIFT_READ_AHEAD", "0");
        env.host.knobs.no_candidate_walk = is("VMDRIFT_CANDIDATE_WALK", "0");
        env.host.knobs.no_block_records = is("VMDRIFT_BLOCK_RECORDS", "0");
        env.host.no_stream = is("VMDRIFT_STREAM", "0");
        return &env;
}
