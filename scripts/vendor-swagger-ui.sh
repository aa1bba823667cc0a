#!/bin/sh
# Copy Swagger UI (npm package swagger-ui-dist, Apache-2.0) into static/vendor/swagger-ui/, so the
# API docs page at /api/v1/docs loads no script from a CDN. Run again to upgrade; commit the result.
set -eu
VERSION="${1:-5.35.0}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm pack --silent "swagger-ui-dist@$VERSION" >/dev/null && tar -xzf swagger-ui-dist-*.tgz)
DEST="$ROOT/static/vendor/swagger-ui"
rm -rf "$DEST"
mkdir -p "$DEST"
for file in swagger-ui-bundle.js swagger-ui-standalone-preset.js swagger-ui.css LICENSE NOTICE; do
    cp "$WORK/package/$file" "$DEST/"
done
echo "swagger-ui-dist $VERSION" > "$DEST/VERSION"
