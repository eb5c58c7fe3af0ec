#!/usr/bin/env python3
"""Put the previous Fly release's image back (seed 004, "Immediate Rollback").

  fly-rollback.py --app APP

flyctl has no `fly releases rollback` (`fly releases` takes no arguments; Fly's rollback guide:
"There's no special rollback command... redeploy a previous image"). This does exactly that:
reads `fly releases --app APP --json`, takes the newest release (the one being undone) and the
newest older release that completed with a different image, and runs
`fly deploy --app APP --image THAT_IMAGE`. Exit: fly deploy's, or 1 when there is nothing to
roll back to, 2 usage.
"""
import json
import os
import subprocess
import sys


def main(argv):
    if len(argv) != 2 or argv[0] != "--app":
        print(__doc__, file=sys.stderr)
        return 2
    app = argv[1]
    listed = subprocess.run(["fly", "releases", "--app", app, "--json"], capture_output=True, text=True)
    if listed.returncode != 0:
        sys.stderr.write(listed.stderr)
        return listed.returncode
    releases = sorted(json.loads(listed.stdout or "[]"), key=lambda r: r.get("Version", 0), reverse=True)
    if not releases:
        print(f"{app} has no releases", file=sys.stderr)
        return 1
    current = releases[0]
    for release in releases[1:]:
        image = release.get("ImageRef") or ""
        if release.get("Status") in ("complete", "succeeded") and image and image != current.get("ImageRef"):
            break
    else:
        print(f"{app}: no completed release before v{current.get('Version')} with another image", file=sys.stderr)
        return 1
    print(f"rolling {app} back from v{current.get('Version')} ({current.get('ImageRef')}) "
          f"to the image of v{release.get('Version')}: {image}", flush=True)
    os.execvp("fly", ["fly", "deploy", "--app", app, "--image", image])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
