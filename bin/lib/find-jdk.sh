# shellcheck shell=bash
# Finds a JDK that can build and run Pledge (major version PLEDGE_MIN_JAVA, 21, or newer).
#
# Source it, then call pledge_find_jdk: on success it exports JAVA_HOME, puts its bin/ first on PATH and
# sets PLEDGE_JAVA_MAJOR; on failure it explains on stderr and returns 1. It takes $JAVA_HOME when that
# is new enough, else the newest JDK under the directories in PLEDGE_JDK_DIRS (colon-separated; default
# /usr/lib/jvm and the macOS location). A JDK counts only with both bin/java and bin/javac: Maven needs
# the compiler.
#
# Run directly (bin/lib/find-jdk.sh), it prints the JAVA_HOME it would use.

PLEDGE_MIN_JAVA=${PLEDGE_MIN_JAVA:-21}

# Prints the major version of the JDK at $1 (8 for "1.8.0_392", 25 for "25.0.3"), or fails.
pledge_jdk_major() {
  local home=$1 version=""
  [[ -x $home/bin/java && -x $home/bin/javac ]] || return 1
  if [[ -r $home/release ]]; then
    version=$(sed -n 's/^JAVA_VERSION="\([^"]*\)".*/\1/p' "$home/release")
  fi
  if [[ -z $version ]]; then
    version=$("$home/bin/java" -version 2>&1 | sed -n 's/.* version "\([^"]*\)".*/\1/p' | head -n 1)
  fi
  version=${version#1.}
  version=${version%%[!0-9]*}
  [[ -n $version ]] || return 1
  echo "$version"
}

pledge_find_jdk() {
  local best="" best_major=0 candidate major dir
  local -a dirs
  if [[ -n ${JAVA_HOME:-} ]]; then
    if major=$(pledge_jdk_major "$JAVA_HOME") && ((major >= PLEDGE_MIN_JAVA)); then
      best=${JAVA_HOME%/}
      best_major=$major
    else
      echo "pledge: JAVA_HOME=$JAVA_HOME is not a JDK $PLEDGE_MIN_JAVA or newer; looking for another" >&2
    fi
  fi
  if [[ -z $best ]]; then
    IFS=: read -ra dirs <<<"${PLEDGE_JDK_DIRS:-/usr/lib/jvm:/Library/Java/JavaVirtualMachines}"
    for dir in "${dirs[@]}"; do
      for candidate in "$dir"/*/ "$dir"/*/Contents/Home/; do
        candidate=${candidate%/}
        [[ -d $candidate ]] || continue
        major=$(pledge_jdk_major "$candidate") || continue
        if ((major >= PLEDGE_MIN_JAVA && major > best_major)); then
          best=$candidate
          best_major=$major
        fi
      done
    done
  fi
  if [[ -z $best ]]; then
    {
      echo "pledge: no JDK $PLEDGE_MIN_JAVA or newer found."
      echo "  Looked at JAVA_HOME (${JAVA_HOME:-unset}) and under ${PLEDGE_JDK_DIRS:-/usr/lib/jvm:/Library/Java/JavaVirtualMachines}."
      echo "  Install one (for example: apt-get install openjdk-21-jdk-headless) or set JAVA_HOME to it."
    } >&2
    return 1
  fi
  export JAVA_HOME=$best
  export PATH="$JAVA_HOME/bin:$PATH"
  # shellcheck disable=SC2034 # read by the scripts that source this file
  PLEDGE_JAVA_MAJOR=$best_major
  # Maven 3.8's bundled Guava uses sun.misc.Unsafe, which JDK 24+ warns about on every run. The option
  # that silences it does not exist before JDK 23, so it is added only here, where the version is known.
  if ((best_major >= 24)) && [[ ${MAVEN_OPTS:-} != *--sun-misc-unsafe-memory-access* ]]; then
    export MAVEN_OPTS="${MAVEN_OPTS:+$MAVEN_OPTS }--sun-misc-unsafe-memory-access=allow"
  fi
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  pledge_find_jdk
  echo "$JAVA_HOME"
fi
