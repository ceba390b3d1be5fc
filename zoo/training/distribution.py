"""The processes of a multi-host run: which one this is, starting them, agreeing.

Several processes train one model only on JAX, through `keras.distribution`
(keras's TensorFlow path is `tf.distribute` on one host, MultiWorkerMirrored is
not supported by Keras 3, and keras has no torch distribution). On every other
backend, and on JAX before `initialize`, there is one process: index 0 of 1.

```python
initialize("10.0.0.1:1234", num_processes=2, process_id=1)   # before any JAX work
if is_chief():
    write_json_atomic(run_dir / "metrics.json", metrics)      # written once, by process 0
check_same_on_every_process("command", config_hash)           # ValueError naming both
```
"""

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time

import keras
import numpy as np

from zoo.errors import UserValueError


def _jax_distributed():
    """`jax.distributed` when this process is part of a started multi-process JAX run."""
    if keras.backend.backend() != "jax":
        return None
    jax = sys.modules.get("jax")
    if jax is None or not jax.distributed.is_initialized():
        return None
    return jax


def process_index():
    """This process's index in the run (0 when it runs alone)."""
    jax = _jax_distributed()
    return jax.process_index() if jax is not None else 0


def process_count():
    """Number of processes in the run (1 when it runs alone)."""
    jax = _jax_distributed()
    return jax.process_count() if jax is not None else 1


def local_device_count():
    """Devices of this process that train (all of them on one process)."""
    jax = _jax_distributed()
    if jax is not None:
        return jax.local_device_count()
    return keras.distribution.get_device_count() if keras.backend.backend() == "jax" else 1


def is_chief():
    """True on the process that writes the run's files (process 0)."""
    return process_index() == 0


@contextlib.contextmanager
def local_only():
    """Runs the block with keras's distribution unset: for what process 0 does alone.

    Under a multi-process `DataParallel`, keras puts every new variable on the
    global device mesh, which is a collective step all processes must take
    together; `model.save` creates such scratch variables. Reading the
    (replicated) model variables needs no other process, so saving inside this
    block involves this process only. Use it for writes done by process 0 alone.
    """
    current = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    try:
        yield
    finally:
        keras.distribution.set_distribution(current)


def initialize(coordinator, num_processes, process_id, init_timeout=300, heartbeat_timeout=60):
    """Joins this process to a multi-process JAX run; call before any JAX computation.

    What `keras.distribution.initialize(coordinator, num_processes, process_id)`
    does (it calls `jax.distributed.initialize`), with its two waits bounded:
    keras passes JAX's defaults (5 min to join, 100 s without heartbeat before
    the others give up on a dead process) and offers no way to change them.
    keras's other step, seeding every process alike, is done by the caller's
    `keras.utils.set_random_seed`.

    On failure JAX aborts the process from C++ with a long log; instead, when
    the processes have not all joined within `init_timeout` seconds this
    prints one line naming the coordinator and exits with status 2.

    Args:
        coordinator: "HOST:PORT" of process 0 (it listens there).
        num_processes: how many processes take part.
        process_id: this one's index, in [0, num_processes).
        init_timeout: seconds to wait for every process to join.
        heartbeat_timeout: seconds after which a silent process counts as dead
            and the others stop.
    """
    if keras.backend.backend() != "jax":
        raise UserValueError(
            "Several training processes need the JAX backend (keras.distribution). "
            f"Received: backend={keras.backend.backend()!r}; use --backend jax"
        )
    import jax

    start = time.monotonic()
    if process_id == 0:
        check_port_free(coordinator)  # else JAX fails with a gRPC log line and no cause
    else:
        reach_coordinator(coordinator, init_timeout)
    left = max(1.0, init_timeout - (time.monotonic() - start))
    watchdog = threading.Timer(
        left,
        _give_up,
        args=(
            f"error: the {num_processes} processes did not all join the coordinator "
            f"{coordinator} within {init_timeout:g} s (--init-timeout): start every process "
            "with the same --coordinator and --num-processes and a distinct --process-id. "
            f"Received: --process-id={process_id}",
        ),
    )
    watchdog.daemon = True
    watchdog.start()
    try:
        jax.distributed.initialize(
            coordinator_address=coordinator,
            num_processes=num_processes,
            process_id=process_id,
            initialization_timeout=int(init_timeout) + 30,  # ours fires first, with one line
            heartbeat_timeout_seconds=int(heartbeat_timeout),
        )
    finally:
        watchdog.cancel()


def reach_coordinator(coordinator, timeout, interval=0.5):
    """Waits until `coordinator` ("HOST:PORT") accepts a TCP connection.

    Raises:
        ValueError: not reachable within `timeout` seconds (one line: the
            address, the wait, what to check).
    """
    host, port = split_address(coordinator)
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            with socket.create_connection((host, port), timeout=max(0.1, min(interval, timeout))):
                return
        except OSError as err:
            last = err
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    raise UserValueError(
        f"Cannot reach the coordinator {coordinator} within {timeout:g} s (--init-timeout): "
        "is process 0 running there, and is the port open to this host? "
        f"Received: --coordinator={coordinator} ({last})"
    )


def check_port_free(coordinator):
    """Raises ValueError when process 0 cannot listen on the coordinator's port (another
    program holds it): JAX would only log "Failed to add port" and end the run."""
    host, port = split_address(coordinator)
    for family, address in ((socket.AF_INET6, "::"), (socket.AF_INET, "")):
        try:
            probe = socket.socket(family, socket.SOCK_STREAM)
        except OSError:  # no IPv6 on this host
            continue
        with probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gRPC does
            try:
                probe.bind((address, port))
            except OSError as err:
                raise UserValueError(
                    f"The coordinator port {port} is in use on this host by another program "
                    f"({err.strerror or err}), so process 0 cannot listen there. Choose a free "
                    f"port for every process's --coordinator. Received: --coordinator="
                    f"{coordinator!r}") from None
        return


def split_address(address):
    """("HOST", PORT) of "HOST:PORT" ("[IPv6]:PORT" too); ValueError otherwise."""
    host, sep, port = str(address).rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UserValueError(
            f"`--coordinator` must be HOST:PORT. "
            f"Received: --coordinator={address!r}"
        )
    return host, int(port)


def gather(values):
    """Each process's `values` (int32s, the same count everywhere), stacked: (processes, n).

    A collective: every process must call it at the same point.
    """
    values = np.asarray(values, dtype=np.int32).reshape(-1)
    jax = _jax_distributed()
    if jax is None:
        return values[None]
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.process_allgather(values)).reshape(-1, len(values))


def check_same_on_every_process(what, digest, hint=""):
    """Raises ValueError when `digest` (a hex string) differs between the processes.

    A collective: every process must call it at the same point.
    """
    seen = gather(np.frombuffer(bytes.fromhex(digest[:16]), dtype=np.int32))
    if np.all(seen == seen[0]):
        return
    per = ", ".join(f"process {i}: {row.tobytes().hex()}" for i, row in enumerate(seen))
    raise UserValueError(f"The processes differ in {what} ({per}). {hint}".rstrip())


# A process of a multi-process run that loses a peer is often ended from C++
# (gloo's std::terminate, JAX's fatal log after missed heartbeats), with no chance
# to say so in Python. A tiny watcher process, started with it, prints the
# run's one-line explanation on the same stderr unless told the end was orderly.
_WATCHER_CODE = """
import sys
if sys.stdin.read() != "orderly":
    sys.stderr.write(sys.argv[1] + "\\n")
    sys.stderr.flush()
"""
_watcher = None


def watch_for_abrupt_end(message):
    """Prints `message` on stderr if this process ends without `orderly_end()`."""
    global _watcher
    if _watcher is None:
        _watcher = subprocess.Popen(
            [sys.executable, "-S", "-c", _WATCHER_CODE, message],
            stdin=subprocess.PIPE,
            start_new_session=True,  # a Ctrl-C or kill of this process group spares it
        )


def orderly_end():
    """Tells the watcher that this process ends as intended (it then prints nothing)."""
    global _watcher
    if _watcher is not None:
        try:
            _watcher.stdin.write(b"orderly")
            _watcher.stdin.close()
        except OSError:
            pass
        _watcher = None


def exit_now(message, status=1):
    """Prints `message` on stderr and ends the process at once, with `status`.

    Used when a multi-process run fails: a normal exit would first wait in
    JAX's shutdown barrier for peers that may be gone.
    """
    _give_up(message, status)


def _give_up(message, status=2):
    orderly_end()
    sys.stdout.flush()
    print(message, file=sys.stderr, flush=True)
    os._exit(status)
