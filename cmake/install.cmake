# Installation: the daemon, the core library (shared librcfd.so and static librcfd_core.a) with its
# headers and pkg-config file, the systemd unit, example configurations and the man page.
include(GNUInstallDirs)

set(RCFD_CONFIG_PATH "${CMAKE_INSTALL_FULL_SYSCONFDIR}/rcfd/rcfd.json"
    CACHE STRING "Configuration file the systemd unit runs with")

# The shared library holds exactly the core's objects; only RCFD_EXTERN symbols are exported.
# (CMake needs one source of its own: an empty unit.)
file(WRITE ${PROJECT_BINARY_DIR}/rcfd_shared.c "/* every object comes from rcfd_core */\n")
add_library(rcfd_shared SHARED ${PROJECT_BINARY_DIR}/rcfd_shared.c)
target_link_libraries(rcfd_shared PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,rcfd_core>" m)
set_target_properties(rcfd_shared PROPERTIES OUTPUT_NAME rcfd VERSION ${PROJECT_VERSION}
                      SOVERSION ${PROJECT_VERSION_MAJOR})

configure_file(${PROJECT_SOURCE_DIR}/cmake/rcfd.pc.in ${PROJECT_BINARY_DIR}/rcfd.pc @ONLY)
configure_file(${PROJECT_SOURCE_DIR}/systemd/rcfd.service.in ${PROJECT_BINARY_DIR}/rcfd.service
               @ONLY)

install(TARGETS rcfd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS rcfd_shared rcfd_core
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/rcfd DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/rcfd.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
install(FILES ${PROJECT_BINARY_DIR}/rcfd.service DESTINATION lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/docs/rcfd.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
file(GLOB rcfd_example_configs ${PROJECT_SOURCE_DIR}/conf/*.json)
install(FILES ${rcfd_example_configs} ${PROJECT_SOURCE_DIR}/conf/README.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
