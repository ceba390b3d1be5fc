"""The examples of the reference pages run: each page's `python` blocks, in order, in one
namespace (a page's later blocks use what its earlier ones defined)."""

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
#: pages whose every `python` block is an example to run (adding-a-family.md's blocks are
#: excerpts of a family's modules, not programs)
PAGES = ["transformers.md"]


def blocks(page):
    return re.findall(r"^```python\n(.*?)^```", (DOCS / page).read_text(), re.S | re.M)


@pytest.mark.parametrize("page", PAGES)
def test_every_python_example_of_the_page_runs(page):
    found = blocks(page)
    assert found, f"{page} has no python example"
    namespace = {"__name__": f"docs_{page}"}
    for i, code in enumerate(found):
        exec(compile(code, f"{page} (python block {i + 1})", "exec"), namespace)
