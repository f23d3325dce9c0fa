#!/usr/bin/env bash
# Installs sllurp (an LLRP client nobody here wrote) from PyPI into .build/sllurp-venv, for the
# LLRP simulator's acceptance test. When PyPI cannot be reached it says so and leaves the reason
# in .build/sllurp-venv/UNAVAILABLE, and the test is skipped with that reason; any other failure
# fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.build/sllurp-venv
version=3.0.5
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import sllurp.llrp" 2>/dev/null; then
    echo "sllurp: $venv has it already"; exit 0
fi
rm -rf "$venv"
mkdir -p .build
python3 -m venv "$venv"
if ! "$venv/bin/python" - <<'PY'
import sys, urllib.request
try:
    urllib.request.urlopen("https://pypi.org/simple/sllurp/", timeout=15)
except Exception as error:
    print(f"PyPI cannot be reached: {error}")
    sys.exit(1)
PY
then
    echo "PyPI could not be reached from this machine; the sllurp acceptance test is skipped" > "$venv/UNAVAILABLE"
    rm -rf "$venv/bin"
    cat "$venv/UNAVAILABLE"; exit 0
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check "sllurp==$version"
echo "sllurp $version installed in $venv"
