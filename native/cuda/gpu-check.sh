#!/usr/bin/env bash
# The GPU check of the CUDA backend: one run that keeps all its evidence, for a machine with an NVIDIA
# GPU, its driver and Python with PyTorch (and optionally the CUDA toolkit, CMake, compute-sanitizer),
# but no JDK or Maven. Every step has a time limit and the whole run a deadline; a step that fails or
# times out never stops the next; a summary table comes last.
#
#   env         nvidia-smi, driver, toolkit, PyTorch / cuDNN versions, tools and CUDA libraries found
#   library     libmmcacuda.so from the bundle's mmca-cuda jar (else the bundle's native/), loaded with
#               ctypes: parameter-block layout, driver and device as the library sees them, support per
#               head width
#   rebuild     only when the packaged kernels need a newer driver than the machine has (or when asked):
#               rebuilds the library and device_test with the machine's nvcc for its GPU (log kept)
#   parity      every kernel instantiation against a float64 PyTorch reference (kernel_check.py --parity)
#   bench       benchmark shapes, CUDA events, next to PyTorch SDPA with each backend forced in turn
#   device_test the library through its C++ API against a CPU float64 reference
#   memcheck, racecheck, synccheck   compute-sanitizer on device_test's small problems
#   resources   registers, shared memory and spills per kernel (the build's ptxas report; cuobjdump)
#   jvm probe, jvm tests, jvm bench  the Java backend (ProbeMain, the mmca-cuda JUnit tests with the GPU
#               required, GpuBench next to PyTorch), from the bundle's jars and JRE
#
# Usage: native/cuda/gpu-check.sh [--dry-run] [BUNDLE]
#   BUNDLE: from gpu-check/make-bundle.sh (default java/cuda/target/gpu-check).
#   --dry-run: for a machine without a GPU: the GPU steps must report "skipped: no GPU", and the rebuild
#   step runs (for sm_90 only) to exercise it.
# Environment:
#   OUT                      where everything is written (the device tool returns what lies there; at most
#                            8 files, all here); without it, a new folder under TMPDIR, named at the end
#   MMCA_GPU_CHECK_SECONDS   the deadline for the whole run (default 390)
#   MMCA_GPU_CHECK_REBUILD   1: rebuild the kernels even if the driver is new enough; 0: never
#   PYTHON                   the Python with PyTorch (default python3)
# Files under OUT: gpu-check.log (everything printed), summary.txt, env.txt, kernel-check.csv,
# sanitizer.log, resource-usage.txt, build.log (rebuilds), jvm-bench.csv.
set +e
set -o pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
DRY_RUN=0
BUNDLE_ARG=""
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY_RUN=1 ;;
    -h|--help) sed -n '2,36p' "$0"; exit 0 ;;
    -*) echo "gpu-check: unknown option $arg" >&2; exit 2 ;;
    *) BUNDLE_ARG="$arg" ;;
  esac
done
START=$(date +%s)
DEADLINE_S="${MMCA_GPU_CHECK_SECONDS:-390}"
PYTHON="${PYTHON:-python3}"
if [ -n "${OUT:-}" ]; then OUTDIR="$OUT"; else OUTDIR="$(mktemp -d "${TMPDIR:-/tmp}/mmca-gpu-check.XXXXXX")"; fi
mkdir -p "$OUTDIR"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/mmca-gpu-check-work.XXXXXX")"
LOG="$OUTDIR/gpu-check.log"
: >"$LOG"
exec > >(tee -a "$LOG") 2>&1
TEE_PID=$!

BUNDLE="${BUNDLE_ARG:-$ROOT/java/cuda/target/gpu-check}"
[ -d "$BUNDLE" ] && BUNDLE="$(cd "$BUNDLE" && pwd)"

declare -a S_NAME S_STATUS S_SECS S_NOTE
elapsed() { echo $(( $(date +%s) - START )); }
left() { echo $(( START + DEADLINE_S - $(date +%s) )); }
say() { printf '\n=== %s (t=%ss)\n' "$*" "$(elapsed)"; }
record() { S_NAME+=("$1"); S_STATUS+=("$2"); S_SECS+=("$3"); S_NOTE+=("${4:-}"); }

# step NAME BUDGET COMMAND...: runs COMMAND under min(BUDGET, time left) and records how it ended:
# ok, FAIL (exit N), TIMEOUT, or skipped (exit 77; the reason from its last "skipped: ..." line).
# The output is in the log (and in $STEP_OUT until the next step).
STEP_OUT="$WORK/step.out"
step() {
  local name="$1" budget="$2"
  shift 2
  local remaining
  remaining=$(left)
  if [ "$remaining" -lt 10 ]; then
    record "$name" "skipped" 0 "the run's deadline (${DEADLINE_S}s) was reached"
    return 0
  fi
  local limit=$(( budget < remaining - 5 ? budget : remaining - 5 ))
  say "$name (limit ${limit}s)"
  local t0 rc
  t0=$(date +%s)
  # Through bash -c so that COMMAND may be one of the functions below (exported); timeout signals the
  # whole process group, children included.
  timeout --kill-after=5 "$limit" bash -c 'set -o pipefail; "$@"' step "$@" 2>&1 | tee "$STEP_OUT"
  rc=${PIPESTATUS[0]}
  local secs=$(( $(date +%s) - t0 ))
  if [ "$rc" -eq 0 ]; then
    record "$name" "ok" "$secs" "${STEP_NOTE:-}"
  elif [ "$rc" -eq 77 ]; then
    record "$name" "skipped" "$secs" "$(grep -o 'skipped: .*' "$STEP_OUT" | tail -1 | cut -c10- | cut -c1-110)"
  elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    record "$name" "TIMEOUT" "$secs" "stopped after ${limit}s"
  else
    record "$name" "FAIL" "$secs" "exit $rc${STEP_NOTE:+; $STEP_NOTE}"
  fi
  STEP_NOTE=""
  return "$rc"
}
skip() { record "$1" "skipped" 0 "$2"; printf '\n=== %s: skipped: %s\n' "$1" "$2"; }

say "gpu-check: bundle $BUNDLE, output $OUTDIR, deadline ${DEADLINE_S}s$([ $DRY_RUN = 1 ] && echo ', dry run')"
[ -f "$BUNDLE/MANIFEST.txt" ] && cat "$BUNDLE/MANIFEST.txt"

# --- env ----------------------------------------------------------------------------------------------
env_report() {
  echo "host: $(uname -srm), $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "glibc: $(ldd --version 2>/dev/null | head -1)"
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=index,name,driver_version,memory.total,compute_cap,clocks.sm,clocks.max.sm,power.limit \
      --format=csv 2>&1
    nvidia-smi 2>&1 | head -20
  else
    echo "nvidia-smi: not found"
  fi
  [ -r /proc/driver/nvidia/version ] && head -1 /proc/driver/nvidia/version
  for n in nvcc /usr/local/cuda/bin/nvcc; do
    if command -v "$n" >/dev/null; then echo "nvcc: $(command -v "$n"): $("$n" --version | tail -1)"; break; fi
  done
  for t in compute-sanitizer cuobjdump cmake java; do
    p="$(command -v "$t" || ls /usr/local/cuda/bin/"$t" 2>/dev/null)"
    echo "$t: ${p:-not found}"
  done
  timeout 60 "$PYTHON" - <<'PY' 2>&1
import sys
print("python: %s %s" % (sys.executable, sys.version.split()[0]))
try:
    import torch
    print("torch: %s (CUDA %s), cuDNN %s" % (torch.__version__, torch.version.cuda, torch.backends.cudnn.version()))
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        print("torch device 0: %s, sm_%d%d, %d SMs, %.0f GiB, L2 %s MB" % (p.name, p.major, p.minor, p.multi_processor_count,
              p.total_memory / 2**30, getattr(p, "L2_cache_size", 0) // 2**20))
    else:
        print("torch: CUDA not available")
except Exception as e:
    print("torch: not importable: %s" % e)
PY
  echo "CUDA libraries found (the JavaCPP presets 13.1 load libcudart.so.13 and libcublas.so.13):"
  for d in $(cuda_lib_dirs all); do ls -1 "$d"/libcudart.so.13* "$d"/libcublas.so.13* "$d"/libcublasLt.so.13* 2>/dev/null; done \
    | sed 's/^/  /'
  return 0  # a report: what is missing is in it, not a failure
}

# Folders holding libcudart.so.13 and libcublas.so.13: the toolkit's, then PyTorch's nvidia-* wheels.
cuda_lib_dirs() {
  local dirs=() d
  for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda-13*/lib64 \
           /usr/local/cuda-13*/targets/x86_64-linux/lib; do
    [ -d "$d" ] && dirs+=("$d")
  done
  local wheels
  wheels="$(timeout 30 "$PYTHON" -c '
import glob, os, site, sys
roots = set(site.getsitepackages() + [site.getusersitepackages()] + [p for p in sys.path if p.endswith("site-packages")])
for r in sorted(roots):
    for pat in ("nvidia/*/lib", "nvidia/*/*/lib"):
        for d in sorted(glob.glob(os.path.join(r, pat))):
            print(d)
' 2>/dev/null)"
  for d in $wheels; do dirs+=("$d"); done
  local out=()
  for d in "${dirs[@]}"; do
    if [ "$1" = all ] || compgen -G "$d/libcudart.so.13*" >/dev/null || compgen -G "$d/libcublas.so.13*" >/dev/null; then
      out+=("$d")
    fi
  done
  printf '%s\n' "${out[@]}" | awk '!seen[$0]++'
}

export PYTHON OUTDIR WORK ROOT HERE BUNDLE
export -f env_report cuda_lib_dirs
step env 60 env_report
cp "$STEP_OUT" "$OUTDIR/env.txt"
HAVE_GPU=0
if command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then HAVE_GPU=1; fi
DRIVER="$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -1)"
GPU_CC="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '. ')"

# --- library ------------------------------------------------------------------------------------------
JAR="$(ls "$BUNDLE"/lib/mmca-cuda-*[0-9T].jar 2>/dev/null | head -1)"
LIB=""
LIB_FROM=""
if [ -n "$JAR" ]; then
  mkdir -p "$WORK/jar-lib"
  if "$PYTHON" -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); open(sys.argv[2], "wb").write(z.read("dev/mmca/cuda/linux-x86_64/libmmcacuda.so"))' \
      "$JAR" "$WORK/jar-lib/libmmcacuda.so" 2>/dev/null; then
    LIB="$WORK/jar-lib/libmmcacuda.so"
    LIB_FROM="the mmca-cuda jar"
  fi
fi
if [ -z "$LIB" ] && [ -f "$BUNDLE/native/libmmcacuda.so" ]; then
  LIB="$BUNDLE/native/libmmcacuda.so"
  LIB_FROM="the bundle's native/"
fi
DEVICE_TEST="$BUNDLE/native/device_test"
[ -x "$DEVICE_TEST" ] || DEVICE_TEST=""
NEED_REBUILD=0
if [ -z "$LIB" ]; then
  skip library "no libmmcacuda.so in $BUNDLE (lib/mmca-cuda-*.jar or native/); build the bundle with gpu-check/make-bundle.sh"
else
  STEP_NOTE="from $LIB_FROM"
  step library 60 "$PYTHON" "$HERE/gpu-check/kernel_check.py" --lib "$LIB" --layout --probe
  # cudaErrorInsufficientDriver (35): the static runtime of the packaged kernels is newer than the driver.
  if grep -q 'cuda_error = 35' "$STEP_OUT"; then
    NEED_REBUILD=1
    echo "gpu-check: the packaged kernels need a newer driver than ${DRIVER:-this one}: rebuilding"
  fi
fi
[ "${MMCA_GPU_CHECK_REBUILD:-}" = 1 ] && NEED_REBUILD=1
[ "$DRY_RUN" = 1 ] && [ "${MMCA_GPU_CHECK_REBUILD:-}" != 0 ] && NEED_REBUILD=1
[ "${MMCA_GPU_CHECK_REBUILD:-}" = 0 ] && NEED_REBUILD=0

# --- rebuild ------------------------------------------------------------------------------------------
rebuild() {
  local nvcc
  nvcc="$(command -v nvcc || ls /usr/local/cuda/bin/nvcc 2>/dev/null)"
  [ -n "$nvcc" ] || { echo "skipped: no nvcc on this machine to rebuild the kernels"; return 77; }
  command -v cmake >/dev/null || { echo "skipped: no cmake on this machine to rebuild the kernels"; return 77; }
  local arch="${GPU_CC:-90}"
  echo "rebuilding libmmcacuda.so and device_test with $nvcc ($("$nvcc" --version | tail -1)) for sm_$arch"
  cmake -S "$ROOT/native/cuda" -B "$WORK/rebuild" -DMMCA_WITH_CUDA=ON -DCMAKE_CUDA_COMPILER="$nvcc" \
    -DCMAKE_CUDA_ARCHITECTURES="$arch" -DMMCA_CUDA_RESOURCE_USAGE=ON >"$OUTDIR/build.log" 2>&1 \
    && cmake --build "$WORK/rebuild" --parallel "$(nproc)" --target mmcacuda device_test >>"$OUTDIR/build.log" 2>&1
  local rc=$?
  tail -5 "$OUTDIR/build.log"
  return $rc
}
export GPU_CC
export -f rebuild
if [ "$NEED_REBUILD" = 1 ]; then
  if step rebuild 180 rebuild; then
    LIB="$WORK/rebuild/libmmcacuda.so"
    LIB_FROM="the rebuild"
    DEVICE_TEST="$WORK/rebuild/device_test"
    if [ -n "$JAR" ]; then  # the JVM gets the rebuilt library too, in a copy of the jar
      mkdir -p "$WORK/lib"
      cp "$BUNDLE"/lib/*.jar "$WORK/lib/"
      JAR="$WORK/lib/$(basename "$JAR")"
      "$PYTHON" - "$JAR" "$LIB" <<'PY'
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
    fi
    step "library (rebuilt)" 60 "$PYTHON" "$HERE/gpu-check/kernel_check.py" --lib "$LIB" --layout --probe
  fi
fi

# --- kernels without the JVM --------------------------------------------------------------------------
CSV="$OUTDIR/kernel-check.csv"
rm -f "$CSV"
if [ -n "$LIB" ]; then
  step parity 90 "$PYTHON" "$HERE/gpu-check/kernel_check.py" --lib "$LIB" --parity --csv "$CSV"
  step bench 120 "$PYTHON" "$HERE/gpu-check/kernel_check.py" --lib "$LIB" --bench --budget-ms 120 --csv "$CSV"
else
  skip parity "no library"
  skip bench "no library"
fi
if [ -n "$DEVICE_TEST" ]; then
  step device_test 75 "$DEVICE_TEST"
  SAN="$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null)"
  : >"$OUTDIR/sanitizer.log"
  if [ -z "$SAN" ]; then
    for t in memcheck racecheck synccheck; do skip "$t" "compute-sanitizer not found"; done
  elif [ "$HAVE_GPU" = 0 ]; then
    for t in memcheck racecheck synccheck; do skip "$t" "no GPU"; done
  else
    sanitize() {  # tool, device_test arguments...
      local tool="$1"
      shift
      echo "compute-sanitizer --tool $tool device_test $*" >>"$OUTDIR/sanitizer.log"
      "$SAN" --tool "$tool" --error-exitcode 9 "$DEVICE_TEST" "$@" 2>&1 | tee -a "$OUTDIR/sanitizer.log" | tail -30
    }
    export SAN DEVICE_TEST
    export -f sanitize
    step memcheck 70 sanitize memcheck --tiny
    step racecheck 60 sanitize racecheck --tiny --dim 64
    step synccheck 40 sanitize synccheck --tiny --dim 128 --family bf16
  fi
else
  skip device_test "no device_test in the bundle"
fi
resources() {
  : >"$OUTDIR/resource-usage.txt"
  if [ "$LIB_FROM" = "the rebuild" ]; then
    { echo "# ptxas resource usage of the rebuilt kernels"; "$PYTHON" "$HERE/gpu-check/resource_usage.py" "$OUTDIR/build.log"; } \
      >>"$OUTDIR/resource-usage.txt"
  elif [ -f "$BUNDLE/native/resource-usage.txt" ]; then
    if grep -q "Compiling entry" "$BUNDLE/native/resource-usage.txt"; then  # the compiler's own lines
      "$PYTHON" "$HERE/gpu-check/resource_usage.py" "$BUNDLE/native/resource-usage.txt" >>"$OUTDIR/resource-usage.txt"
    else
      cat "$BUNDLE/native/resource-usage.txt" >>"$OUTDIR/resource-usage.txt"
    fi
  fi
  local cuobjdump
  cuobjdump="$(command -v cuobjdump || ls /usr/local/cuda/bin/cuobjdump 2>/dev/null)"
  if [ -n "$cuobjdump" ] && [ -n "$LIB" ]; then
    { echo "# cuobjdump --dump-resource-usage $LIB"; "$cuobjdump" --dump-resource-usage "$LIB"; } >>"$OUTDIR/resource-usage.txt" 2>&1
  else
    echo "# cuobjdump not found: the compiler's report only" >>"$OUTDIR/resource-usage.txt"
  fi
  grep -q registers "$OUTDIR/resource-usage.txt" || { echo "skipped: no resource report (no build report, no cuobjdump)"; return 77; }
  grep -E '^sm_.*attention|kernels compiled' "$OUTDIR/resource-usage.txt" || true
}
export LIB LIB_FROM
export -f resources
step resources 30 resources

# --- the JVM path -------------------------------------------------------------------------------------
JAVA=""
if [ -n "$JAR" ] && [ -f "$BUNDLE/jre.tar.gz" ]; then
  tar -C "$WORK" -xzf "$BUNDLE/jre.tar.gz" && JAVA="$WORK/jre/bin/java"
fi
if [ -z "$JAVA" ]; then
  for s in "jvm probe" "jvm tests" "jvm bench"; do skip "$s" "the bundle has no JVM part (jars and jre.tar.gz)"; done
else
  JARS_DIR="$(dirname "$JAR")"
  CP="$(ls "$JARS_DIR"/*.jar | tr '\n' ':')"
  # cudart and cuBLAS for the JavaCPP presets, by absolute folder, for the Java processes alone.
  JLIBS="$(cuda_lib_dirs found | tr '\n' ':')"
  JLIBS="${JLIBS%:}"
  echo "java: $("$JAVA" -version 2>&1 | head -1); CUDA libraries for the presets from: ${JLIBS:-none found}"
  jrun() {
    env LD_LIBRARY_PATH="$JLIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$JAVA" -Xmx16g -Xss4m --enable-native-access=ALL-UNNAMED \
      "-Dorg.bytedeco.javacpp.cachedir=$WORK/javacpp-cache" "-Dorg.bytedeco.javacpp.platform.preloadpath=$JLIBS" \
      -cp "$CP" "$@"
  }
  jprobe() {
    jrun dev.mmca.cuda.ProbeMain
    local rc=$?
    if [ $rc = 3 ] && [ "$HAVE_GPU" = 0 ]; then echo "skipped: no GPU (the probe says why above)"; return 77; fi
    return $rc
  }
  export JAVA CP JLIBS HAVE_GPU
  export -f jrun jprobe
  step "jvm probe" 45 jprobe
  if [ "$HAVE_GPU" = 0 ]; then
    skip "jvm tests" "no GPU"
    skip "jvm bench" "no GPU"
  else
    step "jvm tests" 120 jrun -Dmmca.cuda.requireGpu=true GpuTestMain dev.mmca.cuda '.*IT$'
    jbench() {
      jrun dev.mmca.cuda.GpuBench --out "$OUTDIR/jvm-bench.csv" --budget-ms 300
      local rc=$?
      timeout 90 "$PYTHON" "$HERE/gpu-check/bench_torch.py" --java "$OUTDIR/jvm-bench.csv" --budget-ms 150
      local prc=$?
      [ $rc = 0 ] && return $prc
      return $rc
    }
    export -f jbench
    step "jvm bench" 150 jbench
  fi
fi

# --- summary ------------------------------------------------------------------------------------------
{
  echo
  echo "=== gpu-check summary ($(elapsed)s of ${DEADLINE_S}s; $([ $HAVE_GPU = 1 ] && nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1 || echo 'no GPU'); library from ${LIB_FROM:-nowhere})"
  printf '%-18s %-8s %5s  %s\n' step status secs note
  for i in "${!S_NAME[@]}"; do
    printf '%-18s %-8s %5s  %s\n' "${S_NAME[$i]}" "${S_STATUS[$i]}" "${S_SECS[$i]}" "${S_NOTE[$i]}"
  done
  if [ -s "$CSV" ]; then
    echo
    "$PYTHON" "$HERE/gpu-check/kernel_check.py" --summarize "$CSV"
  fi
  echo
  echo "files: $(cd "$OUTDIR" && ls | tr '\n' ' ')(in $OUTDIR)"
} >"$OUTDIR/summary.txt"
cat "$OUTDIR/summary.txt"
rm -rf "$WORK"
STATUS=0
for s in "${S_STATUS[@]}"; do
  case "$s" in FAIL|TIMEOUT) STATUS=1 ;; esac
done
exec >&- 2>&-
wait "$TEE_PID" 2>/dev/null
exit $STATUS
