/* Writes valid anomaly_novelty states, sealed as snapshots, as the fuzz seed corpus:
 * make_novelty_corpus DIR (run by hand; its output is committed). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/snapshot.h"
#include "score/likelihood.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_novelty_corpus DIR\n");
        return 2;
    }
    static const struct {
        size_t fields;
        int records;
    } cases[] = {{0, 0}, {1, 0}, {1, 30}, {1, 260}, {2, 700}, {3, 1500}, {8, 420}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        rcfd_novelty_t nv;
        if (rcfd_novelty_init(&nv, cases[c].fields, 100.0, 16) != 0) {
            return 1;
        }
        for (int i = 0; i < cases[c].records; i++) {
            double v[8];
            for (size_t f = 0; f < 8; f++) {
                v[f] = sin(i * 0.2 + (double)f) + (i % 97 == 0 ? 5.0 : 0.0) + (i > 600 ? 1.0 : 0.0);
            }
            rcfd_novelty_update(&nv, 0.4 + 0.1 * cos(i * 0.9) + (i % 61 == 0 ? 2.0 : 0.0), v);
        }
        size_t plen = rcfd_novelty_payload_size(&nv);
        unsigned char *buf = malloc(RCFD_SNAP_HEADER_SIZE + plen);
        rcfd_writer_t w = {buf + RCFD_SNAP_HEADER_SIZE, 0, plen};
        rcfd_novelty_write(&nv, &w);
        rcfd_snap_seal(buf, RCFD_SNAP_KIND_NOVELTY, RCFD_NOVELTY_STATE_VERSION, w.len);
        char path[4096];
        snprintf(path, sizeof path, "%s/seed-%zu-fields-%zu-records-%d.bin", argv[1], c,
                 cases[c].fields, cases[c].records);
        FILE *f = fopen(path, "wb");
        if (f == NULL ||
            fwrite(buf, 1, RCFD_SNAP_HEADER_SIZE + w.len, f) != RCFD_SNAP_HEADER_SIZE + w.len) {
            perror(path);
            return 1;
        }
        fclose(f);
        free(buf);
        rcfd_novelty_free(&nv);
    }
    return 0;
}
