"""`scripts/train.py MODEL --dataset D ...`: train with `fit`, evaluate, save the run.

The run directory receives `config.json` (the resolved configuration and the
exact command), `history.json`, `metrics.json` (test metrics) and `model.keras`,
plus what `callbacks.standard_callbacks` writes: `checkpoints/` (best model,
latest states; `--resume` continues from them) and `tensorboard/` (event files).
`--schedule` installs a per-step learning-rate (and momentum) schedule;
`--find-lr` runs the learning-rate range test instead of training. The run
directory's rules (no silent overwrite, one run at a time, no drift on resume)
are in `zoo.jobs.run_dir`.

One concept in one file (over 500 lines): the train job, from its arguments
to the run directory.
"""

import argparse
import dataclasses
import shlex
import sys
import time
from pathlib import Path

from zoo import compat
from zoo.errors import UserValueError
from zoo.jobs import distributed_plan as distribute
from zoo.jobs.job_args import (
    add_backend_arg,
    add_model_arg,
    dataset_model_kwargs,
    parse_model_args,
)
from zoo.jobs.run_dir import RunDirectory, RunDirectoryError
from zoo.training.guard import NonFiniteError
from zoo.utils.command_line import USER_ERRORS, ArgumentParser, one_line, report
from zoo.utils.files import atomic_path, write_json_atomic
from zoo.utils.optimizers import inner_optimizer, make_optimizer, momentum_attribute


def build_parser():
    p = ArgumentParser(
        prog="train.py", description="Train a zoo model with keras fit and evaluate it."
    )
    p.add_argument("model", help="registered model name (see `zoo list`)")
    p.add_argument("--dataset", default="fashion_mnist", help="dataset name (see zoo.datasets)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--optimizer", default="adam", help="adam, sgd, or any keras optimizer name")
    p.add_argument(
        "--lr", type=float, default=None, help="learning rate (optimizer default if unset)"
    )
    p.add_argument(
        "--momentum", type=float, default=None, help="SGD momentum (default 0.9) or Adam beta_1"
    )
    p.add_argument("--seed", type=int, default=0)
    add_backend_arg(p)
    p.add_argument(
        "--run-dir", default=None, help="where to write the run (default runs/MODEL-DATASET-TIME)"
    )
    add_model_arg(p)
    p.add_argument("--mixed-precision", choices=["mixed_float16", "mixed_bfloat16"], default=None)
    p.add_argument("--verbose", type=int, default=1, help="keras fit verbosity (1: progress bar)")
    p.add_argument(
        "--limit",
        type=int,
        default=None,
        metavar="N",
        help="use only the first N training and N test examples (quick runs, tests)",
    )
    p.add_argument(
        "--validation-split",
        type=float,
        default=0.1,
        metavar="F",
        help="fraction of the training data held out to choose on (best model, --monitor, "
        "the LR finder's data excludes it); the test split is read once, at the end. "
        "0: no validation set (best model by the training loss)",
    )
    p.add_argument(
        "--validation-seed",
        type=int,
        default=0,
        help="seed of the validation split (kept apart from --seed)",
    )
    g = p.add_argument_group("schedules, checkpoints, TensorBoard (callbacks package)")
    g.add_argument(
        "--schedule",
        choices=SCHEDULES,
        default="none",
        help="learning-rate schedule, evaluated every step " "(onecycle also cycles momentum)",
    )
    g.add_argument(
        "--max-lr",
        type=float,
        default=None,
        help="peak rate of onecycle/cosine, initial rate of step/multistep "
        "(default: --lr, else the optimizer's default)",
    )
    g.add_argument(
        "--pct-start", type=float, default=0.3, help="onecycle: fraction of steps rising"
    )
    g.add_argument("--div-factor", type=float, default=25.0, help="onecycle: initial = max / this")
    g.add_argument(
        "--final-div-factor", type=float, default=1e4, help="onecycle: final = initial / this"
    )
    g.add_argument("--anneal", choices=["cos", "linear"], default="cos", help="onecycle annealing")
    g.add_argument(
        "--cycle-momentum",
        default="auto",
        metavar="BASE,MAX|auto|none",
        help="onecycle momentum range; auto: 0.85,0.95 when the optimizer has momentum",
    )
    g.add_argument("--warmup-pct", type=float, default=0.05, help="cosine: warm-up fraction")
    g.add_argument("--min-lr", type=float, default=0.0, help="cosine: final rate")
    g.add_argument("--step-size", type=int, default=10, help="step: decay every this many epochs")
    g.add_argument(
        "--milestones", default="10,20", help="multistep: epochs at which to decay, e.g. 10,20"
    )
    g.add_argument("--gamma", type=float, default=0.1, help="step/multistep decay factor")
    g.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --run-dir from its newest valid checkpoint (fresh start if "
        "none); refused if a setting that defines the result differs from its config.json",
    )
    g.add_argument(
        "--overwrite",
        action="store_true",
        help="delete the run that --run-dir holds and start afresh (without it, or --resume, "
        "a directory holding a run is refused)",
    )
    g.add_argument(
        "--monitor",
        default=None,
        help="metric that picks checkpoints/best.keras (default val_loss; GANs: no best model)",
    )
    g.add_argument("--keep-checkpoints", type=int, default=3, help="latest states kept")
    g.add_argument(
        "--tensorboard",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="write TensorBoard event files to RUN_DIR/tensorboard",
    )
    g.add_argument(
        "--tb-update-freq",
        type=int,
        default=None,
        help="TensorBoard: log every N steps (default: 1 with --schedule, else 50)",
    )
    g.add_argument(
        "--find-lr",
        action="store_true",
        help="run the learning-rate range test, write RUN_DIR/lr_finder.png, print the "
        "suggested rate, and exit without training",
    )
    g.add_argument("--find-lr-steps", type=int, default=100, help="steps of the range test")
    g.add_argument("--find-lr-min", type=float, default=1e-7, help="range test start rate")
    g.add_argument("--find-lr-max", type=float, default=10.0, help="range test end rate")
    u = p.add_argument_group("fine-tuning a pretrained model (ULMFiT)")
    u.add_argument("--weights", default=None, metavar="TAG",
                   help="start from published weights (e.g. review_lm: a pretrained text "
                        "encoder, which keeps its vocabulary; the head is new)")
    u.add_argument("--layer-lr-decay", type=float, default=1.0, metavar="F",
                   help="discriminative learning rates: each layer group below the top "
                        "trains at the rate of the one above / F (ULMFiT: 2.6; 1: off)")
    u.add_argument("--gradual-unfreezing", action="store_true",
                   help="unfreeze the layer groups one per epoch from the top "
                        "(callbacks.GradualUnfreezing)")
    distribute.add_arguments(p)
    return p


SCHEDULES = ["none", "onecycle", "cosine", "step", "multistep"]


def default_run_dir(model, dataset):
    return Path("runs") / f"{model}-{dataset}-{time.strftime('%Y%m%d-%H%M%S')}"


def make_schedule(args, optimizer):
    """The `--schedule` as a callbacks schedule (None for "none")."""
    import keras

    import callbacks

    if args.schedule == "none":
        return None
    base = args.max_lr if args.max_lr is not None else args.lr
    if base is None:
        base = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    if args.schedule == "onecycle":
        return callbacks.OneCycle(
            base,
            pct_start=args.pct_start,
            div_factor=args.div_factor,
            final_div_factor=args.final_div_factor,
            anneal=args.anneal,
            momentum=_cycle_momentum(args.cycle_momentum, optimizer),
        )
    if args.schedule == "cosine":
        return callbacks.CosineWarmup(base, warmup_pct=args.warmup_pct, min_lr=args.min_lr)
    if args.schedule == "step":
        return callbacks.StepDecay(base, step_size=args.step_size, gamma=args.gamma)
    return callbacks.MultiStep(base, milestones=parse_milestones(args.milestones),
                               gamma=args.gamma)


def parse_milestones(text):
    try:
        milestones = [int(m) for m in str(text).split(",") if m.strip()]
    except ValueError:
        milestones = []
    if not milestones:
        raise UserValueError(
            f"`--milestones` must be comma-separated epochs, e.g. 10,20. Received: {text!r}"
        )
    return milestones


def _cycle_momentum(value, optimizer):
    if value == "none":
        return None
    if value == "auto":
        attr = momentum_attribute(optimizer)
        inner = inner_optimizer(optimizer)
        has = attr is not None and getattr(inner, attr) != 0
        return (0.85, 0.95) if has else None
    try:
        base, high = (float(v) for v in value.split(","))
    except ValueError:
        raise UserValueError(
            f"`--cycle-momentum` must be BASE,MAX, auto or none. Received: {value!r}"
        ) from None
    return (base, high)


def load_data(args, epoch, shard=None):
    """(train, validation, test, sizes): the validation set is a seeded split of the
    training data; the training order of epoch k depends only on (seed, k).
    `shard`: this process's share (`distribute.Plan.data_options()`)."""
    import zoo

    if args.limit is not None and args.limit <= 0:
        raise UserValueError(f"`--limit` must be > 0. Received: {args.limit}")
    return zoo.datasets.load_split(
        args.dataset,
        batch_size=args.batch_size,
        validation_split=args.validation_split,
        seed=args.seed,
        validation_seed=args.validation_seed,
        limit=args.limit,
        epoch=epoch,
        **(shard or {}),
    )


def _check_job_args(args):
    """Every argument alone, before anything is read or written."""
    from zoo.utils.checks import check_finite, check_fraction, check_non_negative, check_positive

    for flag, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size)):
        if value <= 0:
            raise UserValueError(f"`{flag}` must be > 0. Received: {value}")
    if args.limit is not None and args.limit < 2:
        raise UserValueError(f"`--limit` must be >= 2. Received: {args.limit}")
    if args.schedule == "multistep":
        parse_milestones(args.milestones)
    if args.layer_lr_decay < 1:
        raise UserValueError(f"`--layer-lr-decay` must be >= 1. Received: {args.layer_lr_decay}")
    if args.resume and not args.run_dir:
        raise UserValueError(
            "`--resume` needs the `--run-dir` of the run to continue. Received: --run-dir unset"
        )
    for flag, value in (
        ("--keep-checkpoints", args.keep_checkpoints),
        ("--tb-update-freq", args.tb_update_freq),
        ("--find-lr-steps", args.find_lr_steps),
    ):
        if value is not None and value <= 0:
            raise UserValueError(f"`{flag}` must be > 0. Received: {value}")
    # a rate of inf or nan would train to NaN weights after the run directory exists
    for flag in ("lr", "max_lr", "div_factor", "final_div_factor", "find_lr_min",
                 "find_lr_max"):
        check_positive(f"--{flag.replace('_', '-')}", getattr(args, flag), allow_none=True)
    check_positive("--gamma", args.gamma)
    check_non_negative("--min-lr", args.min_lr)
    check_fraction("--pct-start", args.pct_start)
    check_fraction("--warmup-pct", args.warmup_pct, low_open=False)
    check_finite("--momentum", args.momentum, allow_none=True)
    if args.find_lr and not args.find_lr_min < args.find_lr_max:
        raise UserValueError("`--find-lr-min` must be below `--find-lr-max`. Received: "
                             f"--find-lr-min {args.find_lr_min} --find-lr-max {args.find_lr_max}")


def logged_metric_names(model, data):
    """The names `fit` logs for `model` (loss and metrics, with `val_` twins, and the
    step's `lr`/`momentum`): evaluated on one batch of `data`, before any training."""
    logs = model.evaluate(data.take(1), return_dict=True, verbose=0)
    return sorted({*logs, *(f"val_{k}" for k in logs), "lr", "momentum"})


def check_monitor(args, model, val, train):
    """Refuses a `--monitor` that names no metric the run logs; returns the monitor used."""
    monitor = args.monitor or model.default_monitor()
    if val is None and monitor and monitor.startswith("val_"):
        monitor = monitor[len("val_"):]  # --validation-split 0: nothing else to choose on
    if args.monitor is not None:
        names = logged_metric_names(model, val if val is not None else train)
        if val is None:
            names = [n for n in names if not n.startswith("val_")]
        if monitor not in names:
            raise UserValueError(
                f"`--monitor` must name a metric this run logs: {', '.join(names)}"
                f"{' (no val_ metrics: --validation-split 0)' if val is None else ''}. "
                f"Received: --monitor {args.monitor}"
            )
    return monitor


@dataclasses.dataclass
class RunSetup:
    """What `setup` prepares for training and for `--find-lr`."""

    model: object  # the compiled ZooModel
    train: object  # the training data (a tf.data.Dataset), this process's share
    val: object  # the validation split of the training data, or None
    test: object  # the test split: read once, for the report
    schedule: object  # the learning-rate schedule of --schedule, or None
    epoch: object  # the variable the data pipeline reads its epoch from
    run_dir: RunDirectory  # checked; opened (locked, config.json written) at the end of setup
    config: dict  # what config.json records
    callbacks: list = None  # training's callbacks (None for --find-lr)
    finder: object = None  # --find-lr's LR finder (None for training)


def setup(args, argv, plan=None, run_path=None):
    """Model, data, callbacks and run directory shared by training and `--find-lr`. Every
    check that can refuse the command runs before the run directory is opened."""
    import keras

    import callbacks

    import zoo

    _check_job_args(args)
    run_dir = RunDirectory(run_path or args.run_dir or default_run_dir(args.model, args.dataset),
                           resume=args.resume, overwrite=args.overwrite,
                           keep_states=not args.find_lr)
    run_dir.check()  # a directory that refuses this run fails before anything loads
    zoo.registry.get(args.model)  # unknown names fail before any data loads
    plan = distribute.start(plan or distribute.plan(args, keras.backend.backend()), args)
    model_kwargs = parse_model_args(args.model_arg)
    with plan.scope():  # its variables live where the model's do
        optimizer = make_optimizer(args.optimizer, args.lr, args.momentum)
    schedule = make_schedule(args, optimizer)
    if args.mixed_precision:
        keras.config.set_dtype_policy(args.mixed_precision)
    keras.utils.set_random_seed(args.seed)

    info = zoo.datasets.info(args.dataset)
    model_kwargs = {**dataset_model_kwargs(args.model, info, model_kwargs), **model_kwargs}
    with plan.scope():
        if args.weights:
            model = zoo.create(args.model, weights=args.weights, **model_kwargs)
        else:
            model = zoo.create(args.model, **model_kwargs)
    epoch = zoo.datasets.epoch_variable()
    train, val, test, sizes = load_data(args, epoch, plan.data_options())
    if not args.weights:  # pretrained weights keep the state they were trained with
        # fitted on the whole training split, so every process holds the same state
        model.adapt(load_data(args, None)[0] if plan.data_options() else train)
    if args.layer_lr_decay != 1.0 and not args.gradual_unfreezing:
        model.set_learning_rate_multipliers(
            callbacks.discriminative_multipliers(model, args.layer_lr_decay))
    with plan.scope():
        model.compile(optimizer=optimizer, **plan.compile_options(model))

    config = {
        "command": "python scripts/train.py " + shlex.join(argv),
        "args": vars(args),
        "model": args.model,
        "model_config": model.get_config(),
        "optimizer": keras.optimizers.serialize(model.optimizer),
        "schedule": keras.saving.serialize_keras_object(schedule) if schedule is not None else None,
        "dataset": args.dataset,
        "dataset_source": str(info.get("source")),
        # what chose what: best.keras and --monitor look at the validation split only
        "data": {**sizes, "selection": "validation" if val is not None else "training loss"},
        "backend": keras.backend.backend(),
        "keras_version": keras.__version__,
        "params": model.count_params(),
        "distribute": plan.describe(),
    }
    job = RunSetup(model=model, train=train, val=val, test=test, schedule=schedule,
                   epoch=epoch, run_dir=run_dir, config=config)
    # the callbacks' (or the LR finder's) own refusals too, before any write
    if args.find_lr:
        job.finder = _finder(args, run_dir.path)
    else:
        job.callbacks = _callbacks(args, job)
    open_run_dir(run_dir, config, plan)
    return job


def open_run_dir(run_dir, config, plan):
    """`run_dir.open(config)` by process 0 alone: it checks drift, holds the lock and
    writes the run's files. In a multi-process run the others then learn whether it
    could (a collective), so that a refusal stops every process with one line."""
    from zoo.training import distribution

    if not plan.multi_process:
        run_dir.open(config)
        return
    refusal = None
    if distribution.is_chief():
        try:
            run_dir.open(config)
        except USER_ERRORS as err:
            refusal = err
    refused = distribution.gather([refusal is not None])[0, 0]
    if refusal is not None:
        raise refusal
    if refused:
        raise RunDirectoryError(
            f"process 0 refused the run directory {run_dir.path} (its error line says why), "
            f"so every process stops. Received: --run-dir {run_dir.path}"
        )


def _hparams(args, model, schedule):
    """The run's HParams: the values it trains with, as `config.json` records them (the
    optimizer's resolved rate and momentum, each player's for adversarial models, the
    schedule's peak), not the flags as typed."""
    hparams = {k: getattr(args, k) for k in
               ("model", "dataset", "optimizer", "batch_size", "epochs", "schedule", "seed")}
    players = getattr(model.optimizer, "by_player", None)
    optimizers = ({f"{p}_": o for p, o in players.items()} if isinstance(players, dict)
                  else {"": model.optimizer})
    for prefix, optimizer in optimizers.items():
        inner = inner_optimizer(optimizer)
        hparams[prefix + "lr"] = _number(compat.learning_rate_object(inner))
        attr = momentum_attribute(inner)
        if attr is not None:
            hparams[prefix + "momentum"] = float(getattr(inner, attr))
    if schedule is not None:  # the rate the schedule starts at and its peak
        peak = getattr(schedule, "max_lr", None) or schedule.lr
        hparams["lr"] = _number(getattr(schedule, "initial_lr", peak))
        hparams["max_lr"] = _number(peak)
        momentum = getattr(schedule, "momentum", None)
        if momentum is not None:  # onecycle's momentum range: its peak
            hparams["momentum"] = float(momentum[1])
    elif "lr" in hparams:
        hparams["max_lr"] = hparams["lr"]
    # what fine-tuning started from, and how (ULMFiT's options)
    hparams["weights"] = args.weights or "none"
    hparams["layer_lr_decay"] = float(args.layer_lr_decay)
    hparams["gradual_unfreezing"] = bool(args.gradual_unfreezing)
    return hparams


def _number(value):
    import keras

    if isinstance(value, keras.optimizers.schedules.LearningRateSchedule):
        value = value(0)
    return float(f"{float(keras.ops.convert_to_numpy(value)):.7g}")  # float32's digits


def run(args, argv, extra_callbacks=(), plan=None, run_path=None):
    """Trains as `args` say; returns (model, test metrics dict, run dir)."""
    job = setup(args, argv, plan, run_path)
    try:
        return _train(args, job, extra_callbacks)
    finally:
        job.run_dir.close()


def _callbacks(args, job):
    """The run's callbacks, built (and so checked) before the run directory is opened."""
    import callbacks

    model, run_dir = job.model, job.run_dir.path
    monitor = check_monitor(args, model, job.val, job.train)
    standard = callbacks.standard_callbacks(
        run_dir,
        schedule=job.schedule,
        monitor=monitor or "val_loss",
        save_best=monitor is not None,
        keep=args.keep_checkpoints,
        resume=args.resume,
        tensorboard=args.tensorboard,
        update_freq=args.tb_update_freq,
        hparams=_hparams(args, model, job.schedule),
        trial_id=run_dir.name,
        data_epoch=job.epoch,
    )
    for callback in standard:  # a schedule too short for the data: refused now
        if isinstance(callback, callbacks.Scheduler):
            callback.resolved(args.epochs, _steps_per_epoch(job.train))
    if args.gradual_unfreezing:  # first: it sets the trainable layers the epoch trains
        standard.insert(0, callbacks.GradualUnfreezing(args.layer_lr_decay,
                                                       verbose=int(args.verbose > 0)))
    return standard + family_callbacks(model, run_dir)


def _steps_per_epoch(dataset):
    steps = int(dataset.cardinality())
    return steps if steps > 0 else None


def _train(args, job, extra_callbacks):
    import callbacks
    from zoo.training.distribution import is_chief, local_only

    model, run_dir = job.model, job.run_dir.path
    checkpoint = next(c for c in job.callbacks if isinstance(c, callbacks.Checkpoint))
    callbacks_ = job.callbacks + list(extra_callbacks)
    start = time.time()
    # shuffle=False: the dataset shuffles itself (keras would only warn that it ignores it)
    model.fit(
        job.train,
        validation_data=job.val,
        epochs=args.epochs,
        callbacks=callbacks_,
        verbose=args.verbose,
        shuffle=False,
    )
    wall = time.time() - start
    # the checkpoint's record covers the epochs of an interrupted run too
    history = {}
    for logs in checkpoint.history:
        for k, v in logs.items():
            history.setdefault(k, []).append(float(v))
    results = model.evaluate(job.test, return_dict=True, verbose=0)  # every process takes part
    results = {k: float(v) for k, v in results.items()}
    metrics = {"test": results, "train_seconds": wall, "epochs": args.epochs}
    if checkpoint.restored_epoch is not None:
        metrics["resumed_after_epoch"] = checkpoint.restored_epoch
    if is_chief():
        write_json_atomic(run_dir / "history.json", history)
        write_json_atomic(run_dir / "metrics.json", metrics)
        with atomic_path(run_dir / "model.keras") as tmp, local_only():
            model.save(tmp)
    return model, results, run_dir


def family_callbacks(model, run_dir):
    """What a family's runs add to the standard callbacks: image grids for generative models."""
    import callbacks

    if callable(getattr(model, "preview_images", None)):
        return [callbacks.ImageGrid(run_dir, inputs=getattr(model, "preview_inputs", None))]
    return []


def find_lr(args, argv, plan=None, run_path=None):
    """Runs the learning-rate range test; returns (suggested lr, plot path, run dir)."""
    job = setup(args, argv, plan, run_path)
    with job.run_dir:
        return _find_lr(job.finder, job.model, job.train, job.run_dir.path)


def _finder(args, run_dir):
    import callbacks
    from zoo.training.distribution import is_chief

    return callbacks.LRFinder(
        min_lr=args.find_lr_min,
        max_lr=args.find_lr_max,
        num_steps=args.find_lr_steps,
        plot_path=run_dir / "lr_finder.png" if is_chief() else None,
    )


def _find_lr(finder, model, train, run_dir):
    from zoo.training.distribution import is_chief

    plot = run_dir / "lr_finder.png"
    suggestion = finder.find(model, train)
    if not is_chief():
        return suggestion, plot, run_dir
    write_json_atomic(
        run_dir / "lr_finder.json",
        {
            "suggested_lr": suggestion,
            "lr": finder.lrs,
            "loss": finder.losses,
            "smoothed_loss": finder.smoothed,
            "diverged": finder.diverged,
        },
    )
    return suggestion, plot, run_dir


def main(argv=None, extra_callbacks=()):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    run_path = args.run_dir or default_run_dir(args.model, args.dataset)
    try:
        import keras

        plan = distribute.plan(args, keras.backend.backend())
        with distribute.guard(plan):
            return _main(args, argv, plan, extra_callbacks, run_path)
    except NonFiniteError as err:  # the data or the learning rate, not the command
        print(f"error: {one_line(err)}", file=sys.stderr)
        return 1
    except USER_ERRORS as err:
        return report(err)
    except KeyboardInterrupt:
        print(f"error: interrupted (Ctrl-C). {resume_hint(args, argv, run_path)}",
              file=sys.stderr)
        return 130


def resume_hint(args, argv, run_path):
    """What to run after an interruption: the same command with --resume, if a state exists."""
    if args.find_lr:
        return "The LR finder writes its result at its end: run the command again."
    if not RunDirectory(run_path).states():
        return ("No epoch had ended, so there is nothing to resume: run the command again "
                f"(its run directory is {run_path}).")
    again = [a for a in argv if a not in ("--overwrite", "--resume")]
    if args.run_dir is None:  # the default directory, named for the resume
        again += ["--run-dir", str(run_path)]
    return ("The run keeps its last checkpoint; continue it with: python scripts/train.py "
            f"{shlex.join(again + ['--resume'])}")


def _main(args, argv, plan, extra_callbacks, run_path=None):
    if args.find_lr:
        suggestion, plot, run_dir = find_lr(args, argv, plan, run_path)
        print(
            f"suggested learning rate: {suggestion:.3g}"
            if suggestion is not None
            else "suggested learning rate: none (too few points; see the plot)"
        )
        print(f"Plot written to {plot}")
        return 0
    _, results, run_dir = run(args, argv, extra_callbacks, plan, run_path)
    for key, value in results.items():
        print(f"test {key}: {value:.4f}")
    print(f"Run written to {run_dir}")
    return 0
