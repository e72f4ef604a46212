# Nothing lost, nothing crashes (issue #13): unit tests of the pieces that keep bad input, sink
# refusals and damaged state accounted for, and the chaos suite (label `chaos`): scenarios that
# produce numbered records, inject a fault and count every input offset in the outputs and the
# dead-letter output (lost must be 0; duplicates are reported).
if(NOT TARGET rcfd_stream)
  return()
endif()

rcfd_add_test(test_dead_letter SOURCES unit/test_dead_letter.c LABELS unit LIBS rcfd_stream)
rcfd_add_test(test_admin_caps SOURCES unit/test_admin_caps.c LABELS unit LIBS rcfd_stream pthread
              TIMEOUT 60)
