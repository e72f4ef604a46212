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
