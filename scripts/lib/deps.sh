# Sourced by scripts/*: installs what the project needs from Debian's packages, once.
# Needs root (CI and these machines run as root); prints what it does.

deps::need_apt() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  echo "deps: installing ${missing[*]} (Debian packages) ..."
  if [[ $(id -u) -ne 0 ]]; then
    echo "deps: need root to install ${missing[*]}; install them and re-run" >&2
    return 1
  fi
  if [[ -z "${DEPS_APT_UPDATED:-}" ]]; then
    apt-get update -qq >/dev/null
    export DEPS_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "deps: installed ${missing[*]}"
}

# libtorch for the bridge, Debian's torch for models/export.py, a C++ toolchain.
deps::inference() {
  deps::need_apt libtorch-dev python3-torch python3-numpy cmake g++ make
}

# Prometheus and promtool, for the metrics tests (a real server scrapes a silo).
deps::observability() {
  deps::need_apt prometheus
}

# Debian's headless Chromium and its chromedriver, for the dashboard's browser test (Selenium).
deps::browser() {
  deps::need_apt chromium chromium-driver fonts-dejavu-core
}

# ImageMagick, for the preprocessing benchmark's test images (bench/preprocess-bench.sh).
deps::imagemagick() {
  deps::need_apt imagemagick
}

# Builds the bridge when its sources are newer than the library (or it is missing).
deps::bridge() {
  local root="$1" lib="$1/build/native/libtorchbridge.so"
  if [[ ! -f "$lib" || ! -x "$root/build/native/tf32_gate_test" || -n "$(find "$root/native/torchbridge" -newer "$lib" -type f)" ]]; then
    "$root/scripts/build-bridge"
  fi
}

# npm's s3rver (an S3-compatible server, pinned), for the object-store tests; under build/s3rver.
deps::s3rver() {
  local root="$1" dir="$1/build/s3rver"
  [[ -x "$dir/node_modules/.bin/s3rver" ]] && return 0
  command -v npm >/dev/null || deps::need_apt npm || return 1
  echo "deps: installing s3rver 3.7.1 (npm) under build/s3rver ..."
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error s3rver@3.7.1 >/dev/null || return 1
  echo "deps: installed s3rver"
}
