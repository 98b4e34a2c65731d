# The kubesharp executable a benchmark script starts (sourced; the scripts' side of KubesharpExecutable.cs): the file
# KUBESHARP_EXECUTABLE names (bench/run publishes the native binary and names it), else the apphost of the JIT build in
# the directory given. Sets kubesharp_exe, and kubesharp_build to the words a section uses for which build it measured.
kubesharp_executable() {
  if [ -n "${KUBESHARP_EXECUTABLE:-}" ]; then
    # A name that leads nowhere is a broken setup, not a reason to measure the other build.
    [ -f "$KUBESHARP_EXECUTABLE" ] || { echo "KUBESHARP_EXECUTABLE names $KUBESHARP_EXECUTABLE, which does not exist" >&2; return 1; }
    kubesharp_exe=$(realpath "$KUBESHARP_EXECUTABLE")
  else
    kubesharp_exe="$1/kubesharp"
  fi
  # A .NET build always has its runtime configuration beside it, a Native AOT one never.
  if [ -f "$kubesharp_exe.runtimeconfig.json" ]; then
    kubesharp_build="the JIT build"
  else
    kubesharp_build="the native (Native AOT) executable"
  fi
}
