#!/usr/bin/env bash
# GPU check of the CUDA backend, for a machine with an NVIDIA GPU, its driver, Python with PyTorch
# (and optionally the CUDA toolkit + cmake), but no JDK or Maven:
#   1. probes the backend (and, if the packaged kernels need a newer driver than the machine has,
#      rebuilds libmmcacuda.so with the local nvcc and swaps it into the jar);
#   2. runs the JUnit tests of mmca-cuda with the GPU required (parity against the float64 oracle,
#      NaN-poisoned outputs, device memory back to its level after close);
#   3. times mmca-cuda (GpuBench) and PyTorch SDPA (gpu-check/bench_torch.py) on the same GPU and
#      prints one table with the ratios.
# Usage: native/cuda/gpu-check.sh [BUNDLE]   (BUNDLE from gpu-check/make-bundle.sh;
#        default java/cuda/target/gpu-check). Per-step timeouts (probe 2x40 s, kernel rebuild 120 s,
#        tests 120 s, GpuBench 90 s, PyTorch 60 s) keep the whole run under 8 minutes.
# Environment: PYTHON (default python3), MMCA_BENCH_BUDGET_MS (time per timed case, default 500).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUNDLE="$(cd "${1:-$ROOT/java/cuda/target/gpu-check}" 2>/dev/null && pwd)" \
  || { echo "gpu-check: bundle folder '${1:-java/cuda/target/gpu-check}' not found; build it with native/cuda/gpu-check/make-bundle.sh" >&2; exit 2; }
PYTHON="${PYTHON:-python3}"
BUDGET_MS="${MMCA_BENCH_BUDGET_MS:-500}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/mmca-gpu-check.XXXXXX")"
START=$SECONDS
STATUS=0

say() { printf '\n=== %s (t=%ss)\n' "$*" "$((SECONDS - START))"; }
warn() { echo "gpu-check: warning: $*" >&2; }
die() { echo "gpu-check: $*" >&2; exit 2; }

# --- prerequisites --------------------------------------------------------------------------
say "prerequisites"
if command -v nvidia-smi >/dev/null; then
  timeout 30 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || warn "nvidia-smi failed"
else
  warn "nvidia-smi not found"
fi
if [ ! -x "$BUNDLE/jre/bin/java" ]; then
  [ -f "$BUNDLE/jre.tar.gz" ] || die "no JRE in $BUNDLE (expected jre/ or jre.tar.gz from make-bundle.sh)"
  tar -C "$WORK" -xzf "$BUNDLE/jre.tar.gz"
  JAVA="$WORK/jre/bin/java"
else
  JAVA="$BUNDLE/jre/bin/java"
fi
"$JAVA" -version 2>&1 | head -1
[ -f "$BUNDLE/junit-console.jar" ] || die "no junit-console.jar in $BUNDLE"
ls "$BUNDLE"/lib/mmca-cuda-*-tests.jar >/dev/null 2>&1 || die "no mmca-cuda test jar in $BUNDLE/lib"

# The JavaCPP CUDA presets load libcudart.so.13 and libcublas.so.13 from the system: look for them in
# the CUDA toolkit and in PyTorch's pip wheels (nvidia-*-cu13).
LIBDIRS=""
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda-13*/lib64; do
  [ -d "$d" ] && LIBDIRS="$LIBDIRS:$d"
done
if command -v "$PYTHON" >/dev/null; then
  PYLIBS="$(timeout 20 "$PYTHON" - <<'PY' 2>/dev/null || true
import glob, os, site, sys
roots = set(site.getsitepackages() + [site.getusersitepackages()])
seen = set()
for r in roots:
    for pat in ("nvidia/*/lib", "nvidia/*/*/lib", "torch/lib"):
        for d in glob.glob(os.path.join(r, pat)):
            if glob.glob(os.path.join(d, "libcublas.so.13*")) or glob.glob(os.path.join(d, "libcudart.so.13*")) \
                    or glob.glob(os.path.join(d, "libcublasLt.so.13*")):
                seen.add(d)
print(":".join(sorted(seen)))
PY
)"
  [ -n "$PYLIBS" ] && LIBDIRS="$LIBDIRS:$PYLIBS"
fi
export LD_LIBRARY_PATH="${LIBDIRS#:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
FOUND_CUBLAS=0
IFS=: read -r -a _dirs <<<"$LD_LIBRARY_PATH"
for d in "${_dirs[@]}"; do ls "$d"/libcublas.so.13* >/dev/null 2>&1 && FOUND_CUBLAS=1; done
ldconfig -p 2>/dev/null | grep -q 'libcublas.so.13' && FOUND_CUBLAS=1
[ "$FOUND_CUBLAS" = 1 ] || warn "libcublas.so.13 not found: the JavaCPP CUDA presets (13.1) will not load and the backend will say so"

JARS="$BUNDLE/lib"
mkdir -p "$WORK/lib"
cp "$JARS"/*.jar "$WORK/lib/"
CP="$(ls "$WORK"/lib/*.jar | tr '\n' ':')"
JOPTS=(-Xmx16g -Xss4m "-Dorg.bytedeco.javacpp.cachedir=$WORK/javacpp-cache" --enable-native-access=ALL-UNNAMED)

# --- 1. probe --------------------------------------------------------------------------------
say "probe"
set +e
PROBE="$(timeout 40 "$JAVA" "${JOPTS[@]}" -cp "$CP" dev.mmca.cuda.ProbeMain 2>&1)"
PROBE_RC=$?
set -e
echo "$PROBE"
if [ $PROBE_RC -ne 0 ] && echo "$PROBE" | grep -q 'cudaErrorInsufficientDriver'; then
  if command -v nvcc >/dev/null && command -v cmake >/dev/null; then
    say "the packaged kernels need a newer driver: rebuilding libmmcacuda.so with $(command -v nvcc)"
    timeout 30 cmake -S "$ROOT/native/cuda" -B "$WORK/cuda-build" -DMMCA_WITH_CUDA=ON \
      -DCMAKE_CUDA_COMPILER="$(command -v nvcc)" >/dev/null
    timeout 90 cmake --build "$WORK/cuda-build" --parallel "$(nproc)" >/dev/null
    JAR="$(ls "$WORK"/lib/mmca-cuda-*[0-9T].jar)"
    "$PYTHON" - "$JAR" "$WORK/cuda-build/libmmcacuda.so" <<'PY'
import shutil, sys, zipfile
jar, lib = sys.argv[1], sys.argv[2]
entry = "dev/mmca/cuda/linux-x86_64/libmmcacuda.so"
tmp = jar + ".new"
with zipfile.ZipFile(jar) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
    for item in src.infolist():
        if item.filename != entry:
            dst.writestr(item, src.read(item.filename))
    dst.write(lib, entry)
shutil.move(tmp, jar)
print("replaced", entry, "in", jar)
PY
    rm -rf "$WORK/javacpp-cache"
    set +e
    PROBE="$(timeout 40 "$JAVA" "${JOPTS[@]}" -cp "$CP" dev.mmca.cuda.ProbeMain 2>&1)"
    PROBE_RC=$?
    set -e
    echo "$PROBE"
  else
    warn "no nvcc/cmake to rebuild the kernels for this driver"
  fi
fi
[ $PROBE_RC -eq 0 ] || die "the CUDA backend is unavailable here (see the probe line above); stopping"

# --- 2. tests --------------------------------------------------------------------------------
say "JUnit tests of mmca-cuda (GPU required)"
set +e
timeout 120 "$JAVA" "${JOPTS[@]}" -Dmmca.cuda.requireGpu=true -jar "$BUNDLE/junit-console.jar" execute \
  --disable-banner --details=tree --class-path "$CP" --select-package dev.mmca.cuda \
  --exclude-classname '.*IT$' 2>&1 | tee "$WORK/tests.log" | grep -vE '^\s*$' | tail -120
TEST_RC=${PIPESTATUS[0]}
set -e
if [ "$TEST_RC" -eq 124 ]; then warn "tests timed out after 120 s"; STATUS=1;
elif [ "$TEST_RC" -ne 0 ]; then warn "tests failed (exit $TEST_RC)"; STATUS=1; fi

# --- 3. benchmarks ----------------------------------------------------------------------------
say "mmca-cuda timings (GpuBench)"
set +e
timeout 90 "$JAVA" "${JOPTS[@]}" -cp "$CP" dev.mmca.cuda.GpuBench --out "$WORK/java.csv" --budget-ms "$BUDGET_MS"
BENCH_RC=$?
set -e
[ $BENCH_RC -eq 0 ] || { warn "GpuBench exit $BENCH_RC (124 = timeout); the table shows what it finished"; STATUS=1; }

say "PyTorch SDPA timings and the table"
set +e
timeout 60 "$PYTHON" "$HERE/gpu-check/bench_torch.py" --java "$WORK/java.csv" --budget-ms "$BUDGET_MS"
PY_RC=$?
set -e
[ $PY_RC -eq 0 ] || { warn "bench_torch.py exit $PY_RC (124 = timeout)"; STATUS=1; }

say "done: tests exit $TEST_RC, GpuBench exit $BENCH_RC, bench_torch exit $PY_RC; logs in $WORK"
exit $STATUS
