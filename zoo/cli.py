"""The `zoo` command: `zoo train|evaluate|tune|bench|list|info ...`."""

import importlib
import sys

from zoo.jobs import apply_backend_flag

COMMANDS = {
    "train": "zoo.jobs.train",
    "evaluate": "zoo.jobs.evaluate",
    "tune": "zoo.jobs.tune",
    "bench": "zoo.jobs.bench",
    "publish-weights": "zoo.jobs.publish_weights",
    "list": None,
    "info": None,
}


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print("usage: zoo {" + ",".join(COMMANDS) + "} ...")
        if argv and argv[0] not in ("-h", "--help"):
            print(f"error: unknown command. Received: {argv[0]!r}")
            return 2
        return 0
    command, rest = argv[0], argv[1:]
    apply_backend_flag(rest)
    if command == "list":
        import zoo

        print("\n".join(zoo.list_models(rest[0] if rest else "*")))
        return 0
    if command == "info":
        import json

        import zoo

        print(json.dumps(zoo.model_info(rest[0]), indent=2, default=str))
        return 0
    return importlib.import_module(COMMANDS[command]).main(rest)


if __name__ == "__main__":
    sys.exit(main())
