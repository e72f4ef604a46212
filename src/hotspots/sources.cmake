target_sources(rcfd_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/brute.c
  ${CMAKE_CURRENT_LIST_DIR}/detector.c
  ${CMAKE_CURRENT_LIST_DIR}/grid.c
  ${CMAKE_CURRENT_LIST_DIR}/incremental.c
  ${CMAKE_CURRENT_LIST_DIR}/json.c
  ${CMAKE_CURRENT_LIST_DIR}/state.c)
