#!/usr/bin/env bash
# Rebuilds the Unity package's DLLs from the C# client's sources and writes any missing .meta file.
# Run it (and commit the result) whenever src/PresenceD.Client or src/PresenceD.Protocol change their
# public API; the package test (tests/PresenceD.Clients.Tests) fails while the shipped API differs.
#   src/clients/unity/build-package.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../../.." && pwd)"
package="$here/com.presenced.client"
plugins="$package/Runtime/Plugins"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# Deterministic, no PDB path baked in: the same sources give the same bytes in any checkout.
dotnet build "$repo_root/src/PresenceD.Client/PresenceD.Client.csproj" -c Release -f netstandard2.1 -nologo -v quiet \
  -p:Deterministic=true -p:ContinuousIntegrationBuild=true -p:DebugType=none -o "$out" >/dev/null
mkdir -p "$plugins"
for f in PresenceD.Client.dll PresenceD.Protocol.dll PresenceD.Client.xml PresenceD.Protocol.xml; do
  cp "$out/$f" "$plugins/$f"
done

# Unity needs a .meta beside every file and folder of an immutable (git) package. A GUID is derived
# from the path, so it never changes; existing .meta files are kept as they are.
guid() { printf '%s' "com.presenced.client/$1" | md5sum | cut -c1-32; }
write_meta() {
  local path="$1" rel="${1#"$package"/}" meta="$1.meta" importer
  [[ -e "$meta" ]] && return 0
  if [[ -d "$path" ]]; then
    printf 'fileFormatVersion: 2\nguid: %s\nfolderAsset: yes\nDefaultImporter:\n  externalObjects: {}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n' "$(guid "$rel")" >"$meta"
    return 0
  fi
  case "$path" in
    */package.json) importer=PackageManifestImporter ;;
    *.asmdef) importer=AssemblyDefinitionImporter ;;
    *.cs)
      printf 'fileFormatVersion: 2\nguid: %s\nMonoImporter:\n  externalObjects: {}\n  serializedVersion: 2\n  defaultReferences: []\n  executionOrder: 0\n  icon: {instanceID: 0}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n' "$(guid "$rel")" >"$meta"
      return 0 ;;
    *.dll)
      printf 'fileFormatVersion: 2\nguid: %s\nPluginImporter:\n  externalObjects: {}\n  serializedVersion: 2\n  iconMap: {}\n  executionOrder: {}\n  defineConstraints: []\n  isPreloaded: 0\n  isOverridable: 0\n  isExplicitlyReferenced: 0\n  validateReferences: 1\n  platformData:\n  - first:\n      Any: \n    second:\n      enabled: 1\n      settings: {}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n' "$(guid "$rel")" >"$meta"
      return 0 ;;
    *) importer=TextScriptImporter ;;
  esac
  printf 'fileFormatVersion: 2\nguid: %s\n%s:\n  externalObjects: {}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n' "$(guid "$rel")" "$importer" >"$meta"
}
# Samples~ is hidden from Unity until imported (Unity writes its own .meta files then).
while IFS= read -r -d '' path; do
  write_meta "$path"
done < <(find "$package" -mindepth 1 \( -name 'Samples~' -prune \) -o \( ! -name '*.meta' -print0 \))
echo "package written: $package"
