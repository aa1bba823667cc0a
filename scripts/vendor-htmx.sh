#!/bin/sh
# Copy htmx (npm package htmx.org, 0BSD) into static/vendor/htmx/, so the screens load no script
# from a CDN. Run again to upgrade; commit the result.
set -eu
VERSION="${1:-2.0.11}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm pack --silent "htmx.org@$VERSION" >/dev/null && tar -xzf htmx.org-*.tgz)
DEST="$ROOT/static/vendor/htmx"
rm -rf "$DEST"
mkdir -p "$DEST"
cp "$WORK/package/dist/htmx.min.js" "$WORK/package/LICENSE" "$DEST/"
echo "htmx.org $VERSION" > "$DEST/VERSION"
