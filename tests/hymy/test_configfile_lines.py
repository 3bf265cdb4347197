"""hymy.configfile.lines: the line of a key in TOML source, for config error messages."""

from __future__ import annotations

from hymy.configfile.lines import dotted, key_at, key_line

TEXT = '''# c
[server]
url = "x"

[wifi]
# pw
password = "p"
device.name = "n"
"quoted key" = 1
pins = { buttons = [5, 6] }
'''


def test_key_line_finds_tables_keys_dotted_and_quoted_keys():
    assert key_line(TEXT, "server") == 2
    assert key_line(TEXT, "server.url") == 3
    assert key_line(TEXT, "wifi.password") == 7
    assert key_line(TEXT, "wifi.device.name") == 8
    assert key_line(TEXT, ("wifi", "quoted key")) == 9


def test_key_line_falls_back_to_the_nearest_written_parent():
    assert key_line(TEXT, "wifi.ssid") == 5  # missing key: its table's header
    assert key_line(TEXT, "wifi.pins.buttons[1]") == 10  # inside an inline table: the line of the table
    assert key_line(TEXT, ("wifi", "pins", "buttons", 1)) == 10
    assert key_line(TEXT, "display.rotation") is None


def test_key_at_names_the_key_being_written_on_a_line():
    assert key_at(TEXT, 3) == "server.url"
    assert key_at(TEXT, 5) == "wifi"
    assert key_at(TEXT, 8) == "wifi.device.name"
    assert key_at(TEXT, 1) is None
    assert key_at('[device]\nname "x"\n', 2) == "device.name"  # no '=' yet: still the key


def test_dotted_writes_list_indices_in_brackets():
    assert dotted(("pins", "buttons", 2)) == "pins.buttons[2]"
