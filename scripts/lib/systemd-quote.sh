# Sourced by scripts/install-service.sh and scripts/install-painter.sh.
# A path inside the unit: systemd expands %-specifiers everywhere and $VARIABLES in
# ExecStart, and splits ExecStart at spaces. Each argument is quoted and escaped; a path
# with a newline cannot be written into a unit at all.
# systemd refuses quotes, backslashes and control characters in the program's own path.
check_root_path() {  # ROOT TOOL
  case $1 in
    *[[:cntrl:]]*|*\"*|*\'*|*\\*)
      echo "$2: systemd cannot start a program whose path contains quotes, backslashes or line breaks: $1" >&2
      echo "  fix: move the project to a folder without them (spaces, &, | and % are fine)" >&2
      exit 1 ;;
  esac
}
exec_path() {  # the program: quoted, % escaped (no $VARIABLES are expanded in it)
  printf '"%s"' "${1//%/%%}"
}
exec_arg() {  # one ExecStart argument: "..." with \ " % $ escaped
  local s=$1
  s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//%/%%}; s=${s//\$/\$\$}
  printf '"%s"' "$s"
}
file_url() {  # file:// URL, percent-encoded, then % escaped for systemd
  local LC_ALL=C s=$1 out='' c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
      [A-Za-z0-9/._~-]) out+=$c ;;
      *) out+=$(printf '%%%02X' "'$c") ;;
    esac
  done
  printf 'file://%s' "${out//%/%%}"
}
