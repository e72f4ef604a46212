# rcfd kda import: the KDA SQL tokenizer and parser, the importer (stream chain -> config, report)
# and its command line. An offline tool, linked into the binary with train/ and backtest/.
target_sources(rcfd_backtest PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/sql.c
  ${CMAKE_CURRENT_LIST_DIR}/import.c
  ${CMAKE_CURRENT_LIST_DIR}/command.c)
