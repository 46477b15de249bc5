# cmake -DCONFIG=<generated sysmetrics-sdkConfig.cmake> -DHEADER=<plugin.h>
#   -P check_sdk_config.cmake
# Fails unless the SDK's CMake package records the plugin ABI version of
# plugin.h in SYSMETRICS_SDK_ABI_VERSION_MAJOR/MINOR (they were once
# written before they were set, and so empty).
file(STRINGS "${HEADER}" abi_lines
     REGEX "^#define SM_ABI_VERSION_(MAJOR|MINOR) [0-9]+$")
string(REGEX MATCH "MAJOR ([0-9]+)" _ "${abi_lines}")
set(major "${CMAKE_MATCH_1}")
string(REGEX MATCH "MINOR ([0-9]+)" _ "${abi_lines}")
set(minor "${CMAKE_MATCH_1}")
if(major STREQUAL "" OR minor STREQUAL "")
  message(FATAL_ERROR "no SM_ABI_VERSION_MAJOR/MINOR in ${HEADER}")
endif()
file(READ "${CONFIG}" config)
foreach(expected "set(SYSMETRICS_SDK_ABI_VERSION_MAJOR ${major})"
                 "set(SYSMETRICS_SDK_ABI_VERSION_MINOR ${minor})")
  string(FIND "${config}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${CONFIG} lacks '${expected}'")
  endif()
endforeach()
message(STATUS "SDK package records plugin ABI ${major}.${minor}")
