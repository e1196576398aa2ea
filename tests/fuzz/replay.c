/* Replays a fuzz corpus as a normal test: every file in each directory given
 * on the command line goes through LLVMFuzzerTestOneInput once. Built with
 * gcc for the test suite (and under ASan/UBSan in the sanitizer build); the
 * same targets link against libFuzzer when VD_FUZZ=ON with clang. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
        size_t n = 0;
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
                        FILE *f = fopen(p, "rb");
                        if (!f)
                                continue;
                        fseek(f, 0, SEEK_END);
                        long len = ftell(f);
                        rewind(f);
                        uint8_t *buf = malloc(len > 0 ? (size_t)len : 1);
                        size_t got = fread(buf, 1, len > 0 ? (size_t)len : 0, f);
                        fclose(f);
                        LLVMFuzzerTestOneInput(buf, got);
                        free(buf);
                        n++;
                }
                closedir(d);
        }
        if (n == 0) {
                fprintf(stderr, "replay: empty corpus\n");
                return 1;
        }
        printf("%zu passed, 0 failed\n", n);
        return 0;
}
