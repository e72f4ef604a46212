/* Recomputes every score of an rcfd-style output file offline with the forest library: one forest
 * per key (seeded as the daemon seeds it), fed the same per-key sequence, and the key's
 * anomaly_novelty (score/likelihood.h) over those scores. Exit 0 when every
 * anomaly_score, and every anomaly_novelty the file has, is bit-identical, 1 otherwise.
 *
 *   rcfd_score_check FILE FIELDS TREES SAMPLE DECAY SHINGLE OUTPUT_AFTER SEED [LEARN]
 *   (FIELDS comma-separated top-level names; LEARN: records in the same format, without scores,
 *   fed to the forests first and not compared, e.g. what `rcfd train` trained a warm start on)
 *
 * The environment's RECENT_MEAN (default 0) is the rcf model's recent_mean R: with R > 0 the
 * forest's point is each field's value and then the mean of the key's earlier values of that field,
 * weighted by (1 - 1/R)^age (the first record's own values stand in for it), as
 * src/models/rcf.c computes it; 0 is KDA's forest, the values alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rcfd/rcf.h"
#include "common/keytab.h"
#include "score/likelihood.h"

typedef struct key_model {
    rcf_forest_t *f;
    rcfd_novelty_t nv;
    long seen;
    double mean[64]; /* with RECENT_MEAN: the key's recent mean per field */
} key_model_t;

/* The forest's point for values v (nf of them) into pt; returns its dimension, and updates the
 * key's means afterwards through update_means. */
static size_t point(const key_model_t *m, long recent, const double *v, size_t nf, double *pt)
{
    memcpy(pt, v, nf * sizeof *v);
    if (recent <= 0) {
        return nf;
    }
    memcpy(pt + nf, m->seen == 0 ? v : m->mean, nf * sizeof *v);
    return 2 * nf;
}

static void update_means(key_model_t *m, long recent, const double *v, size_t nf)
{
    if (recent <= 0) {
        return;
    }
    double w = 1.0 / (double)recent; /* as src/models/rcf.c rounds it */
    for (size_t i = 0; i < nf; i++) {
        m->mean[i] = m->seen == 0 ? v[i] : m->mean[i] + w * (v[i] - m->mean[i]);
    }
    m->seen++;
}

static void free_model(void *v, void *ud)
{
    (void)ud;
    rcf_forest_destroy(((key_model_t *)v)->f);
    free(v);
}

int main(int argc, char **argv)
{
    if (argc != 9 && argc != 10) {
        fprintf(stderr,
                "usage: %s FILE FIELDS TREES SAMPLE DECAY SHINGLE OUTPUT_AFTER SEED [LEARN]\n",
                argv[0]);
        return 2;
    }
    char *fields[64];
    size_t nf = 0;
    for (char *t = strtok(argv[2], ","); t != NULL && nf < 64; t = strtok(NULL, ",")) {
        fields[nf++] = t;
    }
    const char *rm = getenv("RECENT_MEAN");
    long recent = rm != NULL ? atol(rm) : 0;
    rcf_params_t p = rcf_params_default((uint32_t)(recent > 0 ? 2 * nf : nf));
    p.number_of_trees = (uint32_t)atoi(argv[3]);
    p.sub_sample_size = (uint32_t)atoi(argv[4]);
    p.time_decay = strtoull(argv[5], NULL, 10);
    p.shingle_size = (uint32_t)atoi(argv[6]);
    p.output_after = atoll(argv[7]);
    uint64_t seed = strtoull(argv[8], NULL, 10);
    rcfd_keytab_t *keys;
    rcfd_keytab_new(1u << 20, free_model, NULL, &keys);
    char *line = NULL;
    size_t cap = 0;
    long n = 0, bad = 0, learned = 0, novelties = 0, bad_novelty = 0;
    int learning = argc == 10;
    FILE *in = fopen(argv[learning ? 9 : 1], "r");
    if (in == NULL) {
        perror(argv[learning ? 9 : 1]);
        return 2;
    }
    for (;;) {
        if (getline(&line, &cap, in) <= 0) {
            if (!learning) {
                break;
            }
            fclose(in);
            learning = 0;
            if ((in = fopen(argv[1], "r")) == NULL) {
                perror(argv[1]);
                return 2;
            }
            continue;
        }
        cJSON *j = cJSON_Parse(line);
        cJSON *meta = cJSON_GetObjectItem(j, "_rcfd");
        cJSON *k = cJSON_GetObjectItem(meta, "key");
        cJSON *score = cJSON_GetObjectItem(j, "anomaly_score");
        if (j == NULL || (!learning && !cJSON_IsNumber(score))) {
            fprintf(stderr, "line %ld: not an rcfd-style scored record\n", n + 1);
            return 1;
        }
        const char *key = cJSON_IsString(k) ? k->valuestring : "";
        key_model_t *m = rcfd_keytab_get(keys, key, strlen(key));
        if (m == NULL) {
            m = calloc(1, sizeof *m);
            rcf_params_t kp = p;
            kp.seed = rcfd_key_seed(seed, key, strlen(key));
            char err[256];
            if (rcf_forest_new(&kp, &m->f, err, sizeof err) != 0) {
                fprintf(stderr, "%s\n", err);
                return 2;
            }
            const rcf_params_t *fp = rcf_forest_params(m->f); /* as the rcf model type does */
            rcfd_novelty_init(&m->nv, (double)fp->time_decay);
            rcfd_keytab_put(keys, key, strlen(key), m);
        }
        double v[64];
        for (size_t i = 0; i < nf; i++) {
            cJSON *x = cJSON_GetObjectItem(j, fields[i]);
            v[i] = cJSON_IsNumber(x) ? x->valuedouble : strtod(cJSON_GetStringValue(x), NULL);
        }
        rcf_result_t r;
        double pt[128];
        size_t dim = point(m, recent, v, nf, pt);
        if (learning) {
            update_means(m, recent, v, nf);
            if (rcf_forest_process(m->f, pt, dim, &r) != 0) {
                fprintf(stderr, "learn line %ld: rejected\n", learned + 1);
                return 2;
            }
            rcfd_novelty_update(&m->nv, r.score);
            learned++;
            cJSON_Delete(j);
            continue;
        }
        update_means(m, recent, v, nf);
        if (rcf_forest_process(m->f, pt, dim, &r) != 0 || r.score != score->valuedouble) {
            if (bad++ < 5) {
                fprintf(stderr, "line %ld key %s: daemon %.17g, offline %.17g\n", n + 1, key,
                        score->valuedouble, r.score);
            }
        }
        double nov = rcfd_novelty_update(&m->nv, r.score);
        cJSON *got = cJSON_GetObjectItem(j, "anomaly_novelty");
        if (cJSON_IsNumber(got)) {
            novelties++;
            if (got->valuedouble != nov && bad_novelty++ < 5) {
                fprintf(stderr, "line %ld key %s: daemon novelty %.17g, offline %.17g\n", n + 1,
                        key, got->valuedouble, nov);
            }
        }
        cJSON_Delete(j);
        n++;
    }
    free(line);
    fclose(in);
    rcfd_keytab_destroy(keys);
    printf("score_check: %ld records (after %ld learned), %ld mismatches; %ld novelties, %ld "
           "mismatches\n",
           n, learned, bad, novelties, bad_novelty);
    return bad == 0 && bad_novelty == 0 && n > 0 ? 0 : 1;
}
