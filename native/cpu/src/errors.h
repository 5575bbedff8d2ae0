// Error reporting for the CPU backend: every failure is a C++ exception whose message names the
// argument, what was expected and what came. The Java bindings turn it into a RuntimeException.
#ifndef MMCA_CPU_ERRORS_H
#define MMCA_CPU_ERRORS_H

#include <stdexcept>
#include <string>

namespace mmca::cpu {

/** Thrown for invalid arguments; what() is the full message. */
class ArgumentError : public std::invalid_argument {
public:
    explicit ArgumentError(const std::string &message) : std::invalid_argument(message) {}
};

[[noreturn]] inline void fail(const std::string &message) { throw ArgumentError(message); }

}  // namespace mmca::cpu

#endif
