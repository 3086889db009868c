"""`cltd clients add | list | disable` as a steward uses them (SQLite trust in tmp_path).

Bad input is exit 2 with exactly one line on stderr and nothing written; a confidential
client's secret is printed once and only its hash is stored.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from tests.cli.support import Run, cltd, query

REDIRECT = "https://seeds.example.org/cb"


def _add(capsys: pytest.CaptureFixture[str], trust: Path, *extra: str) -> Run:
    return cltd(
        capsys,
        "--data-dir",
        trust,
        "clients",
        "add",
        "--name",
        "Seed Counter",
        "--organisation",
        "Seed Library",
        *extra,
    )


CONFIDENTIAL = (
    "--type",
    "confidential",
    "--redirect-uri",
    REDIRECT,
    "--redirect-uri",
    "http://127.0.0.1:8080/cb",
    "--scope",
    "profile:read",
    "--scope",
    "catalog:read",
    "--grant",
    "authorization_code",
    "--grant",
    "refresh_token",
)


def _printed(run: Run, name: str) -> str | None:
    found = re.search(rf"^{name}: (\S+)$", run.out, re.M)
    return found.group(1) if found else None


def _clients(trust: Path) -> list[tuple[object, ...]]:
    return query(
        trust,
        "SELECT client_id, secret_hash, client_type, redirect_uris, scopes, grant_types, "
        "may_introspect, disabled_at FROM oauth_clients ORDER BY id",
    )


def _audit(trust: Path) -> list[str]:
    return [str(row[0]) for row in query(trust, "SELECT action FROM audit_entries ORDER BY seq")]


def test_add_a_confidential_client_prints_its_secret_once(
    capsys: pytest.CaptureFixture[str], trust: Path
) -> None:
    run = _add(capsys, trust, *CONFIDENTIAL, "--introspect")
    assert run.code == 0, run.err
    assert run.err == ""
    client_id, secret = _printed(run, "client_id"), _printed(run, "client_secret")
    assert client_id and secret
    assert "Registered Seed Counter (confidential)." in run.out
    assert "will not be shown again" in run.out
    [row] = _clients(trust)
    assert row[0] == client_id and row[2] == "confidential"
    assert row[1] != secret and row[1] == hashlib.sha256(secret.encode()).hexdigest()
    assert '"http://127.0.0.1:8080/cb"' in str(row[3]) and '"catalog:read"' in str(row[4])
    assert row[6] == 1 and row[7] is None
    assert "client.registered" in _audit(trust)

    listed = cltd(capsys, "--data-dir", trust, "clients", "list")
    assert listed.code == 0
    assert client_id in listed.out and secret not in listed.out


def test_add_a_public_client_prints_no_secret(
    capsys: pytest.CaptureFixture[str], trust: Path
) -> None:
    run = _add(
        capsys,
        trust,
        "--type",
        "public",
        "--redirect-uri",
        REDIRECT,
        "--scope",
        "profile:read consent:read",
        "--grant",
        "authorization_code",
    )
    assert run.code == 0, run.err
    assert _printed(run, "client_id") and _printed(run, "client_secret") is None
    assert "will not be shown again" not in run.out
    [row] = _clients(trust)
    assert row[1] is None and row[2] == "public"
    assert '"consent:read"' in str(row[4])  # space-separated scopes in one option


def test_list_shows_each_client_with_its_status(
    capsys: pytest.CaptureFixture[str], trust: Path
) -> None:
    assert cltd(capsys, "--data-dir", trust, "clients", "list").out == ""
    first = _printed(_add(capsys, trust, *CONFIDENTIAL), "client_id")
    second = _printed(
        cltd(
            capsys,
            "--data-dir",
            trust,
            "clients",
            "add",
            "--name",
            "Data Co-op",
            "--organisation",
            "Co-op",
            "--type",
            "confidential",
            "--scope",
            "catalog:read",
            "--grant",
            "client_credentials",
        ),
        "client_id",
    )
    assert cltd(capsys, "--data-dir", trust, "clients", "disable", str(second)).code == 0
    run = cltd(capsys, "--data-dir", trust, "clients", "list")
    assert run.code == 0 and run.err == ""
    lines = run.out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{first} ") and " active " in lines[0]
    assert "Seed Counter (Seed Library)" in lines[0] and "profile:read catalog:read" in lines[0]
    assert lines[1].startswith(f"{second} ") and " disabled " in lines[1]


def test_disable_switches_a_client_off(capsys: pytest.CaptureFixture[str], trust: Path) -> None:
    client_id = _printed(_add(capsys, trust, *CONFIDENTIAL), "client_id")
    run = cltd(capsys, "--data-dir", trust, "clients", "disable", str(client_id))
    assert run.code == 0, run.err
    assert f"Disabled {client_id}" in run.out
    [row] = _clients(trust)
    assert row[7] is not None
    assert "client.disabled" in _audit(trust)
    again = cltd(capsys, "--data-dir", trust, "clients", "disable", str(client_id))
    assert "There is no such application." in again.assert_one_error_line()


def test_disable_an_unknown_client_is_one_line(
    capsys: pytest.CaptureFixture[str], trust: Path
) -> None:
    audit = _audit(trust)
    run = cltd(capsys, "--data-dir", trust, "clients", "disable", "no-such-client")
    assert run.assert_one_error_line() == ("cltd: error: There is no such application. (client_id)")
    assert _audit(trust) == audit


BAD = [
    # (what is wrong, the arguments after --name and --organisation, words of the one line)
    (
        "unknown type",
        ("--type", "secretive", "--redirect-uri", REDIRECT, "--grant", "authorization_code"),
        "either public or confidential",
    ),
    (
        "plain http",
        (
            "--type",
            "confidential",
            "--redirect-uri",
            "http://seeds.example.org/cb",
            "--grant",
            "authorization_code",
        ),
        "is not a redirect address",
    ),
    (
        "no redirect for code",
        ("--type", "confidential", "--grant", "authorization_code"),
        "at least one redirect address",
    ),
    (
        "unknown scope",
        (
            "--type",
            "confidential",
            "--redirect-uri",
            REDIRECT,
            "--scope",
            "everything",
            "--grant",
            "authorization_code",
        ),
        "“everything” is not a scope",
    ),
    (
        "unknown grant",
        ("--type", "confidential", "--grant", "password"),
        "“password” is not a grant type",
    ),
    (
        "public with credentials",
        ("--type", "public", "--grant", "client_credentials"),
        "cannot keep a secret",
    ),
    ("no grant", ("--type", "confidential", "--redirect-uri", REDIRECT), "--grant"),
    ("no type", ("--redirect-uri", REDIRECT, "--grant", "authorization_code"), "--type"),
    (
        "unknown option",
        ("--type", "public", "--grant", "authorization_code", "--colour", "red"),
        "--colour",
    ),
]


@pytest.mark.parametrize(
    ("args", "words"), [case[1:] for case in BAD], ids=[case[0] for case in BAD]
)
def test_bad_input_is_one_line_exit_2_and_nothing_saved(
    capsys: pytest.CaptureFixture[str], trust: Path, args: tuple[str, ...], words: str
) -> None:
    audit = _audit(trust)
    run = _add(capsys, trust, *args)
    line = run.assert_one_error_line()
    assert line.startswith("cltd: error: ") and words in line, line
    assert run.out == ""
    assert _clients(trust) == []
    assert _audit(trust) == audit


def test_a_blank_name_is_refused(capsys: pytest.CaptureFixture[str], trust: Path) -> None:
    run = cltd(
        capsys,
        "--data-dir",
        trust,
        "clients",
        "add",
        "--name",
        "  ",
        "--organisation",
        "O",
        "--type",
        "public",
        "--grant",
        "refresh_token",
    )
    assert "needs a name" in run.assert_one_error_line()
    assert _clients(trust) == []


@pytest.mark.parametrize("command", ["add", "list", "disable"])
def test_help_describes_each_command(capsys: pytest.CaptureFixture[str], command: str) -> None:
    run = cltd(capsys, "clients", command, "--help")
    assert run.code == 0 and run.out.startswith(f"Usage: cltd clients {command}")
