/* Starts librdkafka's mock cluster (real Kafka protocol on loopback), creates topics, prints the
 * bootstrap servers on stdout and serves until SIGTERM/SIGINT or its parent exits.
 *
 *   rcfd_mock_cluster [--brokers N] [--fail-produce ERR:COUNT] [--fail-produce-on-usr1 ERR:COUNT]
 *                     TOPIC:PARTITIONS...
 *
 * --fail-produce answers the first COUNT ProduceRequests with Kafka error code ERR (e.g. 2,
 * CORRUPT_MESSAGE), whoever sends them; --fail-produce-on-usr1 does so from each SIGUSR1 on (so a
 * test can produce its input first, then arm the fault for the daemon's producer). Integration tests produce into it with kcat and point rcfd
 * at it. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

int main(int argc, char **argv)
{
    int brokers = 3;
    int first = 1;
    int fail_err = 0, fail_count = 0, usr1_err = 0, usr1_count = 0;
    for (; first + 1 < argc && strncmp(argv[first], "--", 2) == 0; first += 2) {
        int ok = 0;
        if (strcmp(argv[first], "--brokers") == 0) {
            brokers = atoi(argv[first + 1]);
            ok = brokers > 0;
        } else if (strcmp(argv[first], "--fail-produce") == 0) {
            ok = sscanf(argv[first + 1], "%d:%d", &fail_err, &fail_count) == 2;
        } else if (strcmp(argv[first], "--fail-produce-on-usr1") == 0) {
            ok = sscanf(argv[first + 1], "%d:%d", &usr1_err, &usr1_count) == 2;
        }
        if (!ok) {
            fprintf(stderr, "mock_cluster: bad option %s %s\n", argv[first], argv[first + 1]);
            return 2;
        }
    }
    /* Die with the test script, even if it is killed (ctest timeout). */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* before librdkafka starts threads */

    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (rk == NULL) {
        fprintf(stderr, "mock_cluster: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (mc == NULL) {
        fprintf(stderr, "mock_cluster: cannot create the cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    for (int i = first; i < argc; i++) {
        char name[256];
        int parts = 1;
        const char *colon = strchr(argv[i], ':');
        size_t n = colon ? (size_t)(colon - argv[i]) : strlen(argv[i]);
        if (n >= sizeof name) {
            n = sizeof name - 1;
        }
        memcpy(name, argv[i], n);
        name[n] = '\0';
        if (colon) {
            parts = atoi(colon + 1);
        }
        rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, name, parts, 1);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "mock_cluster: topic %s: %s\n", name, rd_kafka_err2str(e));
        }
    }
    for (int i = 0; i < fail_count; i++) {
        rd_kafka_mock_push_request_errors(mc, 0 /* Produce */, 1, (rd_kafka_resp_err_t)fail_err);
    }
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    int sig;
    while (sigwait(&set, &sig) == 0 && sig == SIGUSR1) {
        for (int i = 0; i < usr1_count; i++) {
            rd_kafka_mock_push_request_errors(mc, 0 /* Produce */, 1, (rd_kafka_resp_err_t)usr1_err);
        }
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
