/* Delta scan, walker half: which regular files of a linked clone are, block
 * for block, the template's.
 *
 * The host gives the walker the byte ranges of each disk that differ from
 * the template image (every cluster a layer above the template holds,
 * including what the appliance itself wrote at mount: a journal replay), and
 * the ext4 geometry recorded when the baseline was captured. Inside the
 * appliance the walker reads each file system's superblock and group
 * descriptors from its block device, and for a regular file proves that
 *   - its inode's slot in the inode table,
 *   - every block of its extent tree below the inode, and
 *   - every data block its extents name
 * lie outside those ranges. With the same geometry (block size, inodes per
 * group, inode size, feature flags, the place of every group's inode table),
 * that inode is byte for byte the template's inode of the same number, with
 * the same content; the host then takes the hash the baseline recorded for
 * that path if it recorded the same inode number there. Anything else is not
 * proved and is hashed as usual: other file systems, inline data, block-mapped
 * (ext2/3) files, a device that is not a partition or a whole disk, a geometry
 * that differs, an extent tree that is malformed or too large.
 *
 * Geometry lines, one per mounted ext4 file system, are what a capture
 * records (facts fs.ext4.DISK:OFFSET) and what a delta scan expects.
 */
#ifndef VD_DELTA_H
#define VD_DELTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "common/vd_err.h"
#include "formats/vd_ext4.h"
#include "model/vd_scan.h"

#define VD_DELTA_RANGES_MAX      4000000u
#define VD_DELTA_FILE_MAX        ((size_t)256 << 20)
#define VD_DELTA_GEOMETRY_MAX    64u
#define VD_DELTA_TREE_BLOCKS_MAX 4096u /* extent-tree blocks read per file */


typedef struct vd_delta vd_delta;

/* Parse the host's instructions:
 *     vmdrift-delta 1
 *     range DISK OFFSET LENGTH        (bytes; any order, may overlap)
 *     geometry KEY VALUE              (VALUE: the rest of the line)
 *     mounts VALUE                    (vd_delta_mounts at capture; optional)
 * 0, or VD_E_INPUT naming the line and what was expected (VD_E_NOMEM). */
int vd_delta_parse(const char *text, size_t len, vd_delta **ret, vd_err *err);
int vd_delta_load(const char *path, vd_delta **ret, vd_err *err);
/* An empty delta (no ranges, no expectations): geometry only. */
vd_delta *vd_delta_new(void);
void vd_delta_free(vd_delta *d);

/* Does [off, off+len) of disk intersect a changed range? */
bool vd_delta_changed(const vd_delta *d, uint32_t disk, uint64_t off, uint64_t len);
size_t vd_delta_n_ranges(const vd_delta *d);

/* The regular file open at fd (st its fstat): 1 proved, 0 not (*why). Thread-safe. */
int vd_delta_prove(vd_delta *d, int fd, const struct stat *st, int *why);

/* Candidate-only walk (the walker's --reference): is inode ino of the file
 * system on dev, with everything it names (its extent tree and data or
 * directory blocks, its external xattr block), outside the changed ranges,
 * so byte for byte the template's inode of that number? Any type of inode:
 * an unchanged directory lists exactly the template's names and inodes, an
 * unchanged inode stats as the template's did. Only on an ext4 file system
 * whose geometry is the template's, without the ea_inode feature (xattr
 * values in inodes of their own). fd: any file of that file system open, to
 * set the device up on first use, or -1 (then false unless it was). */
bool vd_delta_same(vd_delta *d, int fd, dev_t dev, uint64_t ino);

/* The record of an inode's blocks. A capture notes, for every inode it
 * could prove with vd_delta_same (an empty delta: nothing changed), the
 * blocks that proof consults: its extent tree's blocks, its data or
 * directory blocks, its external xattr block. A delta scan then answers
 * vd_delta_same for that inode without reading it: its slot and every
 * recorded block outside the changed ranges. The same answer, since the
 * slot, unchanged, still names exactly the recorded blocks; what is read
 * is only what changed (the baseline, signed, holds the records).
 * Encoding (vd_entry.blocks): LEB128 numbers, the count of ranges, then per
 * range its distance from the previous range's end and its length, in
 * file-system blocks; sorted and merged. */
#define VD_DELTA_REC_RANGES_MAX 512u
#define VD_DELTA_REC_MAX        ((size_t)(10 + VD_DELTA_REC_RANGES_MAX * 20))
/* The record of inode ino of the file system on dev (fd: a file of it open,
 * to set the device up): 0 with *out malloc'ed, or 0 with *out NULL when
 * there is none to give (not ext4, an inode a delta scan never proves, too
 * many ranges); VD_E_NOMEM. */
int vd_delta_record(vd_delta *d, int fd, dev_t dev, uint64_t ino, unsigned char **out, size_t *len);
/* vd_delta_same for inode ino from its record: 1 same, 0 not (its slot or a
 * recorded block changed, or the device is not the template's), -1 the
 * record cannot say (malformed, out of the file system: read the inode). */
int vd_delta_same_recorded(vd_delta *d, dev_t dev, uint64_t ino, const unsigned char *rec, size_t len);
/* Is rec a well-formed record (bounds, encoding)? */
bool vd_delta_rec_valid(const unsigned char *rec, size_t len);
/* How many inodes the candidate-only walk answered from records, and how
 * many it read. */
void vd_delta_counts(const vd_delta *d, uint64_t *recorded, uint64_t *read);
/* The guest's mounts under root, as one printable line (sorted, at most
 * VD_DELTA_MOUNTS_MAX bytes): "DISK:OFFSET,FSTYPE,SB,MOUNTPOINT ..." with the
 * mount point relative to root as /proc/self/mountinfo escapes it ("-" for a
 * device that is not on a disk); SB, for ext4, "sb=HASH" of the superblock
 * fields other than the geometry that change how the kernel reads inodes and
 * directories (compat and ro_compat features, directory hash seed and
 * version, flags, filename encoding), else "-". A capture records it (fact fs.mounts); the
 * candidate walk runs only when the scan's is the same. 0, or -1 when it
 * cannot be said (too long, unprintable). */
#define VD_DELTA_MOUNTS_MAX 4000u
int vd_delta_mounts(vd_delta *d, const char *root, char *out, size_t cap);
/* The mounts line the host expects ("mounts VALUE" in the delta file), or NULL. */
const char *vd_delta_expected_mounts(const vd_delta *d);
/* Is path (relative to the walk's root, raw bytes) a mount point of the
 * expected mounts? */
bool vd_delta_is_mount(const vd_delta *d, const char *path, size_t len);

/* Compute the geometry of every ext4 file system mounted at or below root
 * (from /proc/self/mountinfo) and write one line "geometry KEY VALUE" each to
 * out (NULL: only set the devices up, before a walk: a delta scan turns
 * their readahead off). Returns how many. */
int vd_delta_print_geometry(vd_delta *d, const char *root, void *out /* FILE* */);

/* The geometry line of an ext4 file system image's superblock and group
 * descriptor table as read through rd (tests: the same computation on a
 * host image). key: "DISK:OFFSET". 0 or -1 (not ext4 or unsupported). */
typedef vd_ext4_reader vd_delta_reader;
int vd_delta_geometry_of(vd_delta_reader rd, void *ud, uint64_t dev_size, char *value, size_t vlen);

/* Tests: prove inode ino of an ext4 file system read through rd as disk 0
 * at offset 0 (no geometry expectation). 1 proved, 0 not (*why). */
int vd_delta_prove_image(vd_delta *d, vd_delta_reader rd, void *ud, uint64_t dev_size, uint64_t ino, int *why);
/* Tests: vd_delta_same for inode ino of such an image. 1 same, 0 not (*why). */
int vd_delta_same_image(vd_delta *d, vd_delta_reader rd, void *ud, uint64_t dev_size, uint64_t ino, int *why);
/* Tests: vd_delta_record for inode ino of such an image: 1 recorded (*out
 * malloc'ed), 0 none, VD_E_NOMEM. */
int vd_delta_record_image(vd_delta *d, vd_delta_reader rd, void *ud, uint64_t dev_size, uint64_t ino,
                          unsigned char **out, size_t *len);
/* Tests: vd_delta_same_recorded for inode ino of such an image. */
int vd_delta_same_recorded_image(vd_delta *d, vd_delta_reader rd, void *ud, uint64_t dev_size, uint64_t ino,
                                 const unsigned char *rec, size_t len);

#endif
