/* NTFS security descriptors (ntfs-3g's system.ntfs_acl, the kernel ntfs3
 * driver's system.ntfs_security): a file's owner and group SIDs and its
 * DACL, read from the self-relative form Windows stores. Guest bytes: every
 * offset and count is checked against the buffer; nothing here allocates
 * beyond the caller's vd_buf.
 */
#ifndef VD_NTSD_H
#define VD_NTSD_H

#include <stdbool.h>
#include <stddef.h>

#include "common/vd_buf.h"

#define VD_NTSD_XATTR "system.ntfs_acl"       /* the name entries carry it under */
#define VD_NTSD_ATTRIB_XATTR "system.ntfs_attrib"

/* Does the descriptor let anyone write (Everyone, Users, Authenticated
 * Users, Guests or an anonymous logon allowed write data, append, write
 * DAC or owner, generic write or all; or no DACL at all, which Windows reads
 * as full control for everyone)? -1 if the bytes are no descriptor. */
int vd_ntsd_world_writable(const unsigned char *sd, size_t len);

/* A person's form: "owner BUILTIN\Administrators, group NT AUTHORITY\SYSTEM;
 * allow Everyone: full control; deny S-1-5-21-...-1001: write". SIDs with
 * well-known names are named; others are shown as S-1-... . 0, VD_E_NOMEM,
 * or VD_E_INPUT (malformed: out gets "(malformed security descriptor)"). */
int vd_ntsd_describe(const unsigned char *sd, size_t len, vd_buf *out);

/* The FILE_ATTRIBUTE_* bits as words: "readonly,hidden,system" ("" for none). */
int vd_ntsd_attrib_describe(const unsigned char *v, size_t len, vd_buf *out);

/* A SID as text (S-1-5-32-544) and its well-known name, if any ("" if not). */
int vd_sid_text(const unsigned char *p, size_t len, size_t *used, char *out, size_t outsz);
const char *vd_sid_name(const char *sid);

/* A description (vd_ntsd_describe's) with the SIDs name() knows replaced
 * by their names (a guest's local accounts: "S-1-5-21-...-1000" ->
 * "WIN01\\ops"): into out, 1 when one was, 0 when none was, VD_E_NOMEM. */
typedef const char *(*vd_sid_namer)(void *ctx, const char *sid, size_t len);
int vd_ntsd_rename(const char *desc, size_t len, vd_sid_namer name, void *ctx, vd_buf *out);

#endif
