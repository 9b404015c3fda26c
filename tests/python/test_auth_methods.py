"""Every client authentication method through the Python API, end to end against the mock server, the way a
user writes it — the mirror of crates/m2m-auth/tests/auth_methods.rs: private_key_jwt with the key as str,
bytes, a JWK dict or a file; client_secret_jwt; tls_client_auth and self_signed_tls_client_auth with the
certificate inline or from files; discovery; the environment; the ConfigError of each mistake; and that no
private key ever reaches a repr, an error or a log. Keys and certificates are generated per run."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import ssl
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import form_value, last_request, raised
from helpers import header as header_value
from m2m_auth import ConfigError, M2MAuthError, OAuthError, TokenClient, TransportError
from m2m_auth.testing import MockAuthServer, generate_signing_key, self_signed_certificate

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
HS_SECRET = "hs256-shared-secret-Vq7Lm2Xp"
ENCRYPTED_PEM = (
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQIq1wE3c9a5G0CAggA\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n"
)
MTLS_SUBJECT = "CN=svc-mtls,O=Acme"


# ---------------------------------------------------------------------------------------------------------
# Helpers


def b64url_json(part: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return result


def jws_parts(jwt: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The decoded header and claims of a JWS."""
    head, body, _ = jwt.split(".")
    return b64url_json(head), b64url_json(body)


def thumbprint(cert_pem: str) -> str:
    """x5t#S256 of the (first) certificate: base64url(SHA-256(DER)), what a bound token's cnf holds."""
    first = re.search(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", cert_pem, re.DOTALL)
    assert first is not None, "no certificate in the PEM"
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(first.group(0))).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def key_body(pem: str) -> str:
    """A distinctive middle part of a PEM key: where the private numbers are, not the common DER header."""
    body = "".join(line for line in pem.splitlines() if line and not line.startswith("-----"))
    middle = len(body) // 2
    return body[middle - 20 : middle + 20]


def config_error(fn: Callable[[], object]) -> ConfigError:
    e = raised(fn)
    assert isinstance(e, ConfigError), repr(e)
    assert e.code == "ERR_CONFIG"
    return e


def error_texts(e: BaseException) -> list[str]:
    """Every way an error is shown: str, repr and the formatted traceback."""
    return [str(e), repr(e), "".join(traceback.format_exception(type(e), e, e.__traceback__))]


def ca_of(server: MockAuthServer) -> str:
    """The CA certificate of a TLS mock, to trust as ca_bundle."""
    assert server.ca_pem is not None, "a TLS mock"
    return server.ca_pem


def register_key(server: MockAuthServer, client_id: str, *keys: dict[str, Any]) -> None:
    server.register_client(
        {
            "client_id": client_id,
            "auth_methods": ["private_key_jwt"],
            "jwks": {"keys": [k["public_jwk"] for k in keys]},
            "scopes": ["payments.read"],
        }
    )


def register_mtls(server: MockAuthServer, client_id: str = "svc-mtls") -> None:
    server.register_client(
        {
            "client_id": client_id,
            "auth_methods": ["tls_client_auth"],
            "tls_client_auth_subject_dn": MTLS_SUBJECT,
        }
    )


def register_self_signed(server: MockAuthServer, client_id: str, cert: dict[str, Any]) -> None:
    server.register_client(
        {
            "client_id": client_id,
            "auth_methods": ["self_signed_tls_client_auth"],
            "jwks": {"keys": [cert["jwk"]]},
        }
    )


def assert_assertion_wire(server: MockAuthServer, client_id: str, alg: str, aud: str) -> dict[str, Any]:
    """The last request authenticated with a fresh, short-lived assertion for this client and audience, and
    carried no secret."""
    request = last_request(server)
    assert form_value(request, "client_assertion_type") == ASSERTION_TYPE
    assert form_value(request, "client_id") == client_id
    assert form_value(request, "client_secret") is None
    assert header_value(request, "authorization") is None
    jwt = form_value(request, "client_assertion")
    assert jwt is not None, "no client_assertion sent"
    header, claims = jws_parts(jwt)
    assert header["alg"] == alg
    assert claims["iss"] == claims["sub"] == client_id
    assert claims["aud"] == aud
    assert 0 < claims["exp"] - claims["iat"] <= 300, claims
    assert isinstance(claims["jti"], str) and len(claims["jti"]) >= 16
    return header


@pytest.fixture()
def tls_server() -> Iterator[MockAuthServer]:
    """A mock over HTTPS with the mTLS alias; its CA (ca_pem) signs the server and issues client certs."""
    with MockAuthServer({"tls": True}) as s:
        yield s


def key_argument(form: str, key: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """The keyword arguments that give `key` to a TokenClient in the way `form` names."""
    if form == "pkcs8_str":
        return {"private_key": key["pkcs8_pem"]}
    if form == "traditional_str":
        return {"private_key": key["traditional_pem"]}
    if form == "pkcs8_bytes":
        return {"private_key": key["pkcs8_pem"].encode()}
    if form == "jwk_dict":
        return {"private_key": key["private_jwk"]}
    if form == "jwk_str":
        return {"private_key": json.dumps(key["private_jwk"])}
    path = tmp_path / "m2m-key.pem"
    path.write_text(key["pkcs8_pem"], encoding="utf-8")
    if form == "file_path":
        return {"private_key_file": path}
    assert form == "file_str", form
    return {"private_key_file": str(path)}


KEY_FORMS = ["pkcs8_str", "traditional_str", "pkcs8_bytes", "jwk_dict", "jwk_str", "file_path", "file_str"]


# ---------------------------------------------------------------------------------------------------------
# private_key_jwt


@pytest.mark.parametrize("form", KEY_FORMS)
@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256"])
def test_private_key_jwt_with_the_key_as_str_bytes_jwk_or_file(
    server: MockAuthServer, tmp_path: Path, alg: str, form: str
) -> None:
    key = generate_signing_key(alg)
    client_id = f"svc-{alg.lower()}"
    register_key(server, client_id, key)
    # An RSA PEM signs RS256 unless asked for PS256; a JWK says its own alg.
    extra: dict[str, Any] = {"signing_alg": "PS256"} if alg == "PS256" else {}
    client = TokenClient(
        token_url=server.token_url,
        client_id=client_id,
        scopes=["payments.read"],
        **key_argument(form, key, tmp_path),
        **extra,
    )
    assert client.auth_method == "private_key_jwt"
    token = client.get_token()
    claims = server.verify_access_token(token)
    assert claims["sub"] == client_id
    assert claims["scope"] == "payments.read"
    assert last_request(server)["auth_method"] == "private_key_jwt"
    header = assert_assertion_wire(server, client_id, alg, server.token_url)
    if form.startswith("jwk"):
        assert header["kid"] == key["kid"], "a JWK's kid goes into the header"
    assert client.get_token() == token
    assert server.token_requests() == 1


def test_private_key_id_goes_into_the_assertion_header(server: MockAuthServer) -> None:
    key = generate_signing_key("RS256")
    register_key(server, "svc-kid", key)
    client = TokenClient(
        token_url=server.token_url,
        client_id="svc-kid",
        private_key=key["pkcs8_pem"],
        private_key_id=key["kid"],
    )
    client.get_token()
    header = assert_assertion_wire(server, "svc-kid", "RS256", server.token_url)
    assert header["kid"] == key["kid"]


def test_the_kid_selects_one_of_several_registered_keys(server: MockAuthServer) -> None:
    a, b = generate_signing_key("ES256"), generate_signing_key("ES256")
    register_key(server, "svc-two-keys", a, b)
    client = TokenClient(token_url=server.token_url, client_id="svc-two-keys", private_key=b["private_jwk"])
    client.get_token()
    assert assert_assertion_wire(server, "svc-two-keys", "ES256", server.token_url)["kid"] == b["kid"]


def test_assertion_audience_replaces_the_token_endpoint_as_aud(server: MockAuthServer) -> None:
    key = generate_signing_key("ES256")
    register_key(server, "svc-aud", key)
    client = TokenClient(
        token_url=server.token_url,
        client_id="svc-aud",
        private_key=key["pkcs8_pem"],
        assertion_audience=server.issuer,
    )
    client.get_token()
    assert_assertion_wire(server, "svc-aud", "ES256", server.issuer)


def test_private_key_jwt_through_discovery_with_from_issuer(server: MockAuthServer) -> None:
    key = generate_signing_key("ES256")
    register_key(server, "svc-discover", key)
    client = TokenClient.from_issuer(server.issuer, client_id="svc-discover", private_key=key["pkcs8_pem"])
    assert client.token_url is None, "not known before the metadata is read"
    client.get_token()
    assert client.token_url == server.token_url
    assert_assertion_wire(server, "svc-discover", "ES256", server.token_url)


# ---------------------------------------------------------------------------------------------------------
# client_secret_jwt


def test_client_secret_jwt_signs_with_the_secret_and_never_sends_it(server: MockAuthServer) -> None:
    server.register_client(
        {"client_id": "svc-hs", "client_secret": HS_SECRET, "auth_methods": ["client_secret_jwt"]}
    )
    client = TokenClient(
        token_url=server.token_url,
        client_id="svc-hs",
        client_secret=HS_SECRET,
        auth_method="client_secret_jwt",
    )
    assert client.auth_method == "client_secret_jwt"
    token = client.get_token()
    assert server.verify_access_token(token)["sub"] == "svc-hs"
    request = last_request(server)
    assert request["auth_method"] == "client_secret_jwt"
    assert_assertion_wire(server, "svc-hs", "HS256", server.token_url)
    assert HS_SECRET not in json.dumps(request), "the secret travelled"


def test_client_secret_jwt_with_a_wrong_secret_is_invalid_client(server: MockAuthServer) -> None:
    server.register_client(
        {"client_id": "svc-hs-bad", "client_secret": HS_SECRET, "auth_methods": ["client_secret_jwt"]}
    )
    client = TokenClient(
        token_url=server.token_url,
        client_id="svc-hs-bad",
        client_secret="not-the-registered-one",
        auth_method="client_secret_jwt",
    )
    e = raised(client.get_token)
    assert isinstance(e, OAuthError), repr(e)
    assert (e.error, e.status) == ("invalid_client", 401)
    for text in error_texts(e):
        assert "not-the-registered-one" not in text


# ---------------------------------------------------------------------------------------------------------
# tls_client_auth and self_signed_tls_client_auth


def cert_arguments(form: str, cert_pem: str, key_pem: str, ca_pem: str, tmp_path: Path) -> dict[str, Any]:
    """client_cert/client_key/ca_bundle as str, as bytes, or as files (pathlib.Path or str)."""
    if form == "inline_str":
        return {"client_cert": cert_pem, "client_key": key_pem, "ca_bundle": ca_pem}
    if form == "inline_bytes":
        return {
            "client_cert": cert_pem.encode(),
            "client_key": key_pem.encode(),
            "ca_bundle": ca_pem.encode(),
        }
    paths = {}
    for name, text in [("client_cert", cert_pem), ("client_key", key_pem), ("ca_bundle", ca_pem)]:
        path = tmp_path / f"{name}.pem"
        path.write_text(text, encoding="utf-8")
        paths[f"{name}_file"] = path if form == "files_path" else str(path)
    return paths


CERT_FORMS = ["inline_str", "inline_bytes", "files_path", "files_str"]


@pytest.mark.parametrize("form", CERT_FORMS)
def test_tls_client_auth_goes_to_the_mtls_alias_and_binds_the_token(
    tls_server: MockAuthServer, tmp_path: Path, form: str
) -> None:
    server = tls_server
    register_mtls(server)
    assert server.ca_pem is not None and server.mtls_token_url is not None
    cert_pem, key_pem = server.issue_client_certificate(MTLS_SUBJECT)
    x5t = thumbprint(cert_pem)
    client = TokenClient.from_issuer(
        server.issuer,
        client_id="svc-mtls",
        **cert_arguments(form, cert_pem, key_pem, server.ca_pem, tmp_path),
    )
    assert client.auth_method == "tls_client_auth", "the default with only a certificate"
    assert client.token_url is None
    token = client.get_token()
    assert client.token_url == server.mtls_token_url, "the mTLS alias from the metadata"
    claims = server.verify_access_token(token)
    assert claims["sub"] == "svc-mtls"
    assert claims["cnf"]["x5t#S256"] == x5t
    request = last_request(server)
    assert request["auth_method"] == "tls_client_auth"
    assert request["client_cert_x5t_s256"] == x5t
    assert form_value(request, "client_id") == "svc-mtls"
    assert form_value(request, "client_secret") is None
    assert form_value(request, "client_assertion") is None
    assert header_value(request, "authorization") is None
    assert client.get_token() == token
    assert server.token_requests() == 1


@pytest.mark.parametrize("form", CERT_FORMS)
def test_self_signed_tls_client_auth_with_the_registered_certificate(
    tls_server: MockAuthServer, tmp_path: Path, form: str
) -> None:
    server = tls_server
    assert server.ca_pem is not None
    mine = self_signed_certificate("CN=svc-self")
    assert mine["x5t_s256"] == thumbprint(mine["cert_pem"])
    register_self_signed(server, "svc-self", mine)
    client = TokenClient.from_issuer(
        server.issuer,
        client_id="svc-self",
        auth_method="self_signed_tls_client_auth",
        **cert_arguments(form, mine["cert_pem"], mine["key_pem"], server.ca_pem, tmp_path),
    )
    assert client.auth_method == "self_signed_tls_client_auth"
    assert client.token_url is None
    token = client.get_token()
    assert client.token_url == server.mtls_token_url
    assert server.verify_access_token(token)["cnf"]["x5t#S256"] == mine["x5t_s256"]
    request = last_request(server)
    assert request["auth_method"] == "self_signed_tls_client_auth"
    assert request["client_cert_x5t_s256"] == mine["x5t_s256"]
    assert form_value(request, "client_assertion") is None


def test_without_the_servers_ca_the_server_is_not_trusted_and_nothing_is_sent(
    tls_server: MockAuthServer,
) -> None:
    register_mtls(tls_server)
    cert_pem, key_pem = tls_server.issue_client_certificate(MTLS_SUBJECT)
    client = TokenClient.from_issuer(
        tls_server.issuer, client_id="svc-mtls", client_cert=cert_pem, client_key=key_pem, max_attempts=1
    )
    e = raised(client.get_token)
    assert isinstance(e, TransportError), repr(e)
    assert "certificate" in str(e)
    assert tls_server.token_requests() == 0
    assert client.token_url is None


# ---------------------------------------------------------------------------------------------------------
# SecureAuth (a fixed https URL: no request here, only the configuration)


def test_secureauth_with_a_key_or_a_certificate_has_the_workspace_issuer(tmp_path: Path) -> None:
    key = generate_signing_key("ES256")
    cert = self_signed_certificate("CN=svc")
    key_file = tmp_path / "key.pem"
    key_file.write_text(key["pkcs8_pem"], encoding="utf-8")
    cert_file, cert_key_file = tmp_path / "svc.crt", tmp_path / "svc.key"
    cert_file.write_text(cert["cert_pem"], encoding="utf-8")
    cert_key_file.write_text(cert["key_pem"], encoding="utf-8")
    ws: dict[str, Any] = {
        "tenant": "acme",
        "region": "us",
        "workspace": "payments",
        "client_id": "svc",
    }
    # https://TENANT.REGION.connect.secureauth.com/TENANT/WORKSPACE
    issuer = "https://acme.us.connect.secureauth.com/acme/payments"
    for credentials, method in [
        ({"client_secret": "s3cret-value-x"}, "client_secret_post"),
        ({"private_key": key["pkcs8_pem"], "private_key_id": "key-1"}, "private_key_jwt"),
        ({"private_key_file": key_file}, "private_key_jwt"),
        ({"client_cert_file": cert_file, "client_key_file": cert_key_file}, "tls_client_auth"),
        ({"client_cert": cert["cert_pem"], "client_key": cert["key_pem"]}, "tls_client_auth"),
    ]:
        client = TokenClient.secureauth(**ws, **credentials)
        assert client.issuer == issuer, credentials
        assert client.auth_method == method, credentials
        assert client.client_id == "svc"
        if method != "tls_client_auth":  # with a certificate, the mTLS alias comes from the metadata
            assert client.token_url == f"{issuer}/oauth2/token", credentials


# ---------------------------------------------------------------------------------------------------------
# The environment


def test_from_env_with_an_issuer_and_a_private_key_file(
    server: MockAuthServer, clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key = generate_signing_key("RS256")
    register_key(server, "svc-env-key", key)
    path = tmp_path / "m2m-key.pem"
    path.write_text(key["traditional_pem"], encoding="utf-8")
    clean_env.setenv("M2M_ISSUER", server.issuer)
    clean_env.setenv("M2M_CLIENT_ID", "svc-env-key")
    clean_env.setenv("M2M_PRIVATE_KEY_FILE", str(path))
    clean_env.setenv("M2M_PRIVATE_KEY_ID", key["kid"])
    client = TokenClient.from_env()
    assert client.auth_method == "private_key_jwt"
    assert client.token_url is None
    token = client.get_token()
    assert server.verify_access_token(token)["sub"] == "svc-env-key"
    assert client.token_url == server.token_url
    header = assert_assertion_wire(server, "svc-env-key", "RS256", server.token_url)
    assert header["kid"] == key["kid"]


def test_from_env_with_an_inline_key_and_a_signing_alg(
    server: MockAuthServer, clean_env: pytest.MonkeyPatch
) -> None:
    key = generate_signing_key("PS256")
    register_key(server, "svc-env-ps", key)
    clean_env.setenv("M2M_TOKEN_URL", server.token_url)
    clean_env.setenv("M2M_CLIENT_ID", "svc-env-ps")
    clean_env.setenv("M2M_PRIVATE_KEY", key["pkcs8_pem"])
    clean_env.setenv("M2M_SIGNING_ALG", "PS256")
    clean_env.setenv("M2M_ASSERTION_AUDIENCE", server.issuer)
    TokenClient.from_env().get_token()
    assert_assertion_wire(server, "svc-env-ps", "PS256", server.issuer)


def test_from_env_with_an_issuer_a_client_certificate_and_a_ca_bundle(
    tls_server: MockAuthServer, clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    server = tls_server
    register_mtls(server)
    assert server.ca_pem is not None
    cert_pem, key_pem = server.issue_client_certificate(MTLS_SUBJECT)
    files = {"svc.crt": cert_pem, "svc.key": key_pem, "ca.pem": server.ca_pem}
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    clean_env.setenv("M2M_ISSUER", server.issuer)
    clean_env.setenv("M2M_CLIENT_ID", "svc-mtls")
    clean_env.setenv("M2M_CLIENT_CERT_FILE", str(tmp_path / "svc.crt"))
    clean_env.setenv("M2M_CLIENT_KEY_FILE", str(tmp_path / "svc.key"))
    clean_env.setenv("M2M_CA_BUNDLE_FILE", str(tmp_path / "ca.pem"))
    client = TokenClient.from_env()
    assert client.auth_method == "tls_client_auth"
    token = client.get_token()
    assert client.token_url == server.mtls_token_url
    assert server.verify_access_token(token)["cnf"]["x5t#S256"] == thumbprint(cert_pem)
    assert last_request(server)["client_cert_x5t_s256"] == thumbprint(cert_pem)


def test_from_env_with_a_secret_and_a_private_key_is_a_config_error_naming_a_variable(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "m2m-key.pem"
    path.write_text(generate_signing_key("ES256")["pkcs8_pem"], encoding="utf-8")
    clean_env.setenv("M2M_ISSUER", "https://idp.example")
    clean_env.setenv("M2M_CLIENT_ID", "svc")
    clean_env.setenv("M2M_CLIENT_SECRET", "s3cret-value-x")
    clean_env.setenv("M2M_PRIVATE_KEY_FILE", str(path))
    e = config_error(TokenClient.from_env)
    assert e.field == "M2M_CLIENT_SECRET", e
    assert "s3cret-value-x" not in str(e)


def test_from_env_with_a_certificate_but_no_key_is_a_config_error_naming_the_key_variable(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "svc.crt"
    path.write_text(self_signed_certificate("CN=svc")["cert_pem"], encoding="utf-8")
    clean_env.setenv("M2M_ISSUER", "https://idp.example")
    clean_env.setenv("M2M_CLIENT_ID", "svc")
    clean_env.setenv("M2M_CLIENT_CERT_FILE", str(path))
    e = config_error(TokenClient.from_env)
    assert e.field == "M2M_CLIENT_KEY_FILE", e
    assert "M2M_CLIENT_KEY_FILE" in str(e)


# ---------------------------------------------------------------------------------------------------------
# Mistakes: each a ConfigError naming the keyword, before any request

BASE: dict[str, Any] = {"token_url": "https://idp.example/oauth2/token", "client_id": "svc"}


def test_a_private_key_that_is_not_a_key_is_a_config_error() -> None:
    texts: list[Any] = ["not a key", b"not a key either", "{}", {"kty": "oct", "k": "AAAA"}]
    for text in texts:
        e = config_error(lambda text=text: TokenClient(**BASE, private_key=text))  # type: ignore[misc]
        assert e.field == "private_key", (text, e)


def test_an_encrypted_pem_is_a_config_error_that_says_so() -> None:
    e = config_error(lambda: TokenClient(**BASE, private_key=ENCRYPTED_PEM))
    assert e.field == "private_key"
    assert "encrypted" in str(e)


def test_an_encrypted_pem_file_is_a_config_error_naming_private_key_file(tmp_path: Path) -> None:
    path = tmp_path / "encrypted.pem"
    path.write_text(ENCRYPTED_PEM, encoding="utf-8")
    e = config_error(lambda: TokenClient(**BASE, private_key_file=path))
    assert e.field == "private_key_file"
    assert "encrypted" in str(e)


def test_a_missing_private_key_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    e = config_error(lambda: TokenClient(**BASE, private_key_file=tmp_path / "nope.pem"))
    assert e.field == "private_key_file"


@pytest.mark.parametrize(("alg", "signing_alg"), [("RS256", "ES256"), ("ES256", "RS256"), ("ES256", "PS256")])
def test_a_signing_alg_that_does_not_fit_the_key_is_a_config_error(alg: str, signing_alg: Any) -> None:
    key = generate_signing_key(alg)
    e = config_error(lambda: TokenClient(**BASE, private_key=key["pkcs8_pem"], signing_alg=signing_alg))
    assert e.field == "signing_alg"


def test_an_unknown_signing_alg_is_a_config_error() -> None:
    key = generate_signing_key("ES256")
    wrong: Any = "HS256"
    e = config_error(lambda: TokenClient(**BASE, private_key=key["pkcs8_pem"], signing_alg=wrong))
    assert e.field == "signing_alg"


def test_private_key_and_private_key_file_together_is_a_config_error(tmp_path: Path) -> None:
    key = generate_signing_key("ES256")
    path = tmp_path / "key.pem"
    path.write_text(key["pkcs8_pem"], encoding="utf-8")
    e = config_error(lambda: TokenClient(**BASE, private_key=key["pkcs8_pem"], private_key_file=path))
    assert e.field in ("private_key", "private_key_file")


def test_a_secret_and_a_key_without_auth_method_is_a_config_error_naming_client_secret() -> None:
    key = generate_signing_key("ES256")
    e = config_error(
        lambda: TokenClient(**BASE, client_secret="s3cret-value-x", private_key=key["pkcs8_pem"])
    )
    assert e.field == "client_secret"
    assert "s3cret-value-x" not in str(e)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"auth_method": "private_key_jwt", "client_secret": "s3cret-value-x"}, "private_key"),
        ({"auth_method": "tls_client_auth", "client_secret": "s3cret-value-x"}, "client_cert"),
        ({"auth_method": "self_signed_tls_client_auth", "client_secret": "s3cret-value-x"}, "client_cert"),
        ({"private_key_id": "key-1", "client_secret": "s3cret-value-x"}, "private_key_id"),
        ({"signing_alg": "ES256", "client_secret": "s3cret-value-x"}, "signing_alg"),
    ],
)
def test_a_method_or_key_setting_without_its_credential_is_a_config_error(
    kwargs: dict[str, Any], field: str
) -> None:
    e = config_error(lambda: TokenClient(**BASE, **kwargs))
    assert e.field == field, e


def test_a_certificate_without_its_key_and_a_mismatched_key_are_config_errors() -> None:
    a, b = self_signed_certificate("CN=a"), self_signed_certificate("CN=b")
    assert config_error(lambda: TokenClient(**BASE, client_cert=a["cert_pem"])).field == "client_key"
    assert config_error(lambda: TokenClient(**BASE, client_key=a["key_pem"])).field == "client_cert"
    mismatched = config_error(lambda: TokenClient(**BASE, client_cert=a["cert_pem"], client_key=b["key_pem"]))
    assert mismatched.field == "client_key"
    not_pem = config_error(lambda: TokenClient(**BASE, client_cert=a["cert_pem"], client_key="garbage"))
    assert not_pem.field == "client_key"
    bundle = config_error(
        lambda: TokenClient(**BASE, client_cert=a["cert_pem"], client_key=a["key_pem"], ca_bundle="nope")
    )
    assert bundle.field == "ca_bundle"


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("private_key", 123),
        ("private_key", ["a", "list"]),
        ("private_key_file", 42),
        ("private_key_id", 7),
        ("signing_alg", 256),
        ("assertion_audience", 1),
        ("client_cert", 1.5),
        ("client_cert_file", 3),
        ("client_key", 2),
        ("client_key_file", 4.0),
        ("ca_bundle", 5),
        ("ca_bundle_file", 6),
    ],
)
def test_a_credential_of_the_wrong_type_is_a_config_error_naming_the_keyword(
    keyword: str, value: object
) -> None:
    kwargs: dict[str, Any] = {keyword: value}
    e = config_error(lambda: TokenClient(**BASE, **kwargs))
    assert e.field == keyword, e
    assert keyword in str(e)


def test_a_method_the_server_does_not_offer_is_a_config_error_from_discovery() -> None:
    config = {
        "auth_methods_supported": ["client_secret_basic"],
        "clients": [
            {
                "client_id": "svc",
                "client_secret": "s3cret-value-x",
                "auth_methods": ["client_secret_basic", "client_secret_post"],
            }
        ],
    }
    with MockAuthServer(config) as server:
        assert server.supported_auth_methods() == ["client_secret_basic"]
        client = TokenClient.from_issuer(server.issuer, client_id="svc", client_secret="s3cret-value-x")
        e = config_error(client.get_token)
        assert e.field == "auth_method"
        assert "client_secret_basic" in str(e)
        assert server.token_requests() == 0
        # Asking for the offered method works.
        basic = TokenClient.from_issuer(
            server.issuer, client_id="svc", client_secret="s3cret-value-x", auth_method="client_secret_basic"
        )
        basic.get_token()
        assert server.token_requests() == 1


# ---------------------------------------------------------------------------------------------------------
# Secrecy of private keys


def test_private_keys_never_reach_a_repr_an_error_or_a_log(
    tls_server: MockAuthServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="m2m_auth")
    server = tls_server
    ca = ca_of(server)
    key, stranger = generate_signing_key("RS256"), generate_signing_key("RS256")
    register_key(server, "svc-secret-key", key)
    register_mtls(server)
    cert_pem, cert_key = server.issue_client_certificate(MTLS_SUBJECT)
    intruder_pem, intruder_key = server.issue_client_certificate("CN=intruder,O=Acme")
    server.register_client(
        {"client_id": "svc-hs", "client_secret": HS_SECRET, "auth_methods": ["client_secret_jwt"]}
    )
    needles = [
        key_body(key["pkcs8_pem"]),
        key_body(key["traditional_pem"]),
        key["private_jwk"]["d"],
        key_body(stranger["pkcs8_pem"]),
        stranger["private_jwk"]["d"],
        key_body(cert_key),
        key_body(intruder_key),
        HS_SECRET,
    ]
    shown: list[str] = []

    def use(client: TokenClient) -> None:
        shown.extend([repr(client), str(client)])
        try:
            client.get_token()
        except M2MAuthError as e:
            shown.extend(error_texts(e))

    key_client: dict[str, Any] = {
        "token_url": server.token_url,
        "client_id": "svc-secret-key",
        "ca_bundle": ca,
    }
    for form in KEY_FORMS:
        use(TokenClient(**key_client, **key_argument(form, key, tmp_path)))
    use(TokenClient(**key_client, private_key=stranger["pkcs8_pem"]))  # invalid_client
    use(TokenClient(**key_client, private_key=stranger["private_jwk"]))  # invalid_client
    use(
        TokenClient.from_issuer(
            server.issuer, client_id="svc-mtls", client_cert=cert_pem, client_key=cert_key, ca_bundle=ca
        )
    )
    use(
        TokenClient.from_issuer(
            server.issuer,
            client_id="svc-mtls",
            client_cert=intruder_pem,
            client_key=intruder_key,
            ca_bundle=ca,
        )
    )
    use(
        TokenClient.from_issuer(
            server.issuer, client_id="svc-mtls", client_cert=cert_pem, client_key=cert_key, max_attempts=1
        )
    )  # untrusted server
    use(
        TokenClient(
            token_url=server.token_url,
            client_id="svc-hs",
            client_secret=HS_SECRET,
            auth_method="client_secret_jwt",
            ca_bundle=ca,
        )
    )
    # Build errors that hold the key: a wrong alg, a damaged key, a mismatched certificate key.
    pem = key["pkcs8_pem"]
    middle = len(pem) // 2
    damaged = pem[:middle] + ("A" if pem[middle] != "A" else "B") + pem[middle + 1 :]
    build_errors: list[dict[str, Any]] = [
        {"private_key": pem, "signing_alg": "ES256"},
        {"private_key": key["private_jwk"], "signing_alg": "ES256"},
        {"private_key": damaged},
        {"private_key": pem[: middle + 10]},
        {"private_key": pem, "private_key_file": tmp_path / "m2m-key.pem"},
        {"private_key": pem, "client_secret": HS_SECRET},
        {"client_cert": intruder_pem, "client_key": cert_key},
        {"client_cert": cert_pem, "client_key": cert_key[: len(cert_key) // 2 + 10]},
    ]
    for kwargs in build_errors:
        shown.extend(error_texts(config_error(lambda kwargs=kwargs: TokenClient(**BASE, **kwargs))))  # type: ignore[misc]

    records = [r for r in caplog.records if r.name.startswith("m2m_auth")]
    assert records, "the fetches were logged at DEBUG"
    shown.extend(r.getMessage() for r in records)
    shown.extend(str(r.__dict__) for r in records)
    shown.append(caplog.text)
    assert len(shown) > 30
    for needle in needles:
        assert len(needle) >= 16
        for text in shown:
            assert needle not in text, f"key material {needle!r} in {text[:200]!r}"


# ---------------------------------------------------------------------------------------------------------
# Discovery, per-call parameters


def test_token_url_is_none_until_the_first_token_then_the_discovered_one(server: MockAuthServer) -> None:
    client = TokenClient.from_issuer(server.issuer, client_id="demo-client", client_secret="demo-secret")
    assert client.token_url is None
    client.get_token()
    assert client.token_url == server.token_url
    assert server.token_requests() == 1


def test_per_call_extra_params_reach_the_wire_and_are_cached_apart(server: MockAuthServer) -> None:
    key = generate_signing_key("ES256")
    register_key(server, "svc-extra", key)
    client = TokenClient.from_issuer(server.issuer, client_id="svc-extra", private_key=key["pkcs8_pem"])
    a = client.get_token(extra_params={"tenant_hint": "x"})
    request = last_request(server)
    assert ["tenant_hint", "x"] in request["form"]
    assert request["auth_method"] == "private_key_jwt"
    assert server.token_requests() == 1
    assert client.get_token(extra_params={"tenant_hint": "x"}) == a
    assert server.token_requests() == 1, "the same value shares its token"
    b = client.get_token(extra_params=[("tenant_hint", "y")])
    assert b != a
    assert ["tenant_hint", "y"] in last_request(server)["form"]
    assert server.token_requests() == 2, "another value gets its own token"
    default = client.get_token()
    assert default not in (a, b)
    assert form_value(last_request(server), "tenant_hint") is None
    assert server.token_requests() == 3


@pytest.mark.parametrize("name", ["client_id", "client_assertion", "client_secret", "grant_type"])
def test_a_reserved_per_call_extra_param_is_a_config_error_naming_extra_params(
    server: MockAuthServer, name: str
) -> None:
    key = generate_signing_key("ES256")
    register_key(server, "svc-reserved", key)
    client = TokenClient(token_url=server.token_url, client_id="svc-reserved", private_key=key["pkcs8_pem"])
    e = config_error(lambda: client.get_token(extra_params={name: "x"}))
    assert e.field == "extra_params"
    assert name in str(e)
    assert server.token_requests() == 0
