# Activate a ghostenv-made virtual environment: source bin/activate.csh (csh/tcsh).
# Written by ghostenv; `deactivate` undoes every change it makes.

alias deactivate 'test $?_GHOSTENV_OLD_PATH != 0 && setenv PATH "$_GHOSTENV_OLD_PATH:q" && unset _GHOSTENV_OLD_PATH; rehash; test $?_GHOSTENV_OLD_PROMPT != 0 && set prompt="$_GHOSTENV_OLD_PROMPT:q" && unset _GHOSTENV_OLD_PROMPT; unsetenv VIRTUAL_ENV; unsetenv VIRTUAL_ENV_PROMPT; test "\!:*" != "nondestructive" && unalias deactivate'

deactivate nondestructive

setenv VIRTUAL_ENV __GHOSTENV_VENV_DIR__
setenv VIRTUAL_ENV_PROMPT __GHOSTENV_PROMPT__
set _GHOSTENV_OLD_PATH="$PATH:q"
setenv PATH "${VIRTUAL_ENV}/__GHOSTENV_BIN_NAME__:$PATH:q"

if ( $?prompt && ! $?VIRTUAL_ENV_DISABLE_PROMPT ) then
    set _GHOSTENV_OLD_PROMPT="$prompt:q"
    set prompt = "(${VIRTUAL_ENV_PROMPT}) $prompt:q"
endif

rehash
