/* Host-side hashing, walker half: where a regular file's bytes lie on the
 * guest's disks.
 *
 * Inside the appliance the walker asks the kernel for a file's extents
 * (FIEMAP) and maps each one from its file system's device to a whole disk
 * (a partition's start, or the segments of a linear device-mapper volume),
 * so the host can read exactly those byte ranges from the image and hash
 * them natively. The host parses no file system: it reads ranges the
 * appliance named. Whatever cannot be named that way is hashed in the
 * appliance, file by file, and counted under one of the reasons below.
 */
#ifndef VD_EXTENTS_H
#define VD_EXTENTS_H

#include <stdint.h>
#include <sys/stat.h>

#include "model/vd_entry.h"
#include "model/vd_scan.h"


#define VD_EXTENTS_MAX 65536u /* per file */
#define VD_DISKS_MAX 256u
/* drives of an appliance: several guests' disks, and the scratch disk */
#define VD_DRIVES_MAX 256u

/* Map the regular file open at fd (st: its fstat) to disk extents. Returns 0
 * with *ret (malloc'ed, owned by the caller), 1 with *reason when it must be
 * hashed in the appliance, or VD_E_NOMEM. Linux only; thread-safe. */
int vd_extents_map(int fd, const struct stat *st, vd_extent_map **ret, int *reason);

/* The file system device dev (fd: a file on it) as one piece of one disk (a
 * partition or a whole disk; ext2/3/4 or XFS, not data=journal): 0 with
 * the disk, the device's byte offset on it and its size; 1 otherwise. */
/* The drives that are this guest's disks: drive number first+k is disk k
 * (several guests share one appliance; default: every drive, from 0). */
void vd_extents_set_disks(unsigned first, unsigned count);
int vd_extents_device(int fd, dev_t dev, uint32_t *disk, uint64_t *start, uint64_t *size);

/* "sda" -> 0, "sdb" -> 1, "sdaa" -> 26 (also vd*, hd*, xvd*); -1 if not a disk name.
 * (For SCSI disks the walker uses the target number instead: see vd_extents.c.) */
int vd_disk_index(const char *name);

#endif
