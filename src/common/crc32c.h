/* CRC-32C (Castagnoli), used to checksum snapshots. */
#ifndef RCFD_COMMON_CRC32C_H
#define RCFD_COMMON_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t rcfd_crc32c(uint32_t crc, const void *data, size_t len);

#endif
