#!/usr/bin/env bash
# Installs the .deb that build-deb.sh made on this machine (root, Debian 12), checks what the
# package set up, runs its daemon as user lanegate against its own collector and simulated booth
# hardware until events are stored, stops it, and purges the package. Leaves the machine as it
# found it, except for the two system users (Debian keeps system users on purge).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "test-deb: needs root (it installs and purges the package)"; exit 1; }
deb="$(ls -t .build-deb/lanegate_*_amd64.deb | head -1)"
work="$(mktemp -d /tmp/lanegate-deb.XXXXXX)"
chmod 0755 "$work"
if dpkg -s lanegate >/dev/null 2>&1; then
    echo "test-deb: lanegate is already installed here; this test would purge it, so it stops"; exit 1
fi
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    dpkg -s lanegate >/dev/null 2>&1 && dpkg --purge lanegate >/dev/null 2>&1
    for user in deb-test-tech deb-test-outsider; do userdel "$user" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "test-deb: FAIL: $*"; exit 1; }
ok() { echo "test-deb: ok   $*"; }

dpkg -i "$deb" > "$work/install.log" 2>&1 || { cat "$work/install.log"; fail "dpkg -i"; }
ok "installed $(basename "$deb")"
getent passwd lanegate >/dev/null && getent group lanegate >/dev/null || fail "no user or group lanegate"
[ "$(stat -c '%U:%G %a' /var/lib/lanegate)" = "lanegate:lanegate 750" ] || fail "/var/lib/lanegate: $(stat -c '%U:%G %a' /var/lib/lanegate)"
[ "$(stat -c '%U:%G %a' /etc/lanegate/lanegate.toml)" = "root:lanegate 640" ] || fail "the configuration is not readable by group lanegate only"
ok "users lanegate and lanegate-collector; /var/lib/lanegate 0750; /etc/lanegate/lanegate.toml root:lanegate 0640"
# The shipped file names the credentials a site installs; until they are there, config check
# says which are missing (and nothing else), and with them in place the file validates.
if lanegate config check /etc/lanegate/lanegate.toml > "$work/check.log" 2>&1; then
    fail "config check called the shipped file valid while its credential files are missing"
fi
for file in collector-ca.pem gateway.pem gateway.key; do
    grep -q "cannot read /etc/lanegate/$file" "$work/check.log" || { cat "$work/check.log"; fail "config check did not name /etc/lanegate/$file"; }
done
[ "$(grep -c . "$work/check.log")" -eq 3 ] || { cat "$work/check.log"; fail "config check found more than the missing credentials"; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=booth-deb-test \
    -keyout /etc/lanegate/gateway.key -out /etc/lanegate/gateway.pem 2>/dev/null
cp /etc/lanegate/gateway.pem /etc/lanegate/collector-ca.pem
lanegate config check /etc/lanegate/lanegate.toml > /dev/null || fail "the shipped configuration does not validate"
rm -f /etc/lanegate/gateway.key /etc/lanegate/gateway.pem /etc/lanegate/collector-ca.pem
ok "the shipped configuration names its missing credentials, and validates once they are there"
systemd-analyze verify /lib/systemd/system/lanegate.service /lib/systemd/system/lanegate-collector.service \
    || fail "systemd-analyze verify objects to the installed units"
ok "installed units verify"

# Runs a program as a user, in place of the (background) subshell, so that $! is its pid.
exec_as() { local user="$1"; shift; exec setpriv --reuid="$user" --regid="$user" --init-groups "$@"; }
port=$((20000 + RANDOM % 20000))
printf 'booth-deb-test deb-test-token-0123456789\n' > "$work/tokens"
printf 'deb-test-token-0123456789' > /etc/lanegate/token
chgrp lanegate /etc/lanegate/token && chmod 0640 /etc/lanegate/token
# The reader's token is given to the collector as its digest only.
read_token=deb-test-read-token-0123456789
printf 'deb-test-reader sha256:%s\n' "$(printf '%s' "$read_token" | sha256sum | cut -d' ' -f1)" > "$work/read-tokens"
chmod 0644 "$work/tokens" "$work/read-tokens" && chmod 0777 "$work"
cat > /etc/lanegate/deb-test.toml <<CONFIG
[gateway]
id = "booth-deb-test"
[collector]
url = "http://127.0.0.1:$port/v1/batches"
token_file = "/etc/lanegate/token"
allow_plain_http = true
[pipeline]
batch_window = "1s"
[metrics]
listen = "off"
[[devices]]
name = "rfid-lane1"
kind = "rfid"
tty = "$work/sim/rfid-lane1"
antennas = [1, 2, 3, 4]
[[devices]]
name = "eseal"
kind = "eseal"
tty = "$work/sim/eseal"
[[lanes]]
name = "lane1"
  [[lanes.read_points]]
  name = "booth"
  antennas = [{ device = "rfid-lane1", ports = [1, 2, 3, 4] }, { device = "eseal", ports = [1] }]
  depart_after = "1s"
CONFIG
chgrp lanegate /etc/lanegate/deb-test.toml && chmod 0640 /etc/lanegate/deb-test.toml

exec_as lanegate-collector lanegate-collector --port "$port" --database /var/lib/lanegate-collector/test.db \
    --tokens "$work/tokens" --read-tokens "$work/read-tokens" > "$work/collector.log" 2>&1 & pids+=($!)
exec_as lanegate lanegate simulate --directory "$work/sim" --lanes 1 --vehicles 6 --time-scale 0.05 > "$work/sim.log" 2>&1 & pids+=($!)
sleep 2
exec_as lanegate lanegate run --config /etc/lanegate/deb-test.toml > "$work/daemon.log" 2>&1 & daemon=$!; pids+=($daemon)

query() {  # GET $1 from the collector, with bash's own /dev/tcp (no curl on a bare machine)
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n' "$1" "$read_token" >&3
    timeout 5 cat <&3 || true
    exec 3<&-
}
for _ in $(seq 60); do
    query "/v1/events?gateway=booth-deb-test&type=tag_departed" | grep -q '"tag_departed"' && break
    sleep 1
done
query "/v1/events?gateway=booth-deb-test&type=tag_departed" | grep -q '"tag_departed"' \
    || { cat "$work/daemon.log"; fail "no tag visit reached the collector in 60 s"; }
ok "the packaged daemon, as user lanegate, read simulated hardware and its visits reached the packaged collector"
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
timeout 5 head -1 <&3 | grep -q ' 401' || fail "the collector answered a query without a read token"
exec 3<&-
ok "a query without a read token is refused (401)"
grep -q 'rfid-lane1 reading' "$work/daemon.log" || fail "the reader never reached reading"

# lanegate monitor: a technician in group lanegate watches the running daemon; anyone else is
# told how to get in.
socket=/run/lanegate/monitor.sock
[ "$(stat -c '%U:%G %a' "$socket")" = "lanegate:lanegate 660" ] || fail "$socket is $(stat -c '%U:%G %a' "$socket")"
useradd --no-create-home --groups lanegate deb-test-tech
useradd --no-create-home deb-test-outsider
setpriv --reuid=deb-test-tech --regid=deb-test-tech --init-groups lanegate monitor --once > "$work/monitor.txt" 2>&1 \
    || { cat "$work/monitor.txt"; fail "lanegate monitor as a member of group lanegate"; }
grep -q 'booth-deb-test · from the running daemon' "$work/monitor.txt" && grep -q 'rfid-lane1   reading' "$work/monitor.txt" \
    || { cat "$work/monitor.txt"; fail "the monitor does not show the running daemon"; }
ok "a technician in group lanegate watches the daemon with lanegate monitor"
setpriv --reuid=deb-test-outsider --regid=deb-test-outsider --init-groups lanegate monitor --once > "$work/outsider.txt" 2>&1 \
    && fail "lanegate monitor worked for a user outside group lanegate"
grep -q 'is for group lanegate: sudo usermod -aG lanegate' "$work/outsider.txt" \
    || { cat "$work/outsider.txt"; fail "the outsider was not told how to get in"; }
ok "a user outside the group is refused and told how to get in"
rss="$(awk '/VmRSS/ { print $2 }' "/proc/$daemon/status")"
kill -TERM "$daemon"
for _ in $(seq 40); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.5; done
kill -0 "$daemon" 2>/dev/null && fail "SIGTERM did not stop the daemon in 20 s"
wait "$daemon" && status=0 || status=$?
[ "$status" -eq 0 ] || fail "the daemon exited with $status"
ok "SIGTERM stopped it cleanly (resident memory before the stop: $((rss / 1024)) MiB)"

for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
wait 2>/dev/null || true
dpkg --purge lanegate > "$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "dpkg --purge"; }
for path in /usr/bin/lanegate /usr/bin/lanegate-collector /lib/systemd/system/lanegate.service /etc/lanegate \
            /var/lib/lanegate /var/lib/lanegate-collector /etc/udev/rules.d/70-lanegate.rules; do
    [ ! -e "$path" ] || fail "$path is left after purge"
done
ok "purged: programs, units, configuration, rules and state are gone"
echo "test-deb: all passed"
