/* Writes rcf model snapshots (rcf_model_conf.h's config) as the seed corpus of fuzz_rcf_model:
 * keys still holding records (0, 1, 40 and 300 of them) and keys past their shingle choice; two
 * also impute (impute "rcf", every 13th value missing), so they carry the impute section; the last
 * two have a period of 60, past the cap of 32, so they carry the dilation section (and the last
 * imputes through it).
 *   make_rcf_model_corpus DIR (run by hand; its output is committed) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "models/impute.h"
#include "models/rcf.h"
#include "rcf_model_conf.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_rcf_model_corpus DIR\n");
        return 2;
    }
    void *conf = fuzz_model_conf();
    static const int records[] = {0, 1, 40, 300, 520, 900, 300, 900, 700, 900};
    static const double period[] = {12, 12, 12, 12, 12, 12, 12, 12, 60, 60};
    static char *name[] = {"value"};
    const rcfd_strlist_t fields = {name, 1};
    const rcfd_model_type_t *types[] = {&rcfd_model_rcf};
    for (size_t c = 0; conf != NULL && c < sizeof records / sizeof records[0]; c++) {
        void *m;
        char err[256];
        if (rcfd_model_rcf.create(conf, 1, 7 + c, &m, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        int imputing = c == 6 || c == 7 || c == 9;
        rcfd_impute_conf_t ic = {.method = RCFD_IMPUTE_RCF, .max_consecutive = 10};
        for (int i = 0; i < records[c]; i++) {
            double v = 5 * sin(2 * M_PI * i / period[c]) + (i % 97 == 50 ? 9.0 : 0.0);
            unsigned char missing = i % 13 == 5;
            rcfd_impute_outcome_t io;
            if (imputing && rcfd_impute_record(&ic, types, &m, 1, &fields, &v, &missing, &io, err,
                                               sizeof err) != 0) {
                continue;
            }
            const void *res;
            rcfd_model_rcf.process(m, &v, 1, &res);
        }
        rcfd_buf_t b = {0};
        char path[4096];
        snprintf(path, sizeof path, "%s/seed-%zu-records-%d%s%s.bin", argv[1], c, records[c],
                 period[c] > 32 ? "-dilated" : "", imputing ? "-impute" : "");
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
