#!/usr/bin/env python3
"""A metric the seed names, read from Prometheus and held to a bound (seed 003: "inspect
mail.provider.send.duration_ms for elevated latency", "compare the spike against
mail.provider.send.duration_ms").

  prom-query.py URL QUERY MAX [--ca-file FILE]
  prom-query.py --of-smtp-timeout PID_FILE URL QUERY FRACTION [--ca-file FILE]

GETs URL/api/v1/query?query=QUERY (an instant query; a token in $PROMETHEUS_TOKEN goes as a
Bearer token) and compares every series of the vector it returns with MAX: each must be a number
at most MAX. No series, or NaN (histogram_quantile over no sends), is a finding too: nothing was
measured, so nothing says the sends are fast. With --of-smtp-timeout the bound is FRACTION of the
MAIL_SMTP_TIMEOUT the running process has, in ms (SMTP Timeouts check 2: "compare observed send
duration with MAIL_SMTP_TIMEOUT"). Exit 0 within the bound, 1 not (or nothing measured, or
Prometheus or the process unreadable), 2 usage.
"""
import json
import math
import os
import ssl
import sys
import urllib.parse
import urllib.request

import process_env


def main(argv):
    ca_file, pid_file = None, None
    if len(argv) >= 2 and argv[0] == "--of-smtp-timeout":
        pid_file, argv = argv[1], argv[2:]
    if len(argv) == 5 and argv[3] == "--ca-file":
        ca_file, argv = argv[4], argv[:3]
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    url, query, bound = argv[0].rstrip("/"), argv[1], float(argv[2])
    if pid_file:
        try:
            timeout, shown = process_env.smtp_timeout(pid_file)
        except (OSError, ValueError) as error:
            print(f"MAIL_SMTP_TIMEOUT of the running process: {error}")
            return 1
        print(f"bound: {bound:g} of MAIL_SMTP_TIMEOUT={shown} of the running process")
        bound = bound * timeout * 1000
    request = urllib.request.Request(url + "/api/v1/query?" + urllib.parse.urlencode({"query": query}), headers={"Accept": "application/json"})
    if os.environ.get("PROMETHEUS_TOKEN"):
        request.add_header("Authorization", "Bearer " + os.environ["PROMETHEUS_TOKEN"])
    try:
        context = ssl.create_default_context(cafile=ca_file) if ca_file else None
        with urllib.request.urlopen(request, timeout=20, context=context) as response:
            document = json.loads(response.read(4 << 20))
    except (OSError, ValueError) as error:
        print(f"cannot read {url}: {error}")
        return 1
    if document.get("status") != "success":
        print(f"{url}: {document.get('errorType', 'error')}: {document.get('error', document)}")
        return 1
    series = document.get("data", {}).get("result", [])
    if document.get("data", {}).get("resultType") == "scalar":
        series = [{"metric": {}, "value": series}]
    print(f"{query}")
    if not series:
        print("no series: nothing measured (is the metric exported under this name?)")
        return 1
    over = 0
    for entry in series:
        labels = ",".join(f"{k}={v}" for k, v in sorted(entry.get("metric", {}).items())) or "(all)"
        value = float(entry.get("value", [0, "NaN"])[1])
        if math.isnan(value):
            print(f"  {labels}: NaN: no samples in the window")
            over += 1
        else:
            print(f"  {labels}: {value:g} (bound {bound:g})")
            over += value > bound
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
