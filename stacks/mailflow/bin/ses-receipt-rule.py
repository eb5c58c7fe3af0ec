#!/usr/bin/env python3
"""Switch an SES receipt rule on or off with the real aws CLI (Mailflow rollback plan, seed 001).

  ses-receipt-rule.py disable --rule-set-name SET --rule-name RULE
  ses-receipt-rule.py enable  --rule-set-name SET --rule-name RULE

`aws ses update-receipt-rule` replaces the whole rule (there is no set-receipt-rule), so this reads
the rule, flips Enabled, writes every other field back unchanged, and reads it back to confirm.
Already in the wanted state: nothing is written. Region, credentials and endpoint come from the
environment, as for any aws CLI call. Exit 0 done, 1 the aws CLI failed or the rule did not
change, 2 usage.
"""
import json
import subprocess
import sys


def aws(*args):
    result = subprocess.run(["aws", "ses", *args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stderr or result.stdout)
        raise SystemExit(1)
    return result.stdout


def main(argv):
    if len(argv) != 5 or argv[0] not in ("enable", "disable") or argv[1] != "--rule-set-name" or argv[3] != "--rule-name":
        sys.stderr.write(__doc__)
        return 2
    wanted = argv[0] == "enable"
    rule_set, name = argv[2], argv[4]
    where = ["--rule-set-name", rule_set]

    rule = json.loads(aws("describe-receipt-rule", *where, "--rule-name", name, "--query", "Rule", "--output", "json"))
    before = rule.get("Enabled")  # absent reads back as None: SES treats it as disabled
    if before is wanted:
        print(f"receipt rule {rule_set}/{name} is already {'enabled' if wanted else 'disabled'}; nothing written")
        return 0
    rule["Enabled"] = wanted
    aws("update-receipt-rule", *where, "--rule", json.dumps(rule, separators=(",", ":")))
    after = aws("describe-receipt-rule", *where, "--rule-name", name, "--query", "Rule.Enabled", "--output", "text").strip()
    if after != ("True" if wanted else "False"):
        sys.stderr.write(f"receipt rule {rule_set}/{name}: wrote Enabled={wanted} but it reads back {after}\n")
        return 1
    print(f"receipt rule {rule_set}/{name}: Enabled {before} -> {wanted}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
