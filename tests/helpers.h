/* Test helpers: temporary trees and running the real vmdrift binary. */
#ifndef VD_TEST_HELPERS_H
#define VD_TEST_HELPERS_H

#include <stddef.h>

/* A fresh directory under $TMPDIR (or /tmp); the caller removes it with th_rmtree. */
char *th_mkdtemp(void);
void th_rmtree(const char *path);
/* Write a file (path joined to dir), creating parent directories. */
void th_write(const char *dir, const char *rel, const char *content);
void th_writen(const char *dir, const char *rel, const void *p, size_t n);
char *th_join(const char *dir, const char *rel); /* caller frees */
/* dir/rel in one of 16 rotating static buffers: nothing to free. */
const char *th_path(const char *dir, const char *rel);

/* A state directory for vmdrift at path (0700, made if missing) that knows
 * what the build's own ($STATE_DIRECTORY) learned about this host's KVM: a
 * test's fresh state directory would otherwise try KVM again on a host
 * where it hangs (90 s a time). The tests of that fallback use their own. */
void th_state_dir(const char *path);

typedef struct th_run {
        int status; /* exit code, or 128+signal */
        char *out;  /* stdout, NUL-terminated */
        char *err;  /* stderr */
} th_run;

/* Run argv (NULL-terminated) and collect its output. */
th_run th_exec(const char *const argv[]);
void th_run_free(th_run *r);
/* Run the vmdrift under test with a printf-built argument list split on '\x1f'. */
th_run th_vmdrift(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Count lines of s containing every one of the NULL-terminated needles. */
int th_lines_with(const char *s, ...);

/* The drift events of a JSON report, one a line, scan ids blanked, sorted:
 * two scans' findings compared event for event. Caller frees. */
char *th_drift_lines(const char *json_out);
/* Every line of s, sorted (the same lines, whichever order they came in). Caller frees. */
char *th_sorted_lines(const char *s);

#endif
