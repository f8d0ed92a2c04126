"""Every Python code block of the README and the Sphinx pages runs as written.

Which blocks run (the rule, also for blocks added later):

- ``README.md``: fenced blocks tagged ``python``, ``py``, ``python3`` or
  ``pycon``, and untagged fences whose text parses as Python. Blocks tagged
  with another language (``bash``, ``text``, ...) do not run, so a shell
  snippet must say ``bash``.
- ``docs/*.rst``: ``.. code-block::`` (also ``.. code::`` and
  ``.. sourcecode::``) with one of those languages; literal blocks introduced
  by ``::`` whose text parses as Python (Sphinx highlights them as Python);
  and doctest blocks (paragraphs of ``>>>`` lines). A shell or text snippet
  goes in ``.. code-block:: bash`` (or ``text``).
- A block whose first line starts with ``>>>`` runs as a doctest: its printed
  output is compared, with ``ELLIPSIS`` and ``NORMALIZE_WHITESPACE``. Any
  other block runs with ``exec``.

Each file runs in one fresh namespace, its blocks in document order, so a
block may use what an earlier block of the same file defined (a reader
pastes them in order). Nothing is skipped and nothing is patched: blocks are
written to run in seconds on bundled data (small ``max_iter`` where a fit
would be long). They run in a temporary working folder (blocks may write
files) with matplotlib's Agg backend. Tracebacks give the line in the
document.
"""

import ast
import doctest
import re
import textwrap
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.rst"))]
PYTHON_LANGUAGES = {"python", "py", "python3", "pycon"}


@dataclass
class Block:
    """A code block: where it starts (1-based line of its first line), its text."""

    name: str
    line: int
    source: str

    @property
    def is_doctest(self) -> bool:
        return self.source.lstrip().startswith(">>>")


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except SyntaxError:
        return False
    return True


# ------------------------------------------------------------------ markdown
_FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)")


def markdown_blocks(text: str, name: str = "<markdown>") -> list[Block]:
    """The Python blocks of a Markdown text, in order."""
    lines = text.splitlines()
    blocks, i = [], 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence, language = match.groups()
        start, i = i + 1, i + 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            i += 1
        body = [line[len(indent) :] for line in lines[start:i]]
        source = textwrap.dedent("\n".join(body))
        language = language.lower()
        if language in PYTHON_LANGUAGES or (
            not language and source.strip() and _parses(source)
        ):
            blocks.append(Block(name, start + 1, source))
        i += 1  # past the closing fence
    return blocks


# ---------------------------------------------------------------------- rst
_DIRECTIVE = re.compile(r"^(\s*)\.\. (?:code-block|code|sourcecode)::\s*(\S*)\s*$")
_OTHER_DIRECTIVE = re.compile(r"^\s*\.\.(\s|$)")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _indented_body(lines: list[str], i: int, indent: int) -> tuple[int, int]:
    """(first, end) line indices of the block indented deeper than ``indent``.

    ``i`` is the line after the marker; options (``:linenos:``) and blank
    lines before the body are skipped.
    """
    while i < len(lines) and (
        not lines[i].strip()
        or (lines[i].strip().startswith(":") and _indent(lines[i]) > indent)
    ):
        i += 1
    first = end = i
    while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > indent):
        if lines[i].strip():
            end = i + 1
        i += 1
    return first, end


def rst_blocks(text: str, name: str = "<rst>") -> list[Block]:
    """The Python blocks of a reStructuredText text, in order."""
    lines = text.splitlines()
    blocks, i = [], 0
    while i < len(lines):
        line = lines[i]
        directive = _DIRECTIVE.match(line)
        if directive:
            indent, language = len(directive.group(1)), directive.group(2).lower()
            first, end = _indented_body(lines, i + 1, indent)
            source = textwrap.dedent("\n".join(lines[first:end]))
            if language in PYTHON_LANGUAGES:
                blocks.append(Block(name, first + 1, source))
            i = max(end, i + 1)
            continue
        if _OTHER_DIRECTIVE.match(line):
            # another directive or a comment: its indented body is not a
            # literal block (a directive's content is its own business)
            _, end = _indented_body(lines, i + 1, _indent(line))
            i = max(end, i + 1)
            continue
        if line.rstrip().endswith("::") and line.strip():
            first, end = _indented_body(lines, i + 1, _indent(line))
            source = textwrap.dedent("\n".join(lines[first:end]))
            if first < end and _parses(source):
                blocks.append(Block(name, first + 1, source))
            i = max(end, i + 1)
            continue
        if line.lstrip().startswith(">>>"):
            first = i
            while i < len(lines) and lines[i].strip():
                i += 1
            source = textwrap.dedent("\n".join(lines[first:i]))
            blocks.append(Block(name, first + 1, source))
            continue
        i += 1
    return blocks


def doc_blocks(path: Path) -> list[Block]:
    """The Python blocks of a README.md or a docs/*.rst file."""
    text = path.read_text()
    name = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    if path.suffix == ".md":
        return markdown_blocks(text, name)
    return rst_blocks(text, name)


# ------------------------------------------------------------------- runner
class BlockFailed(AssertionError):
    """A documentation block raised or printed something else than shown."""


def run_blocks(blocks: list[Block]) -> dict:
    """Run the blocks in order in one fresh namespace; return the namespace.

    Raises BlockFailed naming the file and line of the first block that fails.
    """
    namespace: dict = {"__name__": "__main__"}
    for block in blocks:
        where = f"{block.name}, block at line {block.line}"
        if block.is_doctest:
            parser = doctest.DocTestParser()
            test = parser.get_doctest(
                block.source, namespace, where, block.name, block.line - 1
            )
            flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
            runner = doctest.DocTestRunner(optionflags=flags)
            report: list[str] = []
            runner.run(test, out=report.append, clear_globs=False)
            if runner.failures:
                raise BlockFailed(f"{where} failed:\n" + "".join(report))
            continue
        # leading newlines: tracebacks give the line numbers of the document
        padded = "\n" * (block.line - 1) + block.source
        try:
            exec(compile(padded, block.name, "exec"), namespace)
        except BaseException as exc:
            tb = "".join(traceback.format_exception(exc))
            raise BlockFailed(f"{where} raised:\n{tb}") from exc
    return namespace


# -------------------------------------------------------------------- tests
@pytest.fixture
def agg_in_tmp(tmp_path, monkeypatch):
    """Blocks run in a temporary folder with matplotlib's Agg backend."""
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    yield tmp_path
    plt.close("all")


@pytest.mark.parametrize(
    "path",
    [p for p in DOC_FILES if doc_blocks(p)],
    ids=lambda p: p.name,
)
def test_every_python_block_runs_as_written(path, agg_in_tmp):
    with warnings.catch_warnings():
        # convergence and collapse warnings of the short fits are expected
        warnings.simplefilter("ignore")
        run_blocks(doc_blocks(path))


def test_the_documents_have_python_blocks():
    names = {p.name: len(doc_blocks(p)) for p in DOC_FILES}
    assert names["README.md"] >= 5
    assert names["user_guide.rst"] >= 10
    assert names["index.rst"] >= 2


_MARKDOWN = """\
# Title

```python
x = 1
```

```bash
pip install skvae
```

```
skvae fit data.csv -o model.skvae
```

```
y = x + 1
```

```pycon
>>> y * 10
20
```
"""

_RST = """\
Title
=====

.. code-block:: python
   :linenos:

   x = 1

   y = x + 1

.. code-block:: bash

   pip install skvae

A literal block that is Python::

    z = y * 2

A literal block that is not::

    skvae fit data.csv -o model.skvae

.. note::

   This is not code.

>>> z + 1
5

.. list-table::

   * - a table, not code
"""


def test_extraction_follows_the_rule():
    md = markdown_blocks(_MARKDOWN)
    assert [b.source.strip() for b in md] == ["x = 1", "y = x + 1", ">>> y * 10\n20"]
    assert [b.line for b in md] == [4, 16, 20]
    assert md[-1].is_doctest
    assert not md[0].is_doctest
    rst = rst_blocks(_RST)
    assert [b.source.strip() for b in rst] == [
        "x = 1\n\ny = x + 1",
        "z = y * 2",
        ">>> z + 1\n5",
    ]
    assert [b.line for b in rst] == [7, 17, 27]
    assert run_blocks(md)["y"] == 2
    assert run_blocks(rst)["z"] == 4


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        (_MARKDOWN.replace("y = x + 1", "y = undefined + 1"), "md", "NameError"),
        (_MARKDOWN.replace("20", "21"), "md", "Expected:"),
        (_RST.replace("z = y * 2", "z = y * 2)"), "rst", "SyntaxError"),
        (_RST.replace("5", "6"), "rst", "Got:"),
        (_RST.replace("x = 1", "raise ValueError('boom')"), "rst", "boom"),
    ],
    ids=["name-error", "md-doctest-output", "syntax-error", "rst-doctest", "raises"],
)
def test_a_broken_block_fails(text, kind, message):
    blocks = markdown_blocks(text, "doc.md") if kind == "md" else rst_blocks(text)
    if kind == "rst" and message == "SyntaxError":
        # a literal block that does not parse is not Python: it is not run,
        # but the same text in a code-block must fail
        text = text.replace("A literal block that is Python::", ".. code-block:: py")
        blocks = rst_blocks(text)
    with pytest.raises(BlockFailed, match=message):
        run_blocks(blocks)


def test_a_failure_names_the_document_line():
    text = "intro\n\n```python\na = 1\nb = a / 0\n```\n"
    with pytest.raises(BlockFailed) as info:
        run_blocks(markdown_blocks(text, "README.md"))
    message = str(info.value)
    assert "README.md, block at line 4" in message
    assert 'File "README.md", line 5' in message
    assert "ZeroDivisionError" in message
