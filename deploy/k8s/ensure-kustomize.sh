#!/usr/bin/env bash
# kustomize, pinned, built from the Go module proxy into deploy/local/.lib/bin (git-ignored),
# once. The deploy tests (tests/unit/deploy) render every overlay with it. Prints its path.
set -euo pipefail
version=v5.8.2  # v5.8.3 needs Go 1.27; kubectl's embedded kustomize lags (v5.5.0 in kubectl 1.32)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin_dir=$here/../local/.lib/bin
bin=$bin_dir/kustomize-$version
if [[ ! -x $bin ]]; then
  command -v go >/dev/null || { echo "ensure-kustomize: Go is needed to build kustomize" >&2; exit 1; }
  echo "ensure-kustomize: building kustomize $version (once)" >&2
  mkdir -p "$bin_dir"
  tmp=$(mktemp -d)
  (cd "$tmp" && GOBIN=$tmp GOFLAGS=-mod=mod go install "sigs.k8s.io/kustomize/kustomize/v5@$version") >&2
  mv "$tmp/kustomize" "$bin"
  rm -rf "$tmp"
fi
echo "$bin"
