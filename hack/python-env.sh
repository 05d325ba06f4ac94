# Sourced by the Makefile's scripts: a virtualenv outside the repository with the project
# installed (editable) and its extras, by the images' install script (hack/install-python.sh);
# reinstalled when pyproject.toml or that script changes or another checkout (a CI clone) uses
# it, so the editable install always points at this checkout.
MLOPS_CACHE_DIR=${MLOPS_CACHE_DIR:-$HOME/.cache/mlops-operator}
venv="$MLOPS_CACHE_DIR/venv"
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
stamp="$venv/.installed-$( (cat "$repo/pyproject.toml" "$repo/hack/install-python.sh"; echo "$repo") | sha256sum | cut -c1-16)"
if [[ ! -f "$stamp" ]]; then
  # A failed install leaves no stamp and fails the `source` (with or without set -e in the caller).
  if ! "$repo/hack/install-python.sh" --editable "$venv" test; then
    echo "python-env: installing the project into $venv failed" >&2
    return 1
  fi
  rm -f "$venv"/.installed-*
  touch "$stamp"
fi
export PATH="$venv/bin:$PATH"
