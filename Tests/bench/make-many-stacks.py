#!/usr/bin/env python3
"""A stacks repository of N small stacks x 3 environments (prod, staging, dev), each
environment extending its stack's _base.yaml, committed once: how commands scale with the
size of a team's stacks repository.

Usage: make-many-stacks.py DIR N
"""
import os
import subprocess
import sys

BASE = """version: 1
description: Service {i}, a small web service
inputs:
  port: {{description: Port, default: "{port}", pattern: '^[0-9]{{2,5}}$'}}
  image: {{description: Image tag}}
secrets:
  API_TOKEN: {{env: SVC{i}_TOKEN, optional: true, reject: [changeme]}}
defaults:
  timeout: 2m
  env: {{PORT: "${{inputs.port}}"}}
phases:
  preflight:
    - name: tool-present
      run: [python3, --version]
  deploy:
    - name: pull
      run: [docker, pull, "registry.example.com/svc{i}:${{inputs.image}}"]
    - name: restart
      run: [docker, restart, svc{i}]
      rollback: [docker, restart, svc{i}-previous]
  verify:
    - name: health
      http: {{url: "http://127.0.0.1:${{inputs.port}}/health", status: 200}}
      retries: 3
      backoff: 1s
"""
ENVIRONMENT = """extends: _base.yaml
stack: svc{i}
environment: {env}
description: Service {i} in {env}
inputs:
  image: {{default: "{env}-latest"}}
phases:
  verify:
    - name: {env}-smoke
      run: [curl, -fsS, "https://{env}.example.com/svc{i}/ping"]
"""

out, count = sys.argv[1], int(sys.argv[2])
for i in range(1, count + 1):
    directory = os.path.join(out, "stacks", f"svc{i}")
    os.makedirs(directory)
    with open(os.path.join(directory, "_base.yaml"), "w") as f:
        f.write(BASE.format(i=i, port=10000 + i))
    for env in ("prod", "staging", "dev"):
        with open(os.path.join(directory, f"{env}.yaml"), "w") as f:
            f.write(ENVIRONMENT.format(i=i, env=env))
git = ["git", "-C", out, "-c", "user.name=bench", "-c", "user.email=bench@example.test"]
subprocess.run(["git", "-C", out, "init", "-q", "-b", "main"], check=True)
subprocess.run(git + ["add", "-A"], check=True)
subprocess.run(git + ["commit", "-q", "-m", f"{count} stacks"], check=True)
