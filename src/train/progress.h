/* A progress line on stderr for long offline work (rcfd train, rcfd backtest): records done, of how
 * many, records per second and the time left. On a terminal it rewrites one line (\r) at most 4
 * times a second; elsewhere (a log file, CI) it is quiet unless forced, and then prints a line
 * every 5 s. Not thread-safe: one per command. */
#ifndef RCFD_TRAIN_PROGRESS_H
#define RCFD_TRAIN_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

typedef enum rcfd_progress_mode {
    RCFD_PROGRESS_OFF = 0,
    RCFD_PROGRESS_TTY,  /* one line rewritten in place */
    RCFD_PROGRESS_LINES /* a line every 5 s */
} rcfd_progress_mode_t;

typedef struct rcfd_progress {
    FILE *out;
    int mode;
    const char *what; /* "backtest", "train" */
    uint64_t total;   /* records expected, 0 when unknown */
    uint64_t done;    /* records so far */
    uint64_t next_check;
    double t0, last, every;
    int drawn;      /* a TTY line is on screen */
    char note[160]; /* e.g. "file 3/58 realKnownCause/nyc_taxi.csv" */
} rcfd_progress_t;

/* quiet (--quiet) turns it off, force (--progress) on even when stderr is not a terminal. */
int rcfd_progress_mode(int quiet, int force);
void rcfd_progress_init(rcfd_progress_t *p, int mode, const char *what, uint64_t total);
/* Sets the text shown after the counts (copied). */
void rcfd_progress_note(rcfd_progress_t *p, const char *note);
/* Cheap per record: it reads the clock every 1024 records only. */
void rcfd_progress_add(rcfd_progress_t *p, uint64_t n);
/* Clears the terminal line, or prints the final line in LINES mode. */
void rcfd_progress_finish(rcfd_progress_t *p);

/* Records in a CSV (lines after the header) or JSONL file (non-blank lines), counted fast; 0 when
 * it cannot be read (the real reader reports the error). */
uint64_t rcfd_progress_count_records(const char *path, int csv);

#endif
