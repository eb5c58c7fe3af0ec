#!/usr/bin/env python3
"""Seed 002: "Vault/OpenBao token uses least privilege and is rotated". Asks the server about the
token itself (GET /v1/auth/token/lookup-self) and checks what it answers:

  vault-token-check.py VAULT_URL CA_FILE MAX_AGE_DAYS

- accepted (200); not a root token (no "root" policy): least privilege starts there;
- no capability outside the tenant (POST /v1/sys/capabilities-self): nothing but "deny" on a
  secret path no tenant owns and on writing ACL policies (a broad policy fails here);
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
    problems += outside_tenant(argv[0].rstrip("/"), ca_file, token)
    print(f"policies: {', '.join(policies) or 'none'}; ttl: {ttl} s; created: "
          + (f"{age_days:.1f} days ago" if age_days is not None else "unknown"))
    for problem in problems:
        print("problem: " + problem)
    return 1 if problems else 0


# Paths no tenant's policy should open: another secret (none is called this) and the ACL
# policies themselves (whoever can write them can grant itself anything).
PROBES = ("secret/data/deployctl-least-privilege-probe", "sys/policies/acl/deployctl-least-privilege-probe")


def outside_tenant(base, ca_file, token):
    request = urllib.request.Request(base + "/v1/sys/capabilities-self", method="POST",
                                     data=json.dumps({"paths": list(PROBES)}).encode(),
                                     headers={"X-Vault-Token": token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=15, context=ssl.create_default_context(cafile=ca_file)) as answer:
            data = json.load(answer)
    except (urllib.error.URLError, OSError, ValueError) as error:
        return [f"the server did not say what the token may do outside the tenant (sys/capabilities-self: {error})"]
    data = data.get("data") or data
    found = []
    for path in PROBES:
        capabilities = data.get(path, ["?"])
        if capabilities != ["deny"]:
            found.append(f"it may {', '.join(capabilities)} on {path}, outside any tenant: least privilege means a policy for this tenant only")
    return found


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
