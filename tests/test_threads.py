"""default_threads and limit_threads: torch's pools sized for a shared machine."""

import os

import pytest
import torch
from threadpoolctl import threadpool_info

from skvoice import default_threads, limit_threads
from skvoice._cli import build_parser


def test_default_leaves_one_core():
    cores = len(os.sched_getaffinity(0))
    assert default_threads() == max(1, cores - 1)


def test_limit_threads_sets_and_restores_torch_and_blas():
    before = torch.get_num_threads()
    with limit_threads(1):
        assert torch.get_num_threads() == 1
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())
    assert torch.get_num_threads() == before
    with limit_threads():
        assert torch.get_num_threads() == default_threads()
    with pytest.raises(ValueError, match="at least 1"), limit_threads(0):
        pass


@pytest.mark.parametrize("command", ["demo", "train", "enroll", "verify", "evaluate", "eda"])
def test_every_command_takes_threads(command):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    assert "--threads" in sub._option_string_actions
    with pytest.raises(SystemExit):
        parser.parse_args([command, "--threads", "0"])
