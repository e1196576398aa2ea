/* Between the configuration collector (vd_confscan.c) and the registry's
 * (vd_regscan.c): one collection run's state and the steps both share. */
#ifndef VD_CONFSCAN_INT_H
#define VD_CONFSCAN_INT_H

#include "analyse/vd_confscan.h"

typedef struct vd_regcache vd_regcache;

typedef struct cctx {
        vd_source *src;
        const vd_entry_view *entries;
        vd_scan *scan;
        vd_err *err;
        bool including;   /* expanding an Include/@includedir: sudo reads names with newlines too */
        vd_regcache *reg; /* hives opened in this run (vd_regscan.c); NULL until one is */
} cctx;

typedef struct item_run {
        const vd_conf_item *it;
        vd_confset *merged; /* merge: the one set */
        const unsigned char *key;
        size_t key_len;
        vd_confsets *out;
        vd_events *violations;
        size_t files; /* read for this item */
} item_run;

/* A set is complete: desired-state checks on its clear values, then its
 * secret values keyed. */
int vd_confscan_finish_set(cctx *c, item_run *ir, vd_confset *set);
/* file (or hive) was only partly read (why): a warning and a finding of at
 * least high. */
int vd_confscan_limit(cctx *c, item_run *ir, const char *file, const char *why);

/* vd_regscan.c: the sets of a registry item (format VD_CF_REGISTRY), read
 * from the guest's hives; and the hives' release at the end of a run. */
int vd_regscan_item(cctx *c, item_run *ir);
/* A Windows guest's local accounts (its SAM's names and the machine's SID)
 * onto the scan (vd_scan_add_sid_name), for owners and ACLs to be named. */
int vd_regscan_accounts(cctx *c);
void vd_regscan_release(cctx *c);

#endif
