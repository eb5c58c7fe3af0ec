#!/usr/bin/env python3
"""The submission account may send as the sender identity (seed 003: "the SMTP address, sender
identity, and optional credentials are configured together"; SMTP Authentication Failures, check
3: "verify the sender identity matches the allowed submission account").

  smtp-sender.py HOST:PORT SENDER
  smtp-sender.py --data PROBE_RCPT HOST:PORT SENDER
  smtp-sender.py --mechanisms "PLAIN LOGIN" HOST:PORT

With --mechanisms (SMTP Authentication Failures, check 4: "the server advertises the expected
authentication mechanisms"), it only connects and STARTTLS, then reads the AUTH line of the EHLO
answer after TLS (the one before TLS does not count): one of the mechanisms named must be there.
No credentials are sent.

Connects, STARTTLS (trusting CURL_CA_BUNDLE or SSL_CERT_FILE when set, else the system's CAs),
logs in with MAIL_SMTP_USERNAME and MAIL_SMTP_PASSWORD from the environment when both are set,
and sends MAIL FROM:<SENDER> then RCPT TO:<postmaster@SENDER'S DOMAIN> (RFC 5321: it always
exists, so a refusal is not about the recipient): a refusal at either decides (Postfix accepts
any MAIL FROM and refuses a sender the login may not use at RCPT TO). No DATA follows, so nothing
is sent (RSET, QUIT). Servers that judge the sender only after DATA (SES, Microsoft 365) pass
here: so with --data (seed 003, Dead-Letter Spikes check 4: "accepting STARTTLS and mail
submission"), RCPT TO is PROBE_RCPT (a mailbox the operator owns) and a three-line probe message
follows (Subject: deployctl sender probe RUN), which must be answered 250 after its final dot:
mail really submitted, as the service submits it. Exit 0 accepted (or advertised), 1 refused, not
advertised or unreachable, 2 usage.
"""
import email.utils
import os
import smtplib
import ssl
import sys
import time


def context():
    bundle = os.environ.get("CURL_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE")
    return ssl.create_default_context(cafile=bundle or None)


def mechanisms(address, wanted):
    host, _, port = address.rpartition(":")
    try:
        with smtplib.SMTP(host, int(port), timeout=30) as smtp:
            smtp.starttls(context=context())
            smtp.ehlo()
            advertised = smtp.esmtp_features.get("auth", "").upper().split()
            smtp.quit()
    except (OSError, smtplib.SMTPException) as error:
        print(f"{address}: {error}")
        return 1
    print(f"{address} advertises after STARTTLS: AUTH {' '.join(advertised) or '(none)'}")
    if not set(wanted) & set(advertised):
        print(f"none of the expected mechanisms ({' '.join(wanted)}): the client cannot log in as configured")
        return 1
    return 0


def probe_message(sender, recipient):
    run = os.environ.get("DEPLOYCTL_RUN_ID") or time.strftime("%Y%m%d-%H%M%S")
    return (f"From: <{sender}>\r\nTo: <{recipient}>\r\nSubject: deployctl sender probe {run}\r\n"
            f"Date: {email.utils.formatdate()}\r\nMessage-ID: {email.utils.make_msgid('deployctl-probe')}\r\n\r\n"
            f"A submission check by deployctl (run {run}): this account may send as {sender}.\r\n")


def main(argv):
    if len(argv) == 3 and argv[0] == "--mechanisms" and ":" in argv[2] and argv[1].split():
        return mechanisms(argv[2], argv[1].upper().split())
    probe = None
    if len(argv) == 4 and argv[0] == "--data" and "@" in argv[1]:
        probe, argv = argv[1], argv[2:]
    if len(argv) != 2 or ":" not in argv[0]:
        sys.stderr.write(__doc__)
        return 2
    host, _, port = argv[0].rpartition(":")
    sender = argv[1]
    user, password = os.environ.get("MAIL_SMTP_USERNAME"), os.environ.get("MAIL_SMTP_PASSWORD")
    try:
        with smtplib.SMTP(host, int(port), timeout=30) as smtp:
            smtp.starttls(context=context())
            if user and password:
                smtp.login(user, password)
            recipient = probe or "postmaster@" + sender.rpartition("@")[2]
            for command, address, send in (("MAIL FROM", sender, smtp.mail), ("RCPT TO", recipient, smtp.rcpt)):
                code, message = send(address)
                print(f"{command}:<{address}> as {user or '(no login)'}: {code} {message.decode(errors='replace')}")
                if code not in (250, 251):
                    smtp.rset()
                    return 1
            if probe is None:
                smtp.rset()
                return 0
            code, message = smtp.data(probe_message(sender, recipient).encode())
            print(f"DATA (probe to {recipient}) as {user or '(no login)'}: {code} {message.decode(errors='replace')}")
            if code != 250:
                return 1
    except smtplib.SMTPDataError as error:
        print(f"DATA (probe to {probe}) as {user or '(no login)'}: {error.smtp_code} {error.smtp_error.decode(errors='replace')}")
        return 1
    except (OSError, smtplib.SMTPException) as error:
        print(f"{argv[0]}: {error}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
