# Score post-processing (anomaly likelihood, anomaly_novelty, the alert decision): pure, no I/O.
target_sources(rcfd_stream PRIVATE ${CMAKE_CURRENT_LIST_DIR}/likelihood.c
                                   ${CMAKE_CURRENT_LIST_DIR}/alert.c)
