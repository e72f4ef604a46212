# HOTSPOTS tests (src/hotspots). The agreement runs compare the incremental detector with the
# brute-force reference and an independent oracle after every record.
rcfd_add_test(test_hs_agree SOURCES unit/test_hs_agree.c LABELS unit TIMEOUT 120)
rcfd_add_test(test_hs_cases SOURCES unit/test_hs_cases.c LABELS unit)
rcfd_add_test(test_hs_params SOURCES unit/test_hs_params.c LABELS unit)
rcfd_add_test(test_hs_state SOURCES unit/test_hs_state.c LABELS unit)
rcfd_add_test(test_hs_alloc SOURCES unit/test_hs_alloc.c LABELS unit)

# Snapshot loader fuzz target (corpus replayed by ctest as fuzz_replay_hs_state).
rcfd_add_fuzz(hs_state SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_hs_state.c
              CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/hs_state)
# Checks the committed seeds still match this build's format; `test_hs_corpus --write DIR`
# regenerates them.
rcfd_add_test(test_hs_corpus SOURCES unit/test_hs_corpus.c LABELS unit
              ARGS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/hs_state)
if(TARGET rcfd_train)
  rcfd_add_test(test_hs_blas SOURCES unit/test_hs_blas.c LABELS unit LIBS rcfd_train)
endif()
