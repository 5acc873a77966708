#!/usr/bin/env bash
# Builds idle_floor next to this script (gcc, libssl-dev).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
gcc -O2 -Wall -Wextra -Werror -o "$here/idle_floor" "$here/idle_floor.c" -lssl -lcrypto
echo "$here/idle_floor"
