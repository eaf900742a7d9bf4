#!/usr/bin/env bash
# The painter farm's private CA, the server's certificate, and one user per role, for
# config/farm/nats-server.conf. Visitors' photos travel on this link: TLS, and each kiosk
# may publish only its own jobs and read only its own snapshots and paintings.
#
#   scripts/farm-certs.sh OUT_DIR --host NAME_OR_IP... --kiosk NAME... [--painter NAME...]
#   scripts/farm-certs.sh OUT_DIR --server farm-1[,10.0.0.5] --server farm-2 --server farm-3 --kiosk ...
#
# Three roles, each allowed only its own work (docs/farm.md, "Who may do what"):
#   admin      makes the streams and buckets (gallery-painter farm-setup); nobody else may
#   a painter  takes jobs, reads style images, publishes snapshots and paintings, holds Live
#              leases, announces itself under its own name; reads no kiosk's results
#   a kiosk    sends its own jobs, frames and style images, reads its own snapshots and
#              paintings and its own lease; creates and changes no stream
#
# The server cannot prove who sent a message (any client can have JetStream write into any
# subject as a reply): each kiosk and painter also gets an identity, an Ed25519 key with a
# certificate signed by the farm's own key. Kiosks sign their jobs with it, painters their
# announcements; each side checks the other's (src/farm/trust.rs).
#
# Writes into OUT_DIR (made mode 0700; run it again to add kiosks: the CA, the certificates,
# the farm's key and existing passwords and identities are kept):
#   ca.pem                  the CA certificate: copy to every kiosk and painter (engine.remote.ca, --ca)
#   ca-key.pem, farm-key.pem   the CA's key and the farm's signing key: keep them off the network
#   server.pem, server-key.pem   the server's certificate (for every --host) and key
#   servers/<name>/         with --server: one folder per server of a cluster, to copy to that
#                           server only: its own key and certificate, ca.pem, security.conf and
#                           cluster-tls.conf (paths in them: --server-path, default
#                           /etc/gallery-painter/farm-server)
#   passwords/<user>        one password per user (mode 0600): copy each to its machine only
#                           (admin's stays with whoever runs farm-setup)
#   identities/<user>       each kiosk's and painter's identity (mode 0600): copy each to its
#                           machine only (engine.remote.identity, painter --identity)
#   security.conf           tls {} and authorization {} for the server (no accounts {}: see
#                           CVE-2023-47090), each password as its bcrypt hash; copy it beside
#                           nats-server.conf, which includes it
#   cluster-tls.conf        for a cluster of three: the routes between the servers, mutual TLS
#                           with the same certificate (include it in cluster.conf: @ROUTE_TLS@)
set -euo pipefail
die() { printf 'farm-certs: %s\n  fix: %s\n' "$1" "$2" >&2; exit 1; }
[ $# -ge 1 ] || die "no output folder" "scripts/farm-certs.sh /etc/gallery-painter/farm --host farm.local --kiosk hall-1"
OUT=$1; shift
HOSTS=(); KIOSKS=(); PAINTERS=(); SERVERS=(); SERVER_PATH=/etc/gallery-painter/farm-server
while [ $# -gt 0 ]; do
  case $1 in
    --host) [ $# -ge 2 ] || die "--host needs a name or address" "--host 10.0.0.5"; HOSTS+=("$2"); shift 2 ;;
    --server) [ $# -ge 2 ] || die "--server needs a name" "--server farm-1,10.0.0.5"; SERVERS+=("$2"); shift 2 ;;
    --server-path) [ $# -ge 2 ] || die "--server-path needs a folder" "--server-path /etc/gallery-painter/farm-server"; SERVER_PATH=$2; shift 2 ;;
    --kiosk) [ $# -ge 2 ] || die "--kiosk needs a name" "--kiosk hall-1"; KIOSKS+=("$2"); shift 2 ;;
    --painter) [ $# -ge 2 ] || die "--painter needs a name" "--painter gpu-1"; PAINTERS+=("$2"); shift 2 ;;
    *) die "unknown option $1" "use --host NAME (or --server NAME per server), --kiosk NAME and --painter NAME" ;;
  esac
done
[ ${#HOSTS[@]} -gt 0 ] || [ ${#SERVERS[@]} -gt 0 ] || die "no --host or --server" \
  "name the server as kiosks reach it: --host farm.local --host 10.0.0.5 (or --server NAME for each server of a cluster)"
for s in "${SERVERS[@]}"; do
  [[ ${s%%,*} =~ ^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$ ]] || die "server name '${s%%,*}' is not a host name" "--server farm-1,10.0.0.5"
done
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
# A server's certificate for names/addresses "$2..." into folder $1 (kept while its names hold).
# The servers also present it to each other on their cluster routes: client and server use.
server_cert() {
  local dir=$1; shift
  local san="" h
  for h in "$@"; do
    if [[ $h =~ ^[0-9.]+$ || $h == *:* ]]; then san+="IP:$h,"; else san+="DNS:$h,"; fi
  done
  san=${san%,}
  if [ ! -f "$dir/server.pem" ] || [ "$(cat "$dir/server.hosts" 2>/dev/null)" != "$san;routes" ]; then
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$1" \
      -keyout "$dir/server-key.pem" -out "$dir/server.csr" 2>/dev/null
    printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$san" > "$dir/server.ext"
    openssl x509 -req -in "$dir/server.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 825 \
      -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
    rm -f "$dir/server.csr" "$dir/server.ext"
    echo "$san;routes" > "$dir/server.hosts"
    if [ "$dir" = . ]; then echo "farm-certs: made the server's certificate for $san"; else echo "farm-certs: made $dir/server.pem for $san"; fi
  fi
}
[ ${#HOSTS[@]} -eq 0 ] || server_cert . "${HOSTS[@]}"

# The cluster's routes of a server whose files stand in $1, each server proving to the others
# that the farm's CA signed it (and checking theirs).
cluster_tls() {
  echo "# Made by scripts/farm-certs.sh: the cluster's routes, each server proving to the others"
  echo "# that the farm's CA signed it (and checking theirs)."
  echo "tls {"
  echo "  cert_file: \"$1/server.pem\""
  echo "  key_file: \"$1/server-key.pem\""
  echo "  ca_file: \"$1/ca.pem\""
  echo "  verify: true"
  echo "  timeout: 3"
  echo "}"
}
[ ${#HOSTS[@]} -eq 0 ] || cluster_tls "$PWD" > cluster-tls.conf

# The farm's signing key, and an identity per kiosk and painter: its Ed25519 key and the
# farm's signature over its role and name (the bytes src/farm/trust.rs checks).
command -v od >/dev/null || die "od is missing" "sudo apt-get install coreutils"
hexof() { od -An -v -tx1 | tr -d ' \n'; }
if [ ! -f farm-key.pem ]; then
  openssl genpkey -algorithm ed25519 -out farm-key.pem 2>/dev/null || die "openssl cannot make Ed25519 keys" "use OpenSSL 1.1.1 or newer"
  echo "farm-certs: made the farm's signing key (farm-key.pem)"
fi
FARM_PUBLIC=$(openssl pkey -in farm-key.pem -pubout -outform DER 2>/dev/null | tail -c 32 | hexof)
mkdir -p identities
identity() {  # role name
  local f="identities/$2"
  if [ -s "$f" ] && grep -q "^farm: $FARM_PUBLIC\$" "$f" && grep -q "^role: $1\$" "$f"; then return; fi
  local key public
  key=$(mktemp identities/.key.XXXXXX)
  openssl genpkey -algorithm ed25519 -out "$key" 2>/dev/null
  public=$(openssl pkey -in "$key" -pubout -outform DER 2>/dev/null | tail -c 32 | hexof)
  printf 'gallery-painter farm certificate 1\n%s\n%s\n%s\n' "$1" "$2" "$public" > "$key.tbs"
  {
    echo "# The farm identity of $1 $2 (scripts/farm-certs.sh): copy to that machine only, mode 0600."
    echo "farm: $FARM_PUBLIC"
    echo "role: $1"
    echo "name: $2"
    echo "key: $(openssl pkey -in "$key" -outform DER 2>/dev/null | tail -c 32 | hexof)"
    echo "public: $public"
    echo "certificate: $(openssl pkeyutl -sign -inkey farm-key.pem -rawin -in "$key.tbs" 2>/dev/null | hexof)"
  } > "$f.new"
  rm -f "$key" "$key.tbs"
  chmod 600 "$f.new" && mv "$f.new" "$f"
}
for k in "${KIOSKS[@]}"; do identity kiosk "$k"; done
for p in "${PAINTERS[@]}"; do identity painter "$p"; done

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
authorization() {
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
}
AUTHORIZATION=$(authorization)
# TLS with the certificate of a server whose files stand in $1, and the users.
security_conf() {
  echo "# Made by scripts/farm-certs.sh: TLS and one user per role."
  echo "tls {"
  echo "  cert_file: \"$1/server.pem\""
  echo "  key_file: \"$1/server-key.pem\""
  echo "  timeout: 3"
  echo "}"
  printf '%s\n' "$AUTHORIZATION"
}
if [ ${#HOSTS[@]} -gt 0 ]; then
  security_conf "$PWD" > security.conf.new
  mv security.conf.new security.conf
fi
# One folder per server of a cluster: its own key and certificate, what it needs, nothing more.
for s in "${SERVERS[@]}"; do
  name=${s%%,*}
  IFS=, read -r -a names <<< "$s"
  mkdir -p "servers/$name"
  server_cert "servers/$name" "${names[@]}"
  cp ca.pem "servers/$name/ca.pem"
  security_conf "$SERVER_PATH" > "servers/$name/security.conf"
  cluster_tls "$SERVER_PATH" > "servers/$name/cluster-tls.conf"
done
FIRST=${HOSTS[0]:-${SERVERS[0]%%,*}}
echo "farm-certs: users and identities for admin, ${#PAINTERS[@]} painter(s): ${PAINTERS[*]} and ${#KIOSKS[@]} kiosk(s): ${KIOSKS[*]}"
if [ ${#SERVERS[@]} -gt 0 ]; then
  echo "  servers: copy servers/NAME/ to $SERVER_PATH on server NAME only (its own key; never ca-key.pem, farm-key.pem or passwords/)"
else
  echo "  server:  copy security.conf beside nats-server.conf and put include \"security.conf\" in it; kiosks and painters use tls://HOST:PORT"
fi
echo "  setup:   gallery-painter farm-setup --nats tls://$FIRST:4222 --user admin --password-file $PWD/passwords/admin --ca $PWD/ca.pem$(printf ' --kiosk %s' "${KIOSKS[@]}")"
echo "  kiosks:  engine.remote: (url: \"tls://$FIRST:4222\", kiosk: \"NAME\", user: \"NAME\", password_file: \".../passwords/NAME\", ca: \".../ca.pem\", identity: \".../identities/NAME\")"
echo "  painters: gallery-painter painter --nats tls://$FIRST:4222 --user NAME --password-file .../passwords/NAME --ca .../ca.pem --identity .../identities/NAME"
echo "  keep ca-key.pem and farm-key.pem off the network: with them anyone can make users' certificates and identities"
