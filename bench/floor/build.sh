#!/usr/bin/env bash
# Builds send_floor next to this script: with io_uring when liburing-dev is installed, else the send mode only.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
flags=(-O2 -Wall -Wextra -Werror -pthread)
if [[ -f /usr/include/liburing.h ]]; then
  gcc "${flags[@]}" -DHAVE_LIBURING -o "$here/send_floor" "$here/send_floor.c" -luring
else
  echo "liburing-dev not installed: building the send mode only (apt-get install liburing-dev for uring)" >&2
  gcc "${flags[@]}" -o "$here/send_floor" "$here/send_floor.c"
fi
echo "$here/send_floor"
