import tests.consent.test_races as r


def test_x(committed, bylaws, ring, tmp_path, monkeypatch):
    monkeypatch.setattr(r, "READERS", 12)
    monkeypatch.setattr(r, "ROUNDS", 8)
    r.test_api_reads_racing_a_withdrawal_neither_leak_nor_fail(committed, bylaws, ring, tmp_path)
