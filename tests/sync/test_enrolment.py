"""sync.enrolment: the token file is 0600 and atomic; the used code leaves the device config."""

from __future__ import annotations

import errno
import os
import stat
import tomllib

from kiosk.config import load_config
from sync.enrolment import read_token, remove_enrolment_code, write_token

CONFIG = """\
# Hymy kiosk at the north exit
[device]
name = "north-exit"   # shown in the fleet list
data_dir = "{data}"

[server]
url = "https://hymy.example.org"
enrolment_code = "ABCD-1234"   # one-time, from hymy admin add-device
ca_bundle = "/etc/hymy/ca.pem"

[pins]
# enrolment_code = "not this one, a comment"
buttons = [5, 6, 13, 19]
"""


def test_token_file_is_private_and_replaced_atomically(tmp_path):
    path = tmp_path / "sub" / "device-token"
    write_token(path, "secret-1")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert read_token(path) == "secret-1"
    write_token(path, "secret-2")
    assert read_token(path) == "secret-2"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["device-token"], "no temporary files left behind"


def test_missing_or_empty_token_is_none(tmp_path):
    assert read_token(tmp_path / "nope") is None
    (tmp_path / "empty").write_text("\n")
    assert read_token(tmp_path / "empty") is None


def test_remove_enrolment_code_keeps_everything_else(tmp_path):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(CONFIG.format(data=tmp_path))
    os.chmod(cfg, 0o640)
    assert remove_enrolment_code(cfg) is True
    text = cfg.read_text()
    assert 'enrolment_code = "ABCD-1234"' not in text
    assert "# enrolment_code = \"not this one" in text and "# Hymy kiosk at the north exit" in text
    assert text == CONFIG.format(data=tmp_path).replace('enrolment_code = "ABCD-1234"   # one-time, from hymy admin add-device\n', "")
    assert stat.S_IMODE(os.stat(cfg).st_mode) == 0o640
    assert load_config(cfg).server.enrolment_code is None
    assert remove_enrolment_code(cfg) is False  # nothing left to remove


def test_remove_enrolment_code_leaves_an_unusual_layout_alone(tmp_path):
    cfg = tmp_path / "kiosk.toml"
    original = 'server = { url = "https://x.example", enrolment_code = "ABCD-1234" }\n'
    cfg.write_text(original)
    assert remove_enrolment_code(cfg) is False
    assert cfg.read_text() == original


def test_remove_enrolment_code_on_read_only_file_system_is_logged_not_fatal(tmp_path, caplog, monkeypatch):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(CONFIG.format(data=tmp_path))

    def read_only(*_a, **_k):  # what the kernel answers on a read-only /boot or /etc
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("hymy.atomicfile.tempfile.mkstemp", read_only)
    assert remove_enrolment_code(cfg) is False
    assert tomllib.loads(cfg.read_text())["server"]["enrolment_code"] == "ABCD-1234"
    assert "cannot be used again" in caplog.text
