#!/bin/sh
# Entrypoint of the clusterlabel image: `clusterlabel` with secrets files turned into settings.
#
# Settings (interfaces/settings.py) come from CLUSTERLABEL_* variables, while Docker Compose
# hands secrets over as files in /run/secrets. A file named clusterlabel_<setting>, say
# /run/secrets/clusterlabel_database_url, becomes CLUSTERLABEL_DATABASE_URL unless that variable
# is already set; an empty file sets nothing. Values are never printed. Kubernetes passes its Secret as variables instead,
# so there the loop finds nothing to do.
set -eu

if [ -d /run/secrets ]; then
    for file in /run/secrets/clusterlabel_*; do
        [ -s "$file" ] || continue  # an empty file leaves the setting unset (an optional secret not in use)
        name=$(basename "$file" | tr '[:lower:]' '[:upper:]')
        case "$name" in
            *[!A-Z0-9_]*) continue ;;  # not a variable name; leave it alone
        esac
        if [ -z "$(printenv "$name" || true)" ]; then
            value=$(cat "$file")  # command substitution drops the trailing newline editors add
            export "$name=$value"
        fi
    done
fi

exec clusterlabel "$@"
