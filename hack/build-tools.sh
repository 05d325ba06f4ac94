#!/usr/bin/env bash
# Builds the pinned tools that are not part of the control plane from their Go modules (versions in
# versions.env) into a versioned cache outside the repository, like hack/build-control-plane.sh;
# each is a no-op when its binaries are there.
#   hack/build-tools.sh [helm|prometheus|kwok]   (default helm)
# Prints the directory holding the binaries on its last line.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

tool=${1:-helm}
cache=${MLOPS_CACHE_DIR:-$HOME/.cache/mlops-operator}
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false

# `go install module@version` builds with the module's own go.mod and go.sum (neither has replace
# directives), so no wrapper module is needed. GOBIN is a temporary folder, so a build cut short
# never leaves a half-written binary behind.
build() {  # build NAME VERSION LDFLAGS TAGS PACKAGE...
  local name=$1 version=$2 ldflags=$3 tags=$4
  shift 4
  local bin_dir="$cache/bin/$name-$version"
  if [[ -x "$bin_dir/$(basename "$1")" ]]; then
    echo "$bin_dir"
    return
  fi
  mkdir -p "$cache/build"
  local tmp start=$SECONDS
  tmp=$(mktemp -d "$cache/build/$name-XXXXXX")
  # Expanded now: an EXIT trap runs after this function's locals are gone (with set -u, a '$tmp'
  # left for then failed the first build of each tool after it had succeeded).
  trap "rm -rf '$tmp'" EXIT
  echo "building $name $version" >&2
  GOBIN="$tmp" go install -trimpath -tags "$tags" -ldflags "$ldflags" "${@/%/@$version}" >&2
  mkdir -p "$bin_dir"
  mv "$tmp"/* "$bin_dir/"
  rm -rf "$tmp"
  trap - EXIT
  echo "$name built in $((SECONDS - start))s" >&2
  echo "$bin_dir"
}

case $tool in
  helm)
    major=${HELM_VERSION%%.*}  # v4
    module="helm.sh/helm/$major"
    # The version is stamped as helm's Makefile does for a tag.
    build helm "$HELM_VERSION" \
      "-s -w -X $module/internal/version.version=$HELM_VERSION -X $module/internal/version.gitTreeState=clean" "" \
      "$module/cmd/helm"
    ;;
  prometheus)
    # Module tag v0.3XX.Y is Prometheus 3.XX.Y. remove_all_sd drops the cloud discoveries (and their
    # SDKs), enable_kubernetes_sd keeps the one the tests use; file and http discovery are always in.
    # Without the builtinassets tag the web UI is left out; the HTTP API is served.
    release=${PROMETHEUS_VERSION#v0.}
    release="3.${release#3}"  # v0.316.0 -> 3.16.0
    build prometheus "$PROMETHEUS_VERSION" \
      "-s -w -X github.com/prometheus/common/version.Version=$release" "remove_all_sd,enable_kubernetes_sd" \
      github.com/prometheus/prometheus/cmd/prometheus github.com/prometheus/prometheus/cmd/promtool
    ;;
  kwok)
    # sigs.k8s.io/kwok's go.mod has no replace directives. The version is stamped as kwok's
    # hack/releases.sh does (pkg/consts already says it at the tag; the stamp keeps a bump honest).
    build kwok "$KWOK_VERSION" "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" "" \
      sigs.k8s.io/kwok/cmd/kwok
    ;;
  *) echo "usage: $0 [helm|prometheus|kwok]" >&2; exit 2 ;;
esac
