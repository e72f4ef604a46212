# rcfd train / backtest: NAB scorer, metrics, report, trainers, warm start.
if(NOT TARGET rcfd_backtest)
  return()
endif()

foreach(unit nab metrics train model_rcf model_rcf_auto model_rcf_expected model_forecast
        model_impute)
  rcfd_add_test(test_${unit} SOURCES unit/test_${unit}.c LABELS unit LIBS rcfd_backtest)
endforeach()

# OpenBLAS versus plain loops for rcfd train --suggest (rcfd_train).
rcfd_add_test(test_train_stats SOURCES unit/test_train_stats.c LABELS unit LIBS rcfd_backtest)

# Score post-processing the backtest and the daemon's rcf output share (score/likelihood.h).
rcfd_add_test(test_likelihood SOURCES unit/test_likelihood.c LABELS unit LIBS rcfd_stream)
rcfd_add_test(test_alert SOURCES unit/test_alert.c LABELS unit LIBS rcfd_stream)
rcfd_add_test(test_period SOURCES unit/test_period.c LABELS unit LIBS rcfd_stream)

# bt_report_browser: the HTML report in headless Chromium (JavaScript errors, every chart drawn).
foreach(it backtest train_hotspots report_browser)
  add_test(NAME bt_${it} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/bt_${it}.sh)
  math(EXPR timeout "90 * ${RCFD_TEST_TIMEOUT_MULTIPLIER}")
  set_tests_properties(bt_${it} PROPERTIES TIMEOUT ${timeout} LABELS integration
    ENVIRONMENT "RCFD=$<TARGET_FILE:rcfd>;TIME_MULT=${RCFD_TEST_TIMEOUT_MULTIPLIER}")
endforeach()

# Warm start: rcfd train, then the daemon with initial_state on librdkafka's mock cluster
# (rcfd_mock_cluster and rcfd_score_check come from daemon.cmake; rcfd_stream implies them).
if(TARGET rcfd_stream)
  add_test(NAME bt_warm_start COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/bt_warm_start.sh)
  math(EXPR timeout "90 * ${RCFD_TEST_TIMEOUT_MULTIPLIER}")
  set_tests_properties(bt_warm_start PROPERTIES TIMEOUT ${timeout} LABELS integration
    ENVIRONMENT "RCFD=$<TARGET_FILE:rcfd>;MOCK_CLUSTER=$<TARGET_FILE:rcfd_mock_cluster>;SCORE_CHECK=$<TARGET_FILE:rcfd_score_check>;SRC_DIR=${PROJECT_SOURCE_DIR};TIME_MULT=${RCFD_TEST_TIMEOUT_MULTIPLIER}")
endif()

# impute end to end: the daemon (marks, dead letters past the limit, /metrics), rcfd train then a
# warm start against one run, linear refused by the daemon and interpolated by rcfd backtest.
if(TARGET rcfd)
  add_test(NAME it_impute COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/it_impute.py
                                  $<TARGET_FILE:rcfd>)
  math(EXPR timeout "120 * ${RCFD_TEST_TIMEOUT_MULTIPLIER}")
  set_tests_properties(it_impute PROPERTIES LABELS integration TIMEOUT ${timeout})
endif()
