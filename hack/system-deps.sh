# Sourced by the test and demo scripts: the system tools the local node needs (network and mount
# namespaces), installed from Debian's packages when a machine lacks them.
missing=()
command -v ip >/dev/null || missing+=(iproute2)
{ command -v unshare && command -v nsenter; } >/dev/null || missing+=(util-linux)
if (( ${#missing[@]} )); then
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
