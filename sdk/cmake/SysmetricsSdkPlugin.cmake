# sysmetrics_sdk_add_plugin(NAME SOURCES src... [LIBS lib...])
#
# Builds NAME.so as a sysmetrics plugin: no "lib" prefix (the host maps the
# collector name to NAME.so), hidden visibility so that only the entry symbol
# (marked SM_PLUGIN_EXPORT in plugin.h) is exported, and -z defs so a missing
# symbol fails the link instead of the load. Install it with
#   install(TARGETS NAME LIBRARY DESTINATION "${SYSMETRICS_PLUGIN_DIR}")
function(sysmetrics_sdk_add_plugin name)
  cmake_parse_arguments(P "" "" "SOURCES;LIBS" ${ARGN})
  add_library(${name} MODULE ${P_SOURCES})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_link_libraries(${name} PRIVATE sysmetrics::sdk ${P_LIBS})
  target_link_options(${name} PRIVATE -Wl,-z,defs)
endfunction()
