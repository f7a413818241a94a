import random
import socket

# Below the kernel's ephemeral range (ip_local_port_range, 32768-60999 by default): a port the kernel hands out for
# a bind to port 0 is also one it hands out to outgoing connections, so between our choosing it and a server binding
# it, any client socket on the machine (a Kafka or database connection) could take it (seen: the gateway's relay
# failed to bind, "address already in use"). Ports from this range are only ever taken by someone binding them.
_LOW, _HIGH = 20000, 32767


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on now, chosen at random below the ephemeral range."""
    for _ in range(200):
        port = random.randint(_LOW, _HIGH)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:  # a machine with that range all taken: the kernel's choice, as before
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0
