# rcfd backtest: labelled replay, detection metrics, NAB scoring, the HTML/JSON report.
target_sources(rcfd_backtest PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/backtest.c
  ${CMAKE_CURRENT_LIST_DIR}/metrics.c
  ${CMAKE_CURRENT_LIST_DIR}/nab.c
  ${CMAKE_CURRENT_LIST_DIR}/report.c
  ${CMAKE_CURRENT_LIST_DIR}/command.c)
