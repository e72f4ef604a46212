# HTTP clients on the loop, shared by sinks and sources: libcurl's multi interface driven by libuv,
# and the AWS side of it (credentials, SigV4 by libcurl, Kinesis JSON requests).
target_sources(rcfd_stream PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/curl_uv.c
  ${CMAKE_CURRENT_LIST_DIR}/aws.c)
