/* Windows registry hives (SYSTEM, SOFTWARE, SAM, SECURITY, a user's
 * NTUSER.DAT) as configuration values, read with hivex. The bytes come from
 * the guest: hivex opens them strictly (a hive it cannot trust is an error,
 * never half-read), and every walk is bounded in depth, keys and values; a
 * limit reached leaves the settings partial and says so.
 *
 * A key's values become settings "Sub\Key\Name" = value below the key
 * asked for (its own values: "Name"; the unnamed default value: "(default)"):
 *   REG_SZ, REG_EXPAND_SZ, REG_LINK   the string (UTF-8), unexpanded
 *   REG_DWORD, REG_QWORD             decimal
 *   REG_MULTI_SZ                     the strings, one per line
 *   anything else                    "hex:..." (over 64 bytes: the first 32
 *                                    and "... (N bytes, sha256:...)")
 * Keys compare case-insensitively, as Windows does.
 */
#ifndef VD_HIVE_H
#define VD_HIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/vd_err.h"
#include "formats/vd_config.h"

#define VD_HIVE_FILE_MAX ((size_t)512 << 20) /* a big SOFTWARE hive is 100-200 MB */
#define VD_HIVE_DEPTH_MAX 8                  /* subkey levels below the key asked for */
#define VD_HIVE_KEYS_MAX 200000              /* keys visited in one walk */
#define VD_HIVE_KEY_PATH_MAX 1024

/* A registry key as a policy writes it, in the short form events carry:
 * "HKLM\\SOFTWARE\\...", "HKEY_LOCAL_MACHINE\\SYSTEM\\..." -> "HKLM\\SYSTEM\\...",
 * "HKU\\NAME\\..." or "HKEY_USERS\\*\\..." (a user profile's NTUSER.DAT; *
 * for every profile). The HKLM hives are SOFTWARE, SYSTEM, SAM and SECURITY.
 * 0, or -1 with *why saying what was expected. */
int vd_reg_key_normalise(const char *in, char *out, size_t outsz, const char **why);
/* Does key (a set's name: "HKU\\ops\\Software\\...") fall under pattern (a
 * normalised policy key, "*" standing for one user), case-insensitively? */
bool vd_reg_key_match(const char *pattern, const char *key);

typedef struct vd_hive vd_hive;

/* Open a hive from its bytes (copied; buf may go after). file names it in
 * messages. VD_E_INPUT when hivex refuses it (not a hive, or corrupt). */
int vd_hive_open(const char *file, const void *buf, size_t len, vd_hive **ret, vd_err *err);
void vd_hive_close(vd_hive *h); /* NULL is fine */

/* The values of key (components separated by '\', below the hive's root;
 * "" for the root) and of its subkeys down to depth levels, into out (keys
 * as above, file the hive's name, line 0). In a SYSTEM hive a first
 * component "CurrentControlSet" is the control set Select\Current names.
 * Returns 0, 1 when key is not in the hive (out untouched), or an error;
 * keys and values past a limit are left out and out->partial is set. */
int vd_hive_values(vd_hive *h, const char *key, unsigned depth, vd_settings *out, vd_err *err);

/* The same, every value as its bytes ("hex:..."), whatever its type says:
 * for keys whose values abuse the type, as SAM's membership lists do (the
 * type is the count, so a list of one group reads as REG_SZ). */
int vd_hive_values_raw(vd_hive *h, const char *key, unsigned depth, vd_settings *out, vd_err *err);

/* The subkey names of key (malloc'd array of malloc'd UTF-8 names, *n of
 * them, at most max): how the account detector lists SAM's users. 1 when
 * key is absent. */
int vd_hive_subkeys(vd_hive *h, const char *key, size_t max, char ***names, size_t *n, vd_err *err);

/* The local accounts of a SAM hive: the machine's SID (the last 24 bytes
 * of Domains\Account's V value, S-1-5-21-A-B-C; "" when that is not one)
 * and each name of Domains\Account\Users\Names with its RID (the type of
 * the name's default value). At most max names (*more says there were
 * more); *names malloc'd, each name malloc'd UTF-8. 1 when the hive has no
 * Account domain. */
typedef struct vd_sam_account {
        char *name;
        uint32_t rid;
} vd_sam_account;
#define VD_SID_TEXT_MAX 192
int vd_hive_sam_accounts(vd_hive *h, size_t max, char machine_sid[VD_SID_TEXT_MAX], vd_sam_account **names,
                         size_t *n, bool *more, vd_err *err);
void vd_sam_accounts_free(vd_sam_account *v, size_t n);

#endif
