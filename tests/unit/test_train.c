/* Train versus stream: the snapshot `rcfd train` writes for a key is byte for byte the forest a
 * stream reaches when the key's records are fed straight to rcf_forest_process with the seed the
 * daemon gives that key (rcfd_key_seed of the model seed, default 24301), followed by the state
 * its anomaly_novelty reaches over the same scores. Also: KDA/SageMaker
 * parameter names, feature_dim checking, and that a snapshot loads back with matching params only. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "train/command.h"
#include "train/trainer.h"
#include "rcfd/alloc.h"
#include "rcfd/rcf.h"
#include "common/keytab.h"
#include "models/model.h"
#include "model_snapshot.h"

#define N 700

static void test_train_equals_stream(void **state)
{
    (void)state;
    char dir[] = "/tmp/rcfd-train-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char csv[512], out[512];
    snprintf(csv, sizeof csv, "%s/in.csv", dir);
    snprintf(out, sizeof out, "%s/snap", dir);
    FILE *f = fopen(csv, "w");
    assert_non_null(f);
    fprintf(f, "ts,host,cpu,mem\n");
    double cpu[2][N], mem[2][N];
    size_t cnt[2] = {0, 0};
    for (int i = 0; i < N; i++) {
        int k = i % 3 == 0; /* two keys, interleaved unevenly */
        double c = 50 + 10 * sin(i * 0.1) + (i == 500 ? 40 : 0), m = 30 + (i % 7);
        char cs[32];
        snprintf(cs, sizeof cs, "%.3f", c); /* the stream sees the printed value */
        fprintf(f, "%d,%s,%s,%.1f\n", i, k ? "b/1" : "a", cs, m);
        cpu[k][cnt[k]] = strtod(cs, NULL);
        mem[k][cnt[k]++] = m;
    }
    fprintf(f, "%d,a,oops,1\n", N); /* malformed: skipped, as the daemon dead-letters it */
    fclose(f);

    cJSON *p = cJSON_CreateObject();
    char err[512];
    rcfd_strlist_t fields = {(char *[]){"cpu", "mem"}, 2};
    assert_int_equal(rcfd_trainer_set_param(&rcfd_trainer_rcf, p, "num_trees=30", 2, err,
                                            sizeof err), 0);
    assert_int_equal(rcfd_trainer_set_param(&rcfd_trainer_rcf, p, "subSampleSize=64", 2, err,
                                            sizeof err), 0);
    assert_int_equal(rcfd_trainer_set_param(&rcfd_trainer_rcf, p, "shingleSize=2", 2, err,
                                            sizeof err), 0);
    assert_int_equal(rcfd_trainer_set_param(&rcfd_trainer_rcf, p, "recent_mean=0", 2, err,
                                            sizeof err), 0); /* the plain forest's snapshot */
    assert_int_equal(rcfd_trainer_set_param(&rcfd_trainer_rcf, p, "feature_dim=2", 2, err,
                                            sizeof err), 0);
    assert_true(rcfd_trainer_set_param(&rcfd_trainer_rcf, p, "feature_dim=3", 2, err,
                                       sizeof err) < 0);
    rcfd_train_opts_t o = {.path = csv, .format = -1, .fields = &fields, .key = "host",
                           .model = "rcf", .params = p, .out_dir = out};
    rcfd_train_stats_t st;
    assert_int_equal(rcfd_train_file(&o, &st, err, sizeof err), 0);
    assert_int_equal(st.trained, N);
    assert_int_equal(st.skipped, 1);
    assert_int_equal(st.files, 2);

    const char *keys[2] = {"a", "b/1"};
    for (int k = 0; k < 2; k++) {
        rcf_params_t rp = rcf_params_default(2);
        rp.number_of_trees = 30;
        rp.sub_sample_size = 64;
        rp.shingle_size = 2;
        rp.seed = rcfd_key_seed(24301, keys[k], strlen(keys[k]));
        rcf_forest_t *fo;
        assert_int_equal(rcf_forest_new(&rp, &fo, err, sizeof err), 0);
        rcfd_novelty_t nv;
        model_novelty_init(&nv, fo);
        rcfd_alert_t al;
        rcfd_alert_result_t ar;
        model_alert_init(&al, fo);
        rcf_result_t r;
        for (size_t i = 0; i < cnt[k]; i++) {
            double v[2] = {cpu[k][i], mem[k][i]};
            assert_int_equal(rcf_forest_process(fo, v, 2, &r), 0);
            rcfd_novelty_update(&nv, r.score);
            rcfd_alert_update(&al, r.ready, r.score, &ar);
        }
        size_t len = 0;
        unsigned char *want = model_snapshot(fo, &nv, &al, &len);
        assert_non_null(want);

        char path[1024];
        assert_int_equal(rcfd_trainer_snapshot_path(out, &rcfd_trainer_rcf, keys[k],
                                                    strlen(keys[k]), path, sizeof path), 0);
        FILE *g = fopen(path, "rb");
        assert_non_null(g);
        unsigned char *got = malloc(len + 1);
        size_t n = fread(got, 1, len + 1, g);
        fclose(g);
        assert_int_equal(n, len);
        assert_memory_equal(got, want, len);

        /* Loads back under the same parameters, and names the one that differs otherwise. */
        void *params = calloc(1, rcfd_trainer_conf_size(&rcfd_trainer_rcf));
        assert_int_equal(rcfd_trainer_params(&rcfd_trainer_rcf, p, params, err, sizeof err), 0);
        void *m;
        assert_int_equal(rcfd_trainer_load_file(&rcfd_trainer_rcf, params, 2, path, &m, err,
                                                sizeof err), 0);
        rcfd_trainer_rcf.destroy(m);
        rcfd_conf_free(rcfd_trainer_conf(&rcfd_trainer_rcf), params);
        cJSON *q = cJSON_Duplicate(p, 1);
        assert_int_equal(rcfd_trainer_set_param(&rcfd_trainer_rcf, q, "numberOfTrees=31", 2, err,
                                                sizeof err), 0);
        assert_int_equal(rcfd_trainer_params(&rcfd_trainer_rcf, q, params, err, sizeof err), 0);
        assert_true(rcfd_trainer_load_file(&rcfd_trainer_rcf, params, 2, path, &m, err,
                                           sizeof err) < 0);
        assert_non_null(strstr(err, "number_of_trees"));
        rcfd_conf_free(rcfd_trainer_conf(&rcfd_trainer_rcf), params);
        free(params);
        cJSON_Delete(q);
        unlink(path);
        free(got);
        free(want);
        rcf_forest_destroy(fo);
    }
    cJSON_Delete(p);
    unlink(csv);
    rmdir(out);
    rmdir(dir);
}

/* With recent_mean the snapshot (forest, then the key's means) is what the daemon's rcf model type
 * holds after the same records, streamed one by one with the key's seed. */
static void test_train_recent_mean_equals_stream(void **state)
{
    (void)state;
    char dir[] = "/tmp/rcfd-train-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char csv[512], out[512], err[512];
    snprintf(csv, sizeof csv, "%s/in.csv", dir);
    snprintf(out, sizeof out, "%s/snap", dir);
    FILE *f = fopen(csv, "w");
    assert_non_null(f);
    fprintf(f, "ts,cpu\n");
    for (int i = 0; i < 400; i++) {
        fprintf(f, "%d,%.3f\n", i, 50 + 10 * sin(i * 0.1) + (i == 300 ? 40 : 0));
    }
    fclose(f);
    cJSON *p = cJSON_CreateObject();
    rcfd_strlist_t fields = {(char *[]){"cpu"}, 1};
    const char *kv[] = {"num_trees=20", "subSampleSize=64", "recent_mean=20"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(rcfd_trainer_set_param(&rcfd_trainer_rcf, p, kv[i], 1, err, sizeof err),
                         0);
    }
    rcfd_train_opts_t o = {.path = csv, .format = -1, .fields = &fields, .model = "rcf",
                           .params = p, .out_dir = out};
    rcfd_train_stats_t st;
    assert_int_equal(rcfd_train_file(&o, &st, err, sizeof err), 0);
    assert_int_equal(st.trained, 400);

    void *params = calloc(1, rcfd_trainer_conf_size(&rcfd_trainer_rcf));
    assert_int_equal(rcfd_trainer_params(&rcfd_trainer_rcf, p, params, err, sizeof err), 0);
    void *m;
    assert_int_equal(rcfd_model_rcf.create(params, 1, rcfd_key_seed(24301, "", 0), &m, err,
                                           sizeof err), 0);
    for (int i = 0; i < 400; i++) {
        char cs[32];
        snprintf(cs, sizeof cs, "%.3f", 50 + 10 * sin(i * 0.1) + (i == 300 ? 40 : 0));
        double v = strtod(cs, NULL);
        const void *res;
        assert_int_equal(rcfd_model_rcf.process(m, &v, 1, &res), 0);
    }
    rcfd_buf_t want = {0};
    assert_int_equal(rcfd_model_rcf.save(m, &want), 0);
    char path[1024];
    assert_int_equal(rcfd_trainer_snapshot_path(out, &rcfd_trainer_rcf, "", 0, path,
                                                sizeof path), 0);
    FILE *g = fopen(path, "rb");
    assert_non_null(g);
    unsigned char *got = malloc(want.len + 1);
    size_t n = fread(got, 1, want.len + 1, g);
    fclose(g);
    assert_int_equal(n, want.len);
    assert_memory_equal(got, want.p, want.len);
    void *back;
    assert_int_equal(rcfd_trainer_load_file(&rcfd_trainer_rcf, params, 1, path, &back, err,
                                            sizeof err), 0);
    rcfd_trainer_rcf.destroy(back);
    free(got);
    rcfd_buf_free(&want);
    rcfd_model_rcf.destroy(m);
    rcfd_conf_free(rcfd_trainer_conf(&rcfd_trainer_rcf), params);
    free(params);
    cJSON_Delete(p);
    unlink(path);
    unlink(csv);
    rmdir(out);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_equals_stream),
        cmocka_unit_test(test_train_recent_mean_equals_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
