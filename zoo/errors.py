"""The zoo's user errors: a mistake in what the user asked, as opposed to a bug in the zoo.

Every check of a user's input raises one of these, with a message that names the
argument and the value received (`Received: name=value`). They subclass the
built-in error they stand for, so API users catch `ValueError` or `TypeError` as
usual; the command line prints them as one line and exits with status 2, while
any other exception is a bug in the zoo and keeps its traceback
(`zoo.utils.command_line`).

```python
from zoo.errors import UserValueError

if units <= 0:
    raise UserValueError(f"`units` must be > 0. Received: units={units!r}")
```
"""


class UserError(Exception):
    """The base of the zoo's user errors: the command line reports them in one line."""


class UserValueError(UserError, ValueError):
    """A bad value: out of range, unknown name, a file of the wrong content."""


class UserTypeError(UserError, TypeError):
    """A value of the wrong type."""


class UserImportError(UserError, ImportError):
    """An optional package that the request needs is missing (or the backend is not one
    the zoo supports)."""


class UserFileNotFoundError(UserError, FileNotFoundError):
    """A file or folder the request names does not exist."""
