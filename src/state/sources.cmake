# Persistence: the checkpoint format, the store interface and its directory and Kafka stores, and
# initial_state (warm start) snapshots.
target_sources(rcfd_stream PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/checkpoint.c
  ${CMAKE_CURRENT_LIST_DIR}/dir.c
  ${CMAKE_CURRENT_LIST_DIR}/kafka.c
  ${CMAKE_CURRENT_LIST_DIR}/warm.c)
