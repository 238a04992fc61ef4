# Activate a ghostenv-made virtual environment: . bin/Activate.ps1 (PowerShell).
# Written by ghostenv; `deactivate` undoes every change it makes.

function global:deactivate([switch] $NonDestructive) {
    if (Test-Path variable:_GHOSTENV_OLD_PATH) {
        $env:PATH = $variable:_GHOSTENV_OLD_PATH
        Remove-Variable -Name _GHOSTENV_OLD_PATH -Scope global
    }
    if (Test-Path function:_ghostenv_old_prompt) {
        $function:prompt = $function:_ghostenv_old_prompt
        Remove-Item function:\_ghostenv_old_prompt
    }
    if (Test-Path env:VIRTUAL_ENV) { Remove-Item env:VIRTUAL_ENV }
    if (Test-Path env:VIRTUAL_ENV_PROMPT) { Remove-Item env:VIRTUAL_ENV_PROMPT }
    if (-not $NonDestructive) { Remove-Item function:deactivate }
}

deactivate -NonDestructive

$env:VIRTUAL_ENV = __GHOSTENV_VENV_DIR__
$env:VIRTUAL_ENV_PROMPT = __GHOSTENV_PROMPT__
New-Variable -Scope global -Name _GHOSTENV_OLD_PATH -Value $env:PATH
$env:PATH = (Join-Path $env:VIRTUAL_ENV "__GHOSTENV_BIN_NAME__") + [System.IO.Path]::PathSeparator + $env:PATH

if (-not $env:VIRTUAL_ENV_DISABLE_PROMPT) {
    $function:_ghostenv_old_prompt = $function:prompt
    function global:prompt {
        Write-Host -NoNewline "($env:VIRTUAL_ENV_PROMPT) "
        _ghostenv_old_prompt
    }
}
