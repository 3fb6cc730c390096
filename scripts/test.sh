#!/usr/bin/env bash
# The one test command: local services up and prepared, then the whole Maven build (compile with Error
# Prone, every test, the formatting check), then the deterministic simulator over 2000 seeds. Exits
# non-zero as soon as a step fails. Arguments go to Maven (for example: scripts/test.sh -o).
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$root"
# shellcheck source-path=SCRIPTDIR source=../bin/lib/find-jdk.sh
source bin/lib/find-jdk.sh
pledge_find_jdk

step() {
  echo
  echo "==> $* ($((SECONDS))s)"
}

step "JDK $PLEDGE_JAVA_MAJOR at $JAVA_HOME"
step "scripts/services.sh"
scripts/services.sh
step "mvn -B verify $*"
mvn -B verify "$@"
step "bin/pledge simulate --seeds 2000"
bin/pledge simulate --seeds 2000
step "all steps passed"
