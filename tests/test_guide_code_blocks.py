"""Code shown is code tested: every block in a guide is run, or included from its example."""

import re

import pytest

from lab.doctests import RUN_LANGUAGES, sybil

from .handbook import REPO

GUIDES = sorted(p for p in (REPO / "guides").glob("*.md") if p.name != "README.md")
FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,}|:{3,})[ \t]*(?P<info>\S*)[ \t]*(?P<argument>\S*)")
CODE_DIRECTIVES = {"{code-block}", "{code}", "{sourcecode}", "{code-cell}"}


def written_blocks(text: str) -> list[tuple[str, int, int]]:
    """Every code block written (not included) in a MyST page: language, first and last line (1-based).

    Directive fences (```{note}, :::{tab-item}) are containers whose content is
    scanned too; a code fence's content is skipped up to its closing fence.
    """
    blocks, containers = [], []
    lines = iter(enumerate(text.splitlines(), start=1))
    for number, line in lines:
        match = FENCE.match(line)
        if not match:
            continue
        fence, info, argument = match["fence"], match["info"], match["argument"]
        if containers and not info and fence[0] == containers[-1][0] and len(fence) >= containers[-1][1]:
            containers.pop()
        elif info in CODE_DIRECTIVES or (fence[0] != ":" and not info.startswith("{")):
            language = (argument if info in CODE_DIRECTIVES else info) or "(none)"
            closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
            end = next((at for at, rest in lines if closing.match(rest)), number)
            blocks.append((language, number, end))
        else:
            containers.append((fence[0], len(fence)))
    return blocks


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.stem)
def test_every_written_block_is_run(guide):
    blocks = written_blocks(guide.read_text())
    not_run = [f"{language} (line {start})" for language, start, _ in blocks if language not in RUN_LANGUAGES]
    assert not not_run, (
        f"{guide.relative_to(REPO)} writes blocks that nothing runs: {', '.join(not_run)}. "
        "Include them from the example (literalinclude) or write them in Python."
    )
    run_lines = [example.line for example in sybil.parse(guide)]
    for language, start, end in blocks:
        assert any(start < line < end for line in run_lines), f"{guide.name}: {language} block at line {start} not run"


def test_the_block_finder_sees_what_it_must():
    page = (
        "```python\n1\n```\n\n```console\n$ ls\n```\n\n```{literalinclude} x.py\n:lines: 2\n```\n\n"
        "::::{tab-set}\n:::{tab-item} A\n```{code-block} sql\nx\n```\n:::\n::::\n\n```\nbare\n```\n"
        ":::{code-block} ruby\nputs 1\n:::\n"
    )
    assert [language for language, _, _ in written_blocks(page)] == ["python", "console", "sql", "(none)", "ruby"]
    assert written_blocks(page)[0] == ("python", 1, 3)
