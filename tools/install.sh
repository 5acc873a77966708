#!/usr/bin/env bash
# Installs presenced, presence-cli and presence-load as self-contained single-file binaries (no .NET runtime
# needed on the host) into <prefix>/bin, so the README's bare commands exist, and the operator docs into
# <prefix>/share/doc/presenced. docs/operations.md has the rest of an install (config, systemd unit, user);
# tools/build-deb.sh packages the same binaries as a .deb.
#
# usage: tools/install.sh [--prefix DIR] [--destdir DIR] [--runtime RID] [--publish-dir DIR] [--reuse] [--publish-only]
#   --prefix DIR       where the binaries go, as DIR/bin (default /usr/local)
#   --destdir DIR      stage the install under DIR (DIR/<prefix>/bin), as packagers do; nothing else is touched
#   --runtime RID      .NET runtime identifier (default: this machine's, linux-x64 or linux-arm64)
#   --publish-dir DIR  where dotnet publish writes (default artifacts/publish/<rid> in the repository)
#   --reuse            use the binaries already in --publish-dir when all three are there (no publish)
#   --publish-only     publish and stop (nothing is installed)
# Exit codes: 0 installed, 1 bad usage, 2 a publish or install step failed.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix=/usr/local
destdir=""
runtime=""
publish_dir=""
reuse=0
publish_only=0

# The three programs: the binary's name and the project that builds it.
programs=(presenced presence-cli presence-load)
declare -A projects=(
  [presenced]=src/PresenceD.Server/PresenceD.Server.csproj
  [presence-cli]=tools/PresenceD.Cli/PresenceD.Cli.csproj
  [presence-load]=tools/PresenceD.Load/PresenceD.Load.csproj
)

usage_error() {
  printf 'install.sh: %s\n' "$1" >&2
  sed -n '/^# usage:/,/^#   --publish-only/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 1
}
fail() {
  printf 'install.sh: error: %s\n' "$1" >&2
  exit 2
}

while (($#)); do
  case "$1" in
    --prefix | --destdir | --runtime | --publish-dir)
      (($# >= 2)) || usage_error "$1 needs a value"
      case "$1" in
        --prefix) prefix="$2" ;;
        --destdir) destdir="$2" ;;
        --runtime) runtime="$2" ;;
        --publish-dir) publish_dir="$2" ;;
      esac
      shift 2
      ;;
    --reuse) reuse=1 && shift ;;
    --publish-only) publish_only=1 && shift ;;
    -h | --help) sed -n '2,/^# Exit codes/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" && exit 0 ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
done
[[ "$prefix" == /* ]] || usage_error "--prefix must be an absolute path, not '$prefix'"

if [[ -z "$runtime" ]]; then
  case "$(uname -m)" in
    x86_64) runtime=linux-x64 ;;
    aarch64 | arm64) runtime=linux-arm64 ;;
    *) fail "no .NET runtime identifier known for $(uname -m): pass --runtime" ;;
  esac
fi
publish_dir="${publish_dir:-$repo_root/artifacts/publish/$runtime}"

published() {
  local program
  for program in "${programs[@]}"; do [[ -x "$publish_dir/$program" ]] || return 1; done
}

publish() {
  command -v dotnet >/dev/null || fail "the .NET SDK (dotnet) is not on PATH"
  mkdir -p "$publish_dir"
  local program
  for program in "${programs[@]}"; do
    printf 'publishing %s (%s, self-contained single file)\n' "$program" "$runtime"
    # Each project into its own directory: the three would otherwise overwrite each other's build artifacts.
    # No analyzers: the solution build checks the code; here they only cost CPU (a third of the compile time).
    dotnet publish "$repo_root/${projects[$program]}" -c Release -r "$runtime" --self-contained \
      -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true -p:DebugType=none \
      -p:RunAnalyzers=false -p:GenerateDocumentationFile=false \
      -o "$publish_dir/$program.d" -nologo -v quiet ||
      fail "dotnet publish of ${projects[$program]} failed"
    mv -f "$publish_dir/$program.d/$program" "$publish_dir/$program"
    rm -rf "$publish_dir/$program.d"
  done
}

if ((reuse)) && published; then
  printf 'reusing the binaries in %s\n' "$publish_dir"
else
  publish
fi
((publish_only)) && exit 0

bin_dir="$destdir$prefix/bin"
install -d "$bin_dir" || fail "cannot create $bin_dir"
for program in "${programs[@]}"; do
  install -m 0755 "$publish_dir/$program" "$bin_dir/$program" || fail "cannot install $bin_dir/$program"
done
doc_dir="$destdir$prefix/share/doc/presenced"
install -d "$doc_dir" || fail "cannot create $doc_dir"
install -m 0644 "$repo_root/README.md" "$repo_root/docs/operations.md" "$repo_root/docs/configuration.md" "$doc_dir/" ||
  fail "cannot install the docs into $doc_dir"
printf 'installed %s into %s\n' "${programs[*]}" "$bin_dir"
