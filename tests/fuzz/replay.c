/* Replays a fuzz corpus as a normal test: every file in each directory given
 * on the command line goes through LLVMFuzzerTestOneInput once. Built with
 * gcc for the test suite (and under ASan/UBSan in the sanitizer build); the
 * same targets link against libFuzzer when VD_FUZZ=ON with clang.
 *
 * Each input runs in a child of its own, so that a crash or abort on one is
 * counted and named, not the end of the run; any failed or unreadable input
 * fails the replay, whichever build runs it (the sanitizer build also fails
 * on the sanitizers' reports, through ctest). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
        size_t n = 0, failed = 0;
        for (int i = 1; i < argc; i++) {
                DIR *d = opendir(argv[i]);
                if (!d) {
                        fprintf(stderr, "replay: cannot open corpus '%s'\n", argv[i]);
                        return 1;
                }
                struct dirent *de;
                while ((de = readdir(d))) {
                        if (de->d_name[0] == '.')
                                continue;
                        char p[4096];
                        snprintf(p, sizeof p, "%s/%s", argv[i], de->d_name);
                        n++;
                        FILE *f = fopen(p, "rb");
                        if (!f) {
                                fprintf(stderr, "replay: %s: cannot read\n", p);
                                failed++;
                                continue;
                        }
                        fseek(f, 0, SEEK_END);
                        long len = ftell(f);
                        rewind(f);
                        uint8_t *buf = malloc(len > 0 ? (size_t)len : 1);
                        size_t got = buf ? fread(buf, 1, len > 0 ? (size_t)len : 0, f) : 0;
                        fclose(f);
                        if (!buf || (len > 0 && got != (size_t)len)) {
                                fprintf(stderr, "replay: %s: cannot read\n", p);
                                free(buf);
                                failed++;
                                continue;
                        }
                        fflush(NULL);
                        pid_t pid = fork();
                        if (pid == 0) {
                                LLVMFuzzerTestOneInput(buf, got);
                                free(buf);
                                _exit(0);
                        }
                        int st = 0;
                        if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                                fprintf(stderr, "replay: %s: %s %d\n", p, WIFSIGNALED(st) ? "killed by signal" : "exit",
                                        WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
                                failed++;
                        }
                        free(buf);
                }
                closedir(d);
        }
        if (n == 0) {
                fprintf(stderr, "replay: empty corpus\n");
                return 1;
        }
        printf("%zu passed, %zu failed\n", n - failed, failed);
        return failed ? 1 : 0;
}
