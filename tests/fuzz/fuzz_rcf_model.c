/* Fuzzes the rcf model's snapshot loader (src/models/rcf.c): the forest's snapshot or the records a
 * key holds while choosing its shingle size, then the recent-means, novelty, alert, scales and
 * impute sections.
 * Whatever the bytes, loading must fail cleanly or give a model that keeps scoring (through the
 * shingle choice and the forest's creation) and saves a snapshot that loads and saves again to the
 * same bytes. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_snapshot.h"
#include "models/impute.h"
#include "models/rcf.h"
#include "rcf_model_conf.h"

static void *conf;

static unsigned char *save(void *m, size_t *len)
{
    rcfd_buf_t b = {0};
    if (rcfd_model_rcf.save(m, &b) != 0) {
        rcfd_buf_free(&b);
        return NULL;
    }
    *len = b.len;
    return (unsigned char *)b.p;
}

static void load_and_exercise(const uint8_t *data, size_t size)
{
    char err[256];
    void *m = NULL;
    if (rcfd_model_rcf.load(conf, 1, data, size, &m, err, sizeof err) != 0) {
        if (m != NULL) {
            abort(); /* a failed load leaves nothing behind */
        }
        return;
    }
    /* impute rcf on every 9th record: the loaded impute state and the forest's estimate */
    const rcfd_model_type_t *types[] = {&rcfd_model_rcf};
    static char *name[] = {"v"};
    const rcfd_strlist_t fields = {name, 1};
    rcfd_impute_conf_t ic = {.method = RCFD_IMPUTE_RCF, .max_consecutive = 3};
    for (int i = 0; i < 600; i++) { /* enough to finish any shingle choice */
        double v = sin(i * 0.3) + (i % 101 == 0 ? 4.0 : 0.0);
        unsigned char missing = i % 9 == 4;
        rcfd_impute_outcome_t io;
        if (rcfd_impute_record(&ic, types, &m, 1, &fields, &v, &missing, &io, err,
                               sizeof err) != 0) {
            continue;
        }
        const void *res;
        if (rcfd_model_rcf.process(m, &v, 1, &res) != 0) {
            break; /* out of memory under the fuzzer's cap */
        }
    }
    size_t la, lb;
    unsigned char *a = save(m, &la);
    rcfd_model_rcf.destroy(m);
    if (a == NULL) {
        return;
    }
    void *again = NULL;
    if (rcfd_model_rcf.load(conf, 1, a, la, &again, err, sizeof err) != 0) {
        abort(); /* a snapshot we wrote must load */
    }
    unsigned char *b = save(again, &lb);
    rcfd_model_rcf.destroy(again);
    if (b != NULL && (la != lb || memcmp(a, b, la) != 0)) {
        abort(); /* load then save must give the same bytes */
    }
    rcfd_free(a);
    rcfd_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (conf == NULL && (conf = fuzz_model_conf()) == NULL) {
        abort();
    }
    fuzz_snapshot_input(data, size, RCFD_SNAP_KIND_SHINGLE_PENDING, load_and_exercise);
    return 0;
}
