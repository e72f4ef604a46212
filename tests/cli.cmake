# The command line and what a new user reads: the man page against every --help, the commands of
# README.md and docs/*.md run as typed, and the Debian package.
if(NOT TARGET rcfd)
  return()
endif()

add_test(NAME cli_manpage
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/check_manpage.sh $<TARGET_FILE:rcfd>
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(cli_manpage PROPERTIES LABELS unit TIMEOUT 30)

# dpkg-buildpackage -b of a copy of the tree, the packages unpacked into a fresh root, the
# installed rcfd run and its unit verified (about a minute on 2 cores).
add_test(NAME cli_debian_package
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/check_deb.sh ${PROJECT_SOURCE_DIR})
math(EXPR timeout "600 * ${RCFD_TEST_TIMEOUT_MULTIPLIER}")
set_tests_properties(cli_debian_package PROPERTIES LABELS slow TIMEOUT ${timeout})

# The ```sh blocks of the README and the docs, run as written (tests/check_docs.sh), one test each.
foreach(doc README.md docs/daemon.md docs/backtest.md docs/operations.md)
  get_filename_component(name ${doc} NAME_WE)
  string(TOLOWER ${name} name)
  add_test(NAME cli_docs_${name}
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/check_docs.sh ${PROJECT_BINARY_DIR}
                   ${PROJECT_SOURCE_DIR} ${doc})
  math(EXPR timeout "180 * ${RCFD_TEST_TIMEOUT_MULTIPLIER}")
  set_tests_properties(cli_docs_${name} PROPERTIES LABELS integration TIMEOUT ${timeout})
endforeach()
