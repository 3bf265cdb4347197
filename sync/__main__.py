"""``python -m sync`` = ``hymy sync`` (the systemd unit's entry point)."""

from sync.cli import sync

sync(prog_name="python -m sync")
