#include "train/progress.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int rcfd_progress_mode(int quiet, int force)
{
    if (quiet) {
        return RCFD_PROGRESS_OFF;
    }
    if (isatty(STDERR_FILENO)) {
        return RCFD_PROGRESS_TTY;
    }
    return force ? RCFD_PROGRESS_LINES : RCFD_PROGRESS_OFF;
}

void rcfd_progress_init(rcfd_progress_t *p, int mode, const char *what, uint64_t total)
{
    memset(p, 0, sizeof *p);
    p->out = stderr;
    p->mode = mode;
    p->what = what;
    p->total = total;
    p->t0 = p->last = now_s();
    p->every = mode == RCFD_PROGRESS_TTY ? 0.25 : 5.0;
    p->next_check = 1024;
}

void rcfd_progress_note(rcfd_progress_t *p, const char *note)
{
    snprintf(p->note, sizeof p->note, "%s", note != NULL ? note : "");
}

static void fmt_count(char *out, size_t n, uint64_t v)
{
    char raw[32];
    snprintf(raw, sizeof raw, "%llu", (unsigned long long)v);
    size_t len = strlen(raw), o = 0;
    for (size_t i = 0; i < len && o + 2 < n; i++) {
        if (i > 0 && (len - i) % 3 == 0) {
            out[o++] = ',';
        }
        out[o++] = raw[i];
    }
    out[o] = '\0';
}

static void fmt_time(char *out, size_t n, double s)
{
    if (s < 60) {
        snprintf(out, n, "%.0f s", s);
    } else if (s < 3600) {
        snprintf(out, n, "%d min %02d s", (int)(s / 60), (int)s % 60);
    } else {
        snprintf(out, n, "%d h %02d min", (int)(s / 3600), (int)(s / 60) % 60);
    }
}

static void draw(rcfd_progress_t *p, double t, int final)
{
    char done[32], total[32], left[32] = "";
    double secs = t - p->t0;
    double rate = secs > 0 ? (double)p->done / secs : 0.0;
    fmt_count(done, sizeof done, p->done);
    char line[400];
    int off;
    if (p->total > 0) {
        fmt_count(total, sizeof total, p->total);
        double frac = (double)p->done / (double)p->total;
        off = snprintf(line, sizeof line, "%s: %s / %s records (%.0f%%)", p->what, done, total,
                       100.0 * (frac > 1.0 ? 1.0 : frac));
        if (!final && rate > 0 && p->done < p->total) {
            char eta[24];
            fmt_time(eta, sizeof eta, (double)(p->total - p->done) / rate);
            snprintf(left, sizeof left, ", %s left", eta);
        }
    } else {
        off = snprintf(line, sizeof line, "%s: %s records", p->what, done);
    }
    char el[24];
    fmt_time(el, sizeof el, secs);
    snprintf(line + off, sizeof line - (size_t)off, ", %.0f records/s, %s%s%s%s", rate, el, left,
             p->note[0] ? "  " : "", p->note);
    if (p->mode == RCFD_PROGRESS_TTY) {
        /* \033[K clears what a longer previous line left */
        fprintf(p->out, "\r%s\033[K", line);
        p->drawn = 1;
    } else {
        fprintf(p->out, "%s\n", line);
    }
    fflush(p->out);
}

void rcfd_progress_add(rcfd_progress_t *p, uint64_t n)
{
    p->done += n;
    if (p->mode == RCFD_PROGRESS_OFF || p->done < p->next_check) {
        return;
    }
    p->next_check = p->done + 1024;
    double t = now_s();
    if (t - p->last >= p->every) {
        p->last = t;
        draw(p, t, 0);
    }
}

void rcfd_progress_finish(rcfd_progress_t *p)
{
    if (p->mode == RCFD_PROGRESS_TTY && p->drawn) {
        fprintf(p->out, "\r\033[K");
        fflush(p->out);
        p->drawn = 0;
    } else if (p->mode == RCFD_PROGRESS_LINES) {
        draw(p, now_s(), 1);
    }
}

uint64_t rcfd_progress_count_records(const char *path, int csv)
{
    FILE *f = strcmp(path, "-") == 0 ? NULL : fopen(path, "rb");
    if (f == NULL) {
        return 0;
    }
    char buf[1 << 16];
    uint64_t lines = 0;
    int blank = 1; /* the current line has only whitespace so far */
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        for (size_t i = 0; i < n; i++) {
            char c = buf[i];
            if (c == '\n') {
                lines += !blank;
                blank = 1;
            } else if (c != ' ' && c != '\t' && c != '\r') {
                blank = 0;
            }
        }
    }
    lines += !blank;
    fclose(f);
    return csv && lines > 0 ? lines - 1 : lines;
}
