// Compiled against one part of core/ with PROBE_HEADER set to a header of
// another: check_layering.cmake expects the build to find it when the
// arrows allow it and to stop at "No such file" when they do not.
#include PROBE_HEADER

int main() { return 0; }
