"""The install fingerprint and step records behind the nox/tox skip path (real files)."""

from __future__ import annotations

import os
from pathlib import Path

from ghostenv.integrate.stamp import EnvState, fingerprint, installed


def _project(root: Path) -> Path:
    (root / "proj" / "src").mkdir(parents=True)
    (root / "proj" / "pyproject.toml").write_text("[project]\nname = 'p'\nversion = '1'\n")
    (root / "proj" / "src" / "p.py").write_text("X = 1\n")
    (root / "reqs.txt").write_text("alpha\n")
    return root


def test_fingerprint_follows_what_the_arguments_name(tmp_path: Path) -> None:
    root = _project(tmp_path)
    base = {
        "req": fingerprint(["alpha", "beta>=1"], cwd=root),
        "file": fingerprint(["-r", "reqs.txt"], cwd=root),
        "editable": fingerprint(["-e", "./proj"], cwd=root),
        "local": fingerprint(["./proj"], cwd=root),
    }
    assert len(set(base.values())) == 4
    assert fingerprint(["alpha", "beta>=1"], cwd=root) == base["req"]
    assert fingerprint(["alpha", "beta>=1"], cwd=root, extra={"index": "x"}) != base["req"]

    (root / "unrelated.txt").write_text("x")
    assert fingerprint(["-r", "reqs.txt"], cwd=root) == base["file"]
    (root / "reqs.txt").write_text("alpha\ngamma\n")
    assert fingerprint(["-r", "reqs.txt"], cwd=root) != base["file"]

    # Editable: code edits do not matter (it is linked), metadata edits do.
    source = root / "proj" / "src" / "p.py"
    source.write_text("X = 2\n")
    later = os.stat(source).st_mtime_ns + 10_000_000_000
    os.utime(source, ns=(later, later))
    assert fingerprint(["-e", "./proj"], cwd=root) == base["editable"]
    assert fingerprint(["./proj"], cwd=root) != base["local"]  # a copy: code edits matter
    (root / "proj" / "pyproject.toml").write_text("[project]\nname = 'p'\nversion = '2'\n")
    assert fingerprint(["-e", "./proj"], cwd=root) != base["editable"]


def test_step_is_fresh_only_while_its_results_are_installed(tmp_path: Path) -> None:
    env = tmp_path / "env"
    site = env / "lib" / "python3.12" / "site-packages"
    site.mkdir(parents=True)
    (site / "alpha-1.0.dist-info").mkdir()
    before = installed(env)
    (site / "beta-2.0.dist-info").mkdir()
    (site / "Gamma_X-3.0.dist-info").mkdir()
    after = installed(env)
    assert after == {"alpha": "1.0", "beta": "2.0", "gamma-x": "3.0"}

    state = EnvState(env)
    state.record("install#0", "fp", before, after)
    again = EnvState(env)  # read back from disk
    assert again.fresh("install#0", "fp")
    assert not again.fresh("install#0", "other")
    assert not again.fresh("install#1", "fp")
    assert again.owned("install") == {"beta", "gamma-x"}
    (site / "beta-2.0.dist-info").rename(site / "beta-2.1.dist-info")
    assert not again.fresh("install#0", "fp")


def test_event_log_stays_bounded(tmp_path: Path) -> None:
    from ghostenv.integrate import stamp

    state = EnvState(tmp_path)
    for i in range(stamp.LOG_LIMIT // 40):
        state.log("install", n=i, pad="x" * 20)
    events = stamp.read_events(tmp_path)
    assert (tmp_path / ".ghostenv" / "events.jsonl").stat().st_size <= stamp.LOG_LIMIT
    assert events[-1]["n"] == stamp.LOG_LIMIT // 40 - 1
    assert [e["n"] for e in events] == list(range(events[0]["n"], events[-1]["n"] + 1))


def test_local_archives_count_by_name_and_content_not_path(tmp_path: Path) -> None:
    one, two = tmp_path / "1", tmp_path / "2"
    for folder in (one, two):
        folder.mkdir()
        (folder / "demo-0.1.tar.gz").write_bytes(b"same bytes")
    first = fingerprint(["--no-deps", str(one / "demo-0.1.tar.gz")], cwd=tmp_path)
    assert fingerprint(["--no-deps", str(two / "demo-0.1.tar.gz")], cwd=tmp_path) == first
    (two / "demo-0.1.tar.gz").write_bytes(b"new bytes")
    assert fingerprint(["--no-deps", str(two / "demo-0.1.tar.gz")], cwd=tmp_path) != first


def test_a_rerun_step_keeps_owning_what_it_installed_before(tmp_path: Path) -> None:
    env = tmp_path / "env"
    site = env / "lib" / "python3.12" / "site-packages"
    site.mkdir(parents=True)
    state = EnvState(env)
    empty = installed(env)
    (site / "pytest-8.0.dist-info").mkdir()
    state.record("install#0", "fp1", empty, installed(env))
    before = installed(env)
    (site / "mock-5.0.dist-info").mkdir()  # the requirements file gained `mock`
    state.record("install#0", "fp2", before, installed(env))
    assert EnvState(env).owned("install") == {"pytest", "mock"}
    assert EnvState(env).fresh("install#0", "fp2")


def test_requested_names(tmp_path: Path) -> None:
    from ghostenv.integrate.stamp import requested_names

    root = _project(tmp_path)
    (root / "more.txt").write_text("# tools\nPy_Test>=8 ; python_version > '3'\n-c c.txt\n"
                                   "./proj\nmock  # inline comment\n")
    args = ["Alpha[x]==1", "-r", "more.txt", "-e", "./proj", "./proj", "-c", "reqs.txt",
            "--no-deps"]
    assert requested_names(args, cwd=root) == {"alpha", "py-test", "mock"}
