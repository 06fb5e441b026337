#!/usr/bin/env bash
# Starts a build directory's CMake cache over when a preset cannot reuse it: made with another
# generator than Ninja (a hand-run `cmake -B build`) or for another checkout (a moved clone).
# The compiler cache, logs and other files in it stay. Used by test.sh and demo.sh.
# usage: scripts/reset-stale-build.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${1:?usage: reset-stale-build.sh BUILD_DIR}
cache=$build/CMakeCache.txt
[[ -f "$cache" ]] || exit 0
generator=$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$cache")
home=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$cache")
if [[ "$generator" != "Ninja" || "$(realpath -m "$home")" != "$(realpath -m "$PWD")" ]]; then
  echo "$build was configured with '$generator' for '$home': starting its CMake cache over"
  rm -rf "$cache" "$build/CMakeFiles"
fi
