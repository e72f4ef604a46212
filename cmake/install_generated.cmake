# Run by `cmake --install` (install(SCRIPT)): writes rcfd.pc, the systemd unit and the man page with
# the paths of the prefix this install uses (CMAKE_INSTALL_PREFIX here is --prefix when given), and
# installs them, DESTDIR honoured.
if(NOT RCFD_INSTALL_VARS)
  message(FATAL_ERROR "RCFD_INSTALL_VARS is not set: run this from the build's cmake --install")
endif()
include("${RCFD_INSTALL_VARS}")

set(prefix "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/+$" "" prefix "${prefix}")
function(full out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "${prefix}/${dir}" PARENT_SCOPE)
  endif()
endfunction()
full(bindir "${RCFD_BINDIR}")
full(libdir "${RCFD_LIBDIR}")
full(includedir "${RCFD_INCLUDEDIR}")
full(docdir "${RCFD_DOCDIR}")
# GNUInstallDirs' rule for SYSCONFDIR: /etc for the prefixes / and /usr, /etc/opt/... for /opt/...
if(IS_ABSOLUTE "${RCFD_SYSCONFDIR}")
  set(sysconfdir "${RCFD_SYSCONFDIR}")
elseif(prefix STREQUAL "" OR prefix STREQUAL "/usr")
  set(sysconfdir "/${RCFD_SYSCONFDIR}")
elseif(prefix MATCHES "^/opt/")
  set(sysconfdir "/${RCFD_SYSCONFDIR}${prefix}")
else()
  set(sysconfdir "${prefix}/${RCFD_SYSCONFDIR}")
endif()
if(RCFD_CONFIG_PATH STREQUAL "")
  set(config "${sysconfdir}/rcfd/rcfd.json")
else()
  set(config "${RCFD_CONFIG_PATH}")
endif()
if(prefix STREQUAL "")
  set(prefix "/")
endif()

set(gen "${RCFD_BIN}/install-generated")
file(MAKE_DIRECTORY "${gen}")
# rcfd.pc
set(pc_libdir "${libdir}")
set(pc_includedir "${includedir}")
file(WRITE "${gen}/rcfd.pc"
  "prefix=${prefix}\nlibdir=${pc_libdir}\nincludedir=${pc_includedir}\n\n"
  "Name: rcfd\n"
  "Description: Streaming Random Cut Forest and HOTSPOTS anomaly detection (no I/O, libc and libm only)\n"
  "Version: ${RCFD_VERSION}\nLibs: -L\${libdir} -lrcfd\nLibs.private: -lm\nCflags: -I\${includedir}\n")
# the unit
set(RCFD_UNIT_BINDIR "${bindir}")
set(RCFD_UNIT_CONFIG "${config}")
configure_file("${RCFD_SRC}/systemd/rcfd.service.in" "${gen}/rcfd.service" @ONLY)
# the man page: its FILES and SEE ALSO name the default paths; here they become this install's
file(READ "${RCFD_SRC}/docs/rcfd.1" man)
string(REPLACE "/etc/rcfd/rcfd.json" "${config}" man "${man}")
string(REPLACE "/usr/share/doc/rcfd" "${docdir}" man "${man}")
string(REPLACE "/usr/bin/rcfd" "${bindir}/rcfd" man "${man}")
file(WRITE "${gen}/rcfd.1" "${man}")

file(INSTALL "${gen}/rcfd.pc" DESTINATION "${libdir}/pkgconfig")
file(INSTALL "${gen}/rcfd.service" DESTINATION "${prefix}/lib/systemd/system")
full(mandir "${RCFD_MANDIR}")
file(INSTALL "${gen}/rcfd.1" DESTINATION "${mandir}/man1")
