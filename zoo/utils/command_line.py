"""What the command-line entries share: a user's mistake is one line, a bug a traceback.

```python
parser = ArgumentParser(prog="train.py")
...
try:
    run(args)
except USER_ERRORS as err:
    return report(err)      # one line on stderr, status 2
```

Anything else propagates to the entry (`zoo.cli`), which prints its traceback and
a line saying it is a bug in the zoo (`report_bug`). `ZOO_DEBUG=1` or
`--traceback` (accepted by every script) prints the traceback of user errors too.
"""

import argparse
import errno
import os
import sys
import traceback

from zoo.errors import UserError

#: errors of the user's request: the zoo's own user errors (bad values, names, types, a
#: missing optional package) and the operating system's file errors (a missing,
#: unreadable or unwritable file, a full disk). Anything else is a bug in the zoo.
USER_ERRORS = (UserError, OSError)
#: errors of the machine rather than of the command (exit status 1)
_MACHINE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EIO)
#: where a bug is reported
BUG_REPORTS = "the keras-zoo issue tracker (`issues` in this project)"
DEBUG_VARIABLE = "ZOO_DEBUG"


class _Traceback(argparse.Action):
    """`--traceback`: as ZOO_DEBUG=1, for this process."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=False, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        os.environ[DEBUG_VARIABLE] = "1"
        setattr(namespace, self.dest, True)


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, whose errors are one line: `error: message (see PROG --help)`;
    it accepts `--traceback` (print the traceback of every error) and no abbreviated
    options."""

    def __init__(self, *args, **kwargs):
        # no prefixes of long options: a renamed flag fails instead of matching another
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        self.add_argument("--traceback", action=_Traceback,
                          help=f"print the traceback of every error (as {DEBUG_VARIABLE}=1)")

    def error(self, message):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def debug():
    """True when ZOO_DEBUG is set to anything but "", "0" or "false"."""
    return os.environ.get(DEBUG_VARIABLE, "").lower() not in ("", "0", "false")


def one_line(err):
    """The message of `err` on one line."""
    return " ".join(str(err).split()) or type(err).__name__


def report(err):
    """Prints `err` as one line on stderr (after its traceback with ZOO_DEBUG=1); returns
    the exit status: 1 for a full disk or an I/O failure, 2 for anything the user can
    correct."""
    if debug():
        traceback.print_exception(err)
    print(f"error: {one_line(err)}", file=sys.stderr)
    if isinstance(err, OSError) and err.errno in _MACHINE_ERRNOS:
        return 1
    return 2


def report_bug(err):
    """Prints the traceback of `err` and a line saying it is a bug in the zoo; returns 1."""
    traceback.print_exception(err)
    print(f"error: this is a bug in keras-zoo, not a mistake in the command "
          f"({type(err).__name__}: {one_line(err)}). Please report it, with the traceback "
          f"above and the command, to {BUG_REPORTS}.", file=sys.stderr)
    return 1


def is_missing_package(err):
    """True for an ImportError of a package outside the zoo (torch for `--backend torch`,
    an exporter): the user's installation, not a bug."""
    if isinstance(err, UserError):
        return True
    name = getattr(err, "name", None) or ""
    return isinstance(err, ModuleNotFoundError) and name.split(".")[0] not in (
        "zoo", "callbacks", "")
