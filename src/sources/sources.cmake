# Record sources (Kafka, files, Kinesis Data Streams), one descriptor (rcfd_source_ops_t, stream/runtime_int.h) each.
target_sources(rcfd_stream PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/kafka.c
  ${CMAKE_CURRENT_LIST_DIR}/file.c
  ${CMAKE_CURRENT_LIST_DIR}/kinesis.c)
