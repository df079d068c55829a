"""A corpus of broken profiles: each gives one ProfileError naming the right key, never a
traceback, never a secret value.

Each file in ``bad/`` starts with comment lines read by this test:
``# expect: KEY`` (the dotted key of the first problem; empty = the whole file),
``# secret: VALUE`` (must not appear in the message), ``# env: NAME=VALUE``, ``# unset: NAME``.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pytest

from jaraba_tui import profile_check
from jaraba_tui.profile import ProfileError, load_profile

BAD = Path(__file__).parent / "bad"
CORPUS = sorted(BAD.glob("*.toml"))


def header(path: Path) -> dict[str, list[str]]:
    meta: dict[str, list[str]] = {}
    for line in path.read_bytes().decode("utf-8", "replace").splitlines():
        if not line.startswith("# ") or ":" not in line:
            break
        name, _, value = line[2:].partition(":")
        meta.setdefault(name.strip(), []).append(value.strip())
    return meta


@pytest.fixture
def corpus_env(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Path:
    path: Path = request.param
    meta = header(path)
    for item in meta.get("env", []):
        name, _, value = item.partition("=")
        monkeypatch.setenv(name, value)
    for name in meta.get("unset", []):
        monkeypatch.delenv(name, raising=False)
    # Secrets the corpus refers to legitimately are set, so that only the planted problem fails.
    for name in ("REDIS_PASSWORD", "MYSQL_ROOT_PASSWORD", "X"):
        monkeypatch.setenv(name, "corpus-placeholder")
    return path


def test_the_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 40
    assert all("expect" in header(p) for p in CORPUS), "every bad profile declares its key"


@pytest.mark.parametrize("corpus_env", CORPUS, ids=[p.stem for p in CORPUS], indirect=True)
def test_bad_profile_names_the_key(corpus_env: Path) -> None:
    path = corpus_env
    meta = header(path)
    expected = meta["expect"][0]
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    exc = info.value
    message = str(exc)
    assert exc.path == path
    assert exc.key == expected, message
    assert str(path) in message
    if expected:
        assert expected in message
    assert exc.fix, "every problem comes with a fix"
    assert "fix:" in message
    assert "Traceback" not in message
    for secret in meta.get("secret", []):
        assert secret not in message
        assert secret not in repr(exc)


@pytest.mark.parametrize("corpus_env", CORPUS, ids=[p.stem for p in CORPUS], indirect=True)
def test_profile_check_exits_2_without_traceback(corpus_env: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = profile_check.main([str(corpus_env)])
    assert code == 2
    assert "Traceback" not in out.getvalue() + err.getvalue()
    assert str(corpus_env) in err.getvalue()
    for secret in header(corpus_env).get("secret", []):
        assert secret not in out.getvalue() + err.getvalue()


@pytest.mark.parametrize(
    "name", ["literal_password", "host_command_substitution", "bad_toml_syntax", "not_utf8"]
)
def test_a_real_process_prints_one_message_and_exits_2(name: str) -> None:
    path = BAD / f"{name}.toml"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from jaraba_tui import profile_check as m; sys.exit(m.main(sys.argv[1:]))",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    assert str(path) in done.stderr
    assert "hunter2" not in done.stderr


def test_missing_env_secret_names_file_key_and_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JARABA_TEST_UNSET_SECRET", raising=False)
    path = BAD / "missing_env_secret.toml"
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    message = str(info.value)
    assert "JARABA_TEST_UNSET_SECRET" in message
    assert "galera.nodes[0].password" in message
    assert "export JARABA_TEST_UNSET_SECRET" in info.value.fix


def test_toml_errors_give_line_and_column() -> None:
    with pytest.raises(ProfileError) as info:
        load_profile(BAD / "bad_toml_syntax.toml")
    assert "line" in str(info.value) and "column" in info.value.fix


def test_unknown_key_suggests_the_right_spelling() -> None:
    with pytest.raises(ProfileError) as info:
        load_profile(BAD / "typo_in_ssh_host.toml")
    assert "did you mean 'user'" in info.value.fix


def test_unknown_ssh_reference_names_both_sides() -> None:
    with pytest.raises(ProfileError) as info:
        load_profile(BAD / "unknown_via.toml")
    message = str(info.value)
    assert "galera.nodes[0].via" in message and '"db9"' in message and "lab" in message


def test_several_problems_are_all_listed(tmp_path: Path) -> None:
    path = tmp_path / "many.toml"
    path.write_text(
        'name = "x"\nenvironment = "lab"\ncolour = 1\n[proxysql]\nhost = "a b"\nport = 0\n'
    )
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    keys = [issue.key for issue in info.value.issues]
    assert keys == ["colour", "proxysql.host", "proxysql.port"] or set(keys) == {
        "colour",
        "proxysql.host",
        "proxysql.port",
    }
    assert "3 problems" in str(info.value)
