#!/usr/bin/env bash
# Keeps images/*/Dockerfile honest where they cannot be built (no Docker engine): for each image,
# runs its builder stage's install step for real, hack/install-python.sh with the Dockerfile's
# extras on the files its build context holds (.dockerignore), into a venv under the cache, then
# runs the image's ENTRYPOINT --help from that venv as the image would (its bin first on PATH)
# and checks what the venv holds. A venv is rebuilt from nothing when the context, its extras or
# python3 change; otherwise only the checks run. Run by hack/test.sh, before the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
cache=${MLOPS_CACHE_DIR:-$HOME/.cache/mlops-operator}/image-venvs
mkdir -p "$cache"

# The build context as .dockerignore lets it through: `!PATH` lines in, `**/NAME` lines out.
if grep -vqE '^(#.*|\*|!.+|\*\*/.+|)$' .dockerignore; then
  echo "check-images: .dockerignore has a line this script does not read (only *, !PATH, **/NAME)" >&2
  exit 1
fi
mapfile -t paths < <(sed -n 's/^!//p' .dockerignore)
mapfile -t excludes < <(sed -n 's|^\*\*/|--exclude=|p' .dockerignore)
context="$cache/context.tar"
tar -c --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner "${excludes[@]}" -f "$context" "${paths[@]}"

install() {  # NAME EXTRAS
  local venv="$cache/$1" stamp
  stamp="$venv/.installed-$( (sha256sum <"$context"; echo "extras=$2"; python3 --version) | sha256sum | cut -c1-16)"
  if [[ ! -f "$stamp" ]]; then
    rm -rf "$venv" "$cache/context"
    mkdir "$cache/context"
    tar -x -f "$context" -C "$cache/context"
    echo "check-images: installing the $1 image's venv (hack/install-python.sh $venv${2:+ $2})"
    "$cache/context/hack/install-python.sh" "$venv" ${2:+"$2"}
    touch "$stamp"
  fi
}

in_image() {  # NAME COMMAND...: as the image runs it, and never from the checkout's source
  (cd "$cache" && env -u PYTHONPATH PATH="$cache/$1/bin:$PATH" "${@:2}")
}

for dockerfile in images/*/Dockerfile; do
  name=$(basename "$(dirname "$dockerfile")")
  run=$(grep -E '^RUN hack/install-python.sh /opt/venv( |$)' "$dockerfile") || {
    echo "check-images: $dockerfile does not RUN hack/install-python.sh /opt/venv [EXTRAS]" >&2
    exit 1
  }
  extras=${run#RUN hack/install-python.sh /opt/venv}
  mapfile -t entrypoint < <(sed -n 's/^ENTRYPOINT //p' "$dockerfile" |
    python3 -c 'import json, sys; print(*json.load(sys.stdin), sep="\n")')
  install "$name" "${extras# }"
  in_image "$name" "${entrypoint[@]}" --help >/dev/null
  in_image "$name" python -m pip check >/dev/null
  # The project comes from the venv (a non-editable install), and the runtime extra's
  # distributions are there only in the image that asks for them, each importable.
  in_image "$name" python - "$repo/pyproject.toml" "$name" <<'EOF'
import importlib, importlib.metadata as metadata, re, sys, tomllib
pyproject, name = sys.argv[1:]
import mlops_operator
assert mlops_operator.__file__.startswith(sys.prefix), f"mlops_operator from {mlops_operator.__file__}"
extra = tomllib.load(open(pyproject, "rb"))["project"]["optional-dependencies"]["runtime"]
def normal(dist): return re.sub(r"[-_.]+", "-", dist).lower()
wanted = {normal(re.match(r"[A-Za-z0-9._-]+", requirement).group()) for requirement in extra}
installed = {normal(dist.metadata["Name"]) for dist in metadata.distributions()} & wanted
if name == "runtime":
    assert installed == wanted, f"runtime extra missing: {sorted(wanted - installed)}"
    modules = [m for m, dists in metadata.packages_distributions().items() if {normal(d) for d in dists} & wanted]
    for module in sorted(modules) + sorted(importlib.import_module("mlops_operator.runtime.__main__").PROGRAMS):
        importlib.import_module(module)
else:
    assert not installed, f"the {name} image has runtime-only packages: {sorted(installed)}"
EOF
  echo "check-images: $name ok ($dockerfile: install step, ${entrypoint[*]} --help, pip check, packages)"
done
