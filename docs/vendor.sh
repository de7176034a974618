#!/usr/bin/env bash
# Re-create docs/_static/vendor from the npm registry (the only step of the site that needs a network).
set -euo pipefail
cd "$(dirname "$0")/_static/vendor"
work=$(mktemp -d)
(cd "$work" && npm pack --silent @jupyter-widgets/html-manager@1.0.15 requirejs@2.3.8 >/dev/null)
tar xzf "$work"/requirejs-2.3.8.tgz -C "$work" package/require.js && cp "$work"/package/require.js require.js
rm -rf "$work"/package
tar xzf "$work"/jupyter-widgets-html-manager-1.0.15.tgz -C "$work"
cp "$work"/package/dist/embed-amd.js "$work"/package/dist/embed.js.LICENSE.txt "$work"/package/dist/*.woff2 \
   "$work"/package/dist/*.woff jupyter-widgets/
sha256sum require.js jupyter-widgets/embed-amd.js
rm -rf "$work"
