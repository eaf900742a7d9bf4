#!/usr/bin/env bash
# The painter farm's private CA, the server's certificate, and one user per role, for
# config/farm/nats-server.conf. Visitors' photos travel on this link: TLS, and each kiosk
# may publish only its own jobs and read only its own snapshots and paintings.
#
#   scripts/farm-certs.sh OUT_DIR --host NAME_OR_IP... --kiosk NAME... [--painter NAME...]
#
# Three roles, each allowed only its own work (docs/farm.md, "Who may do what"):
#   admin      makes the streams and buckets (gallery-painter farm-setup); nobody else may
#   a painter  takes jobs, reads style images, publishes snapshots and paintings, holds Live
#              leases, announces itself under its own name; reads no kiosk's results
#   a kiosk    sends its own jobs, frames and style images, reads its own snapshots and
#              paintings and its own lease; creates and changes no stream
#
# Writes into OUT_DIR (made mode 0700; run it again to add kiosks: the CA, the certificate
# and existing passwords are kept):
#   ca.pem                  the CA certificate: copy to every kiosk and painter (engine.remote.ca, --ca)
#   ca-key.pem              the CA's key: keep it off the network
#   server.pem, server-key.pem   the server's certificate (for every --host) and key
#   passwords/<user>        one password per user (mode 0600): copy each to its machine only
#                           (admin's stays with whoever runs farm-setup)
#   security.conf           tls {} and authorization {} for the server (no accounts {}: see
#                           CVE-2023-47090), each password as its bcrypt hash; copy it beside
#                           nats-server.conf, which includes it
#   cluster-tls.conf        for a cluster of three: the routes between the servers, mutual TLS
#                           with the same certificate (include it in cluster.conf: @ROUTE_TLS@)
set -euo pipefail
die() { printf 'farm-certs: %s\n  fix: %s\n' "$1" "$2" >&2; exit 1; }
[ $# -ge 1 ] || die "no output folder" "scripts/farm-certs.sh /etc/gallery-painter/farm --host farm.local --kiosk hall-1"
OUT=$1; shift
HOSTS=(); KIOSKS=(); PAINTERS=()
while [ $# -gt 0 ]; do
  case $1 in
    --host) [ $# -ge 2 ] || die "--host needs a name or address" "--host 10.0.0.5"; HOSTS+=("$2"); shift 2 ;;
    --kiosk) [ $# -ge 2 ] || die "--kiosk needs a name" "--kiosk hall-1"; KIOSKS+=("$2"); shift 2 ;;
    --painter) [ $# -ge 2 ] || die "--painter needs a name" "--painter gpu-1"; PAINTERS+=("$2"); shift 2 ;;
    *) die "unknown option $1" "use --host NAME, --kiosk NAME and --painter NAME" ;;
  esac
done
[ ${#HOSTS[@]} -gt 0 ] || die "no --host" "name the server as kiosks reach it: --host farm.local --host 10.0.0.5"
[ ${#KIOSKS[@]} -gt 0 ] || die "no --kiosk" "name each kiosk as in its engine.remote.kiosk: --kiosk hall-1"
# One painter user per painter box (its --user and its name on the farm); "painter" if none named.
[ ${#PAINTERS[@]} -gt 0 ] || PAINTERS=(painter)
for k in "${KIOSKS[@]}" "${PAINTERS[@]}"; do
  [[ $k =~ ^[A-Za-z0-9_-]{1,64}$ ]] || die "name '$k' is not one word" "letters, digits, - and _ only"
  [ "$k" != admin ] || die "'admin' is the setup role's user" "name the kiosk or painter differently"
done
dup=$(printf '%s\n' "${KIOSKS[@]}" "${PAINTERS[@]}" | sort | uniq -d | head -1)
[ -z "$dup" ] || die "'$dup' is named twice (kiosks and painters are users of one server)" "give each kiosk and painter its own name"
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
# The servers also present it to each other on their cluster routes: client and server use.
if [ ! -f server.pem ] || [ "$(cat server.hosts 2>/dev/null)" != "$san;routes" ]; then
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=${HOSTS[0]}" \
    -keyout server-key.pem -out server.csr 2>/dev/null
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$san" > server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 825 \
    -extfile server.ext -out server.pem 2>/dev/null
  rm -f server.csr server.ext
  echo "$san;routes" > server.hosts
  echo "farm-certs: made the server's certificate for $san"
fi

{
  echo "# Made by scripts/farm-certs.sh: the cluster's routes, each server proving to the others"
  echo "# that the farm's CA signed it (and checking theirs)."
  echo "tls {"
  echo "  cert_file: \"$PWD/server.pem\""
  echo "  key_file: \"$PWD/server-key.pem\""
  echo "  ca_file: \"$PWD/ca.pem\""
  echo "  verify: true"
  echo "  timeout: 3"
  echo "}"
} > cluster-tls.conf

password() {  # the user's password, made once, as its bcrypt hash: the plain one is only in passwords/<user>
  local f="passwords/$1"
  [ -s "$f" ] || openssl rand -hex 24 > "$f"
  chmod 600 "$f"
  # libcrypt (Debian's libcrypt1, always there) makes the hash; nats-server reads the $2a$
  # spelling of bcrypt (the same computation as $2b$ for these 48-character passwords).
  python3 - "$f" <<'PY' || die "cannot make a bcrypt hash" "sudo apt-get install python3 libcrypt1"
import ctypes, sys
lib = ctypes.CDLL("libcrypt.so.1")
lib.crypt_gensalt.restype = ctypes.c_char_p
lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
lib.crypt.restype = ctypes.c_char_p
lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
password = open(sys.argv[1], "rb").read().strip()
salt = lib.crypt_gensalt(b"$2b$", 11, None, 0)
hashed = lib.crypt(password, salt) if salt else None
if not hashed or not hashed.startswith(b"$2b$11$"):
    sys.exit("libcrypt made no bcrypt hash")
print("$2a$" + hashed.decode()[4:])
PY
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
  echo "    # The setup role: makes the streams and buckets (gallery-painter farm-setup). Only it may."
  echo "    { user: \"admin\", password: \"$(password admin)\", permissions: {"
  echo "        publish: { allow: [\"\$JS.API.>\", \"_INBOX_admin.>\"] }"
  echo "        subscribe: { allow: [\"_INBOX_admin.>\"] } } }"
  for p in "${PAINTERS[@]}"; do
    echo "    # Painter $p: takes jobs, reads each kiosk's style images, publishes snapshots and paintings"
    echo "    # (reads none), holds Live leases, announces itself as $p. Creates and deletes nothing."
    echo "    { user: \"$p\", password: \"$(password "$p")\", permissions: {"
    printf '        publish: { allow: ["$JS.API.STREAM.INFO.GP_JOBS", "$JS.API.CONSUMER.INFO.GP_JOBS.painters",\n'
    printf '          "$JS.API.CONSUMER.MSG.NEXT.GP_JOBS.painters", "$JS.ACK.GP_JOBS.painters.>", "gp.snap.*.*", "gp.results.*.*",\n'
    printf '          "$JS.API.STREAM.INFO.KV_gp-painters", "$KV.gp-painters.%s",\n' "$p"
    printf '          "$JS.API.STREAM.INFO.KV_gp-leases", "$JS.API.DIRECT.GET.KV_gp-leases.>", "$KV.gp-leases.>",\n'
    for k in "${KIOSKS[@]}"; do
      printf '          "$JS.API.STREAM.INFO.OBJ_gp-styles-%s", "$JS.API.DIRECT.GET.OBJ_gp-styles-%s.>", "$JS.API.STREAM.MSG.GET.OBJ_gp-styles-%s",\n' "$k" "$k" "$k"
      printf '          "$JS.API.CONSUMER.CREATE.OBJ_gp-styles-%s", "$JS.API.CONSUMER.CREATE.OBJ_gp-styles-%s.>", "$JS.FC.OBJ_gp-styles-%s.>",\n' "$k" "$k" "$k"
    done
    printf '          "_INBOX_%s.>"] }\n' "$p"
    printf '        subscribe: { allow: ["gp.cancel.*", "gp.live.*.*", "_INBOX_%s.>"] } } }\n' "$p"
  done
  for k in "${KIOSKS[@]}"; do
    echo "    # Kiosk $k: its own jobs, Live frames, style images, snapshots, paintings and lease; the list"
    echo "    # of painters. Creates and changes no stream, bucket or consumer."
    echo "    { user: \"$k\", password: \"$(password "$k")\", permissions: {"
    printf '        publish: { allow: ["gp.jobs.%s", "gp.cancel.%s", "gp.live.%s.*", "$O.gp-styles-%s.>",\n' "$k" "$k" "$k" "$k"
    printf '          "$JS.API.STREAM.INFO.GP_RESULTS_%s", "$JS.API.STREAM.PURGE.GP_RESULTS_%s",\n' "$k" "$k"
    printf '          "$JS.API.STREAM.MSG.GET.GP_RESULTS_%s", "$JS.API.DIRECT.GET.GP_RESULTS_%s.>",\n' "$k" "$k"
    printf '          "$JS.API.STREAM.INFO.OBJ_gp-styles-%s", "$JS.API.STREAM.MSG.GET.OBJ_gp-styles-%s",\n' "$k" "$k"
    printf '          "$JS.API.DIRECT.GET.OBJ_gp-styles-%s.>", "$JS.API.STREAM.PURGE.OBJ_gp-styles-%s",\n' "$k" "$k"
    printf '          "$JS.API.STREAM.INFO.KV_gp-painters", "$JS.API.STREAM.MSG.GET.KV_gp-painters", "$JS.API.DIRECT.GET.KV_gp-painters.>",\n'
    printf '          "$JS.API.STREAM.INFO.KV_gp-leases", "$JS.API.DIRECT.GET.KV_gp-leases.$KV.gp-leases.%s"] }\n' "$k"
    printf '        subscribe: { allow: ["gp.snap.%s.*", "gp.results.%s.*", "_INBOX_%s.>"] } } }\n' "$k" "$k" "$k"
  done
  echo "  ]"
  echo "}"
} > security.conf.new
mv security.conf.new security.conf
echo "farm-certs: security.conf for admin, ${#PAINTERS[@]} painter(s): ${PAINTERS[*]} and ${#KIOSKS[@]} kiosk(s): ${KIOSKS[*]}"
echo "  server:  copy security.conf beside nats-server.conf and put include \"security.conf\" in it; kiosks and painters use tls://HOST:PORT"
echo "  setup:   gallery-painter farm-setup --nats tls://${HOSTS[0]}:4222 --user admin --password-file $PWD/passwords/admin --ca $PWD/ca.pem$(printf ' --kiosk %s' "${KIOSKS[@]}")"
echo "  kiosks:  engine.remote: (url: \"tls://${HOSTS[0]}:4222\", kiosk: \"NAME\", user: \"NAME\", password_file: \"...\", ca: \".../ca.pem\")"
echo "  painters: gallery-painter painter --nats tls://${HOSTS[0]}:4222 --user NAME --password-file .../passwords/NAME --ca .../ca.pem"
