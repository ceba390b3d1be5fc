"""The `zoo` command: `zoo train|evaluate|tune|bench|export|publish-weights|list|info ...`."""

import importlib
import json
import os
import sys

COMMANDS = {
    "train": "zoo.jobs.train",
    "evaluate": "zoo.jobs.evaluate",
    "tune": "zoo.jobs.tune",
    "bench": "zoo.jobs.bench",
    "export": "zoo.jobs.export",
    "publish-weights": "zoo.jobs.publish_weights",
    "list": None,
    "info": None,
}


def _backend_flag(argv):
    for i, arg in enumerate(argv):
        if arg == "--backend" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--backend="):
            return arg.split("=", 1)[1]
    return None


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print("usage: zoo {" + ",".join(COMMANDS) + "} ...")
        if argv and argv[0] not in ("-h", "--help"):
            print(f"error: unknown command. Received: {argv[0]!r}", file=sys.stderr)
            return 2
        return 0
    import keras

    backend = _backend_flag(argv)
    if backend and backend != keras.backend.backend():
        # keras fixed its backend when `zoo` was imported: start again with it set.
        os.environ["KERAS_BACKEND"] = backend
        os.execv(sys.executable, [sys.executable, "-m", "zoo.cli", *argv])
    command, rest = argv[0], argv[1:]
    if command in ("list", "info"):
        rest = [a for i, a in enumerate(rest)
                if not a.startswith("--backend") and (i == 0 or rest[i - 1] != "--backend")]
        import zoo

        if command == "list":
            print("\n".join(zoo.list_models(rest[0] if rest else "*")))
        else:
            info = {**zoo.model_info(rest[0]), "backend": keras.backend.backend()}
            print(json.dumps(info, indent=2, default=str))
        return 0
    return importlib.import_module(COMMANDS[command]).main(rest)


if __name__ == "__main__":
    sys.exit(main())
