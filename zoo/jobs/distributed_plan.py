"""`--distribute {none,mirrored,data_parallel}` for `scripts/train.py`: where a run trains.

- `none`: keras's default placement (one device).
- `mirrored`: TensorFlow's `tf.distribute.MirroredStrategy` over the local devices
  of one host (the model is built and compiled in its scope; the zoo step divides
  the loss by the replicas, so the update is the global-batch update).
- `data_parallel`: keras's own `keras.distribution.DataParallel` on JAX over every
  device of every process. Several processes (hosts) join through
  `--coordinator HOST:PORT --num-processes N --process-id I`, or keras's
  `KERAS_DISTRIBUTION_JOB_ADDRESSES` / `_NUM_PROCESSES` / `_PROCESS_ID`, or SLURM's
  `SLURM_NTASKS` / `SLURM_PROCID` / `SLURM_STEP_NODELIST` (first node is the
  coordinator). `--batch-size` is the global batch; each process reads its share.

Every check that can fail runs before any data is read; checks that need the
other processes (the same command everywhere, the same local device count, the
batch against the device count) run right after they have joined.
"""

import contextlib
import hashlib
import json
import os
import re

from zoo.errors import UserValueError


MODES = ("none", "mirrored", "data_parallel")
#: arguments that may differ between the processes of one run
PER_PROCESS = ("process_id", "verbose", "init_timeout", "heartbeat_timeout", "traceback")


def add_arguments(parser):
    g = parser.add_argument_group("distribution (README: Training on several devices and hosts)")
    g.add_argument(
        "--distribute",
        choices=MODES,
        default="none",
        help="none: one device; mirrored: tf.distribute.MirroredStrategy over this host's "
        "devices (TensorFlow); data_parallel: keras.distribution.DataParallel over every "
        "device of every process (JAX). --batch-size is the global batch",
    )
    g.add_argument(
        "--coordinator",
        default=None,
        metavar="HOST:PORT",
        help="data_parallel over several processes: address of process 0, reachable from "
        "every process (default: KERAS_DISTRIBUTION_JOB_ADDRESSES, or SLURM's first node)",
    )
    g.add_argument(
        "--num-processes",
        type=int,
        default=None,
        metavar="N",
        help="processes taking part (default: KERAS_DISTRIBUTION_NUM_PROCESSES, "
        "SLURM_NTASKS, else 1)",
    )
    g.add_argument(
        "--process-id",
        type=int,
        default=None,
        metavar="I",
        help="this process's index in [0, N); 0 writes the run's files (default: "
        "KERAS_DISTRIBUTION_PROCESS_ID, SLURM_PROCID)",
    )
    g.add_argument(
        "--init-timeout",
        type=float,
        default=300.0,
        metavar="S",
        help="seconds to wait for the coordinator and every process to join",
    )
    g.add_argument(
        "--heartbeat-timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds without a heartbeat after which a process counts as dead and the "
        "others stop",
    )


class Plan:
    """What `--distribute` and its variables resolve to, checked; nothing started yet."""

    def __init__(self, mode, coordinator=None, num_processes=1, process_id=0, source="flags",
                 init_timeout=300.0, heartbeat_timeout=60.0):
        self.mode = mode
        self.coordinator = coordinator
        self.num_processes = num_processes
        self.process_id = process_id
        self.source = source
        self.init_timeout = init_timeout
        self.heartbeat_timeout = heartbeat_timeout
        self.devices = 1  # every device taking part, known once started
        self.strategy = None

    @property
    def multi_process(self):
        return self.num_processes > 1

    def data_options(self):
        """Keyword arguments of `zoo.datasets.load_split` for this process's input."""
        if self.mode != "data_parallel":
            return {}
        return dict(num_shards=self.num_processes, shard_index=self.process_id,
                    batch_multiple=self.devices)

    def compile_options(self, model):
        """`compile` arguments: under data_parallel the family's metrics are weighted,
        so the zero-weight rows padding an evaluation's last batch count for nothing."""
        if self.mode != "data_parallel":
            return {}
        return {"metrics": [], "weighted_metrics": model.default_metrics()}

    def scope(self):
        """Where the model is built and compiled (MirroredStrategy's scope)."""
        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()

    def describe(self):
        if self.mode == "none":
            return {"mode": "none"}
        return {
            "mode": self.mode,
            "devices": self.devices,
            "processes": self.num_processes,
            "source": self.source,
            "coordinator": self.coordinator,
        }


def plan(args, backend, environ=None):
    """Resolves `--distribute` and the process settings; ValueError on bad input.

    Pure: reads only `args`, `backend` and `environ` (default `os.environ`).
    """
    environ = os.environ if environ is None else environ
    mode = args.distribute
    for flag, value in (("--init-timeout", args.init_timeout),
                        ("--heartbeat-timeout", args.heartbeat_timeout)):
        if not value > 0:
            raise UserValueError(f"`{flag}` must be > 0 seconds. Received: {flag}={value}")
    given = [f for f, v in (("--coordinator", args.coordinator),
                            ("--num-processes", args.num_processes),
                            ("--process-id", args.process_id)) if v is not None]
    if mode != "data_parallel" and given:
        raise UserValueError(
            f"`{given[0]}` sets up several processes, which only `--distribute data_parallel` "
            f"runs. Received: --distribute={mode}"
        )
    if mode == "mirrored" and backend != "tensorflow":
        raise UserValueError(
            "`--distribute mirrored` is TensorFlow's MirroredStrategy: use --backend "
            "tensorflow (or --distribute data_parallel with --backend jax). "
            f"Received: backend={backend!r}"
        )
    if mode == "data_parallel" and backend != "jax":
        raise UserValueError(
            "`--distribute data_parallel` trains through keras.distribution, which runs "
            "fit on JAX only: use --backend jax (on TensorFlow, --distribute mirrored "
            f"spreads one host's devices). Received: backend={backend!r}"
        )
    timeouts = dict(init_timeout=args.init_timeout, heartbeat_timeout=args.heartbeat_timeout)
    if mode != "data_parallel":
        return Plan(mode, **timeouts)
    coordinator, num, pid, source = _process_settings(args, environ)
    if num < 1:
        raise UserValueError(f"`--num-processes` must be >= 1. Received: --num-processes={num}")
    if not 0 <= pid < num:
        raise UserValueError(
            f"`--process-id` must be in [0, {num}) (--num-processes={num}). "
            f"Received: --process-id={pid}"
        )
    if num > 1:
        if not coordinator:
            raise UserValueError(
                "Several processes need the coordinator's address: --coordinator HOST:PORT "
                "(process 0's host and a free port) or KERAS_DISTRIBUTION_JOB_ADDRESSES. "
                f"Received: --num-processes={num}"
            )
        from zoo.training.distribution import split_address

        split_address(coordinator)
        if not getattr(args, "run_dir", None):
            raise UserValueError(
                "Several processes share one run directory: give every process the same "
                "--run-dir on a file system they all see. Received: --run-dir unset"
            )
    return Plan(mode, coordinator, num, pid, source, **timeouts)


def _process_settings(args, environ):
    """(coordinator, num_processes, process_id, source): flags, then keras's
    variables, then SLURM's, then one process."""
    coordinator, num, pid = args.coordinator, args.num_processes, args.process_id
    source = "flags"
    keras_vars = {k: environ.get(f"KERAS_DISTRIBUTION_{k}")
                  for k in ("JOB_ADDRESSES", "NUM_PROCESSES", "PROCESS_ID")}
    slurm = int(environ.get("SLURM_NTASKS", "1") or 1) > 1 and "SLURM_PROCID" in environ
    if any(keras_vars.values()):
        source = "KERAS_DISTRIBUTION_*"
        addresses = keras_vars["JOB_ADDRESSES"]
        if coordinator is None and addresses:
            coordinator = addresses.split(",")[0].strip()
            if num is None and "," in addresses:
                num = len(addresses.split(","))
        num = num if num is not None else _int_var(environ, "KERAS_DISTRIBUTION_NUM_PROCESSES")
        pid = pid if pid is not None else _int_var(environ, "KERAS_DISTRIBUTION_PROCESS_ID")
    elif slurm:
        source = "SLURM"
        num = num if num is not None else _int_var(environ, "SLURM_NTASKS")
        pid = pid if pid is not None else _int_var(environ, "SLURM_PROCID")
        if coordinator is None:
            coordinator = slurm_coordinator(environ)
    num = 1 if num is None else num
    pid = 0 if pid is None else pid
    return coordinator, num, pid, source


def _int_var(environ, name):
    value = environ.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise UserValueError(f"`{name}` must be an integer. Received: {name}={value!r}") from None


def slurm_coordinator(environ):
    """"FIRSTNODE:PORT" of a SLURM step, the port derived from the job id as JAX does."""
    nodes = environ.get("SLURM_STEP_NODELIST") or environ.get("SLURM_JOB_NODELIST")
    job = environ.get("SLURM_JOB_ID")
    if not nodes or not job:
        raise UserValueError(
            "Under SLURM the coordinator comes from SLURM_STEP_NODELIST and SLURM_JOB_ID; "
            "run inside `srun`, or pass --coordinator HOST:PORT. "
            f"Received: SLURM_STEP_NODELIST={nodes!r}, SLURM_JOB_ID={job!r}"
        )
    return f"{first_slurm_host(nodes)}:{int(job) % 4096 + 61440}"


def first_slurm_host(nodelist):
    """The first host of a SLURM node list: "n[003-005,9],m1" -> "n003"."""
    head = re.match(r"[^,\[]*(\[[^\]]*\])?", nodelist.strip()).group(0)
    if "[" not in head:
        return head
    prefix, ranges = head[:-1].split("[", 1)
    return prefix + re.split("[,-]", ranges)[0]


def command_digest(args):
    """sha256 of the resolved arguments every process must share."""
    shared = {k: v for k, v in sorted(vars(args).items()) if k not in PER_PROCESS}
    return hashlib.sha256(json.dumps(shared, sort_keys=True, default=str).encode()).hexdigest()


def start(plan_, args):
    """Starts what `plan_` says (processes joined, keras's distribution set); returns it.

    Call before the model or any JAX array exists. Raises ValueError when the
    processes were started with different commands or device counts, or the
    global batch does not split over the devices (every process raises alike).
    """
    import keras

    if plan_.mode == "mirrored":
        import tensorflow as tf

        plan_.strategy = tf.distribute.MirroredStrategy()
        plan_.devices = plan_.strategy.num_replicas_in_sync
        _check_batch(args.batch_size, plan_.devices, "the replicas of MirroredStrategy")
        return plan_
    if plan_.mode != "data_parallel":
        return plan_
    from zoo.training import distribution

    if plan_.multi_process:
        distribution.initialize(
            plan_.coordinator,
            plan_.num_processes,
            plan_.process_id,
            init_timeout=plan_.init_timeout,
            heartbeat_timeout=plan_.heartbeat_timeout,
        )
    devices = keras.distribution.list_devices()
    plan_.devices = len(devices)
    if plan_.multi_process:
        counts = distribution.gather([distribution.local_device_count()])[:, 0]
        if len(set(counts.tolist())) > 1:
            raise UserValueError(
                "Every process must bring the same number of devices. Received: "
                + ", ".join(f"process {i}: {c}" for i, c in enumerate(counts))
            )
        distribution.check_same_on_every_process(
            "their commands (config hash)",
            command_digest(args),
            hint="Start every process with the same train.py arguments; only --process-id "
            "differs.",
        )
    _check_batch(args.batch_size, plan_.devices,
                 f"{plan_.devices} devices ({plan_.num_processes} process(es))")
    keras.distribution.set_distribution(
        keras.distribution.DataParallel(devices=devices, auto_shard_dataset=False)
    )
    return plan_


def _check_batch(batch_size, devices, what):
    if batch_size % devices:
        raise UserValueError(
            f"`--batch-size` (the global batch) must be a multiple of the {what}. "
            f"Received: --batch-size={batch_size}"
        )


@contextlib.contextmanager
def guard(plan_):
    """Ends a multi-process run at once, with one clear line, when this process fails.

    A failed process must not linger: its peers wait for it in every collective.
    On an exception this prints `error: ...` and exits (status 2 for bad input,
    1 otherwise) without JAX's shutdown barrier, whose wait would outlast the
    failure. A peer that dies shows here as a failed collective, named as such;
    when JAX or gloo end the process from C++ instead (a peer's socket closed
    mid-message, missed heartbeats), a watcher prints the same explanation.
    One-process runs are left alone.
    """
    if not plan_.multi_process:
        yield
        return
    from zoo.training import distribution

    who = f"process {plan_.process_id} of {plan_.num_processes}"
    restart = ("Restart every process with the same command and --resume; they continue "
               "from the last checkpoint.")
    distribution.watch_for_abrupt_end(
        f"error: {who} ended abruptly: another process of the run died or its host became "
        f"unreachable (or this one was killed); see the lines above. {restart}"
    )
    try:
        yield
    except (ValueError, TypeError) as err:
        distribution.exit_now(f"error: {who}: {err}", status=2)
    except BaseException as err:  # noqa: B902 - every failure ends the run, Ctrl-C too
        text = " ".join(str(err).split())[:300]
        if type(err).__name__ == "JaxRuntimeError":
            message = (
                f"error: {who} stopped: another process of the run failed or became "
                f"unreachable ({type(err).__name__}: {text}). {restart}"
            )
        else:
            message = f"error: {who} failed: {type(err).__name__}: {text}"
        distribution.exit_now(message, status=1)
    distribution.orderly_end()
