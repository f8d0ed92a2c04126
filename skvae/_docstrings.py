"""Docstrings of variants that take exactly their sibling's parameters."""

from __future__ import annotations

import re

_SECTION = re.compile(r"^    (\w[\w ]*)\n    -+\n", flags=re.M)


def _sections(doc: str) -> tuple[str, dict[str, str]]:
    """The text before the first numpydoc section, and each section's text."""
    heads = list(_SECTION.finditer(doc))
    if not heads:
        return doc, {}
    sections = {}
    for head, nxt in zip(heads, [*heads[1:], None], strict=True):
        end = nxt.start() if nxt is not None else len(doc)
        sections[head.group(1)] = doc[head.start() : end]
    return doc[: heads[0].start()], sections


def with_parameters_of(doc: str, sibling: type) -> str:
    """``doc`` with the Parameters and Attributes sections of ``sibling``'s.

    A variant such as ``LadderVAE`` takes exactly the parameters of its
    sibling (``HierarchicalVAE``) and is fitted the same way: its docstring
    states what differs (its summary, See Also, References, Examples) and
    takes the rest from the sibling, so the two never drift apart.

    Parameters
    ----------
    doc : str
        The variant's own docstring, without Parameters and Attributes.
    sibling : type
        The class whose Parameters and Attributes it shares.

    Returns
    -------
    str
        The full docstring, sections in numpydoc's order.

    Examples
    --------
    >>> class A:
    ...     '''A.
    ...
    ...     Parameters
    ...     ----------
    ...     k : int
    ...         Size.
    ...     '''
    >>> doc = with_parameters_of('''B.
    ...
    ...     Examples
    ...     --------
    ...     >>> 1
    ...     1
    ...     ''', A)
    >>> "k : int" in doc and doc.index("Parameters") < doc.index("Examples")
    True
    """
    intro, own = _sections(doc)
    _, theirs = _sections(sibling.__doc__ or "")
    order = ("Parameters", "Attributes", "See Also", "Notes", "References")
    merged = {
        **own,
        **{k: theirs[k] for k in ("Parameters", "Attributes") if k in theirs},
    }
    names = [k for k in order if k in merged] + [k for k in merged if k not in order]
    body = "".join(
        merged[k] if merged[k].endswith("\n\n") else merged[k] + "\n" for k in names
    )
    return intro + body
