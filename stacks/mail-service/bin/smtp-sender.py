#!/usr/bin/env python3
"""The submission account may send as the sender identity (seed 003: "the SMTP address, sender
identity, and optional credentials are configured together"; SMTP Authentication Failures, check
3: "verify the sender identity matches the allowed submission account").

  smtp-sender.py HOST:PORT SENDER
  smtp-sender.py --data PROBE_RCPT HOST:PORT SENDER
  smtp-sender.py --data PROBE_RCPT --timings PID_FILE [--max-fraction F] HOST:PORT SENDER
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
mail really submitted, as the service submits it.

With --timings (SMTP Timeouts, checks 2 and 3: "compare observed send duration with
MAIL_SMTP_TIMEOUT", "the SMTP server is not stalling during STARTTLS, auth, or DATA"), each phase
of that exchange is timed (connect and greeting, STARTTLS, AUTH, MAIL FROM and RCPT TO, DATA) and
compared with the MAIL_SMTP_TIMEOUT the running process has (/proc/PID/environ of PID_FILE's pid):
the whole exchange must fit in it, and no phase may take more than F of it (default 0.5): a
phase that slow is a stall the service's sends will hit.

Exit 0 accepted (or advertised), 1 refused, not advertised, unreachable or too slow, 2 usage.
"""
import argparse
import email.utils
import os
import smtplib
import ssl
import sys
import time

import process_env


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


class Phases:
    """How long each phase of one exchange took, in order."""

    def __init__(self):
        self.spent, self.mark = [], time.perf_counter()

    def done(self, name):
        now = time.perf_counter()
        self.spent.append((name, now - self.mark))
        self.mark = now


def submit(address, sender, probe, phases, wait=30):
    """The exchange; 0 accepted, 1 refused (what the server said is printed). `wait`: each socket operation's bound."""
    host, _, port = address.rpartition(":")
    user, password = os.environ.get("MAIL_SMTP_USERNAME"), os.environ.get("MAIL_SMTP_PASSWORD")
    who = user or "(no login)"
    with smtplib.SMTP(host, int(port), timeout=wait) as smtp:
        phases.done("connect")
        smtp.starttls(context=context())
        smtp.ehlo()
        phases.done("starttls")
        if user and password:
            smtp.login(user, password)
            phases.done("auth")
        recipient = probe or "postmaster@" + sender.rpartition("@")[2]
        for command, address_, send in (("MAIL FROM", sender, smtp.mail), ("RCPT TO", recipient, smtp.rcpt)):
            code, message = send(address_)
            print(f"{command}:<{address_}> as {who}: {code} {message.decode(errors='replace')}")
            if code not in (250, 251):
                smtp.rset()
                return 1
        phases.done("mail+rcpt")
        if probe is None:
            smtp.rset()
            return 0
        try:
            code, message = smtp.data(probe_message(sender, recipient).encode())
        except smtplib.SMTPDataError as error:
            code, message = error.smtp_code, error.smtp_error
        phases.done("data")
        print(f"DATA (probe to {recipient}) as {who}: {code} {message.decode(errors='replace')}")
        return 0 if code == 250 else 1


def main(argv):
    parser = argparse.ArgumentParser(usage=__doc__)
    parser.add_argument("--mechanisms")
    parser.add_argument("--data", metavar="PROBE_RCPT")
    parser.add_argument("--timings", metavar="PID_FILE")
    parser.add_argument("--max-fraction", type=float, default=0.5)
    parser.add_argument("address")
    parser.add_argument("sender", nargs="?")
    args = parser.parse_args(argv)
    if ":" not in args.address or (args.mechanisms is None) == (args.sender is None) or (args.data and "@" not in args.data):
        sys.stderr.write(__doc__)
        return 2
    if args.mechanisms is not None:
        return mechanisms(args.address, args.mechanisms.upper().split()) if args.mechanisms.split() else 2
    timeout = None
    if args.timings:
        try:
            timeout, shown = process_env.smtp_timeout(args.timings)
        except (OSError, ValueError) as error:
            print(f"MAIL_SMTP_TIMEOUT of the running process: {error}")
            return 1
    phases = Phases()
    try:
        # Timed, a stall is waited out a little past the timeout, so the figure is what it was.
        status = submit(args.address, args.sender, args.data, phases, wait=30 if timeout is None else max(30, timeout * 1.2 + 5))
    except (OSError, smtplib.SMTPException) as error:
        print(f"{args.address}: {error}")
        status = 1
    if timeout is None:
        return status
    total = sum(spent for _, spent in phases.spent)
    print("phases: " + " ".join(f"{name}={spent:.3f}s" for name, spent in phases.spent) + f" total={total:.3f}s "
          f"(MAIL_SMTP_TIMEOUT={shown} of the running process)")
    slow = [(name, spent) for name, spent in phases.spent if spent > args.max_fraction * timeout]
    for name, spent in slow:
        print(f"{name} took {spent:.1f} s: more than {args.max_fraction:g} of MAIL_SMTP_TIMEOUT ({shown}), a stall")
    if total > timeout:
        print(f"the exchange took {total:.1f} s: longer than MAIL_SMTP_TIMEOUT ({shown}), so the service's sends time out")
    return 1 if slow or total > timeout else status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
