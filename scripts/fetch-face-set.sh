#!/usr/bin/env bash
# The face set for `gallery-bench compare-faces` (docs/visitors.md, "Which face detector"):
# sample pictures that four packages ship on npm and PyPI, fetched from the registries, checked
# by sha256 and unpacked into .cache/face-set/. Their boxes are in assets/faces/detector-set.ron.
# Only for the comparison: the kiosk and the test suite need none of it.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=.cache/face-set
mkdir -p "$OUT/dl"

fetch() {  # url sha256 file
  local url=$1 sha=$2 file="$OUT/dl/$3"
  if ! { [ -f "$file" ] && echo "$sha  $file" | sha256sum -c --status; }; then
    echo "fetching $url"
    curl -fsSL --retry 3 -o "$file.tmp" "$url" || { echo "error: download of $url failed; fix: check access to the registry, rerun" >&2; exit 1; }
    echo "$sha  $file.tmp" | sha256sum -c --status || { echo "error: $url has the wrong sha256 (expected $sha); fix: delete $OUT and rerun" >&2; exit 1; }
    mv "$file.tmp" "$file"
  fi
}

# npm: @vladmandic/face-api 1.7.15 (MIT) demo pictures; tracking.js 1.1.3 (BSD) example picture.
fetch https://registry.npmjs.org/@vladmandic/face-api/-/face-api-1.7.15.tgz \
  0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031 face-api-1.7.15.tgz
fetch https://registry.npmjs.org/tracking/-/tracking-1.1.3.tgz \
  cac8569e3f1e6158a3b1162fe2212a33c671c17f67729ad6a7fa2e35faaa52fb tracking-1.1.3.tgz
# PyPI: face_recognition 1.3.0 (MIT) test pictures; facexlib 0.3.0 (Apache-2.0) test pictures.
fetch https://files.pythonhosted.org/packages/6c/49/75dda409b94841f01cbbc34114c9b67ec618265084e4d12d37ab838f4fd3/face_recognition-1.3.0.tar.gz \
  5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec face_recognition-1.3.0.tar.gz
fetch https://files.pythonhosted.org/packages/e1/93/c820cd2c6315b635934770808e0b01ed4db257ec33bcf803909dcf4bce15/facexlib-0.3.0.tar.gz \
  7ae784a520eb52e05583e8bf9f68f77f45083239ac754d646d635017b49e7763 facexlib-0.3.0.tar.gz

tar -xzf "$OUT/dl/face-api-1.7.15.tgz" -C "$OUT" --wildcards 'package/demo/sample*.jpg' --transform 's|^package/demo/|face-api/|'
tar -xzf "$OUT/dl/tracking-1.1.3.tgz" -C "$OUT" package/examples/assets/faces.jpg --transform 's|^package/examples/assets/|tracking/|'
tar -xzf "$OUT/dl/face_recognition-1.3.0.tar.gz" -C "$OUT" --wildcards 'face_recognition-1.3.0/tests/test_images/*.jpg' \
  --transform 's|^face_recognition-1.3.0/tests/test_images/|face_recognition/|'
tar -xzf "$OUT/dl/facexlib-0.3.0.tar.gz" -C "$OUT" --wildcards 'facexlib-0.3.0/assets/test*.jpg' \
  --transform 's|^facexlib-0.3.0/assets/|facexlib/|'
echo "face set in $OUT: $(find "$OUT" -name '*.jpg' | wc -l) pictures"
