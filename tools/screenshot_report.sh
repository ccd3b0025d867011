#!/usr/bin/env bash
# Screenshot a comparison report (report.html) in headless Chromium, to check by eye that the
# embedded figures render.
#
# Usage: tools/screenshot_report.sh REPORT.html [OUT.png] [WIDTH] [HEIGHT]
#   OUT.png defaults to REPORT.png beside the report; the window defaults to 1600 x 6000 px
#   (tall, so that most of the page is in one image).
# Needs Chromium (Debian: apt-get update && apt-get install -y chromium).
set -euo pipefail

if [[ $# -lt 1 || ! -f "$1" ]]; then
    echo "usage: $0 REPORT.html [OUT.png] [WIDTH] [HEIGHT]" >&2
    exit 2
fi
report="$(realpath "$1")"
out="$(realpath -m "${2:-${report%.html}.png}")"
width="${3:-1600}"
height="${4:-6000}"

browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
if [[ -z "$browser" ]]; then
    echo "no Chromium found; install it (Debian: apt-get install -y chromium)" >&2
    exit 1
fi

profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --user-data-dir="$profile" \
    --window-size="${width},${height}" --screenshot="$out" "file://$report" 2>/dev/null
if [[ ! -s "$out" ]]; then
    echo "Chromium wrote no screenshot to $out" >&2
    exit 1
fi
echo "$out"
