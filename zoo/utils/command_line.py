"""What the command-line entries share: a user's mistake is one line on stderr, status 2.

```python
parser = ArgumentParser(prog="train.py")
...
try:
    run(args)
except USER_ERRORS as err:
    return report(err)
```
"""

import argparse
import errno
import sys

#: errors a user's input causes: a bad value, a missing, unreadable or unwritable file,
#: a missing optional package. Anything else is a bug and keeps its traceback.
USER_ERRORS = (ValueError, TypeError, OSError, ImportError)
#: errors of the machine rather than of the command (exit status 1)
_MACHINE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EIO)


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, whose errors are one line: `error: message (see PROG --help)`."""

    def error(self, message):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def one_line(err):
    """The message of `err` on one line."""
    return " ".join(str(err).split()) or type(err).__name__


def report(err):
    """Prints `err` as one line on stderr; returns the exit status: 1 for a full disk or an
    I/O failure, 2 for anything the user can correct."""
    print(f"error: {one_line(err)}", file=sys.stderr)
    if isinstance(err, OSError) and err.errno in _MACHINE_ERRNOS:
        return 1
    return 2
