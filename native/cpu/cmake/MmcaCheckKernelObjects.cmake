# ctest script: the per-ISA kernel objects must not leak wide instructions into other paths.
#   -DPORTABLE=<obj> -DAVX2=<obj> -DAVX512=<obj> -DNM=<nm> -DOBJDUMP=<objdump>
# Checks that each object defines exactly one global symbol (its entry point; no weak/COMDAT copies
# the linker could pick for another path), that the portable object uses no ymm/zmm register and
# that the AVX2 object uses no zmm register.
foreach(v PORTABLE AVX2 AVX512)
  execute_process(COMMAND ${NM} --defined-only -g ${${v}} OUTPUT_VARIABLE syms RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} failed on ${${v}}")
  endif()
  string(STRIP "${syms}" syms)
  string(REPLACE "\n" ";" lines "${syms}")
  list(LENGTH lines count)
  if(NOT count EQUAL 1)
    message(FATAL_ERROR "${v} kernel object: expected exactly one global symbol, got ${count}:\n${syms}")
  endif()
endforeach()
execute_process(COMMAND ${OBJDUMP} -d ${PORTABLE} OUTPUT_VARIABLE asm)
if(asm MATCHES "%[yz]mm")
  message(FATAL_ERROR "portable kernel object: expected no ymm/zmm register, found some")
endif()
execute_process(COMMAND ${OBJDUMP} -d ${AVX2} OUTPUT_VARIABLE asm)
if(asm MATCHES "%zmm")
  message(FATAL_ERROR "avx2 kernel object: expected no zmm register, found some")
endif()
message(STATUS "kernel objects isolated")
