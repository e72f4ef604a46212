target_sources(rcfd_train PRIVATE ${CMAKE_CURRENT_LIST_DIR}/train_stats.c)
