# HOTSPOTS benchmark: incremental vs brute force, plain vs OpenBLAS neighbour matrix.
if(TARGET rcfd_train)
  add_executable(bench_hs bench_hs.c)
  target_link_libraries(bench_hs PRIVATE rcfd_core_internal rcfd_train)
endif()
