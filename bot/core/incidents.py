"""The one thing every adapter's failure boundary does: log an incident, never the words.

An unexpected error is logged with an incident id, its type and where in the code it
happened; the exception's own message is left out, because messages of database and
encoding errors can quote what a person wrote. The person gets one sentence with the
same id, so an operator can find the log line without anyone sharing their text.
"""

from __future__ import annotations

import logging
import secrets
import traceback

log = logging.getLogger(__name__)


def record(error: BaseException, where: str) -> str:
    """Log an unexpected error without its message; returns the incident id."""
    incident = secrets.token_hex(4)
    frames = "".join(traceback.format_tb(error.__traceback__))
    log.error("incident %s in %s: %s\n%s", incident, where, type(error).__name__, frames)
    return incident


def apology(incident: str) -> str:
    return (
        "Something went wrong on my side, so that didn't go through. Please try again in a "
        f"minute. (Incident {incident}, in case you contact whoever runs this bot.)"
    )
