# The daemon's tests: cmocka unit tests of the streaming runtime's pieces, and integration tests
# that run the real rcfd binary against librdkafka's mock cluster (real Kafka protocol) and files.
if(NOT TARGET rcfd_stream)
  return()
endif()

foreach(unit config record ack_watermark keytab encode workers)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_${unit}.c)
    rcfd_add_test(test_${unit} SOURCES unit/test_${unit}.c LABELS unit LIBS rcfd_stream)
  endif()
endforeach()

pkg_check_modules(RCFD_IT_RDKAFKA REQUIRED IMPORTED_TARGET rdkafka)
add_executable(rcfd_mock_cluster support/mock_cluster.c)
target_link_libraries(rcfd_mock_cluster PRIVATE PkgConfig::RCFD_IT_RDKAFKA)
# Recomputes scores offline with the forest library, to compare with what the daemon wrote.
add_executable(rcfd_score_check integration/score_check.c)
target_link_libraries(rcfd_score_check PRIVATE rcfd_stream)

foreach(it config file_source kafka kafka_restart signals brokers_gone demo health health_draining
        workers)
  if(NOT EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/integration/it_${it}.sh)
    continue()
  endif()
  add_test(NAME it_${it}
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/it_${it}.sh)
  math(EXPR timeout "90 * ${RCFD_TEST_TIMEOUT_MULTIPLIER}")
  set_tests_properties(it_${it} PROPERTIES TIMEOUT ${timeout} LABELS integration
    ENVIRONMENT "RCFD=$<TARGET_FILE:rcfd>;MOCK_CLUSTER=$<TARGET_FILE:rcfd_mock_cluster>;SCORE_CHECK=$<TARGET_FILE:rcfd_score_check>;SRC_DIR=${PROJECT_SOURCE_DIR};TIME_MULT=${RCFD_TEST_TIMEOUT_MULTIPLIER}")
endforeach()
