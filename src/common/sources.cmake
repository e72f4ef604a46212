# The ground floor. Pure helpers go to rcfd_core; the ones that need cJSON or write logs go to
# rcfd_stream, so the core library keeps no I/O (tests/check_core_deps.sh).
target_sources(rcfd_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/alloc.c
  ${CMAKE_CURRENT_LIST_DIR}/crc32c.c
  ${CMAKE_CURRENT_LIST_DIR}/snapshot.c
  ${CMAKE_CURRENT_LIST_DIR}/status.c)
target_sources(rcfd_stream PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/buf.c
  ${CMAKE_CURRENT_LIST_DIR}/conf.c
  ${CMAKE_CURRENT_LIST_DIR}/keytab.c
  ${CMAKE_CURRENT_LIST_DIR}/log.c)
