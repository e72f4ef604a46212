# Installation: the daemon, the core library (shared librcfd.so and static librcfd_core.a) with its
# headers and pkg-config file, the systemd unit, the man page, the documentation and example
# configurations.
#
# rcfd.pc, the unit and the man page name installed paths, so they are written at install time
# (cmake/install_generated.cmake) from the prefix in effect then: `cmake --install build --prefix
# DIR` writes DIR into them, not the configure-time CMAKE_INSTALL_PREFIX.
include(GNUInstallDirs)

set(RCFD_CONFIG_PATH "" CACHE STRING
    "Configuration file the systemd unit runs with (default: SYSCONFDIR/rcfd/rcfd.json of the install prefix)")

# The shared library holds exactly the core's objects; only RCFD_EXTERN symbols are exported.
# (CMake needs one source of its own: an empty unit.)
file(WRITE ${PROJECT_BINARY_DIR}/rcfd_shared.c "/* every object comes from rcfd_core */\n")
add_library(rcfd_shared SHARED ${PROJECT_BINARY_DIR}/rcfd_shared.c)
target_link_libraries(rcfd_shared PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,rcfd_core>" m)
set_target_properties(rcfd_shared PROPERTIES OUTPUT_NAME rcfd VERSION ${PROJECT_VERSION}
                      SOVERSION ${PROJECT_VERSION_MAJOR})

# Build trees configured before the default became install-time still cache the old default: that
# value means "the default" too.
if(RCFD_CONFIG_PATH STREQUAL "${CMAKE_INSTALL_FULL_SYSCONFDIR}/rcfd/rcfd.json")
  set(RCFD_CONFIG_PATH "" CACHE STRING "" FORCE)
endif()

# For the build tree (tests run the unit from here with systemd-analyze): the configure-time paths.
set(rcfd_config_path "${RCFD_CONFIG_PATH}")
if(rcfd_config_path STREQUAL "")
  set(rcfd_config_path "${CMAKE_INSTALL_FULL_SYSCONFDIR}/rcfd/rcfd.json")
endif()
set(RCFD_UNIT_BINDIR "${CMAKE_INSTALL_FULL_BINDIR}")
set(RCFD_UNIT_CONFIG "${rcfd_config_path}")
configure_file(${PROJECT_SOURCE_DIR}/systemd/rcfd.service.in ${PROJECT_BINARY_DIR}/rcfd.service
               @ONLY)

# What the install-time script needs to know about this build.
configure_file(${PROJECT_SOURCE_DIR}/cmake/install_vars.cmake.in
               ${PROJECT_BINARY_DIR}/install_vars.cmake @ONLY)

install(TARGETS rcfd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS rcfd_shared rcfd_core
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/rcfd DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(CODE "set(RCFD_INSTALL_VARS \"${PROJECT_BINARY_DIR}/install_vars.cmake\")")
install(SCRIPT ${PROJECT_SOURCE_DIR}/cmake/install_generated.cmake)
file(GLOB rcfd_example_configs ${PROJECT_SOURCE_DIR}/conf/*.json)
install(FILES ${rcfd_example_configs} ${PROJECT_SOURCE_DIR}/conf/README.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
# The documentation the man page points at.
file(GLOB rcfd_docs ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${rcfd_docs} DESTINATION ${CMAKE_INSTALL_DOCDIR})
