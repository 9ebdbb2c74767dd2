# chorus_add_plugin(<target> SOURCES <files...> [LIBRARIES <libs...>])
# Builds a modality plugin: a MODULE library linked against libchorus_core, placed in
# <build>/lib/chorus/plugins where `chorus` finds it (../lib/chorus/plugins beside the binary).
# The installed CMake package (find_package(Chorus)) provides the same function for plugins
# built out of tree.
function(chorus_add_plugin target)
  cmake_parse_arguments(PLUGIN "" "" "SOURCES;LIBRARIES" ${ARGN})
  add_library(${target} MODULE ${PLUGIN_SOURCES})
  target_link_libraries(${target} PRIVATE Chorus::core ${PLUGIN_LIBRARIES})
  set_target_properties(${target} PROPERTIES
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib/chorus/plugins
    CXX_VISIBILITY_PRESET hidden)
endfunction()
