/// The report templates (Mustache). Kept as Swift strings so the binary carries them: a
/// report must render on the machine that ran the deploy, with nothing else installed.
enum ReportTemplates {
    static let markdown = #"""
{{% CONTENT_TYPE: MARKDOWN}}
# {{title}}

| | |
|---|---|
| **Stack / environment** | {{stack}} / {{environment}} |
| **Run** | `{{runId}}` ({{kind}}) |
| **Revision** | `{{revisionShort}}` {{revisionSubject}}{{#revisionAuthor}} — {{revisionAuthor}}{{/revisionAuthor}} |
{{#previous}}
| **Previous revision** | `{{revisionShort}}` {{subject}} |
{{/previous}}
| **Deployed by** | {{operator}} on {{host}} |
| **Started / ended** | {{startedAt}} / {{endedAt}} |
| **Duration** | {{duration}} |
| **Outcome** | {{statusIcon}} {{statusWord}}{{#message}}: {{message}}{{/message}} |
{{#relatedRun}}
| **Related run** | `{{relatedRun}}` |
{{/relatedRun}}
{{#rolledBackBy}}
| **Rolled back by** | `{{rolledBackBy}}` |
{{/rolledBackBy}}

{{#runbook}}
## Runbook `{{name}}`
{{#runbookDescription}}

{{runbookDescription}}
{{/runbookDescription}}
{{#hasNext}}

What to do next:

{{/hasNext}}
{{#next}}
- {{advice}}
{{/next}}

{{/runbook}}
## Summary

| Phase | Result | Steps | Time |
|---|---|---|---|
{{#phases}}
| {{name}} | {{icon}} {{status}} | {{counts}} | {{duration}} |
{{/phases}}

| Step | Result | Attempts | Time | Command |
|---|---|---|---|---|
{{#steps}}
| {{ref}} | {{icon}} {{status}}{{#stepMessage}}: {{stepMessage}}{{/stepMessage}} | {{attempts}} | {{duration}} | `{{{commandCode}}}`{{#secretInArgv}} (secret in argv, allowed: {{secretInArgv}}){{/secretInArgv}} |
{{/steps}}
{{#hostsTable}}

### Hosts

Each step that runs on hosts, per host (— : it did not run there, by design or because the rollout stopped before it).

| Step |{{#header}} {{host}} |{{/header}}
|---|{{#separator}}{{x}}|{{/separator}}
{{#rows}}
| {{step}} |{{#cells}} {{cell}} |{{/cells}}
{{/rows}}
{{/hostsTable}}

## Validation results
{{^verify}}

No verify steps or probes ran.
{{/verify}}
{{#verify}}

### {{icon}} {{ref}} ({{duration}})

`{{{commandCode}}}`
{{#verifyMessage}}

{{verifyMessage}}
{{/verifyMessage}}
{{#hasMeasurements}}

| Check | Measured | Expected | |
|---|---|---|---|
{{/hasMeasurements}}
{{#measurements}}
| {{name}} | {{value}} | {{expected}} | {{icon}} |
{{/measurements}}
{{/verify}}

{{#bake}}
## First hour (bake window)

{{summary}}

| Round | At | After postdeploy |{{#header}} {{check}} |{{/header}}
|---|---|---|{{#header}}---|{{/header}}
{{#rounds}}
| {{round}} | {{at}} | {{after}} |{{#cells}} {{cell}} |{{/cells}}
{{/rounds}}

{{/bake}}
## Performance

| Slowest steps | Time |
|---|---|
{{#slowest}}
| {{step}} | {{duration}} |
{{/slowest}}
{{#hasLatencies}}

| Probe latency | Measured | Threshold |
|---|---|---|
{{/hasLatencies}}
{{#latencies}}
| {{step}} {{name}} | {{value}} | {{expected}} |
{{/latencies}}
{{#backup}}

## Database backup

| | |
|---|---|
| Path | `{{{pathCode}}}` |
| Size | {{size}} |
| SHA-256 | `{{sha256}}` |
| Restore command | `{{{restoreCode}}}` |
| Restored | {{restored}} |
{{/backup}}
{{#inbound}}

## Inbound mail

Disabled for **{{window}}**; now {{final}}.

| Time | Event | Detail |
|---|---|---|
{{#timeline}}
| {{at}} | {{event}} | {{detail}} |
{{/timeline}}
{{/inbound}}

## Issues encountered
{{^issues}}

None.
{{/issues}}
{{#issues}}

**{{step}}** attempt {{attempt}}: {{status}} — {{issueMessage}}
{{#issueTail}}

```
{{{issueTail}}}
```
{{/issueTail}}
{{/issues}}
{{#diff}}

## Descriptor changes since `{{against}}` ({{againstSubject}})

| Change | Where | Field | Before | After |
|---|---|---|---|---|
{{#changes}}
{{#fields}}
| {{change}} | {{where}} | {{field}} | {{before}} | {{after}} |
{{/fields}}
{{^fields}}
| {{change}} | {{where}} | | | |
{{/fields}}
{{/changes}}
{{/diff}}
{{#review}}

## Review: {{verdict}}
{{#hasMissing}}

{{/hasMissing}}
{{#missing}}
- missing: {{what}}
{{/missing}}
{{#hasManual}}

### Manual checks

{{/hasManual}}
{{#manual}}
- [{{mark}}] {{#section}}**{{section}}:** {{/section}}{{item}}{{#by}} — {{by}}, {{at}}{{/by}}
{{/manual}}
{{#readiness}}

### Readiness score

| Category | Score (1–{{scale}}) | By | When |
|---|---|---|---|
{{#categories}}
| {{name}} | {{score}} | {{by}} | {{at}} |
{{/categories}}
| **Total** | **{{total}} / {{maximum}}** (pass at {{pass}}) | | |
{{/readiness}}
{{#hasSignoff}}

### Sign-off

| Role | Signed by | When |
|---|---|---|
{{/hasSignoff}}
{{#signoff}}
| {{role}} | {{by}} | {{at}} |
{{/signoff}}
{{#hasReviewNotes}}

### Review notes

{{/hasReviewNotes}}
{{#notes}}
- {{text}} — {{by}}, {{at}}
{{/notes}}
{{/review}}
{{#provenance}}

## Provenance

{{#untracked}}
- **Not on the tracked branch:** deployed with `--allow-untracked-revision`; {{branch}} was at {{head}}
{{/untracked}}
{{#signatures}}
- {{commit}} signed ({{format}}) by {{signer}} {{key}}
{{/signatures}}
{{/provenance}}
{{#hasNotifications}}

## Notifications

{{/hasNotifications}}
{{#notifications}}
- {{status}}: {{url}} {{detail}}
{{/notifications}}
{{#hasNotes}}

## Notes

{{/hasNotes}}
{{#notes}}
- {{note}}
{{/notes}}

---
Generated by {{generator}}.
"""#

    static let html = #"""
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}}</title>
<style>
:root { --ok: #1a7f37; --bad: #cf222e; --muted: #6e7781; --line: #d0d7de; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328; margin: 0; background: #fff; }
main { max-width: 1040px; margin: 0 auto; padding: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 18px 0 6px; }
.banner { padding: 14px 18px; border-radius: 8px; margin: 12px 0 20px; font-size: 17px; font-weight: 600; color: #fff; }
.banner.ok { background: var(--ok); } .banner.warn { background: #9a6700; } .banner.bad { background: var(--bad); } .banner.muted { background: #57606a; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: 6px 10px; text-align: left; vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
table.meta th { width: 200px; }
td.ok, span.ok { color: var(--ok); font-weight: 600; } td.bad, span.bad { color: var(--bad); font-weight: 600; } td.muted { color: var(--muted); }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
code { background: var(--bg); padding: 1px 5px; border-radius: 4px; word-break: break-all; }
pre { background: #0d1117; color: #e6edf3; padding: 12px; border-radius: 6px; overflow-x: auto; white-space: pre-wrap; }
ul.checks { list-style: none; padding-left: 0; } ul.checks li { padding: 3px 0; }
.note { color: var(--muted); }
footer { margin-top: 40px; color: var(--muted); font-size: 13px; }
@media print { .banner { color: #000; border: 2px solid #000; background: none !important; } }
</style>
</head>
<body>
<main>
<h1>{{target}} — {{kind}} {{revisionShort}}</h1>
<div class="banner {{statusClass}}" id="outcome">{{statusMark}} {{statusWord}}{{#message}}: {{message}}{{/message}}</div>
<table class="meta">
<tr><th>Stack / environment</th><td>{{stack}} / {{environment}}</td></tr>
<tr><th>Run</th><td><code>{{runId}}</code> ({{kind}})</td></tr>
<tr><th>Revision</th><td><code>{{revisionShort}}</code> {{revisionSubject}}{{#revisionAuthor}} — {{revisionAuthor}}{{/revisionAuthor}}</td></tr>
{{#previous}}<tr><th>Previous revision</th><td><code>{{revisionShort}}</code> {{subject}}</td></tr>{{/previous}}
<tr><th>Deployed by</th><td>{{operator}} on {{host}}</td></tr>
<tr><th>Started / ended</th><td>{{startedAt}} / {{endedAt}}</td></tr>
<tr><th>Duration</th><td>{{duration}}</td></tr>
{{#relatedRun}}<tr><th>Related run</th><td><code>{{relatedRun}}</code></td></tr>{{/relatedRun}}
{{#rolledBackBy}}<tr><th>Rolled back by</th><td><code>{{rolledBackBy}}</code></td></tr>{{/rolledBackBy}}
</table>

{{#runbook}}<h2>Runbook <code>{{name}}</code></h2>
{{#runbookDescription}}<p>{{runbookDescription}}</p>{{/runbookDescription}}
{{#hasNext}}<p>What to do next:</p><ul>{{/hasNext}}{{#next}}<li>{{advice}}</li>
{{/next}}{{#hasNext}}</ul>{{/hasNext}}{{/runbook}}
<h2>Summary</h2>
<table id="phases"><tr><th>Phase</th><th>Result</th><th>Steps</th><th>Time</th></tr>
{{#phases}}<tr><td>{{name}}</td><td class="{{class}}">{{mark}} {{status}}</td><td>{{counts}}</td><td>{{duration}}</td></tr>
{{/phases}}</table>
<table id="steps"><tr><th>Step</th><th>Result</th><th>Attempts</th><th>Time</th><th>Command</th></tr>
{{#steps}}<tr><td>{{ref}}</td><td class="{{class}}">{{mark}} {{status}}{{#stepMessage}}: {{stepMessage}}{{/stepMessage}}</td><td>{{attempts}}</td><td>{{duration}}</td><td><code>{{command}}</code>{{#secretInArgv}} <span class="note">(secret in argv, allowed: {{secretInArgv}})</span>{{/secretInArgv}}</td></tr>
{{/steps}}</table>{{#hostsTable}}
<h3>Hosts</h3><p class="note">— : it did not run there, by design or because the rollout stopped before it.</p><table id="hosts"><tr><th>Step</th>{{#header}}<th>{{host}}</th>{{/header}}</tr>
{{#rows}}<tr><td>{{step}}</td>{{#cells}}<td>{{cell}}</td>{{/cells}}</tr>
{{/rows}}</table>{{/hostsTable}}

<h2>Validation results</h2>
{{^verify}}<p class="note">No verify steps or probes ran.</p>{{/verify}}
{{#verify}}<h3><span class="{{class}}">{{mark}}</span> {{ref}} <span class="note">({{duration}})</span></h3>
<p><code>{{command}}</code></p>
{{#verifyMessage}}<p>{{verifyMessage}}</p>{{/verifyMessage}}
{{#hasMeasurements}}<table class="measurements"><tr><th>Check</th><th>Measured</th><th>Expected</th><th></th></tr>{{/hasMeasurements}}
{{#measurements}}<tr><td>{{name}}</td><td>{{value}}</td><td>{{expected}}</td><td class="{{class}}">{{mark}}</td></tr>
{{/measurements}}{{#hasMeasurements}}</table>{{/hasMeasurements}}
{{/verify}}

{{#bake}}<h2>First hour (bake window)</h2>
<p>{{summary}}</p>
<table id="bake"><tr><th>Round</th><th>At</th><th>After postdeploy</th>{{#header}}<th>{{check}}</th>{{/header}}</tr>
{{#rounds}}<tr class="{{class}}"><td>{{round}}</td><td>{{at}}</td><td>{{after}}</td>{{#cells}}<td>{{cell}}</td>{{/cells}}</tr>
{{/rounds}}</table>
{{/bake}}<h2>Performance</h2>
<table><tr><th>Slowest steps</th><th>Time</th></tr>
{{#slowest}}<tr><td>{{step}}</td><td>{{duration}}</td></tr>
{{/slowest}}</table>
{{#hasLatencies}}<table><tr><th>Probe latency</th><th>Measured</th><th>Threshold</th></tr>{{/hasLatencies}}
{{#latencies}}<tr><td>{{step}} {{name}}</td><td>{{value}}</td><td>{{expected}}</td></tr>
{{/latencies}}{{#hasLatencies}}</table>{{/hasLatencies}}

{{#backup}}<h2>Database backup</h2>
<table class="meta">
<tr><th>Path</th><td><code>{{path}}</code></td></tr>
<tr><th>Size</th><td>{{size}}</td></tr>
<tr><th>SHA-256</th><td><code>{{sha256}}</code></td></tr>
<tr><th>Restore command</th><td><code>{{restoreCommand}}</code></td></tr>
<tr><th>Restored</th><td>{{restored}}</td></tr>
</table>{{/backup}}

{{#inbound}}<h2>Inbound mail</h2>
<p id="inbound-window">Disabled for <strong>{{window}}</strong>; now {{finalText}}.</p>
<table><tr><th>Time</th><th>Event</th><th>Detail</th></tr>
{{#timeline}}<tr><td>{{at}}</td><td>{{event}}</td><td>{{detail}}</td></tr>
{{/timeline}}</table>{{/inbound}}

<h2>Issues encountered</h2>
{{^issues}}<p>None.</p>{{/issues}}
{{#issues}}<h3>{{step}} — attempt {{attempt}}: {{status}}</h3>
<p>{{issueMessage}}</p>
{{#issueTail}}<pre>{{issueTail}}</pre>{{/issueTail}}
{{/issues}}

{{#diff}}<h2>Descriptor changes since <code>{{against}}</code></h2>
<p class="note">{{againstSubject}}</p>
<table><tr><th>Change</th><th>Where</th><th>Field</th><th>Before</th><th>After</th></tr>
{{#changes}}{{#fields}}<tr><td>{{change}}</td><td>{{where}}</td><td>{{field}}</td><td><code>{{before}}</code></td><td><code>{{after}}</code></td></tr>
{{/fields}}{{^fields}}<tr><td>{{change}}</td><td>{{where}}</td><td></td><td></td><td></td></tr>
{{/fields}}{{/changes}}</table>{{/diff}}

{{#review}}<h2>Review: <span class="{{acceptedClass}}">{{verdict}}</span></h2>
{{#missing}}<p class="note">missing: {{what}}</p>
{{/missing}}
{{#hasManual}}<h3>Manual checks</h3><ul class="checks">{{/hasManual}}
{{#manual}}<li><label><input type="checkbox" disabled{{#checked}} checked{{/checked}}> {{#section}}<strong>{{section}}:</strong> {{/section}}{{item}}</label>{{#by}} <span class="note">— {{by}}, {{at}}</span>{{/by}}</li>
{{/manual}}{{#hasManual}}</ul>{{/hasManual}}

{{#readiness}}<h3>Readiness score</h3>
<table><tr><th>Category</th><th>Score (1–{{scale}})</th><th>By</th><th>When</th></tr>
{{#categories}}<tr><td>{{name}}</td><td>{{score}}</td><td>{{by}}</td><td>{{at}}</td></tr>
{{/categories}}<tr><th>Total</th><th>{{total}} / {{maximum}} (pass at {{pass}})</th><th></th><th></th></tr></table>{{/readiness}}

{{#hasSignoff}}<h3>Sign-off</h3>
<table><tr><th>Role</th><th>Signed by</th><th>When</th></tr>{{/hasSignoff}}
{{#signoff}}<tr><td>{{role}}</td><td>{{by}}</td><td>{{at}}</td></tr>
{{/signoff}}{{#hasSignoff}}</table>{{/hasSignoff}}
{{#hasReviewNotes}}<h3>Review notes</h3><ul>{{/hasReviewNotes}}
{{#notes}}<li>{{text}} <span class="note">— {{by}}, {{at}}</span></li>
{{/notes}}{{#hasReviewNotes}}</ul>{{/hasReviewNotes}}{{/review}}

{{#provenance}}<h2>Provenance</h2><ul>
{{#untracked}}<li><strong>Not on the tracked branch:</strong> deployed with --allow-untracked-revision; {{branch}} was at {{head}}</li>
{{/untracked}}{{#signatures}}<li>{{commit}} signed ({{format}}) by {{signer}} {{key}}</li>
{{/signatures}}</ul>
{{/provenance}}{{#hasNotifications}}<h2>Notifications</h2><ul>{{/hasNotifications}}
{{#notifications}}<li>{{status}}: {{url}} {{detail}}</li>
{{/notifications}}{{#hasNotifications}}</ul>{{/hasNotifications}}

{{#hasNotes}}<h2>Notes</h2><ul>{{/hasNotes}}
{{#notes}}<li>{{note}}</li>
{{/notes}}{{#hasNotes}}</ul>{{/hasNotes}}

<footer>Generated by {{generator}}.</footer>
</main>
</body>
</html>
"""#

    static let junit = #"""
<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="deployctl {{target}}" tests="{{verifyCount}}" failures="{{verifyFailures}}" time="{{verifySeconds}}">
<testsuite name="{{target}} {{kind}} {{revisionShort}}" tests="{{verifyCount}}" failures="{{verifyFailures}}" errors="0" skipped="0" time="{{verifySeconds}}" timestamp="{{startedAt}}" hostname="{{host}}">
<properties>
<property name="run" value="{{runId}}"/>
<property name="revision" value="{{revision}}"/>
<property name="status" value="{{status}}"/>
{{#provenance}}{{#signatures}}<property name="signed" value="{{commit}} {{format}} {{signer}}"/>
{{/signatures}}{{#untracked}}<property name="untracked" value="{{branch}} at {{head}}"/>
{{/untracked}}{{/provenance}}{{#review}}<property name="review" value="{{summary}}"/>
{{/review}}</properties>
{{#verify}}
<testcase classname="{{target}}" name="{{ref}}" time="{{seconds}}">
{{#junitFailure}}<failure message="{{junitFailure}}" type="{{status}}">{{junitOutput}}</failure>
{{/junitFailure}}<system-out>{{junitOutput}}</system-out>
</testcase>
{{/verify}}
{{#bake}}{{#cases}}<testcase classname="{{target}}" name="{{ref}}" time="{{seconds}}">
{{#junitFailure}}<failure message="{{junitFailure}}" type="{{status}}">{{junitOutput}}</failure>
{{/junitFailure}}<system-out>{{junitOutput}}</system-out>
</testcase>
{{/cases}}{{/bake}}</testsuite>
</testsuites>
"""#
}
