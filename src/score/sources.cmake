# Score post-processing (anomaly likelihood, anomaly_novelty): pure, no I/O.
target_sources(rcfd_stream PRIVATE ${CMAKE_CURRENT_LIST_DIR}/likelihood.c)
