"""Generate the shell completions and the man page from cocainate's argparse parser.

    python tools/generate.py [OUT_DIR]      # default: share/

bash and zsh by shtab, the man page by argparse-manpage, fish by the small generator below
(shtab has no fish). tests/test_generated.py fails when the committed files are stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cocainate import __version__
from cocainate.cli.parsing import build_parser

FILES = {
    "bash": "bash-completion/completions/cocainate",
    "zsh": "zsh/site-functions/_cocainate",
    "fish": "fish/vendor_completions.d/cocainate.fish",
    "man": "man/man1/cocainate.1",
}


def fish(parser: argparse.ArgumentParser) -> str:
    prog = parser.prog
    out = [
        f"# fish completion for {prog}, generated from its parser by tools/generate.py",
        f"complete -c {prog} -f",
    ]
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    commands = subparsers[0] if subparsers else None
    if commands is not None:
        for choice in commands._choices_actions:
            out.append(
                f"complete -c {prog} -n __fish_use_subcommand -a {choice.dest} "
                f"-d {_quote(choice.help or '')}"
            )
    out += _options(
        prog,
        parser,
        "not __fish_seen_subcommand_from " + " ".join(commands.choices if commands else []),
    )
    if commands is not None:
        for name, sub in commands.choices.items():
            out += _options(prog, sub, f"__fish_seen_subcommand_from {name}")
    return "\n".join(out) + "\n"


def _options(prog: str, parser: argparse.ArgumentParser, condition: str) -> list[str]:
    lines = []
    for action in parser._actions:
        if not action.option_strings or action.help == argparse.SUPPRESS:
            continue
        parts = [f"complete -c {prog} -n {_quote(condition)}"]
        for option in action.option_strings:
            parts.append(f"-l {option[2:]}" if option.startswith("--") else f"-s {option[1:]}")
        if action.nargs != 0:
            if action.choices:
                parts.append(f"-x -a {_quote(' '.join(map(str, action.choices)))}")
            elif action.dest == "pid":
                parts.append("-x -a '(__fish_complete_pids)'")
            else:
                parts.append("-x")
        parts.append(f"-d {_quote(action.help or '')}")
        lines.append(" ".join(parts))
    return lines


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _roff(text: str) -> str:
    return text.replace("\\", "\\e").replace("-", "\\-")


def man_sections(page: str) -> str:
    """argparse-manpage's page with a SYNOPSIS of one line per form, and the sections
    argparse has no place for: EXIT STATUS, ENVIRONMENT, EXAMPLES, SEE ALSO."""
    from cocainate.cli import options

    head, _, rest = page.partition(".SH SYNOPSIS\n")
    _, _, rest = rest.partition(".SH DESCRIPTION")
    synopsis = "".join(
        f".br\n.B cocainate\n{_roff(form)}\n" for form in options.SYNOPSIS
    ).removeprefix(".br\n")
    out = [head, ".SH SYNOPSIS\n", synopsis, ".SH DESCRIPTION", rest.rstrip("\n"), "\n"]
    out.append(".SH EXIT STATUS\n")
    for status, meaning in options.EXIT_STATUS:
        out.append(f".TP\n.B {status}\n{_roff(meaning)}\n")
    out.append(".SH ENVIRONMENT\n")
    for name, meaning in options.ENVIRONMENT:
        out.append(f".TP\n.B {name}\n{_roff(meaning)}\n")
    out.append(".SH EXAMPLES\n")
    for command, meaning in options.EXAMPLES:
        out.append(f".TP\n.B {_roff(command)}\n{_roff(meaning)}\n")
    out.append(".SH SEE ALSO\n")
    out.append(",\n".join(f".BR {name} ({section})" for name, section in options.SEE_ALSO))
    out.append("\n")
    return "".join(out)


def generate() -> dict[str, str]:
    import shtab
    from argparse_manpage.manpage import Manpage

    parser = build_parser()
    return {
        "bash": shtab.complete(parser, shell="bash"),
        "zsh": shtab.complete(parser, shell="zsh"),
        "fish": fish(parser),
        "man": man_sections(
            str(
                Manpage(
                    parser,
                    _data={
                        "description": "keep the screen or the system awake, then let go",
                        "project_name": "cocainate",
                        "version": __version__,
                        "manual_title": "User Commands",
                    },
                )
            )
        ),
    }


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent.parent / "share")
    for kind, text in generate().items():
        path = root / FILES[kind]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(path)


if __name__ == "__main__":
    main()
