# The daemon's configuration tree (descriptor tables for every component) and secret redaction.
target_sources(rcfd_stream PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/schema.c
  ${CMAKE_CURRENT_LIST_DIR}/redact.c)
