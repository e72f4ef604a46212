# rcfd train: the trainer descriptors, the input reader shared with backtests, --suggest. The
# suggestion statistics use OpenBLAS (rcfd_train); the rest links into the binary (rcfd_backtest).
target_sources(rcfd_train PRIVATE ${CMAKE_CURRENT_LIST_DIR}/stats.c)
target_sources(rcfd_backtest PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/input.c
  ${CMAKE_CURRENT_LIST_DIR}/linear.c
  ${CMAKE_CURRENT_LIST_DIR}/progress.c
  ${CMAKE_CURRENT_LIST_DIR}/trainer.c
  ${CMAKE_CURRENT_LIST_DIR}/rcf.c
  ${CMAKE_CURRENT_LIST_DIR}/hotspots.c
  ${CMAKE_CURRENT_LIST_DIR}/forecast.c
  ${CMAKE_CURRENT_LIST_DIR}/suggest.c
  ${CMAKE_CURRENT_LIST_DIR}/command.c)
