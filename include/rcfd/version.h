/* rcfd — version macros and the visibility attribute shared by every public header. */
#ifndef RCFD_VERSION_H
#define RCFD_VERSION_H

#define RCFD_VERSION_MAJOR 0
#define RCFD_VERSION_MINOR 1
#define RCFD_VERSION_PATCH 0
#define RCFD_VERSION_HEX \
    ((RCFD_VERSION_MAJOR << 16) | (RCFD_VERSION_MINOR << 8) | RCFD_VERSION_PATCH)
#define RCFD_VERSION_STRING "0.1.0"

/* Only symbols marked RCFD_EXTERN are exported; the build sets default visibility to hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define RCFD_EXTERN __attribute__((visibility("default")))
#else
#define RCFD_EXTERN
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Returns RCFD_VERSION_STRING of the library actually linked (not of the headers compiled against). */
RCFD_EXTERN const char *rcfd_version(void);

#ifdef __cplusplus
}
#endif

#endif /* RCFD_VERSION_H */
