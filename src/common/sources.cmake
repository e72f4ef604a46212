# The ground floor. Pure helpers go to rcfd_core; the ones that need cJSON or write logs go to
# rcfd_stream, so the core library keeps no I/O (tests/check_core_deps.sh).
target_sources(rcfd_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/alloc.c
  ${CMAKE_CURRENT_LIST_DIR}/crc32c.c
  ${CMAKE_CURRENT_LIST_DIR}/snapshot.c
  ${CMAKE_CURRENT_LIST_DIR}/status.c)
target_sources(rcfd_stream PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/buf.c
  ${CMAKE_CURRENT_LIST_DIR}/conf.c
  ${CMAKE_CURRENT_LIST_DIR}/expr.c
  ${CMAKE_CURRENT_LIST_DIR}/keytab.c
  ${CMAKE_CURRENT_LIST_DIR}/log.c)
# The git commit the binary was built from (common/build.h), regenerated at every build.
set(RCFD_BUILD_COMMIT "" CACHE STRING "Commit string to record when the tree has no .git")
set(rcfd_build_info_c ${PROJECT_BINARY_DIR}/generated/build_info.c)
add_custom_target(rcfd_build_info
  COMMAND ${CMAKE_COMMAND} -DSRC=${PROJECT_SOURCE_DIR} -DOUT=${rcfd_build_info_c}
          -DCOMMIT=${RCFD_BUILD_COMMIT} -P ${PROJECT_SOURCE_DIR}/cmake/build_info.cmake
  BYPRODUCTS ${rcfd_build_info_c}
  COMMENT "" VERBATIM)
target_sources(rcfd_stream PRIVATE ${rcfd_build_info_c})
add_dependencies(rcfd_stream rcfd_build_info)
