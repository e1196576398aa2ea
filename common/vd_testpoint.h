/* Test seam: named points where a test can stop the process.
 *
 * With VMDRIFT_TEST_STOP_AT=NAME[,NAME...] in the environment (the CLI
 * passes it to vd_test_points_set), a process that reaches a point of one
 * of those names stops itself (SIGSTOP); the test sees it stopped (waitpid
 * WUNTRACED) and kills it there with SIGKILL. A crash at an exact step,
 * instead of after a guessed delay. Without a list a point costs a test of
 * one pointer.
 *
 * Points: "scan:walked" (after the source walk), "baseline-write:temp" (the
 * temporary file exists), "baseline-write:rows" (every row inserted, before
 * COMMIT), "baseline-write:closed" (committed and closed, before fsync),
 * "baseline-write:renamed" (renamed into place, before the directory fsync).
 */
#ifndef VD_TESTPOINT_H
#define VD_TESTPOINT_H

/* list: borrowed, must outlive the process's points (NULL: none) */
void vd_test_points_set(const char *list);
void vd_test_point(const char *name);

#endif
