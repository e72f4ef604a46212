# rcfd backtest: labelled replay, detection metrics, NAB scoring, the HTML/JSON report.
target_sources(rcfd_backtest PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/backtest.c
  ${CMAKE_CURRENT_LIST_DIR}/metrics.c
  ${CMAKE_CURRENT_LIST_DIR}/nab.c
  ${CMAKE_CURRENT_LIST_DIR}/report.c
  ${CMAKE_CURRENT_LIST_DIR}/command.c)

# The HTML report inlines dygraphs (Debian's libjs-dygraphs, MIT) and its own script and style
# (report.js, report.css), so one file works offline; they are compiled in (embedded.h).
set(RCFD_DYGRAPHS_DIR /usr/share/javascript/dygraphs
    CACHE PATH "Directory with dygraph.min.js and dygraph.min.css (Debian: libjs-dygraphs)")
if(NOT EXISTS ${RCFD_DYGRAPHS_DIR}/dygraph.min.js OR
   NOT EXISTS ${RCFD_DYGRAPHS_DIR}/dygraph.min.css)
  message(FATAL_ERROR "dygraphs not found in ${RCFD_DYGRAPHS_DIR}: install libjs-dygraphs "
                      "(scripts/setup.sh does) or set -DRCFD_DYGRAPHS_DIR=DIR")
endif()
set(rcfd_embed_inputs
  rcfd_dygraphs_js=${RCFD_DYGRAPHS_DIR}/dygraph.min.js
  rcfd_dygraphs_css=${RCFD_DYGRAPHS_DIR}/dygraph.min.css
  rcfd_report_js=${CMAKE_CURRENT_LIST_DIR}/report.js
  rcfd_report_css=${CMAKE_CURRENT_LIST_DIR}/report.css)
set(rcfd_embed_deps)
foreach(pair IN LISTS rcfd_embed_inputs)
  string(REGEX REPLACE "^[^=]*=" "" path "${pair}")
  list(APPEND rcfd_embed_deps ${path})
endforeach()
string(REPLACE ";" "|" rcfd_embed_arg "${rcfd_embed_inputs}")
add_custom_command(
  OUTPUT ${PROJECT_BINARY_DIR}/generated/embedded.c
  COMMAND ${CMAKE_COMMAND} -DOUT=${PROJECT_BINARY_DIR}/generated/embedded.c
          "-DFILES=${rcfd_embed_arg}" -P ${PROJECT_SOURCE_DIR}/cmake/embed.cmake
  DEPENDS ${rcfd_embed_deps} ${PROJECT_SOURCE_DIR}/cmake/embed.cmake
  COMMENT "Embedding the report's scripts and styles" VERBATIM)
target_sources(rcfd_backtest PRIVATE ${PROJECT_BINARY_DIR}/generated/embedded.c)
