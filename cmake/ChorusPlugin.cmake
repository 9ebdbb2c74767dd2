# chorus_add_plugin(<target> SOURCES <files...> [LIBRARIES <libs...>]
#                   [OUTPUT_DIRECTORY <dir>] [NO_INSTALL])
# Builds a modality plugin: a MODULE library linked against libchorus_core, placed in
# <build>/lib/chorus/plugins (or OUTPUT_DIRECTORY) and installed to <prefix>/lib/chorus/plugins,
# which is where `chorus` looks beside itself (../lib/chorus/plugins). The installed CMake
# package (find_package(Chorus)) provides this same function for plugins built out of tree.
function(chorus_add_plugin target)
  cmake_parse_arguments(PLUGIN "NO_INSTALL" "OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT PLUGIN_OUTPUT_DIRECTORY)
    set(PLUGIN_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib/chorus/plugins)
  endif()
  add_library(${target} MODULE ${PLUGIN_SOURCES})
  target_link_libraries(${target} PRIVATE Chorus::core ${PLUGIN_LIBRARIES})
  target_compile_features(${target} PRIVATE cxx_std_20)
  # BOOST_DLL_USE_STD_FS: the SDK's Boost.DLL alias header then needs std::filesystem only, not
  # Boost.System/Filesystem. -fno-gnu-unique: GCC marks some header statics STB_GNU_UNIQUE,
  # which makes glibc refuse to ever unload the library; without it a plugin unloads when the
  # last object it made is gone.
  target_compile_definitions(${target} PRIVATE BOOST_DLL_USE_STD_FS)
  target_compile_options(${target} PRIVATE $<$<CXX_COMPILER_ID:GNU>:-fno-gnu-unique>)
  set_target_properties(${target} PROPERTIES
    LIBRARY_OUTPUT_DIRECTORY ${PLUGIN_OUTPUT_DIRECTORY}
    # Only chorus_plugin_entry (exported by CHORUS_PLUGIN) needs to be visible; hiding the rest
    # keeps two plugins' internal symbols from clashing.
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    # Installed plugins live in <prefix>/lib/chorus/plugins, the core in <prefix>/lib.
    INSTALL_RPATH "$ORIGIN/../..")
  if(NOT PLUGIN_NO_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION lib/chorus/plugins)
  endif()
endfunction()
