#!/usr/bin/env bash
# The floor a deploy tool is measured against: run N steps (/bin/true) in a bash loop, appending
# one line per step to a journal file and fdatasync-ing it (`sync -d`), so each outcome is durable.
set -u
journal=$1 count=$2
: > "$journal"
for ((i = 1; i <= count; i++)); do
  /bin/true
  printf 'step %d exit %d\n' "$i" "$?" >> "$journal"
  sync -d "$journal"
done
