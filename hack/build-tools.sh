#!/usr/bin/env bash
# Builds helm from its pinned Go module (HELM_VERSION in versions.env) into a versioned cache outside
# the repository, like hack/build-control-plane.sh; a no-op when the binary is there.
# Prints the directory holding the binary on its last line.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

cache=${MLOPS_CACHE_DIR:-$HOME/.cache/mlops-operator}
bin_dir="$cache/bin/helm-$HELM_VERSION"

if [[ -x "$bin_dir/helm" ]]; then
  echo "$bin_dir"
  exit 0
fi

export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
start=$SECONDS
major=${HELM_VERSION%%.*}  # v4
module="helm.sh/helm/$major"
# `go install module@version` builds with helm's own go.mod and go.sum (it has no replace
# directives), so no wrapper module is needed. The version is stamped as helm's Makefile does for a
# tag; GOBIN is a temporary folder, so a build cut short never leaves a half-written helm behind.
tmp=$(mktemp -d "$cache/build/helm-XXXXXX" 2>/dev/null || { mkdir -p "$cache/build" && mktemp -d "$cache/build/helm-XXXXXX"; })
trap 'rm -rf "$tmp"' EXIT
ldflags="-s -w -X $module/internal/version.version=$HELM_VERSION -X $module/internal/version.gitTreeState=clean"
echo "building helm $HELM_VERSION" >&2
GOBIN="$tmp" go install -trimpath -ldflags "$ldflags" "$module/cmd/helm@$HELM_VERSION" >&2
mkdir -p "$bin_dir"
mv "$tmp/helm" "$bin_dir/helm"
echo "helm built in $((SECONDS - start))s" >&2
echo "$bin_dir"
