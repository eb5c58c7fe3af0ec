#!/usr/bin/env python3
"""The submission account may send as the sender identity (seed 003: "the SMTP address, sender
identity, and optional credentials are configured together"; SMTP Authentication Failures, check
3: "verify the sender identity matches the allowed submission account").

  smtp-sender.py HOST:PORT SENDER
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
here. Exit 0 accepted (or advertised), 1 refused, not advertised or unreachable, 2 usage.
"""
import os
import smtplib
import ssl
import sys


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


def main(argv):
    if len(argv) == 3 and argv[0] == "--mechanisms" and ":" in argv[2] and argv[1].split():
        return mechanisms(argv[2], argv[1].upper().split())
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
            postmaster = "postmaster@" + sender.rpartition("@")[2]
            for command, address, send in (("MAIL FROM", sender, smtp.mail), ("RCPT TO", postmaster, smtp.rcpt)):
                code, message = send(address)
                print(f"{command}:<{address}> as {user or '(no login)'}: {code} {message.decode(errors='replace')}")
                if code not in (250, 251):
                    smtp.rset()
                    return 1
            smtp.rset()
    except (OSError, smtplib.SMTPException) as error:
        print(f"{argv[0]}: {error}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
