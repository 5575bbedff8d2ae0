#!/usr/bin/env bash
# Builds what native/cuda/gpu-check.sh needs on a GPU machine that has no JDK or Maven:
#   java/cuda/<build dir>/gpu-check/
#     jre.tar.gz            a jlink runtime (~19 MB packed):
#                           jlink --add-modules java.base,java.logging,java.xml,java.management,jdk.unsupported,jdk.zipfs
#                                 --strip-debug --no-header-files --no-man-pages --output jre
#     junit-console.jar     JUnit's standalone console launcher
#     lib/*.jar             mmca-cuda (+ its test jar), mmca-core, JavaCPP, the CUDA presets, and, when the
#                           java/cpu module builds, the cpu backend with OpenBLAS (for the W2 comparison)
# Run on the build machine (JDK 17+, Maven, nvcc for the kernels):  native/cuda/gpu-check/make-bundle.sh
# Environment: MMCA_BUILD_DIR (default target), MMCA_BUNDLE_CPU=0 to leave the cpu backend out,
#              MVN_FLAGS (default "-B -q -o").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
BUILD_DIR="${MMCA_BUILD_DIR:-target}"
MVN_FLAGS="${MVN_FLAGS:--B -q -o}"
BUNDLE="$ROOT/java/cuda/$BUILD_DIR/gpu-check"

die() { echo "make-bundle: $*" >&2; exit 1; }
command -v mvn >/dev/null || die "mvn not found"
JLINK="${JAVA_HOME:+$JAVA_HOME/bin/}jlink"
command -v "$JLINK" >/dev/null || die "jlink not found (set JAVA_HOME to a JDK 17+)"
[ -x /usr/local/cuda/bin/nvcc ] || echo "make-bundle: warning: no /usr/local/cuda/bin/nvcc, the jar will carry no CUDA kernels" >&2

cd "$ROOT"
rm -rf "$BUNDLE"
# shellcheck disable=SC2086
mvn $MVN_FLAGS -Dmmca.build.dir="$BUILD_DIR" -pl java/cuda -am -Pgpu-bundle -DskipTests package
mkdir -p "$BUNDLE/lib"
cp java/cuda/"$BUILD_DIR"/mmca-cuda-*.jar "$BUNDLE/lib/"
LISTING="$(unzip -l "$BUNDLE"/lib/mmca-cuda-*[0-9T].jar)"
grep -q 'linux-x86_64/libmmcacuda.so' <<<"$LISTING" \
  || echo "make-bundle: warning: mmca-cuda jar has no libmmcacuda.so" >&2

if [ "${MMCA_BUNDLE_CPU:-1}" = 1 ] && [ -f java/cpu/pom.xml ]; then
  # shellcheck disable=SC2086
  if mvn $MVN_FLAGS -Dmmca.build.dir="$BUILD_DIR" -pl java/cpu -am -DskipTests package >/dev/null 2>&1; then
    cp java/cpu/"$BUILD_DIR"/mmca-cpu-*[0-9T].jar "$BUNDLE/lib/" 2>/dev/null || true
    OPENBLAS_VERSION="$(sed -n 's:.*<openblas.version>\(.*\)</openblas.version>.*:\1:p' pom.xml)"
    for j in "openblas-$OPENBLAS_VERSION.jar" "openblas-$OPENBLAS_VERSION-linux-x86_64.jar"; do
      cp "$HOME/.m2/repository/org/bytedeco/openblas/$OPENBLAS_VERSION/$j" "$BUNDLE/lib/" \
        || echo "make-bundle: warning: $j not in ~/.m2, the cpu backend will be unavailable" >&2
    done
  else
    echo "make-bundle: warning: java/cpu did not build; W2 will have no cpu baseline" >&2
  fi
fi

rm -rf "$BUNDLE/jre"
"$JLINK" --add-modules java.base,java.logging,java.xml,java.management,jdk.unsupported,jdk.zipfs \
  --strip-debug --no-header-files --no-man-pages --output "$BUNDLE/jre"
tar -C "$BUNDLE" -czf "$BUNDLE/jre.tar.gz" jre
rm -rf "$BUNDLE/jre"
du -sh "$BUNDLE"
SIZE_MB=$(du -sm "$BUNDLE" | cut -f1)
[ "$SIZE_MB" -le 60 ] || echo "make-bundle: warning: bundle is ${SIZE_MB} MiB (a device run carries at most 64 MiB)" >&2
echo "bundle ready: $BUNDLE"
echo "on the GPU machine: native/cuda/gpu-check.sh java/cuda/$BUILD_DIR/gpu-check"
