"""AUTH_PROVIDER_CONCURRENCY's slots are shared by every process of the host."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from auth_service.providers import slots

HOLD = textwrap.dedent("""
    import sys
    from auth_service.providers import slots
    with slots.slot(sys.argv[1], int(sys.argv[2])) as held:
        print("held" if held else "full", flush=True)
        sys.stdin.read()  # until the test closes stdin
""")


def holder(folder, limit: int) -> subprocess.Popen:
    """Another process (a gunicorn worker) holding a slot until its stdin closes."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(folder), str(limit)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


def release(process: subprocess.Popen) -> None:
    process.stdin.close()
    process.wait(timeout=10)


def test_a_slot_held_by_another_process_is_taken(tmp_path):
    other = holder(tmp_path, 1)
    try:
        with slots.slot(tmp_path, 1) as held:
            assert not held
        with slots.slot(tmp_path, 2) as held:  # a second slot is still free
            assert held
    finally:
        release(other)
    with slots.slot(tmp_path, 1) as held:
        assert held


def test_a_process_that_dies_holding_a_slot_frees_it(tmp_path):
    other = holder(tmp_path, 1)
    other.kill()
    other.wait(timeout=10)
    with slots.slot(tmp_path, 1) as held:
        assert held


def test_slots_count_within_one_process_too(tmp_path):
    # The development server and a threaded worker run sign-ins side by side.
    with slots.slot(tmp_path, 2) as first, slots.slot(tmp_path, 2) as second:
        assert first and second
        with slots.slot(tmp_path, 2) as third:
            assert not third
    with slots.slot(tmp_path, 2) as again:
        assert again


def test_zero_means_no_cap(tmp_path):
    folder = tmp_path / "never-made"
    with slots.slot(folder, 0) as a, slots.slot(folder, 0) as b:
        assert a and b
    assert not folder.exists()


def test_a_folder_that_cannot_hold_the_locks_lifts_the_cap(tmp_path, caplog):
    # A misconfigured instance folder must not stop every social sign-in.
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with caplog.at_level("WARNING"), slots.slot(blocker / "provider-slots", 1) as held:
        assert held
    assert "sign-ins are not capped" in caplog.text
