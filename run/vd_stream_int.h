/* A SCAN that streams (private to run/): the source's entries go through
 * the compare as the walk hands them on, the baseline's come from its file
 * (vd_baseline_open_lazy), and nothing holds either list: only the scan's
 * entries that differ from the baseline's are kept, over the baseline's
 * file, for the configuration files to be found in (vd_entry_view). */
#ifndef VD_STREAM_INT_H
#define VD_STREAM_INT_H

#include "run/vd_pipeline.h"

typedef struct vd_stream vd_stream;

/* Walk o's source and compare it with run->base as it goes: out gets the
 * file drift events, the scan's warnings and counters, the entry count and
 * the guest's last sign of life (files under /var/log whose mtime is not
 * more than a day after since_ns). *ret lives until the views are used. */
int vd_stream_walk(const vd_run *run, const vd_scan_opts *o, int64_t since_ns, vd_run_out *out, vd_stream **ret,
                   vd_err *err);
/* A CAPTURE into run->writer: each entry written as the walk hands it on;
 * out gets the warnings, counters and the entry count. */
int vd_stream_capture(const vd_run *run, const vd_scan_opts *o, vd_run_out *out, vd_err *err);

/* The scan's entries: the baseline's file with the scan's differences over it. */
vd_entry_view vd_stream_now(vd_stream *s);
/* The baseline's entries. */
vd_entry_view vd_stream_base(vd_stream *s);
/* 0, or what a view could not read (the baseline's file): the scan fails. */
int vd_stream_check(const vd_stream *s, vd_err *err);
void vd_stream_free(vd_stream *s);

#endif
