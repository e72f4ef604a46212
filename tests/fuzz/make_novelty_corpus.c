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
    /* version 3: the score's rises only (the v1 and v2 seeds beside them came from the builds
     * that wrote those versions) */
    static const int records[] = {0, 1, 30, 199, 260, 1500};
    for (size_t c = 0; c < sizeof records / sizeof records[0]; c++) {
        rcfd_novelty_t nv;
        rcfd_novelty_init(&nv, 100.0);
        for (int i = 0; i < records[c]; i++) {
            rcfd_novelty_update(&nv, 0.4 + 0.1 * cos(i * 0.9) + (i % 61 == 0 ? 2.0 : 0.0));
        }
        size_t plen = rcfd_novelty_payload_size(&nv);
        unsigned char *buf = malloc(RCFD_SNAP_HEADER_SIZE + plen);
        if (buf == NULL) {
            return 1;
        }
        rcfd_writer_t w = {buf + RCFD_SNAP_HEADER_SIZE, 0, plen};
        rcfd_novelty_write(&nv, &w);
        rcfd_snap_seal(buf, RCFD_SNAP_KIND_NOVELTY, RCFD_NOVELTY_STATE_VERSION, w.len);
        char path[4096];
        snprintf(path, sizeof path, "%s/v3-seed-%zu-records-%d.bin", argv[1], c, records[c]);
        FILE *f = fopen(path, "wb");
        if (f == NULL ||
            fwrite(buf, 1, RCFD_SNAP_HEADER_SIZE + w.len, f) != RCFD_SNAP_HEADER_SIZE + w.len) {
            perror(path);
            return 1;
        }
        fclose(f);
        free(buf);
    }
    return 0;
}
