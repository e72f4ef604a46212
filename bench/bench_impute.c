/* Imputation and expected values of the forest on real series (bench/RESULTS.md "Imputation").
 *
 *   bench_impute [--shingle N] [--rate R] [--trees T] [--seed S] [--max-rows N]
 *                [--labels BEGIN END] FILE...
 *
 * FILE: one value per line, or a CSV whose last column is the value (a header line is skipped).
 * A fraction R (default 0.05) of the records after the forest's warm-up, chosen at random, lose
 * their value: the forest's estimate given the shingle's earlier records (rcf_forest_point, then
 * rcf_forest_impute of the newest coordinate) stands in for it, as the daemon's impute would do,
 * and is what the forest then learns. Reported per file and in total: the mean absolute error of
 * the estimate against the true value, against the value before it ("previous", what most
 * streaming systems fill in), both divided by the series' mean absolute difference so files of
 * different units add up. With --labels BEGIN END (0-based rows, one file), also the expected
 * value's error inside and outside the labelled range (every record, not only the removed ones).
 * Library only: no daemon, no I/O but reading the files. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "rcfd/rcf.h"

static double *load(const char *path, size_t max_rows, size_t *n_out)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        perror(path);
        return NULL;
    }
    size_t n = 0, cap = 1024;
    double *v = malloc(cap * sizeof *v);
    char line[4096];
    while (v != NULL && n < max_rows && fgets(line, sizeof line, f) != NULL) {
        char *last = strrchr(line, ',');
        char *num = last != NULL ? last + 1 : line, *end;
        double x = strtod(num, &end);
        if (end == num) {
            continue; /* a header or blank line */
        }
        if (n == cap) {
            cap *= 2;
            double *g = realloc(v, cap * sizeof *v);
            if (g == NULL) {
                free(v);
                v = NULL;
                break;
            }
            v = g;
        }
        v[n++] = x;
    }
    fclose(f);
    *n_out = n;
    return v;
}

typedef struct totals {
    double err, prev, scale;
    size_t n;
} totals_t;

int main(int argc, char **argv)
{
    uint32_t shingle = 8, trees = 50;
    double rate = 0.05;
    uint64_t seed = 7;
    size_t max_rows = 50000;
    long lab_begin = -1, lab_end = -1;
    int first = 1;
    for (; first < argc && strncmp(argv[first], "--", 2) == 0; first++) {
        const char *a = argv[first];
        const char *v = first + 1 < argc ? argv[first + 1] : NULL;
        if (v == NULL) {
            break;
        }
        if (strcmp(a, "--shingle") == 0) {
            shingle = (uint32_t)strtoul(v, NULL, 10);
        } else if (strcmp(a, "--rate") == 0) {
            rate = strtod(v, NULL);
        } else if (strcmp(a, "--trees") == 0) {
            trees = (uint32_t)strtoul(v, NULL, 10);
        } else if (strcmp(a, "--seed") == 0) {
            seed = strtoull(v, NULL, 10);
        } else if (strcmp(a, "--max-rows") == 0) {
            max_rows = strtoull(v, NULL, 10);
        } else if (strcmp(a, "--labels") == 0 && first + 2 < argc) {
            lab_begin = strtol(v, NULL, 10);
            lab_end = strtol(argv[++first + 1], NULL, 10);
        } else {
            fprintf(stderr, "bench_impute: unknown option %s\n", a);
            return 64;
        }
        first++;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: bench_impute [--shingle N] [--rate R] [--trees T] [--seed S] "
                        "[--max-rows N] [--labels BEGIN END] FILE...\n");
        return 64;
    }
    totals_t all = {0};
    for (int fi = first; fi < argc; fi++) {
        size_t n;
        double *v = load(argv[fi], max_rows, &n);
        if (v == NULL || n < 1000) {
            free(v);
            continue;
        }
        double scale = 0.0;
        for (size_t i = 1; i < n; i++) {
            scale += fabs(v[i] - v[i - 1]);
        }
        scale /= (double)(n - 1);
        if (scale == 0.0) {
            free(v);
            continue;
        }
        rcf_params_t p = rcf_params_default(1);
        p.shingle_size = shingle;
        p.number_of_trees = trees;
        p.seed = seed;
        rcf_forest_t *f;
        char err[256];
        if (rcf_forest_new(&p, &f, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        uint64_t rng = seed ^ (uint64_t)fi;
        double *point = malloc(shingle * sizeof *point);
        const uint32_t newest = shingle - 1;
        totals_t t = {0};
        double in_err = 0.0, out_err = 0.0;
        size_t in_n = 0, out_n = 0;
        double previous = v[0];
        for (size_t i = 0; i < n; i++) {
            double x = v[i], est = NAN;
            int warm = i > 2 * p.sub_sample_size;
            if (warm && rcf_forest_point(f, &x, point) == 0 &&
                rcf_forest_impute(f, point, &newest, 1, 0.25, &est, NULL, NULL) == 0) {
                if (lab_begin >= 0) {
                    if ((long)i >= lab_begin && (long)i <= lab_end) {
                        in_err += fabs(est - x), in_n++;
                    } else {
                        out_err += fabs(est - x), out_n++;
                    }
                }
                if (rcfd_rng_uniform(&rng) < rate) {
                    t.err += fabs(est - x);
                    t.prev += fabs(previous - x);
                    t.n++;
                    x = est; /* the record lost its value: the estimate stands in for it */
                }
            }
            rcf_result_t r;
            rcf_forest_process(f, &x, 1, &r);
            previous = x;
        }
        if (t.n > 0) {
            printf("%s: %zu removed of %zu, error %.4f, previous %.4f (per mean step %.4g), ratio "
                   "%.3f\n",
                   argv[fi], t.n, n, t.err / (double)t.n / scale, t.prev / (double)t.n / scale,
                   scale, t.err / t.prev);
            all.err += t.err / scale;
            all.prev += t.prev / scale;
            all.n += t.n;
            all.scale += 1.0;
        }
        if (lab_begin >= 0 && in_n > 0 && out_n > 0) {
            printf("%s: expected-value error inside the labelled range %.4f, outside %.4f (per "
                   "mean step)\n",
                   argv[fi], in_err / (double)in_n / scale, out_err / (double)out_n / scale);
        }
        free(point);
        free(v);
        rcf_forest_destroy(f);
    }
    if (all.n > 0) {
        printf("total: %.0f files, %zu values removed, error %.4f, previous %.4f (in mean steps), "
               "ratio %.3f\n",
               all.scale, all.n, all.err / (double)all.n, all.prev / (double)all.n,
               all.err / all.prev);
    }
    return 0;
}
