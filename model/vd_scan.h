/* What one look at a source found: its entries, facts (OS, distro,
 * mountpoints...), installed packages, warnings and the counters of how it
 * was done (which files were hashed where, what a delta scan proved). The
 * data model every layer above common/ shares; collect/ fills it, analyse/
 * and run/ read it, baseline/ stores its parts. Functions here own nothing
 * they are given: each add copies.
 */
#ifndef VD_SCAN_H
#define VD_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "model/vd_entry.h"

/* Why a file was hashed in the appliance rather than on the host. */
enum vd_hash_fallback {
        VD_FB_SMALL = 0,   /* under the size where a host read pays off */
        VD_FB_FSTYPE,      /* a file system whose extents are not disk offsets (btrfs...) */
        VD_FB_DEVICE,      /* a device we cannot map to a disk (md, LUKS, non-linear LVM...) */
        VD_FB_INLINE,      /* data inline in the inode or a tail block */
        VD_FB_ENCODED,     /* encoded, compressed, encrypted, unknown or delayed extents */
        VD_FB_JOURNAL,     /* data journalling: the newest bytes may be in the journal */
        VD_FB_EXTENTS,     /* more extents than VD_EXTENTS_MAX */
        VD_FB_FIEMAP,      /* the kernel would not say (FIEMAP failed) */
        VD_FB_HOST,        /* the host could not read the disk (see the scan's warnings) */
        VD_FB_N
};

/* Short names for reports: "small", "file-system", ... */
const char *vd_hash_fallback_name(int reason);

/* Why a regular file was not proved (counted by the walker). */
enum vd_delta_why {
        VD_DW_CHANGED = 0, /* a block of it is in a changed range: the usual reason */
        VD_DW_FS,          /* not ext4, or a device we cannot read or map */
        VD_DW_GEOMETRY,    /* the file system's geometry is not the template's */
        VD_DW_LAYOUT,      /* inline data, block-mapped, not a regular inode */
        VD_DW_MALFORMED,   /* an inode or extent block that does not parse, or too many */
        VD_DW_N
};
const char *vd_delta_why_name(int why);

/* A fact about the source: OS type, distro, hostname, mountpoints... */
typedef struct vd_fact {
        char *key, *value;
} vd_fact;

/* An installed package, from the guest's own package database. */
typedef struct vd_package {
        char *name, *version, *release, *arch;
        int32_t epoch;
        /* The source package it was built from and that source's version,
         * where the database says and they differ from the binary's (dpkg's
         * "Source: glibc", "Source: openssl (3.0.11-1~deb12u2)"); else NULL.
         * Advisories name source packages. */
        char *source, *source_version;
} vd_package;

/* What a scan covered in numbers, as every record of it carries them (its
 * report, a kept report, a fleet worker's outcome, the fleet's state): the
 * entries looked at, the files hashed and the bytes read for that. A plain
 * value, copied whole. */
typedef struct vd_scan_totals {
        uint64_t entries, files_hashed, bytes_hashed;
} vd_scan_totals;

/* How a scan was done: what it hashed and where, what a delta scan proved,
 * how a guest was opened. One struct, so that a report borrows it whole
 * (vd_report.stats) and the walker's manifest carries it, instead of each
 * layer copying counters one by one. A plain value. */
typedef struct vd_scan_stats {
        uint64_t files_hashed, bytes_hashed; /* by us (both places), and read for that */
        /* Host-side hashing: files the walker mapped for the host; of
         * those, hashed on the host and the bytes the host read; files
         * hashed in the appliance instead, by reason (enum vd_hash_fallback). */
        uint64_t files_mapped, host_files, host_bytes;
        uint64_t hash_fallback[VD_FB_N];
        bool host_hashing;         /* was on for this scan */
        char host_hashing_off[160]; /* or why not ("" when asked for --hash-in appliance) */
        uint64_t quick_reused; /* --quick: hashes taken from the reference */
        /* Delta scan (collect/vd_delta.h): files the walker proved unchanged
         * since the template; of those, hashes taken from the baseline; the
         * rest by why they were not proved. delta: it ran; delta_off: or why
         * not ("" when it was not asked for). */
        bool delta;
        char delta_off[200];
        uint64_t delta_proved, delta_reused, delta_why[VD_DW_N];
        uint64_t delta_changed_bytes; /* of the disks: what the layers above the template hold */
        /* the candidate-only walk: ran (entries taken from the baseline
         * unread: delta_unvisited), or why the whole tree was walked */
        bool delta_walk;
        char delta_walk_off[200];
        uint64_t delta_unvisited;
        /* of the inodes it proved unchanged: answered from the baseline's
         * records of their blocks, and read (vd_delta_record) */
        uint64_t delta_inodes_recorded, delta_inodes_read;
        bool layout_reused;    /* a guest mounted from the baseline's layout, not inspected */
        bool is_guest;         /* from a guest (launch and mount mean something) */
        /* guests: the appliance was started for an earlier guest of this
         * process (vd_guest_share_new), not for this one; how many guests'
         * disks it holds (1: its own) */
        bool appliance_shared;
        unsigned appliance_guests;
        int64_t launch_ns, mount_ns; /* guests: appliance start; inspection or layout check, and mounts */
        int64_t hash_ns;             /* guests: hashing on the host after the walk (part of the walk) */
        /* YARA (run/vd_yarascan.h): it ran; files and bytes matched, of
         * those files from the host hashing's own buffers; files matched
         * in part (over max_file), left unmatched (max_total spent), timed
         * out; the time after the compare (the tap's is in hashing) */
        bool yara;
        uint64_t yara_files, yara_bytes, yara_tapped, yara_over, yara_skipped, yara_timeouts;
        int64_t yara_ns;
} vd_scan_stats;

/* A SID the guest itself names (a Windows guest's local accounts, from its
 * SAM): its text form and the name shown for it ("HOST\\ops"). */
typedef struct vd_sid_label {
        char *sid, *name;
} vd_sid_label;

/* What one walk of a source produced. Owns everything it points to. */
typedef struct vd_scan {
        vd_entries entries; /* sorted by path */
        vd_warning *warnings;
        size_t n_warnings, warnings_alloc;
        vd_scan_stats st;
        int64_t started_ns, duration_ns;
        int hash_algo;
        bool owners_resolved; /* the source had its own etc/passwd */
        bool may_be_inconsistent;
        vd_fact *facts; /* sorted by key */
        size_t n_facts, facts_alloc;
        vd_package *packages; /* sorted by name, arch */
        size_t n_packages, packages_alloc;
        bool packages_known; /* the package database was read (or is the baseline's, unchanged) */
        /* a shared appliance: the other guests whose disks it holds, one
         * name a line (a guest that subverted its kernel could have
         * falsified this report); NULL otherwise. Owned. */
        char *appliance_peers;
        vd_sid_label *sid_names; /* sorted by SID: a guest's local accounts */
        size_t n_sid_names, sid_names_alloc;
} vd_scan;

void vd_scan_init(vd_scan *s);
void vd_scan_release(vd_scan *s);
int vd_scan_warn(vd_scan *s, const char *path, size_t path_len, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
int vd_scan_add_fact(vd_scan *s, const char *key, const char *value);
int vd_scan_add_package(vd_scan *s, const char *name, int32_t epoch, const char *version, const char *release,
                        const char *arch);
/* Record the source package of the package added last (either may be NULL). */
int vd_scan_set_package_source(vd_scan *s, const char *source, const char *source_version);
/* Append a copy of p, source included. */
int vd_scan_copy_package(vd_scan *s, const vd_package *p);
/* Sort facts and packages (sources call this once they are done). */
void vd_scan_sort_inventory(vd_scan *s);
const char *vd_scan_fact(const vd_scan *s, const char *key);
int vd_scan_add_sid_name(vd_scan *s, const char *sid, const char *name);
/* The guest's name for sid (len bytes), or NULL. */
const char *vd_scan_sid_name(const vd_scan *s, const char *sid, size_t len);
void vd_facts_free(vd_fact *f, size_t n);
void vd_packages_free(vd_package *p, size_t n);

#endif
