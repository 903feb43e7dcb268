# fish completion for cocainate, written from its option table by 'cocainate completion fish'

function __cocainate_after_dashdash
    contains -- -- (commandline -opc)
end

function __cocainate_subcommand --description 'the subcommand typed so far, if any'
    set -l skip 0
    for token in (commandline -opc)[2..-1]
        if test $skip = 1
            set skip 0
        else if test $token = --
            return 1
        else if contains -- $token -d --duration -p --pid --until --while-running --scan-interval --ignore-app --between --days --min-battery --linger --mode --reason --method
            set skip 1
        else if not string match -q -- '-*' $token
            echo $token
            return 0
        end
    end
    return 1
end

function __cocainate_using --description 'whether the subcommand typed is $argv[1]'
    set -l sub (__cocainate_subcommand); and test $sub = $argv[1]
end

function __cocainate_top --description 'neither a subcommand nor -- so far'
    not __cocainate_after_dashdash; and not __cocainate_subcommand >/dev/null
end

function __cocainate_command --description 'complete the command after --'
    set -l tokens (commandline -opc)
    set -l at (contains -i -- -- $tokens)
    set -l rest $tokens[(math $at + 1)..-1]
    complete -C (string join -- ' ' (string escape -- $rest) (commandline -ct))
end

function __cocainate_methods
    switch (uname -s 2>/dev/null)
        case Darwin
            printf '%s\n' iokit
        case 'CYGWIN*' 'MINGW*' 'MSYS*'
            printf '%s\n' power-request execution-state
        case '*'
            printf '%s\n' portal screensaver gnome-session power-management x11 wayland logind logind-lid
    end
end

complete -c cocainate -f
complete -c cocainate -n __cocainate_after_dashdash -x -a '(__cocainate_command)'
complete -c cocainate -n __cocainate_top -a version -d 'print the version'
complete -c cocainate -n __cocainate_top -a watch -d 'hold while the conditions in the config file say so, until a signal (a systemd user unit runs it: see --print-unit)'
complete -c cocainate -n __cocainate_top -a tray -d 'show a tray icon (StatusNotifierItem) whose click or menu holds and lets go, until quit or a signal'
complete -c cocainate -n __cocainate_top -a status -d 'list the running cocainate sessions, and the inhibitors held on this machine by the services that can tell'
complete -c cocainate -n __cocainate_top -a toggle -d 'let go if any session holds (as \'off\'), else hold (as \'on\')'
complete -c cocainate -n __cocainate_top -a on -d 'resume the paused sessions, or, with none running, hold in the background (as --detach); -d or --until gives the holds a new end'
complete -c cocainate -n __cocainate_top -a off -d 'let go: pause every running session (a watch goes on following its conditions) and stop those started in the background'
complete -c cocainate -n __cocainate_top -a pause -d 'pause every running session: nothing is held until \'resume\''
complete -c cocainate -n __cocainate_top -a resume -d 'resume every paused session'
complete -c cocainate -n __cocainate_top -a extend -d 'end the running holds DURATION later, or at --until TIME'
complete -c cocainate -n __cocainate_top -a stop -d 'end the running session (the one of process PID; --all: every one) and return once it has let go'
complete -c cocainate -n __cocainate_top -a methods -d 'list this platform\'s mechanisms and whether each can be used here'
complete -c cocainate -n __cocainate_top -a completion -d 'print the completion script for SHELL (bash, zsh or fish)'
complete -c cocainate -n __cocainate_top -s h -l help -d 'show the help and exit'
complete -c cocainate -n __cocainate_top -s d -l duration -x -d 'end after DURATION, in Go syntax: 300ms, 1.5h, 1h10m10s (0: no limit)'
complete -c cocainate -n __cocainate_top -s p -l pid -x -a '(__fish_complete_pids)' -d 'end when process PID exits; repeat to wait until all of them have exited'
complete -c cocainate -n __cocainate_top -l until -x -d 'end at TIME: 17:30, 17:30:15 (tomorrow if past) or an ISO 8601 date-time'
complete -c cocainate -n __cocainate_top -l while-running -x -a '(__fish_complete_proc)' -d 'hold only while a process named NAME runs (repeatable: any of them); the others end the watch'
complete -c cocainate -n __cocainate_top -l scan-interval -x -d 'with --while-running: look for a new process every DURATION while none runs (default 2s)'
complete -c cocainate -n __cocainate_top -l while-playing -d 'hold only while a media player (MPRIS) plays'
complete -c cocainate -n __cocainate_top -l while-audio -d 'hold only while a sound plays (PulseAudio or PipeWire: a stream not paused, muted or at zero volume); needs the audio extra'
complete -c cocainate -n __cocainate_top -l ignore-app -x -d 'with --while-audio: the sound of application NAME does not count (repeatable)'
complete -c cocainate -n __cocainate_top -l while-fullscreen -d 'hold only while the focused window is fullscreen (X11 EWMH, or wlroots Wayland)'
complete -c cocainate -n __cocainate_top -l while-remote -d 'hold only while a remote login (SSH...) of any user exists (systemd-logind)'
complete -c cocainate -n __cocainate_top -l between -x -d 'hold only between these times of day, 09:00-17:30 (repeatable: any of them; 22:00-06:00 runs past midnight); with other conditions, a gate they also need'
complete -c cocainate -n __cocainate_top -l days -x -d 'with --between (alone: all day): only on these days, mon-fri, sat,sun'
complete -c cocainate -n __cocainate_top -l not-when-locked -d 'let go while the session is locked (logind\'s LockedHint, or the screensaver\'s ActiveChanged), hold again on unlock'
complete -c cocainate -n __cocainate_top -l min-battery -x -d 'let go while on battery below PERCENT of its charge (20), hold again on mains power or above it'
complete -c cocainate -n __cocainate_top -l linger -x -d 'with conditions: let go only once they have been unmet for DURATION (default 2s: a track change or a pause between videos keeps the hold; 0: at once)'
complete -c cocainate -n __cocainate_top -l only-on-ac -d 'hold only while on mains power (UPower), whatever else says to hold'
complete -c cocainate -n __cocainate_top -s q -l quiet -d 'print nothing on stdout'
complete -c cocainate -n __cocainate_top -s v -l verbose -d 'say on stderr which mechanisms were tried, which hold, and why others could not'
complete -c cocainate -n __cocainate_top -l json -d 'print one JSON object per event on stdout (acquired, waiting, lost, reacquired, ended, released)'
complete -c cocainate -n __cocainate_top -l tray -d 'show a tray icon for this hold: a click pauses and resumes it (config: tray = true)'
complete -c cocainate -n __cocainate_top -l detach -d 'hold in the background: return once the hold is in place, printing its PID (\'cocainate off\' or \'stop PID\' lets go)'
complete -c cocainate -n __cocainate_top -l mode -x -a 'display system' -d 'display: the screen stays on (default); system: only the system stays awake'
complete -c cocainate -n __cocainate_top -l lid -d 'with --mode system: closing the lid does not suspend either (logind\'s handle-lid-switch lock; pair it with --min-battery)'
complete -c cocainate -n __cocainate_top -l reason -x -d 'the reason given to the services'
complete -c cocainate -n __cocainate_top -l version -d 'print the version and exit (as \'cocainate version\')'
complete -c cocainate -n __cocainate_top -l method -x -a '(__cocainate_methods)' -d 'use only this mechanism (repeatable); see \'cocainate methods\''
complete -c cocainate -n '__cocainate_using version' -s h -l help -d 'show the help and exit'
complete -c cocainate -n '__cocainate_using version' -s v -l verbose -d 'also print Python, the platform and the mechanisms usable here'
complete -c cocainate -n '__cocainate_using watch' -s h -l help -d 'show the help and exit'
complete -c cocainate -n '__cocainate_using watch' -l config -r -d 'the config file (default: $XDG_CONFIG_HOME/cocainate/config.toml)'
complete -c cocainate -n '__cocainate_using watch' -l print-unit -d 'print a systemd user unit that runs this cocainate\'s \'watch\', and exit'
complete -c cocainate -n '__cocainate_using watch' -s q -l quiet -d 'print nothing on stdout'
complete -c cocainate -n '__cocainate_using watch' -s v -l verbose -d 'say on stderr which mechanisms were tried, which hold, and why others could not'
complete -c cocainate -n '__cocainate_using watch' -l json -d 'print one JSON object per event on stdout (acquired, waiting, lost, reacquired, ended, released)'
complete -c cocainate -n '__cocainate_using tray' -s h -l help -d 'show the help and exit'
complete -c cocainate -n '__cocainate_using tray' -s q -l quiet -d 'print nothing on stdout'
complete -c cocainate -n '__cocainate_using tray' -l mode -x -a 'display system' -d 'display: the screen stays on (default); system: only the system stays awake'
complete -c cocainate -n '__cocainate_using tray' -l reason -x -d 'the reason given to the services'
complete -c cocainate -n '__cocainate_using tray' -l method -x -a '(__cocainate_methods)' -d 'use only this mechanism (repeatable); see \'cocainate methods\''
complete -c cocainate -n '__cocainate_using status' -s h -l help -d 'show the help and exit'
complete -c cocainate -n '__cocainate_using status' -l json -d 'print the running sessions as one JSON object (Waybar\'s custom module reads its text, alt, class and tooltip)'
complete -c cocainate -n '__cocainate_using status' -l follow -d 'print the sessions again at each change, one line (or JSON object) each, and nothing in between'
complete -c cocainate -n '__cocainate_using toggle' -s h -l help -d 'show the help and exit'
complete -c cocainate -n '__cocainate_using toggle' -s q -l quiet -d 'print nothing on stdout'
complete -c cocainate -n '__cocainate_using on' -s h -l help -d 'show the help and exit'
complete -c cocainate -n '__cocainate_using on' -s d -l duration -x -d 'end after DURATION, in Go syntax: 300ms, 1.5h, 1h10m10s (0: no limit)'
complete -c cocainate -n '__cocainate_using on' -l until -x -d 'end at TIME: 17:30, 17:30:15 (tomorrow if past) or an ISO 8601 date-time'
complete -c cocainate -n '__cocainate_using on' -l mode -x -a 'display system' -d 'display: the screen stays on (default); system: only the system stays awake'
complete -c cocainate -n '__cocainate_using on' -l reason -x -d 'the reason given to the services'
complete -c cocainate -n '__cocainate_using on' -l method -x -a '(__cocainate_methods)' -d 'use only this mechanism (repeatable); see \'cocainate methods\''
complete -c cocainate -n '__cocainate_using on' -s q -l quiet -d 'print nothing on stdout'
complete -c cocainate -n '__cocainate_using off' -s h -l help -d 'show the help and exit'
complete -c cocainate -n '__cocainate_using off' -s q -l quiet -d 'print nothing on stdout'
complete -c cocainate -n '__cocainate_using pause' -s h -l help -d 'show the help and exit'
complete -c cocainate -n '__cocainate_using pause' -s q -l quiet -d 'print nothing on stdout'
complete -c cocainate -n '__cocainate_using resume' -s h -l help -d 'show the help and exit'
complete -c cocainate -n '__cocainate_using resume' -s q -l quiet -d 'print nothing on stdout'
complete -c cocainate -n '__cocainate_using extend' -s h -l help -d 'show the help and exit'
complete -c cocainate -n '__cocainate_using extend' -l until -x -d 'end at TIME: 17:30, 17:30:15 (tomorrow if past) or an ISO 8601 date-time'
complete -c cocainate -n '__cocainate_using extend' -s q -l quiet -d 'print nothing on stdout'
complete -c cocainate -n '__cocainate_using stop' -s h -l help -d 'show the help and exit'
complete -c cocainate -n '__cocainate_using stop' -l all -d 'stop every running session'
complete -c cocainate -n '__cocainate_using stop' -s q -l quiet -d 'print nothing on stdout'
complete -c cocainate -n '__cocainate_using methods' -s h -l help -d 'show the help and exit'
complete -c cocainate -n '__cocainate_using completion' -s h -l help -d 'show the help and exit'
complete -c cocainate -n '__cocainate_using completion' -x -a 'bash zsh fish'
