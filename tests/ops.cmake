# Operations: systemd notification protocol (the install check is in tests/CMakeLists.txt).
if(TARGET rcfd)
  add_test(NAME ops_notify COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/ops_notify.py
                                   $<TARGET_FILE:rcfd>)
  math(EXPR ops_timeout "60 * ${RCFD_TEST_TIMEOUT_MULTIPLIER}")
  set_tests_properties(ops_notify PROPERTIES LABELS integration TIMEOUT ${ops_timeout})
endif()

if(TARGET rcfd_stream)
  rcfd_add_test(test_prometheus SOURCES unit/test_prometheus.c LABELS unit LIBS rcfd_stream pthread)
endif()
if(TARGET rcfd_stream)
  rcfd_add_test(test_checkpoint SOURCES unit/test_checkpoint.c LABELS unit LIBS rcfd_stream)
endif()
if(TARGET rcfd)
  add_test(NAME ops_metrics COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/ops_metrics.py
                                    $<TARGET_FILE:rcfd>)
  set_tests_properties(ops_metrics PROPERTIES LABELS integration TIMEOUT ${ops_timeout})
endif()
# State store: restarts (SIGTERM, SIGKILL, damaged checkpoints) and two daemons sharing a group
# through the Kafka store, all against librdkafka's mock cluster.
if(TARGET rcfd AND TARGET rcfd_mock_cluster)
  foreach(it state state_scaleout)
    if(NOT EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/integration/ops_${it}.sh)
      continue()
    endif()
    add_test(NAME ops_${it} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/ops_${it}.sh)
    math(EXPR state_timeout "240 * ${RCFD_TEST_TIMEOUT_MULTIPLIER}")
    set_tests_properties(ops_${it} PROPERTIES TIMEOUT ${state_timeout} LABELS integration
      ENVIRONMENT "RCFD=$<TARGET_FILE:rcfd>;MOCK_CLUSTER=$<TARGET_FILE:rcfd_mock_cluster>;SCORE_CHECK=$<TARGET_FILE:rcfd_score_check>;SRC_DIR=${PROJECT_SOURCE_DIR};TIME_MULT=${RCFD_TEST_TIMEOUT_MULTIPLIER}")
  endforeach()
endif()
