/* Writes rcf model snapshots (rcf_model_conf.h's config) as the seed corpus of fuzz_rcf_model:
 * keys still holding records (0, 1, 40 and 300 of them) and keys past their shingle choice.
 *   make_rcf_model_corpus DIR (run by hand; its output is committed) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "models/rcf.h"
#include "rcf_model_conf.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_rcf_model_corpus DIR\n");
        return 2;
    }
    void *conf = fuzz_model_conf();
    static const int records[] = {0, 1, 40, 300, 520, 900};
    for (size_t c = 0; conf != NULL && c < sizeof records / sizeof records[0]; c++) {
        void *m;
        char err[256];
        if (rcfd_model_rcf.create(conf, 1, 7 + c, &m, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        for (int i = 0; i < records[c]; i++) {
            double v = 5 * sin(2 * M_PI * i / 12.0) + (i % 97 == 50 ? 9.0 : 0.0);
            const void *res;
            rcfd_model_rcf.process(m, &v, 1, &res);
        }
        rcfd_buf_t b = {0};
        char path[4096];
        snprintf(path, sizeof path, "%s/seed-%zu-records-%d.bin", argv[1], c, records[c]);
        FILE *f = fopen(path, "wb");
        if (rcfd_model_rcf.save(m, &b) != 0 || f == NULL || fwrite(b.p, 1, b.len, f) != b.len) {
            perror(path);
            return 1;
        }
        fclose(f);
        rcfd_buf_free(&b);
        rcfd_model_rcf.destroy(m);
    }
    fuzz_model_conf_free(conf);
    return conf == NULL;
}
