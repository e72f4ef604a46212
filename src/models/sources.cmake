# Model type descriptors: the glue between the core libraries and the runtime.
target_sources(rcfd_stream PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/model.c
  ${CMAKE_CURRENT_LIST_DIR}/impute.c
  ${CMAKE_CURRENT_LIST_DIR}/rcf.c
  ${CMAKE_CURRENT_LIST_DIR}/hotspots.c
  ${CMAKE_CURRENT_LIST_DIR}/forecast.c)
target_compile_definitions(rcfd_stream PUBLIC RCFD_HAVE_HOTSPOTS=1)
