/* Writes small valid forest snapshots as the fuzz seed corpus: make_rcf_corpus DIR */
#include <stdio.h>
#include <stdlib.h>

#include "rcfd/rcf.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_rcf_corpus DIR\n");
        return 2;
    }
    static const struct {
        unsigned dim, trees, sample, shingle, records;
    } cases[] = {
        {1, 1, 10, 1, 0}, {1, 2, 10, 1, 5}, {1, 3, 10, 1, 40}, {2, 2, 12, 1, 30},
        {1, 2, 10, 4, 25}, {3, 1, 16, 2, 60}, {2, 3, 10, 3, 3}, {1, 1, 10, 1, 200},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        rcf_params_t p = rcf_params_default(cases[c].dim);
        p.number_of_trees = cases[c].trees;
        p.sub_sample_size = cases[c].sample;
        p.shingle_size = cases[c].shingle;
        p.time_decay = 100;
        p.explain = (int)(c & 1);
        p.seed = c;
        rcf_forest_t *f;
        char err[256];
        if (rcf_forest_new(&p, &f, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        for (unsigned i = 0; i < cases[c].records; i++) {
            double v[3] = {(double)(i % 7), (double)(i % 3) * 0.5, i % 11 == 0 ? 9.0 : 1.0};
            rcf_result_t r;
            rcf_forest_process(f, v, cases[c].dim, &r);
        }
        size_t len = rcf_forest_snapshot_size(f);
        unsigned char *buf = malloc(len);
        rcf_forest_save(f, buf, len, &len);
        char path[4096];
        snprintf(path, sizeof path, "%s/seed-%02zu.bin", argv[1], c);
        FILE *out = fopen(path, "wb");
        if (out == NULL || fwrite(buf, 1, len, out) != len) {
            perror(path);
            return 1;
        }
        fclose(out);
        free(buf);
        rcf_forest_destroy(f);
    }
    return 0;
}
