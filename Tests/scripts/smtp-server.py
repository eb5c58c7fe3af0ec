#!/usr/bin/env python3
"""A submission server for the mail-service tests: STARTTLS with the given certificate, AUTH
(PLAIN/LOGIN) for one account only after STARTTLS, messages appended to a file; a sender other
than the account's allowed ones is refused (553) at RCPT TO, as Postfix's
reject_sender_login_mismatch does (MAIL FROM itself is accepted). With SMTP_JUDGE_AT=data in its
environment it accepts every RCPT TO and refuses the sender (554) after DATA instead, as SES and
Microsoft 365 do. With SMTP_STALL=data:SECONDS it waits that long before answering DATA (a
provider stalling the way the smtp-timeouts runbook looks for).
Usage: smtp-server.py PORT CERT KEY USER PASSWORD MAILBOX SENDER[,SENDER...]
(aiosmtpd, from the test venv)"""
import asyncio
import os
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, cert, key, user, password, mailbox, senders = sys.argv[1:8]
allowed = {sender.lower() for sender in senders.split(",")}
at_data = os.environ.get("SMTP_JUDGE_AT") == "data"
stall = float(os.environ["SMTP_STALL"].split(":", 1)[1]) if os.environ.get("SMTP_STALL", "").startswith("data:") else 0


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if not at_data and (envelope.mail_from or "").lower() not in allowed:
            return f"553 5.7.1 <{envelope.mail_from}>: sender address not allowed for this account"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(stall)
        if at_data and (envelope.mail_from or "").lower() not in allowed:
            return "554 5.7.1 Email address is not verified. The following identities failed the check: " + envelope.mail_from
        with open(mailbox, "ab") as f:
            f.write(envelope.content + b"\n.\n")
        return "250 OK"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
    return AuthResult(success=ok, handled=False)


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
controller = Controller(Handler(), hostname="127.0.0.1", port=int(port), tls_context=context, require_starttls=True,
                        authenticator=authenticate, auth_require_tls=True)
controller.start()
try:
    while True:
        time.sleep(3600)
finally:
    controller.stop()
