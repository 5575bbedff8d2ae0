#!/usr/bin/env bash
# Builds what native/cuda/gpu-check.sh needs on a GPU machine that has no JDK, Maven or build tree:
#   BUNDLE/
#     MANIFEST.txt        the commit, the toolchain and what the bundle holds
#     native/             libmmcacuda.so and device_test (the kernels without the JVM), and
#                         resource-usage.txt (ptxas: registers, shared memory, stack and spills of every kernel)
#     lib/*.jar           mmca-cuda (+ its test jar), mmca-core (+ tests), JavaCPP, the CUDA presets, JUnit with its
#                         platform launcher, gpu-test-main.jar (GpuTestMain.java, the test runner), and, when
#                         java/cpu builds, the cpu backend with OpenBLAS (for the W2 comparison)
#     jre.tar.gz          a jlink runtime (java.base, java.logging, java.xml, java.management, jdk.unsupported,
#                         jdk.zipfs; --strip-debug --no-header-files --no-man-pages)
# Without the JVM part (--native-only, or when java/cuda does not build) gpu-check.sh runs the kernel
# checks and reports the JVM steps as skipped.
#
# Usage: native/cuda/gpu-check/make-bundle.sh [--native-only] [--require-jvm] [BUNDLE]
#   BUNDLE defaults to java/cuda/$MMCA_BUILD_DIR/gpu-check (MMCA_BUILD_DIR defaults to target).
# Maven runs offline by default (MVN_FLAGS, default "-B -q -o"): after `mvn -B verify` the local
# repository holds every jar the bundle takes, the JUnit platform launcher included (Maven's test
# runner fetches it for the tests). Where it is missing, the launcher alone is fetched online, and the
# script stops with what to run if that fails too. MMCA_BUNDLE_CPU=0 leaves the cpu backend out.
# Run on the build machine (JDK 17+ with jlink, Maven, CMake, nvcc at /usr/local/cuda/bin/nvcc or $CUDACXX).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
BUILD_DIR="${MMCA_BUILD_DIR:-target}"
MVN_FLAGS="${MVN_FLAGS:--B -q -o}"
NATIVE_ONLY=0
REQUIRE_JVM=0
BUNDLE=""
for arg in "$@"; do
  case "$arg" in
    --native-only) NATIVE_ONLY=1 ;;
    --require-jvm) REQUIRE_JVM=1 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    -*) echo "make-bundle: unknown option $arg" >&2; exit 2 ;;
    *) BUNDLE="$arg" ;;
  esac
done
BUNDLE="${BUNDLE:-$ROOT/java/cuda/$BUILD_DIR/gpu-check}"
mkdir -p "$BUNDLE"
BUNDLE="$(cd "$BUNDLE" && pwd)"

die() { echo "make-bundle: $*" >&2; exit 1; }
warn() { echo "make-bundle: warning: $*" >&2; }
NVCC="${CUDACXX:-/usr/local/cuda/bin/nvcc}"
[ -x "$NVCC" ] || die "no nvcc at $NVCC (set CUDACXX)"
command -v cmake >/dev/null || die "cmake not found"

rm -rf "$BUNDLE"/native "$BUNDLE"/lib "$BUNDLE"/jre "$BUNDLE"/jre.tar.gz "$BUNDLE"/MANIFEST.txt "$BUNDLE"/*.log
mkdir -p "$BUNDLE/native"

# --- native part: the library and device_test, with the compiler's resource report ---------------
NATIVE_BUILD="$BUNDLE/../gpu-check-native-build"
rm -rf "$NATIVE_BUILD"
echo "make-bundle: building native/cuda (kernels, device_test) in $NATIVE_BUILD"
cmake -S "$ROOT/native/cuda" -B "$NATIVE_BUILD" -DMMCA_WITH_CUDA=ON -DCMAKE_CUDA_COMPILER="$NVCC" \
  -DMMCA_CUDA_RESOURCE_USAGE=ON >"$BUNDLE/native-build.log" 2>&1 || die "cmake configure failed (see $BUNDLE/native-build.log)"
cmake --build "$NATIVE_BUILD" --parallel "$(nproc)" --target mmcacuda device_test >>"$BUNDLE/native-build.log" 2>&1 \
  || die "native build failed (see $BUNDLE/native-build.log)"
cp "$NATIVE_BUILD/libmmcacuda.so" "$NATIVE_BUILD/device_test" "$BUNDLE/native/"
{
  echo "# ptxas resource usage of every kernel, as compiled for this bundle ($("$NVCC" --version | tail -1))"
  python3 "$ROOT/native/cuda/gpu-check/resource_usage.py" "$BUNDLE/native-build.log"
} >"$BUNDLE/native/resource-usage.txt"
echo "make-bundle: $(tail -1 "$BUNDLE/native/resource-usage.txt") (native/resource-usage.txt)"

# --- JVM part -----------------------------------------------------------------------------------------
JVM_STATUS="not built (--native-only)"
if [ "$NATIVE_ONLY" = 0 ]; then
  JVM_STATUS="built"
  command -v mvn >/dev/null || die "mvn not found (or use --native-only)"
  JLINK="${JAVA_HOME:+$JAVA_HOME/bin/}jlink"
  JAVAC="${JAVA_HOME:+$JAVA_HOME/bin/}javac"
  JAR="${JAVA_HOME:+$JAVA_HOME/bin/}jar"
  command -v "$JLINK" >/dev/null || die "jlink not found (set JAVA_HOME to a JDK 17+)"
  mkdir -p "$BUNDLE/lib"
  cd "$ROOT"
  # The modules and every jar their tests use (reactor artifacts included), into lib/.
  # shellcheck disable=SC2086
  if ! mvn $MVN_FLAGS -Dmmca.build.dir="$BUILD_DIR" -pl java/cuda -am -DskipTests package \
      dependency:copy-dependencies -DincludeScope=test -DoutputDirectory="$BUNDLE/lib" >"$BUNDLE/jvm-build.log" 2>&1; then
    [ "$REQUIRE_JVM" = 1 ] && die "java/cuda did not build (see $BUNDLE/jvm-build.log)"
    warn "java/cuda did not build: the bundle has no JVM part (see $BUNDLE/jvm-build.log; tail below)"
    tail -15 "$BUNDLE/jvm-build.log" >&2
    JVM_STATUS="not built: java/cuda failed to build (jvm-build.log)"
    rm -rf "$BUNDLE/lib"
  else
    cp java/cuda/"$BUILD_DIR"/mmca-cuda-*.jar "$BUNDLE/lib/"
    grep -q 'linux-x86_64/libmmcacuda.so' <<<"$(unzip -l "$(ls "$BUNDLE"/lib/mmca-cuda-*[0-9T].jar)")" \
      || warn "the mmca-cuda jar has no libmmcacuda.so (was nvcc found by the cuda profile?)"
    # The JUnit platform launcher at the version of the platform engine the tests use.
    ENGINE="$(ls "$BUNDLE"/lib/junit-platform-engine-*.jar 2>/dev/null | head -1)"
    [ -n "$ENGINE" ] || die "no junit-platform-engine among the test dependencies"
    V="$(basename "$ENGINE" .jar)"; V="${V#junit-platform-engine-}"
    LAUNCHER="$HOME/.m2/repository/org/junit/platform/junit-platform-launcher/$V/junit-platform-launcher-$V.jar"
    if [ ! -f "$LAUNCHER" ]; then
      echo "make-bundle: junit-platform-launcher $V is not in ~/.m2; fetching it"
      mvn -B -q dependency:get -Dartifact="org.junit.platform:junit-platform-launcher:$V" >>"$BUNDLE/jvm-build.log" 2>&1 \
        || die "junit-platform-launcher $V is neither in ~/.m2 nor downloadable; on a machine online run
  mvn dependency:get -Dartifact=org.junit.platform:junit-platform-launcher:$V
or once 'mvn -B verify' (its test runner fetches it), then run this script again"
    fi
    cp "$LAUNCHER" "$BUNDLE/lib/"
    TMPC="$(mktemp -d)"
    "$JAVAC" -d "$TMPC" -cp "$BUNDLE/lib/*" "$ROOT/native/cuda/gpu-check/GpuTestMain.java"
    "$JAR" cf "$BUNDLE/lib/gpu-test-main.jar" -C "$TMPC" .
    rm -rf "$TMPC"
    if [ "${MMCA_BUNDLE_CPU:-1}" = 1 ] && [ -f java/cpu/pom.xml ]; then
      # shellcheck disable=SC2086
      if mvn $MVN_FLAGS -Dmmca.build.dir="$BUILD_DIR" -pl java/cpu -am -DskipTests package >>"$BUNDLE/jvm-build.log" 2>&1; then
        cp java/cpu/"$BUILD_DIR"/mmca-cpu-*[0-9T].jar "$BUNDLE/lib/" 2>/dev/null || true
        OPENBLAS_VERSION="$(sed -n 's:.*<openblas.version>\(.*\)</openblas.version>.*:\1:p' pom.xml)"
        for j in "openblas-$OPENBLAS_VERSION.jar" "openblas-$OPENBLAS_VERSION-linux-x86_64.jar"; do
          cp "$HOME/.m2/repository/org/bytedeco/openblas/$OPENBLAS_VERSION/$j" "$BUNDLE/lib/" \
            || warn "$j not in ~/.m2, the cpu backend will be unavailable"
        done
      else
        warn "java/cpu did not build; W2 will have no cpu baseline"
      fi
    fi
    rm -rf "$BUNDLE/jre"
    "$JLINK" --add-modules java.base,java.logging,java.xml,java.management,jdk.unsupported,jdk.zipfs \
      --strip-debug --no-header-files --no-man-pages --output "$BUNDLE/jre"
    tar -C "$BUNDLE" -czf "$BUNDLE/jre.tar.gz" jre
    rm -rf "$BUNDLE/jre"
  fi
fi

{
  echo "mmca-jvm GPU check bundle"
  echo "commit: $(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (with local changes)')"
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -srm)"
  echo "nvcc: $("$NVCC" --version | tail -1)"
  echo "cuda architectures: $(sed -n 's/^CMAKE_CUDA_ARCHITECTURES:STRING=//p' "$NATIVE_BUILD/CMakeCache.txt")"
  echo "jvm part: $JVM_STATUS"
  [ -d "$BUNDLE/lib" ] && echo "jars: $(cd "$BUNDLE/lib" && ls | tr '\n' ' ')"
} >"$BUNDLE/MANIFEST.txt"
rm -rf "$NATIVE_BUILD"
SIZE_MB=$(du -sm "$BUNDLE" | cut -f1)
echo "make-bundle: bundle ready: $BUNDLE (${SIZE_MB} MiB; jvm part: $JVM_STATUS)"
[ "$SIZE_MB" -le 60 ] || warn "bundle is ${SIZE_MB} MiB, over the 60 MiB that fit one device run beside the tree"
echo "on the GPU machine: native/cuda/gpu-check.sh ${BUNDLE#"$ROOT"/}"
