"""Escape attempts against the bwrap sandbox. Each test is one attempt; each must fail.

The attacker runs as the sandboxed command (or names paths to read_file/write_file); the
assertions check the host side: nothing reached, nothing read, nothing written, nothing left.
"""

import os
import socket
import subprocess
import threading
import time
from asyncio import run

import pytest
from inspect_ai.util import OutputLimitExceededError

pytestmark = pytest.mark.usefixtures("make_sandbox")


def sh(sb, script, **kw):
    return run(sb.exec(["sh", "-c", script], **kw))


def py(sb, code, **kw):
    return run(sb.exec(["python3", "-c", code], **kw))


@pytest.fixture
def tcp_listener():
    """A TCP server on the host's loopback that records whether anyone connected."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    srv.settimeout(0.2)
    hits = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
                hits.append(conn.recv(100))
                conn.close()
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield srv.getsockname()[1], hits
    stop.set()
    thread.join()
    srv.close()


# --- network ---------------------------------------------------------------------------------

def test_tcp_to_host_loopback_listener_is_refused(make_sandbox, tcp_listener):
    port, hits = tcp_listener
    r = py(make_sandbox(), f"import socket; s=socket.create_connection(('127.0.0.1',{port}),2); s.send(b'x')")
    assert r.returncode != 0 and "refused" in r.stderr.lower()
    time.sleep(0.3)
    assert hits == []


def test_udp_to_host_loopback_is_not_delivered(make_sandbox):
    host = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    host.bind(("127.0.0.1", 0))
    host.settimeout(0.5)
    port = host.getsockname()[1]
    py(make_sandbox(), f"import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'leak', "
                       f"('127.0.0.1', {port}))")
    with pytest.raises(TimeoutError):
        host.recvfrom(10)
    host.close()


def test_connection_to_outside_address_fails(make_sandbox):
    r = py(make_sandbox(), "import socket; socket.create_connection(('1.1.1.1', 53), 2)")
    assert r.returncode != 0 and "unreachable" in r.stderr.lower()


def test_only_loopback_interface_exists(make_sandbox):
    r = sh(make_sandbox(), "cat /proc/net/dev")
    interfaces = [line.split(":")[0].strip() for line in r.stdout.splitlines()[2:]]
    assert interfaces == ["lo"]


def test_host_abstract_unix_socket_is_unreachable(make_sandbox):
    name = f"\0overseer-escape-{os.getpid()}"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(name)
    srv.listen(1)
    try:
        r = py(make_sandbox(), f"import socket; s=socket.socket(socket.AF_UNIX); s.connect({name!r})")
        assert r.returncode != 0 and "refused" in r.stderr.lower()
    finally:
        srv.close()


# --- reading the host ------------------------------------------------------------------------

def test_host_file_by_absolute_path_is_not_visible(make_sandbox, tmp_path):
    secret = tmp_path / "host-secret.txt"
    secret.write_text("HOST-SECRET-123")
    r = sh(make_sandbox(), f"cat {secret}; grep -rs HOST-SECRET-123 /tmp /workspace /etc; true")
    assert "HOST-SECRET-123" not in r.stdout


def test_host_etc_secrets_are_absent(make_sandbox):
    r = sh(make_sandbox(), "ls /etc; cat /etc/shadow /etc/ssh/ssh_host_rsa_key /root/.bashrc 2>&1; true")
    assert "shadow" not in r.stdout.split("cat:")[0]
    assert "PRIVATE KEY" not in r.stdout and "root:" not in r.stdout


def test_other_samples_workspace_is_invisible(make_sandbox):
    a, b = make_sandbox(), make_sandbox()
    sh(a, "echo SAMPLE-A-SECRET > secret.txt")
    r = sh(b, f"cat {a.workspace}/secret.txt; grep -rs SAMPLE-A-SECRET / --exclude-dir=proc --exclude-dir=usr; true")
    assert "SAMPLE-A-SECRET" not in r.stdout
    with pytest.raises(PermissionError):
        run(b.read_file(str(a.workspace / "secret.txt")))


def test_host_processes_are_invisible_in_proc(make_sandbox):
    r = sh(make_sandbox(), "ls /proc | grep -E '^[0-9]+$'")
    pids = [int(p) for p in r.stdout.split()]
    assert max(pids) < 20 and os.getpid() not in pids or len(pids) < 10
    r = sh(make_sandbox(), f"cat /proc/{os.getpid()}/environ /proc/{os.getpid()}/cmdline 2>&1; true")
    assert "pytest" not in r.stdout


def test_proc_1_root_is_the_sandbox_root(make_sandbox, tmp_path):
    (tmp_path / "marker").write_text("HOST-ROOT-MARKER")
    r = sh(make_sandbox(), f"cat /proc/1/root{tmp_path}/marker 2>&1; ls /proc/1/root; true")
    assert "HOST-ROOT-MARKER" not in r.stdout
    assert "workspace" in r.stdout


def test_sys_and_block_devices_are_absent(make_sandbox):
    r = sh(make_sandbox(), "ls /sys 2>&1; ls /dev; head -c 16 /dev/vda /dev/sda 2>&1; true")
    assert "No such file" in r.stdout
    assert not any(d in r.stdout.split() for d in ("vda", "sda", "nvme0n1", "mem", "kmsg"))


def test_host_environment_does_not_leak(make_sandbox, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-host-key-must-not-leak")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-host-secret")
    r = sh(make_sandbox(), "env; cat /proc/self/environ /proc/1/environ")
    assert "sk-host-key" not in r.stdout and "aws-host-secret" not in r.stdout
    assert "OPENAI_API_KEY" not in r.stdout


# --- writing outside the workspace -----------------------------------------------------------

def test_system_dirs_are_read_only(make_sandbox):
    r = sh(make_sandbox(), "touch /usr/escape /etc/escape /bin/escape 2>&1; echo x > /usr/lib/escape 2>&1; true")
    assert r.stdout.count("Read-only file system") >= 3
    assert not os.path.exists("/usr/escape") and not os.path.exists("/usr/lib/escape")


def test_tmp_is_private_and_not_the_hosts(make_sandbox, tmp_path):
    sb = make_sandbox()
    sh(sb, "echo leaked > /tmp/overseer-escape-marker")
    assert not os.path.exists("/tmp/overseer-escape-marker")
    assert sh(sb, "cat /tmp/overseer-escape-marker 2>&1; true").stdout.startswith("cat:")


def test_write_file_with_dotdot_is_rejected(make_sandbox, tmp_path):
    sb = make_sandbox()
    with pytest.raises(PermissionError):
        run(sb.write_file("../escape.txt", "x"))
    with pytest.raises(PermissionError):
        run(sb.write_file("sub/../../escape.txt", "x"))
    assert not (sb.root / "escape.txt").exists()


def test_write_file_to_absolute_host_path_is_rejected(make_sandbox, tmp_path):
    target = tmp_path / "host-target.txt"
    with pytest.raises(PermissionError):
        run(make_sandbox().write_file(str(target), "x"))
    assert not target.exists()


def test_read_file_with_dotdot_is_rejected(make_sandbox):
    sb = make_sandbox()
    for path in ("../etc/passwd", "../../../../etc/passwd", "/workspace/../etc/passwd", "/etc/passwd"):
        with pytest.raises(PermissionError):
            run(sb.read_file(path))


def test_read_file_through_planted_symlink_is_rejected(make_sandbox, tmp_path):
    secret = tmp_path / "host-secret"
    secret.write_text("HOST-SECRET")
    sb = make_sandbox()
    sh(sb, f"ln -s {secret} link; ln -s /etc/passwd pw")
    for name in ("link", "pw"):
        with pytest.raises(PermissionError):
            run(sb.read_file(name))


def test_write_file_through_symlinked_directory_is_rejected(make_sandbox, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    sb = make_sandbox()
    sh(sb, f"ln -s {outside} out; ln -s / rootdir")
    with pytest.raises(PermissionError):
        run(sb.write_file("out/planted.txt", "x"))
    with pytest.raises(PermissionError):
        run(sb.read_file("rootdir/etc/hostname"))
    assert list(outside.iterdir()) == []


def test_write_file_onto_planted_symlink_does_not_follow_it(make_sandbox, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("original")
    sb = make_sandbox()
    sh(sb, f"ln -s {victim} notes.txt")
    with pytest.raises(PermissionError):
        run(sb.write_file("notes.txt", "overwritten"))
    assert victim.read_text() == "original"


def test_planted_fifo_does_not_hang_read_file(make_sandbox):
    sb = make_sandbox()
    sh(sb, "mkfifo pipe")
    t0 = time.monotonic()
    with pytest.raises(PermissionError):
        run(sb.read_file("pipe"))
    with pytest.raises(PermissionError):
        run(sb.write_file("pipe", "x"))
    assert time.monotonic() - t0 < 2


# --- privilege -------------------------------------------------------------------------------

def test_no_capabilities_and_no_new_privileges(make_sandbox):
    r = sh(make_sandbox(), "grep -E 'CapEff|CapPrm|NoNewPrivs' /proc/self/status; id -u")
    fields = dict(line.split(":\t") for line in r.stdout.splitlines() if ":\t" in line)
    assert int(fields["CapEff"], 16) == 0 and int(fields["CapPrm"], 16) == 0
    assert fields["NoNewPrivs"].strip() == "1"
    assert r.stdout.split()[-1] == "1000"


def test_setuid_binaries_do_not_raise_privileges(make_sandbox):
    r = sh(make_sandbox(), "for b in /usr/bin/su /usr/bin/passwd /usr/bin/mount /usr/bin/newgrp; do "
                           "[ -u $b ] && echo SUID $b; done; su -c 'id -u' root 2>&1; mount -t tmpfs none /tmp 2>&1;"
                           " python3 -c 'import os; print(\"euid\", os.geteuid())'; true")
    assert "euid 1000" in r.stdout
    assert "\n0\n" not in f"\n{r.stdout}"


def test_new_user_namespace_cannot_be_created(make_sandbox):
    r = sh(make_sandbox(), "unshare -Ur id -u 2>&1; echo rc=$?")
    assert "rc=0" not in r.stdout


def test_cannot_signal_host_processes(make_sandbox):
    victim = subprocess.Popen(["sleep", "30"])
    try:
        sh(make_sandbox(), f"kill -9 {victim.pid} 2>&1; true")
        time.sleep(0.2)
        assert victim.poll() is None
    finally:
        victim.kill()
        victim.wait()


# --- resource exhaustion ---------------------------------------------------------------------

def test_fork_bomb_is_contained(make_sandbox):
    sb = make_sandbox(processes=32, timeout_s=5)
    t0 = time.monotonic()
    try:
        r = sh(sb, "bomb() { bomb | bomb & }; bomb; sleep 2; echo survived")
        assert r.returncode is not None
    except TimeoutError:
        pass
    assert time.monotonic() - t0 < 10
    assert sh(sb, "echo alive").stdout.strip() == "alive"
    assert "bomb()" not in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout


def test_process_limit_holds(make_sandbox):
    r = py(make_sandbox(processes=16), "import os, time\nn=0\ntry:\n for i in range(200):\n"
                                       "  if os.fork()==0: time.sleep(3); os._exit(0)\n  n+=1\nexcept OSError: pass\n"
                                       "print(n)")
    assert int(r.stdout.split()[-1]) < 16


def test_single_huge_file_is_stopped_by_file_size_limit(make_sandbox):
    sb = make_sandbox(file_size_mb=4)
    r = sh(sb, "dd if=/dev/zero of=big bs=1M count=64 2>&1; true")
    assert (sb.workspace / "big").stat().st_size <= 4 << 20
    assert "File size limit" in r.stdout or "File too large" in r.stdout or r.returncode != 0


def test_disk_fill_with_many_files_is_stopped_by_quota(make_sandbox):
    sb = make_sandbox(workspace_mb=16, file_size_mb=4, timeout_s=20)
    r = sh(sb, "i=0; while true; do i=$((i+1)); head -c 2000000 /dev/zero > f$i || true; done")
    assert not r.success and "quota" in r.stderr
    used = sum(f.stat().st_size for f in sb.workspace.iterdir())
    assert used < 64 << 20


def test_tmp_fill_hits_tmpfs_size(make_sandbox):
    r = sh(make_sandbox(tmp_mb=8), "head -c 50000000 /dev/zero > /tmp/fill 2>&1; ls -l /tmp/fill")
    size = int(r.stdout.split()[-5])
    assert size <= 8 << 20


def test_memory_allocation_beyond_limit_fails(make_sandbox):
    r = py(make_sandbox(memory_mb=256), "b = bytearray(1 << 30); print('allocated')")
    assert "allocated" not in r.stdout and "MemoryError" in r.stderr


def test_cpu_burn_is_killed_by_cpu_limit(make_sandbox):
    t0 = time.monotonic()
    r = sh(make_sandbox(cpu_seconds=1, timeout_s=20), "while :; do :; done")
    assert r.returncode != 0 and time.monotonic() - t0 < 10


def test_sleeping_past_the_timeout_is_stopped(make_sandbox):
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        sh(make_sandbox(timeout_s=1), "sleep 60")
    assert time.monotonic() - t0 < 5


def test_background_process_does_not_outlive_the_exec(make_sandbox):
    marker = f"{os.getpid() % 1000 + 3000}"
    sh(make_sandbox(), f"nohup sleep {marker} >/dev/null 2>&1 & setsid sleep {marker} & echo started")
    time.sleep(0.3)
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert f"sleep {marker}" not in ps


def test_huge_output_is_capped(make_sandbox):
    t0 = time.monotonic()
    with pytest.raises(OutputLimitExceededError) as err:
        sh(make_sandbox(output_bytes=100_000, timeout_s=20), "yes overseer")
    assert len(err.value.truncated_output or "") <= 100_000
    assert time.monotonic() - t0 < 5


def test_read_file_of_oversized_file_is_refused(make_sandbox, monkeypatch):
    from inspect_ai.util._sandbox.limits import override_max_read_file_size

    sb = make_sandbox()
    sh(sb, "head -c 300000 /dev/zero > big")
    with override_max_read_file_size(100_000), pytest.raises(OutputLimitExceededError):
        run(sb.read_file("big", text=False))
