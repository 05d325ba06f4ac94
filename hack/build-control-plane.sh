#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy and kubectl from Go
# modules into a versioned cache outside the repository; a no-op when the binaries are there.
# Prints the directory holding the binaries on its last line.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

cache=${MLOPS_CACHE_DIR:-$HOME/.cache/mlops-operator}
bin_dir="$cache/bin/k8s-$KUBERNETES_VERSION-etcd-$ETCD_VERSION"
# A cache built before a binary joined this list lacks it: complete() fails, and only the missing
# ones are built (build_kubernetes skips those present).
k8s_binaries=(kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubectl)

complete() {
  local b
  for b in etcd "${k8s_binaries[@]}"; do [[ -x "$bin_dir/$b" ]] || return 1; done
}

# --print-dir: print the directory when the binaries are there, exit 1 when not; never build (the
# unit tests use kubectl kustomize, but `make unit` promises no control-plane build).
if [[ ${1:-} == --print-dir ]]; then
  complete || { echo "the control plane is not built: run $0" >&2; exit 1; }
  echo "$bin_dir"
  exit 0
fi

if complete; then
  echo "$bin_dir"
  exit 0
fi

export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
mkdir -p "$bin_dir"
work="$cache/build"
mkdir -p "$work"

build_etcd() {
  local mod="$work/etcd-$ETCD_VERSION"
  mkdir -p "$mod"
  cat >"$mod/go.mod" <<GOMOD
module local/etcd-build

go 1.24

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
GOMOD
  (cd "$mod" && go mod download go.etcd.io/etcd/server/v3 && go get go.etcd.io/etcd/server/v3@"$ETCD_VERSION" \
    && go build -trimpath -ldflags "-s -w" -o "$bin_dir/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "$bin_dir/etcd.tmp" "$bin_dir/etcd"
}

build_kubernetes() {
  local mod="$work/kubernetes-$KUBERNETES_VERSION"
  local minor=${KUBERNETES_VERSION#v1.}
  local staging_version="v0.$minor"
  mkdir -p "$mod"
  local upstream_mod
  upstream_mod=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  # The release replaces each staging module with ./staging/...; published, they carry v0.Y.Z.
  local replaces
  replaces=$(awk '$2 == "=>" && $3 ~ /^\.\/staging\// {print $1}' "$upstream_mod" | sort -u \
    | sed "s#.*#replace & => & $staging_version#")
  {
    echo "module local/kubernetes-build"
    echo
    echo "go 1.26.0"
    echo
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    echo
    echo "$replaces"
  } >"$mod/go.mod"
  cat >"$mod/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  (cd "$mod" && go mod tidy -e >/dev/null 2>&1 || true; cd "$mod" && go mod tidy)
  local major=1 minor_num=${minor%%.*}
  local ldflags="-s -w"
  local pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor_num"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  local b
  for b in "${k8s_binaries[@]}"; do
    [[ -x "$bin_dir/$b" ]] && continue
    echo "building $b $KUBERNETES_VERSION" >&2
    (cd "$mod" && go build -trimpath -ldflags "$ldflags" -o "$bin_dir/$b.tmp" "k8s.io/kubernetes/cmd/$b")
    mv "$bin_dir/$b.tmp" "$bin_dir/$b"
  done
}

start=$SECONDS
[[ -x "$bin_dir/etcd" ]] || build_etcd >&2
build_kubernetes >&2
complete
echo "control plane built in $((SECONDS - start))s" >&2
echo "$bin_dir"
