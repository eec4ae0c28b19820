#!/bin/bash
# Start/stop a throwaway single-node Slurm cluster on localhost for tests/test_slurm_cluster.py.
# Usage: slurm-local.sh start | stop | check
#   check: exit 0 when this machine can run it (root, slurm-wlm and munge installed), else print why.
# Prereq (root, Debian): apt-get install -y slurm-wlm munge   (install.sh does it)
# No systemd needed: daemons are started by hand with pid files under $SLURM_LOCAL_DIR and stopped by
# those pids only. No accounting daemon: the executor must use `--slurm-status-command squeue`.
# /etc/slurm/slurm.conf is written at start (marked as ours; an existing foreign one is never touched:
# `check` fails) and removed at stop: left behind, it names a stopped controller and every `scontrol`
# (the Slurm plugin runs one whenever Snakemake starts) hangs ~10 s. SLURM_CONF elsewhere is no
# option: the plugin's job step drops SLURM_* variables before its inner srun.
set -euo pipefail
BASE=${SLURM_LOCAL_DIR:-/tmp/slurm-local}
HOST=$(hostname -s)
CONF=/etc/slurm/slurm.conf
MARK="# written by polyalpaca tests/slurm/slurm-local.sh"

wait_for() {  # wait_for <seconds> <cmd...>
  local t=$1; shift
  for _ in $(seq 1 $((t * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "timeout waiting for: $*" >&2; return 1
}

check() {
  [ "$(id -u)" = 0 ] || { echo "not root: cannot start slurmctld/slurmd/munged"; return 1; }
  for bin in slurmctld slurmd sbatch squeue scontrol munged mungekey; do
    command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || {
      echo "$bin not installed (apt-get install -y slurm-wlm munge)"; return 1; }
  done
  if [ -e "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
    echo "$CONF exists and is not ours: a real Slurm is configured here; not touching it"; return 1
  fi
}

start() {
  check >&2 || exit 3
  mkdir -p "$BASE"/{ctld,d,log}
  # --- munge -------------------------------------------------------------
  [ -s /etc/munge/munge.key ] || runuser -u munge -- mungekey --create --keyfile=/etc/munge/munge.key
  install -d -o munge -g munge -m 0755 /run/munge
  if ! (munge -n | unmunge) >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged          # daemonizes; pid in /run/munge/munged.pid
    wait_for 10 sh -c 'munge -n | unmunge'
    touch "$BASE/munged.started-here"
  fi
  # --- slurm.conf: this machine's CPUs and memory (RealMemory must not exceed `slurmd -C`) -------
  local mem; mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p'); mem=$((mem - 512))
  local cpus; cpus=$(nproc)
  mkdir -p "$(dirname "$CONF")"
  cat > "$CONF" <<EOF
$MARK
ClusterName=localcluster
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SlurmctldPidFile=$BASE/slurmctld.pid
SlurmdPidFile=$BASE/slurmd.pid
SlurmdSpoolDir=$BASE/d
StateSaveLocation=$BASE/ctld
SlurmctldLogFile=$BASE/log/slurmctld.log
SlurmdLogFile=$BASE/log/slurmd.log
SlurmctldDebug=info
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=256
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
GresTypes=gpu
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  /usr/sbin/slurmctld -c                           # -c: start with clean state
  wait_for 30 sh -c 'scontrol ping | grep -q UP'
  /usr/sbin/slurmd
  wait_for 30 sh -c "[ \"\$(sinfo -h -n $HOST -o %T)\" = idle ]"
  sinfo
}

stop() {  # only the daemons this script started, by pid file
  for f in "$BASE/slurmd.pid" "$BASE/slurmctld.pid"; do
    [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  sleep 1
  if [ -e "$BASE/munged.started-here" ] && [ -s /run/munge/munged.pid ]; then
    kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
  fi
  rm -f "$BASE"/*.pid "$BASE/munged.started-here"
  if [ -e "$CONF" ] && grep -qF "$MARK" "$CONF"; then rm -f "$CONF"; fi
}

case "${1:-}" in
  start) start;;
  stop) stop;;
  check) check;;
  *) echo "usage: $0 start | stop | check" >&2; exit 2;;
esac
