"""The container's HEALTHCHECK: ask the bot's own /healthz and print its one line.

It runs inside the container (`python /opt/wholehearted/healthcheck.py`), with only the
standard library, so a check costs no import of the bot. The exit code is what Docker
reads: 0 healthy, 1 not. With METRICS_PORT unset there is no endpoint to ask, and a
running container counts as healthy.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

# Addresses that mean "every interface"; the check asks over loopback instead.
_ANY = {"", "0.0.0.0", "::"}


def main() -> int:
    port = os.environ.get("METRICS_PORT", "").strip()
    if not port:
        print("METRICS_PORT is not set, so there is no /healthz to ask")
        return 0
    host = os.environ.get("METRICS_LISTEN", "127.0.0.1").strip()
    host = "127.0.0.1" if host in _ANY else host
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=8) as answer:
            print(answer.read().decode(errors="replace").strip())
            return 0
    except urllib.error.HTTPError as error:  # 503: the body says why
        print(error.read().decode(errors="replace").strip())
        return 1
    except OSError as error:
        print(f"nothing answers at {url} ({type(error).__name__})")
        return 1


if __name__ == "__main__":
    sys.exit(main())
