# The admin side: HTTP listener (/metrics, /health), metrics registry, systemd notify.
target_sources(rcfd_stream PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/http.c
  ${CMAKE_CURRENT_LIST_DIR}/metrics.c
  ${CMAKE_CURRENT_LIST_DIR}/notify.c)
