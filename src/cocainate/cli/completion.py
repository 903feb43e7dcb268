"""Shell completion scripts for bash, zsh and fish, written from the option table.

``cocainate completion SHELL`` prints one; ``tools/generate.py`` writes the same text to
``share/`` for packagers. What each completes:

- the options, with their values where there is a closed set: ``--mode`` its modes,
  ``--method`` the mechanisms of the platform the shell runs on, ``-p`` process IDs;
- the subcommands, and their own options;
- after ``--``: a command name, then whatever that command completes (as ``sudo`` and
  ``systemd-inhibit`` do), through the shell's own machinery.

shtab (which wrote the bash and zsh scripts before) has no way to hand the words after
``--`` to another command's completion, so the three are written here; tests/
test_completion.py runs each shell for real.
"""

from typing import TYPE_CHECKING

from .. import mechanisms
from .options import OPTIONS, PROG, SUBCOMMANDS

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .options import Option, Subcommand


def script(shell: str) -> str:
    """The completion script for ``shell`` (one of :data:`.options.SHELLS`)."""
    return {"bash": bash, "zsh": zsh, "fish": fish}[shell]()


def _methods(platform: str) -> str:
    return " ".join(entry.name for entry in mechanisms.entries(platform))


def _header(shell: str) -> str:
    return (
        f"# {shell} completion for {PROG}, written from its option table by "
        f"'{PROG} completion {shell}'"
    )


# bash ------------------------------------------------------------------------------


def bash() -> str:
    valued = " ".join(flag for o in OPTIONS if o.takes_value for flag in o.flags)
    flags = " ".join([*(flag for o in OPTIONS for flag in o.flags), "-h", "--help", "--"])
    subs = " ".join(s.name for s in SUBCOMMANDS)
    sub_cases = "".join(f"        {s.name}) {_bash_sub_words(s)} ;;\n" for s in SUBCOMMANDS)
    value_cases = "".join(
        f"        {'|'.join(o.flags)}) {_bash_values(o)} return ;;\n"
        for o in OPTIONS
        if o.takes_value
    )
    return f"""{_header("bash")}

_{PROG}_methods() {{
    case "$(uname -s 2>/dev/null)" in
        Darwin) echo "{_methods("darwin")}" ;;
        CYGWIN* | MINGW* | MSYS*) echo "{_methods("win32")}" ;;
        *) echo "{_methods("linux")}" ;;
    esac
}}

_{PROG}() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD - 1]}}
    local i word sub='' skip=''
    COMPREPLY=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${{COMP_WORDS[i]}}
        if [[ $word == = ]]; then
            continue  # --flag=value, which bash splits into three words
        elif [[ -n $skip ]]; then
            skip=''
        elif [[ $word == -- ]]; then
            # '--' COMMAND ARGS: the command's own completion, as sudo's
            if declare -F _command_offset >/dev/null; then
                _command_offset $((i + 1))
            elif ((COMP_CWORD == i + 1)); then
                COMPREPLY=($(compgen -c -- "$cur"))
            else
                COMPREPLY=($(compgen -f -- "$cur"))
            fi
            return 0
        elif [[ " {valued} " == *" $word "* ]]; then
            skip=1
        elif [[ $word != -* && -z $sub ]]; then
            sub=$word
        fi
    done
    if [[ -z $skip ]]; then
        prev=''  # not an option's value: an option, a subcommand
    elif [[ $prev == = ]]; then
        prev=${{COMP_WORDS[COMP_CWORD - 2]}}
    fi
    case $prev in
{value_cases}    esac
    local words
    case $sub in
        '') if [[ $cur == -* ]]; then words='{flags}'; else words='{subs}'; fi ;;
{sub_cases}        *) return 0 ;;
    esac
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
}}

complete -F _{PROG} {PROG}
"""


def _bash_sub_words(sub: "Subcommand") -> str:
    flags = " ".join(["-h", "--help", *(f for o in sub.options for f in o.flags)])
    if sub.argument is None or not sub.argument.choices:
        return f"words='{flags}'"
    choices = " ".join(sub.argument.choices)
    return f"if [[ $cur == -* ]]; then words='{flags}'; else words='{choices}'; fi"


def _bash_values(option: "Option") -> str:
    if option.complete == "choices" and option.choices:
        found = f"compgen -W '{' '.join(option.choices)}' -- \"$cur\""
    elif option.complete == "method":
        found = f'compgen -W "$(_{PROG}_methods)" -- "$cur"'
    elif option.complete == "pid":
        found = 'compgen -W "$(ps -axo pid= 2>/dev/null)" -- "$cur"'
    elif option.complete == "process":
        found = 'compgen -W "$(ps -axo comm= 2>/dev/null | sed \'s,.*/,,\' | sort -u)" -- "$cur"'
    elif option.complete == "file":
        found = 'compgen -f -- "$cur"'
    else:
        return ""  # free text: nothing to offer
    return f"COMPREPLY=($({found}));"


# zsh -------------------------------------------------------------------------------


def zsh() -> str:
    main = " \\\n    ".join(_zsh_specs(OPTIONS, top=True))
    sub_list = "\n".join(f"    {_zsh_quote(s.name + ':' + s.help)}" for s in SUBCOMMANDS)
    sub_cases = "".join(
        f"        {s.name}) _arguments -s \\\n            "
        + " \\\n            ".join(_zsh_specs(s.options, top=False) + _zsh_argument(s))
        + " ;;\n"
        for s in SUBCOMMANDS
    )
    return f"""#compdef {PROG}
{_header("zsh")}

_{PROG}_methods() {{
  local -a names
  case $OSTYPE in
    darwin*) names=({_methods("darwin")}) ;;
    cygwin* | msys*) names=({_methods("win32")}) ;;
    *) names=({_methods("linux")}) ;;
  esac
  _describe -t mechanisms 'mechanism' names
}}

_{PROG}_subcommands() {{
  local -a subcommands=(
{sub_list}
  )
  _describe -t commands 'subcommand' subcommands
}}

_{PROG}() {{
  local dashdash=${{words[(i)--]}}
  if (( dashdash < CURRENT )); then
    # '--' COMMAND ARGS: the command's own completion, as for sudo
    words=("${{(@)words[dashdash + 1, -1]}}")
    (( CURRENT -= dashdash ))
    _normal
    return
  fi
  local curcontext=$curcontext state line ret=1
  _arguments -s -S -C \\
    {main} \\
    '1: :->subcommand' \\
    '*:: :->arguments' && ret=0
  case $state in
    subcommand) _{PROG}_subcommands && ret=0 ;;
    arguments)
      case $words[1] in
{sub_cases}      esac ;;
  esac
  return ret
}}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _{PROG} "$@"
else
  compdef _{PROG} {PROG}
fi
"""


def _zsh_specs(options: "Sequence[Option]", top: bool) -> "list[str]":
    specs = ["'(- *)'{-h,--help}'[show the help and exit]'"]
    for option in options:
        exclusive = [
            flag
            for other in options
            if option.exclusive is not None and other.exclusive == option.exclusive
            for flag in other.flags
        ]
        if option.dest == "version" and top:
            exclusive_text = "(- *)"
        elif option.repeat:
            exclusive_text = "*"
        else:
            exclusive_text = "(" + " ".join(exclusive or option.flags) + ")"
        help_text = "[" + _zsh_text(option.help, "]") + "]"
        if option.takes_value:
            value = ":" + _zsh_text(option.metavar or "value", ":") + ":" + _zsh_action(option)
        else:
            value = ""
        if len(option.flags) == 1:
            flag = option.flags[0] + ("=" if option.takes_value else "")
            specs.append(_zsh_quote(exclusive_text + flag + help_text + value))
        else:
            suffix = {"-": "+", "--": "="} if option.takes_value else {"-": "", "--": ""}
            names = ",".join(f + suffix["--" if f.startswith("--") else "-"] for f in option.flags)
            specs.append(
                _zsh_quote(exclusive_text) + "{" + names + "}" + _zsh_quote(help_text + value)
            )
    return specs


def _zsh_argument(sub: "Subcommand") -> "list[str]":
    if sub.argument is None:
        return []
    metavar = _zsh_text(sub.argument.metavar or "argument", ":")
    return [_zsh_quote(f"1:{metavar}:{_zsh_action(sub.argument)}")]


def _zsh_action(option: "Option") -> str:
    if option.complete == "choices" and option.choices:
        return "(" + " ".join(option.choices) + ")"
    if option.complete == "method":
        return f"_{PROG}_methods"
    if option.complete == "pid":
        return "_pids"
    if option.complete == "process":
        return "_process_names"
    if option.complete == "file":
        return "_files"
    return " "  # free text


def _zsh_text(text: str, special: str) -> str:
    for char in "\\[]" + special:
        text = text.replace(char, "\\" + char)
    return text


def _zsh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


# fish ------------------------------------------------------------------------------


def fish() -> str:
    valued = " ".join(flag for o in OPTIONS if o.takes_value for flag in o.flags)
    top = f"__{PROG}_top"
    lines = [
        _header("fish"),
        "",
        f"function __{PROG}_after_dashdash",
        "    contains -- -- (commandline -opc)",
        "end",
        "",
        f"function __{PROG}_subcommand --description 'the subcommand typed so far, if any'",
        "    set -l skip 0",
        "    for token in (commandline -opc)[2..-1]",
        "        if test $skip = 1",
        "            set skip 0",
        "        else if test $token = --",
        "            return 1",
        f"        else if contains -- $token {valued}",
        "            set skip 1",
        "        else if not string match -q -- '-*' $token",
        "            echo $token",
        "            return 0",
        "        end",
        "    end",
        "    return 1",
        "end",
        "",
        f"function __{PROG}_using --description 'whether the subcommand typed is $argv[1]'",
        f"    set -l sub (__{PROG}_subcommand); and test $sub = $argv[1]",
        "end",
        "",
        f"function {top} --description 'neither a subcommand nor -- so far'",
        f"    not __{PROG}_after_dashdash; and not __{PROG}_subcommand >/dev/null",
        "end",
        "",
        f"function __{PROG}_command --description 'complete the command after --'",
        "    set -l tokens (commandline -opc)",
        "    set -l at (contains -i -- -- $tokens)",
        "    set -l rest $tokens[(math $at + 1)..-1]",
        "    complete -C (string join -- ' ' (string escape -- $rest) (commandline -ct))",
        "end",
        "",
        f"function __{PROG}_methods",
        "    switch (uname -s 2>/dev/null)",
        "        case Darwin",
        f"            printf '%s\\n' {_methods('darwin')}",
        "        case 'CYGWIN*' 'MINGW*' 'MSYS*'",
        f"            printf '%s\\n' {_methods('win32')}",
        "        case '*'",
        f"            printf '%s\\n' {_methods('linux')}",
        "    end",
        "end",
        "",
        f"complete -c {PROG} -f",
        f"complete -c {PROG} -n __{PROG}_after_dashdash -x -a '(__{PROG}_command)'",
    ]
    for sub in SUBCOMMANDS:
        lines.append(f"complete -c {PROG} -n {top} -a {sub.name} -d {_fish_quote(sub.help)}")
    lines.append(f"complete -c {PROG} -n {top} -s h -l help -d 'show the help and exit'")
    lines += [_fish_option(option, top) for option in OPTIONS]
    for sub in SUBCOMMANDS:
        condition = _fish_quote(f"__{PROG}_using {sub.name}")
        lines.append(f"complete -c {PROG} -n {condition} -s h -l help -d 'show the help and exit'")
        lines += [_fish_option(option, condition) for option in sub.options]
        if sub.argument is not None and sub.argument.choices:
            choices = _fish_quote(" ".join(sub.argument.choices))
            lines.append(f"complete -c {PROG} -n {condition} -x -a {choices}")
    return "\n".join(lines) + "\n"


def _fish_option(option: "Option", condition: str) -> str:
    parts = [f"complete -c {PROG} -n {condition}"]
    for flag in option.flags:
        parts.append(f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}")
    if option.takes_value:
        parts.append("-x")
        if option.complete == "choices" and option.choices:
            parts.append(f"-a {_fish_quote(' '.join(option.choices))}")
        elif option.complete == "method":
            parts.append(f"-a '(__{PROG}_methods)'")
        elif option.complete == "pid":
            parts.append("-a '(__fish_complete_pids)'")
        elif option.complete == "process":
            parts.append("-a '(__fish_complete_proc)'")
        elif option.complete == "file":
            parts.remove("-x")  # -r: a value is required, and fish offers files
            parts.append("-r")
    parts.append(f"-d {_fish_quote(option.help)}")
    return " ".join(parts)


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
