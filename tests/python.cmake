# The Python package (python/): built offline with Debian's python3 into the build tree (a fixture,
# so `ctest -R python` builds it first), then its pytest suite: python_unit on its own,
# python_daemon against this build's rcfd binary. In a sanitizer build the extension is built with
# the same -fsanitize= and the tests run with the sanitizer runtimes preloaded into python3.
find_program(RCFD_PYTHON3 python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT RCFD_PYTHON3)
  find_program(RCFD_PYTHON3 python3)
endif()
if(NOT RCFD_PYTHON3)
  message(WARNING "python3 not found: the Python package's tests are not registered")
  return()
endif()

set(py_out ${PROJECT_BINARY_DIR}/python)
set(py_tests ${PROJECT_SOURCE_DIR}/python/tests)
set(py_env "PYTHONPATH=${py_out}/site;PYTHONDONTWRITEBYTECODE=1")
if(RCFD_SANITIZE MATCHES "thread")
  return() # an uninstrumented CPython under ThreadSanitizer reports nothing but noise
endif()
if(RCFD_SANITIZE)
  set(preload "")
  foreach(pair "address;asan" "undefined;ubsan")
    list(GET pair 0 san)
    list(GET pair 1 rt)
    if(RCFD_SANITIZE MATCHES "${san}")
      execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=lib${rt}.so
                      OUTPUT_VARIABLE lib OUTPUT_STRIP_TRAILING_WHITESPACE)
      string(APPEND preload "${lib}:")
    endif()
  endforeach()
  # CPython frees little at exit: leak checking stays with the C tests. PYTHONMALLOC=malloc lets
  # AddressSanitizer see Python objects' memory too.
  list(APPEND py_env "LD_PRELOAD=${preload}" "PYTHONMALLOC=malloc"
       "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1" "UBSAN_OPTIONS=print_stacktrace=1")
endif()

add_test(NAME python_build
         COMMAND bash ${py_tests}/build.sh ${RCFD_PYTHON3} ${PROJECT_SOURCE_DIR} ${py_out}
                 "${RCFD_SANITIZE}")
math(EXPR timeout "300 * ${RCFD_TEST_TIMEOUT_MULTIPLIER}")
set_tests_properties(python_build PROPERTIES FIXTURES_SETUP rcfd_python LABELS integration
                     TIMEOUT ${timeout})

add_test(NAME python_unit
         COMMAND ${RCFD_PYTHON3} -m pytest -q -p no:cacheprovider -m "not daemon" ${py_tests})
math(EXPR timeout "120 * ${RCFD_TEST_TIMEOUT_MULTIPLIER}")
set_tests_properties(python_unit PROPERTIES FIXTURES_REQUIRED rcfd_python LABELS unit
                     TIMEOUT ${timeout} WORKING_DIRECTORY ${py_out}
                     ENVIRONMENT "${py_env}")

if(TARGET rcfd)
  add_test(NAME python_daemon
           COMMAND ${RCFD_PYTHON3} -m pytest -q -p no:cacheprovider -m daemon ${py_tests})
  set_tests_properties(python_daemon PROPERTIES FIXTURES_REQUIRED rcfd_python LABELS integration
                       TIMEOUT ${timeout} WORKING_DIRECTORY ${py_out}
                       ENVIRONMENT "${py_env};RCFD=$<TARGET_FILE:rcfd>")
endif()
