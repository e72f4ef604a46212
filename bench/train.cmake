# rcfd train --suggest arithmetic: OpenBLAS versus plain loops (bench/RESULTS.md "Trainers").
if(TARGET rcfd_train AND EXISTS ${PROJECT_SOURCE_DIR}/src/train/stats.c)
  add_executable(bench_train bench_train.c)
  target_link_libraries(bench_train PRIVATE rcfd_train)
  target_include_directories(bench_train PRIVATE ${PROJECT_SOURCE_DIR}/src)
endif()
