# Sourced by the test and demo scripts: the system tools the local node needs (network and mount
# namespaces) and kube-proxy needs (iptables rules, conntrack to clear stale UDP flows), installed
# from Debian's packages when a machine lacks them.
missing=()
command -v ip >/dev/null || missing+=(iproute2)
{ command -v unshare && command -v nsenter; } >/dev/null || missing+=(util-linux)
{ command -v iptables && command -v iptables-restore && command -v ip6tables; } >/dev/null || missing+=(iptables)
command -v conntrack >/dev/null || missing+=(conntrack)
if (( ${#missing[@]} )); then
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
