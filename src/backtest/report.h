/* The backtest report: one self-contained HTML file (inline CSS and SVG, no scripts, no external
 * references) with the summary tables and, per file, plots of the series, the score with the
 * threshold, and the grade, over shaded labelled windows; and a JSON summary for machines. */
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
