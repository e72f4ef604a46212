# The runtime: record decoding, pipelines, per-key models, ack queues, encoding, the state manager,
# backpressure and shutdown on one libuv loop; the worker threads that run the models (workers.c,
# dispatch.c).
target_sources(rcfd_stream PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/record.c
  ${CMAKE_CURRENT_LIST_DIR}/keymodels.c
  ${CMAKE_CURRENT_LIST_DIR}/ackq.c
  ${CMAKE_CURRENT_LIST_DIR}/encode.c
  ${CMAKE_CURRENT_LIST_DIR}/state.c
  ${CMAKE_CURRENT_LIST_DIR}/workers.c
  ${CMAKE_CURRENT_LIST_DIR}/dispatch.c
  ${CMAKE_CURRENT_LIST_DIR}/runtime.c)
