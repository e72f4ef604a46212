# rcfd train / backtest: NAB scorer, metrics, report, trainers, warm start.
if(NOT TARGET rcfd_backtest)
  return()
endif()

foreach(unit nab metrics train)
  rcfd_add_test(test_${unit} SOURCES unit/test_${unit}.c LABELS unit LIBS rcfd_backtest)
endforeach()

foreach(it backtest)
  add_test(NAME bt_${it} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/bt_${it}.sh)
  math(EXPR timeout "60 * ${RCFD_TEST_TIMEOUT_MULTIPLIER}")
  set_tests_properties(bt_${it} PROPERTIES TIMEOUT ${timeout} LABELS integration
    ENVIRONMENT "RCFD=$<TARGET_FILE:rcfd>")
endforeach()
