"""Named points in the transfer exchange where a fault test can kill this process outright.

CLTD_CRASH_AT names one point; reaching it sends SIGKILL to this very process, so nothing
after it runs, no handler, no flush: what a power cut or an OOM kill leaves. Unset (always,
outside tests), reaching a point does nothing.
"""

from __future__ import annotations

import os
import signal

VARIABLE = "CLTD_CRASH_AT"


def reached(name: str) -> None:
    if os.environ.get(VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)
