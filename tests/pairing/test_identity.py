"""Who an action is attributed to (and so what the other engineers' consoles show) comes
from the OS, not from variables anyone can set: $USER/$LOGNAME are ignored, $SUDO_USER is
believed only from a root process (sudo sets it there; root could write anything anyway).
"""

from __future__ import annotations

import json
import os
import pwd

import pytest

from jaraba_tui.actions.audit import Who, login_name


def test_the_login_is_the_real_uids_passwd_name_not_user() -> None:
    who = Who.current({"USER": "alice", "LOGNAME": "alice", "USERNAME": "alice"})
    assert who.user == pwd.getpwuid(os.getuid()).pw_name
    assert who.uid == os.getuid()


def test_sudo_user_counts_only_for_root() -> None:
    env = {"SUDO_USER": "alice", "USER": "alice"}
    assert Who.current(env, uid=0).name == "alice"
    assert Who.current(env, uid=0).label.startswith("root (sudo by alice)")
    ordinary = Who.current(env, uid=4242)
    assert ordinary.sudo_user is None
    assert ordinary.name == login_name(4242) != "alice"


def test_names_and_addresses_cannot_carry_terminal_escapes() -> None:
    who = Who.current({"SUDO_USER": "al\x1b[2Jice", "SSH_CLIENT": "\x1b]0;x 1 22"}, uid=0)
    assert who.sudo_user == "al?[2Jice"
    assert who.ssh_client is None  # not an address: not shown
    assert Who.current({"SSH_CLIENT": "2001:db8::7 5 22"}).ssh_client == "2001:db8::7"


def test_login_name_without_a_passwd_entry() -> None:
    uid = 54321
    while True:
        try:
            pwd.getpwuid(uid)
        except KeyError:
            break
        uid += 1
    assert login_name(uid) == f"uid{uid}"


def test_an_ordinary_user_cannot_pass_for_another_through_the_environment() -> None:
    """A real process of another uid (forked, then setuid to nobody: root's own Python is
    not readable by other users here), with USER/LOGNAME/SUDO_USER all saying "alice", is
    recorded as the OS's name for its uid."""
    if os.getuid() != 0:
        pytest.skip("needs root to run a process as another uid")
    nobody = pwd.getpwnam("nobody")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: become nobody, then ask who we are
        code = 1
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            env = {"USER": "alice", "LOGNAME": "alice", "SUDO_USER": "alice"}
            os.environ.update(env)
            w = Who.current()
            os.write(write_end, json.dumps([w.user, w.sudo_user, w.name, w.uid]).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert json.loads(data) == ["nobody", None, "nobody", nobody.pw_uid]
