# Sourced by the Makefile's scripts: a virtualenv outside the repository with the project
# installed (editable) and its extras; reinstalled when pyproject.toml changes or another
# checkout (a CI clone) uses it, so the editable install always points at this checkout.
MLOPS_CACHE_DIR=${MLOPS_CACHE_DIR:-$HOME/.cache/mlops-operator}
venv="$MLOPS_CACHE_DIR/venv"
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
stamp="$venv/.installed-$( (cat "$repo/pyproject.toml"; echo "$repo") | sha256sum | cut -c1-16)"
if [[ ! -f "$stamp" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet -e "$repo[test]"
  rm -f "$venv"/.installed-*
  touch "$stamp"
fi
export PATH="$venv/bin:$PATH"
