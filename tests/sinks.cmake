# Sink tests (issue 5): integration tests that run the real rcfd with file sources, librdkafka's
# mock cluster and a misbehaving HTTP server on 127.0.0.1 (integration/sk_http.py).
if(NOT TARGET rcfd_stream OR NOT TARGET rcfd_mock_cluster)
  return()
endif()

foreach(it file filters webhook tls kafka kafka_fatal dead backpressure)
  if(NOT EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/integration/sk_${it}.sh)
    continue()
  endif()
  add_test(NAME sk_${it} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/sk_${it}.sh)
  set(labels integration)
  set(t 90)
  if(it STREQUAL "backpressure")
    set(labels "integration;slow")
    set(t 120)
  endif()
  math(EXPR timeout "${t} * ${RCFD_TEST_TIMEOUT_MULTIPLIER}")
  set_tests_properties(sk_${it} PROPERTIES TIMEOUT ${timeout} LABELS "${labels}"
    ENVIRONMENT "RCFD=$<TARGET_FILE:rcfd>;MOCK_CLUSTER=$<TARGET_FILE:rcfd_mock_cluster>;SRC_DIR=${PROJECT_SOURCE_DIR};TIME_MULT=${RCFD_TEST_TIMEOUT_MULTIPLIER}")
endforeach()

# The output host with a fake sink (no I/O).
foreach(unit sink_output sink_config)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_${unit}.c)
    rcfd_add_test(test_${unit} SOURCES unit/test_${unit}.c LABELS unit LIBS rcfd_stream)
  endif()
endforeach()
