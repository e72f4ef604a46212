target_sources(rcfd_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/brute.c
  ${CMAKE_CURRENT_LIST_DIR}/detector.c
  ${CMAKE_CURRENT_LIST_DIR}/grid.c
  ${CMAKE_CURRENT_LIST_DIR}/incremental.c
  ${CMAKE_CURRENT_LIST_DIR}/json.c
  ${CMAKE_CURRENT_LIST_DIR}/state.c)
# The BLAS-backed batch rebuild used by `rcfd train` (hs_int.h is this folder's).
target_sources(rcfd_train PRIVATE ${CMAKE_CURRENT_LIST_DIR}/train_blas.c)
