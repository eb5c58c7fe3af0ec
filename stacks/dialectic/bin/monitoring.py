#!/usr/bin/env python3
"""Seed 004 "Monitoring Setup": the alerts exist where alerts are evaluated, not on a wiki page.

Reads a Prometheus-compatible HTTP API (Prometheus, Mimir, or Grafana's at
/api/prometheus/grafana for Grafana-managed rules; Fly's managed Prometheus has no alerting):

  --rule 'NAME>THRESHOLD@WINDOW~REGEX'   an alerting rule NAME, evaluated without error, whose
                                         query compares with > THRESHOLD (the number as written
                                         or equal in value), looks back WINDOW ([5m], [1h]) and
                                         matches REGEX (what it measures: 5.., 429, pool)
  --health URL --interval SECONDS --health-rule NAME
                                         a probe target for URL (a blackbox exporter's `target`
                                         or the target's instance label) scraped at least every
                                         SECONDS, and an alerting rule NAME on probe_success or
                                         probe_http_status_code
  --alertmanager URL                     Alertmanager's /api/v2/status: the route's default
                                         receiver has at least one channel (email_configs,
                                         slack_configs, ...)

Every problem is printed as FAIL and the exit status is 1 when there is any; OK lines say what
was found. A token for the APIs comes from $MONITORING_TOKEN (sent as a Bearer token), never argv.
"""
import argparse
import json
import os
import re
import ssl
import sys
import urllib.parse
import urllib.request

RULE_SPEC = re.compile(r"^([A-Za-z_:][\w:.-]*)\s*(>=|>)\s*([0-9.]+(?:[eE][-+]?[0-9]+)?)(?:@([0-9]+[smhd]))?(?:~(.+))?$")
COMPARISON = re.compile(r"(>=|>)\s*(?:bool\s+)?([0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)")
DURATION = re.compile(r"^([0-9]+)(ms|s|m|h|d)$")


def fetch(url, ca_file):
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    token = os.environ.get("MONITORING_TOKEN", "")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    context = ssl.create_default_context(cafile=ca_file) if ca_file else None
    with urllib.request.urlopen(request, timeout=20, context=context) as response:
        body = response.read(8 << 20)
    document = json.loads(body)
    if isinstance(document, dict) and document.get("status") not in (None, "success"):
        raise ValueError(f"{url}: status {document.get('status')}: {document.get('error', '')}")
    return document


def seconds(text):
    m = DURATION.match(text or "")
    if not m:
        return None
    return int(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def alerting_rules(base, ca_file):
    document = fetch(base.rstrip("/") + "/api/v1/rules?type=alert", ca_file)
    rules = {}
    for group in document.get("data", {}).get("groups", []):
        for rule in group.get("rules", []):
            if rule.get("type") == "alerting":
                rules.setdefault(rule.get("name"), []).append(rule)
    return rules


def check_rule(rules, name, problems, what):
    """The rule NAME, or None after a FAIL; a rule that cannot be evaluated is no alert."""
    found = rules.get(name)
    if not found:
        problems.append(f"{what}: no alerting rule named {name!r} (rules: {', '.join(sorted(rules)) or 'none'})")
        return None
    if len(found) > 1:
        problems.append(f"{what}: {len(found)} alerting rules are named {name!r}: keep one")
        return None
    rule = found[0]
    if rule.get("health", "ok") != "ok":
        problems.append(f"{what}: {name} does not evaluate ({rule.get('health')}: {rule.get('lastError', '')})")
        return None
    return rule


def check_threshold_rule(rules, spec, problems):
    m = RULE_SPEC.match(spec)
    if not m:
        problems.append(f"--rule {spec!r}: expected NAME>THRESHOLD[@WINDOW][~REGEX]")
        return
    name, op, threshold, window, pattern = m.groups()
    rule = check_rule(rules, name, problems, f"alert {name}")
    if rule is None:
        return
    query = rule.get("query", "")
    wrong = []
    if not any(o == op and float(v) == float(threshold) for o, v in COMPARISON.findall(query)):
        wrong.append(f"no comparison {op} {threshold}")
    if window and not re.search(r"\[" + re.escape(window) + r"[\]:]", query):
        wrong.append(f"no [{window}] window")
    if pattern and not re.search(pattern, query):
        wrong.append(f"does not match {pattern!r}")
    if wrong:
        problems.append(f"alert {name}: {'; '.join(wrong)} in: {query}")
    else:
        print(f"OK   alert {name}: {query}" + (f" (for {rule['duration']} s)" if rule.get("duration") else ""))


def probe_target(target):
    """The URL a target probes: the blackbox exporter's `target` parameter, else its instance."""
    query = urllib.parse.urlparse(target.get("scrapeUrl", "")).query
    probed = urllib.parse.parse_qs(query).get("target", [None])[0]
    return probed or target.get("labels", {}).get("instance", "")


def check_health(base, ca_file, url, interval, rules, rule_name, problems):
    document = fetch(base.rstrip("/") + "/api/v1/targets?state=active", ca_file)
    targets = [t for t in document.get("data", {}).get("activeTargets", []) if probe_target(t) == url]
    if not targets:
        problems.append(f"health monitoring: no active target probes {url}")
    for target in targets:
        every = seconds(target.get("scrapeInterval"))
        where = f"{target.get('scrapePool', '?')} probing {url}"
        if every is None or every > interval:
            problems.append(f"health monitoring: {where} every {target.get('scrapeInterval')} (at most {interval} s)")
        elif target.get("health") != "up":
            problems.append(f"health monitoring: {where} is {target.get('health')}: {target.get('lastError', '')}")
        else:
            print(f"OK   health monitoring: {where} every {target.get('scrapeInterval')}, last scrape {target.get('lastScrape', '?')}")
    rule = check_rule(rules, rule_name, problems, "health alert")
    if rule is None:
        return
    query = rule.get("query", "")
    if not re.search(r"\bprobe_(success|http_status_code)\b", query):
        problems.append(f"health alert {rule_name}: alerts on neither probe_success nor probe_http_status_code: {query}")
    elif (selected := re.findall(r'instance\s*=\s*"([^"]*)"', query)) and url not in selected:
        problems.append(f"health alert {rule_name}: selects another instance than {url}: {query}")
    else:
        print(f"OK   health alert {rule_name}: {query}")


def default_receiver(config):
    """The route's receiver and each receiver's channel kinds, from Alertmanager's YAML (two-space indents)."""
    route, receivers, section, current = None, {}, None, None
    for line in config.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent == 0:
            section = line.split(":", 1)[0].strip()
            continue
        text = line.strip()
        if section == "route" and route is None and indent == 2 and text.startswith("receiver:"):
            route = text.split(":", 1)[1].strip().strip("'\"")
        elif section == "receivers":
            item = re.match(r"^-\s*name:\s*(.+)$", text)
            if item:
                current = item.group(1).strip().strip("'\"")
                receivers[current] = []
            elif current is not None:
                kind = re.match(r"^-?\s*(\w+)_configs:\s*(\S.*)?$", text)
                if kind and (kind.group(2) or "").strip() not in ("[]", "null", "~"):
                    receivers[current].append(kind.group(1))
    return route, receivers


def check_alertmanager(url, ca_file, problems):
    document = fetch(url.rstrip("/") + "/api/v2/status", ca_file)
    route, receivers = default_receiver(document.get("config", {}).get("original", ""))
    if route is None:
        problems.append("alert channels: Alertmanager's configuration has no route receiver")
    elif not receivers.get(route):
        problems.append(f"alert channels: the route's receiver {route!r} sends nowhere (no *_configs)")
    else:
        print(f"OK   alert channels: route receiver {route} -> {', '.join(receivers[route])}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the Prometheus-compatible API's base URL")
    parser.add_argument("--ca-file", default=None)
    parser.add_argument("--rule", action="append", default=[])
    parser.add_argument("--health")
    parser.add_argument("--interval", type=int, default=30)
    parser.add_argument("--health-rule")
    parser.add_argument("--alertmanager")
    args = parser.parse_args()
    problems = []
    try:
        rules = alerting_rules(args.url, args.ca_file)
        for spec in args.rule:
            check_threshold_rule(rules, spec, problems)
        if args.health:
            check_health(args.url, args.ca_file, args.health, args.interval, rules, args.health_rule or "", problems)
        if args.alertmanager:
            check_alertmanager(args.alertmanager, args.ca_file, problems)
    except (OSError, ValueError) as error:
        problems.append(f"cannot read the monitoring API: {error}")
    for problem in problems:
        print(f"FAIL {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
