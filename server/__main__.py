"""``python -m server --host H --port P``: the same as ``hymy server``."""

from server.cli import server

if __name__ == "__main__":
    server(prog_name="python -m server")
