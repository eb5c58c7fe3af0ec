#!/usr/bin/env bash
# make bench, hosts: a no-op step on 1 host against the same on 20 hosts (`max_parallel: 20`),
# each host a loopback sshd of its own; cold (no multiplexed connection yet) and warm (the
# connections of the last run reused); how many ssh connections each host accepted for a
# run of two steps; and `ansible -f 20` doing the same when Ansible is installed.
# Usage: hosts.sh BIN WORK OUT (called by bench.sh).
set -euo pipefail
bin=$1 work=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
n=20
hosts=$work/hosts
mkdir -p "$hosts" /run/sshd 2>/dev/null || mkdir -p "$hosts"
# Every remote command runs through the login shell of the user ssh logs in as, and bash
# reads ~/.bashrc when sshd starts it: root's here runs `pyenv init` (~150 ms of CPU a session,
# 12 ms without). Measure deployctl and ssh, not this machine's start-up files: as root, the
# hosts log in as a user made for the bench whose shell is /bin/sh (removed at the end).
login=$(id -un) made_user=""
if [ "$(id -u)" = 0 ]; then
  login=deployctl-bench
  if ! id "$login" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir / --shell /bin/sh "$login"
    usermod -p '*' "$login"   # no password, not locked: sshd refuses a locked account's keys
    made_user=$login
  fi
  chmod o+x "$work" "$hosts"   # sshd reads authorized_keys as that user
fi
ssh-keygen -q -t ed25519 -N '' -f "$hosts/client" -C bench
eval "$(ssh-agent -a "$hosts/agent.sock")" >/dev/null
ssh-add -q "$hosts/client"
pids=()
cleanup() {
  kill "${pids[@]}" "$SSH_AGENT_PID" 2>/dev/null || true; pkill -f "/tmp/deployctl-ss[h]-" 2>/dev/null || true
  # The bare calls' and Ansible's masters (their sockets are under $hosts): while they live, so
  # do their sessions on the hosts, and the bench user cannot be removed.
  pkill -f "$hosts/" 2>/dev/null || true
  if [ -n "$made_user" ]; then
    for _ in 1 2 3 4 5; do userdel "$made_user" 2>/dev/null && break; sleep 0.5; done
  fi
}
trap cleanup EXIT
port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
: > "$hosts/known_hosts"
inventory=""
for i in $(seq 1 $n); do
  d=$hosts/h$i; mkdir -p "$d"
  p=$(port)
  ssh-keygen -q -t ed25519 -N '' -f "$d/host_key"
  cp "$hosts/client.pub" "$d/authorized_keys" && chmod o+x "$d" && chmod 0644 "$d/authorized_keys"
  printf 'Port %s\nListenAddress 127.0.0.1\nHostKey %s/host_key\nPidFile %s/pid\nAuthorizedKeysFile %s/authorized_keys\nStrictModes no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nPermitRootLogin prohibit-password\nMaxStartups 100\n' \
    "$p" "$d" "$d" "$d" > "$d/sshd_config"
  /usr/sbin/sshd -D -e -f "$d/sshd_config" 2> "$d/log" &
  pids+=($!)
  echo "[127.0.0.1]:$p $(cut -d' ' -f1,2 "$d/host_key.pub")" >> "$hosts/known_hosts"
  inventory+="  h$i: {address: 127.0.0.1, port: $p, user: $login, roles: [app]}"$'\n'
  echo "h$i ansible_host=127.0.0.1 ansible_port=$p ansible_user=$login" >> "$hosts/ansible-inventory"
done
sleep 1
repo=$work/hosts-repo
mkdir -p "$repo/stacks/fleet"
cp "$hosts/known_hosts" "$repo/known_hosts"
# one/twenty: the no-op step twice (connections reused across steps); one-step/twenty-step: once.
for env in one twenty one-step twenty-step; do
  case $env in one*) inv=$(echo "$inventory" | head -1) ;; *) inv=$inventory ;; esac
  {
    echo "hosts:"; echo "$inv"
    echo "ssh: {known_hosts: known_hosts}"
    echo "phases:"
    echo "  deploy:"
    echo "    - {name: noop, on: app, max_parallel: $n, run: [\"true\"]}"
    case $env in *-step) ;; *) echo "    - {name: noop-again, on: app, max_parallel: $n, run: [\"true\"]}" ;; esac
  } > "$repo/stacks/fleet/$env.yaml"
done
git -C "$repo" init -q -b main && git -C "$repo" add -A && git -C "$repo" -c user.name=bench -c user.email=bench@example.test commit -q -m hosts
export SSH_AUTH_SOCK=$hosts/agent.sock
# A master is titled "ssh: /tmp/deployctl-ssh-UID/… [mux]"; [h]: the pattern does not match the shell that runs it.
cold="pkill -f /tmp/deployctl-ss[h]- || true; sleep 0.2"
echo "bench: a no-op step (twice) on 1 host and on 20 hosts, cold (new ssh connections)"
hyperfine --style basic --runs 5 -N --prepare "sh -c '$cold'" --export-json "$out/hosts-20-vs-1-cold.json" \
  "$bin up fleet/twenty --repo $repo --state $work/hosts-state" "$bin up fleet/one --repo $repo --state $work/hosts-state"
echo "bench: the same, warm (the multiplexed connections of the previous run reused)"
hyperfine --style basic --runs 10 --warmup 1 -N --export-json "$out/hosts-20-vs-1-warm.json" \
  "$bin up fleet/twenty --repo $repo --state $work/hosts-state" "$bin up fleet/one --repo $repo --state $work/hosts-state"
# The floor: the same 40 remote commands as bare ssh calls, 20 at a time, over the same
# multiplexed connections (on one machine, the 20 "hosts" share its cores).
{
  echo '#!/bin/sh'
  echo 'for round in 1 2; do'
  grep -o 'port: [0-9]*' "$repo/stacks/fleet/twenty.yaml" | cut -d' ' -f2 | while read -r p; do
    echo "  echo 'exec true' | ssh -T -l $login -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$hosts/known_hosts -o ControlMaster=auto -o ControlPath=$hosts/cm-%p -o ControlPersist=60 -p $p 127.0.0.1 -- 'exec sh -s' &"
  done
  echo '  wait'
  echo 'done'
} > "$hosts/bare-ssh.sh"
echo "bench: one no-op step on 1 host and on 20 hosts, warm"
hyperfine --style basic --runs 10 --warmup 1 -N --export-json "$out/hosts-20-vs-1-one-step.json" \
  "$bin up fleet/twenty-step --repo $repo --state $work/hosts-state" "$bin up fleet/one-step --repo $repo --state $work/hosts-state"
echo "bench: 20 hosts through deployctl up, against the same commands as bare parallel ssh calls (warm)"
hyperfine --style basic --runs 10 --warmup 1 -N --export-json "$out/hosts-20-vs-bare-ssh.json" \
  "$bin up fleet/twenty --repo $repo --state $work/hosts-state" "sh $hosts/bare-ssh.sh"
# The floor: the same sessions through the bare calls' masters by a minimal multiplexing client.
echo "bench: the same sessions with nothing else (a minimal client of OpenSSH's multiplexing protocol)"
sockets=$(grep -o 'port: [0-9]*' "$repo/stacks/fleet/twenty.yaml" | cut -d' ' -f2 | sed "s|^|$hosts/cm-|")
# shellcheck disable=SC2086 # one socket a word
python3 "$here/mux-sessions.py" "$out/hosts-sessions-floor.json" 2 $sockets
# One round: what the hosts' side alone adds from 1 host to 20 for the one-step run (summary.py
# estimates from it the ratio a client with no per-host work of its own would get here).
# shellcheck disable=SC2086
python3 "$here/mux-sessions.py" "$out/hosts-sessions-floor-one-step.json" 1 $sockets
sh -c "$cold"
before=$(cat "$hosts"/h*/log | grep -c "Accepted publickey" || true)
"$bin" up fleet/twenty --repo "$repo" --state "$work/hosts-state" > /dev/null
after=$(cat "$hosts"/h*/log | grep -c "Accepted publickey" || true)
echo "$((after - before)) ssh connections for 40 remote commands on $n hosts (2 steps each), from no connection" | tee "$out/hosts-connections.txt"
# With the masters up, sessions open through their sockets: count the ssh clients a warm run starts.
if command -v strace >/dev/null; then
  strace -f -qq -e trace=execve -o "$work/execs.txt" "$bin" up fleet/twenty --repo "$repo" --state "$work/hosts-state" > /dev/null
  clients=$(grep -c 'execve("[^"]*/ssh"' "$work/execs.txt" || true)
  echo "$clients ssh client processes started by a warm run of 40 remote commands on $n hosts" | tee -a "$out/hosts-connections.txt"
fi
ansible=$(command -v ansible || true)
[ -z "$ansible" ] && [ -x "$here/../../.build/venv/bin/ansible" ] && ansible=$here/../../.build/venv/bin/ansible
if [ -n "$ansible" ]; then
  # Ansible at its documented fastest for ad hoc commands (pipelining: the module goes to the
  # host on stdin, no file transfer), the same known hosts, and a temporary directory the bench
  # user can write (its home is /). Each host needs Python: Debian's /usr/bin/python3.
  printf '{"ansible_ssh_common_args": "-o UserKnownHostsFile=%s/known_hosts", "ansible_pipelining": true, "ansible_remote_tmp": "%s/ansible-tmp", "ansible_python_interpreter": "/usr/bin/python3"}\n' \
    "$hosts" "$hosts" > "$hosts/ansible-vars.json"
  if [ "$(id -u)" = 0 ]; then install -d -m 0700 -o "$login" "$hosts/ansible-tmp"; else mkdir -m 0700 "$hosts/ansible-tmp"; fi
  adhoc="$ansible all -i $hosts/ansible-inventory -f $n -m command -a true -e @$hosts/ansible-vars.json"
  export ANSIBLE_SSH_CONTROL_PATH_DIR=$hosts/ansible-cp   # where cleanup finds its masters
  $adhoc > "$work/ansible.log" 2>&1 || { echo "bench: ansible failed on the hosts (left out):"; tail -5 "$work/ansible.log"; ansible=""; }
fi
if [ -n "$ansible" ]; then
  echo "bench: the same no-op on 20 hosts with ansible -f 20, and Ansible's own 20 hosts against 1"
  # A failed timed run (a host unreachable on a loaded machine) leaves its row out, not the table.
  hyperfine --style basic --runs 5 -N --export-json "$out/hosts-20-vs-ansible.json" \
    "$bin up fleet/twenty-step --repo $repo --state $work/hosts-state" "$adhoc" \
    || { echo "bench: ansible failed in a timed run (row left out)"; rm -f "$out/hosts-20-vs-ansible.json"; }
  hyperfine --style basic --runs 5 -N --export-json "$out/hosts-ansible-20-vs-1.json" \
    "$adhoc" "${adhoc/ all / h1 }" \
    || { echo "bench: ansible failed in a timed run (row left out)"; rm -f "$out/hosts-ansible-20-vs-1.json"; }
fi
