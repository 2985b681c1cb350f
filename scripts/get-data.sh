#!/usr/bin/env bash
# Puts the Bach data sets under data/ (git-ignored): copies them from $BACHGEN_DATA_MIRROR when
# set (a folder laid out like data/), otherwise downloads them from their public addresses.
# Every file is checked against scripts/data-files.sha256. Safe to run again: files already
# present and correct are kept, so a second run only verifies.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${BACHGEN_DATA_DIR:-$root/data}"
list="$root/scripts/data-files.sha256"
mirror="${BACHGEN_DATA_MIRROR:-}"

# Public sources (see docs/data.md): the JSB Chorales file, the MIDI chorales as a named subset
# (the names in data-files.sha256) of one folder of infinite-bach at a fixed commit, and the
# same transcriber's MusicXML chorales (spelled pitches, keys, fermatas) from another folder.
jsb_url="https://raw.githubusercontent.com/czhuang/JSB-Chorales-dataset/master/Jsb16thSeparated.json"
midi_bases=(
  "https://raw.githubusercontent.com/jamesrobertlloyd/infinite-bach/995bedb/data/chorales/midi"
  "https://raw.githubusercontent.com/jamesrobertlloyd/infinite-bach/master/data/chorales/midi"
)

xml_bases=(
  "https://raw.githubusercontent.com/jamesrobertlloyd/infinite-bach/995bedb/data/chorales/xml"
  "https://raw.githubusercontent.com/jamesrobertlloyd/infinite-bach/master/data/chorales/xml"
)

say() { echo "get-data: $*"; }
fail() { echo "get-data: error: $*" >&2; exit 1; }

sha_ok() {  # sha_ok EXPECTED FILE
  [ -f "$2" ] && [ "$(sha256sum "$2" | cut -d' ' -f1)" = "$1" ]
}

urls_for() {  # the candidate addresses of one relative path
  case "$1" in
    jsb-chorales/Jsb16thSeparated.json) echo "$jsb_url" ;;
    bach-chorales-midi/satb/*) for b in "${midi_bases[@]}"; do echo "$b/${1##*/}"; done ;;
    bach-chorales-midi/*) for b in "${midi_bases[@]}"; do echo "$b/${1##*/}"; done ;;
    bach-chorales-musicxml/*) for b in "${xml_bases[@]}"; do echo "$b/${1##*/}"; done ;;
  esac
}

mkdir -p "$dest"
# The files already there and correct, in one pass of sha256sum (a process per file would take
# seconds for the 780 files).
declare -A verified=()
while IFS= read -r line; do
  verified["${line%: OK}"]=1
done < <(cd "$dest" && sha256sum -c "$list" 2>/dev/null | grep ': OK$' || true)
total=0 copied=0 downloaded=0 kept=0
missing=()
while read -r sum rel; do
  [ -n "$sum" ] || continue
  total=$((total + 1))
  target="$dest/$rel"
  if [ -n "${verified[$rel]:-}" ]; then
    kept=$((kept + 1))
    continue
  fi
  mkdir -p "$(dirname "$target")"
  tmp="$target.part"
  if [ -n "$mirror" ] && [ -f "$mirror/$rel" ]; then
    cp "$mirror/$rel" "$tmp"
    if sha_ok "$sum" "$tmp"; then
      mv -f "$tmp" "$target"
      copied=$((copied + 1))
      continue
    fi
    rm -f "$tmp"
    say "warning: $mirror/$rel does not match its checksum; trying to download it"
  fi
  got=0
  if command -v curl >/dev/null; then
    while read -r url; do
      if curl -fsSL --retry 2 --connect-timeout 20 --max-time 300 -o "$tmp" "$url" 2>/dev/null &&
         sha_ok "$sum" "$tmp"; then
        mv -f "$tmp" "$target"
        got=1
        break
      fi
      rm -f "$tmp"
    done < <(urls_for "$rel")
  fi
  if [ "$got" = 1 ]; then
    downloaded=$((downloaded + 1))
  else
    missing+=("$rel")
  fi
done < "$list"

if [ "${#missing[@]}" -gt 0 ]; then
  echo "get-data: error: ${#missing[@]} of $total files could not be copied or downloaded, e.g.:" >&2
  printf '  %s\n' "${missing[@]:0:5}" >&2
  if [ -z "$mirror" ]; then
    echo "  No mirror was given and the download failed (no network?). Set BACHGEN_DATA_MIRROR" >&2
    echo "  to a folder laid out like data/ (e.g. BACHGEN_DATA_MIRROR=../shared/data)." >&2
  else
    echo "  The mirror $mirror lacks them (or they do not match scripts/data-files.sha256)," >&2
    echo "  and downloading them failed." >&2
  fi
  exit 1
fi
say "$total files verified in $dest ($kept already there, $copied copied from the mirror, $downloaded downloaded)"
