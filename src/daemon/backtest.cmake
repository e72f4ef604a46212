# rcfd train / rcfd backtest: NAB scoring, metrics, the HTML report, trainers and warm start.
# Linked into the rcfd binary; BLAS helpers live in rcfd_train (src/daemon/train_sources.cmake).
add_library(rcfd_backtest STATIC
  ${CMAKE_CURRENT_LIST_DIR}/nab.c
  ${CMAKE_CURRENT_LIST_DIR}/metrics.c
  ${CMAKE_CURRENT_LIST_DIR}/report.c
  ${CMAKE_CURRENT_LIST_DIR}/backtest.c
  ${CMAKE_CURRENT_LIST_DIR}/backtest_input.c
  ${CMAKE_CURRENT_LIST_DIR}/backtest_main.c
  ${CMAKE_CURRENT_LIST_DIR}/trainer.c
  ${CMAKE_CURRENT_LIST_DIR}/train_rcf.c
  ${CMAKE_CURRENT_LIST_DIR}/train_hotspots.c
  ${CMAKE_CURRENT_LIST_DIR}/train.c
  ${CMAKE_CURRENT_LIST_DIR}/train_suggest.c)
target_include_directories(rcfd_backtest PUBLIC ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(rcfd_backtest PUBLIC rcfd_stream rcfd_train m)
target_link_libraries(rcfd PRIVATE rcfd_backtest)
