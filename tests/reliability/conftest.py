import os

import pytest
from reliability_testlib import train_argv


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory):
    """(run directory, [(file name, stage)] of every write) of a finished 2-epoch
    train.py run, trained once; tests work on copies."""
    from zoo.jobs import train
    from zoo.utils import files

    run = tmp_path_factory.mktemp("finished") / "run"
    writes = []

    def record(path, stage):
        writes.append((os.path.basename(path), stage))

    files.WRITE_HOOKS.append(record)
    try:
        assert train.main(train_argv(run)) == 0
    finally:
        files.WRITE_HOOKS.remove(record)
    return run, writes


@pytest.fixture(scope="session")
def finished(finished_run):
    return finished_run[0]
