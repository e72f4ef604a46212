/* What this binary was built from, for reports and metrics that must say how to reproduce them. */
#ifndef RCFD_COMMON_BUILD_H
#define RCFD_COMMON_BUILD_H

/* The git commit of the source tree (12 hex digits, "-dirty" with uncommitted changes), the
 * RCFD_BUILD_COMMIT the build was configured with, or "unknown". Generated at every build
 * (cmake/build_info.cmake). */
const char *rcfd_build_commit(void);

#endif
