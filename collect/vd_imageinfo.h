/* What qemu says an image file is, read as untrusted input: the file's
 * header was written by whoever controls the image (a guest can write a
 * qcow2 header into the first sector of its raw disk, naming a host file as
 * its "backing file").
 */
#ifndef VD_IMAGEINFO_H
#define VD_IMAGEINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/vd_err.h"

#define VD_IMAGE_CHAIN_MAX 16

#define VD_IMAGE_EXTERNAL_MAX 32

typedef struct vd_image_info {
        char format[32];         /* "raw", "qcow2", ... */
        char *backing;           /* the backing file qemu would open (absolute), or NULL */
        char backing_format[32]; /* as the header names it, or "" */
        /* Other files the header makes qemu read: a qcow2 external data
         * file, a vmdk descriptor's extents; as named (relative names are
         * the image's directory's). At most VD_IMAGE_EXTERNAL_MAX. */
        char *external[VD_IMAGE_EXTERNAL_MAX];
        size_t n_external;
} vd_image_info;

void vd_image_info_release(vd_image_info *i);

/* Parse the JSON of `qemu-img info --output=json` (one image): bounded,
 * strict where it matters (format, backing file), the rest skipped. */
int vd_image_info_parse(const char *json, size_t len, vd_image_info *out, vd_err *err);

/* Run qemu-img info on path (format NULL: probed) and parse it. */
int vd_image_probe(const char *path, const char *format, vd_image_info *out, vd_err *err);

/* Walk the backing chain of path, refusing any backing file or external
 * file (data file, extent) that is not in the image's own directory, nor
 * one of allow[] (files or directories);
 * ret_format: the top image's format (to pass to libguestfs, so that
 * nothing is probed twice). */
int vd_image_check_chain(const char *path, const char *format, const char *const *allow, size_t n_allow,
                         char ret_format[32], vd_err *err);

/* A process (a running VM's qemu) holds a lock on the image; our own
 * shared appliance's locks count too (vd_guest_image_in_use does not). */
bool vd_image_in_use(const char *path);

/* As vd_image_check_chain, and every image of the chain, top first, as
 * real paths (malloc'ed, each and the array: vd_image_files_free); index i
 * is the image of depth i. */
int vd_image_chain(const char *path, const char *format, const char *const *allow, size_t n_allow,
                   char ***ret_files, size_t *ret_n, vd_err *err);
/* As vd_image_chain, with each image followed by the external files its
 * header names (a data file: the guest's bytes are there, not in the image
 * file): every file a scan of path reads. */
int vd_image_chain_files(const char *path, const char *format, const char *const *allow, size_t n_allow,
                         char ***ret_files, size_t *ret_n, vd_err *err);
void vd_image_files_free(char **files, size_t n);

/* The byte ranges of the image at path (format given) that a layer of
 * depth below `below` holds (depth 0: the image itself, 1: its backing
 * file...), from `qemu-img map --output=json`, read as untrusted input
 * (entries in order, contiguous, within size_max): fn for each, in order.
 * fn's negative return stops and is returned. */
#define VD_IMAGE_MAP_MAX ((size_t)512 << 20)
int vd_image_map_changed(const char *path, const char *format, int64_t below, uint64_t size_max,
                         int (*fn)(void *ud, uint64_t start, uint64_t len), void *ud, vd_err *err);
int vd_image_map_parse(const char *json, size_t len, int64_t below, uint64_t size_max,
                       int (*fn)(void *ud, uint64_t start, uint64_t len), void *ud, vd_err *err);

/* The UUID of the ext2/3/4 or vfat file system whose first n bytes (2,048
 * for ext) are b, spelt as blkid spells it; "" if it is neither. A shared
 * appliance reads the guest's devices' first blocks in-daemon instead of
 * running blkid (a process per device, half a second under emulation). */
void vd_fs_uuid(const unsigned char *b, size_t n, char out[40]);

#endif
