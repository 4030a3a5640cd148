# Shared by the scripts: where the Python 3.14 environment lives and how to run a command in it.
# shellcheck shell=bash

PROJECT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
# NEZHA_ENV_DIR lets several checkouts (git worktrees) share one environment.
ENV_DIR="${NEZHA_ENV_DIR:-$PROJECT/.env314}"
REQUIREMENTS="$PROJECT/requirements_test.txt"
# The newest Home Assistant release, in a second venv, for the end-to-end check's second run.
NEWEST_REQUIREMENTS="$PROJECT/requirements_newest.txt"
MIN_PYTHON="3.14.2"

# A host Python that is new enough makes a plain venv possible.
find_host_python() {
    local candidate
    for candidate in "${NEZHA_PYTHON:-}" python3.14 python3 python; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c "import sys; sys.exit(sys.version_info < tuple(map(int, '$MIN_PYTHON'.split('.'))))" 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

if HOST_PYTHON="$(find_host_python)"; then
    ENV_MODE="venv"
    VENV="$ENV_DIR/venv"
    VENV_NEWEST="$ENV_DIR/venv-newest"
else
    ENV_MODE="root"
    ROOT="$ENV_DIR/root"
    VENV="/venv"
    VENV_NEWEST="/venv-newest"
fi

# Run a command inside the environment, with the project as working directory.
# In root mode the project is bind-mounted at its own path inside a private mount namespace,
# so paths in tracebacks and coverage reports match the checkout and nothing stays mounted.
in_env() {
    if [ "$ENV_MODE" = "venv" ]; then
        (cd "$PROJECT" && PATH="$VENV/bin:$PATH" VIRTUAL_ENV="$VENV" "$@")
        return
    fi
    mkdir -p "$ROOT$PROJECT"
    # shared/ beside the project (the real dashboards' answers the tests read), read-only.
    local shared
    shared="$(dirname "$PROJECT")/shared"
    [ -d "$shared" ] && mkdir -p "$ROOT$shared"
    unshare --mount --propagation private -- /bin/bash -c '
        set -e
        root="$1"; project="$2"; shared="$3"; shift 3
        mount -t proc proc "$root/proc"
        mount --rbind /dev "$root/dev"
        mount --bind "$project" "$root$project"
        if [ -d "$shared" ]; then
            mount --bind "$shared" "$root$shared"
            mount -o remount,bind,ro "$root$shared"
        fi
        cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
        exec chroot "$root" /usr/bin/env -u PIP_FIND_LINKS -u PIP_CONSTRAINT \
            HOME=/root PATH="/venv/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" VIRTUAL_ENV=/venv \
            PIP_CERT=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
            LANG=C.UTF-8 /bin/bash -c "cd \"\$0\" && exec \"\$@\"" "$project" "$@"
    ' bash "$ROOT" "$PROJECT" "$shared" "$@"
}

# Like in_env, with the venv of the newest Home Assistant release first on PATH.
in_newest() {
    local path="/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
    [ "$ENV_MODE" = "root" ] || path="$PATH"
    in_env env PATH="$VENV_NEWEST/bin:$path" VIRTUAL_ENV="$VENV_NEWEST" "$@"
}
