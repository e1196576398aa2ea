/* How the libguestfs appliance's qemu is accelerated, and what this host
 * remembers about it.
 *
 * KVM is used when it works and never required. Some hosts have a /dev/kvm
 * whose KVM makes qemu abort at the appliance's first instruction (nested
 * cloud VMs: "failed to set MSR 0x10a"); there the guest source launches once
 * more under software emulation (TCG) and remembers the outcome in the state
 * directory, keyed by kernel and qemu binary, for a day, so that later runs
 * do not pay the failed launch again.
 */
#ifndef VD_ACCEL_H
#define VD_ACCEL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/vd_err.h"

enum vd_accel {
        VD_ACCEL_AUTO = 0, /* KVM if it works, else emulation (default) */
        VD_ACCEL_KVM = 1,  /* KVM or fail: never falls back */
        VD_ACCEL_TCG = 2,  /* software emulation, no KVM attempt */
};

#define VD_ACCEL_FILE "accel"
#define VD_ACCEL_REMEMBER_S (24 * 3600)

/* "auto", "kvm", "tcg" -> enum; -1 for anything else. */
int vd_accel_from_name(const char *s);

/* The host's identity for the memory: kernel release and build, the qemu
 * binary's path and modification time (an upgrade of either rechecks).
 * hv: the hypervisor libguestfs runs. Written into out (NUL-terminated). */
void vd_accel_host_key(const char *hv, char *out, size_t n);

/* Parse a memory file's text: true if it says KVM failed on host_key at a
 * time t with now - VD_ACCEL_REMEMBER_S < t <= now (*ret_since = t).
 * Anything else (another host, stale, malformed) is false. */
bool vd_accel_parse(const char *text, size_t len, const char *host_key, int64_t now, int64_t *ret_since);

/* The memory file's text for host_key at time now, into out. */
void vd_accel_format(const char *host_key, int64_t now, char *out, size_t n);

/* Read state_dir/accel: true if KVM is remembered as failing on this host
 * (see vd_accel_parse). A missing, foreign or untrusted file is false. */
bool vd_accel_recall(const char *state_dir, const char *hv, int64_t now, int64_t *ret_since);
/* Remember that KVM failed now (the state directory is created if missing). */
int vd_accel_remember(const char *state_dir, const char *hv, int64_t now, vd_err *err);
/* Forget it (KVM worked). */
void vd_accel_forget(const char *state_dir);

/* Whether qemu would try KVM at all: /dev/kvm opens read-write (what
 * libguestfs checks). */
bool vd_accel_kvm_openable(void);

#endif
