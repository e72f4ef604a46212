# Nothing lost, nothing crashes (issue #13): unit tests of the pieces that keep bad input, sink
# refusals and damaged state accounted for, and the chaos suite (label `chaos`): scenarios that
# produce numbered records, inject a fault and count every input offset in the outputs and the
# dead-letter output (lost must be 0; duplicates are reported).
if(NOT TARGET rcfd_stream)
  return()
endif()

rcfd_add_test(test_dead_letter SOURCES unit/test_dead_letter.c LABELS unit LIBS rcfd_stream)
rcfd_add_test(test_read_file SOURCES unit/test_read_file.c LABELS unit LIBS rcfd_stream)
rcfd_add_test(test_admin_caps SOURCES unit/test_admin_caps.c LABELS unit LIBS rcfd_stream pthread
              TIMEOUT 60)

# The chaos scenarios: the real rcfd against files, librdkafka's mock cluster and sockets.
# (rcfd_mock_cluster comes from daemon.cmake, included after this file.)
if(TARGET rcfd)
  set(chaos_env "RCFD=$<TARGET_FILE:rcfd>;MOCK_CLUSTER=$<TARGET_FILE:rcfd_mock_cluster>;SRC_DIR=${PROJECT_SOURCE_DIR};TIME_MULT=${RCFD_TEST_TIMEOUT_MULTIPLIER}")
  foreach(ch malformed stdin kill sink_refuse file_deleted admin state memory group)
    add_test(NAME ch_${ch} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/chaos/ch_${ch}.sh)
    # ch_group's own waits (trickled, covered) run to 240 s: fail there, with the counts, not by
    # ctest's kill
    if(ch STREQUAL "group")
      math(EXPR timeout "300 * ${RCFD_TEST_TIMEOUT_MULTIPLIER}")
    else()
      math(EXPR timeout "120 * ${RCFD_TEST_TIMEOUT_MULTIPLIER}")
    endif()
    set_tests_properties(ch_${ch} PROPERTIES TIMEOUT ${timeout} LABELS chaos
                         ENVIRONMENT "${chaos_env}")
  endforeach()
endif()
