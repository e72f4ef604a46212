target_sources(rcfd_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/forest.c
  ${CMAKE_CURRENT_LIST_DIR}/impute.c
  ${CMAKE_CURRENT_LIST_DIR}/pointstore.c
  ${CMAKE_CURRENT_LIST_DIR}/sampler.c
  ${CMAKE_CURRENT_LIST_DIR}/state.c
  ${CMAKE_CURRENT_LIST_DIR}/threshold.c
  ${CMAKE_CURRENT_LIST_DIR}/tree.c
  ${CMAKE_CURRENT_LIST_DIR}/box_avx.c)
