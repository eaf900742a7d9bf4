#!/usr/bin/env bash
# The painter farm's private CA, the server's certificate, and one user per role, for
# config/farm/nats-server.conf. Visitors' photos travel on this link: TLS, and each kiosk
# may publish only its own jobs and read only its own snapshots and paintings.
#
#   scripts/farm-certs.sh OUT_DIR --host NAME_OR_IP... --kiosk NAME...
#
# Writes into OUT_DIR (made mode 0700; run it again to add kiosks: the CA, the certificate
# and existing passwords are kept):
#   ca.pem                  the CA certificate: copy to every kiosk and painter (engine.remote.ca, --ca)
#   ca-key.pem              the CA's key: keep it off the network
#   server.pem, server-key.pem   the server's certificate (for every --host) and key
#   passwords/<user>        one password per user (mode 0600): copy each to its machine only
#   security.conf           tls {} and authorization {} for the server (no accounts {}: see
#                           CVE-2023-47090); copy it beside nats-server.conf, which includes it
set -euo pipefail
die() { printf 'farm-certs: %s\n  fix: %s\n' "$1" "$2" >&2; exit 1; }
[ $# -ge 1 ] || die "no output folder" "scripts/farm-certs.sh /etc/gallery-painter/farm --host farm.local --kiosk hall-1"
OUT=$1; shift
HOSTS=(); KIOSKS=()
while [ $# -gt 0 ]; do
  case $1 in
    --host) [ $# -ge 2 ] || die "--host needs a name or address" "--host 10.0.0.5"; HOSTS+=("$2"); shift 2 ;;
    --kiosk) [ $# -ge 2 ] || die "--kiosk needs a name" "--kiosk hall-1"; KIOSKS+=("$2"); shift 2 ;;
    *) die "unknown option $1" "use --host NAME and --kiosk NAME" ;;
  esac
done
[ ${#HOSTS[@]} -gt 0 ] || die "no --host" "name the server as kiosks reach it: --host farm.local --host 10.0.0.5"
[ ${#KIOSKS[@]} -gt 0 ] || die "no --kiosk" "name each kiosk as in its engine.remote.kiosk: --kiosk hall-1"
for k in "${KIOSKS[@]}"; do
  [[ $k =~ ^[A-Za-z0-9_-]{1,64}$ ]] || die "kiosk name '$k' is not one word" "letters, digits, - and _ only"
  [ "$k" != painter ] || die "'painter' is the painters' user" "name the kiosk differently"
done
command -v openssl >/dev/null || die "openssl is missing" "sudo apt-get install openssl"

umask 077
mkdir -p "$OUT/passwords"
chmod 700 "$OUT"
cd "$OUT"

if [ ! -f ca.pem ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=Gallery Painter farm CA" -keyout ca-key.pem -out ca.pem 2>/dev/null
  echo "farm-certs: made the CA (ca.pem)"
fi
san=""
for h in "${HOSTS[@]}"; do
  if [[ $h =~ ^[0-9.]+$ || $h == *:* ]]; then san+="IP:$h,"; else san+="DNS:$h,"; fi
done
san=${san%,}
if [ ! -f server.pem ] || [ "$(cat server.hosts 2>/dev/null)" != "$san" ]; then
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=${HOSTS[0]}" \
    -keyout server-key.pem -out server.csr 2>/dev/null
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san" > server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 825 \
    -extfile server.ext -out server.pem 2>/dev/null
  rm -f server.csr server.ext
  echo "$san" > server.hosts
  echo "farm-certs: made the server's certificate for $san"
fi

password() {  # the user's password, made once
  local f="passwords/$1"
  [ -s "$f" ] || openssl rand -hex 24 > "$f"
  chmod 600 "$f"
  cat "$f"
}

# Subjects each role may use. Replies to a client's requests go to its own inbox
# (_INBOX_<user>), which only that user may read.
{
  echo "# Made by scripts/farm-certs.sh: TLS and one user per role."
  echo "tls {"
  echo "  cert_file: \"$PWD/server.pem\""
  echo "  key_file: \"$PWD/server-key.pem\""
  echo "  timeout: 3"
  echo "}"
  echo "authorization {"
  echo "  users = ["
  echo "    # Painters pull jobs, paint, publish snapshots and paintings, hold Live mirrors' leases,"
  echo "    # and set the farm's streams up."
  echo "    { user: \"painter\", password: \"$(password painter)\", permissions: {"
  echo "        publish: { allow: [\"\$JS.API.>\", \"\$JS.ACK.GP_JOBS.painters.>\", \"gp.snap.*.*\", \"gp.results.*.*\", \"\$KV.gp-painters.>\", \"\$KV.gp-leases.>\", \"\$JS.FC.>\", \"_INBOX_painter.>\"] }"
  echo "        subscribe: { allow: [\"gp.cancel.*\", \"gp.live.*.*\", \"_INBOX_painter.>\"] } } }"
  for k in "${KIOSKS[@]}"; do
    echo "    # Kiosk $k: its own jobs, Live frames, snapshots, paintings and lease; style images; the list of painters."
    echo "    { user: \"$k\", password: \"$(password "$k")\", permissions: {"
    printf '        publish: { allow: ["gp.jobs.%s", "gp.cancel.%s", "gp.live.%s.*", "$O.gp-styles.>",\n' "$k" "$k" "$k"
    printf '          "$JS.API.INFO", "$JS.API.STREAM.INFO.GP_RESULTS_%s", "$JS.API.STREAM.CREATE.GP_RESULTS_%s",\n' "$k" "$k"
    printf '          "$JS.API.STREAM.PURGE.GP_RESULTS_%s", "$JS.API.STREAM.MSG.GET.GP_RESULTS_%s", "$JS.API.DIRECT.GET.GP_RESULTS_%s.>",\n' "$k" "$k" "$k"
    printf '          "$JS.API.STREAM.INFO.OBJ_gp-styles", "$JS.API.STREAM.MSG.GET.OBJ_gp-styles", "$JS.API.DIRECT.GET.OBJ_gp-styles.>",\n'
    printf '          "$JS.API.STREAM.INFO.KV_gp-painters", "$JS.API.CONSUMER.CREATE.KV_gp-painters", "$JS.API.CONSUMER.CREATE.KV_gp-painters.>",\n'
    printf '          "$JS.API.CONSUMER.DELETE.KV_gp-painters.>", "$JS.API.STREAM.MSG.GET.KV_gp-painters", "$JS.API.DIRECT.GET.KV_gp-painters.>",\n'
    printf '          "$JS.FC.KV_gp-painters.>", "$JS.API.STREAM.INFO.KV_gp-leases", "$JS.API.DIRECT.GET.KV_gp-leases.$KV.gp-leases.%s"] }\n' "$k"
    printf '        subscribe: { allow: ["gp.snap.%s.*", "gp.results.%s.*", "_INBOX_%s.>"] } } }\n' "$k" "$k" "$k"
  done
  echo "  ]"
  echo "}"
} > security.conf.new
mv security.conf.new security.conf
echo "farm-certs: security.conf for the painters and ${#KIOSKS[@]} kiosk(s): ${KIOSKS[*]}"
echo "  server:  copy security.conf beside nats-server.conf and put include \"security.conf\" in it; kiosks and painters use tls://HOST:PORT"
echo "  kiosks:  engine.remote: (url: \"tls://${HOSTS[0]}:4222\", kiosk: \"NAME\", user: \"NAME\", password_file: \"...\", ca: \".../ca.pem\")"
echo "  painters: gallery-painter painter --nats tls://${HOSTS[0]}:4222 --user painter --password-file ... --ca .../ca.pem"
