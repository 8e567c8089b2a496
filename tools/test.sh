#!/usr/bin/env bash
# Install what the tests need (package, test extras, a CJK font for PDF rendering) and run the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! fc-list 2>/dev/null | grep -qi "wqy\|noto.*cjk"; then
  (apt-get update -qq && apt-get install -y -qq fonts-wqy-microhei fontconfig >/dev/null) || echo "warning: could not install a CJK font; PDF rendering tests will be skipped"
fi
python3 -m pip install -q -e ".[test]"
python3 -m pytest -q "$@"
