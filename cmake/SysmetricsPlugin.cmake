# sysmetrics_add_plugin(NAME SOURCES src... [LIBS lib...] [TEST_ONLY])
#
# Builds NAME.so as a plugin: no "lib" prefix, hidden visibility with only the
# entry symbol exported (version script), every symbol resolved at link time
# (-z defs), placed in the build tree's plugin directory (or the test plugin
# directory with TEST_ONLY) and installed beside the binary's plugins.
set(SYSMETRICS_PLUGIN_EXPORTS "${CMAKE_CURRENT_LIST_DIR}/plugin_exports.map")

function(sysmetrics_add_plugin name)
  cmake_parse_arguments(P "TEST_ONLY" "OUTPUT_DIR" "SOURCES;LIBS" ${ARGN})
  set(target ${name}_plugin)
  add_library(${target} MODULE ${P_SOURCES})
  if(P_OUTPUT_DIR)
    set(out "${P_OUTPUT_DIR}")
  elseif(P_TEST_ONLY)
    set(out "${SYSMETRICS_TEST_PLUGIN_DIR}")
  else()
    set(out "${SYSMETRICS_PLUGIN_BUILD_DIR}")
  endif()
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME ${name}
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY "${out}")
  target_link_libraries(${target} PRIVATE sysmetrics::sdk sysmetrics::warnings
                        ${P_LIBS})
  target_compile_definitions(${target} PRIVATE
    SYSMETRICS_VERSION="${PROJECT_VERSION}")
  target_link_options(${target} PRIVATE -Wl,-z,defs
    "-Wl,--version-script=${SYSMETRICS_PLUGIN_EXPORTS}")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS
               "${SYSMETRICS_PLUGIN_EXPORTS}")
  if(NOT P_TEST_ONLY)
    install(TARGETS ${target}
            LIBRARY DESTINATION "${SYSMETRICS_PLUGIN_INSTALL_DIR}"
            COMPONENT runtime)
  endif()
endfunction()

# sysmetrics_add_unit_test(NAME src... LIBS lib... [MAIN main.cpp]): a
# doctest executable registered with CTest (label "unit"); MAIN replaces
# doctest's own main.
find_package(doctest QUIET)
function(sysmetrics_add_unit_test name)
  cmake_parse_arguments(T "" "MAIN" "LIBS" ${ARGN})
  if(NOT T_MAIN)
    set(T_MAIN "${PROJECT_SOURCE_DIR}/tests/doctest_main.cpp")
  endif()
  add_executable(${name} ${T_UNPARSED_ARGUMENTS} ${T_MAIN})
  target_link_libraries(${name} PRIVATE ${T_LIBS} sysmetrics::warnings)
  # tests/: shared test helpers (temp_dir.hpp, test_support.hpp).
  target_include_directories(${name} PRIVATE "${PROJECT_SOURCE_DIR}/tests")
  if(TARGET doctest::doctest)
    target_link_libraries(${name} PRIVATE doctest::doctest)
  endif()
  target_compile_definitions(${name} PRIVATE
    SYSMETRICS_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS unit)
endfunction()

# sysmetrics_add_builtin_plugin(NAME PARSER src... GLUE src... TESTS src...)
#
# A built-in collector in one call: its parser as a static library
# (NAME_parser, linked with the shared plugin helpers), the plugin NAME.so
# from the glue sources, and the parser's doctest tests.
function(sysmetrics_add_builtin_plugin name)
  cmake_parse_arguments(P "" "" "PARSER;GLUE;TESTS" ${ARGN})
  add_library(${name}_parser STATIC ${P_PARSER})
  target_include_directories(${name}_parser PUBLIC
                             ${CMAKE_CURRENT_SOURCE_DIR})
  set_target_properties(${name}_parser PROPERTIES
    POSITION_INDEPENDENT_CODE ON CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_link_libraries(${name}_parser PUBLIC sysmetrics_plugin_support
                        PRIVATE sysmetrics::warnings)
  sysmetrics_add_plugin(${name} SOURCES ${P_GLUE} LIBS ${name}_parser)
  if(SYSMETRICS_BUILD_TESTS AND BUILD_TESTING)
    sysmetrics_add_unit_test(${name}_parser_test ${P_TESTS}
                             LIBS ${name}_parser)
  endif()
endfunction()
