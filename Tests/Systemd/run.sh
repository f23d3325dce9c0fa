#!/usr/bin/env bash
# lanegate under a real systemd. A Debian 12 root made by mmdebstrap (cached in .build-systemd)
# boots with systemd as PID 1 in a container (systemd-nspawn, sharing this machine's network), the
# .deb that packaging/build-deb.sh made is installed with apt as the README says, and from then on
# the daemon is driven by systemctl alone: readiness (Type=notify, STATUS=), the clock state its
# batches carry under the unit's sandbox, reload, the watchdog, the journal, stop, a broken
# configuration, and purge. Its LLRP reader (`lanegate simulate --llrp-port`) and its collector
# run on this machine's loopback. Needs root, mmdebstrap and systemd-container (.ci/install-deps).
#
# One container artefact is undone: systemd-nspawn forbids clock_adjtime and adjtimex to the
# whole container, which a booted machine does not. It is allowed back for reads here; setting
# the clock still needs CAP_SYS_TIME, which neither the container nor the unit has.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "systemd-test: needs root (it boots a container)"; exit 1; }
deb="$(ls -t .build-deb/lanegate_*_amd64.deb 2>/dev/null | head -1)"
[ -n "$deb" ] || { echo "systemd-test: no .build-deb/lanegate_*.deb (bash packaging/build-deb.sh)"; exit 1; }
cache="$PWD/.build-systemd"
work="$(mktemp -d /tmp/lanegate-systemd.XXXXXX)"
root="$work/root"
fail() { echo "systemd-test: FAIL: $*"; exit 1; }
ok() { echo "systemd-test: ok   $*"; }
pids=()
boot=""
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    if [ -n "$boot" ] && kill -0 "$boot" 2>/dev/null; then
        kill -TERM "$boot" 2>/dev/null || true  # nspawn powers the container off
        for _ in $(seq 30); do kill -0 "$boot" 2>/dev/null || break; sleep 1; done
        kill -KILL "$boot" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# The root: what the package depends on, systemd and apt, made once.
mkdir -p "$cache"
if [ ! -f "$cache/rootfs.tar" ]; then
    depends="$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/[(|].*//; s/ //g' | grep . | paste -sd, -)"
    mmdebstrap --variant=apt --include="systemd,systemd-sysv,dbus,$depends" bookworm "$cache/rootfs.tmp.tar" \
        > "$cache/mmdebstrap.log" 2>&1 || { tail -20 "$cache/mmdebstrap.log"; fail "mmdebstrap"; }
    mv "$cache/rootfs.tmp.tar" "$cache/rootfs.tar"
fi
mkdir -p "$root" && tar -xf "$cache/rootfs.tar" -C "$root"
cp "$deb" "$root/root/"

# This machine's side: the collector and an LLRP reader, from the same package.
dpkg-deb -x "$deb" "$work/pkg"
bin="$work/pkg/usr/bin"
port=$((20000 + RANDOM % 10000))
llrp=$((port + 10000))
token=systemd-test-token-0123456789
read_token=systemd-test-read-token-0123456789
printf 'booth-systemd %s\n' "$token" > "$work/tokens"
printf 'systemd-reader sha256:%s\n' "$(printf '%s' "$read_token" | sha256sum | cut -d' ' -f1)" > "$work/read-tokens"
"$bin/lanegate-collector" --port "$port" --database "$work/collector.db" --tokens "$work/tokens" \
    --read-tokens "$work/read-tokens" > "$work/collector.log" 2>&1 & pids+=($!)
"$bin/lanegate" simulate --directory "$work/sim" --lanes 1 --vehicles 400 --time-scale 0.05 --llrp-port "$llrp" \
    > "$work/sim.log" 2>&1 & pids+=($!)
query() {  # GET $1 from the collector with bash's /dev/tcp
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n' "$1" "$read_token" >&3
    timeout 5 cat <&3 || true
    exec 3<&-
}

# Boot. The container's PID 1 is the systemd that nspawn started.
systemd-nspawn -D "$root" -q --register=no --keep-unit --system-call-filter="adjtimex clock_adjtime" \
    --hostname=booth -b > "$work/console.log" 2>&1 & boot=$!
leader=""
for _ in $(seq 60); do
    leader="$(pgrep -P "$boot" -x systemd || true)"
    [ -n "$leader" ] && break
    sleep 0.5
done
[ -n "$leader" ] || { tail -20 "$work/console.log"; fail "the container's systemd did not start"; }
guest() { nsenter --target "$leader" --mount --uts --ipc --pid --root --wd env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
state="$(timeout 60 nsenter --target "$leader" --mount --uts --ipc --pid --root --wd systemctl is-system-running --wait || true)"
case "$state" in running|degraded) ok "booted: systemd $(guest systemctl --version | head -1 | cut -d' ' -f2) is PID 1 ($state)" ;;
    *) tail -20 "$work/console.log"; fail "the container did not finish booting: $state" ;; esac
show() { guest systemctl show -p "$2" --value "$1"; }

# Install exactly as the README tells a technician.
guest sh -c "cd /root && apt-get install -y -qq ./lanegate_*_amd64.deb" > "$work/install.log" 2>&1 \
    || { tail -20 "$work/install.log"; fail "apt install ./lanegate_*.deb"; }
guest getent passwd lanegate >/dev/null || fail "sysusers made no user lanegate"
[ "$(guest stat -c '%U:%G %a' /var/lib/lanegate)" = "lanegate:lanegate 750" ] || fail "tmpfiles: /var/lib/lanegate is $(guest stat -c '%U:%G %a' /var/lib/lanegate)"
[ "$(show lanegate.service UnitFileState)" = "disabled" ] || fail "a fresh install enabled the daemon before its configuration"
ok "apt install ./$(basename "$deb"): users and directories made by sysusers and tmpfiles; nothing started"

printf '%s' "$token" > "$root/etc/lanegate/token"
config() {  # the booth's configuration, with the batch window given
    cat > "$root/etc/lanegate/lanegate.toml" <<CONFIG
[gateway]
id = "booth-systemd"
[collector]
url = "http://127.0.0.1:$port/v1/batches"
token_file = "/etc/lanegate/token"
allow_plain_http = true
[pipeline]
batch_window = "$1"
[metrics]
listen = "off"
[[devices]]
name = "portal"
kind = "rfid"
protocol = "llrp"
host = "127.0.0.1"
port = $llrp
keepalive = "2s"
[[lanes]]
name = "lane1"
  [[lanes.read_points]]
  name = "booth"
  antennas = [{ device = "portal", ports = [1, 2, 3, 4] }]
  depart_after = "1s"
CONFIG
}
config 2s
guest chgrp lanegate /etc/lanegate/lanegate.toml /etc/lanegate/token
guest chmod 0640 /etc/lanegate/lanegate.toml /etc/lanegate/token

# Readiness: enable --now returns once READY=1 came; the status line is systemd's to show.
guest systemctl enable --now lanegate.service > "$work/enable.log" 2>&1 \
    || { guest journalctl -u lanegate --no-pager | tail -20; fail "systemctl enable --now lanegate"; }
[ "$(show lanegate.service ActiveState)/$(show lanegate.service SubState)" = "active/running" ] \
    || fail "lanegate is $(show lanegate.service ActiveState)/$(show lanegate.service SubState)"
status="$(show lanegate.service StatusText)"
[ -n "$status" ] || fail "no STATUS= line"
started=$(show lanegate.service ExecMainStartTimestampMonotonic)
ready=$(show lanegate.service ActiveEnterTimestampMonotonic)
ok "enable --now: active (running) after READY=1, $(( (ready - started) / 1000 )) ms from exec; status: $status"
grep -q "Status: \"" <<< "$(guest systemctl status lanegate --no-pager)" || fail "systemctl status shows no status line"

# Events arrive, and the clock state they carry is the kernel's, not "unknown".
for _ in $(seq 60); do
    query "/v1/events?gateway=booth-systemd&type=tag_arrived" | grep -q '"tag_arrived"' && break
    sleep 1
done
query "/v1/events?gateway=booth-systemd&type=tag_arrived" | grep -q '"tag_arrived"' \
    || { guest journalctl -u lanegate --no-pager | tail -20; fail "no tag arrival reached the collector in 60 s"; }
clock="$(query /v1/gateways | grep -o '"clock":{[^}]*}')"
echo "$clock" | grep -q '"sync":"unknown"' && fail "under its unit the daemon cannot read the clock state: $clock"
ok "tag arrivals reach the collector; the batches' clock state is read under the sandbox: $clock"

# Reload: a changed [pipeline] is named, the process stays.
pid=$(show lanegate.service MainPID)
config 3s
guest systemctl reload lanegate.service > "$work/reload.log" 2>&1 \
    || { guest journalctl -u lanegate --no-pager | tail -20; fail "systemctl reload lanegate"; }
for _ in $(seq 20); do show lanegate.service StatusText | grep -q "restart to apply" && break; sleep 0.5; done
show lanegate.service StatusText | grep -q "restart to apply pipeline" \
    || { guest journalctl -u lanegate --no-pager | tail -5; fail "reload did not name the changed [pipeline]: $(show lanegate.service StatusText)"; }
[ "$(show lanegate.service MainPID)" = "$pid" ] || fail "reload replaced the process"
ok "systemctl reload: SIGHUP read the file again, named the change ($(show lanegate.service StatusText)), same process"

# The journal: priorities and the fields journalctl -o json shows.
journal="$(guest journalctl -u lanegate -o json --no-pager)"
echo "$journal" | grep -q '"PRIORITY":"6"' || fail "no informational entries in the journal"
echo "$journal" | grep -q '"SYSLOG_IDENTIFIER":"lanegate"' || fail "journal entries are not identified as lanegate"
ok "journal: $(echo "$journal" | grep -c .) entries with PRIORITY and SYSLOG_IDENTIFIER"

# The watchdog: a daemon that stops is killed and started again within WatchdogSec.
guest systemctl restart lanegate.service  # applies the changed window too
before=$(show lanegate.service NRestarts)
pid=$(show lanegate.service MainPID)
guest sh -c "kill -STOP $pid"  # the shell's kill: a minimal Debian has no /bin/kill
for _ in $(seq 60); do
    [ "$(show lanegate.service NRestarts)" -gt "$before" ] && [ "$(show lanegate.service ActiveState)" = active ] && break
    sleep 1
done
[ "$(show lanegate.service NRestarts)" -gt "$before" ] || fail "a stopped daemon was not restarted by the watchdog"
[ "$(show lanegate.service MainPID)" != "$pid" ] || fail "the same process is still there"
# The journal is read whole before grep (with pipefail, `grep -q` quitting early would fail
# journalctl's write), and again for a few seconds: systemd's own entries reach it a moment late.
for _ in $(seq 10); do
    grep -Eqi "watchdog timeout|result 'watchdog'" <<< "$(guest journalctl -u lanegate --no-pager)" && break
    sleep 0.5
done
grep -Eqi "watchdog timeout|result 'watchdog'" <<< "$(guest journalctl -u lanegate --no-pager)" \
    || { guest journalctl -u lanegate --no-pager | grep -v "thread priority" | tail -30; fail "the journal does not say the watchdog fired"; }
ok "watchdog: a SIGSTOPped daemon was killed and restarted ($(show lanegate.service NRestarts) restarts)"

# Stop: exit 0, the spool empty.
arrived_before=$(query "/v1/gateways" | grep -o '"events":[0-9]*' | head -1)
guest systemctl stop lanegate.service
[ "$(show lanegate.service ExecMainStatus)" = 0 ] || fail "the daemon exited $(show lanegate.service ExecMainStatus) on stop"
spool="$(guest setpriv --reuid=lanegate --regid=lanegate --init-groups lanegate spool status /var/lib/lanegate/spool.db 2>&1 || true)"
echo "$spool" | grep -q '^batches waiting  0 ' || { echo "$spool"; fail "the spool is not empty after a stop"; }
ok "systemctl stop: exit 0, spool empty ($arrived_before before the stop)"

# The collector under its own unit, as shipped: mutual TLS on 8443, its state and configuration
# directories, its sandbox. The booth's daemon then delivers to it with its client certificate.
cport=8443
! (exec 3<>"/dev/tcp/127.0.0.1/$cport") 2>/dev/null || fail "port $cport is taken here, and the collector unit listens there"
pki="$work/pki" && mkdir -p "$pki"
certificate() {  # name, subject, extension: a key and a certificate signed by the test CA
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$2" \
        -keyout "$pki/$1.key" -out "$pki/$1.csr" 2>/dev/null
    openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial -days 1 \
        -extfile <(printf '%s\n' "$3") -out "$pki/$1.pem" 2>/dev/null
}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=systemd-test-ca \
    -keyout "$pki/ca.key" -out "$pki/ca.pem" 2>/dev/null
certificate server 127.0.0.1 "subjectAltName=IP:127.0.0.1"
certificate gateway booth-systemd "extendedKeyUsage=clientAuth"
etc="$root/etc/lanegate-collector" && mkdir -p "$etc"
cp "$pki/server.pem" "$etc/server.pem" && cp "$pki/server.key" "$etc/server.key" && cp "$pki/ca.pem" "$etc/gateways-ca.pem"
printf 'booth-systemd\n' > "$etc/tokens" && cp "$work/read-tokens" "$etc/read-tokens"
guest sh -c "chgrp lanegate-collector /etc/lanegate-collector/* && chmod 0640 /etc/lanegate-collector/*"
guest systemctl start lanegate-collector.service \
    || { guest journalctl -u lanegate-collector --no-pager | tail -20; fail "systemctl start lanegate-collector"; }
for _ in $(seq 40); do (exec 3<>"/dev/tcp/127.0.0.1/$cport") 2>/dev/null && break; sleep 0.25; done
collector() {  # GET $1 from the unit's collector over TLS, as the test's reader
    curl -sS --cacert "$pki/ca.pem" --cert "$pki/gateway.pem" --key "$pki/gateway.key" \
        -H "Authorization: Bearer $read_token" "https://127.0.0.1:$cport$1"
}
[ "$(collector /healthz 2>&1)" = ok ] \
    || { collector /healthz; guest journalctl -u lanegate-collector --no-pager | tail -20; fail "the collector unit does not answer /healthz"; }
[ "$(guest stat -c '%U %a' /var/lib/lanegate-collector/events.db)" = "lanegate-collector 600" ] \
    || fail "the collector's database is $(guest stat -c '%U %a' /var/lib/lanegate-collector/events.db)"
ok "lanegate-collector.service: running as lanegate-collector under its sandbox, mutual TLS on $cport, database 0600"

cp "$pki/ca.pem" "$root/etc/lanegate/collector-ca.pem"
cp "$pki/gateway.pem" "$root/etc/lanegate/gateway.pem" && cp "$pki/gateway.key" "$root/etc/lanegate/gateway.key"
guest sh -c "chgrp lanegate /etc/lanegate/gateway.key && chmod 0640 /etc/lanegate/gateway.key"
sed -i "s|^url = .*|url = \"https://127.0.0.1:$cport/v1/batches\"|; s|^token_file = .*|ca_bundle = \"/etc/lanegate/collector-ca.pem\"\nclient_certificate = \"/etc/lanegate/gateway.pem\"\nclient_key = \"/etc/lanegate/gateway.key\"|; /^allow_plain_http/d" \
    "$root/etc/lanegate/lanegate.toml"
guest systemctl start lanegate.service || { guest journalctl -u lanegate --no-pager | tail -20; fail "the daemon did not start towards the unit's collector"; }
for _ in $(seq 60); do
    grep -q '"tag_arrived"' <<< "$(collector "/v1/events?gateway=booth-systemd&type=tag_arrived" 2>/dev/null)" && break
    sleep 1
done
grep -q '"tag_arrived"' <<< "$(collector "/v1/events?gateway=booth-systemd&type=tag_arrived")" \
    || { guest journalctl -u lanegate -u lanegate-collector --no-pager | tail -30; fail "no tag arrival reached the collector unit"; }
guest systemctl stop lanegate.service lanegate-collector.service
[ "$(show lanegate-collector.service ExecMainStatus)" = 0 ] \
    || fail "the collector exited $(show lanegate-collector.service ExecMainStatus) on stop"
ok "the daemon delivers to the collector unit with its client certificate; both stop with status 0"

# A broken configuration: the unit stays failed with status 78 and the error's file:line in
# systemctl status, instead of restarting every 2 s.
printf '[gateway]\nid = 7\n' > "$root/etc/lanegate/lanegate.toml"
guest systemctl start lanegate.service 2>/dev/null && fail "a broken configuration started"
sleep 5
guest systemctl status lanegate --no-pager > "$work/broken.log" 2>&1 || true
grep -q "lanegate.toml:2: gateway.id" "$work/broken.log" || { cat "$work/broken.log"; fail "systemctl status does not name the file and line"; }
[ "$(show lanegate.service ActiveState)/$(show lanegate.service ExecMainStatus)" = "failed/78" ] \
    || fail "a broken configuration left the unit $(show lanegate.service ActiveState), status $(show lanegate.service ExecMainStatus)"
# Five seconds is over two RestartSec=: a restarted unit would be activating or running again.
[ "$(guest journalctl -u lanegate --no-pager | grep -c 'status=78')" = 1 ] || fail "a broken configuration was restarted"
ok "a broken configuration: failed with status 78, not restarted; systemctl status shows lanegate.toml:2"

# Purge leaves nothing of the package.
guest apt-get purge -y -qq lanegate > "$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "apt purge"; }
for path in /etc/lanegate /etc/lanegate-collector /var/lib/lanegate /var/lib/lanegate-collector /usr/bin/lanegate \
    /lib/systemd/system/lanegate.service; do
    [ ! -e "$root$path" ] || fail "purge left $path"
done
ok "apt purge: no configuration, state, program or unit left"
echo "systemd-test: passed"
