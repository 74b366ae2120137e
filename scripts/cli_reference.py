"""Write docs/cli.md from the `provhub` commands' own help (tests/test_docs.py checks it is current).

python scripts/cli_reference.py > docs/cli.md
"""

from __future__ import annotations

import click

from provhub.app.cli import load_commands

INTRO = """# provhub command reference

Generated from the commands' help by `python scripts/cli_reference.py > docs/cli.md`;
`tests/test_docs.py` fails when it is out of date. Every command that uses a store takes
`--store URL` (default: `PROVHUB_STORE_URL`, see [settings.md](settings.md)). Errors print one line
`code: message (at where)` on stderr and exit with code 1.
"""


def _walk(cmd: click.Command, path: list[str]):
    yield path, cmd
    if isinstance(cmd, click.Group):
        for name in sorted(cmd.commands):
            yield from _walk(cmd.commands[name], path + [name])


def reference() -> str:
    root = load_commands()
    parts = [INTRO]
    for path, cmd in _walk(root, ["provhub"]):
        ctx = click.Context(
            cmd, info_name=" ".join(path), terminal_width=100, max_content_width=100, help_option_names=["-h", "--help"]
        )
        parts.append(f"## `{' '.join(path)}`\n\n```\n{cmd.get_help(ctx)}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(reference(), end="")
