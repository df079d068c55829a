"""The package: a fast CLI that does not import textual, shipped themes/profiles, layering."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from jaraba_tui import __version__
from tests.labutil import REPO
from tests.probes import imported_after

PKG = REPO / "jaraba_tui"


def test_version_flag_prints_the_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "jaraba_tui", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == f"jaraba-ops {__version__}"


def test_help_does_not_import_textual_or_network_libraries() -> None:
    heavy, printed = imported_after(
        "from jaraba_tui.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n",
        ("textual", "asyncssh", "pymysql", "redis", "httpx", "jaraba_tui.profile"),
    )
    assert "usage: jaraba-ops" in printed
    assert heavy == []


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_ui_package_imports_textual() -> None:
    offenders = [
        str(p.relative_to(REPO))
        for p in PKG.rglob("*.py")
        if "ui" not in p.relative_to(PKG).parts[:1] and "textual" in _imports(p)
    ]
    assert offenders == []


def test_the_layering_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "mod.py"
    bad.write_text("from textual.app import App\n")
    assert "textual" in _imports(bad)


@pytest.mark.slow
def test_a_built_wheel_carries_themes_and_profiles(tmp_path: Path) -> None:
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr
    wheel = next(tmp_path.glob("jaraba_ops-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    shipped_themes = sorted(p.name for p in (REPO / "themes").glob("*.toml"))
    shipped_profiles = sorted(p.name for p in (REPO / "profiles").glob("*.toml"))
    assert shipped_themes and shipped_profiles
    for name in shipped_themes:
        assert f"jaraba_tui/_data/themes/{name}" in names
    for name in shipped_profiles:
        assert f"jaraba_tui/_data/profiles/{name}" in names
    assert "jaraba_tui/record/data/demo-incident.jsonl.gz" in names  # `jaraba-ops demo`
    # Installed (unpacked) without the repository next to it, it finds them.
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    probe = (
        "from jaraba_tui.resources import themes_dir, profiles_dir\n"
        "print(themes_dir()); print(profiles_dir())\n"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r})\n" + probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    themes, profiles = out.stdout.split()
    assert themes.startswith(str(target)) and profiles.startswith(str(target))
    assert sorted(p.name for p in Path(themes).glob("*.toml")) == shipped_themes
