/* The backtest report: one self-contained HTML file (dygraphs, its script and the data inlined, no
 * external references, works offline) with what produced it (rcfd version and commit, the command,
 * every effective parameter), the summary tables, a sortable index of the files and, per file and
 * key, charts of the series, the score with its threshold and the alert input with the alert
 * threshold, labelled windows shaded and detections marked (src/backtest/report.js); and the JSON
 * summary for machines, with the same record of how it was made. */
#ifndef RCFD_BACKTEST_REPORT_H
#define RCFD_BACKTEST_REPORT_H

#include <stddef.h>

#include "backtest/backtest.h"
#include "common/buf.h"

int rcfd_report_html(const rcfd_bt_opts_t *opts, const rcfd_bt_file_t *files, size_t n_files,
                     const rcfd_bt_summary_t *s, rcfd_buf_t *out);
int rcfd_report_json(const rcfd_bt_opts_t *opts, const rcfd_bt_file_t *files, size_t n_files,
                     const rcfd_bt_summary_t *s, rcfd_buf_t *out);
/* Every record as CSV with a header, for analysis outside rcfd (bench/nab_posthoc.py):
 * file,row,value,score,grade,novelty,window; window is the file's window index or -1, and a
 * figure the model does not have (a dead-lettered record) is an empty cell. */
int rcfd_report_scores_csv(const rcfd_bt_file_t *files, size_t n_files, rcfd_buf_t *out);

#endif
