# The output host and every sink: file, Kafka producer, webhook and Kinesis (net/: libcurl multi
# on the loop).
target_sources(rcfd_stream PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/output.c
  ${CMAKE_CURRENT_LIST_DIR}/file.c
  ${CMAKE_CURRENT_LIST_DIR}/kafka.c
  ${CMAKE_CURRENT_LIST_DIR}/webhook.c
  ${CMAKE_CURRENT_LIST_DIR}/kinesis.c)
