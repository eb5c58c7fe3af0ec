#!/usr/bin/env python3
"""Seed 004 "Monitoring Setup": the alerts exist where alerts are evaluated, not on a wiki page.

Reads a Prometheus-compatible HTTP API (Prometheus, Mimir, or Grafana's at
/api/prometheus/grafana for Grafana-managed rules; Fly's managed Prometheus has no alerting):

  --rule KIND NAME THRESHOLD [WINDOW]    an alerting rule NAME that evaluates without error and
                                         means what the seed asks of KIND:
      error-rate  a ratio (/) of 5xx responses over WINDOW ([5m]) compared > THRESHOLD (0.01;
                  or 1 when the query multiplies by 100)
      rate-limit  a count of 429 responses summed over the app's series over WINDOW ([1h]), with
                  increase(), *_over_time() or rate() * 3600, compared > THRESHOLD (100)
      pool        a connection pool's utilization ratio (/) compared > THRESHOLD (0.8; or 80
                  with * 100)
  --health URL --interval SECONDS --health-rule NAME
                                         a probe target for URL (a blackbox exporter's `target`
                                         or the target's instance label) scraped at least every
                                         SECONDS, and an alerting rule NAME that fires on a failed
                                         probe (probe_success == 0 or < 1, or probe_http_status_code
                                         != 200 or >= 300), for that instance or every instance
  --alertmanager URL                     Alertmanager's /api/v2/status: every receiver the route
                                         tree names sends somewhere (a non-empty *_configs)

Each rule's selectors must have series (`count(metric{labels})`): an alert over a metric nobody
exports, or filtering on a label it does not have, evaluates fine and never fires. Every problem is printed as FAIL, and the exit status is 1 when
there is any; OK lines say what was found. A token for the APIs comes from $MONITORING_TOKEN
(sent as a Bearer token), never argv.
"""
import argparse
import json
import os
import re
import ssl
import sys
import urllib.parse
import urllib.request

COMPARISON = re.compile(r"(>=|>)\s*(?:bool\s+)?([0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)")
PERCENT = re.compile(r"\*\s*100\b|\b100\s*\*")
DURATION = re.compile(r"^([0-9]+)(ms|s|m|h|d)$")
KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan"}
SELECTS = {"error-rate": (r'5\.\.|5xx|5\[0-9\]|"5[0-9][0-9]"|"\^?5\.\*|"\^?5\.\+', "5xx responses"), "rate-limit": (r"\b429\b", "429 responses"),
           "pool": (r"(?i)pool|conn", "a connection pool")}


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


def selectors(query):
    """The series selectors a PromQL expression reads: `metric{labels}` as written, else the bare
    metric name (not functions, label names, keywords or numbers)."""
    written = re.findall(r'(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*\s*\{(?:[^}"]|"(?:[^"\\]|\\.)*")*\})', query)
    named = {re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", w).group(0) for w in written}
    return sorted(set(w.replace(" ", "") for w in written) | {m for m in metrics(query) if m not in named})


def metrics(query):
    """The metric names a PromQL expression reads (not functions, labels, keywords or numbers)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', query)
    text = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = re.findall(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()", text)
    return sorted({n for n in names if n.lower() not in KEYWORDS})


class Rules:
    def __init__(self, base, ca_file):
        self.base, self.ca_file = base.rstrip("/"), ca_file
        document = fetch(self.base + "/api/v1/rules?type=alert", ca_file)
        self.by_name = {}
        for group in document.get("data", {}).get("groups", []):
            for rule in group.get("rules", []):
                if rule.get("type") == "alerting":
                    self.by_name.setdefault(rule.get("name"), []).append(rule)

    def find(self, name, what, problems):
        """The rule NAME, or None after a FAIL; a rule that cannot be evaluated is no alert."""
        found = self.by_name.get(name)
        if not found:
            problems.append(f"{what}: no alerting rule named {name!r} (rules: {', '.join(sorted(self.by_name)) or 'none'})")
            return None
        if len(found) > 1:
            problems.append(f"{what}: {len(found)} alerting rules are named {name!r}: keep one")
            return None
        rule = found[0]
        if rule.get("health", "ok") != "ok":
            problems.append(f"{what}: {name} does not evaluate ({rule.get('health')}: {rule.get('lastError', '')})")
            return None
        return rule

    def without_data(self, query):
        """The selectors of QUERY (labels included: a filter on a label the metric lacks matches
        nothing) with no series at all."""
        empty = []
        for selector in selectors(query):
            document = fetch(self.base + "/api/v1/query?" + urllib.parse.urlencode({"query": f"count({selector})"}), self.ca_file)
            if not document.get("data", {}).get("result"):
                empty.append(selector)
        return empty


def check_rule(rules, kind, name, threshold, window, problems):
    rule = rules.find(name, f"alert {name}", problems)
    if rule is None:
        return
    query = rule.get("query", "")
    wrong = []
    allowed = [threshold * 100, threshold] if PERCENT.search(query) else [threshold]
    if not any(op in (">", ">=") and float(value) in allowed for op, value in COMPARISON.findall(query)):
        wrong.append(f"no comparison > {threshold:g}" + (f" (or > {threshold * 100:g} with * 100)" if kind != "rate-limit" else ""))
    pattern, selects = SELECTS[kind]
    if pattern and not re.search(pattern, query):
        wrong.append(f"does not select {selects}")
    if kind in ("error-rate", "pool") and "/" not in query:
        wrong.append("is not a ratio (no /): a count is not a share")
    if window and not re.search(r"\[" + re.escape(window) + r"[\]:]", query):
        wrong.append(f"no [{window}] window")
    per_second_scaled = re.search(r"\brate\s*\(", query) and re.search(r"\*\s*3600\b|\b3600\s*\*", query)
    if kind == "rate-limit" and not (re.search(r"\b(increase|count_over_time|sum_over_time)\s*\(", query) or per_second_scaled):
        wrong.append("counts with neither increase() nor *_over_time() (rate() is per second, not per " + (window or "window") + ")")
    if kind == "rate-limit" and not re.search(r"\bsum\b", query):
        wrong.append("does not sum over series (100 across the app, not on one series)")
    empty = rules.without_data(query)
    if empty:
        wrong.append(f"no series of {', '.join(empty)}: it can never fire")
    if wrong:
        problems.append(f"alert {name}: {'; '.join(wrong)} in: {query}")
    else:
        print(f"OK   alert {name} ({kind}): {query}" + (f" (for {rule['duration']} s)" if rule.get("duration") else ""))


def probe_target(target):
    """The URL a target probes: the blackbox exporter's `target` parameter, else its instance."""
    query = urllib.parse.urlparse(target.get("scrapeUrl", "")).query
    probed = urllib.parse.parse_qs(query).get("target", [None])[0]
    return probed or target.get("labels", {}).get("instance", "")


def fires_on_failure(query):
    """The query alerts when the probe fails, not when it succeeds."""
    query = re.sub(r"\{[^}]*\}", "", query)
    return bool(re.search(r"\bprobe_success\b[^=<>!]*(==\s*0\b|<\s*(0?\.[0-9]+|1)\b|!=\s*1\b)", query)
                or re.search(r"\bprobe_http_status_code\b[^=<>!]*(!=\s*200\b|>=\s*[3-5][0-9][0-9]\b|>\s*(2|3|4)99\b|<\s*200\b)", query))


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
    rule = rules.find(rule_name, "health alert", problems)
    if rule is None:
        return
    query = rule.get("query", "")
    selected = re.findall(r'instance\s*=\s*"([^"]*)"', query)
    if not fires_on_failure(query):
        problems.append(f"health alert {rule_name}: does not fire on a failed probe (probe_success == 0, or probe_http_status_code != 200): {query}")
    elif selected and url not in selected:
        problems.append(f"health alert {rule_name}: selects another instance than {url}: {query}")
    elif empty := rules.without_data(query):
        problems.append(f"health alert {rule_name}: no series of {', '.join(empty)}: it can never fire")
    else:
        print(f"OK   health alert {rule_name}: {query}")


def alertmanager_routes(config):
    """The receivers the route tree names, and each receiver's non-empty channel kinds, from
    Alertmanager's YAML (block style, any consistent indentation)."""
    lines = [(len(l) - len(l.lstrip(" ")), l.strip()) for l in config.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    routed, receivers, section = [], {}, None
    current, item_indent = None, None
    for index, (indent, text) in enumerate(lines):
        if indent == 0:
            if not text.startswith("-"):  # Go's YAML writes a list at its key's own indentation
                section, current = text.split(":", 1)[0].strip(), None
                continue
        if section == "route":
            m = re.match(r"^-?\s*receiver:\s*['\"]?([^'\"#]+?)['\"]?\s*(#.*)?$", text)
            if m:
                routed.append(m.group(1).strip())
        elif section == "receivers":
            m = re.match(r"^-\s*name:\s*['\"]?([^'\"#]+?)['\"]?\s*$", text)
            if m:
                current, item_indent = m.group(1).strip(), indent
                receivers[current] = []
                continue
            if current is None or indent <= item_indent:
                continue
            kind = re.match(r"^-?\s*(\w+)_configs:\s*(.*)$", text)
            if not kind:
                continue
            inline = kind.group(2).split("#", 1)[0].strip()
            following = lines[index + 1] if index + 1 < len(lines) else (0, "")
            listed = (inline.startswith("[") and inline not in ("[]", "[ ]")) or (
                not inline and following[0] >= indent and following[1].startswith("- ") and following[0] > item_indent)
            if listed:
                receivers[current].append(kind.group(1))
    return routed, receivers


def check_alertmanager(url, ca_file, problems):
    document = fetch(url.rstrip("/") + "/api/v2/status", ca_file)
    routed, receivers = alertmanager_routes(document.get("config", {}).get("original", ""))
    if not routed:
        problems.append("alert channels: Alertmanager's configuration has no route receiver")
    for name in dict.fromkeys(routed):
        if not receivers.get(name):
            problems.append(f"alert channels: receiver {name!r} of the route tree sends nowhere (no non-empty *_configs)")
        else:
            print(f"OK   alert channels: route receiver {name} -> {', '.join(receivers[name])}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the Prometheus-compatible API's base URL")
    parser.add_argument("--ca-file", default=None)
    parser.add_argument("--rule", action="append", nargs="+", default=[], metavar="KIND NAME THRESHOLD [WINDOW]")
    parser.add_argument("--health")
    parser.add_argument("--interval", type=int, default=30)
    parser.add_argument("--health-rule")
    parser.add_argument("--alertmanager")
    args = parser.parse_args()
    for spec in args.rule:
        if len(spec) not in (3, 4) or spec[0] not in SELECTS:
            parser.error(f"--rule {' '.join(spec)}: expected KIND NAME THRESHOLD [WINDOW], KIND one of {', '.join(SELECTS)}")
    problems = []
    try:
        rules = Rules(args.url, args.ca_file)
        for kind, name, threshold, *window in args.rule:
            check_rule(rules, kind, name, float(threshold), window[0] if window else None, problems)
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
