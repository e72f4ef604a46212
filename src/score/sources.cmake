# Score post-processing (anomaly likelihood, anomaly_novelty, the alert decision) and period
# estimation: pure, no I/O.
target_sources(rcfd_stream PRIVATE ${CMAKE_CURRENT_LIST_DIR}/likelihood.c
                                   ${CMAKE_CURRENT_LIST_DIR}/alert.c
                                   ${CMAKE_CURRENT_LIST_DIR}/period.c)
