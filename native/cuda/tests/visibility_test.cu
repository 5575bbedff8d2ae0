// Host-side checks of the masking functions the kernels share (common.cuh): the visibility rule of
// SPEC step 4, the head mapping of step 2, and that skipping key tiles past key_end() never drops
// a visible key. Runs on the CPU; no GPU needed.
#include <cstdio>
#include <cstring>
#include <vector>

#include "common.cuh"

namespace {

int failures = 0;

void expect(bool ok, const char *what, int a, int b, int c) {
    if (!ok) {
        std::printf("FAIL %s (%d, %d, %d)\n", what, a, b, c);
        failures++;
    }
}

}  // namespace

int main() {
    using namespace mmca_cuda;
    mmca_attention_params p;
    std::memset(&p, 0, sizeof p);
    p.batch = 1;
    // Causal, right-aligned: every (N, M) pair including N > M, where early queries see nothing.
    for (int n = 1; n <= 70; n += 3) {
        for (int m = 1; m <= 70; m += 5) {
            p.queries = n;
            p.keys = m;
            p.causal = 1;
            for (int rows : {32, 64}) {
                for (int q0 = 0; q0 < n; q0 += rows) {
                    int end = key_end(p, q0, rows);
                    expect(end >= 0 && end <= m, "key_end in [0, M]", n, m, q0);
                    for (int i = q0; i < q0 + rows && i < n; i++) {
                        for (int j = 0; j < m; j++) {
                            bool spec = j <= i + (m - n);
                            expect(key_visible(p, 0, i, j) == spec, "causal visibility", i, j, m - n);
                            expect(!spec || j < end, "visible key inside the scanned tiles", i, j, end);
                        }
                    }
                }
            }
            p.causal = 0;
            expect(key_end(p, 0, 64) == m, "non-causal scans every key", n, m, 0);
        }
    }
    // Key mask with a batch stride, and keys past M are never visible.
    std::vector<uint8_t> mask = {1, 0, 1, 1, 0, 0, 1, 0};
    p.batch = 2;
    p.queries = 4;
    p.keys = 4;
    p.causal = 0;
    p.key_mask = mask.data();
    p.key_mask_batch_stride = 4;
    for (int b = 0; b < 2; b++) {
        for (int j = 0; j < 6; j++) {
            bool spec = j < 4 && mask[b * 4 + j] != 0;
            expect(key_visible(p, b, 0, j) == spec, "key mask", b, j, 0);
        }
    }
    // Query mask and rows past N.
    p.query_mask = mask.data();
    p.query_mask_batch_stride = 4;
    expect(query_active(p, 0, 0) && !query_active(p, 0, 1), "query mask", 0, 1, 0);
    expect(!query_active(p, 1, 4), "rows past N are inactive", 1, 4, 0);
    // Head mappings: MODULO g = h % G, GROUPED g = h / (H / G).
    p.heads = 8;
    p.kv_heads = 2;
    p.head_mapping = MMCA_HEAD_MAPPING_MODULO;
    for (int h = 0; h < 8; h++) expect(kv_head_of(p, h) == h % 2, "modulo mapping", h, 0, 0);
    p.head_mapping = MMCA_HEAD_MAPPING_GROUPED;
    for (int h = 0; h < 8; h++) expect(kv_head_of(p, h) == h / 4, "grouped mapping", h, 0, 0);
    if (failures == 0) std::printf("visibility_test: all checks passed\n");
    return failures == 0 ? 0 : 1;
}
