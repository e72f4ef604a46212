/* Error names and descriptions, generated from RCFD_ERRNO_MAP. */
#include <string.h>

#include "rcfd/status.h"
#include "rcfd/version.h"

const char *rcfd_version(void)
{
    return RCFD_VERSION_STRING;
}

const char *rcfd_err_name(int err)
{
    switch (err) {
#define RCFD_ERR_NAME_(name, value, desc) \
    case value: \
        return #name;
        RCFD_ERRNO_MAP(RCFD_ERR_NAME_)
#undef RCFD_ERR_NAME_
    default:
        return "UNKNOWN";
    }
}

const char *rcfd_strerror(int err)
{
    switch (err) {
#define RCFD_ERR_DESC_(name, value, desc) \
    case value: \
        return desc;
        RCFD_ERRNO_MAP(RCFD_ERR_DESC_)
#undef RCFD_ERR_DESC_
    default:
        break;
    }
    if (err < 0 && err > -4000) {
        return strerror(-err);
    }
    return "unknown error";
}
