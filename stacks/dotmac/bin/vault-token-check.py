#!/usr/bin/env python3
"""Seed 002: "Vault/OpenBao token uses least privilege and is rotated". Asks the server about the
token itself (GET /v1/auth/token/lookup-self) and checks what it answers:

  vault-token-check.py VAULT_URL CA_FILE MAX_AGE_DAYS

- accepted (200); not a root token (no "root" policy): least privilege starts there;
- it expires (a TTL): a token that never expires is never rotated;
- created at most MAX_AGE_DAYS ago: older means the rotation is overdue.
The token comes from the environment (VAULT_TOKEN), never from argv. Exit 0 all hold, 1 not, 2 usage.
"""
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.request


def main(argv):
    if len(argv) != 3 or not argv[2].isdigit():
        sys.stderr.write(__doc__)
        return 2
    url, ca_file, max_days = argv[0].rstrip("/") + "/v1/auth/token/lookup-self", argv[1], int(argv[2])
    token = os.environ.get("VAULT_TOKEN", "")
    if not token:
        sys.stderr.write("VAULT_TOKEN is not set\n")
        return 2
    request = urllib.request.Request(url, headers={"X-Vault-Token": token})
    try:
        with urllib.request.urlopen(request, timeout=15, context=ssl.create_default_context(cafile=ca_file)) as answer:
            data = json.load(answer).get("data") or {}
    except urllib.error.HTTPError as error:
        print(f"{url}: {error.code}: the token is not accepted")
        return 1
    except (urllib.error.URLError, OSError, ValueError) as error:
        print(f"{url}: {error}")
        return 1
    policies = data.get("policies") or []
    ttl = int(data.get("ttl") or 0)
    created = data.get("creation_time")
    age_days = (time.time() - float(created)) / 86400 if created is not None else None
    problems = []
    if "root" in policies:
        problems.append("it is a root token (policy root): least privilege means a policy for this tenant only")
    if ttl <= 0:
        problems.append("it never expires (ttl 0): a token that never expires is never rotated")
    if age_days is None:
        problems.append("the server did not say when it was created")
    elif age_days > max_days:
        problems.append(f"it was created {age_days:.0f} days ago, more than {max_days}: its rotation is overdue")
    print(f"policies: {', '.join(policies) or 'none'}; ttl: {ttl} s; created: "
          + (f"{age_days:.1f} days ago" if age_days is not None else "unknown"))
    for problem in problems:
        print("problem: " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
