"""The Python sandbox: time, memory and output limits, no network, scratch-only writes."""

from __future__ import annotations

import pytest

from hubkit.agents.sandbox import PythonSandbox


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    return PythonSandbox(tmp_path_factory.mktemp("scratch"), time_s=1, memory_mb=256,
                         output_bytes=2000)


def test_runs_code_in_the_scratch_folder(box):
    r = box.run("open('out.txt', 'w').write('hi'); import os; print(os.getcwd())")
    assert r.returncode == 0 and r.stdout.strip() == str(box.scratch)
    assert (box.scratch / "out.txt").read_text() == "hi"


def test_time_limit_stops_an_endless_loop(box):
    r = box.run("while True:\n    pass")
    assert r.timed_out and r.returncode != 0 and "timed out" in r.summary()


def test_memory_limit_refuses_a_big_allocation(box):
    r = box.run("x = bytearray(1024 * 2**20)\nprint('allocated')")
    assert r.memory_exceeded and "allocated" not in r.stdout


def test_output_limit_cuts_stdout(box):
    r = box.run("print('y' * 100_000)")
    assert r.output_truncated and len(r.stdout) <= 2000


@pytest.mark.parametrize("code, refused", [
    ("import socket; socket.socket(socket.AF_INET).connect(('1.1.1.1', 80))", "network"),
    ("open('/tmp/hubkit-sandbox-escape.txt', 'w')", "outside"),
    ("print(open('/etc/hostname').read())", "outside"),
    ("import subprocess; subprocess.run(['ls'])", "subprocess.Popen"),
    ("import os; os.system('ls')", "os.system"),
    ("import ctypes; ctypes.CDLL(None)", "ctypes.dlopen"),
])
def test_refuses_network_paths_outside_and_processes(box, code, refused):
    r = box.run(code)
    assert r.returncode != 0 and "refused in the sandbox" in r.stderr and refused in r.stderr


def test_reports_what_the_kernel_enforced(box):
    assert box.enforced["memory"] == "RLIMIT_AS"
    assert box.enforced["network"] in ("namespace", "audit hook (Python-level)")


def test_host_cannot_write_outside_the_scratch_folder_either(box):
    from hubkit.agents.toolbox import PathRefused

    with pytest.raises(PathRefused):
        box.write("../elsewhere.py", "x = 1")


def test_wall_clock_limit_stops_a_sleeping_program(tmp_path):
    box = PythonSandbox(tmp_path, time_s=5, wall_s=1)
    r = box.run("import time\ntime.sleep(30)\nprint('woke')")
    assert r.timed_out and "woke" not in r.stdout
