# rcfd train / backtest: NAB scorer, metrics, report, trainers, warm start.
if(NOT TARGET rcfd_backtest)
  return()
endif()

foreach(unit nab metrics)
  rcfd_add_test(test_${unit} SOURCES unit/test_${unit}.c LABELS unit LIBS rcfd_backtest)
endforeach()
