"""`cltd` as a steward uses it: help, init, bylaws check, members, seats, serve's schema check.

Bad input is exit 2 with exactly one line on stderr and nothing written (invariant 8).
"""

from __future__ import annotations

import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from sqlalchemy import Engine

from cltd import __version__
from cltd.adapters import migrations
from cltd.adapters.keys import load_signing_key
from cltd.cli import cli
from cltd.config import load_settings
from cltd.db import make_engine
from cltd.rules.bylaws import load_bylaws
from cltd.services.audit import verify_chain
from tests.cli.support import Run, cltd, database_of, execute, member_emails, query

REPO = Path(__file__).resolve().parents[2]
BAD_BYLAWS = sorted(
    p
    for p in (REPO / "tests/fixtures/bylaws/bad").glob("*.toml")
    if not p.name.endswith(".purposes.toml")
)
PASSWORD = "a long first password"
CONSOLE_SCRIPT = Path(sys.executable).with_name("cltd")


def _all_commands(
    group: click.Group, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, group
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _all_commands(command, (*path, name))
        else:
            yield (*path, name), command


COMMANDS = list(_all_commands(cli))


def _engine(data_dir: Path) -> Engine:
    return make_engine(load_settings(data_dir, env={}).database_url)


# --- help -------------------------------------------------------------------------------------


def test_every_command_is_enumerated() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {
        "",
        "init",
        "serve",
        "demo",
        "bylaws check",
        "members add",
        "members list",
        "seats assign",
        "audit verify",
        "db upgrade",
    } <= names


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(p) or "cltd" for p, _ in COMMANDS]
)
def test_help_of_every_command(
    capsys: pytest.CaptureFixture[str], path: tuple[str, ...], command: click.Command
) -> None:
    description = command.get_short_help_str(limit=200).rstrip(".")
    assert description, f"`cltd {' '.join(path)}` has no description"
    run = cltd(capsys, *path, "--help")
    assert run.code == 0
    assert run.err == ""
    assert run.out.startswith("Usage: cltd")
    assert " ".join(run.out.split()).find(" ".join(description.split()[:4])) >= 0, run.out


def test_short_help_option(capsys: pytest.CaptureFixture[str]) -> None:
    run = cltd(capsys, "-h")
    assert run.code == 0 and "CLTD: a community data trust" in run.out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    run = cltd(capsys, "--version")
    assert run.code == 0
    assert __version__ in run.out


# --- init -------------------------------------------------------------------------------------


def test_init_creates_a_complete_trust(trust: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = trust / "config.toml"
    assert config.is_file()
    settings = load_settings(trust, env={})
    assert settings.trust_name == "CLI Test Trust"

    secret = trust / "secret_key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert len(secret.read_text().strip()) >= 32

    private_key = trust / "keys" / "trust-ed25519.pem"
    assert stat.S_IMODE(private_key.stat().st_mode) == 0o600
    load_signing_key(private_key)  # a real Ed25519 key

    load_bylaws(trust / "bylaws.toml")  # the trust's own copy, with its taxonomy beside it

    engine = _engine(trust)
    try:
        assert database_of(trust).is_file()
        assert migrations.current_revision(engine) == migrations.head_revision()
        with engine.connect() as connection:
            from sqlalchemy.orm import Session

            with Session(bind=connection) as session:
                report = verify_chain(session)
        assert report.ok and report.checked == 2  # founded, bylaws adopted
    finally:
        engine.dispose()
    actions = [row[0] for row in query(trust, "SELECT action FROM audit_entries ORDER BY seq")]
    assert actions == ["trust.initialised", "bylaws.adopted"]

    run = cltd(capsys, "--data-dir", trust, "audit", "verify")
    assert run.code == 0, run.err
    assert "2 entries" in run.out


def test_init_keeps_the_private_parts_private(trust: Path) -> None:
    """The database holds password hashes and session token hashes: not for other users.

    Fails today: `cltd init` creates the data directory 0755 and cltd.sqlite3 0644 (the
    umask's default), so any local user can copy the members table.
    """
    keys = trust / "keys"
    assert stat.S_IMODE(keys.stat().st_mode) & 0o077 == 0
    database = database_of(trust)
    dir_closed = stat.S_IMODE(trust.stat().st_mode) & 0o007 == 0
    database_closed = stat.S_IMODE(database.stat().st_mode) & 0o077 == 0
    assert dir_closed or database_closed, (
        f"data dir {oct(trust.stat().st_mode)} and database {oct(database.stat().st_mode)} "
        "are readable by every local user"
    )


def test_init_writes_a_name_with_quotes_that_reads_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = 'The "Quoted" \\ Trust'
    run = cltd(capsys, "--data-dir", tmp_path / "q", "init", "--name", name)
    assert run.code == 0, run.err
    assert load_settings(tmp_path / "q", env={}).trust_name == name


def test_init_twice_refuses_and_changes_nothing(
    trust: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = (trust / "secret_key").read_bytes()
    key = (trust / "keys" / "trust-ed25519.pem").read_bytes()
    entries = query(trust, "SELECT count(*) FROM audit_entries")
    run = cltd(capsys, "--data-dir", trust, "init")
    line = run.assert_one_error_line()
    assert str(trust) in line and "already holds a trust" in line
    assert (trust / "secret_key").read_bytes() == secret
    assert (trust / "keys" / "trust-ed25519.pem").read_bytes() == key
    assert query(trust, "SELECT count(*) FROM audit_entries") == entries


def test_init_with_a_bad_option_value_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = cltd(capsys, "--data-dir", tmp_path / "x", "init", "--locale", "de")
    run.assert_one_error_line()
    assert not (tmp_path / "x" / "secret_key").exists()


NOBODY_LISTENS = "postgresql://postgres@127.0.0.1:1/cltd"
TRUST_FILES = ("config.toml", "secret_key", "keys")


@pytest.mark.parametrize(
    "options",
    [
        ("--timezone", "Mars/Olympus"),
        ("--database-url", "mysql://somewhere/cltd"),
        ("--database-url", NOBODY_LISTENS),
    ],
    ids=["unknown time zone", "unsupported database", "unreachable database"],
)
def test_init_that_fails_leaves_no_half_made_trust(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: tuple[str, str]
) -> None:
    """A refused init must be retryable: nothing half-made that blocks the next attempt.

    Fails today: create_data_dir writes config.toml, secret_key and the keys before the
    settings are validated or the database is reached; the unreachable database even ends
    in a traceback. The next `cltd init` then says the directory "already holds a trust".
    """
    data_dir = tmp_path / "t"
    run = cltd(capsys, "--data-dir", data_dir, "init", *options)
    run.assert_one_error_line(code=None)
    left = [name for name in TRUST_FILES if (data_dir / name).exists()]
    assert left == [], f"a failed init left {left} behind"
    retry = cltd(capsys, "--data-dir", data_dir, "init")
    assert retry.code == 0, retry.err


@pytest.mark.parametrize(
    "args",
    [
        ("members", "list"),
        ("audit", "verify"),
        ("db", "current"),
        (
            "members",
            "add",
            "--email",
            "u@example.org",
            "--name",
            "U",
            "--class",
            "public",
            "--password",
            PASSWORD,
        ),
    ],
    ids=["members list", "audit verify", "db current", "members add"],
)
def test_an_unreachable_database_is_one_line_not_a_traceback(
    trust: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
) -> None:
    """Fails today: OperationalError escapes main() (the console script prints a traceback)."""
    monkeypatch.setenv("CLTD_DATABASE_URL", NOBODY_LISTENS)
    line = cltd(capsys, "--data-dir", trust, *args).assert_one_error_line(code=None)
    assert "database" in line.lower()


def test_a_command_without_a_trust_says_to_init(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = cltd(capsys, "--data-dir", tmp_path / "empty", "members", "list")
    line = run.assert_one_error_line()
    assert "cltd init" in line


# --- bylaws check -----------------------------------------------------------------------------


def test_bylaws_check_accepts_the_default_bylaws(capsys: pytest.CaptureFixture[str]) -> None:
    run = cltd(capsys, "bylaws", "check", REPO / "governance" / "bylaws.toml")
    assert run.code == 0, run.err
    assert "valid bylaws" in run.out
    assert run.err == ""


def test_there_are_bad_bylaws_fixtures() -> None:
    assert len(BAD_BYLAWS) >= 20


@pytest.mark.parametrize("path", BAD_BYLAWS, ids=[p.name for p in BAD_BYLAWS])
def test_bylaws_check_refuses_a_bad_file_in_one_line_naming_the_key(
    capsys: pytest.CaptureFixture[str], path: Path
) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect-key: "), f"{path.name} does not say which key is wrong"
    key = first.removeprefix("# expect-key: ").strip()
    run = cltd(capsys, "bylaws", "check", path)
    line = run.assert_one_error_line()
    assert path.name in line
    assert key in line
    assert run.out == ""


def test_bylaws_check_of_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no-such-bylaws.toml"
    line = cltd(capsys, "bylaws", "check", missing).assert_one_error_line()
    assert "no-such-bylaws.toml" in line


def test_bylaws_check_of_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cltd(capsys, "bylaws", "check", tmp_path).assert_one_error_line()


def test_bylaws_check_of_a_binary_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00\x01version = 1\n")
    line = cltd(capsys, "bylaws", "check", binary).assert_one_error_line()
    assert "binary.toml" in line


# --- members ----------------------------------------------------------------------------------


def _add(capsys: pytest.CaptureFixture[str], trust: Path, *extra: str, **values: str) -> Run:
    options = {
        "email": "ana@example.org",
        "name": "Ana Member",
        "class": "contributor",
        "password": PASSWORD,
        **values,
    }
    args: list[str | Path] = ["--data-dir", trust, "members", "add"]
    for key, value in options.items():
        args += [f"--{key}", value]
    return cltd(capsys, *args, *extra)


def test_members_add_then_list(trust: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _add(capsys, trust, email="Ana@Example.org")
    assert run.code == 0, run.err
    assert "Ana Member" in run.out
    steward = _add(
        capsys,
        trust,
        "--steward",
        email="sam@example.org",
        name="Sam Steward",
        **{"class": "public"},
    )
    assert steward.code == 0, steward.err
    assert member_emails(trust) == ["ana@example.org", "sam@example.org"]

    listed = cltd(capsys, "--data-dir", trust, "members", "list")
    assert listed.code == 0
    lines = listed.out.splitlines()
    ana = next(line for line in lines if "ana@example.org" in line)
    sam = next(line for line in lines if "sam@example.org" in line)
    assert "contributor" in ana and "Ana Member" in ana and "steward" not in ana
    assert "public" in sam and "steward" in sam
    actions = query(trust, "SELECT count(*) FROM audit_entries WHERE action = 'member.added'")
    assert actions == [(2,)]


def test_members_add_asks_for_the_password_when_not_given(trust: Path) -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(
        cli,
        [
            "--data-dir",
            str(trust),
            "members",
            "add",
            "--email",
            "p@example.org",
            "--name",
            "Prompted",
            "--class",
            "community",
        ],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # the prompt does not echo
    assert "p@example.org" in member_emails(trust)


@pytest.mark.parametrize(
    ("values", "names"),
    [
        ({"class": "landlords"}, "landlords"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "two@@example.org"}, "email"),
        ({"password": "short"}, "12"),
        ({"name": "   "}, "name"),
        ({"locale": "de"}, "language"),
    ],
)
def test_members_add_refuses_bad_values_in_one_line(
    trust: Path, capsys: pytest.CaptureFixture[str], values: dict[str, str], names: str
) -> None:
    entries = query(trust, "SELECT count(*) FROM audit_entries")
    line = _add(capsys, trust, **values).assert_one_error_line()
    assert names in line
    assert member_emails(trust) == []
    assert query(trust, "SELECT count(*) FROM audit_entries") == entries


def test_members_add_refuses_a_duplicate(trust: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _add(capsys, trust).code == 0
    entries = query(trust, "SELECT count(*) FROM audit_entries")
    line = _add(capsys, trust, email=" ANA@example.org ", name="Other Ana").assert_one_error_line()
    assert "already exists" in line
    assert member_emails(trust) == ["ana@example.org"]
    assert query(trust, "SELECT display_name FROM members") == [("Ana Member",)]
    assert query(trust, "SELECT count(*) FROM audit_entries") == entries


@pytest.mark.parametrize(
    "args",
    [
        ("members", "add", "--bogus"),
        ("members", "add", "--email", "x@example.org"),  # required options missing
        ("members", "frobnicate"),
        ("no-such-command",),
        ("seats", "assign", "a@example.org", "contributor", "one"),
    ],
    ids=[
        "unknown option",
        "missing options",
        "unknown subcommand",
        "unknown command",
        "not a number",
    ],
)
def test_usage_mistakes_are_one_line(
    trust: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    line = cltd(capsys, "--data-dir", trust, *args).assert_one_error_line()
    assert "--help" in line
    assert member_emails(trust) == []


# --- seats ------------------------------------------------------------------------------------


def test_seats_assign_to_a_member_of_the_class(
    trust: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _add(capsys, trust, **{"class": "community"}).code == 0
    run = cltd(capsys, "--data-dir", trust, "seats", "assign", "ana@example.org", "community", "2")
    assert run.code == 0, run.err
    listed = cltd(capsys, "--data-dir", trust, "members", "list").out
    assert "board" in next(line for line in listed.splitlines() if "ana@example.org" in line)
    assert query(trust, "SELECT member_class, number FROM seats") == [("community", 2)]


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (("ana@example.org", "public", "1"), "public"),  # Ana is a contributor
        (("ana@example.org", "contributor", "99"), "99"),
        (("ana@example.org", "contributor", "0"), "0"),
        (("ana@example.org", "landlords", "1"), "landlords"),
        (("nobody@example.org", "contributor", "1"), "nobody@example.org"),
    ],
    ids=["another class", "seat out of range", "seat zero", "unknown class", "unknown member"],
)
def test_seats_assign_refuses_in_one_line(
    trust: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], names: str
) -> None:
    assert _add(capsys, trust).code == 0
    entries = query(trust, "SELECT count(*) FROM audit_entries")
    line = cltd(capsys, "--data-dir", trust, "seats", "assign", *args).assert_one_error_line()
    assert names in line
    assert query(trust, "SELECT count(*) FROM seats") == [(0,)]
    assert query(trust, "SELECT count(*) FROM audit_entries") == entries


# --- serve refuses a database that is not up to date -------------------------------------------


@pytest.fixture
def no_servers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record instead of serving, so a missing check cannot hang the test run."""
    import flask

    import cltd.cli.gunicorn

    started: list[str] = []
    monkeypatch.setattr(
        cltd.cli.gunicorn, "serve_with_gunicorn", lambda *a, **k: started.append("gunicorn")
    )
    monkeypatch.setattr(flask.Flask, "run", lambda *a, **k: started.append("flask"))
    return started


@pytest.mark.parametrize("extra", [(), ("--dev",)], ids=["gunicorn", "dev"])
def test_serve_refuses_an_old_schema_until_db_upgrade(
    trust: Path,
    capsys: pytest.CaptureFixture[str],
    no_servers: list[str],
    extra: tuple[str, ...],
) -> None:
    execute(trust, "DELETE FROM alembic_version")
    line = cltd(capsys, "--data-dir", trust, "serve", *extra).assert_one_error_line()
    assert "cltd db upgrade" in line
    assert no_servers == []

    execute(
        trust, "INSERT INTO alembic_version (version_num) VALUES (?)", migrations.head_revision()
    )
    run = cltd(capsys, "--data-dir", trust, "serve", "--port", "8999", *extra)
    assert run.code == 0, run.err
    assert no_servers == ["flask" if extra else "gunicorn"]


def test_serve_refuses_an_empty_database(
    trust: Path, capsys: pytest.CaptureFixture[str], no_servers: list[str]
) -> None:
    database_of(trust).unlink()
    for suffix in ("-wal", "-shm"):
        database_of(trust).with_name(database_of(trust).name + suffix).unlink(missing_ok=True)
    cltd(capsys, "--data-dir", trust, "serve").assert_one_error_line()
    assert no_servers == []
    upgrade = cltd(capsys, "--data-dir", trust, "db", "upgrade")
    assert upgrade.code == 0, upgrade.err
    current = cltd(capsys, "--data-dir", trust, "db", "current")
    assert current.out.count(str(migrations.head_revision())) == 2


# --- demo -------------------------------------------------------------------------------------


def test_demo_sets_up_a_trust_once_and_reuses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_servers: list[str]
) -> None:
    first = cltd(capsys, "demo", "--no-serve")
    assert first.code == 0, first.err
    demo_dir = tmp_path / "cltd-demo"  # the working directory's ./cltd-demo
    assert (demo_dir / "secret_key").is_file()
    assert "steward@" in first.out
    members = member_emails(demo_dir)
    entries = query(demo_dir, "SELECT count(*) FROM audit_entries")
    assert len(members) >= 3

    again = cltd(capsys, "demo", "--no-serve")
    assert again.code == 0, again.err
    assert member_emails(demo_dir) == members
    assert query(demo_dir, "SELECT count(*) FROM audit_entries") == entries
    assert cltd(capsys, "--data-dir", demo_dir, "audit", "verify").code == 0
    assert no_servers == []


# --- the installed console script --------------------------------------------------------------


def test_console_script_exit_codes(trust: Path) -> None:
    """The real `cltd` process: 0 on success, 2 on bad input, one line on stderr."""
    assert CONSOLE_SCRIPT.is_file(), "the venv has no cltd console script (pip install -e .)"
    ok = subprocess.run(
        [str(CONSOLE_SCRIPT), "--data-dir", str(trust), "members", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run(
        [str(CONSOLE_SCRIPT), "bylaws", "check", str(trust / "nope.toml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    assert len(bad.stderr.splitlines()) == 1
