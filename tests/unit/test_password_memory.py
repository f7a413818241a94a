"""Argon2's 19 MiB per hash must go back to the OS after each login, also from worker threads (issue 7: the
gateway's resident memory stays within 150 MB however many logins it has served)."""

import subprocess
import sys
import textwrap


def test_hashing_in_threads_leaves_no_memory_behind() -> None:
    script = textwrap.dedent("""
        import concurrent.futures
        from gateway.credentials import passwords

        def rss_kib():
            return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS"))

        stored = passwords.hash_password("a password")
        before = rss_kib()
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            assert all(pool.map(lambda _: passwords.verify_password(stored, "a password"), range(8)))
        print(rss_kib() - before)
    """)
    grown_kib = int(subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                                   text=True).stdout)
    # Kept on glibc's heaps it would be 19 MiB per thread (about 78 MiB here); handed back, a few MiB of stacks.
    assert grown_kib < 12 * 1024, f"RSS grew by {grown_kib} KiB"
