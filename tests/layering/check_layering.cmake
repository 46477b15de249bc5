# cmake -DBUILD_DIR=... -DPROBES=target|part|header|expected,... -P this
# Builds each probe target and holds the result to what was expected:
# "found" must build; "refused" must fail on that very header not being
# found (any other failure is reported as one, not taken for a refusal).
string(REPLACE "," ";" _probes "${PROBES}")
set(_failed 0)
foreach(_probe IN LISTS _probes)
  string(REPLACE "|" ";" _f "${_probe}")
  list(GET _f 0 _target)
  list(GET _f 1 _part)
  list(GET _f 2 _header)
  list(GET _f 3 _expected)
  execute_process(
    COMMAND ${CMAKE_COMMAND} --build "${BUILD_DIR}" --target ${_target}
    RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
  string(FIND "${_out}" "${_header}: No such file" _missing)
  if(_expected STREQUAL "found" AND NOT _rc EQUAL 0)
    message(SEVERE_WARNING
      "${_part} should see ${_header} but its probe failed:\n${_out}")
    set(_failed 1)
  elseif(_expected STREQUAL "refused" AND _rc EQUAL 0)
    message(SEVERE_WARNING
      "${_part} sees ${_header}, a part above it: the arrow runs the wrong way")
    set(_failed 1)
  elseif(_expected STREQUAL "refused" AND _missing EQUAL -1)
    message(SEVERE_WARNING
      "${_part}'s probe of ${_header} failed for another reason:\n${_out}")
    set(_failed 1)
  else()
    message(STATUS "${_part} -> ${_header}: ${_expected}, as it should be")
  endif()
endforeach()
if(_failed)
  message(FATAL_ERROR "core/'s layering does not hold (see above)")
endif()
