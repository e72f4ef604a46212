/* The HOTSPOTS fuzz seed corpus (tests/fuzz/corpus/hs_state): small valid snapshots.
 *   test_hs_corpus DIR          checks every seed in DIR is byte-identical to what this build
 *                               writes and loads (fails when the format moved on: regenerate)
 *   test_hs_corpus --write DIR  (re)writes the seeds */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rcfd/hotspots.h"

int main(int argc, char **argv)
{
    int write = argc == 3 && strcmp(argv[1], "--write") == 0;
    if (argc != 2 && !write) {
        fprintf(stderr, "usage: test_hs_corpus [--write] DIR\n");
        return 2;
    }
    const char *dir = argv[argc - 1];
    int failed = 0;
    static const struct {
        unsigned dim, window, min_points, records;
        double radius;
        int flags, algorithm;
    } cases[] = {
        {1, 10, 2, 0, 0.5, 0, 0},   {1, 10, 3, 25, 1.0, 1, 0},  {2, 12, 4, 12, 0.8, 2, 0},
        {2, 20, 5, 60, 1.5, 3, 1},  {3, 16, 3, 40, 2.0, 0, 0},  {4, 10, 10, 10, 5.0, 0, 1},
        {8, 30, 4, 90, 3.0, 2, 0},  {2, 100, 17, 150, 0.2, 0, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        hs_params_t p = hs_params_default(cases[c].dim);
        p.window_size = cases[c].window;
        p.min_points = cases[c].min_points;
        p.scan_radius = cases[c].radius;
        p.only_containing_new = cases[c].flags & 1;
        p.emit_only_on_change = cases[c].flags >> 1;
        p.algorithm = (hs_algorithm_t)cases[c].algorithm;
        p.scale[0] = c % 3 == 2 ? 0.5 : 1.0;
        hs_detector_t *d;
        char err[256];
        if (hs_new(&p, &d, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        for (unsigned i = 0; i < cases[c].records; i++) {
            double v[8];
            for (unsigned k = 0; k < cases[c].dim; k++) {
                v[k] = (double)((i * (k + 3)) % 7) * 0.25 + (i % 5 == 0 ? 4.0 : 0.0);
            }
            hs_process(d, v, cases[c].dim, NULL);
        }
        size_t len = hs_snapshot_size(d);
        unsigned char *buf = malloc(len);
        hs_save(d, buf, len, &len);
        char path[4096];
        snprintf(path, sizeof path, "%s/seed-%02zu.bin", dir, c);
        if (write) {
            FILE *out = fopen(path, "wb");
            if (out == NULL || fwrite(buf, 1, len, out) != len) {
                perror(path);
                return 1;
            }
            fclose(out);
        } else {
            FILE *in = fopen(path, "rb");
            unsigned char *seed = malloc(len + 1);
            size_t got = in != NULL && seed != NULL ? fread(seed, 1, len + 1, in) : 0;
            hs_detector_t *loaded = NULL;
            if (got != len || memcmp(seed, buf, len) != 0 ||
                hs_load(seed, got, &loaded, err, sizeof err) != 0) {
                fprintf(stderr, "%s: missing, stale or not loadable (%s)\n", path,
                        loaded == NULL ? err : "differs");
                failed++;
            }
            hs_destroy(loaded);
            free(seed);
            if (in != NULL) {
                fclose(in);
            }
        }
        free(buf);
        hs_destroy(d);
    }
    printf("%zu seeds %s, %d bad\n", sizeof cases / sizeof cases[0], write ? "written" : "checked",
           failed);
    return failed != 0;
}
