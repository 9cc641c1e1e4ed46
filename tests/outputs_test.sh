#!/bin/sh
# Never destroy an input, never leave litter (output.h): outputs that are
# inputs or each other are refused (exit 2, both named, input unchanged);
# devices, FIFOs, directories and symlinks are handled as documented; a
# failing output commits nothing; signals remove temporaries and a
# SIGKILL's leftovers are swept by the next run into the folder.
# Device nodes are our own mknod copies in a temp folder (run as root;
# skipped without mknod rights).
set -eu
exe=$1
data=$2
tmp=$(mktemp -d)
pids=
cleanup() {
    for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
cd "$tmp"

cp "$data/cases/layer_defaults/model.json" m.json
cp "$data/cases/tutorial_pretrained/model.json" pm.json
cp "$data/golden/tutorial_pretrained/pretrained.pth" ckpt.pth
printf '{"type": "Constant", "val": 1, "layer": "Linear"}' >cfg.json
printf '{"type": "Pretrained", "checkpoint": "ckpt.pth"}' >pcfg.json
"$exe" init m.json -q -o ref.safetensors --report ref.json || fail "reference run"
: >err.txt

# wi [ARGS...]: runs weightinit, status in $st, stderr in err.txt
wi() {
    set +e
    "$exe" "$@" 2>err.txt
    st=$?
    set -e
}
# one_line WORDS...: stderr is one error line containing every word
one_line() {
    [ "$(wc -l <err.txt)" -eq 1 ] || fail "not one line: $(cat err.txt)"
    grep -q '^weightinit: error: ' err.txt || fail "no error prefix: $(cat err.txt)"
    for w in "$@"; do
        grep -qF -- "$w" err.txt || fail "'$w' not named in: $(cat err.txt)"
    done
}
# no_temp DIR: no weightinit temporary in DIR
no_temp() {
    left=$(ls -A "${1:-.}" | grep '\.wi-tmp-' || true)
    [ -z "$left" ] || fail "temporary left in ${1:-.}: $left"
}
snapshot() { ls -A | LC_ALL=C sort >"$tmp.ls"; }
unchanged_dir() { ls -A | LC_ALL=C sort | cmp -s - "$tmp.ls" || fail "$1: folder changed: $(ls -A)"; }

# 1. The same file as an input or the other output: exit 2, both named.
for f in m.json cfg.json ckpt.pth; do cp "$f" "$f.orig"; done
ln -s m.json m.link
ln m.json m.hard
ln -s ckpt.pth ckpt.link
refused() { # LABEL INPUT OUTPUT-NAME ARGS...: exit 2, names, input intact
    label=$1 input=$2 out=$3
    shift 3
    snapshot
    wi "$@"
    [ "$st" -eq 2 ] || fail "$label: exit $st, want 2 ($(cat err.txt))"
    one_line "$out" "$input"
    cmp -s "$input" "$input.orig" || fail "$label: $input changed"
    unchanged_dir "$label"
}
refused "-o model" m.json m.json init m.json -q -o m.json
refused "-o ./model" m.json ./m.json init m.json -q -o ./m.json
refused "-o symlink" m.json m.link init m.json -q -o m.link
refused "-o hard link" m.json m.hard init m.json -q -o m.hard
refused "--report model" m.json m.json init m.json -q --report m.json
refused "--report model path" m.json "$tmp/m.json" init m.json -q --report "$tmp/m.json"
refused "-o init-cfg" cfg.json cfg.json init m.json -q --init-cfg cfg.json -o cfg.json
refused "--report init-cfg" cfg.json ./cfg.json init m.json -q --init-cfg cfg.json --report ./cfg.json
refused "Pretrained -o" ckpt.pth ckpt.pth init pm.json -q --init-cfg pcfg.json -o ckpt.pth
refused "Pretrained --report" ckpt.pth ckpt.link init pm.json -q --init-cfg pcfg.json --report ckpt.link
refused "convert IN IN" ckpt.pth ckpt.pth convert ckpt.pth ckpt.pth
refused "convert IN link" ckpt.pth ckpt.link convert ckpt.pth ckpt.link
refused "convert IN ./IN" ckpt.pth ./ckpt.pth convert ./ckpt.pth "$tmp/ckpt.pth"
# -o X --report X: the existing checkpoint X stays; absent, nothing appears.
cp ref.safetensors x.safetensors
cp x.safetensors x.safetensors.orig
refused "-o == --report" x.safetensors x.safetensors init m.json -q -o x.safetensors --report x.safetensors
snapshot
wi init m.json -q -o new.safetensors --report ./new.safetensors
[ "$st" -eq 2 ] || fail "-o new --report ./new: exit $st"
one_line new.safetensors ./new.safetensors
unchanged_dir "-o new --report ./new"
mkdir sub
wi init m.json -q -o sub/../two.safetensors --report two.safetensors
[ "$st" -eq 2 ] && [ ! -e two.safetensors ] || fail "sub/../two.safetensors vs two.safetensors: exit $st"
wi init m.json -q -o - --report -
[ "$st" -eq 2 ] || fail "-o - --report -: exit $st"
one_line "standard output"
rm -f x.safetensors x.safetensors.orig m.link m.hard ckpt.link

# 2. Special files.  Directories and sockets are refused, naming them.
snapshot
wi init m.json -q -o sub
[ "$st" -eq 2 ] || fail "-o DIR: exit $st"
one_line sub "is a directory"
unchanged_dir "-o DIR"
if python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind("sock")' 2>/dev/null; then
    wi init m.json -q -o sock
    [ "$st" -eq 2 ] && [ -S sock ] || fail "-o socket: exit $st"
    one_line sock socket
    rm sock
fi
# A symlink to a regular file: the file is replaced, the link stays.
cp m.json target.safetensors
ln -s target.safetensors link.safetensors
wi init m.json -q -o link.safetensors
[ "$st" -eq 0 ] || fail "-o symlink: $(cat err.txt)"
[ -L link.safetensors ] && [ "$(readlink link.safetensors)" = target.safetensors ] || fail "the symlink was replaced"
cmp -s target.safetensors ref.safetensors || fail "the symlink's target was not written"
# A dangling symlink: its target is created, the link stays.
ln -s sub/created.safetensors dangling.safetensors
wi init m.json -q -o dangling.safetensors
[ "$st" -eq 0 ] && [ -L dangling.safetensors ] && cmp -s sub/created.safetensors ref.safetensors ||
    fail "dangling symlink: exit $st $(cat err.txt)"
no_temp
no_temp sub
# A symlink to our standard output (a pipe): the bytes come through.
ln -s /proc/self/fd/1 mystdout
"$exe" init m.json -q -o mystdout | cat >piped.safetensors
[ -L mystdout ] && cmp -s piped.safetensors ref.safetensors || fail "symlink to a pipe"
"$exe" init m.json -q -o - | cat >dash.safetensors
cmp -s dash.safetensors ref.safetensors || fail "-o - into a pipe"
"$exe" init m.json -q --report - >dash.json
[ "$(head -c "$(wc -c <ref.json)" dash.json)" = "$(cat ref.json)" ] || fail "--report -"
if script -qec "'$exe' init m.json -q -o -" /dev/null >tty.txt 2>&1; then
    fail "-o - on a terminal succeeded"
fi
grep -q "terminal" tty.txt || fail "-o - on a terminal: $(cat tty.txt)"
# An existing file's mode is kept; a new one gets 0666 less the umask.
cp m.json mode.safetensors
chmod 0640 mode.safetensors
wi init m.json -q -o mode.safetensors
[ "$st" -eq 0 ] && [ "$(stat -c %a mode.safetensors)" = 640 ] || fail "mode: $(stat -c %a mode.safetensors)"
(umask 027 && "$exe" init m.json -q -o fresh.safetensors)
[ "$(stat -c %a fresh.safetensors)" = 640 ] || fail "new file mode $(stat -c %a fresh.safetensors) under umask 027"
# A FIFO with a reader gets the bytes and stays a FIFO.
mkfifo fifo
cat fifo >fromfifo.safetensors &
reader=$!
wi init m.json -q -o fifo
wait "$reader"
[ "$st" -eq 0 ] && [ -p fifo ] && cmp -s fromfifo.safetensors ref.safetensors || fail "FIFO: exit $st"
# Device nodes (our own copies of null and full).
if mkdir dev && mknod dev/null c 1 3 2>/dev/null && mknod dev/full c 1 7; then
    cd dev
    snapshot
    wi init ../m.json -q -o null
    [ "$st" -eq 0 ] && [ -c null ] || fail "-o null: exit $st $(cat err.txt)"
    wi init ../m.json -q -o full
    [ "$st" -eq 1 ] || fail "-o full: exit $st"
    one_line full "No space left on device"
    wi init ../m.json -q -o ../rep.safetensors --report full
    [ "$st" -eq 1 ] && [ ! -e ../rep.safetensors ] || fail "--report full kept -o: exit $st"
    one_line full "No space left on device"
    wi convert ../ckpt.pth full
    [ "$st" -eq 1 ] || fail "convert to full: exit $st"
    one_line full "No space left on device"
    rm -f err.txt
    unchanged_dir "devices"
    cd ..
    no_temp
else
    echo "outputs: no mknod rights; device cases skipped"
fi

# 3. A failing --report commits no checkpoint, leaves no temporary.
cp ref.safetensors keep.safetensors
snapshot
wi init m.json -q -o out.safetensors --report sub
[ "$st" -eq 2 ] && [ ! -e out.safetensors ] || fail "--report DIR: exit $st"
one_line sub "is a directory"
wi init m.json -q -o out.safetensors --report m.json/under.json
[ "$st" -eq 1 ] && [ ! -e out.safetensors ] || fail "--report under a file: exit $st"
one_line m.json/under.json "Not a directory"
wi init m.json -q -o out.safetensors --report nodir/r.json
[ "$st" -eq 1 ] && [ ! -e out.safetensors ] || fail "--report in no folder: exit $st"
one_line nodir/r.json "No such file or directory"
wi init m.json -q --seed 5 -o keep.safetensors --report sub
cmp -s keep.safetensors ref.safetensors || fail "a failing --report replaced the existing -o"
unchanged_dir "failing --report"
# An empty name (an unset $REPORT) is refused before anything is opened:
# the existing checkpoint keeps its bytes.
wi init m.json -q --seed 5 -o keep.safetensors --report ''
[ "$st" -eq 2 ] || fail "--report '': exit $st"
one_line "--report: expected a file name, got an empty string"
cmp -s keep.safetensors ref.safetensors || fail "--report '' replaced the existing -o"
wi init m.json -q --seed 5 -o '' --report keep.safetensors
[ "$st" -eq 2 ] || fail "-o '': exit $st"
one_line "-o: expected a file name"
cmp -s keep.safetensors ref.safetensors || fail "-o '' replaced the existing --report"
wi convert ref.safetensors ''
[ "$st" -eq 2 ] || fail "convert IN '': exit $st"
one_line "OUT: expected a file name"
unchanged_dir "empty output names"

# 4. Signals remove the temporaries; exit 128+sig.
# Runs are started through perl so that SIGINT is not ignored as a
# non-interactive shell's background job has it.
dfl() { exec perl -e '$SIG{$_} = "DEFAULT" for qw(INT HUP TERM); exec @ARGV or die' "$@"; }
wait_temp() { # DIR MIN-BYTES: waits for a temporary of at least MIN bytes
    for _ in $(seq 600); do
        for f in "$1"/.*.wi-tmp-*; do
            [ -f "$f" ] && [ "$(stat -c %s "$f")" -ge "$2" ] && return 0
        done
        sleep 0.05
    done
    fail "no temporary of $2 bytes appeared in $1"
}
signalled() { # SIG NUM PID DIR
    kill -s "$1" "$3"
    set +e
    wait "$3"
    got=$?
    set -e
    [ "$got" -eq $((128 + $2)) ] || fail "SIG$1: exit $got, want $((128 + $2))"
    no_temp "$4"
    [ ! -e "$4/out.safetensors" ] || fail "SIG$1 left an output"
}
# While blocked opening --report (a FIFO without a reader), -o's
# temporary exists: deterministic.
mkdir sig
mkfifo sig/noreader
for s in INT:2 TERM:15 HUP:1; do
    dfl "$exe" init m.json -q -o sig/out.safetensors --report sig/noreader 2>/dev/null &
    pid=$!
    wait_temp sig 0
    signalled "${s%:*}" "${s#*:}" "$pid" sig
done
# During a long write (4 x 64 MB of Linear weights).
python3 -c 'import json; print(json.dumps({"type": "Big", "children": {"l%d" % i: {"type": "Linear", "in_features": 4096, "out_features": 4096} for i in range(4)}}))' >big.json 2>/dev/null ||
    printf '{"type": "Big", "children": {"l0": %s, "l1": %s, "l2": %s, "l3": %s}}' \
        '{"type": "Linear", "in_features": 4096, "out_features": 4096}' \
        '{"type": "Linear", "in_features": 4096, "out_features": 4096}' \
        '{"type": "Linear", "in_features": 4096, "out_features": 4096}' \
        '{"type": "Linear", "in_features": 4096, "out_features": 4096}' >big.json
for s in INT:2 TERM:15 HUP:1; do
    dfl "$exe" init big.json -q -o sig/out.safetensors 2>/dev/null &
    pid=$!
    wait_temp sig 1000000
    signalled "${s%:*}" "${s#*:}" "$pid" sig
done

# A file size limit: the kernel's SIGXFSZ arrives in the middle of the
# write, at a known byte.
set +e
(ulimit -f 2048 && exec "$exe" init big.json -q -o sig/out.safetensors 2>/dev/null)
got=$?
set -e
[ "$got" -eq $((128 + 25)) ] || fail "SIGXFSZ: exit $got, want 153"
no_temp sig
[ ! -e sig/out.safetensors ] || fail "SIGXFSZ left an output"

# 5. SIGKILL leaves a recognisable temporary; the next run into that
# folder sweeps it, but not one of a live process or another host.
"$exe" init m.json -q -o sig/out.safetensors --report sig/noreader 2>/dev/null &
pid=$!
pids=$pid
wait_temp sig 0
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
pids=
left=$(cd sig && ls -A | grep '^\.out\.safetensors\.wi-tmp-' || true)
[ -n "$left" ] || fail "SIGKILL left no temporary to sweep"
echo "$left" | grep -Eq "^\.out\.safetensors\.wi-tmp-[0-9a-f]{8}-$pid-[a-z0-9]{10}\$" ||
    fail "temporary name not recognisable: $left"
tag=$(echo "$left" | sed 's/.*wi-tmp-\([0-9a-f]*\)-.*/\1/')
sleep 600 &
live=$!
pids=$live
touch "sig/.other.safetensors.wi-tmp-$tag-$live-abcdefghij" "sig/.x.wi-tmp-00000000-$pid-abcdefghij"
"$exe" init m.json -q -o sig/next.safetensors || fail "run after SIGKILL"
[ ! -e "sig/$left" ] || fail "SIGKILL leftover not swept"
[ -e "sig/.other.safetensors.wi-tmp-$tag-$live-abcdefghij" ] || fail "a live process's temporary was swept"
[ -e "sig/.x.wi-tmp-00000000-$pid-abcdefghij" ] || fail "another host's temporary was swept"
kill "$live"
pids=
rm "sig/.other.safetensors.wi-tmp-$tag-$live-abcdefghij" "sig/.x.wi-tmp-00000000-$pid-abcdefghij"

# 6. A download interrupted by SIGTERM leaves the cache clean.
if command -v python3 >/dev/null 2>&1; then
    cat >slow.py <<'EOF'
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(1 << 30))
        self.end_headers()
        self.wfile.write(b"\0" * 65536)
        self.wfile.flush()
        time.sleep(60)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
EOF
    python3 -u slow.py >port.txt 2>/dev/null &
    server=$!
    pids=$server
    for _ in $(seq 100); do [ -s port.txt ] && break; sleep 0.1; done
    mkdir cache
    printf '{"type": "Pretrained", "checkpoint": "http://127.0.0.1:%s/big.pth"}' \
        "$(cat port.txt)" >ucfg.json
    WEIGHTINIT_CACHE="$tmp/cache" dfl "$exe" init pm.json -q --init-cfg ucfg.json \
        -o sig/out.safetensors 2>/dev/null &
    pid=$!
    wait_temp cache 1
    signalled TERM 15 "$pid" cache
    [ -z "$(ls -A cache)" ] || fail "the interrupted download left $(ls -A cache)"
    no_temp sig
    kill "$server"
    pids=
fi

echo "outputs: same-file refusals, special files, all-or-nothing commits, signals and sweeping as documented"
