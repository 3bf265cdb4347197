"""The store config cached on the device: atomic writes, live reload, a bad file never takes effect."""

from __future__ import annotations

import json
import logging
import os

from hymy.protocol import default_store_config
from kiosk.storeconfig import StoreConfigCache, read_store_config, write_store_config


def test_write_then_read_round_trip(tmp_path):
    path = tmp_path / "store-config.json"
    cfg = default_store_config().model_copy(update={"store_name": "Kauppa", "response_interval_s": 10})
    write_store_config(path, cfg, etag='"v1"')
    back, etag = read_store_config(path)
    assert back == cfg and etag == '"v1"'
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")], "no temp file left behind"


def test_missing_file_gives_the_default_config(tmp_path):
    cache = StoreConfigCache(tmp_path / "none.json")
    assert cache() == default_store_config() and cache.etag is None and cache.error is None


def test_cache_picks_up_a_new_file_without_restart(tmp_path):
    path = tmp_path / "store-config.json"
    write_store_config(path, default_store_config(), etag="1")
    cache = StoreConfigCache(path)
    assert cache().response_interval_s == 5
    write_store_config(path, default_store_config().model_copy(update={"response_interval_s": 30}), etag="2")
    os.utime(path, ns=(1, 1))  # a distinct mtime even on coarse file systems
    assert cache().response_interval_s == 30 and cache.etag == "2"


def test_invalid_file_keeps_the_previous_config_and_says_why(tmp_path, caplog):
    path = tmp_path / "store-config.json"
    write_store_config(path, default_store_config().model_copy(update={"store_name": "Good"}), etag="1")
    cache = StoreConfigCache(path)
    doc = json.loads(path.read_text())
    doc["config"]["response_interval_s"] = 600
    path.write_text(json.dumps(doc))
    os.utime(path, ns=(2, 2))
    caplog.set_level(logging.ERROR)
    assert cache().store_name == "Good"
    assert "response_interval_s" in cache.error and str(path) in cache.error
    assert "keeping the previous store config" in caplog.text
    path.write_text("{not json")
    os.utime(path, ns=(3, 3))
    assert cache().store_name == "Good"
