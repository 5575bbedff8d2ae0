# mmca_add_kernel_variant(<target> <suffix> <vector width> <register chunk> <row block> <compile flags...>)
# compiles the per-instruction-set sources (MMCA_KERNEL_SOURCES: the attention tile, the interleaved attention
# tile, the FMA peak, the few-rows projection) once more, as an object library, for one instruction set. Every
# entry point ends in _<suffix>. The library picks the variant at run time (src/isa.cpp), so only these objects
# use the flags.
set(MMCA_KERNEL_SOURCES src/attention_kernel.cpp src/interleaved_kernel.cpp src/peak_kernel.cpp src/few_rows_kernel.cpp)
function(mmca_add_kernel_variant target suffix width chunk rows)
  set(lib ${target}_kernel_${suffix})
  list(TRANSFORM MMCA_KERNEL_SOURCES PREPEND ${CMAKE_CURRENT_SOURCE_DIR}/ OUTPUT_VARIABLE sources)
  add_library(${lib} OBJECT ${sources})
  target_include_directories(${lib} PRIVATE ${MMCA_SHARED_INCLUDE} ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_compile_definitions(${lib} PRIVATE MMCA_ISA_SUFFIX=${suffix} MMCA_VEC_WIDTH=${width} MMCA_VEC_CHUNK=${chunk} MMCA_ROW_BLOCK=${rows})
  # fp-contract=fast lets a*b+c become one FMA where the ISA has it (deterministic: decided at compile time).
  target_compile_options(${lib} PRIVATE ${ARGN} -O3 -ffp-contract=fast -fno-math-errno -Wno-psabi)
  set_target_properties(${lib} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_sources(${target} PRIVATE $<TARGET_OBJECTS:${lib}>)
endfunction()
