# Score post-processing (anomaly likelihood, anomaly_novelty) and period estimation: pure, no I/O.
target_sources(rcfd_stream PRIVATE ${CMAKE_CURRENT_LIST_DIR}/likelihood.c
  ${CMAKE_CURRENT_LIST_DIR}/period.c)
