# Moving from Kinesis Data Analytics: derived fields (common/expr.c, the expression a KDA CURSOR
# computes), `rcfd kda import` (src/kda/), and the Kinesis Data Streams source and sink.
if(NOT TARGET rcfd_stream)
  return()
endif()

rcfd_add_test(test_expr SOURCES unit/test_expr.c LABELS unit LIBS rcfd_stream)
rcfd_add_test(test_aws SOURCES unit/test_aws.c LABELS unit LIBS rcfd_stream)
rcfd_add_test(test_kda SOURCES unit/test_kda.c LABELS unit LIBS rcfd_backtest)
rcfd_add_fuzz(expr SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_expr.c
              CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/expr LIBS rcfd_stream)
if(TARGET rcfd_backtest)
  rcfd_add_fuzz(kda SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_kda.c
                CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/kda LIBS rcfd_backtest)
endif()

# rcfd_kda_it(NAME [TIMEOUT s]): tests/integration/kda_NAME.sh against the real binary.
function(rcfd_kda_it name)
  cmake_parse_arguments(K "" "TIMEOUT" "" ${ARGN})
  if(NOT K_TIMEOUT)
    set(K_TIMEOUT 60)
  endif()
  add_test(NAME kda_${name} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/kda_${name}.sh)
  math(EXPR timeout "${K_TIMEOUT} * ${RCFD_TEST_TIMEOUT_MULTIPLIER}")
  set_tests_properties(kda_${name} PROPERTIES TIMEOUT ${timeout} LABELS integration
    ENVIRONMENT "RCFD=$<TARGET_FILE:rcfd>;MOCK_CLUSTER=$<TARGET_FILE:rcfd_mock_cluster>;SRC_DIR=${PROJECT_SOURCE_DIR};TIME_MULT=${RCFD_TEST_TIMEOUT_MULTIPLIER}")
endfunction()

rcfd_kda_it(derived_fields)
rcfd_kda_it(import TIMEOUT 150)

# Kinesis Data Streams against kinesalite (npm), installed once into the build tree; skipped (77)
# when npm cannot reach its registry.
add_test(NAME kda_kinesis COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/kda_kinesis.sh)
math(EXPR kinesis_timeout "240 * ${RCFD_TEST_TIMEOUT_MULTIPLIER}")
set_tests_properties(kda_kinesis PROPERTIES TIMEOUT ${kinesis_timeout} LABELS integration
  SKIP_RETURN_CODE 77
  ENVIRONMENT "RCFD=$<TARGET_FILE:rcfd>;MOCK_CLUSTER=$<TARGET_FILE:rcfd_mock_cluster>;SRC_DIR=${PROJECT_SOURCE_DIR};TIME_MULT=${RCFD_TEST_TIMEOUT_MULTIPLIER};KINESALITE_DIR=${PROJECT_BINARY_DIR}/kinesalite")
rcfd_kda_it(kinesis_put)
rcfd_kda_it(guide)
