# Activate a ghostenv-made virtual environment: source bin/activate.fish (fish).
# Written by ghostenv; `deactivate` undoes every change it makes.

function deactivate -d "leave the virtual environment"
    if set -q _GHOSTENV_OLD_PATH
        set -gx PATH $_GHOSTENV_OLD_PATH
        set -e _GHOSTENV_OLD_PATH
    end
    if set -q _GHOSTENV_OLD_PYTHONHOME
        set -gx PYTHONHOME $_GHOSTENV_OLD_PYTHONHOME
        set -e _GHOSTENV_OLD_PYTHONHOME
    end
    if functions -q _ghostenv_old_fish_prompt
        functions -e fish_prompt
        functions -c _ghostenv_old_fish_prompt fish_prompt
        functions -e _ghostenv_old_fish_prompt
    end
    set -e VIRTUAL_ENV
    set -e VIRTUAL_ENV_PROMPT
    if test "$argv[1]" != "nondestructive"
        functions -e deactivate
    end
end

deactivate nondestructive

set -gx VIRTUAL_ENV __GHOSTENV_VENV_DIR__
set -gx VIRTUAL_ENV_PROMPT __GHOSTENV_PROMPT__
set -gx _GHOSTENV_OLD_PATH $PATH
set -gx PATH "$VIRTUAL_ENV/__GHOSTENV_BIN_NAME__" $PATH

if set -q PYTHONHOME
    set -gx _GHOSTENV_OLD_PYTHONHOME $PYTHONHOME
    set -e PYTHONHOME
end

if test -z "$VIRTUAL_ENV_DISABLE_PROMPT"
    functions -c fish_prompt _ghostenv_old_fish_prompt
    function fish_prompt
        set -l old_status $status
        printf "(%s) " $VIRTUAL_ENV_PROMPT
        echo "exit $old_status" | .
        _ghostenv_old_fish_prompt
    end
end
