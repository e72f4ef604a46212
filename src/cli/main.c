/* rcfd command line: the daemon (-c FILE), config tools, and the offline subcommands. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "backtest/backtest.h"
#include "cli/demo.h"
#include "common/build.h"
#include "kda/command.h"
#include "common/log.h"
#include "config/redact.h"
#include "config/schema.h"
#include "rcfd/alloc.h"
#include "rcfd/version.h"
#include "stream/runtime.h"
#include "train/command.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rcfd -c FILE [--state-dir DIR]    run the pipelines of a config until "
            "SIGTERM\n"
            "       rcfd --check-config -c FILE       validate a config (exit 0, or 78 with the "
            "JSON path)\n"
            "       rcfd --print-config [--show-secrets] -c FILE\n"
            "                                         print the effective config with defaults "
            "(secrets as ***)\n"
            "       rcfd --config-reference           print the config reference "
            "(conf/README.md)\n"
            "       rcfd demo [options]               mock Kafka cluster -> pipelines -> file, "
            "with a summary\n"
            "       rcfd dev-broker [options]         a mock Kafka broker on 127.0.0.1:9092 to "
            "try rcfd against\n"
            "       rcfd train [options] --out DIR FILE        train models, write snapshots\n"
            "       rcfd backtest [options] FILE|--corpus DIR  score a file or a NAB corpus, "
            "report\n"
            "       rcfd kda import APP.sql [options]        a KDA SQL application as an rcfd config\n"
            "       rcfd --version | --help | COMMAND --help\n"
            "  --state-dir DIR   sets $STATE_DIRECTORY (created if missing): the example configs "
            "write\n"
            "                    their outputs to ${STATE_DIRECTORY:-.}, and state (checkpoints) "
            "is on\n"
            "                    there when state.dir is empty; systemd's StateDirectory= sets it "
            "too\n");
}

static int cmd_run(const char *path, int check, int print, int show_secrets)
{
    rcfd_config_t *cfg;
    char err[1024];
    if (rcfd_config_load(path, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "rcfd: config error: %s\n", err);
        return RCFD_EXIT_CONFIG;
    }
    if (!print && rcfd_config_check_daemon(cfg, err, sizeof err) != 0) {
        fprintf(stderr, "rcfd: config error: %s: %s\n", path, err);
        rcfd_config_free(cfg);
        return RCFD_EXIT_CONFIG;
    }
    if (check) {
        printf("%s: OK (%zu sources, %zu pipelines, %zu outputs)\n", path, cfg->n_sources,
               cfg->n_pipelines, cfg->n_outputs);
        rcfd_config_free(cfg);
        return RCFD_EXIT_OK;
    }
    if (print) {
        /* Header values and credentials (often expanded from ${ENV}) stay off terminals and
         * support tickets unless asked for. */
        char *s = show_secrets ? rcfd_config_print(cfg) : rcfd_config_print_redacted(cfg);
        rcfd_config_free(cfg);
        if (s == NULL) {
            return RCFD_EXIT_SOFTWARE;
        }
        printf("%s\n", s);
        cJSON_free(s);
        return RCFD_EXIT_OK;
    }
    rcfd_runtime_t *rt;
    int code;
    if (rcfd_runtime_new(cfg, path, NULL, &rt, &code, err, sizeof err) != 0) {
        rcfd_log(RCFD_LOG_ERROR, "main", "%s", err);
        if (code == RCFD_EXIT_CANTCREAT && strstr(err, "No such file or directory") != NULL) {
            const char *sd = getenv("STATE_DIRECTORY");
            rcfd_log(RCFD_LOG_ERROR, "main",
                     "relative paths are relative to the working directory; the example "
                     "configs write to ${STATE_DIRECTORY:-.} (now %s): create the directory, or "
                     "run with --state-dir DIR",
                     sd != NULL && sd[0] ? sd : "unset, so \".\"");
        }
        rcfd_config_free(cfg);
        return code;
    }
    code = rcfd_runtime_run(rt);
    rcfd_runtime_destroy(rt);
    /* The exit code is decided: a late SIGTERM must not replace it while the process exits. */
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    return code;
}

/* A daemon started with stdin, stdout or stderr closed would hand those numbers to the next files
 * and sockets it opens (libuv refuses to close fds 0-2, and a log line would land in a socket):
 * park /dev/null on them first. */
static void hold_std_fds(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            int n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
            if (n >= 0 && n != fd) {
                close(n); /* fds are allocated lowest first: only a race could get here */
            }
        }
    }
}

int main(int argc, char **argv)
{
    hold_std_fds();
    cJSON_Hooks hooks = {.malloc_fn = rcfd_malloc, .free_fn = rcfd_free};
    cJSON_InitHooks(&hooks);
    /* Before any thread starts (libcurl's global state is not thread-safe to set up). */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || atexit(curl_global_cleanup) != 0) {
        return RCFD_EXIT_SOFTWARE;
    }
    rcfd_log_init();
    if (argc < 2) {
        usage(stderr);
        return RCFD_EXIT_USAGE;
    }
    if (strcmp(argv[1], "demo") == 0) {
        return rcfd_demo_main(argc - 2, argv + 2);
    }
    if (strcmp(argv[1], "train") == 0) {
        return rcfd_train_main(argc - 2, argv + 2);
    }
    if (strcmp(argv[1], "backtest") == 0) {
        return rcfd_backtest_main(argc - 2, argv + 2);
    }
    if (strcmp(argv[1], "kda") == 0) {
        return rcfd_kda_main(argc - 2, argv + 2);
    }
    if (strcmp(argv[1], "dev-broker") == 0) {
        return rcfd_devbroker_main(argc - 2, argv + 2);
    }
    const char *path = NULL, *state_dir = NULL;
    int check = 0, print = 0, reference = 0, show_secrets = 0;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "--state-dir") == 0 && i + 1 < argc) {
            state_dir = argv[++i];
        } else if (strcmp(argv[i], "--check-config") == 0) {
            check = 1;
        } else if (strcmp(argv[i], "--print-config") == 0) {
            print = 1;
        } else if (strcmp(argv[i], "--show-secrets") == 0) {
            show_secrets = 1;
        } else if (strcmp(argv[i], "--config-reference") == 0) {
            reference = 1;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("rcfd %s (commit %s)\n", rcfd_version(), rcfd_build_commit());
            return RCFD_EXIT_OK;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return RCFD_EXIT_OK;
        } else {
            fprintf(stderr, "rcfd: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return RCFD_EXIT_USAGE;
        }
    }
    if (reference) {
        rcfd_buf_t b = {0};
        int rc = rcfd_config_reference(&b);
        if (rc == 0) {
            fwrite(b.p, 1, b.len, stdout);
        }
        rcfd_buf_free(&b);
        return rc == 0 ? RCFD_EXIT_OK : RCFD_EXIT_SOFTWARE;
    }
    if (path == NULL) {
        fprintf(stderr, "rcfd: -c FILE is required\n");
        usage(stderr);
        return RCFD_EXIT_USAGE;
    }
    if (state_dir != NULL) {
        /* Before the config is read: ${STATE_DIRECTORY} in it expands to this. */
        if (state_dir[0] == '\0' || rcfd_cli_mkdirs(state_dir, 0700) != 0) {
            fprintf(stderr, "rcfd: --state-dir %s: %s\n", state_dir,
                    state_dir[0] ? strerror(errno) : "empty");
            return state_dir[0] ? RCFD_EXIT_CANTCREAT : RCFD_EXIT_USAGE;
        }
        setenv("STATE_DIRECTORY", state_dir, 1);
    }
    return cmd_run(path, check, print, show_secrets);
}
