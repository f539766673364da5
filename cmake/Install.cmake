# What a production host needs without a build tree: `cmake --install` and a .deb made by CPack
# (`cpack -G DEB` in the build folder). `tierscope` finds its preload libraries at
# <bindir>/../lib, so they go to <prefix>/lib, not a multiarch folder.
set(TIERSCOPE_LIBDIR lib)

install(TARGETS tierscope RUNTIME DESTINATION bin)
if(TARGET tierscope-gui)
  install(TARGETS tierscope-gui RUNTIME DESTINATION bin)
endif()
# The formats' generated code is a library of its own that every other one loads
# (formats/CMakeLists.txt): the preload libraries find it beside them, the binaries at ../lib.
foreach(lib tierscope-placer tierscope-recorder tierscope_proto)
  if(TARGET ${lib})  # the sanitizer build has no preload libraries
    install(TARGETS ${lib} LIBRARY DESTINATION ${TIERSCOPE_LIBDIR})
    set_target_properties(${lib} PROPERTIES INSTALL_RPATH "$ORIGIN")
  endif()
endforeach()
foreach(program tierscope tierscope-gui)
  if(TARGET ${program})
    set_target_properties(${program} PROPERTIES INSTALL_RPATH "$ORIGIN/../${TIERSCOPE_LIBDIR}")
  endif()
endforeach()
# The hint API (ts_malloc_hot/cold/tier, ts_free, ts_tier_of) for programs that link the placer.
install(FILES placer/include/tierscope/placer.h DESTINATION include/tierscope)

# pkg-config and CMake config files for the hint API.
configure_file(packaging/tierscope-placer.pc.in tierscope-placer.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/tierscope-placer.pc
  DESTINATION ${TIERSCOPE_LIBDIR}/pkgconfig)
configure_file(packaging/tierscope-placer-config.cmake.in tierscope-placer-config.cmake @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/tierscope-placer-config.cmake
  DESTINATION ${TIERSCOPE_LIBDIR}/cmake/tierscope-placer)

# Man pages, generated from each command's --help (help2man), when help2man is there.
find_program(HELP2MAN help2man)
if(HELP2MAN)
  set(man_pages)
  foreach(sub record analyze report plan evaluate merge diff export run topology dump)
    set(page ${CMAKE_CURRENT_BINARY_DIR}/man/tierscope-${sub}.1)
    add_custom_command(OUTPUT ${page}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/man
      COMMAND ${HELP2MAN} -N --no-discard-stderr --version-string=${PROJECT_VERSION}
        "--help-option=${sub} --help" "--name=tierscope ${sub}" -o ${page} $<TARGET_FILE:tierscope>
      DEPENDS tierscope VERBATIM)
    list(APPEND man_pages ${page})
  endforeach()
  set(page ${CMAKE_CURRENT_BINARY_DIR}/man/tierscope.1)
  add_custom_command(OUTPUT ${page}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/man
    COMMAND ${HELP2MAN} -N --no-discard-stderr "--name=memory tiering profiler and placer"
      -o ${page} $<TARGET_FILE:tierscope>
    DEPENDS tierscope VERBATIM)
  list(APPEND man_pages ${page})
  add_custom_target(tierscope-man ALL DEPENDS ${man_pages})
  install(FILES ${man_pages} DESTINATION share/man/man1)
endif()

# A systemd drop-in that runs a service under the placer.
install(FILES packaging/systemd/tierscope-placer.conf packaging/README.md
  DESTINATION share/doc/tierscope/examples)

set(CPACK_PACKAGE_NAME tierscope)
set(CPACK_PACKAGE_VENDOR "tierscope")
set(CPACK_PACKAGE_CONTACT "tierscope developers <tierscope@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "profile memory hotness per allocation site and place allocations on memory tiers")
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# dlopened for PEBS only (recorder/sampling/pfm_library.h), so dpkg-shlibdeps does not see it.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libpfm4")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
include(CPack)
