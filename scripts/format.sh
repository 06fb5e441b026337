#!/usr/bin/env bash
# Formats Prism's C++ sources with clang-format and the repository's .clang-format.
#   scripts/format.sh                 rewrite every tracked .h/.cc in place
#   scripts/format.sh --check         change nothing; list unformatted files and exit 1 if any
#   scripts/format.sh [--check] FILE  only the files given
# Uses $CLANG_FORMAT if set, else clang-format (apt-get install clang-format).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

check=0
if [[ "${1:-}" == "--check" ]]; then
  check=1
  shift
fi
clang_format=${CLANG_FORMAT:-clang-format}
command -v "$clang_format" >/dev/null ||
  { echo "format.sh: $clang_format not found (apt-get install clang-format)" >&2; exit 2; }

files=()
if [[ $# -gt 0 ]]; then
  files=("$@")
else
  mapfile -t files < <(git ls-files -- '*.h' '*.cc')
fi
if [[ ${#files[@]} -eq 0 ]]; then
  echo "format.sh: no files"
  exit 0
fi

if [[ $check -eq 0 ]]; then
  "$clang_format" -i --style=file "${files[@]}"
  echo "format.sh: formatted ${#files[@]} files"
  exit 0
fi

# One clang-format run over every file; it names each file that would change.
out=$("$clang_format" --style=file --dry-run --Werror "${files[@]}" 2>&1) && rc=0 || rc=$?
mapfile -t bad < <(grep -oE '^[^ :]+:[0-9]+:[0-9]+: (warning|error)' <<<"$out" | cut -d: -f1 | sort -u)
if [[ $rc -ne 0 && ${#bad[@]} -eq 0 ]]; then
  echo "$out" >&2  # clang-format itself failed (a bad .clang-format, a missing file)
  exit 2
fi
if [[ ${#bad[@]} -gt 0 ]]; then
  printf 'format.sh: not formatted: %s\n' "${bad[@]}" >&2
  echo "format.sh: ${#bad[@]} of ${#files[@]} files need scripts/format.sh" >&2
  exit 1
fi
echo "format.sh: all ${#files[@]} files formatted"
