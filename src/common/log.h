/* Logging to stderr. One line per message: "2024-05-01T10:00:00.123Z info [source:kafka:in] text"
 * normally; "<6>[source:kafka:in] text" when JOURNAL_STREAM is set (journald parses the syslog
 * priority and adds its own timestamp).
 *
 * Thread-safety: rcfd_log() may be called from any thread (one write(2) per line); the level is a
 * relaxed atomic. The macro checks the level before formatting anything. */
#ifndef RCFD_COMMON_LOG_H
#define RCFD_COMMON_LOG_H

typedef enum rcfd_log_level {
    RCFD_LOG_ERROR = 0,
    RCFD_LOG_WARN = 1,
    RCFD_LOG_INFO = 2,
    RCFD_LOG_DEBUG = 3,
    RCFD_LOG_TRACE = 4
} rcfd_log_level_t;

extern const char *const rcfd_log_level_names[]; /* "error".."trace", NULL-terminated */

void rcfd_log_init(void); /* reads JOURNAL_STREAM */
void rcfd_log_set_level(int level);
int rcfd_log_get_level(void);
__attribute__((format(printf, 3, 4))) void rcfd_log(int level, const char *comp, const char *fmt,
                                                    ...);
/* For librdkafka's syslog levels (0..7). */
void rcfd_log_syslog(int syslog_level, const char *comp, const char *msg);

#define RCFD_LOG(level, comp, ...)                    \
    do {                                              \
        if ((level) <= rcfd_log_get_level()) {        \
            rcfd_log((level), (comp), __VA_ARGS__);   \
        }                                             \
    } while (0)

#endif
