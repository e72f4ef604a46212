#include "common/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *const rcfd_log_level_names[] = {"error", "warn", "info", "debug", "trace", NULL};

static atomic_int log_level = RCFD_LOG_INFO;
static int log_journal;

void rcfd_log_init(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    log_journal = js != NULL && js[0] != '\0';
}

void rcfd_log_set_level(int level)
{
    atomic_store_explicit(&log_level, level, memory_order_relaxed);
}

int rcfd_log_get_level(void)
{
    return atomic_load_explicit(&log_level, memory_order_relaxed);
}

static void log_line(int syslog_prio, const char *level_name, const char *comp, const char *msg)
{
    char line[2048];
    int n;
    if (log_journal) {
        n = snprintf(line, sizeof line, "<%d>[%s] %s\n", syslog_prio, comp, msg);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s [%s] %s\n",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, level_name, comp, msg);
    }
    if (n < 0) {
        return;
    }
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if ((size_t)n >= sizeof line) {
        line[sizeof line - 2] = '\n';
    }
    /* One write per line keeps lines from different threads whole. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

static const int level_prio[] = {3, 4, 6, 7, 7};

void rcfd_log(int level, const char *comp, const char *fmt, ...)
{
    if (level < 0) {
        level = 0;
    } else if (level > RCFD_LOG_TRACE) {
        level = RCFD_LOG_TRACE;
    }
    char msg[1600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_line(level_prio[level], rcfd_log_level_names[level], comp, msg);
}

void rcfd_log_syslog(int syslog_level, const char *comp, const char *msg)
{
    int level = syslog_level <= 3 ? RCFD_LOG_ERROR
                : syslog_level == 4 ? RCFD_LOG_WARN
                : syslog_level <= 6 ? RCFD_LOG_INFO
                                    : RCFD_LOG_DEBUG;
    if (level <= rcfd_log_get_level()) {
        log_line(syslog_level < 0 ? 3 : syslog_level > 7 ? 7 : syslog_level,
                 rcfd_log_level_names[level], comp, msg);
    }
}
