"""Generate the shell completions and the man page from cocainate's option table.

    python tools/generate.py [OUT_DIR]      # default: share/

The completions are what ``cocainate completion SHELL`` prints (cocainate.cli.completion);
the systemd user unit is what ``cocainate watch --print-unit`` prints, run through PATH;
the man page is argparse-manpage's, from the argparse parser built from the same table,
with the sections argparse has no place for. tests/test_generated.py fails when the
committed files are stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cocainate import __version__
from cocainate.cli.parsing import build_parser, synopsis

FILES = {
    "bash": "bash-completion/completions/cocainate",
    "zsh": "zsh/site-functions/_cocainate",
    "fish": "fish/vendor_completions.d/cocainate.fish",
    "man": "man/man1/cocainate.1",
    "unit": "systemd/user/cocainate-watch.service",
}


def _roff(text: str) -> str:
    return text.replace("\\", "\\e").replace("-", "\\-").replace('"', "\\(dq")


def man_sections(page: str) -> str:
    """argparse-manpage's page with a SYNOPSIS of one line per form, and the sections
    argparse has no place for: EXIT STATUS, ENVIRONMENT, EXAMPLES, SEE ALSO."""
    from cocainate.cli import options

    head, _, rest = page.partition(".SH SYNOPSIS\n")
    _, _, rest = rest.partition(".SH DESCRIPTION")
    forms = "".join(f".br\n.B cocainate\n{_roff(form)}\n" for form in synopsis()).removeprefix(
        ".br\n"
    )
    # argparse-manpage's sections, as a man page orders them: the description, the options,
    # then each subcommand; not its "POSITIONAL ARGUMENTS" (the subcommands, which the
    # SYNOPSIS lists and a section each describes) nor its "COMMENTS" (--help's epilog: the
    # exit statuses, which have their own section below).
    description, *sections = rest.split("\n.SH")
    kept: dict[str, list[str]] = {"OPTIONS": [], "COMMAND": []}
    for section in sections:
        title = section.strip().split(None, 1)[0] if section.strip() else ""
        if section.startswith("\nPOSITIONAL ARGUMENTS") or title == "COMMENTS":
            continue
        kept["OPTIONS" if section.startswith(" OPTIONS\n") else "COMMAND"].append(section)
    body = "".join(f"\n.SH{s}" for s in (*kept["OPTIONS"], *kept["COMMAND"]))
    out = [head, ".SH SYNOPSIS\n", forms, ".SH DESCRIPTION", description, body.rstrip("\n")]
    out.append("\n")
    out.append(".SH EXIT STATUS\n")
    for status, meaning in options.EXIT_STATUS:
        out.append(f".TP\n.B {status}\n{_roff(meaning)}\n")
    out.append(".SH ENVIRONMENT\n")
    for name, meaning in options.ENVIRONMENT:
        out.append(f".TP\n.B {name}\n{_roff(meaning)}\n")
    out.append(".SH FILES\n")
    for name, meaning in options.FILES:
        out.append(f".TP\n.B {_roff(name)}\n{_roff(meaning)}\n")
    out.append(".SH EXAMPLES\n")
    for command, meaning in options.EXAMPLES:
        out.append(f".TP\n.B {_roff(command)}\n{_roff(meaning)}\n")
    out.append(".SH SEE ALSO\n")
    out.append(",\n".join(f".BR {name} ({section})" for name, section in options.SEE_ALSO))
    out.append("\n")
    return "".join(out)


DOCS = Path(__file__).parent.parent / "docs" / "cli.md"
BEGIN, END = (
    "<!-- exit-status: tools/generate.py writes this from the option table -->",
    "<!-- /exit-status -->",
)


def exit_status_table() -> str:
    """docs/cli.md's table of the exit statuses, from the one table of them."""
    from cocainate.cli import options

    rows = [f"| {status} | {meaning} |" for status, meaning in options.EXIT_STATUS]
    return "\n".join([BEGIN, "| status | meaning |", "| --- | --- |", *rows, END])


def with_exit_statuses(text: str) -> str:
    """``text`` (docs/cli.md) with its table of exit statuses made anew."""
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return head + exit_status_table() + tail


def generate() -> dict[str, str]:
    from argparse_manpage.manpage import Manpage

    from cocainate.cli.completion import script
    from cocainate.cli.watch import unit

    parser = build_parser()
    return {
        "bash": script("bash"),
        "zsh": script("zsh"),
        "fish": script("fish"),
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
        # PATH finds cocainate wherever a system-wide install put it; a user's own install
        # writes its unit with its own path: cocainate watch --print-unit
        "unit": unit("/usr/bin/env cocainate"),
    }


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent.parent / "share")
    for kind, text in generate().items():
        path = root / FILES[kind]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(path)
    if len(sys.argv) == 1:
        DOCS.write_text(with_exit_statuses(DOCS.read_text()))
        print(DOCS)


if __name__ == "__main__":
    main()
