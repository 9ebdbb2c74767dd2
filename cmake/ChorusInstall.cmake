# `cmake --install build/cpu --prefix P` lays out an engine that plugins build against:
#   P/bin/chorus
#   P/lib/libchorus_core.so*           P/lib/chorus/plugins/*.so (shipped modality plugins)
#   P/include/core/**.h                P/include/chorus/plugin.h (the SDK), core/version.h
#   P/lib/cmake/Chorus/                ChorusConfig.cmake, version file, targets, chorus_add_plugin
#   P/share/chorus/template/           the template `chorus plugins new` copies
# Fixed "lib" (not GNUInstallDirs' multiarch dir): `chorus` finds plugins at ../lib/chorus/plugins.
include(CMakePackageConfigHelpers)

set(CHORUS_INSTALL_INCLUDEDIR include)
set(CHORUS_INSTALL_CMAKEDIR lib/cmake/Chorus)

set_target_properties(chorus_core PROPERTIES EXPORT_NAME core)
target_include_directories(chorus_core PUBLIC $<INSTALL_INTERFACE:${CHORUS_INSTALL_INCLUDEDIR}>)
install(TARGETS chorus_core EXPORT ChorusTargets
        LIBRARY DESTINATION lib
        ARCHIVE DESTINATION lib)
install(TARGETS chorus RUNTIME DESTINATION bin)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/core/ DESTINATION ${CHORUS_INSTALL_INCLUDEDIR}/core
        FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_SOURCE_DIR}/plugins/sdk/chorus/plugin.h
        DESTINATION ${CHORUS_INSTALL_INCLUDEDIR}/chorus)
install(FILES ${PROJECT_BINARY_DIR}/core/generated/core/version.h
        DESTINATION ${CHORUS_INSTALL_INCLUDEDIR}/core)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/plugins/template/ DESTINATION share/chorus/template)

# The plugin ABI major, read from the SDK header, so a plugin's CMake can check it early.
file(STRINGS ${PROJECT_SOURCE_DIR}/plugins/sdk/chorus/plugin.h abi_line
     REGEX "kAbiMajor = [0-9]+;")
string(REGEX REPLACE ".*kAbiMajor = ([0-9]+);.*" "\\1" CHORUS_PLUGIN_ABI_MAJOR "${abi_line}")

install(EXPORT ChorusTargets NAMESPACE Chorus:: DESTINATION ${CHORUS_INSTALL_CMAKEDIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/ChorusConfig.cmake.in
  ${PROJECT_BINARY_DIR}/ChorusConfig.cmake
  INSTALL_DESTINATION ${CHORUS_INSTALL_CMAKEDIR}
  PATH_VARS CHORUS_INSTALL_INCLUDEDIR)
# Before 1.0 every minor release may change the C++ API plugins compile against.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ChorusConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ChorusConfig.cmake
              ${PROJECT_BINARY_DIR}/ChorusConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/ChorusPlugin.cmake
        DESTINATION ${CHORUS_INSTALL_CMAKEDIR})
