#!/usr/bin/env python3
"""Seed 002 Security: "secure cookie flags verified", on what the Admin UI really sends.

  cookie-flags.py URL [--ca-file FILE]

GETs URL (NextAuth's /api/auth/csrf sets its cookie on every visit, with the same options as the
session cookie) and reads every Set-Cookie header of the answer: there must be at least one, and
each must carry Secure, HttpOnly and a SameSite of Lax or Strict (None sends it cross-site).
Exit 0 all flagged, 1 a cookie without them (named), no cookie or no answer, 2 usage.
"""
import http.client
import ssl
import sys
import urllib.parse


def main(argv):
    ca_file = None
    if len(argv) == 3 and argv[1] == "--ca-file":
        ca_file, argv = argv[2], argv[:1]
    if len(argv) != 1 or not argv[0].startswith("https://"):
        sys.stderr.write(__doc__)
        return 2
    url = urllib.parse.urlsplit(argv[0])
    try:
        connection = http.client.HTTPSConnection(url.hostname, url.port or 443, timeout=20,
                                                 context=ssl.create_default_context(cafile=ca_file))
        connection.request("GET", (url.path or "/") + (f"?{url.query}" if url.query else ""))
        response = connection.getresponse()
        cookies = response.headers.get_all("Set-Cookie") or []
    except (OSError, http.client.HTTPException) as error:
        print(f"{argv[0]}: {error}")
        return 1
    if not cookies:
        print(f"{argv[0]} answered {response.status} with no Set-Cookie: nothing to verify")
        return 1
    bad = 0
    for cookie in cookies:
        name = cookie.split("=", 1)[0].strip()
        attributes = {part.strip().split("=", 1)[0].lower(): (part.strip().split("=", 1) + [""])[1].lower()
                      for part in cookie.split(";")[1:] if part.strip()}
        missing = [shown for flag, shown in (("secure", "Secure"), ("httponly", "HttpOnly")) if flag not in attributes]
        if attributes.get("samesite") not in ("lax", "strict"):
            missing.append(f"SameSite Lax or Strict (has {attributes.get('samesite') or 'none'})")
        if missing:
            bad += 1
            print(f"FAIL cookie {name}: without {', '.join(missing)}")
        else:
            print(f"ok   cookie {name}: Secure, HttpOnly, SameSite={attributes['samesite']}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
