#!/usr/bin/env python3
"""POST one webhook to the running host app *with* the provider's credential (seed 000: the
secret provisioned for Postmark or Mailgun), and pass only when the app accepts it (2xx).

  signed-webhook.py postmark|mailgun URL [CA_FILE]

The credential comes from the environment (WEBHOOK_SECRET; for Postmark also WEBHOOK_USER),
never from argv, where every user of the machine could read it. Postmark: HTTP Basic Auth with
the user and password configured in Postmark. Mailgun: the body's `signature` block, HMAC-SHA256
of timestamp+token under the Webhook Signing Key. SendGrid signs with a private key only
SendGrid holds, so a positively signed request cannot be made here (exit 2).

Together with the unsigned request the app must refuse (401), this tells a correctly wired
verifier from one that accepts everything or rejects everything. Exit 0 accepted, 1 refused or
unreachable, 2 usage.
"""
import base64
import hashlib
import hmac
import json
import os
import secrets
import ssl
import sys
import time
import urllib.error
import urllib.request


def request(provider, url, secret):
    headers = {"Content-Type": "application/json", "User-Agent": "deployctl-signed-webhook"}
    # A delivery event for a message no one sent: accepted and ignored by a wired app.
    event = {"RecordType": "Delivery", "MessageID": "deployctl-go-live-check", "Recipient": "check@example.invalid",
             "DeliveredAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if provider == "postmark":
        user = os.environ.get("WEBHOOK_USER", "")
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()
        body = event
    else:
        timestamp, token = str(int(time.time())), secrets.token_hex(25)
        signature = hmac.new(secret.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
        body = {"signature": {"timestamp": timestamp, "token": token, "signature": signature},
                "event-data": {"event": "delivered", "id": "deployctl-go-live-check", "recipient": "check@example.invalid"}}
    return urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")


def main(argv):
    if len(argv) not in (2, 3) or argv[0] not in ("postmark", "mailgun", "sendgrid"):
        sys.stderr.write(__doc__)
        return 2
    provider, url = argv[0], argv[1]
    if provider == "sendgrid":
        print("SendGrid signs its Event Webhook with a private key only SendGrid holds: no signed request can be made here")
        return 2
    secret = os.environ.get("WEBHOOK_SECRET", "")
    if not secret:
        sys.stderr.write("WEBHOOK_SECRET is not set\n")
        return 2
    context = ssl.create_default_context(cafile=argv[2] if len(argv) == 3 else None)
    try:
        with urllib.request.urlopen(request(provider, url, secret), timeout=15, context=context) as answer:
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (urllib.error.URLError, OSError) as error:
        print(f"{url}: {error}")
        return 1
    verdict = "accepted" if 200 <= status < 300 else "REFUSED"
    print(f"a {provider}-signed webhook POST to {url}: {status} ({verdict})")
    if status in (401, 403):
        print("the app refused the provider's own credential: the secret it holds differs from the one provisioned here")
    elif status >= 500:
        print("a 5xx is Mailglass.ConfigError: a wiring gap or a missing secret in the app")
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
