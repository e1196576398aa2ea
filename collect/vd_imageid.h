/* What a shortcut trusts about the template a baseline was captured from.
 *
 * A delta scan takes everything outside a linked clone's own clusters from
 * the baseline, and a twin reuses another clone's report: both claim that
 * the template's bytes are still the captured ones. Those bytes live in
 * every file of the template's chain: the template image, every image
 * below it (a cloud image under the template is common), and any external
 * data file a header names. At capture each such file's identity (inode,
 * size, modification and change times, real path) is recorded as facts
 *   capture.chain.K     N, the number of files of disk K's chain
 *   capture.chain.K.I   "INO SIZE MTIME_NS CTIME_NS PATH", top first
 * and a shortcut holds only while the chain qemu reads now is exactly that
 * list of unchanged files. A write into any of them moves its times; a file
 * put in place of another has another inode and change time.
 *
 * Ownership: identities are plain values; vd_template_unchanged's *ret_tmpl
 * is malloc'ed and the caller's (free), NULL on failure. */
#ifndef VD_IMAGEID_H
#define VD_IMAGEID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collect/vd_source.h"
#include "common/vd_err.h"

#define VD_IMAGE_ID_PATH_MAX 4096
#define VD_IMAGE_ID_FACT_PATH_MAX 3900 /* what a baseline fact (4,096 bytes) holds with the numbers */

typedef struct vd_image_id {
        uint64_t ino, size;
        int64_t mtime_ns, ctime_ns;
        char path[VD_IMAGE_ID_PATH_MAX];
} vd_image_id;

/* The identity of the file at real path path: 0, or -1 with errno (a path
 * too long or holding a newline: ENAMETOOLONG, EINVAL). */
int vd_image_id_of(const char *path, vd_image_id *out);
/* As a fact's value: "INO SIZE MTIME_NS CTIME_NS PATH" (buf of at least
 * VD_IMAGE_ID_PATH_MAX + 96 bytes). */
void vd_image_id_format(const vd_image_id *id, char *buf, size_t n);
/* Strict: four numbers, one space each, an absolute path; false otherwise. */
bool vd_image_id_parse(const char *s, vd_image_id *out);
bool vd_image_id_same(const vd_image_id *a, const vd_image_id *b);

/* At capture: the facts of disk k's chain (image in format, NULL: probed;
 * allow as for vd_image_chain) added to out. */
int vd_template_record(const char *image, const char *format, const char *const *allow, size_t n_allow, size_t k,
                       vd_scan *out, vd_err *err);

/* At scan: is disk k's template, as facts (a baseline's) recorded it, still
 * the captured one, its whole chain included? 0 and *ret_path (the template
 * image, malloc'ed) and ret_format (its recorded format, fact
 * image.K.format); 1 and why when not (or not recorded); <0 out of memory. */
int vd_template_unchanged(const vd_fact *facts, size_t n_facts, size_t k, const char *const *allow, size_t n_allow,
                          char **ret_path, char ret_format[32], char *why, size_t whylen, vd_err *err);

/* Format pinning. A guest writes its own disk's bytes: a raw disk can carry
 * a qcow2 header that names the template as its backing file and pass for
 * a pristine linked clone. The format an image had when vmdrift first
 * opened it is remembered in the state directory (formats/<sha256 of its
 * real path>, "FORMAT\n"); a probe that finds another is refused.
 *
 * vd_image_format_pinned: the remembered format in out ("" if none, or no
 * usable state directory). vd_image_format_pin: format is what the image
 * is read as now; forced (--image-format, libvirt's XML, the inventory):
 * remembered as the new pin; else the first sight is remembered and a
 * change refused (VD_E_SOURCE, naming the image and what to do). A state
 * directory that cannot be used pins nothing (debug line). */
void vd_image_format_pinned(const char *state_dir, const char *path, char out[32]);
int vd_image_format_pin(const char *state_dir, const char *path, const char *format, bool forced, vd_err *err);

#endif
