#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for the Slurm endpoint-provider tests
# (test/faas/slurm*.test.ts). Idempotent: installs slurm-wlm + munge when missing (Debian, as root),
# writes a munge key and a minimal slurm.conf (this host is controller and only compute node; state,
# spool and logs under $RISTRETTO_SLURM_DIR, default ${TMPDIR:-/tmp}/ristretto-slurm), starts munged,
# slurmctld and slurmd, and waits until `sinfo` shows the node usable. Prints one line per step.
set -euo pipefail

dir=${RISTRETTO_SLURM_DIR:-${TMPDIR:-/tmp}/ristretto-slurm}
conf=/etc/slurm/slurm.conf
host=$(hostname)

node_up() { sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc|comp)'; }

if node_up; then
  echo "slurm: node $host already up ($(sinfo -h -o '%P %t' | head -1))"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "slurm: not running and this is not root: start Slurm yourself or rerun as root" >&2
  exit 1
fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  echo "slurm: installing slurm-wlm and munge (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq slurm-wlm munge >/dev/null
fi

mkdir -p "$dir/state" "$dir/spool" "$dir/log" /etc/munge /run/munge /var/lib/munge /var/log/munge /etc/slurm
if [ ! -s /etc/munge/munge.key ]; then
  echo "slurm: writing a munge key"
  head -c 1024 /dev/urandom >/etc/munge/munge.key
fi
chmod 400 /etc/munge/munge.key
# munged refuses keys and folders it does not trust; as root on a test machine, root owns them all.
chown -R root:root /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
if ! munge -n >/dev/null 2>&1; then
  echo "slurm: starting munged"
  munged --force
fi

want=$(cat <<CONF
# Written by scripts/ci/setup-slurm.sh: a one-node test cluster.
ClusterName=ristretto-test
SlurmctldHost=$host
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmUser=root
ReturnToService=2
NodeName=$host CPUs=$(nproc) RealMemory=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2)) State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
)
if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$want" ]; then
  echo "slurm: writing $conf"
  printf '%s\n' "$want" >"$conf"
fi

if ! pgrep -x slurmctld >/dev/null; then
  echo "slurm: starting slurmctld (log $dir/log/slurmctld.log)"
  slurmctld
fi
if ! pgrep -x slurmd >/dev/null; then
  echo "slurm: starting slurmd (log $dir/log/slurmd.log)"
  slurmd
fi

for _ in $(seq 60); do
  if node_up; then
    echo "slurm: node $host up ($(sinfo -h -o '%P %t' | head -1))"
    exit 0
  fi
  # A node left DOWN by an earlier unclean stop comes back once told so.
  if sinfo -h -o '%t' 2>/dev/null | grep -qE '^(down|drain)'; then scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true; fi
  sleep 0.5
done
echo "slurm: the node did not come up within 30 s; see $dir/log/slurmctld.log and $dir/log/slurmd.log" >&2
sinfo >&2 || true
exit 1
