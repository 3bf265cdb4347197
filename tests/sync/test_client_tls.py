"""sync.client over real TLS on loopback: an untrusted certificate is refused; ``ca_bundle`` trusts it.

There is no way to turn verification off, so the only way to talk to a self-signed server is to give
its CA. The HTTPS endpoint here is Python's http.server with a certificate made by the openssl CLI.
"""

from __future__ import annotations

import json
import shutil
import ssl

import pytest

from hymy.errors import SyncError
from sync.client import Client, Token
from tests import procs
from tests.sync.helpers import answering_server


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("openssl CLI not installed")
    d = tmp_path_factory.mktemp("tls")
    procs.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
        check=True, capture_output=True,
    )
    seen: list[str] = []
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(d / "cert.pem", d / "key.pem")
    answer = json.dumps({"results": []}).encode()
    with answering_server(answer, lambda handler, body: seen.append(handler.headers.get("Authorization", "")),
                          content_type="application/json", tls=ctx) as port:
        yield f"https://127.0.0.1:{port}", d / "cert.pem", seen


def test_untrusted_certificate_is_refused(tls_server):
    url, _, seen = tls_server
    client = Client(url, "tok-secret")
    outcome = client.post_batch(b'{"events":[]}')
    assert outcome.status is None and "SSL" in outcome.detail
    assert "tok-secret" not in outcome.detail
    assert seen == []


def test_ca_bundle_makes_it_trusted_and_the_token_is_sent(tls_server):
    url, cert, seen = tls_server
    client = Client(url, "tok-secret", ca_bundle=cert)
    outcome = client.post_batch(b'{"events":[]}')
    assert outcome.status == 200 and outcome.results == []
    assert seen[-1] == "Bearer tok-secret"


def test_token_never_shows_in_repr_or_errors():
    client = Client("http://127.0.0.1:9", "tok-secret", connect_timeout=0.5)
    assert "tok-secret" not in repr(client) and "tok-secret" not in repr(client.__dict__)
    assert str(Token("tok-secret")) == "Token(***)"
    outcome = client.post_batch(b"{}")
    assert outcome.status is None and "tok-secret" not in outcome.detail
    with pytest.raises(SyncError) as err:
        client.get_config(None)
    assert "tok-secret" not in str(err.value)


def test_missing_ca_bundle_is_a_config_error_naming_the_key(tmp_path):
    from hymy.errors import ConfigError

    with pytest.raises(ConfigError, match=r"server\.ca_bundle: .*missing\.pem is not a file"):
        Client("https://127.0.0.1:1", "tok", ca_bundle=tmp_path / "missing.pem")
