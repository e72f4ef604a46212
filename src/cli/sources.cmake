# The rcfd binary: main() and subcommand dispatch (run, demo, dev-broker, train, backtest).
target_sources(rcfd PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/main.c
  ${CMAKE_CURRENT_LIST_DIR}/demo.c
  ${CMAKE_CURRENT_LIST_DIR}/demo_kafka.c
  ${CMAKE_CURRENT_LIST_DIR}/devbroker.c)
