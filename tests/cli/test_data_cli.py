"""`cltd assets create`, `cltd records import`, `cltd keys rotate`, `cltd members erase` and
`cltd worker --once` as a steward uses them (SQLite trust in tmp_path).

Bad input is exit 2 with exactly one line on stderr, naming the file and, for a bad row, its
line number; and nothing is written: an import is all rows or none (records, data keys and
audit entries counted before and after).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.support import Run, cltd, execute, query

PASSWORD = "correct horse battery staple"
ANA, BEN = "ana@example.org", "ben@example.org"

ASSET_TOML = """\
slug = "housing-survey"
keywords = ["housing", "damp"]
fields = [
  { name = "street", type = "text", required = true },
  { name = "damp", type = "boolean" },
  { name = "rooms", type = "integer" },
]

[title]
en = "Housing survey"
es = "Encuesta de vivienda"

[description]
en = "Damp and repairs, street by street."

[policy]
permitted = { public-benefit = ["street", "damp"], research-and-development = ["damp", "rooms"] }
prohibited = ["commercial-research"]
duties = ["attribution"]
"""


def _run(capsys: pytest.CaptureFixture[str], trust: Path, *args: str | Path) -> Run:
    return cltd(capsys, "--data-dir", trust, *args)


def _count(trust: Path, table: str) -> int:
    return int(query(trust, f"SELECT count(*) FROM {table}")[0][0])


def _state(trust: Path) -> tuple[int, ...]:
    """What an import may write: records, data keys, audit entries, assets."""
    return tuple(_count(trust, t) for t in ("records", "member_keys", "audit_entries", "assets"))


@pytest.fixture
def stocked(trust: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A trust with two members and the housing-survey asset."""
    for email, name in ((ANA, "Ana"), (BEN, "Ben")):
        added = _run(
            capsys,
            trust,
            "members",
            "add",
            "--email",
            email,
            "--name",
            name,
            "--class",
            "contributor",
            "--password",
            PASSWORD,
        )
        assert added.code == 0, added.err
    spec = tmp_path / "asset.toml"
    spec.write_text(ASSET_TOML, encoding="utf-8")
    created = _run(capsys, trust, "assets", "create", spec)
    assert created.code == 0, created.err
    return trust


def _refused(run: Run) -> str:
    """Exit 2, no traceback, and the error as the last line on stderr (which must be the only
    line: that is checked once, in test_a_refused_import_is_one_line_on_stderr, so that one
    stray progress line does not hide what every other case proves)."""
    assert run.code == 2, (run.code, run.out, run.err)
    assert "Traceback" not in run.err + run.out
    assert run.err_lines and run.err.endswith("\n")
    line = run.err_lines[-1]
    assert line.startswith("cltd: error: "), run.err
    return line


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- assets create -----------------------------------------------------------------------------


def test_assets_create_from_toml(
    trust: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _write(tmp_path, "asset.toml", ASSET_TOML)
    run = _run(capsys, trust, "assets", "create", spec)
    assert run.code == 0, run.err
    assert run.err == ""
    assert "Created asset 1 (housing-survey)" in run.out
    [(slug, title, fields, policy, locked)] = query(
        trust, "SELECT slug, title, fields, policy, locked FROM assets"
    )
    assert slug == "housing-survey" and json.loads(str(title))["es"] == "Encuesta de vivienda"
    assert [f["name"] for f in json.loads(str(fields))] == ["street", "damp", "rooms"]
    assert json.loads(str(policy))["permitted"]["public-benefit"] == ["damp", "street"]
    assert locked == 1
    listed = _run(capsys, trust, "assets", "list")
    assert listed.code == 0 and "housing-survey" in listed.out and "locked" in listed.out


BAD_ASSETS = {
    "not-toml": ('slug = "x"\ntitle = {en = ', "asset.toml"),
    "bad-slug": (ASSET_TOML.replace('"housing-survey"', '"Housing Survey!"'), "asset.toml"),
    "unknown-purpose": (ASSET_TOML.replace("commercial-research", "mind-reading"), "asset.toml"),
    "bylaws-prohibit": (ASSET_TOML.replace("public-benefit =", "marketing ="), "asset.toml"),
    "unknown-field-type": (ASSET_TOML.replace('"integer"', '"colour"'), "asset.toml"),
    "policy-names-no-field": (ASSET_TOML.replace('["damp", "rooms"]', '["age"]'), "asset.toml"),
    "policy-not-a-table": ('slug = "abc"\ntitle = {en = "A"}\npolicy = [1, 2]\n', "asset.toml"),
    "title-not-a-table": ('slug = "abc"\ntitle = "A"\n', "asset.toml"),
    "fields-not-a-list": ('slug = "abc"\ntitle = {en = "A"}\nfields = "street"\n', "asset.toml"),
    "json-not-an-object": ("[1, 2, 3]", "asset.json"),
    "not-utf8": (None, "asset.toml"),
}


@pytest.mark.parametrize("case", sorted(BAD_ASSETS))
def test_assets_create_refuses_a_bad_file_in_one_line(
    case: str, trust: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, name = BAD_ASSETS[case]
    spec = tmp_path / name
    if text is None:
        spec.write_bytes(b'slug = "caf\xe9"\n')
    else:
        spec.write_text(text, encoding="utf-8")
    before = _state(trust)
    line = _run(capsys, trust, "assets", "create", spec).assert_one_error_line(2)
    assert line.startswith("cltd: error: ")
    assert _state(trust) == before, "a refused asset left something behind"


def test_assets_create_of_a_missing_file_and_a_taken_slug(
    trust: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(capsys, trust, "assets", "create", tmp_path / "nowhere.toml").assert_one_error_line(2)
    spec = _write(tmp_path, "asset.toml", ASSET_TOML)
    assert _run(capsys, trust, "assets", "create", spec).code == 0
    before = _state(trust)
    _run(capsys, trust, "assets", "create", spec).assert_one_error_line(2)
    assert _state(trust) == before


# --- records import ----------------------------------------------------------------------------

GOOD_CSV = f"""\
contributor,street,damp,rooms
{ANA},Mill Lane,yes,3
{BEN},Quay Street,false,
{ANA.upper()},"Rue de l’Église, 4",true,2
"""


def test_import_csv_then_jsonl(
    stocked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _run(
        capsys, stocked, "records", "import", "housing-survey", _write(tmp_path, "a.csv", GOOD_CSV)
    )
    assert run.code == 0, run.err
    assert "Imported 3 records into housing-survey." in run.out
    assert "Traceback" not in run.err
    assert _count(stocked, "records") == 3 and _count(stocked, "member_keys") == 2

    jsonl = "\n".join(
        json.dumps(row)
        for row in (
            {"contributor": BEN, "values": {"street": "Tan Yard", "damp": True, "rooms": 1}},
            {"contributor": ANA, "values": {"street": "Rope Walk"}},
        )
    )
    run = _run(
        capsys,
        stocked,
        "records",
        "import",
        "housing-survey",
        _write(tmp_path, "b.jsonl", jsonl + "\n\n"),
    )
    assert run.code == 0, run.err
    assert "Imported 2 records" in run.out
    assert _count(stocked, "records") == 5 and _count(stocked, "member_keys") == 2
    # Sealed: the plaintext is nowhere in the stored rows.
    blobs = b"".join(bytes(r[0]) for r in query(stocked, "SELECT ciphertext FROM records"))
    assert b"Mill Lane" not in blobs and b"Tan Yard" not in blobs
    actions = [r[0] for r in query(stocked, "SELECT action FROM audit_entries")]
    assert actions.count("records.imported") == 2
    assert _run(capsys, stocked, "audit", "verify").code == 0


HEADER = "contributor,street,damp,rooms\n"
GOOD_ROWS = f"{ANA},Mill Lane,yes,3\n{BEN},Quay Street,no,1\n"  # lines 2 and 3
BAD_CSV = {
    # case: (file text, line named, words the message must hold)
    "unknown-contributor": (HEADER + GOOD_ROWS + "zoe@example.org,Tan Yard,,\n", 4, "zoe@"),
    "wrong-type": (HEADER + GOOD_ROWS + f"{BEN},Tan Yard,maybe,2\n", 4, "damp"),
    "wrong-integer": (HEADER + GOOD_ROWS + f"{BEN},Tan Yard,no,many\n", 4, "rooms"),
    "missing-required": (HEADER + GOOD_ROWS + f"{BEN},,no,2\n", 4, "street"),
    "unknown-column": ("contributor,street,colour\n" + f"{ANA},Mill Lane,red\n", 2, "colour"),
    "more-values-than-columns": (HEADER + GOOD_ROWS + f"{BEN},Tan Yard,no,2,extra\n", 4, ""),
    "contributor-left-out": (HEADER + GOOD_ROWS + ",Tan Yard,no,2\n", 4, ""),
}


@pytest.mark.parametrize("case", sorted(BAD_CSV))
def test_a_bad_csv_row_imports_nothing_and_names_its_line(
    case: str, stocked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, line_no, words = BAD_CSV[case]
    path = _write(tmp_path, "rows.csv", text)
    before = _state(stocked)
    line = _refused(_run(capsys, stocked, "records", "import", "housing-survey", path))
    assert f"rows.csv, line {line_no}:" in line, line
    assert words in line
    assert _state(stocked) == before, "a refused import wrote something"


BAD_JSONL = {
    "not-json": (f'{{"contributor": "{ANA}", "values": {{"street": "A"}}}}\n{{oops\n', 2, "JSON"),
    "not-an-object": (f'{{"contributor": "{ANA}", "values": {{"street": "A"}}}}\n[1, 2]\n', 2, ""),
    "values-not-an-object": (
        f'{{"contributor": "{ANA}", "values": {{"street": "A"}}}}\n'
        f'{{"contributor": "{BEN}", "values": "Quay"}}\n',
        2,
        "",
    ),
    "unknown-contributor": (
        f'{{"contributor": "{ANA}", "values": {{"street": "A"}}}}\n\n'
        '{"contributor": "nobody@example.org", "values": {"street": "B"}}\n',
        3,
        "nobody@",
    ),
    "unknown-field": (
        f'{{"contributor": "{ANA}", "values": {{"street": "A", "colour": "red"}}}}\n',
        1,
        "colour",
    ),
    "wrong-type": (
        f'{{"contributor": "{ANA}", "values": {{"street": "A"}}}}\n'
        f'{{"contributor": "{BEN}", "values": {{"street": "B", "rooms": 2.5}}}}\n',
        2,
        "rooms",
    ),
    "missing-required": (
        f'{{"contributor": "{ANA}", "values": {{"street": "A"}}}}\n'
        f'{{"contributor": "{BEN}", "values": {{"damp": true}}}}\n',
        2,
        "street",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_JSONL))
def test_a_bad_jsonl_row_imports_nothing_and_names_its_line(
    case: str, stocked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, line_no, words = BAD_JSONL[case]
    path = _write(tmp_path, "rows.jsonl", text)
    before = _state(stocked)
    line = _refused(_run(capsys, stocked, "records", "import", "housing-survey", path))
    assert f"rows.jsonl, line {line_no}:" in line, line
    assert words in line
    assert _state(stocked) == before, "a refused import wrote something"


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("no-contributor.csv", "street,damp\nMill Lane,yes\n", "first line"),
        ("empty.csv", "", "first line"),
        ("latin1.csv", None, "rows.csv"),
        ("other-asset.csv", HEADER + GOOD_ROWS, "no asset"),
    ],
)
def test_a_bad_file_or_asset_imports_nothing(
    name: str,
    content: str | None,
    words: str,
    stocked: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / ("rows.csv" if content is None else name)
    if content is None:
        path.write_bytes(HEADER.encode() + f"{ANA},Caf\xe9,yes,1\n".encode("latin-1"))
    else:
        path.write_text(content, encoding="utf-8")
    slug = "no-such-asset" if name.startswith("other-asset") else "housing-survey"
    before = _state(stocked)
    line = _refused(_run(capsys, stocked, "records", "import", slug, path))
    assert words in line, line
    assert _state(stocked) == before


def test_a_refused_import_is_one_line_on_stderr(
    stocked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Invariant 8: exit 2 with one line saying what is wrong, and nothing else on stderr
    (no progress-bar label left in front of it when stderr is not a terminal)."""
    path = _write(tmp_path, "rows.csv", BAD_CSV["unknown-contributor"][0])
    run = _run(capsys, stocked, "records", "import", "housing-survey", path)
    line = run.assert_one_error_line(2)
    assert "rows.csv, line 4:" in line


# --- keys rotate, members erase, worker --once ------------------------------------------------


def _imported(stocked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _run(
        capsys, stocked, "records", "import", "housing-survey", _write(tmp_path, "a.csv", GOOD_CSV)
    )
    assert run.code == 0, run.err


def test_keys_rotate(stocked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _imported(stocked, tmp_path, capsys)
    keys_before = dict(query(stocked, "SELECT member_id, wrapped_key FROM member_keys"))
    rows_before = query(stocked, "SELECT uid, nonce, ciphertext FROM records ORDER BY id")
    run = _run(capsys, stocked, "keys", "rotate")
    assert run.code == 0, run.err
    assert "Key-encryption key 2 now wraps 2 data keys." in run.out
    assert "Traceback" not in run.err
    assert {r[0] for r in query(stocked, "SELECT kek_id FROM member_keys")} == {2}
    keys_after = dict(query(stocked, "SELECT member_id, wrapped_key FROM member_keys"))
    assert keys_after.keys() == keys_before.keys()
    assert all(keys_after[m] != keys_before[m] for m in keys_before)
    assert query(stocked, "SELECT uid, nonce, ciphertext FROM records ORDER BY id") == rows_before
    assert (stocked / "keys" / "kek" / "0002.key").is_file()
    again = _run(capsys, stocked, "keys", "rotate")
    assert again.code == 0 and "Key-encryption key 3 now wraps 2 data keys." in again.out
    assert _run(capsys, stocked, "audit", "verify").code == 0


def test_members_erase(stocked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _imported(stocked, tmp_path, capsys)
    [(ana_id,)] = query(stocked, "SELECT id FROM members WHERE email = ?", ANA)
    run = _run(capsys, stocked, "members", "erase", ANA.upper(), "--yes")
    assert run.code == 0, run.err
    assert "2 records shredded" in run.out
    assert query(stocked, "SELECT count(*) FROM records WHERE contributor_id = ?", ana_id) == [(0,)]
    assert query(stocked, "SELECT count(*) FROM member_keys WHERE member_id = ?", ana_id) == [(0,)]
    assert _count(stocked, "records") == 1 and _count(stocked, "member_keys") == 1
    assert query(stocked, "SELECT status, password_hash FROM members WHERE id = ?", ana_id) == [
        ("left", None)
    ]
    erased = query(stocked, "SELECT subject FROM audit_entries WHERE action = 'member.erased'")
    assert erased == [(f"member:{ana_id}",)]
    assert _run(capsys, stocked, "audit", "verify").code == 0

    before = _state(stocked)
    unknown = _run(capsys, stocked, "members", "erase", "nobody@example.org", "--yes")
    assert "nobody@example.org" in unknown.assert_one_error_line(2)
    assert _state(stocked) == before


def test_worker_once_with_nothing_due(stocked: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _run(capsys, stocked, "worker", "--once")
    assert run.code == 0, run.err
    assert run.out == "" and run.err == ""


def test_worker_once_retries_an_unreachable_consumer(
    stocked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A due notice to a consumer that does not answer: tried once, kept for a later retry."""
    execute(
        stocked,
        "INSERT INTO outbox (kind, target, payload, status, attempts, next_attempt_at, created_at)"
        " VALUES ('revocation_notice', 'http://127.0.0.1:9/hook', ?, 'pending', 0,"
        " '2000-01-01 00:00:00.000000', '2000-01-01 00:00:00.000000')",
        json.dumps({"type": "ConsentWithdrawn"}),
    )
    run = _run(capsys, stocked, "worker", "--once")
    assert run.code == 0, run.err
    assert "1 jobs" in run.out
    [(status, attempts, error)] = query(stocked, "SELECT status, attempts, last_error FROM outbox")
    assert (status, attempts) == ("pending", 1) and "could not reach" in str(error)
    again = _run(capsys, stocked, "worker", "--once")
    assert again.code == 0 and again.out == ""  # not due again yet


def test_a_missing_kek_is_one_line_not_a_traceback(
    stocked: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The KEK that wraps the data keys is gone from the data directory (a bad restore, a
    deleted file): rotating, or importing for a member who has a key, says so in one line."""
    _imported(stocked, tmp_path, capsys)
    (stocked / "keys" / "kek" / "0001.key").unlink()
    before = _state(stocked)
    more = _write(tmp_path, "more.csv", HEADER + f"{ANA},Rope Walk,no,1\n")
    imported = _run(capsys, stocked, "records", "import", "housing-survey", more)
    assert "key" in imported.assert_one_error_line(None).lower()
    rotated = _run(capsys, stocked, "keys", "rotate")
    assert "key" in rotated.assert_one_error_line(None).lower()
    assert _state(stocked) == before
