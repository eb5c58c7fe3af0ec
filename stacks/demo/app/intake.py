#!/usr/bin/env python3
"""The demo's inbound mail switch: enable | disable | status.

It stands in, on this machine, for what a real stack switches around a rollback (an SES
receipt rule: see the mailflow stack, which flips the real one with the aws CLI). The state
is a file in the deployctl state directory; `status` prints `enabled` or `disabled`, which is
what the descriptor's inbound.status expectations read.
"""
import os
import sys

STATE = os.path.join(os.environ.get("DEPLOYCTL_STATE", "."), "demo-inbound")


def main(argv):
    if argv[:1] == ["status"]:
        state = open(STATE).read().strip() if os.path.exists(STATE) else "enabled"
        print(state)
        return 0
    if argv[:1] in (["enable"], ["disable"]):
        with open(STATE, "w") as f:
            f.write(argv[0] + "d\n")
        print(f"inbound mail processing {argv[0]}d")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
