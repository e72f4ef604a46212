# rcfd_train: batch work that may use OpenBLAS (rcfd_core + OpenBLAS; no I/O, no loop).
pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET openblas)
add_library(rcfd_train STATIC)
target_include_directories(rcfd_train
  PUBLIC  ${PROJECT_SOURCE_DIR}/include
  PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(rcfd_train PUBLIC rcfd_core PkgConfig::OPENBLAS PRIVATE m)
file(GLOB rcfd_train_module_lists ${CMAKE_CURRENT_SOURCE_DIR}/*/train_sources.cmake)
foreach(list ${rcfd_train_module_lists})
  include(${list})
endforeach()
