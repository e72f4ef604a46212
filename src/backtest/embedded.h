/* Files compiled into the binary for the HTML report (cmake/embed.cmake, src/backtest/sources.cmake):
 * dygraphs 2.x from Debian's libjs-dygraphs (MIT; its licence header is kept in the script), and
 * the report's own script and style. Each is NUL-terminated; _len excludes the NUL. */
#ifndef RCFD_BACKTEST_EMBEDDED_H
#define RCFD_BACKTEST_EMBEDDED_H

#include <stddef.h>

extern const char rcfd_dygraphs_js[], rcfd_dygraphs_css[], rcfd_report_js[], rcfd_report_css[];
extern const size_t rcfd_dygraphs_js_len, rcfd_dygraphs_css_len, rcfd_report_js_len,
    rcfd_report_css_len;

#endif
