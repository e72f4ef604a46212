# Pipeline benchmark: mock cluster -> rcfd -> file output (not a ctest test).
if(TARGET rcfd AND TARGET bench_rcf)
  find_package(PkgConfig REQUIRED)
  find_package(Threads REQUIRED)
  pkg_check_modules(RCFD_BENCH_RDKAFKA REQUIRED IMPORTED_TARGET rdkafka)
  add_executable(bench_pipeline bench_pipeline.c)
  target_link_libraries(bench_pipeline PRIVATE PkgConfig::RCFD_BENCH_RDKAFKA Threads::Threads m)
  target_compile_definitions(bench_pipeline PRIVATE RCFD_BIN="$<TARGET_FILE:rcfd>"
                             BENCH_RCF_BIN="$<TARGET_FILE:bench_rcf>")
  add_dependencies(bench_pipeline rcfd bench_rcf)
endif()
