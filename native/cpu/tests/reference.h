// Naive double-precision references and small test helpers for the C++ unit tests.
#ifndef MMCA_TESTS_REFERENCE_H
#define MMCA_TESTS_REFERENCE_H

#include <cstdint>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "mmca/cpu.h"

namespace mmca::test {

/** SPEC steps 2-5 in double precision, one loop per formula, over any strides in `p`. */
std::vector<double> attention_reference(const mmca_attention_params &p);

/** Reads the output of `p` (through its strides) into [batch, queries, heads, dim_head] order. */
std::vector<double> gather_output(const mmca_attention_params &p);

/** ||a - b|| / ||b|| (||a|| when b is all zero); +inf if a has a NaN. */
double relative_error(const std::vector<double> &a, const std::vector<double> &b);

std::vector<float> normal(std::mt19937 &rng, size_t n);

/** The paths this CPU runs, worst first ("portable", then "avx2", then "avx512"). */
std::vector<std::string> runnable_isas();

/** Counts failures; main() returns failures() != 0. */
int &failures();
void check(bool ok, const std::string &what);

/** Runs `fn`, expecting an exception whose message contains `expected`. */
void expect_error(const std::function<void()> &fn, const std::string &expected);

}  // namespace mmca::test

#endif
